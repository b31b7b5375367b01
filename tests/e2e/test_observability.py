"""/healthz and /metrics of a real server after a real call: the figures operators watch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
import websockets
from websockets.asyncio.client import connect

from tests.conftest import run_server
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import RetellPeer


async def test_health_and_metrics_after_a_call(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> None:
    async with run_server(make_settings(brain="flow"), profile=profile) as srv:
        async with RetellPeer(srv.url("observed"), call={"call_id": "observed"}) as peer:
            await peer.wait_begin()
            await peer.turn("How much is a haircut?")
        async with httpx.AsyncClient(base_url=srv.http_base, timeout=5) as http:
            health = (await http.get("/healthz")).json()
            # The loop is sampled every 100 ms; a flow call can be over sooner than that.
            for _ in range(50):
                metrics = (await http.get("/metrics")).text
                if _lag_samples(metrics) >= 1:
                    break
                await asyncio.sleep(0.05)
    assert health["status"] == "ok" and health["brain"] == "flow"
    loop = health["loop"]
    assert loop["max_lag_ms"] >= 0 and len(loop["gc_collections"]) == 3
    for name in (
        "voiceops_event_loop_lag_seconds_count",
        "voiceops_turn_overhead_seconds_count",
        "voiceops_turn_first_chunk_seconds_count",
        'voiceops_turns_total{kind="response"}',
    ):
        assert name in metrics, name
    assert _lag_samples(metrics) >= 1, "the loop is sampled"


def _lag_samples(metrics: str) -> float:
    line = next(
        line
        for line in metrics.splitlines()
        if line.startswith("voiceops_event_loop_lag_seconds_count")
    )
    return float(line.split()[-1])


async def test_sockets_outside_the_call_paths_still_go_through_starlette(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> None:
    async with run_server(make_settings(brain="flow"), profile=profile) as srv:
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{srv.port}/elsewhere"):
                pass
        assert refused.value.response.status_code == 403
        # Both call paths reach the endpoint directly.
        for url in (srv.url("direct-1"), f"{srv.ws_base}/some-secret/direct-2"):
            async with RetellPeer(url, call={"call_id": url[-8:]}) as peer:
                assert (await peer.wait_begin()).text
