"""The SQL behind the console's metrics: the hourly rollup (``insight_hours``), what changed
since it was last brought up to date, and the few figures read straight from their tables
(open callbacks, evaluation runs).

A rollup hour is always recomputed whole from the source tables, so recomputing it again
changes nothing: a late webhook, a retried event batch or a second instance doing the same
work only costs time. :meth:`InsightStore.refresh` queues the hours touched since the
marks (``insight_marks`` rows ``dirty:<hour>``, also queued by a purge) and recomputes the
newest of them, under one named write lock (:meth:`Database.serialized`), so instances
take turns and each finds the marks and the queue the previous one left. What the rollup
holds for an hour is computed by a function it is given (``voiceops.insight.rollup``);
this module only reads and writes rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, delete, exists, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.core.clock import Clock
from voiceops.store.db import Database
from voiceops.store.insight_source import (
    HOUR_S,
    HourSource,
    all_hours,
    from_ms,
    hour_of,
    hour_start,
    load_source,
    to_ms,
    touched_hours,
)
from voiceops.store.rollup_tables import insight_days, insight_hours, insight_marks
from voiceops.store.tables import call_events, callback_requests, calls, eval_runs

DIRTY = "dirty:"
"""Prefix of the marks that queue an hour to recompute (``dirty:<hour>``, value the hour)."""
_LOCK = "insight_rollup"
_SPAN_HOURS = 24
_DAYS_PER_BUILD = 31
_QUEUE_BATCH = 1000


RollupRow = tuple[str, int, int, str, int, int]
"""``(metric, hour, version, key, n, total)``."""
Compute = Callable[[HourSource], Iterable[RollupRow]]


def _rows(compute: Compute, source: Any) -> list[Any]:
    return list(compute(source))


class Backlog(NamedTuple):
    """What the rollup has still to do (:meth:`InsightStore.backlog`)."""

    changed: bool
    """A call, event or callback request is newer than the marks: not yet looked at."""
    hours: int
    """Hours queued to recompute."""
    newest: int | None
    """The newest hour queued; every hour after it is up to date."""

    @property
    def idle(self) -> bool:
        return not self.changed and not self.hours


class Bucketed(NamedTuple):
    """One row of a read: ``bucket`` is the index of the bucket (see
    :meth:`InsightStore.read`)."""

    metric: str
    bucket: int
    version: int
    key: str
    n: int
    total: int


class InsightStore:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    # --- keeping the rollup up to date -------------------------------------------------

    async def refresh(
        self,
        compute: Compute,
        *,
        max_hours: int | None = None,
        scan_limit: int | None = None,
        wait: bool = True,
    ) -> int:
        """Queue every hour touched since the last refresh, then recompute the newest
        ``max_hours`` queued hours (all of them by default); returns the hours done.

        With ``scan_limit``, the changes are looked for only when fewer than that many
        calls, events and callback requests are new (a page view's bound: an import or a
        first build is left to :class:`~voiceops.insight.builder.RollupBuilder`). Looks
        first, without a lock, whether there is anything to do: a refresh with nothing to
        do takes no write lock. With ``wait=False``, a refresh that finds another one
        under way leaves the work to it and raises :class:`~voiceops.store.db.LockBusy`."""
        state = await self.backlog()
        scan = state.changed and (scan_limit is None or await self._few_changes(scan_limit))
        if not scan and not state.hours:
            return 0
        async with self._db.serialized("refresh the insight rollup", _LOCK, wait=wait) as conn:
            marks = await self._marks(conn)
            if scan:
                first_build = "events" not in marks
                dirty = all_hours if first_build else touched_hours
                hours, new_marks = await dirty(conn, marks)
                await queue_hours(self._db, conn, hours, self._clock.now())
                await self._save_marks(conn, marks, new_marks)
            todo = await self._queued(conn, max_hours)
            for span in _spans(todo):
                source = await load_source(conn, span)
                # In a worker thread: an hour of a busy day is thousands of events, and the
                # event loop has calls to answer meanwhile.
                rows = await asyncio.to_thread(_rows, compute, source)
                await self._replace(conn, span, rows)
            for shift in _day_shifts(marks):
                for first, last in _spans(todo):
                    await self._redo_days(conn, shift, (first + shift) // 24, (last + shift) // 24)
            await conn.execute(
                delete(insight_marks).where(insight_marks.c.name.in_([_dirty(h) for h in todo]))
            )
            return len(todo)

    async def backlog(self) -> Backlog:
        """Whether a call, event or callback request is newer than the rollup's marks, and
        the hours queued to recompute (four indexed reads, no lock)."""
        queued = insight_marks.c.name.like(f"{DIRTY}%")
        async with self._db.transaction("look for changes since the insight rollup") as conn:
            marks = await self._marks(conn)
            newest = (
                await conn.execute(
                    select(
                        select(func.max(calls.c.updated_at)).scalar_subquery(),
                        select(func.max(call_events.c.id)).scalar_subquery(),
                        select(func.max(callback_requests.c.created_at)).scalar_subquery(),
                        select(func.count()).where(queued).scalar_subquery(),
                        select(func.max(insight_marks.c.value)).where(queued).scalar_subquery(),
                    )
                )
            ).one()
        updated, event_id, callback_at, hours, top = newest
        changed = (
            (updated is not None and to_ms(updated) > marks.get("calls", -1))
            or (event_id is not None and int(event_id) > marks.get("events", -1))
            or (callback_at is not None and to_ms(callback_at) > marks.get("callbacks", -1))
        )
        return Backlog(changed, int(hours or 0), None if top is None else int(top))

    async def changed(self) -> bool:
        """Whether a call, event or callback request is newer than the rollup's marks."""
        return (await self.backlog()).changed

    async def _few_changes(self, limit: int) -> bool:
        """Whether fewer than ``limit`` calls, events and callback requests each are newer
        than the marks (each an indexed range read of at most ``limit`` rows)."""
        async with self._db.transaction("count changes since the insight rollup") as conn:
            marks = await self._marks(conn)
            if "events" not in marks:
                return False
            ranges = (
                select(calls.c.call_id).where(calls.c.updated_at > from_ms(marks.get("calls", 0))),
                select(call_events.c.id).where(call_events.c.id > marks["events"]),
                select(callback_requests.c.request_id).where(
                    callback_requests.c.created_at > from_ms(marks.get("callbacks", 0))
                ),
            )
            for stmt in ranges:
                rows = stmt.limit(limit).subquery()
                if int(await conn.scalar(select(func.count()).select_from(rows)) or 0) >= limit:
                    return False
        return True

    async def _queued(self, conn: AsyncConnection, limit: int | None) -> list[int]:
        """The newest ``limit`` queued hours, oldest first."""
        stmt = (
            select(insight_marks.c.value)
            .where(insight_marks.c.name.like(f"{DIRTY}%"))
            .order_by(insight_marks.c.value.desc())
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return sorted(int(v) for v in (await conn.execute(stmt)).scalars())

    async def _marks(self, conn: AsyncConnection) -> dict[str, int]:
        rows = await conn.execute(
            select(insight_marks.c.name, insight_marks.c.value).where(
                ~insight_marks.c.name.like(f"{DIRTY}%")
            )
        )
        return {str(name): int(value) for name, value in rows.all()}

    async def _redo_days(self, conn: AsyncConnection, shift: int, first: int, last: int) -> None:
        """Recompute days ``first..last`` of the day rollup for ``shift`` from the hours."""
        day = (insight_hours.c.hour + shift) // 24
        await conn.execute(
            delete(insight_days).where(
                insight_days.c.shift == shift,
                insight_days.c.day >= first,
                insight_days.c.day <= last,
            )
        )
        sums = (
            select(
                insight_hours.c.metric,
                literal(shift),
                day,
                insight_hours.c.version,
                insight_hours.c.key,
                func.sum(insight_hours.c.n),
                func.sum(insight_hours.c.total),
            )
            .where(
                insight_hours.c.hour >= first * 24 - shift,
                insight_hours.c.hour < (last + 1) * 24 - shift,
            )
            .group_by(insight_hours.c.metric, day, insight_hours.c.version, insight_hours.c.key)
        )
        names = ["metric", "shift", "day", "version", "key", "n", "total"]
        await conn.execute(insert(insight_days).from_select(names, sums))

    async def _ensure_days(self, shift: int) -> None:
        """Build the day rollup for local days starting ``shift`` hours before UTC midnight
        (once per shift a deployment's zone has: two with daylight saving)."""
        name = f"days:{shift}"
        async with self._db.transaction("look for a day rollup") as conn:
            if name in await self._marks(conn):
                return
        async with self._db.serialized("build a day rollup", _LOCK) as conn:
            marks = await self._marks(conn)
            if name in marks:
                return
            bounds = (
                await conn.execute(
                    select(func.min(insight_hours.c.hour), func.max(insight_hours.c.hour))
                )
            ).one()
            if bounds[0] is not None:
                first, last = (int(bounds[0]) + shift) // 24, (int(bounds[1]) + shift) // 24
                for day in range(first, last + 1, _DAYS_PER_BUILD):
                    await self._redo_days(conn, shift, day, min(last, day + _DAYS_PER_BUILD - 1))
            await self._save_marks(conn, marks, {name: shift})

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
        day_shift: int | None = None,
    ) -> list[Bucketed]:
        """Sums of ``metrics`` over ``[first_hour, end_hour)`` per bucket, version and key.

        A row's bucket is ``(hour + shift_hours) // bucket_hours``: the caller chooses the
        shift that puts bucket edges on local midnights (and Mondays, for weeks). With
        ``day_shift`` (the local day's offset, whole hours) and buckets of whole days, the
        day rollup is read instead of the hours (24 times fewer rows); the range is then
        taken in whole local days.
        """
        if day_shift is not None and bucket_hours % 24 == 0:
            await self._ensure_days(day_shift)
            t = insight_days
            unit: Any = t.c.day
            bucket = (t.c.day * 24 + (shift_hours - day_shift)) // bucket_hours
            low, high = (first_hour + day_shift) // 24, (end_hour + day_shift) // 24
            where = [t.c.shift == day_shift, unit >= low, unit < high]
        else:
            t = insight_hours
            bucket = (t.c.hour + shift_hours) // bucket_hours
            where = [t.c.hour >= first_hour, t.c.hour < end_hour]
        stmt = (
            select(
                t.c.metric,
                bucket.label("bucket"),
                t.c.version,
                t.c.key,
                func.sum(t.c.n),
                func.sum(t.c.total),
            )
            .where(t.c.metric.in_(list(metrics)), *where)
            .group_by(t.c.metric, bucket, t.c.version, t.c.key)
        )
        async with self._db.transaction("read the insight rollup") as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            Bucketed(str(m), int(b), int(v), str(k), int(n or 0), int(t or 0))
            for m, b, v, k, n, t in rows
        ]

    async def open_callbacks(
        self, since: datetime, until: datetime, *, limit: int = 100
    ) -> tuple[int, list[dict[str, Any]]]:
        """Callback requests made in ``[since, until)`` with no later outbound call to the
        number they leave: how many, and the newest ``limit`` of them with their call's
        profile version."""
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
        where = [
            callback_requests.c.created_at >= since,
            callback_requests.c.created_at < until,
            ~later,
        ]
        version = (
            select(calls.c.profile_version)
            .where(calls.c.call_id == callback_requests.c.call_id)
            .scalar_subquery()
        )
        newest = (
            select(
                callback_requests.c.call_id,
                callback_requests.c.created_at,
                callback_requests.c.priority,
                callback_requests.c.reason,
                version.label("profile_version"),
            )
            .where(*where)
            .order_by(callback_requests.c.created_at.desc(), callback_requests.c.call_id)
            .limit(limit)
        )
        async with self._db.transaction("list open callbacks") as conn:
            count = await conn.scalar(
                select(func.count()).select_from(callback_requests).where(*where)
            )
            rows = [dict(r) for r in (await conn.execute(newest)).mappings()]
        return int(count or 0), rows

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


async def queue_hours(
    db: Database, conn: AsyncConnection, hours: Iterable[int], now: datetime
) -> None:
    """Queue ``hours`` to be recomputed, in ``conn``'s transaction (an hour queued twice
    is queued once)."""
    rows = [{"name": _dirty(h), "value": h, "updated_at": now} for h in sorted(set(hours))]
    for part in range(0, len(rows), _QUEUE_BATCH):
        stmt = db.insert(insight_marks).on_conflict_do_nothing(index_elements=["name"])
        await conn.execute(stmt, rows[part : part + _QUEUE_BATCH])


def _dirty(hour: int) -> str:
    return f"{DIRTY}{hour}"


def _day_shifts(marks: dict[str, int]) -> list[int]:
    return [value for name, value in marks.items() if name.startswith("days:")]


def _spans(hours: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted hours as inclusive runs of consecutive hours, none longer than a day."""
    spans: list[tuple[int, int]] = []
    for hour in hours:
        if spans and hour == spans[-1][1] + 1 and hour - spans[-1][0] < _SPAN_HOURS:
            spans[-1] = (spans[-1][0], hour)
        else:
            spans.append((hour, hour))
    return spans


__all__ = [
    "HOUR_S",
    "Backlog",
    "Bucketed",
    "HourSource",
    "InsightStore",
    "RollupRow",
    "hour_of",
    "hour_start",
    "queue_hours",
]
