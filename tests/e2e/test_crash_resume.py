"""A process killed right after the greeting or right after a turn: Retell's re-dial to
another process on the same PostgreSQL resumes the call, greets nobody a second time and
goes on in context.

The state that decides both is written before the frame that says it (the begin message,
a turn's closing frame), so there is no window between what the caller heard and what the
database knows. The kill comes 0, 50 and 100 ms after the turn's last frame, and straight
after the greeting.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_two_processes import free_port, pg_url, processes, spawn, wait_ready
from voiceops.evals.peer import RetellPeer

pytestmark = pytest.mark.slow

__all__ = ["pg_url", "processes"]  # fixtures shared with the two-process test


def call(call_id: str) -> dict[str, object]:
    return {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": "+12125550100",
        "to_number": "+12125550142",
    }


async def test_a_call_killed_right_after_a_frame_resumes_without_a_second_greeting(
    pg_url: str, tmp_path: Path, processes: list[tuple[subprocess.Popen[bytes], int]]
) -> None:
    survivor_port = free_port()
    survivor = spawn(pg_url, survivor_port, tmp_path, "survivor")
    processes.append((survivor, survivor_port))
    await wait_ready(survivor_port, survivor)  # it migrates; the others find nothing to do
    for kill_after_ms in (None, 0, 50, 100):
        port = free_port()
        doomed = spawn(pg_url, port, tmp_path, f"doomed_{kill_after_ms}")
        processes.append((doomed, port))
        await wait_ready(port, doomed)
        await _killed_and_resumed(doomed, port, survivor_port, kill_after_ms)


async def _killed_and_resumed(
    doomed: subprocess.Popen[bytes], port: int, survivor_port: int, kill_after_ms: int | None
) -> None:
    call_id = f"call_crash_{kill_after_ms}"
    async with RetellPeer(
        f"ws://127.0.0.1:{port}/llm-websocket/{call_id}", call=call(call_id)
    ) as peer:
        greeting = await peer.wait_begin()
        assert "Maple Street Hair" in greeting.text
        if kill_after_ms is not None:
            await peer.turn("Hi, I'd like to book a haircut")
            await asyncio.sleep(kill_after_ms / 1000)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
        await asyncio.wait_for(peer.closed.wait(), 10)

    async with RetellPeer(
        f"ws://127.0.0.1:{survivor_port}/llm-websocket/{call_id}", call=call(call_id)
    ) as again:
        begin = await again.wait_begin()
        assert begin.text == "", f"greeted twice (killed {kill_after_ms} ms after a turn)"
        again.latest_id = peer.latest_id
        again.transcript = list(peer.transcript)
        if kill_after_ms is None:
            reply = await again.turn("Hi, I'd like to book a haircut")
            assert "day" in reply.text.lower(), reply.text
        else:
            # The service chosen on the first process carries over: only the time is asked
            # about, then the name.
            reply = await again.turn("tomorrow at 2pm")
            assert "name" in reply.text.lower(), (kill_after_ms, reply.text)
