"""``serve``'s call sync, as the app lifespan sees it.

:func:`scheduled_sync` starts :class:`~voiceops.retell.api.ScheduledSync` for the life of
the app when a Retell key is set and ``VOICEOPS_RETELL_SYNC_INTERVAL_S`` is above 0, with an
SDK client of its own, and stops both on shutdown. The SDK is imported only then, at
start-up, so a server without a key never loads it and one with a key pays for it before it
takes calls, not in the middle of one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from voiceops.config import Settings
from voiceops.core.clock import Clock
from voiceops.store.db import Database
from voiceops.store.retell_records import RetellRecordRepo

if TYPE_CHECKING:
    from voiceops.retell.api import ScheduledSync

log = logging.getLogger(__name__)


@asynccontextmanager
async def scheduled_sync(
    settings: Settings, *, db: Database, clock: Clock
) -> AsyncIterator[ScheduledSync | None]:
    """The running sync, or ``None`` without a key or with the interval at 0."""
    if settings.retell_api_key is None or settings.retell_sync_interval_s <= 0:
        yield None
        return
    from voiceops.retell.api import ScheduledSync, connect

    client = connect(settings)
    sync = ScheduledSync(
        client,
        RetellRecordRepo(db, clock=clock),
        clock=clock,
        interval_s=settings.retell_sync_interval_s,
    )
    sync.start()
    log.info("Retell's call records are synced every %.0f s", settings.retell_sync_interval_s)
    try:
        yield sync
    finally:
        await sync.stop()
        await client.close()
