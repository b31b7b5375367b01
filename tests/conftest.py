"""Shared fixtures: a real voiceops server on a real socket, in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openai
import pytest
import uvicorn
from starlette.applications import Starlette

from tests.fakes.fake_llm import FakeLLM
from voiceops.config import DEFAULT_PROFILE, Settings
from voiceops.core.clock import Clock, PinnedClock
from voiceops.core.profile import AgentProfile, load_profile
from voiceops.tracing import Tracer
from voiceops.web.app import create_app
from voiceops.web.runtime import Runtime

# Tuesday 1 December 2026, 14:00 UTC = 09:00 in New York: the demo salon is open.
FIXED_NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


@dataclass(slots=True)
class RunningServer:
    app: Starlette
    port: int
    settings: Settings

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}/llm-websocket"

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def url(self, call_id: str) -> str:
        return f"{self.ws_base}/{call_id}"


@contextlib.asynccontextmanager
async def run_server(
    settings: Settings,
    *,
    profile: AgentProfile | None = None,
    llm_client: openai.AsyncOpenAI | None = None,
    clock: Clock | None = None,
    seed: int = 7,
    tracer: Tracer | None = None,
) -> AsyncIterator[RunningServer]:
    """Start the real app under uvicorn on 127.0.0.1:<free port> and stop it afterwards.

    The app's clock starts at :data:`FIXED_NOW` and runs forward in real time (timers,
    fillers and deadlines are real), so no test depends on the day it runs.
    """
    app = create_app(
        settings,
        profile=profile,
        llm_client=llm_client,
        clock=clock or PinnedClock(FIXED_NOW),
        rng=random.Random(seed),
        tracer=tracer,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        ws="websockets-sansio",
        lifespan="on",
        log_config=None,
        ws_ping_interval=None,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if task.done():
            task.result()
        assert server.started, "server did not start"
        yield RunningServer(app, port, settings)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLM]:
    """A fake OpenAI-compatible provider on a real socket."""
    async with FakeLLM() as server:
        yield server


@pytest.fixture
async def client(fake_llm: FakeLLM) -> AsyncIterator[openai.AsyncOpenAI]:
    """An SDK client for :func:`fake_llm`."""
    llm_client = openai.AsyncOpenAI(base_url=fake_llm.base_url, api_key="sk-test", max_retries=0)
    try:
        yield llm_client
    finally:
        await llm_client.close()


@pytest.fixture
def profile() -> AgentProfile:
    return load_profile(DEFAULT_PROFILE)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'voiceops.db'}",
            "journal_path": tmp_path / "journal.jsonl",
            "brain": "flow",
        }
        values.update(overrides)
        return Settings(**values)

    return build
