"""Publishing gated on a passing evaluation run of the draft's content
(``VOICEOPS_PUBLISH_REQUIRES_EVAL``), and each version's latest run on the agent page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import RunningServer, run_server
from tests.dashboard.support import csrf_of, signed_in
from tests.store.test_eval_runs_by_content import a_run
from voiceops.config import Settings
from voiceops.core.profile import load_profile
from voiceops.store.evals import EvalRunRepo
from voiceops.store.profiles import profile_digest
from voiceops.web.dashboard.profileform import validate


async def _save_draft(client: httpx.AsyncClient, greeting: str) -> None:
    edit = await client.get("/dashboard/agent/edit?section=voice")
    saved = await client.post(
        "/dashboard/agent/draft",
        data={
            "csrf_token": csrf_of(edit.text),
            "section": "voice",
            "greeting": greeting,
            "greeting_named": "Hello {{ caller_name }}!",
            "prompt_template": "",
            "turn_note_template": "",
        },
    )
    assert saved.status_code == 303, saved.text


async def _publish(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get("/dashboard/agent")
    return await client.post(
        "/dashboard/agent/publish", data={"note": "new greeting", "csrf_token": csrf_of(page.text)}
    )


async def _draft_sha(server: RunningServer) -> str:
    assert server.runtime.console is not None
    draft = await server.runtime.console.versions.draft()
    assert draft is not None
    profile, _ = validate(draft.body)
    assert profile is not None
    return profile_digest(profile)[0]


async def test_a_draft_is_published_only_after_a_passing_run_of_its_content(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    async with run_server(make_settings(publish_requires_eval=True)) as server:
        runs = EvalRunRepo(server.runtime.db)
        async with signed_in(server, "owner@salon.test", "admin") as client:
            await _save_draft(client, "Hi, gated greeting here. How can I help?")
            sha = await _draft_sha(server)
            refused = await _publish(client)
            assert refused.status_code == 409
            assert "needs a passing evaluation run of this draft" in refused.text
            assert "voiceops eval --profile draft.yaml" in refused.text
            await runs.record(a_run("failing", 0, "failed", version=None, sha=sha), [])
            assert (await _publish(client)).status_code == 409
            await runs.record(a_run("other", 1, "passed", version=None, sha="e" * 64), [])
            assert (await _publish(client)).status_code == 409
            assert server.runtime.console is not None
            assert server.runtime.console.endpoint.current.version == 1

            yaml_file = tmp_path / "draft.yaml"
            download = await client.get("/dashboard/agent/draft.yaml")
            assert download.status_code == 200
            yaml_file.write_text(download.text)
            assert profile_digest(load_profile(yaml_file))[0] == sha  # what eval would record

            await runs.record(a_run("passing", 2, "passed", version=None, sha=sha), [])
            agent = (await client.get("/dashboard/agent")).text
            shown = agent[agent.index("Evaluation of the draft's content:") :]
            assert shown[: shown.index("</p>")].count("3 of 3 passed") == 1
            published = await _publish(client)
            assert published.status_code == 303, published.text
            assert published.headers["location"].endswith("published=2")
            agent = (await client.get("/dashboard/agent")).text
            row = agent[agent.index('<td data-label="Version">v2') :]
            row = row[: row.index("</tr>")]
            assert "passed" in row and "3 of 3 passed" in row
            audit = (await client.get("/dashboard/audit")).text
            assert "passing" in audit


async def test_without_the_setting_a_draft_publishes_with_no_run(
    make_settings: Callable[..., Settings],
) -> None:
    async with run_server(make_settings()) as server:
        async with signed_in(server, "owner@salon.test", "admin") as client:
            await _save_draft(client, "Hi, ungated greeting. How can I help?")
            assert (await _publish(client)).status_code == 303
            agent = (await client.get("/dashboard/agent")).text
            assert "Latest evaluation" in agent
