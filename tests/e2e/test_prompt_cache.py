"""The voice prompt and the tools are the same from turn to turn and call to call, so a
provider's prompt cache serves them: through the real server and a fake provider that
caches prompt prefixes as OpenAI documents (1,024 tokens and up, in steps of 128), the
second turn of a call and the first turn of another call are mostly cached, and the
figure is recorded with each turn."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import openai
from sqlalchemy import text

from tests.conftest import RunningServer, run_server
from tests.fakes.fake_llm import FakeLLM, Script
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import RetellPeer


def caller(call_id: str, zone: str) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": "+12125550100",
        "to_number": "+12125550142",
        "metadata": {"caller_timezone": zone},
    }


async def turn_payloads(server: RunningServer, call_id: str, n: int) -> list[dict[str, Any]]:
    for _ in range(100):
        async with server.runtime.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT tokens_in, payload FROM call_events WHERE call_id = :c "
                        "AND event_type = 'turn_completed' ORDER BY response_id"
                    ),
                    {"c": call_id},
                )
            ).all()
        if len(rows) >= n:
            return [
                {"tokens_in": r[0], **(r[1] if isinstance(r[1], dict) else json.loads(r[1]))}
                for r in rows
            ]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{call_id}: fewer than {n} turns written")


async def test_the_stable_prefix_is_served_from_the_providers_cache(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> None:
    async with FakeLLM(Script.say("Sure, what day would suit you?")) as llm:
        settings = make_settings(brain="llm", llm_base_url=llm.base_url, llm_api_key="k")
        client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="k", max_retries=0)
        async with run_server(settings, profile=profile, llm_client=client) as server:
            for call_id, zone in (("cache_a", "America/New_York"), ("cache_b", "Europe/London")):
                async with RetellPeer(server.url(call_id), call=caller(call_id, zone)) as peer:
                    await peer.wait_begin()
                    await peer.turn("Hi, I'd like a haircut")
                    await peer.turn("Friday please")
            first_call = await turn_payloads(server, "cache_a", 2)
            other_call = await turn_payloads(server, "cache_b", 2)
        await client.close()
    # The very first request of the process has nothing cached; every later one shares at
    # least the voice prompt and the tools with it, whatever the caller's zone or time.
    assert first_call[0]["tokens_cached"] == 0
    for turn in (first_call[1], *other_call):
        assert turn["tokens_cached"] >= 1024, turn
        assert turn["tokens_cached"] >= 0.8 * turn["tokens_in"], turn
