"""Opening the console inside the app's lifespan: what the app factory calls."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

from voiceops.config import Settings
from voiceops.core.callevents import CallEvent, EventSink
from voiceops.core.clock import Clock
from voiceops.store.db import Database
from voiceops.store.versions import VersionRepo
from voiceops.web.dashboard.console import Console, build, new_secret
from voiceops.web.dashboard.routing import INTERRUPT, PUBLISHED, Bus, VersionedEndpoint
from voiceops.web.ws import RetellEndpoint

log = logging.getLogger("voiceops.console")
INDEX_EVERY_S = 5.0


async def open_console(
    stack: contextlib.AsyncExitStack,
    app: Starlette,
    *,
    settings: Settings,
    db: Database,
    clock: Clock,
    endpoint: RetellEndpoint,
    events: EventSink,
) -> Console:
    """Publish the profile file's version if it never was, start serving the published
    version, connect the instances' bus, start the search indexer and mount the console
    at ``/dashboard``. Everything started is stopped by ``stack``."""
    versions = VersionRepo(db, clock=clock)
    await versions.publish_at_start(endpoint.profile.version, str(settings.profile_path))
    versioned = VersionedEndpoint(endpoint, versions, dialect=db.dialect)
    await versioned.refresh()

    on_message = _on_message(versioned, events, clock)
    bus = Bus(db, settings.database_url)
    bus.subscribe(on_message)
    await bus.start()
    stack.push_async_callback(bus.stop)

    if settings.session_secret is not None:
        secret = settings.session_secret.get_secret_value().encode()
    else:
        secret = new_secret()
        log.warning(
            "VOICEOPS_SESSION_SECRET is not set: console sign-ins last until this process "
            "stops and do not carry to other instances. Set one to keep them."
        )
    console = build(
        settings=settings, db=db, clock=clock, endpoint=versioned, bus=bus, session_secret=secret
    )

    task = asyncio.create_task(_housekeeping(console, clock), name="console-housekeeping")

    async def stop_housekeeping() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await console.test_calls.close()

    stack.push_async_callback(stop_housekeeping)
    assert console.app is not None
    app.router.routes.append(Mount("/dashboard", app=console.app))
    return console


async def _housekeeping(console: Console, clock: Clock) -> None:
    """Index new transcript lines for search, and hang up idle test calls (all of them
    once the instance drains), forever."""
    while True:
        try:
            await console.calls.indexer.catch_up()
        except Exception:
            log.exception("transcript indexing failed; retrying")
        try:
            drain = console.endpoint.base.drain
            if drain is not None and drain.draining:
                await console.test_calls.close()  # a drain waits on every live call
            else:
                await console.test_calls.sweep()
        except Exception:
            log.exception("hanging up test calls failed")
        await clock.sleep(INDEX_EVERY_S)


def _on_message(
    versioned: VersionedEndpoint, events: EventSink, clock: Clock
) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    """What this instance does with a console message: refresh the published version, or
    speak into (or end) a call whose socket it holds."""

    async def on_message(channel: str, message: dict[str, Any]) -> None:
        if channel == PUBLISHED:
            await versioned.refresh()
        elif channel == INTERRUPT:
            call_id = str(message.get("call_id", ""))
            conn = versioned.live.connections.get(call_id)
            if conn is None:
                return
            text = str(message.get("text", ""))[:1000]
            end_call = bool(message.get("end_call"))
            if await conn.interrupt(text, end_call=end_call):
                events.emit(
                    CallEvent(
                        call_id,
                        "operator_said",
                        role="agent",
                        content=text,
                        payload={"by": str(message.get("by", "")), "end_call": end_call},
                        created_at=clock.now(),
                    )
                )

    return on_message
