"""Scale-out for real: two server processes on one PostgreSQL. The first is killed, or
drained by SIGTERM, mid-call; Retell's re-dial lands on the second, which resumes the call
with its state and does not greet again."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import FIXED_NOW
from tests.pgutil import fresh_pg_database, require_pg
from voiceops.evals.peer import RetellPeer

pytestmark = pytest.mark.slow

CALL = {
    "call_id": "call_two_proc",
    "call_type": "phone_call",
    "direction": "inbound",
    "from_number": "+12125550100",
    "to_number": "+12125550142",
    "retell_llm_dynamic_variables": {"caller_name": "Dana"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    require_pg()
    async with fresh_pg_database() as url:
        yield url


def spawn(url: str, port: int, tmp: Path, name: str, **extra_env: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        VOICEOPS_DATABASE_URL=url,
        VOICEOPS_BRAIN="flow",
        VOICEOPS_JOURNAL_PATH=str(tmp / f"{name}.jsonl"),
        VOICEOPS_LOG_LEVEL="warning",
        # Both processes on one pinned day, so "tomorrow" is the same open day on any run.
        VOICEOPS_CLOCK_START=FIXED_NOW.isoformat(),
        VOICEOPS_ALLOW_PINNED_CLOCK="true",
    )
    env.update(extra_env)
    voiceops = Path(sys.executable).parent / "voiceops"
    with open(tmp / f"{name}.log", "wb") as log:
        # The child keeps its own copy of the descriptor.
        return subprocess.Popen(
            [str(voiceops), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


@pytest.fixture
def processes(pg_url: str, tmp_path: Path) -> Iterator[list[tuple[subprocess.Popen[bytes], int]]]:
    procs: list[tuple[subprocess.Popen[bytes], int]] = []
    yield procs
    for proc, _ in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    # A minute: a process starting while the whole suite runs on two cores can take 15 s.
    for _ in range(1200):
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError("server did not start")


async def healthz(port: int) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(f"http://127.0.0.1:{port}/healthz")


async def wait_draining(port: int) -> httpx.Response:
    """``/healthz`` once it says the instance drains (a SIGTERM was just sent)."""
    for _ in range(100):
        health = await healthz(port)
        if health.status_code == 503:
            return health
        await asyncio.sleep(0.05)
    raise AssertionError("the instance did not start draining")


async def exited(proc: subprocess.Popen[bytes], timeout_s: float) -> int:
    for _ in range(int(timeout_s / 0.05)):
        if proc.poll() is not None:
            return proc.returncode
        await asyncio.sleep(0.05)
    raise AssertionError(f"the process did not exit within {timeout_s}s")


async def event_types(url: str, call_id: str) -> list[str]:
    """The types of the call's events in the order they were written (by row id: each
    process's clock is pinned to the same start, so their times do not compare)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT event_type FROM call_events WHERE call_id = :c ORDER BY id"),
                {"c": call_id},
            )
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


async def saved_turns(url: str, call_id: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT state FROM call_states WHERE call_id = :c"), {"c": call_id}
                )
            ).first()
    finally:
        await engine.dispose()
    if row is None:
        return 0
    state = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    return int(state.get("turns", 0))


async def test_killed_process_call_resumes_on_the_other(
    pg_url: str, tmp_path: Path, processes: list[tuple[subprocess.Popen[bytes], int]]
) -> None:
    first_port, second_port = free_port(), free_port()
    first = spawn(pg_url, first_port, tmp_path, "a")
    processes.append((first, first_port))
    await wait_ready(first_port, first)
    # The second migrates nothing new: both share one database.
    second = spawn(pg_url, second_port, tmp_path, "b")
    processes.append((second, second_port))
    await wait_ready(second_port, second)

    url_a = f"ws://127.0.0.1:{first_port}/llm-websocket/{CALL['call_id']}"
    url_b = f"ws://127.0.0.1:{second_port}/llm-websocket/{CALL['call_id']}"
    async with RetellPeer(url_a, call=CALL) as peer:
        greeting = await peer.wait_begin()
        assert "Dana" in greeting.text
        asked = await peer.turn("Hi, I'd like to book a haircut")
        assert asked.text
        for _ in range(200):
            if await saved_turns(pg_url, str(CALL["call_id"])) >= 1:
                break
            await asyncio.sleep(0.05)
        assert await saved_turns(pg_url, str(CALL["call_id"])) >= 1
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        await asyncio.wait_for(peer.closed.wait(), 10)

    async with RetellPeer(url_b, call=CALL) as again:
        begin = await again.wait_begin()
        assert begin.text == "", "a resumed call must not be greeted twice"
        again.latest_id = peer.latest_id
        again.transcript = list(peer.transcript)
        reply = await again.turn("tomorrow at 2pm")
        # The slot filled on the first process (a haircut) carries over.
        assert "name" in reply.text.lower() or "haircut" in reply.text.lower(), reply.text
        confirm = await again.turn("It's Dana")
        assert "haircut" in confirm.text and "2 PM" in confirm.text


DRAIN_S = 6.0
"""Long enough for the turns and checks made while the first process drains, on a busy
machine."""


async def test_a_drained_call_goes_on_then_resumes_on_the_other(
    pg_url: str, tmp_path: Path, processes: list[tuple[subprocess.Popen[bytes], int]]
) -> None:
    """SIGTERM drains the first process: it takes no new call, its live call goes on, and at
    the drain timeout the call's socket is reset with its state saved; Retell's re-dial to
    the second process resumes the call where it was, with no second greeting."""
    call_id = str(CALL["call_id"])
    first_port, second_port = free_port(), free_port()
    first = spawn(pg_url, first_port, tmp_path, "a", VOICEOPS_DRAIN_TIMEOUT_S=str(DRAIN_S))
    processes.append((first, first_port))
    await wait_ready(first_port, first)
    second = spawn(pg_url, second_port, tmp_path, "b")
    processes.append((second, second_port))
    await wait_ready(second_port, second)

    base_a = f"ws://127.0.0.1:{first_port}/llm-websocket"
    async with RetellPeer(f"{base_a}/{call_id}", call=CALL) as peer:
        greeting = await peer.wait_begin()
        assert "Dana" in greeting.text
        assert (await peer.turn("Hi, I'd like to book a haircut")).text

        first.send_signal(signal.SIGTERM)
        health = await wait_draining(first_port)
        assert health.json()["status"] == "draining"
        assert health.json()["live_calls"] == 1
        with pytest.raises(websockets.InvalidStatus) as refused:
            await RetellPeer(f"{base_a}/call_two_proc_new", call=CALL).connect()
        assert refused.value.response.status_code == 503

        # The live call goes on while the instance drains.
        when = await peer.turn("tomorrow at 2pm")
        assert "name" in when.text.lower() or "haircut" in when.text.lower(), when.text

        await asyncio.wait_for(peer.closed.wait(), DRAIN_S + 10)
        # No closing frame: an abnormal close, which Retell re-dials.
        assert peer.close_code == 1006
        # Written before the reset, both turns.
        assert await saved_turns(pg_url, call_id) == 2
    assert await exited(first, 20) == -signal.SIGTERM

    async with RetellPeer(
        f"ws://127.0.0.1:{second_port}/llm-websocket/{call_id}", call=CALL
    ) as again:
        begin = await again.wait_begin()
        assert begin.text == "", "a resumed call must not be greeted twice"
        again.latest_id = peer.latest_id
        again.transcript = list(peer.transcript)
        confirm = await again.turn("It's Dana")
        assert "haircut" in confirm.text and "2 PM" in confirm.text, confirm.text

    for _ in range(100):  # the second process writes its events in batches
        events = await event_types(pg_url, call_id)
        if "call_resumed" in events:
            break
        await asyncio.sleep(0.05)
    assert events.index("call_connected") < events.index("call_drained")
    assert events.index("call_drained") < events.index("call_resumed")
    assert events.count("call_drained") == 1
