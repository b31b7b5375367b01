"""The edge, end to end: out-of-range values, over real sockets against the real server
(fake Retell peer, offline flow brain)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.conftest import RunningServer, run_server
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import RetellPeer

CALL: dict[str, Any] = {"call_id": "call_edge", "call_type": "web_call"}


@pytest.fixture
async def server(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(), profile=profile) as srv:
        yield srv


def bad_frames(server: RunningServer, kind: str) -> float:
    value = server.runtime.metrics.registry.get_sample_value(
        "voiceops_bad_frames_total", {"kind": kind}
    )
    return value or 0.0


# --- response ids -------------------------------------------------------------------------


@pytest.mark.parametrize("rid", [2**31, 2**40, 10**30, -1])
async def test_a_response_id_out_of_range_is_a_bad_frame_and_the_call_goes_on(
    server: RunningServer, rid: int
) -> None:
    async with RetellPeer(server.url("call_rid"), call=CALL) as peer:
        await peer.wait_begin()
        await peer.send(
            json.dumps(
                {"interaction_type": "response_required", "response_id": rid, "transcript": []}
            )
        )
        # Before, the call took the id as its newest: every later request was "stale"
        # and never answered, and its state could not be saved.
        reply = await peer.turn("When are you open?")
        assert reply.complete and reply.text
        assert not peer.closed.is_set()
    assert bad_frames(server, "malformed") == 1
    state = await server.runtime.persister.load("call_rid")
    assert state is not None and state.last_response_id == 1


async def test_the_largest_response_id_is_answered(server: RunningServer) -> None:
    async with RetellPeer(server.url("call_rid_max"), call=CALL) as peer:
        await peer.wait_begin()
        peer.latest_id = 2**31 - 2
        reply = await peer.turn("When are you open?")
        assert reply.response_id == 2**31 - 1 and reply.complete and reply.text
    assert bad_frames(server, "malformed") == 0
