"""``voiceops retell check`` against a real server: the agent points at it, the webhook URL
answers, the signature key matches and /healthz is reachable; and each way it fails."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx2
from pydantic import SecretStr
from retell import AsyncRetell
from typer.testing import CliRunner

from tests.conftest import run_server
from tests.fakes.fake_retell_api import FakeRetellApi
from tests.retell_api.conftest import WS_SECRET, cli_env
from voiceops.cli import app
from voiceops.config import Settings
from voiceops.core.clock import SystemClock, utc_now_ms
from voiceops.core.profile import AgentProfile
from voiceops.retell.setup import Check, apply_setup, desired_agent, plan_setup, run_checks


def _failed(checks: list[Check]) -> dict[str, str]:
    return {check.name: check.detail for check in checks if not check.ok}


async def test_check_passes_for_the_deployment_the_agent_was_set_up_for(
    fake_api: FakeRetellApi,
    client: AsyncRetell,
    make_settings: Callable[..., Settings],
    profile: AgentProfile,
    tmp_path: Path,
) -> None:
    clock = SystemClock()
    settings = make_settings(
        retell_api_key=SecretStr(fake_api.api_key),
        retell_sync_interval_s=0,
        ws_secret=SecretStr(WS_SECRET),
    )
    async with run_server(settings, profile=profile, clock=clock) as server:
        desired = desired_agent(profile, public_url=server.http_base, ws_secret=WS_SECRET)
        await apply_setup(client, await plan_setup(client, desired))
        async with httpx2.AsyncClient(timeout=5) as http:
            checks = await run_checks(
                client, desired, http=http, api_key=fake_api.api_key, now_ms=utc_now_ms(clock)
            )
            assert _failed(checks) == {}, checks
            assert [c.name for c in checks] == [
                "agent",
                "agent's LLM WebSocket URL",
                "agent's webhook URL",
                "webhook URL answers",
                "signature key matches",
                "server reachable",
            ]
            assert WS_SECRET not in "\n".join(c.render() for c in checks)

            # Another key than the server's: the signed self-test is refused.
            wrong_key = await run_checks(
                client, desired, http=http, api_key="key_other", now_ms=utc_now_ms(clock)
            )
            assert list(_failed(wrong_key)) == ["signature key matches"]
            assert "its key differs" in _failed(wrong_key)["signature key matches"]

            # The agent still carries an old secret.
            moved = desired_agent(profile, public_url=server.http_base, ws_secret="new-secret")
            stale = await run_checks(
                client, moved, http=http, api_key=fake_api.api_key, now_ms=utc_now_ms(clock)
            )
            assert list(_failed(stale)) == ["agent's LLM WebSocket URL"]
            assert "run voiceops retell setup" in _failed(stale)["agent's LLM WebSocket URL"]
            assert "new-secret" not in _failed(stale)["agent's LLM WebSocket URL"]

        # From the command line, in a thread of its own (it runs its own event loop).
        env = cli_env(fake_api, tmp_path)
        result = await asyncio.to_thread(
            CliRunner().invoke,
            app,
            ["retell", "check", "--public-url", server.http_base],
            env=env,
        )
        assert result.exit_code == 0, result.output
        assert result.output.count("ok   ") == 6


async def test_check_fails_where_nothing_answers(
    fake_api: FakeRetellApi, client: AsyncRetell, profile: AgentProfile
) -> None:
    desired = desired_agent(profile, public_url="http://127.0.0.1:9", ws_secret=WS_SECRET)
    async with httpx2.AsyncClient(timeout=2) as http:
        checks = await run_checks(client, desired, http=http, api_key=fake_api.api_key, now_ms=0)
    assert _failed(checks).keys() == {
        "agent",
        "webhook URL answers",
        "signature key matches",
        "server reachable",
    }
    assert "none named" in _failed(checks)["agent"]
    assert "ConnectError" in _failed(checks)["server reachable"]
