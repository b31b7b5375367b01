"""Draining a server: the drained server in the test's loop (the drain started as SIGTERM
starts it), then ``voiceops serve`` processes sent real signals.

While it drains a server answers ``/healthz`` with 503, refuses new call sockets with 503
and keeps serving its live calls; a call that ends lets the drain end at once; the calls
left when the drain is cut short are reset with no closing frame (the peer sees 1006, which
Retell re-dials), their states written first.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import socket
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets

from tests.conftest import FIXED_NOW
from tests.e2e.test_two_processes import (
    event_types,
    exited,
    free_port,
    saved_turns,
    spawn,
    wait_draining,
    wait_ready,
)
from voiceops.config import Settings
from voiceops.core.clock import PinnedClock
from voiceops.evals.peer import RetellPeer
from voiceops.web.app import create_app
from voiceops.web.drain import Drain, DrainingServer

CALL: dict[str, Any] = {
    "call_id": "call_drain",
    "call_type": "phone_call",
    "direction": "inbound",
    "from_number": "+12125550100",
    "to_number": "+12125550142",
    "retell_llm_dynamic_variables": {"caller_name": "Dana"},
}


def call(call_id: str) -> dict[str, Any]:
    return {**CALL, "call_id": call_id}


@dataclass(slots=True)
class Served:
    server: DrainingServer
    task: asyncio.Task[None]
    port: int
    settings: Settings

    def url(self, call_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/llm-websocket/{call_id}"

    async def healthz(self) -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.get(f"http://127.0.0.1:{self.port}/healthz")

    def sigterm(self) -> None:
        """What the first SIGTERM does (``DrainingServer.handle_exit``), without a signal:
        a real one would be raised again at the test process once the server is done."""
        self.server.drain.begin()
        self.server.should_exit = True


@contextlib.asynccontextmanager
async def draining_server(settings: Settings) -> AsyncIterator[Served]:
    """The app under a :class:`DrainingServer` on a free port, as ``voiceops serve`` runs it."""
    clock = PinnedClock(FIXED_NOW)
    drain = Drain(timeout_s=settings.drain_timeout_s, clock=clock)
    app = create_app(settings, clock=clock, rng=random.Random(7), drain=drain)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, ws="websockets-sansio", lifespan="on", log_config=None, ws_ping_interval=None
    )
    server = DrainingServer(config, drain)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if task.done():
            task.result()
        assert server.started, "server did not start"
        yield Served(server, task, sock.getsockname()[1], settings)
    finally:
        if not task.done():
            drain.cut_short()
            server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()


async def test_a_draining_server_refuses_new_calls_and_ends_when_its_calls_end(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(drain_timeout_s=600)
    async with draining_server(settings) as served:
        async with RetellPeer(served.url("call_d1"), call=call("call_d1")) as peer:
            await peer.wait_begin()
            assert (await peer.turn("Hi, I'd like to book a haircut")).text
            served.sigterm()

            health = await served.healthz()
            assert health.status_code == 503
            assert health.json()["status"] == "draining"
            assert health.json()["live_calls"] == 1
            with pytest.raises(websockets.InvalidStatus) as refused:
                await RetellPeer(served.url("call_d2"), call=call("call_d2")).connect()
            assert refused.value.response.status_code == 503

            # The live call goes on.
            assert (await peer.turn("tomorrow at 2pm")).text
            assert not served.task.done()
        # The caller hung up: the drain is over long before its 600 s.
        await asyncio.wait_for(served.task, 15)
        report = served.server.report
        assert report is not None
        assert (report.reason, report.ended, report.dropped) == ("no live calls", 1, ())
        assert peer.close_code == 1000

    url = settings.database_url
    assert await saved_turns(url, "call_d1") == 2
    events = await event_types(url, "call_d1")
    assert events[0] == "call_connected" and events[-1] == "call_disconnected"
    assert "call_drained" not in events
    assert await event_types(url, "call_d2") == [], "a refused socket never became a call"


async def test_calls_left_when_the_drain_is_cut_short_are_reset_with_their_state_saved(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(drain_timeout_s=600)
    url = settings.database_url
    async with draining_server(settings) as served:
        peers = [RetellPeer(served.url(cid), call=call(cid)) for cid in ("call_r1", "call_r2")]
        for peer in peers:
            await peer.connect()
            await peer.wait_begin()
            assert (await peer.turn("Hi, I'd like to book a haircut")).text
        served.sigterm()
        served.server.drain.cut_short()  # the second SIGTERM
        for peer in peers:
            await asyncio.wait_for(peer.closed.wait(), 10)
            # No closing frame: an abnormal close, which Retell re-dials.
            assert peer.close_code == 1006
        assert [await saved_turns(url, cid) for cid in ("call_r1", "call_r2")] == [1, 1]
        await asyncio.wait_for(served.task, 15)
        report = served.server.report
        assert report is not None
        assert report.reason == "cut short" and report.states_saved
        assert sorted(report.dropped) == ["call_r1", "call_r2"]

    for cid in ("call_r1", "call_r2"):
        events = await event_types(url, cid)
        assert events.index("turn_completed") < events.index("call_drained")
        assert events[-1] == "call_disconnected"


# --- processes, real signals ------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'voiceops.db'}"


@pytest.fixture
def process(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    proc = spawn(sqlite_url, port, tmp_path, "a", VOICEOPS_DRAIN_TIMEOUT_S="600")
    yield proc, port
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.mark.slow
async def test_a_process_exits_once_its_last_call_ends_not_at_the_timeout(
    process: tuple[subprocess.Popen[bytes], int], sqlite_url: str
) -> None:
    proc, port = process
    await wait_ready(port, proc)
    async with RetellPeer(
        f"ws://127.0.0.1:{port}/llm-websocket/call_p1", call=call("call_p1")
    ) as peer:
        await peer.wait_begin()
        assert (await peer.turn("Hi, I'd like to book a haircut")).text
        proc.send_signal(signal.SIGTERM)
        assert (await wait_draining(port)).json()["live_calls"] == 1
        assert (await peer.turn("tomorrow at 2pm")).text
        assert proc.poll() is None, "a live call holds the drain"
    # The call ended (Retell closed its socket): the process exits, not 600 s later.
    assert await exited(proc, 20) == -signal.SIGTERM
    assert await saved_turns(sqlite_url, "call_p1") == 2
    events = await event_types(sqlite_url, "call_p1")
    assert events[-1] == "call_disconnected" and "call_drained" not in events


@pytest.mark.slow
async def test_a_second_sigterm_hands_the_calls_over_at_once(
    process: tuple[subprocess.Popen[bytes], int], sqlite_url: str
) -> None:
    proc, port = process
    await wait_ready(port, proc)
    async with RetellPeer(
        f"ws://127.0.0.1:{port}/llm-websocket/call_p2", call=call("call_p2")
    ) as peer:
        await peer.wait_begin()
        assert (await peer.turn("Hi, I'd like to book a haircut")).text
        proc.send_signal(signal.SIGTERM)
        await wait_draining(port)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(peer.closed.wait(), 10)
        assert peer.close_code == 1006
    assert await exited(proc, 20) == -signal.SIGTERM
    assert await saved_turns(sqlite_url, "call_p2") == 1
    events = await event_types(sqlite_url, "call_p2")
    assert "call_drained" in events and events[-1] == "call_disconnected"
