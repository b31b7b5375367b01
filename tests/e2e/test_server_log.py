"""What ``voiceops serve`` writes to its log, and the frame size it reads at most.

One real server process for the module (``voiceops serve``, with a WebSocket secret, its
log on stderr captured to a file): the secret is never in a log line, caller-controlled
text cannot forge a line or write a raw NUL, and a frame over the WebSocket layer's hard
limit closes the call with 1009 while a frame between ``VOICEOPS_MAX_FRAME_BYTES`` and that
limit is refused and the call goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import websockets

from voiceops.config import Settings
from voiceops.evals.peer import RetellPeer

pytestmark = pytest.mark.slow

SECRET = "s3cret-4c1d2b9e8f7a6b5c4d3e2f1a"
WRONG = "guessed-9a8b7c6d5e4f3a2b1c0d"
HARD_LIMIT = 16 * 1024 * 1024
"""``voiceops serve`` reads frames up to 16 MiB, or twice VOICEOPS_MAX_FRAME_BYTES if larger."""


@dataclass(frozen=True)
class Served:
    port: int
    log_path: Path

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}/llm-websocket"

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> bytes:
        return self.log_path.read_bytes()

    def lines(self) -> list[str]:
        return self.log().decode("utf-8", errors="replace").splitlines()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("served")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEOPS_")}
    env.update(
        VOICEOPS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'voiceops.db'}",
        VOICEOPS_JOURNAL_PATH=str(tmp / "journal.jsonl"),
        VOICEOPS_BRAIN="flow",
        VOICEOPS_WS_SECRET=SECRET,
        VOICEOPS_LOG_LEVEL="info",
    )
    voiceops = Path(sys.executable).parent / "voiceops"
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(voiceops), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise AssertionError(f"server exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise AssertionError("server did not start")
        yield Served(port, log_path)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def logged(served: Served, needle: str) -> None:
    """Wait until the server's log holds ``needle`` (its lines are written as they come)."""
    for _ in range(500):
        if needle in served.log().decode("utf-8", errors="replace"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{needle!r} never logged")


async def closed_with(url: str) -> int | None:
    async with asyncio.timeout(10), websockets.connect(url) as ws:
        with pytest.raises(websockets.ConnectionClosed) as info:
            while True:
                await ws.recv()
    return info.value.rcvd.code if info.value.rcvd is not None else None


async def test_the_secret_is_never_logged(served: Served) -> None:
    for url in (
        f"{served.ws_base}/{SECRET}/call_path_secret",
        f"{served.ws_base}/call_query_secret?secret={SECRET}",
        f"{served.ws_base}/call_query_later?tenant=salon&secret={SECRET}",
    ):
        async with RetellPeer(url, call={"call_id": url.rsplit("/", 1)[1].split("?")[0]}) as peer:
            await peer.wait_begin()
            assert (await peer.turn("When are you open?")).complete
    for url in (
        f"{served.ws_base}/{WRONG}/call_wrong",
        f"{served.ws_base}/call_wrong?secret={WRONG}",
    ):
        assert await closed_with(url) == 1008
    async with httpx.AsyncClient(base_url=served.http_base) as http:
        await http.get(f"/llm-websocket/{SECRET}/call_over_http")
        await http.get(f"/healthz?secret={SECRET}")
    await logged(served, "GET /healthz?secret=")
    await logged(served, "call=call_query_later rid=- socket closed")
    log = served.log().decode()
    assert SECRET not in log
    assert WRONG not in log
    accepted = [line for line in served.lines() if "[accepted]" in line]
    assert any('"WebSocket /llm-websocket/***/call_path_secret" [accepted]' in a for a in accepted)
    assert any('"WebSocket /llm-websocket/call_query_secret?secret=***"' in a for a in accepted)
    assert any("?tenant=salon&secret=***" in a for a in accepted)


@pytest.mark.parametrize(
    ("segment", "raw"),
    [("call_a%0Aforged%20line%20INFO", "\nforged line INFO"), ("call_b%00nul", "\x00")],
)
async def test_a_call_id_cannot_forge_a_log_line_or_write_a_nul(
    served: Served, segment: str, raw: str
) -> None:
    assert await closed_with(f"{served.ws_base}/{SECRET}/{segment}") == 1008
    await logged(served, "refused socket: call id is not")
    log = served.log()
    assert raw.encode() not in log
    assert b"\x00" not in log
    assert not any(line.startswith("forged") for line in served.lines())
    refused = [line for line in served.lines() if "refused socket: call id" in line]
    assert refused and all(line.split()[4] == "call=-" for line in refused)


async def test_a_frame_over_the_bound_is_refused_and_the_call_goes_on(served: Served) -> None:
    bound = Settings().max_frame_bytes
    url = f"{served.ws_base}/{SECRET}/call_big_frame"
    async with RetellPeer(url, call={"call_id": "call_big_frame"}) as peer:
        await peer.wait_begin()
        await peer.send(
            '{"interaction_type":"update_only","transcript":[],"x":"' + "x" * bound + '"}'
        )
        reply = await peer.turn("When are you open?")
        assert reply.complete and not peer.closed.is_set()
    await logged(served, "call=call_big_frame rid=- bad frame (too_large)")


async def test_a_frame_over_the_hard_limit_closes_the_call_with_1009(served: Served) -> None:
    url = f"{served.ws_base}/{SECRET}/call_huge_frame"
    async with RetellPeer(url, call={"call_id": "call_huge_frame"}) as peer:
        await peer.wait_begin()
        with contextlib.suppress(websockets.ConnectionClosed):
            await peer.send('{"interaction_type":"update_only","x":"' + "x" * HARD_LIMIT + '"}')
        await peer.closed.wait()
        assert peer.close_code == 1009
