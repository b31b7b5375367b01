"""The Insight rollup's background builder: it brings the rollup up to date, newest hours
first, in chunks of :data:`CHUNK_HOURS` hours, so that no page view ever builds history.

A page view looks for changes only when they are few and recomputes at most
:data:`PAGE_HOURS` queued hours (``web/dashboard/insight.py``); everything else (the
whole history after an upgrade, an import, hours queued by a purge) is done here. Each
chunk is one transaction under the rollup's named lock (``store/insight.py``), so several
instances take turns and none repeats another's work, and live work waits at most for
one chunk. The builder runs on the app's :class:`~voiceops.core.clock.Clock`: it pauses
:data:`BUSY_PAUSE_S` between chunks while there is work and looks again every
:data:`IDLE_S` when there is none; a database that is away fails the chunk, which is
logged and tried again after :data:`RETRY_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from voiceops.core.clock import Clock
from voiceops.core.errors import StorageError
from voiceops.insight import rollup
from voiceops.store.db import Database
from voiceops.store.insight import Compute, InsightStore

log = logging.getLogger("voiceops.insight")

CHUNK_HOURS = 12
"""Hours recomputed per chunk (a few hundred calls at 100,000 calls over 90 days)."""
PAGE_HOURS = 3
"""The most queued hours a page view recomputes: the newest, where live calls land."""
PAGE_SCAN_LIMIT = 2_000
"""A page view looks for changes only when fewer calls, events and callback requests
than this are new; more is the builder's."""
BUSY_PAUSE_S = 0.05
IDLE_S = 30.0
RETRY_S = 30.0


class RollupBuilder:
    """Keeps the hourly rollup up to date in the background (see the module docstring)."""

    def __init__(
        self, store: InsightStore, *, clock: Clock, compute: Compute = rollup.compute
    ) -> None:
        self.store = store
        self.clock = clock
        self.compute = compute
        self._task: asyncio.Task[None] | None = None
        self.last = ""
        """How the last background tick ended: ``busy`` (work is left), ``idle`` or
        ``failed``."""
        self.ticked = asyncio.Event()
        """Set after every background tick (whoever waits on it clears it)."""

    async def build_once(self) -> bool:
        """Look for changes and recompute the newest :data:`CHUNK_HOURS` queued hours;
        returns whether work is left."""
        await self.store.refresh(self.compute, max_hours=CHUNK_HOURS)
        return not (await self.store.backlog()).idle

    async def build_all(self) -> int:
        """Chunk after chunk until the rollup is up to date; returns the chunks done."""
        chunks = 1
        while await self.build_once():
            chunks += 1
        return chunks

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="voiceops-insight-rollup")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        pauses = {"busy": BUSY_PAUSE_S, "idle": IDLE_S, "failed": RETRY_S}
        while True:
            self.last = "failed"
            try:
                self.last = "busy" if await self.build_once() else "idle"
            except StorageError as exc:
                log.warning("insight rollup not brought up to date, will retry: %s", exc)
            except Exception:
                log.exception("insight rollup failed; will retry")
            self.ticked.set()
            await self.clock.sleep(pauses[self.last])


async def open_rollup_builder(
    stack: contextlib.AsyncExitStack, *, db: Database, clock: Clock
) -> RollupBuilder:
    """Start the builder (stopped by ``stack``) and return it."""
    builder = RollupBuilder(InsightStore(db, clock=clock), clock=clock)
    builder.start()
    stack.push_async_callback(builder.stop)
    return builder
