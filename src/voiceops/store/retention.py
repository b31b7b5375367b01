"""Retention: :func:`purge` deletes call data older than the retention window."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, delete

from voiceops.core.clock import Clock, SystemClock
from voiceops.store.db import Database
from voiceops.store.tables import (
    bookings,
    call_events,
    call_states,
    callback_requests,
    calls,
    dead_letters,
    retell_calls,
    webhook_deliveries,
)


async def purge(
    db: Database, older_than: timedelta, *, clock: Clock | None = None
) -> dict[str, int]:
    """Delete call data older than ``older_than``; returns rows deleted per table.

    Purged: call events, calls (and their Retell records), call states, webhook deliveries,
    callback requests and dead letters created (or, for states and dead letters, last
    updated) before the cutoff, and bookings whose appointment *ended* before it (a future
    booking is never purged, however old the call that made it).
    """
    if older_than <= timedelta(0):
        raise ValueError("the retention window must be positive")
    cutoff = (SystemClock() if clock is None else clock).now() - older_than
    statements = {
        "call_events": delete(call_events).where(call_events.c.created_at < cutoff),
        "calls": delete(calls).where(calls.c.created_at < cutoff),
        "retell_calls": delete(retell_calls).where(retell_calls.c.created_at < cutoff),
        "call_states": delete(call_states).where(call_states.c.updated_at < cutoff),
        "webhook_deliveries": delete(webhook_deliveries).where(
            webhook_deliveries.c.received_at < cutoff
        ),
        "callback_requests": delete(callback_requests).where(
            callback_requests.c.created_at < cutoff
        ),
        "dead_letters": delete(dead_letters).where(dead_letters.c.updated_at < cutoff),
        "bookings": delete(bookings).where(
            and_(bookings.c.end_utc < cutoff, bookings.c.created_at < cutoff)
        ),
    }
    counts: dict[str, int] = {}
    async with db.transaction("purge") as conn:
        for table, stmt in statements.items():
            result = await conn.execute(stmt)
            counts[table] = int(result.rowcount or 0)
    return counts
