"""The runner's own server: the real app under uvicorn on a free local port, per scenario.

Each scenario gets a server of its own, so each can pin its own clock, profile and diary
without seeing another's bookings: the app from :func:`voiceops.web.app.create_app` with a
:class:`~voiceops.core.clock.PinnedClock` at the scenario's ``now``, on a copy of one
migrated SQLite file (migrating once and copying costs milliseconds, migrating per scenario
a good part of a second). A pinned clock is a setting of the app, not a test path in it: the
server runs exactly the code ``voiceops serve --clock`` runs.

After the call the server is stopped, which flushes the event writer and the state
persister, and the database is read back for the call's expectations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openai
import uvicorn

from voiceops.config import Settings
from voiceops.core.clock import Clock, PinnedClock, SystemClock
from voiceops.core.profile import AgentProfile
from voiceops.evals.loading import LoadedScenario
from voiceops.store.db import Database
from voiceops.store.evals import seed_booking
from voiceops.store.migrate import upgrade

log = logging.getLogger("voiceops.evals")

_START_POLLS = 1000
_POLL_S = 0.01
_STOP_TIMEOUT_S = 15.0


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


class Workspace:
    """A directory for one run's databases: one migrated template, a copy per server."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._template = root / "template.db"
        self._ready = asyncio.Lock()
        self._migrated = False
        self._count = 0

    async def fresh_database(self, slug: str) -> Path:
        async with self._ready:
            if not self._migrated:
                await upgrade(sqlite_url(self._template))
                self._migrated = True
            self._count += 1
            target = self.root / f"{self._count:04d}_{slug}.db"
        await asyncio.to_thread(shutil.copyfile, self._template, target)
        return target


@dataclass(slots=True)
class OwnServer:
    """A running server of the runner's own."""

    port: int
    db_url: str

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}/llm-websocket"


def server_settings(
    base: Settings, loaded: LoadedScenario, db_path: Path, *, brain: str
) -> Settings:
    """``base`` with what one scenario's server needs changed."""
    setup = loaded.scenario.server
    update: dict[str, object] = {
        "database_url": sqlite_url(db_path),
        "journal_path": db_path.with_suffix(".journal.jsonl"),
        "migrate_on_start": False,
        "brain": brain,
        "gc_full_interval_s": 0.0,
        "event_flush_interval_ms": 20,
        "otel_traces": False,
        "ws_secret": None,
        "ws_allow_ips": [],
    }
    if setup.speak_first is not None:
        update["speak_first"] = setup.speak_first
    if setup.filler_deadline_ms is not None:
        update["filler_deadline_ms"] = setup.filler_deadline_ms
    return base.model_copy(update=update)


def clock_for(loaded: LoadedScenario) -> Clock:
    start = loaded.scenario.call.pinned_start(loaded.profile.business_zone)
    return PinnedClock(start) if start is not None else SystemClock()


async def seed(db_url: str, loaded: LoadedScenario, clock: Clock) -> None:
    """Put the scenario's bookings in the diary before the call."""
    if not loaded.scenario.setup.bookings:
        return
    profile = loaded.profile
    zone = ZoneInfo(profile.business_zone)
    db = await Database.open(db_url)
    try:
        for index, booking in enumerate(loaded.scenario.setup.bookings, start=1):
            service = profile.service(booking.service)
            assert service is not None, "checked when the scenario was loaded"
            start = booking.start if booking.start.tzinfo else booking.start.replace(tzinfo=zone)
            local = start.astimezone(zone)
            await seed_booking(
                db,
                booking_id=f"seed{index}",
                service=service.name,
                customer_name=booking.name,
                customer_phone=booking.phone,
                start_utc=local,
                end_utc=local + timedelta(minutes=service.duration_min),
                caller_zone=profile.business_zone,
                local_start=local.isoformat(),
                status=booking.status,
                price=str(service.price),
                created_at=clock.now() - timedelta(days=1, minutes=index),
            )
    finally:
        await db.close()


class _Server(uvicorn.Server):
    """uvicorn, leaving signals alone: many servers run in one process, and Ctrl-C is the
    runner's to handle, not each server's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serve_app(app: object) -> AsyncIterator[int]:
    """Run an ASGI app under uvicorn on 127.0.0.1:<free port> until the block ends."""
    sock = _free_socket()
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        ws="websockets-sansio",
        lifespan="on",
        log_config=None,
        log_level="warning",
        ws_ping_interval=None,
        timeout_graceful_shutdown=2,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="eval-server")
    try:
        for _ in range(_START_POLLS):
            if server.started or task.done():
                break
            await asyncio.sleep(_POLL_S)
        if task.done():
            task.result()
        if not server.started:
            raise RuntimeError("the evaluation server did not start")
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, _STOP_TIMEOUT_S)
        finally:
            sock.close()


@contextlib.asynccontextmanager
async def own_server(
    settings: Settings,
    profile: AgentProfile,
    clock: Clock,
    *,
    llm_client: openai.AsyncOpenAI | None = None,
    seed_rng: int = 7,
) -> AsyncIterator[OwnServer]:
    """The real app for one scenario; stopping it flushes every write."""
    from voiceops.web.app import create_app

    app = create_app(
        settings,
        profile=profile,
        llm_client=llm_client,
        clock=clock,
        rng=random.Random(seed_rng),
    )
    async with serve_app(app) as port:
        yield OwnServer(port=port, db_url=settings.database_url)
