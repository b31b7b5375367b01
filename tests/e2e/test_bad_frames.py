"""A socket's budget of bad frames: counted always, reported at a bounded rate, closed with
1008 past the bound; and one socket's flood of junk does not hold another call's pings.

The guard's window runs on the injected clock (a :class:`ManualClock` here); the rest runs
over real sockets against the real server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import websockets
from sqlalchemy import text

from tests.conftest import RunningServer, run_server
from voiceops.config import Settings
from voiceops.core.clock import ManualClock
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import RetellPeer
from voiceops.web.guard import REPORT_FIRST, YIELD_EVERY, FrameGuard

CALL: dict[str, Any] = {"call_id": "call_good", "call_type": "web_call"}
JUNK: tuple[str | bytes, ...] = (
    "this is not json",
    b"\x00\x01binary",
    json.dumps({"interaction_type": "response_required", "response_id": "7", "transcript": []}),
    json.dumps({"interaction_type": "ping_pong", "timestamp": -5}),
    "[1, 2, 3]",
)

# --- the guard on its own ------------------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 12, 1, 14, 0, tzinfo=UTC))


def test_more_than_the_limit_within_the_window_exceeds_the_budget(clock: ManualClock) -> None:
    guard = FrameGuard(clock, limit=50, window_s=10.0)
    for _ in range(50):
        guard.bad_frame("malformed")
    assert not guard.exceeded
    guard.bad_frame("binary")
    assert guard.exceeded
    assert guard.summary() == "51 bad frames (malformed 50, binary 1)"


async def test_bad_frames_spread_wider_than_the_window_stay_within_it(clock: ManualClock) -> None:
    guard = FrameGuard(clock, limit=50, window_s=10.0)
    for _ in range(500):
        guard.bad_frame("malformed")
        await clock.advance(0.201)  # 50 in any 10 s, never 51
    assert not guard.exceeded
    for _ in range(50):
        guard.bad_frame("malformed")
    assert guard.exceeded


def test_unknown_frame_types_are_reported_but_not_counted(clock: ManualClock) -> None:
    guard = FrameGuard(clock, limit=3, window_s=10.0)
    for _ in range(100):
        guard.bad_frame("unknown_interaction_type")
    assert not guard.exceeded
    assert guard.bad == 100


async def test_the_first_few_are_reported_then_one_per_window(clock: ManualClock) -> None:
    guard = FrameGuard(clock, limit=10_000, window_s=10.0)
    reports = [guard.bad_frame("malformed") for _ in range(40)]
    assert [r is not None for r in reports] == [True] * REPORT_FIRST + [False] * 35
    await clock.advance(9.9)
    assert guard.bad_frame("malformed") is None
    await clock.advance(0.1)
    report = guard.bad_frame("malformed")
    assert report is not None and report.held_back == 36
    assert guard.bad_frame("malformed") is None


def test_the_reader_yields_every_few_frames(clock: ManualClock) -> None:
    guard = FrameGuard(clock, limit=50, window_s=10.0)
    yields = [guard.received() for _ in range(3 * YIELD_EVERY)]
    assert sum(yields) == 3 and yields[YIELD_EVERY - 1]


# --- over real sockets ---------------------------------------------------------------------


@pytest.fixture
async def server(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(), profile=profile) as srv:
        yield srv


async def events_of(server: RunningServer, call_id: str) -> list[str]:
    """The call's event types, once its ``call_disconnected`` (the last) is written."""
    for _ in range(200):
        async with server.runtime.db.engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT event_type FROM call_events WHERE call_id = :c ORDER BY id"),
                {"c": call_id},
            )
            types = [row[0] for row in rows]
        if "call_disconnected" in types:
            return types
        await asyncio.sleep(0.05)
    raise AssertionError(f"no call_disconnected event for {call_id}")


async def test_past_the_budget_the_socket_is_closed_with_1008(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="voiceops.ws")
    limit = server.runtime.settings.ws_bad_frame_limit
    async with RetellPeer(server.url("call_junk"), call={"call_id": "call_junk"}) as peer:
        await peer.wait_begin()
        for n in range(limit):
            junk = JUNK[n % len(JUNK)]
            await (peer.send_raw_bytes(junk) if isinstance(junk, bytes) else peer.send(junk))
        reply = await peer.turn("When are you open?")
        assert reply.complete and not peer.closed.is_set()
        await peer.send("one too many")
        await asyncio.wait_for(peer.closed.wait(), 5)
        assert peer.close_code == 1008
    lines = [r for r in caplog.records if getattr(r, "call_id", None) == "call_junk"]
    reported = [r for r in lines if r.getMessage().startswith("bad frame")]
    assert len(reported) == REPORT_FIRST
    (closing,) = [r for r in lines if r.getMessage().startswith("closing socket with 1008")]
    assert f"{limit + 1} bad frames" in closing.getMessage()
    types = await events_of(server, "call_junk")
    assert types.count("bad_frame") == REPORT_FIRST


async def test_unknown_frame_types_never_close_the_call(server: RunningServer) -> None:
    async with RetellPeer(server.url("call_future"), call={"call_id": "call_future"}) as peer:
        await peer.wait_begin()
        for n in range(3 * server.runtime.settings.ws_bad_frame_limit):
            await peer.send(json.dumps({"interaction_type": "something_new", "n": n}))
        reply = await peer.turn("When are you open?")
        assert reply.complete and not peer.closed.is_set()
    types = await events_of(server, "call_future")
    assert types.count("bad_frame") == REPORT_FIRST


async def flood(url: str, stop: asyncio.Event, closes: list[int | None]) -> None:
    """Junk on ``url`` as fast as the socket takes it, dialling again after each close."""
    turn = 0
    while not stop.is_set():
        async with websockets.connect(url, compression=None) as ws:
            try:
                while not stop.is_set():
                    await ws.send(JUNK[turn % len(JUNK)])
                    turn += 1
                    if turn % 16 == 0:
                        await asyncio.sleep(0)
            except websockets.ConnectionClosed as exc:
                closes.append(exc.rcvd.code if exc.rcvd is not None else None)


async def test_a_junk_flood_on_one_socket_leaves_another_calls_pings_answered(
    server: RunningServer,
) -> None:
    async with RetellPeer(server.url("call_good"), call=CALL) as good:
        await good.wait_begin()
        stop = asyncio.Event()
        closes: list[int | None] = []
        flooders = [
            asyncio.create_task(flood(server.url(f"call_flood_{n}"), stop, closes))
            for n in range(2)
        ]
        stamps = []
        try:
            for n in range(40):
                stamps.append(await good.ping(10_000 + n))
                await asyncio.sleep(0.025)
        finally:
            stop.set()
            for task in flooders:
                with contextlib.suppress(websockets.ConnectionClosed):
                    await task
        for _ in range(500):
            if all(s in good.pongs for s in stamps):
                break
            await asyncio.sleep(0.01)
        assert [s for s in stamps if s not in good.pongs] == []
        reply = await good.turn("When are you open?")
        assert reply.complete and reply.text
    assert closes and set(closes) == {1008}
    types = await events_of(server, "call_good")
    assert types[0] == "call_connected" and "bad_frame" not in types
    for n in range(2):
        assert (await events_of(server, f"call_flood_{n}")).count("bad_frame") <= REPORT_FIRST * (
            len(closes) + 1
        )
