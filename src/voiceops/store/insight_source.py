"""What the rollup (``store/insight.py``) reads from the source tables: which hours changed
since its marks, and, for some hours, the calls that started in them (Retell's record
filling what the call row lacks), their events, and their callback requests and bookings
counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.store.rollup_tables import insight_marks
from voiceops.store.tables import bookings, call_events, callback_requests, calls, retell_calls

HOUR_S = 3600
ROLLED_EVENTS = ("turn_completed", "turn_superseded", "fallback", "escalation")
_IDS_PER_QUERY = 2000
CALLS_OVERLAP = timedelta(minutes=5)
"""Rows stamped this long before the mark are looked at again: clocks of several instances
and transactions that commit out of order must not hide a change."""
EVENTS_OVERLAP = 2_000
"""Event ids this far below the mark are looked at again (ids from a sequence may commit
out of order across instances)."""

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


async def all_hours(
    conn: AsyncConnection, marks: dict[str, int]
) -> tuple[set[int], dict[str, int]]:
    """A first build's hours: every hour from the first call's to the last's (an hour
    with no call costs one empty read), found by indexed ``min``/``max`` reads instead
    of reading every row; and the marks at the newest rows."""
    bounds = (
        await conn.execute(
            select(
                func.min(calls.c.started_at),
                func.max(calls.c.started_at),
                func.min(calls.c.created_at),
                func.max(calls.c.created_at),
                func.max(calls.c.updated_at),
                select(func.max(call_events.c.id)).scalar_subquery(),
                select(func.max(callback_requests.c.created_at)).scalar_subquery(),
            )
        )
    ).one()
    new = dict(marks) | {"events": int(bounds[5] or 0)}
    if bounds[4] is not None:
        new["calls"] = to_ms(bounds[4])
    if bounds[6] is not None:
        new["callbacks"] = to_ms(bounds[6])
    moments = [m for m in bounds[:4] if m is not None]
    if not moments:
        return set(), new
    return set(range(hour_of(min(moments)), hour_of(max(moments)) + 1)), new


async def touched_hours(
    conn: AsyncConnection, marks: dict[str, int]
) -> tuple[set[int], dict[str, int]]:
    """The hours of the calls, events and callback requests newer than ``marks`` (a
    little before them), and the marks at the newest of them."""
    hours: set[int] = set()
    new = dict(marks)
    since = from_ms(marks.get("calls", 0)) - CALLS_OVERLAP
    rows = await conn.execute(
        select(seen, calls.c.created_at, calls.c.updated_at).where(calls.c.updated_at > since)
    )
    for when, created, updated in rows.all():
        # A call is counted in the hour it started, or the hour it was first seen
        # while its start is unknown: when a webhook brings the start, both change.
        hours.update((hour_of(when), hour_of(created)))
        new["calls"] = max(new.get("calls", 0), to_ms(updated))
    mark = marks.get("events", 0)
    low = max(0, mark - EVENTS_OVERLAP)
    # Below the mark, only events made about when it moved can have committed late: an
    # import's old events there are not looked at again on every refresh.
    moved = await conn.scalar(
        select(insight_marks.c.updated_at).where(insight_marks.c.name == "events")
    )
    late = call_events.c.id > mark
    if moved is not None:
        late = or_(late, call_events.c.created_at >= moved - CALLS_OVERLAP)
    touched = (
        select(call_events.c.call_id, func.max(call_events.c.id).label("top"))
        .where(call_events.c.id > low, late)
        .group_by(call_events.c.call_id)
        .subquery()
    )
    by_event = await conn.execute(
        select(seen, touched.c.top).join_from(touched, calls, calls.c.call_id == touched.c.call_id)
    )
    for when, top in by_event.all():
        hours.add(hour_of(when))
        new["events"] = max(new.get("events", 0), int(top))
    top_event = await conn.scalar(select(func.max(call_events.c.id)))
    if top_event is not None:
        new["events"] = max(new.get("events", 0), int(top_event))
    since = from_ms(marks.get("callbacks", 0)) - CALLS_OVERLAP
    by_callback = await conn.execute(
        select(seen, callback_requests.c.created_at)
        .join_from(callback_requests, calls, calls.c.call_id == callback_requests.c.call_id)
        .where(callback_requests.c.created_at > since)
    )
    for when, created in by_callback.all():
        hours.add(hour_of(when))
        new["callbacks"] = max(new.get("callbacks", 0), to_ms(created))
    return hours, new


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
