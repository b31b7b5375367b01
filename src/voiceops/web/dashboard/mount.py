"""Opening the console inside the app's lifespan: what the app factory calls."""

from __future__ import annotations

import asyncio
import contextlib
import logging
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

    async def index_forever() -> None:
        while True:
            try:
                await console.calls.indexer.catch_up()
            except Exception:
                log.exception("transcript indexing failed; retrying")
            await clock.sleep(INDEX_EVERY_S)

    task = asyncio.create_task(index_forever(), name="console-indexer")

    async def stop_indexer() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop_indexer)
    assert console.app is not None
    app.router.routes.append(Mount("/dashboard", app=console.app))
    return console
