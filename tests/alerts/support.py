"""A local webhook receiver on a real socket, and a clock whose wall time can be moved on.

:class:`Receiver` is a small HTTP server (uvicorn, Starlette) that records every POST and
answers with the status a test sets, so a test sees exactly what voiceops sent, how
often, and with which headers.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voiceops.core.clock import PinnedClock


@dataclass(slots=True)
class Received:
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@dataclass(slots=True)
class Receiver:
    url: str = ""
    status: int = 200
    posts: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_posts(self, count: int, within_s: float = 10.0) -> list[Received]:
        async with asyncio.timeout(within_s):
            while len(self.posts) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.posts


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()

    async def hook(request: Request) -> Response:
        receiver.posts.append(Received(dict(request.headers), await request.body()))
        receiver.arrived.set()
        return Response("ok", status_code=receiver.status)

    app = Starlette(routes=[Route("/hook/{token}", hook, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        receiver.url = f"http://127.0.0.1:{port}/hook/t0ken-in-the-url"
        yield receiver
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


class SkippingClock(PinnedClock):
    """A pinned clock (real-time from ``start``) whose wall time a test can move on, so
    an evaluation "after the window" needs no real wait."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._skipped = timedelta()

    def skip(self, seconds: float) -> None:
        self._skipped += timedelta(seconds=seconds)

    def now(self) -> datetime:
        return super().now() + self._skipped
