"""``voiceops retell setup``: create, then nothing to do, then a new published version when a
setting changes; the plan as a diff; drafts; the secret and the key never printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from retell import AsyncRetell
from typer.testing import CliRunner

from tests.fakes.fake_retell_api import FakeRetellApi
from tests.retell_api.conftest import PUBLIC_URL, WS_SECRET, cli_env
from voiceops.cli import app
from voiceops.core.profile import AgentProfile
from voiceops.retell.setup import (
    apply_setup,
    desired_agent,
    mask_url,
    plan_setup,
)

WS_URL = f"wss://voice.example.com/llm-websocket/{WS_SECRET}"


async def test_setup_creates_then_changes_nothing_then_publishes_a_new_version(
    fake_api: FakeRetellApi, client: AsyncRetell, profile: AgentProfile
) -> None:
    desired = desired_agent(profile, public_url=PUBLIC_URL, ws_secret=WS_SECRET)

    # 1. No agent of that name: create it and publish its first version.
    plan = await plan_setup(client, desired)
    assert plan.action == "create"
    assert {c.setting for c in plan.changes} >= {"response_engine", "webhook_url", "voice_id"}
    result = await apply_setup(client, plan)
    agent = fake_api.latest(result.agent_id)
    assert result.published_version == 0 and agent["is_published"] is True
    assert agent["agent_name"] == "Maple Street Hair (voiceops)"
    assert agent["response_engine"] == {"type": "custom-llm", "llm_websocket_url": WS_URL}
    assert agent["webhook_url"] == "https://voice.example.com/webhooks/retell"
    assert "transfer_bridged" in agent["webhook_events"]
    assert "transcript_updated" not in agent["webhook_events"]
    assert agent["reminder_trigger_ms"] == 10_000 and agent["reminder_max_count"] == 1
    assert agent["end_call_after_silence_ms"] == 60_000
    assert [f["name"] for f in agent["post_call_analysis_data"]] == [
        "booked",
        "service",
        "wants_human",
    ]
    assert agent["voice_id"] == "11labs-Adrian"

    # 2. A second run reads and changes nothing.
    writes_before = len(fake_api.writes())
    again = await plan_setup(client, desired)
    assert again.action == "none" and again.changes == []
    assert again.describe() == [
        f'agent "Maple Street Hair (voiceops)" ({result.agent_id}) is up to date at '
        "published version 0: nothing to change"
    ]
    assert (await apply_setup(client, again)).published_version is None
    assert len(fake_api.writes()) == writes_before

    # 3. A changed setting: a draft from the published version, updated, published; the
    #    published version 0 is left as it was (callers on it kept the old settings).
    retell = profile.retell.model_copy(update={"reminder_trigger_ms": 15_000})
    changed = desired_agent(
        profile.model_copy(update={"retell": retell}),
        public_url="https://voice2.example.com",
        ws_secret=WS_SECRET,
    )
    plan = await plan_setup(client, changed)
    assert plan.action == "new_version"
    assert [c.setting for c in plan.changes] == [
        "response_engine",
        "webhook_url",
        "reminder_trigger_ms",
    ]
    assert "  reminder_trigger_ms: 10000 -> 15000" in plan.describe()
    result = await apply_setup(client, plan)
    assert result.published_version == 1
    versions = fake_api.agents[result.agent_id]
    assert [v["is_published"] for v in versions] == [True, True]
    assert versions[0]["reminder_trigger_ms"] == 10_000
    assert versions[1]["reminder_trigger_ms"] == 15_000
    assert versions[1]["webhook_url"] == "https://voice2.example.com/webhooks/retell"
    update = fake_api.paths("/update-agent/")[-1]
    assert update.query == {"version": "1"}
    assert set(update.body) == {"response_engine", "webhook_url", "reminder_trigger_ms"}
    publish = fake_api.paths("/publish-agent-version/")[-1]
    assert publish.body["version"] == 1
    assert "reminder_trigger_ms" in publish.body["version_description"]
    # ... and then it is up to date again.
    assert (await plan_setup(client, changed)).action == "none"


async def test_a_pending_draft_is_updated_where_it_differs_and_published(
    fake_api: FakeRetellApi, client: AsyncRetell, profile: AgentProfile
) -> None:
    desired = desired_agent(profile, public_url=PUBLIC_URL, ws_secret=WS_SECRET)
    agent_id = (await apply_setup(client, await plan_setup(client, desired))).agent_id
    # Someone made a draft from version 0 in the dashboard and changed the webhook URL.
    await client.agent.create_version(agent_id, base_version=0)
    await client.agent.update(agent_id, version=1, webhook_url="https://elsewhere.example.com")
    # The published version still matches: nothing to do, and the draft is left alone.
    assert (await plan_setup(client, desired)).action == "none"

    moved = desired_agent(profile, public_url="https://new.example.com", ws_secret=WS_SECRET)
    plan = await plan_setup(client, moved)
    assert plan.action == "update_draft" and plan.latest_version == 1
    await apply_setup(client, plan)
    assert fake_api.agents[agent_id][1]["is_published"] is True
    assert fake_api.agents[agent_id][1]["webhook_url"] == "https://new.example.com/webhooks/retell"


async def test_an_explicit_voice_is_set_and_an_absent_one_is_kept(
    fake_api: FakeRetellApi, client: AsyncRetell, profile: AgentProfile
) -> None:
    desired = desired_agent(profile, public_url=PUBLIC_URL, ws_secret=WS_SECRET)
    agent_id = (await apply_setup(client, await plan_setup(client, desired))).agent_id
    voiced = desired_agent(
        profile, public_url=PUBLIC_URL, ws_secret=WS_SECRET, voice_id="11labs-Myra"
    )
    plan = await plan_setup(client, voiced)
    assert [c.render() for c in plan.changes] == ["voice_id: 11labs-Adrian -> 11labs-Myra"]
    await apply_setup(client, plan)
    assert fake_api.latest(agent_id)["voice_id"] == "11labs-Myra"
    # Without --voice-id the agent keeps the voice it has.
    assert (await plan_setup(client, desired)).action == "none"


async def test_two_agents_of_the_same_name_are_refused(
    fake_api: FakeRetellApi, client: AsyncRetell, profile: AgentProfile
) -> None:
    desired = desired_agent(profile, public_url=PUBLIC_URL, ws_secret=WS_SECRET)
    for _ in range(2):
        await client.agent.create(
            agent_name=desired.name,
            voice_id="11labs-Adrian",
            response_engine={"type": "custom-llm", "llm_websocket_url": "wss://x/llm-websocket"},
        )
    with pytest.raises(Exception, match="2 agents are named"):
        await plan_setup(client, desired)


def test_the_secret_is_shown_as_a_fingerprint() -> None:
    masked = mask_url(WS_URL)
    assert WS_SECRET not in masked
    assert masked.startswith("wss://voice.example.com/llm-websocket/<secret sha256:")
    assert mask_url("wss://h/llm-websocket/other") != masked
    query = mask_url(f"wss://h/llm-websocket?secret={WS_SECRET}&x=1")
    assert WS_SECRET not in query and query.endswith("&x=1")


def test_public_urls_map_to_socket_and_webhook_urls(profile: AgentProfile) -> None:
    plain = desired_agent(profile, public_url="http://127.0.0.1:8080/", ws_secret=None)
    assert plain.ws_url == "ws://127.0.0.1:8080/llm-websocket"
    assert plain.webhook_url == "http://127.0.0.1:8080/webhooks/retell"
    prefixed = desired_agent(profile, public_url="https://h.example.com/voice", ws_secret="s")
    assert prefixed.ws_url == "wss://h.example.com/voice/llm-websocket/s"
    with pytest.raises(ValueError, match="public-url"):
        desired_agent(profile, public_url="voice.example.com", ws_secret=None)


def test_the_command_prints_the_diff_then_says_nothing_changed(
    fake_api: FakeRetellApi, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = cli_env(fake_api, tmp_path)
    args = ["retell", "setup", "--public-url", PUBLIC_URL]

    dry = runner.invoke(app, [*args, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "create the agent" in dry.output and "dry run: nothing changed" in dry.output
    assert fake_api.agents == {}

    first = runner.invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    (agent_id,) = fake_api.agents
    assert "response_engine: (unset) -> custom-llm wss://voice.example.com/llm-websocket/" in (
        first.output
    )
    assert "published version 0" in first.output
    assert f"agent id: {agent_id}" in first.output

    second = runner.invoke(app, args, env=env)
    assert second.exit_code == 0, second.output
    assert "nothing to change" in second.output
    for output in (dry.output, first.output, second.output):
        assert WS_SECRET not in output
        assert fake_api.api_key not in output


def test_a_refused_key_is_one_line_and_exit_code_1(fake_api: FakeRetellApi, tmp_path: Path) -> None:
    env = cli_env(fake_api, tmp_path, VOICEOPS_RETELL_API_KEY="key_wrong_0123456789")
    result = CliRunner().invoke(app, ["retell", "setup", "--public-url", PUBLIC_URL], env=env)
    assert result.exit_code == 1
    assert "refused the API key (401)" in result.output
    assert "key_wrong_0123456789" not in result.output
