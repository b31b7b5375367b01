"""One enormous caller turn beside a live call, over real sockets: the flow brain answers
the 4 MB turn from its tail, and the other call's keepalives are all answered meanwhile.

Timings are not asserted here (``benchmarks/long_utterance.py`` measures them): the test
shows that such a turn is accepted, answered and does not stall another call for good.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.conftest import RunningServer, run_server
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import RetellPeer

UTTERANCE_BYTES = 4_000_000
RAMBLE = (
    "uh so not Friday, Friday doesn't work for me at 4, maybe the 3rd at half past two or "
    "Monday morning, I can't make it at 5, qwe-rty ### 1234 5678 (unintelligible audio) "
)
ENDING = " anyway, I need a haircut tomorrow at 2pm, my name is Sam"


def call(call_id: str, number: str) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": number,
        "to_number": "+12125550142",
    }


def rambling(size: int) -> str:
    """``size`` characters of caller text: dates, times, refusals and junk, then a request."""
    body = size - len(ENDING)
    return (RAMBLE * (body // len(RAMBLE) + 1))[:body] + ENDING


@pytest.fixture
async def server(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> AsyncIterator[RunningServer]:
    # The frame carries the transcript as JSON: room for the utterance and the rest of it.
    settings = make_settings(brain="flow", max_frame_bytes=2 * UTTERANCE_BYTES)
    async with run_server(settings, profile=profile) as srv:
        yield srv


async def pongs_for(peer: RetellPeer, stamps: list[int], timeout_s: float = 10.0) -> bool:
    for _ in range(int(timeout_s / 0.01)):
        if all(s in peer.pongs for s in stamps):
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_4_mb_turn_is_answered_while_another_call_keeps_its_pings(
    server: RunningServer,
) -> None:
    text = rambling(UTTERANCE_BYTES)
    assert len(text.encode()) == UTTERANCE_BYTES
    async with (
        RetellPeer(server.url("long_a"), call=call("long_a", "+12125550100")) as a,
        RetellPeer(server.url("long_b"), call=call("long_b", "+12125550111")) as b,
    ):
        await a.wait_begin()
        await b.wait_begin()
        stamps: list[int] = []
        stop = asyncio.Event()
        pinged = asyncio.Event()

        async def keepalives() -> None:
            for stamp in itertools.count(10_000):
                stamps.append(await b.ping(stamp))
                pinged.set()
                try:
                    await asyncio.wait_for(stop.wait(), 0.02)
                    return
                except TimeoutError:
                    pass

        async def until_pinged(count: int) -> None:
            while len(stamps) < count:
                pinged.clear()
                await pinged.wait()

        pinging = asyncio.create_task(keepalives())
        try:
            await until_pinged(3)
            assert await pongs_for(b, list(stamps))

            # One response_required carrying the 4 MB utterance (no update_only before it).
            a.transcript.append({"role": "user", "content": text, "words": []})
            rid = await a.request()
            reply = await a.wait(rid, timeout_s=60)
            await until_pinged(len(stamps) + 3)
        finally:
            stop.set()
            await pinging

        assert reply.complete and reply.text, "the 4 MB turn gets an answer, not silence"
        assert "haircut" in reply.text and "2 PM" in reply.text, "read from the tail"
        assert await pongs_for(b, stamps), "every ping of the other call is answered"
        assert not b.closed.is_set() and b.stale == []

        # The call goes on: the next turn carries the 4 MB line in its transcript again.
        booked = await a.turn("yes", timeout_s=60)
        assert [t.name for t in booked.tool_calls] == ["book_appointment"]
