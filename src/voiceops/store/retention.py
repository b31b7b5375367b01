"""Retention: :func:`purge` deletes call data older than the retention window."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Delete, and_, delete, exists, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.core.clock import Clock, SystemClock
from voiceops.store.db import Database
from voiceops.store.insight import queue_hours
from voiceops.store.insight_source import hour_of, seen
from voiceops.store.tables import (
    audit_log,
    bookings,
    call_events,
    call_states,
    call_words,
    callback_requests,
    calls,
    console_sessions,
    dead_letters,
    retell_calls,
    webhook_deliveries,
)


async def purge(
    db: Database, older_than: timedelta, *, clock: Clock | None = None
) -> dict[str, int]:
    """Delete call data older than ``older_than``; returns rows deleted per table.

    Purged: call events, calls (and their Retell records), call states, webhook deliveries,
    callback requests, dead letters and audit-log entries created (or, for states and dead
    letters, last updated) before the cutoff; the search index's words of the calls purged
    (a call with an event or a ``calls`` row newer than the cutoff keeps its words);
    console sessions that have expired; and bookings whose appointment *ended* before the
    cutoff (a future booking is never purged, however old the call that made it).

    The Insight rollup's hours of every call that loses a row are queued to be recomputed
    (in the same transaction), so the pages stop counting what was purged.
    """
    if older_than <= timedelta(0):
        raise ValueError("the retention window must be positive")
    now = (SystemClock() if clock is None else clock).now()
    cutoff = now - older_than
    statements = {
        # First, while the old rows still say which calls are going.
        "call_words": _words_of_purged_calls(cutoff),
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
        "audit_log": delete(audit_log).where(audit_log.c.at < cutoff),
        "console_sessions": delete(console_sessions).where(console_sessions.c.expires_at < now),
    }
    counts: dict[str, int] = {}
    async with db.transaction("purge") as conn:
        await queue_hours(db, conn, await _hours_of_purged_calls(conn, cutoff), now)
        for table, stmt in statements.items():
            result = await conn.execute(stmt)
            counts[table] = int(result.rowcount or 0)
    return counts


async def _hours_of_purged_calls(conn: AsyncConnection, cutoff: datetime) -> set[int]:
    """The rollup hours of the calls that lose a call, event, callback request or booking
    row to a purge at ``cutoff`` (read before the rows go)."""
    touched = union(
        select(calls.c.call_id).where(calls.c.created_at < cutoff),
        select(call_events.c.call_id).where(call_events.c.created_at < cutoff),
        select(callback_requests.c.call_id).where(callback_requests.c.created_at < cutoff),
        select(bookings.c.call_id).where(
            and_(bookings.c.end_utc < cutoff, bookings.c.created_at < cutoff)
        ),
    ).subquery()
    rows = await conn.execute(
        select(seen, calls.c.created_at).where(calls.c.call_id.in_(select(touched.c.call_id)))
    )
    hours: set[int] = set()
    for when, created in rows.all():
        hours.update((hour_of(when), hour_of(created)))
    return hours


def _words_of_purged_calls(cutoff: datetime) -> Delete:
    """The ``call_words`` rows of calls with data older than ``cutoff`` and none newer
    (each test is an indexed lookup by call id)."""
    old = union(
        select(call_events.c.call_id).where(call_events.c.created_at < cutoff),
        select(calls.c.call_id).where(calls.c.created_at < cutoff),
    )
    newer_event = exists().where(
        call_events.c.call_id == call_words.c.call_id, call_events.c.created_at >= cutoff
    )
    newer_call = exists().where(
        calls.c.call_id == call_words.c.call_id, calls.c.created_at >= cutoff
    )
    return delete(call_words).where(
        call_words.c.call_id.in_(select(old.subquery().c.call_id)), ~newer_event, ~newer_call
    )
