"""Which agent version a new call runs, and reaching a live call on any instance.

:class:`VersionedEndpoint` stands where the app's Retell endpoint stood. For each new
socket it picks the version: the version a resumed call started with (its saved state
says), else the published one (on PostgreSQL kept current by ``LISTEN``; on SQLite read
per new call, one indexed row). It hands the socket to a :class:`RetellEndpoint` built for
that version, sharing everything else (live calls, persister, event writer, metrics), so a
publish reaches new calls at once, on every instance, without a restart, and a live call
keeps the version it started with.

Its turn runner also records what the console shows and the core does not log: the
caller's words of each turn (``user_turn``) and the tool calls and results sent to Retell
(``tool_call``, ``tool_result``).

:class:`Bus` carries console messages between instances over PostgreSQL
``LISTEN/NOTIFY``: ``voiceops_published`` (a new version is live) and
``voiceops_interrupt`` (speak into, or end, a call whose socket another instance holds).
On SQLite there is one instance, and both are delivered in process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.engine import make_url
from starlette.websockets import WebSocket

from voiceops.agent.speaker import CallLink
from voiceops.agent.turn import TurnRunner
from voiceops.calls import LiveCalls
from voiceops.core.callevents import CallEvent
from voiceops.core.profile import AgentProfile
from voiceops.retell.messages import ReminderRequired, ResponseRequired
from voiceops.store.db import Database
from voiceops.store.versions import VersionRepo
from voiceops.web.ws import RetellEndpoint

log = logging.getLogger("voiceops.console")

PUBLISHED = "voiceops_published"
INTERRUPT = "voiceops_interrupt"
_KEEP_ENDPOINTS = 8


class _RecordingLink:
    """A turn's link to its socket that also records tool frames as call events."""

    __slots__ = ("_events", "_inner", "call_id", "session", "state")

    def __init__(self, inner: CallLink, emit: Callable[[CallEvent], None], clock: Any) -> None:
        self._inner = inner
        self._events = (emit, clock)
        self.call_id = inner.call_id
        self.session = inner.session
        self.state = inner.state

    async def send(self, text: str) -> None:
        await self._inner.send(text)
        if '"tool_call_' not in text[:64]:
            return
        try:
            frame = json.loads(text)
        except ValueError:
            return
        emit, clock = self._events
        kind = frame.get("response_type")
        if kind == "tool_call_invocation":
            emit(
                CallEvent(
                    self.call_id,
                    "tool_call",
                    payload={
                        "tool_call_id": frame.get("tool_call_id"),
                        "name": frame.get("name"),
                        "arguments": str(frame.get("arguments", ""))[:4000],
                    },
                    created_at=clock.now(),
                    event_id=f"{self.call_id}:tool:{frame.get('tool_call_id')}",
                )
            )
        elif kind == "tool_call_result":
            emit(
                CallEvent(
                    self.call_id,
                    "tool_result",
                    payload={
                        "tool_call_id": frame.get("tool_call_id"),
                        "content": str(frame.get("content", ""))[:4000],
                        "successful": frame.get("successful"),
                    },
                    created_at=clock.now(),
                    event_id=f"{self.call_id}:result:{frame.get('tool_call_id')}",
                )
            )


class RecordingRunner(TurnRunner):
    """The turn runner, plus the caller's words and the tool frames as call events."""

    async def run(
        self,
        link: CallLink,
        request: ResponseRequired | ReminderRequired,
        received_at: float,
    ) -> None:
        deps = self.deps
        said = ""
        if isinstance(request, ResponseRequired):
            for utterance in reversed(request.transcript):
                if utterance.role != "user":
                    break
                said = f"{utterance.content} {said}".strip()
        deps.events.emit(
            CallEvent(
                link.call_id,
                "user_turn",
                created_at=deps.clock.now(),
                response_id=request.response_id,
                role="user",
                content=said[:2000],
                payload={
                    "kind": "reminder" if isinstance(request, ReminderRequired) else "response",
                    "transcript_length": len(request.transcript),
                },
                event_id=f"{link.call_id}:{request.response_id}:user",
            )
        )
        await super().run(_RecordingLink(link, deps.events.emit, deps.clock), request, received_at)


class VersionedEndpoint:
    """The Retell endpoint, picking each new call's agent version (see the module doc)."""

    def __init__(self, base: RetellEndpoint, versions: VersionRepo, *, dialect: str) -> None:
        self.base = base
        self.versions = versions
        self.dialect = dialect
        self.current: AgentProfile = base.profile
        self._endpoints: OrderedDict[int, RetellEndpoint] = OrderedDict()
        self._endpoints[base.profile.version] = self._build(base.profile)
        self._console_endpoints: OrderedDict[int, RetellEndpoint] = OrderedDict()

    @property
    def live(self) -> LiveCalls:
        return self.base.live

    def _build(self, profile: AgentProfile, *, console: bool = False) -> RetellEndpoint:
        base = self.base
        settings = base.settings
        if console:
            # The console's own test calls never cross the network: Retell's shared secret
            # and address allowlist do not apply (the console session authorised them).
            settings = settings.model_copy(update={"ws_secret": None, "ws_allow_ips": []})
        return RetellEndpoint(
            settings=settings,
            profile=profile,
            runner=RecordingRunner(replace(base.runner.deps, profile=profile)),
            live=base.live,
            persister=base.persister,
            events=base.events,
            metrics=base.metrics,
            on_call_details=base.on_call_details,
            clock=base.clock,
            drain=base.drain,
        )

    async def endpoint_for(self, version: int) -> RetellEndpoint:
        found = self._endpoints.get(version)
        if found is not None:
            self._endpoints.move_to_end(version)
            return found
        profile = await self.versions.profiles.get(version)
        if profile is None:
            return self._endpoints[self.current.version]
        built = self._endpoints[version] = self._build(profile)
        while len(self._endpoints) > _KEEP_ENDPOINTS:
            oldest = next(iter(self._endpoints))
            if oldest == self.current.version:
                self._endpoints.move_to_end(oldest)
                continue
            del self._endpoints[oldest]
        return built

    async def console_endpoint(self, version: int) -> RetellEndpoint | None:
        """An endpoint serving ``version`` to the console's test calls (the same socket
        code as Retell's calls, without Retell's secret and allowlist), or ``None`` when
        no such version exists."""
        found = self._console_endpoints.get(version)
        if found is None:
            profile = await self.versions.profiles.get(version)
            if profile is None:
                return None
            found = self._console_endpoints[version] = self._build(profile, console=True)
            while len(self._console_endpoints) > _KEEP_ENDPOINTS:
                self._console_endpoints.popitem(last=False)
        self._console_endpoints.move_to_end(version)
        return found

    async def refresh(self) -> None:
        """Read the published version (a publish elsewhere, or a check per call)."""
        published = await self.versions.published()
        if published is not None and published.version != self.current.version:
            endpoint = await self.endpoint_for(published.version)
            self.current = endpoint.profile
            log.info("agent version %d is now published", published.version)

    async def _version_for(self, call_id: str) -> int:
        state = self.base.live.recent(call_id)
        if state is None and call_id:
            with contextlib.suppress(Exception):
                state = await self.base.persister.load(call_id)
        if state is not None and not state.ended and state.profile_version is not None:
            return state.profile_version
        if self.dialect != "postgresql":
            await self.refresh()
        return self.current.version

    async def __call__(self, websocket: WebSocket) -> None:
        call_id = str(websocket.path_params.get("call_id", ""))[:128]
        try:
            version = await self._version_for(call_id)
        except Exception:
            log.exception("could not read the published version; serving the last known")
            version = self.current.version
        endpoint = await self.endpoint_for(version)
        await endpoint(websocket)


Listener = Callable[[str, dict[str, Any]], Awaitable[None]]


class Bus:
    """Console messages between instances (see the module doc)."""

    def __init__(self, db: Database, url: str) -> None:
        self._db = db
        self._url = url
        self._listeners: list[Listener] = []
        self._conn: asyncpg.Connection | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def start(self) -> None:
        if self._db.dialect != "postgresql":
            return
        url = make_url(self._url).set(drivername="postgresql")
        self._conn = await asyncpg.connect(url.render_as_string(hide_password=False))
        for channel in (PUBLISHED, INTERRUPT):
            await self._conn.add_listener(channel, self._on_notify)

    async def stop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _on_notify(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        task = asyncio.create_task(self._deliver(channel, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, channel: str, message: dict[str, Any]) -> None:
        for listener in self._listeners:
            try:
                await listener(channel, message)
            except Exception:
                log.exception("console message on %s failed", channel)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """To every instance (this one too)."""
        if self._db.dialect != "postgresql":
            await self._deliver(channel, message)
            return
        async with self._db.transaction("notify instances") as conn:
            await conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": channel, "payload": json.dumps(message)},
            )
