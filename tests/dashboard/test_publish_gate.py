"""Publishing gated on a passing evaluation run of the draft's content
(``VOICEOPS_PUBLISH_REQUIRES_EVAL``), and each version's latest run on the agent page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import RunningServer, run_server
from tests.dashboard.support import PASSWORD, add_user, csrf_of, signed_in
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


async def test_the_agent_page_shows_runs_in_a_browser(
    browser: object, shots: Path, make_settings: Callable[..., Settings]
) -> None:
    from playwright.async_api import Browser

    assert isinstance(browser, Browser)
    async with run_server(make_settings(publish_requires_eval=True)) as server:
        await add_user(server, "owner@salon.test", "admin")
        runs = EvalRunRepo(server.runtime.db)
        v1 = profile_digest(server.runtime.profile)[0]
        await runs.record(a_run("v1_pass", 0, "passed", version=1, sha=v1), [])
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        base = server.http_base
        await page.goto(f"{base}/dashboard/login?next=/dashboard/agent/edit")
        await page.fill("#email", "owner@salon.test")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/dashboard/agent/edit")
        await page.fill("#greeting", "Maple Street Hair, Ava speaking. How can I help?")
        await page.click("form.stack button[type=submit]")
        await page.wait_for_url("**/dashboard/agent/diff**")
        sha = await _draft_sha(server)
        await runs.record(a_run("draft_fail", 5, "failed", version=None, sha=sha), [])
        await page.goto(f"{base}/dashboard/agent")
        await page.fill("#note", "Shorter greeting")
        await page.click("text=Publish the draft")
        assert await page.locator("text=needs a passing evaluation run").count() == 1
        await page.screenshot(path=shots / "publish-refused.png", full_page=True)
        await page.goto(f"{base}/dashboard/agent")
        assert await page.locator("text=2 of 3 passed, 1 failed").count() == 1
        assert await page.locator("text=3 of 3 passed").count() == 1
        await page.screenshot(path=shots / "agent-evaluations.png", full_page=True)
        await context.close()
