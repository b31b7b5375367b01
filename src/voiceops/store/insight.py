"""The SQL behind the console's metrics: the hourly rollup (``insight_hours``), what changed
since it was last brought up to date, and the few figures read straight from their tables
(open callbacks, evaluation runs).

A rollup hour is always recomputed whole from the source tables, so recomputing it again
changes nothing: a late webhook, a retried event batch or a second instance doing the same
work only costs time. :meth:`InsightStore.refresh` runs under one named write lock
(:meth:`Database.serialized`), so instances take turns and each finds the marks the
previous one left. What the rollup holds for an hour is computed by a function it is given
(``voiceops.insight.rollup``); this module only reads and writes rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.core.clock import Clock
from voiceops.store.db import Database
from voiceops.store.tables import (
    call_events,
    callback_requests,
    calls,
    eval_runs,
    insight_hours,
    insight_marks,
    retell_calls,
)

HOUR_S = 3600
ROLLED_EVENTS = ("turn_completed", "turn_superseded", "fallback", "escalation")
CALLS_OVERLAP = timedelta(minutes=5)
"""Rows stamped this long before the mark are looked at again: clocks of several instances
and transactions that commit out of order must not hide a change."""
EVENTS_OVERLAP = 2_000
"""Event ids this far below the mark are looked at again (ids from a sequence may commit
out of order across instances)."""
_LOCK = "insight_rollup"
_SPAN_HOURS = 24


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


RollupRow = tuple[str, int, int, str, int, int]
"""``(metric, hour, version, key, n, total)``."""
Compute = Callable[[HourSource], Iterable[RollupRow]]


@dataclass(frozen=True, slots=True)
class Bucketed:
    """One row of a read: ``bucket`` is the index of the bucket (see
    :meth:`InsightStore.read`)."""

    metric: str
    bucket: int
    version: int
    key: str
    n: int
    total: int


_seen = func.coalesce(calls.c.started_at, calls.c.created_at)


class InsightStore:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    # --- keeping the rollup up to date -------------------------------------------------

    async def refresh(self, compute: Compute, *, max_hours: int = 100_000) -> int:
        """Recompute every hour touched since the last refresh; returns the hours done.

        Looks first, without a lock, whether anything is newer than the marks: a refresh
        with nothing to do takes no write lock."""
        if not await self.changed():
            return 0
        async with self._db.serialized("refresh the insight rollup", _LOCK) as conn:
            marks = await self._marks(conn)
            hours, new_marks = await self._dirty(conn, marks)
            todo = sorted(hours)[:max_hours]
            for span in _spans(todo):
                source = await self._source(conn, span)
                rows = list(compute(source))
                await self._replace(conn, span, rows)
            if len(todo) == len(hours):
                await self._save_marks(conn, marks, new_marks)
            return len(todo)

    async def changed(self) -> bool:
        """Whether a call, event or callback request is newer than the rollup's marks."""
        async with self._db.transaction("look for changes since the insight rollup") as conn:
            marks = await self._marks(conn)
            newest = (
                await conn.execute(
                    select(
                        select(func.max(calls.c.updated_at)).scalar_subquery(),
                        select(func.max(call_events.c.id)).scalar_subquery(),
                        select(func.max(callback_requests.c.created_at)).scalar_subquery(),
                    )
                )
            ).one()
        updated, event_id, callback_at = newest
        return (
            (updated is not None and _to_ms(updated) > marks.get("calls", -1))
            or (event_id is not None and int(event_id) > marks.get("events", -1))
            or (callback_at is not None and _to_ms(callback_at) > marks.get("callbacks", -1))
        )

    async def _marks(self, conn: AsyncConnection) -> dict[str, int]:
        rows = await conn.execute(select(insight_marks.c.name, insight_marks.c.value))
        return {str(name): int(value) for name, value in rows.all()}

    async def _dirty(
        self, conn: AsyncConnection, marks: dict[str, int]
    ) -> tuple[set[int], dict[str, int]]:
        hours: set[int] = set()
        new = dict(marks)
        since = _from_ms(marks.get("calls", 0)) - CALLS_OVERLAP
        rows = await conn.execute(
            select(_seen, calls.c.created_at, calls.c.updated_at).where(calls.c.updated_at > since)
        )
        for seen, created, updated in rows.all():
            # A call is counted in the hour it started, or the hour it was first seen
            # while its start is unknown: when a webhook brings the start, both change.
            hours.update((hour_of(seen), hour_of(created)))
            new["calls"] = max(new.get("calls", 0), _to_ms(updated))
        low = max(0, marks.get("events", 0) - EVENTS_OVERLAP)
        touched = (
            select(call_events.c.call_id, func.max(call_events.c.id).label("top"))
            .where(call_events.c.id > low)
            .group_by(call_events.c.call_id)
            .subquery()
        )
        rows = await conn.execute(
            select(_seen, touched.c.top).join_from(
                touched, calls, calls.c.call_id == touched.c.call_id
            )
        )
        for seen, top in rows.all():
            hours.add(hour_of(seen))
            new["events"] = max(new.get("events", 0), int(top))
        top_event = await conn.scalar(select(func.max(call_events.c.id)))
        if top_event is not None:
            new["events"] = max(new.get("events", 0), int(top_event))
        since = _from_ms(marks.get("callbacks", 0)) - CALLS_OVERLAP
        rows = await conn.execute(
            select(_seen, callback_requests.c.created_at)
            .join_from(callback_requests, calls, calls.c.call_id == callback_requests.c.call_id)
            .where(callback_requests.c.created_at > since)
        )
        for seen, created in rows.all():
            hours.add(hour_of(seen))
            new["callbacks"] = max(new.get("callbacks", 0), _to_ms(created))
        return hours, new

    async def _source(self, conn: AsyncConnection, span: tuple[int, int]) -> HourSource:
        start, end = hour_start(span[0]), hour_start(span[1] + 1)
        joined = calls.outerjoin(retell_calls, retell_calls.c.call_id == calls.c.call_id)
        stmt = select(
            calls.c.call_id,
            _seen.label("seen"),
            calls.c.profile_version,
            calls.c.call_type,
            calls.c.outcome,
            calls.c.disconnection_reason,
            calls.c.transfer_status,
            func.coalesce(calls.c.duration_ms, retell_calls.c.duration_ms).label("duration_ms"),
            func.coalesce(calls.c.call_cost, retell_calls.c.call_cost).label("call_cost"),
            func.coalesce(calls.c.latency, retell_calls.c.latency).label("latency"),
            func.coalesce(calls.c.call_analysis, retell_calls.c.call_analysis).label(
                "call_analysis"
            ),
        ).select_from(joined)
        stmt = stmt.where(_seen >= start, _seen < end)
        source = HourSource(calls=[dict(r) for r in (await conn.execute(stmt)).mappings()])
        ids = select(calls.c.call_id).where(_seen >= start, _seen < end)
        events = select(
            call_events.c.call_id,
            call_events.c.event_type,
            call_events.c.response_id,
            call_events.c.latency_ms,
            call_events.c.tokens_in,
            call_events.c.tokens_out,
            call_events.c.payload,
        ).where(call_events.c.call_id.in_(ids), call_events.c.event_type.in_(ROLLED_EVENTS))
        source.events = [dict(r) for r in (await conn.execute(events)).mappings()]
        callbacks = (
            select(callback_requests.c.call_id, func.count())
            .where(callback_requests.c.call_id.in_(ids))
            .group_by(callback_requests.c.call_id)
        )
        source.callbacks = {str(c): int(n) for c, n in (await conn.execute(callbacks)).all()}
        return source

    async def _replace(
        self, conn: AsyncConnection, span: tuple[int, int], rows: Sequence[RollupRow]
    ) -> None:
        await conn.execute(
            delete(insight_hours).where(
                insight_hours.c.hour >= span[0], insight_hours.c.hour <= span[1]
            )
        )
        if rows:
            names = ("metric", "hour", "version", "key", "n", "total")
            await conn.execute(
                insight_hours.insert(), [dict(zip(names, r, strict=True)) for r in rows]
            )

    async def _save_marks(
        self, conn: AsyncConnection, old: dict[str, int], new: dict[str, int]
    ) -> None:
        now = self._clock.now()
        for name, value in new.items():
            if old.get(name) == value:
                continue
            stmt = self._db.insert(insight_marks).values(name=name, value=value, updated_at=now)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["name"], set_={"value": value, "updated_at": now}
                )
            )

    # --- reading --------------------------------------------------------------------------

    async def read(
        self,
        metrics: Sequence[str],
        *,
        first_hour: int,
        end_hour: int,
        bucket_hours: int,
        shift_hours: int,
    ) -> list[Bucketed]:
        """Sums of ``metrics`` over ``[first_hour, end_hour)`` per bucket, version and key.

        A row's bucket is ``(hour + shift_hours) // bucket_hours``: the caller chooses the
        shift that puts bucket edges on local midnights (and Mondays, for weeks).
        """
        bucket = (insight_hours.c.hour + shift_hours) / bucket_hours
        stmt = (
            select(
                insight_hours.c.metric,
                bucket.label("bucket"),
                insight_hours.c.version,
                insight_hours.c.key,
                func.sum(insight_hours.c.n),
                func.sum(insight_hours.c.total),
            )
            .where(
                insight_hours.c.metric.in_(list(metrics)),
                insight_hours.c.hour >= first_hour,
                insight_hours.c.hour < end_hour,
            )
            .group_by(insight_hours.c.metric, bucket, insight_hours.c.version, insight_hours.c.key)
        )
        async with self._db.transaction("read the insight rollup") as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            Bucketed(str(m), int(b), int(v), str(k), int(n or 0), int(t or 0))
            for m, b, v, k, n, t in rows
        ]

    async def open_callbacks(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Callback requests made in ``[since, until)`` with no later outbound call to the
        number they leave, oldest first."""
        back = calls.alias("back")
        later = (
            exists()
            .where(
                and_(
                    back.c.to_number == callback_requests.c.phone,
                    back.c.direction == "outbound",
                    func.coalesce(back.c.started_at, back.c.created_at)
                    > callback_requests.c.created_at,
                )
            )
            .correlate(callback_requests)
        )
        stmt = (
            select(
                callback_requests.c.call_id,
                callback_requests.c.created_at,
                callback_requests.c.priority,
                callback_requests.c.reason,
                calls.c.profile_version,
            )
            .join_from(callback_requests, calls, calls.c.call_id == callback_requests.c.call_id)
            .where(
                callback_requests.c.created_at >= since,
                callback_requests.c.created_at < until,
                ~later,
            )
            .order_by(callback_requests.c.created_at, callback_requests.c.call_id)
        )
        async with self._db.transaction("list open callbacks") as conn:
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def eval_runs(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Evaluation runs started in ``[since, until)``, oldest first."""
        stmt = (
            select(
                eval_runs.c.run_id,
                eval_runs.c.started_at,
                eval_runs.c.profile_version,
                eval_runs.c.brain,
                eval_runs.c.status,
                eval_runs.c.scenarios,
                eval_runs.c.passed,
                eval_runs.c.failed,
                eval_runs.c.xfailed,
                eval_runs.c.xpassed,
                eval_runs.c.skipped,
                eval_runs.c.first_frame_p95_ms,
            )
            .where(eval_runs.c.started_at >= since, eval_runs.c.started_at < until)
            .order_by(eval_runs.c.started_at, eval_runs.c.run_id)
        )
        async with self._db.transaction("list evaluation runs") as conn:
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]


def _spans(hours: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted hours as inclusive runs of consecutive hours, none longer than a day."""
    spans: list[tuple[int, int]] = []
    for hour in hours:
        if spans and hour == spans[-1][1] + 1 and hour - spans[-1][0] < _SPAN_HOURS:
            spans[-1] = (spans[-1][0], hour)
        else:
            spans.append((hour, hour))
    return spans


def _to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


__all__ = ["Bucketed", "HourSource", "InsightStore", "RollupRow", "hour_of", "hour_start"]
