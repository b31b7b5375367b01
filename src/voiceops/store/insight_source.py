"""What the rollup of some hours is computed from (``store/insight.py``): the calls that
started in them, with Retell's record filling what the call row lacks, their events, and
their callback requests and bookings counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.store.tables import bookings, call_events, callback_requests, calls, retell_calls

HOUR_S = 3600
ROLLED_EVENTS = ("turn_completed", "turn_superseded", "fallback", "escalation")
_IDS_PER_QUERY = 2000

seen = func.coalesce(calls.c.started_at, calls.c.created_at)
"""When a call counts: its start, else when it was first seen."""


def hour_of(moment: datetime) -> int:
    """Hours since the Unix epoch, UTC."""
    return int(moment.timestamp()) // HOUR_S


def hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR_S, UTC)


@dataclass(slots=True)
class HourSource:
    """What one batch of rollup hours is computed from."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    callbacks: dict[str, int] = field(default_factory=dict)
    """Callback requests per call id."""
    bookings: dict[str, int] = field(default_factory=dict)
    """Bookings made per call id."""


async def load_source(conn: AsyncConnection, span: tuple[int, int]) -> HourSource:
    """The calls that started in hours ``span`` (inclusive), their rolled-up events, and
    their callback requests and bookings counted."""
    start, end = hour_start(span[0]), hour_start(span[1] + 1)
    joined = calls.outerjoin(retell_calls, retell_calls.c.call_id == calls.c.call_id)
    stmt = select(
        calls.c.call_id,
        seen.label("seen"),
        calls.c.profile_version,
        calls.c.call_type,
        calls.c.outcome,
        calls.c.disconnection_reason,
        calls.c.transfer_status,
        calls.c.ended_at,
        func.coalesce(calls.c.duration_ms, retell_calls.c.duration_ms).label("duration_ms"),
        func.coalesce(calls.c.call_cost, retell_calls.c.call_cost).label("call_cost"),
        func.coalesce(calls.c.latency, retell_calls.c.latency).label("latency"),
        func.coalesce(calls.c.call_analysis, retell_calls.c.call_analysis).label("call_analysis"),
    ).select_from(joined)
    # The start, else the first sighting, in the span: two indexed ranges.
    stmt = stmt.where(
        or_(
            and_(calls.c.started_at >= start, calls.c.started_at < end),
            and_(
                calls.c.started_at.is_(None),
                calls.c.created_at >= start,
                calls.c.created_at < end,
            ),
        )
    )
    source = HourSource(calls=[dict(r) for r in (await conn.execute(stmt)).mappings()])
    ids = [c["call_id"] for c in source.calls]
    for part in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ids[part : part + _IDS_PER_QUERY]
        events = select(
            call_events.c.call_id,
            call_events.c.event_type,
            call_events.c.response_id,
            call_events.c.latency_ms,
            call_events.c.tokens_in,
            call_events.c.tokens_out,
            call_events.c.payload,
        ).where(call_events.c.call_id.in_(chunk), call_events.c.event_type.in_(ROLLED_EVENTS))
        source.events += [dict(r) for r in (await conn.execute(events)).mappings()]
        callbacks = (
            select(callback_requests.c.call_id, func.count())
            .where(callback_requests.c.call_id.in_(chunk))
            .group_by(callback_requests.c.call_id)
        )
        for call_id, n in (await conn.execute(callbacks)).all():
            source.callbacks[str(call_id)] = int(n)
        made = (
            select(bookings.c.call_id, func.count())
            .where(bookings.c.call_id.in_(chunk))
            .group_by(bookings.c.call_id)
        )
        for call_id, n in (await conn.execute(made)).all():
            source.bookings[str(call_id)] = int(n)
    return source
