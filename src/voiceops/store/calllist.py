"""The console's reads of calls: the filtered, keyset-paged list, one call with its
events, bookings and callbacks, and the transcript word index behind full-text search.

Every filter is one indexed lookup: columns of ``calls`` (``created_at``, ``outcome``,
``profile_version``) or ``call_id IN (SELECT call_id FROM call_events WHERE event_type =
…)`` on ``(event_type, call_id)`` / ``(event_type, latency_ms)``. Pages are keyset pages
on ``(created_at, call_id)``, newest first, so page 2,000 costs what page 1 costs.

Search is by words and word beginnings: :class:`WordIndexer` reads new ``call_events``
with content (the caller's and the agent's words) past its high-water mark and adds one
``call_words`` row per (word, call); it is idempotent and may run on every instance at
once. A query word of three letters or more matches the words it begins (``book`` finds
``booking``) as one range of the ``call_words`` key (``word >= 'book' AND word < 'booL'``,
the last letter stepped), which both databases answer from the primary key's index; a
shorter one matches exactly.

Live calls come from what the sockets record (:meth:`CallList.live`): a call is live while
its newest ``call_connected`` or ``call_resumed`` is newer than its newest
``call_disconnected`` (by row id: one database orders the rows of every instance), within
:data:`LIVE_WINDOW`, whether or not a webhook or ``call_details`` made its ``calls`` row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, text, update

from voiceops.core.clock import Clock
from voiceops.core.phone import phone_digits
from voiceops.store.db import Database, first_row
from voiceops.store.tables import (
    bookings,
    call_events,
    call_words,
    callback_requests,
    calls,
    search_progress,
)

_WORD = re.compile(r"[\w']{2,64}", re.UNICODE)
SEARCHED_EVENTS = ("user_turn", "turn_completed", "turn_superseded", "filler", "operator_said")
MAX_QUERY_WORDS = 6
MIN_PREFIX = 3
"""A query word this long or longer also finds the longer words it begins."""
LIVE_WINDOW = timedelta(hours=3)
"""How far back a connect may be and its call still count as live (a process that died
holding a socket records no disconnect; Retell ends calls long before this)."""
_OPENED = ("call_connected", "call_resumed")
_LIST_COLUMNS = [c for c in calls.c if c.name not in ("transcript", "transcript_entries")]


def words_of(text: str) -> set[str]:
    return {w.strip("'").casefold()[:64] for w in _WORD.findall(text) if w.strip("'")}


@dataclass(slots=True)
class CallFilter:
    """What the calls list may be narrowed by (every field optional)."""

    since: datetime | None = None
    until: datetime | None = None
    outcome: str | None = None
    escalated: str | None = None
    """``any``, ``transfer`` or ``callback_required``: calls with such an escalation."""
    reason: str | None = None
    """Words of the escalation's reason (with ``escalated``, or alone)."""
    transferred: bool = False
    fallback: bool = False
    filler: bool = False
    slow_ms: int | None = None
    version: int | None = None
    disconnection: str | None = None
    from_number: str | None = None
    query: str | None = None

    def active(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, False, "")}


@dataclass(slots=True)
class Cursor:
    created_at: datetime
    call_id: str

    def encode(self) -> str:
        return f"{self.created_at.isoformat()}|{self.call_id}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        stamp, _, call_id = text.partition("|")
        try:
            return cls(datetime.fromisoformat(stamp), call_id)
        except ValueError:
            return None


@dataclass(slots=True)
class CallPage:
    rows: list[dict[str, Any]]
    next_cursor: Cursor | None


@dataclass(slots=True)
class CallDetail:
    call: dict[str, Any]
    events: list[dict[str, Any]]
    bookings: list[dict[str, Any]] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)


def _events_of(event_type: str, *extra: ColumnElement[bool]) -> ColumnElement[bool]:
    sub = select(call_events.c.call_id).where(call_events.c.event_type == event_type, *extra)
    return calls.c.call_id.in_(sub)


def filter_clauses(f: CallFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.since is not None:
        where.append(calls.c.created_at >= f.since)
    if f.until is not None:
        where.append(calls.c.created_at < f.until)
    if f.outcome:
        where.append(calls.c.outcome == f.outcome)
    if f.escalated or f.reason:
        extra: list[ColumnElement[bool]] = []
        if f.escalated and f.escalated != "any":
            extra.append(call_events.c.payload["outcome"].as_string() == f.escalated)
        if f.reason:
            extra.append(
                func.lower(call_events.c.payload["reason"].as_string()).contains(
                    f.reason.lower(), autoescape=True
                )
            )
        where.append(_events_of("escalation", *extra))
    if f.transferred:
        where.append(or_(calls.c.outcome == "transferred", calls.c.transfer_status.is_not(None)))
    if f.fallback:
        where.append(_events_of("fallback"))
    if f.filler:
        where.append(_events_of("filler"))
    if f.slow_ms is not None:
        where.append(_events_of("turn_completed", call_events.c.latency_ms > f.slow_ms))
    if f.version is not None:
        where.append(calls.c.profile_version == f.version)
    if f.disconnection:
        where.append(calls.c.disconnection_reason == f.disconnection)
    if f.from_number:
        digits = phone_digits(f.from_number)
        if digits:
            where.append(calls.c.from_number.contains(digits, autoescape=True))
    if f.query:
        for word in sorted(words_of(f.query))[:MAX_QUERY_WORDS]:
            where.append(calls.c.call_id.in_(select(call_words.c.call_id).where(_word(word))))
    return where


def _word(word: str) -> ColumnElement[bool]:
    """``word`` exactly, or, from :data:`MIN_PREFIX` letters, every word it begins: one
    key range of ``call_words``."""
    if len(word) < MIN_PREFIX:
        return call_words.c.word == word
    after = word[:-1] + chr(ord(word[-1]) + 1)
    return and_(call_words.c.word >= word, call_words.c.word < after)


class CallList:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self.indexer = WordIndexer(db, clock=clock)

    def _select(self, f: CallFilter) -> Select[Any]:
        return select(*_LIST_COLUMNS).where(*filter_clauses(f))

    async def page(
        self, f: CallFilter, *, limit: int = 50, after: Cursor | None = None
    ) -> CallPage:
        stmt = self._select(f)
        if after is not None:
            # The first condition alone bounds the index range; the OR only sorts out ties.
            stmt = stmt.where(
                calls.c.created_at <= after.created_at,
                or_(calls.c.created_at < after.created_at, calls.c.call_id > after.call_id),
            )
        stmt = stmt.order_by(calls.c.created_at.desc(), calls.c.call_id).limit(limit + 1)
        async with self._db.transaction("list calls") as conn:
            rows = [dict(r) for r in (await conn.execute(stmt)).mappings().all()]
            more = len(rows) > limit
            rows = rows[:limit]
            await self._annotate(conn, rows)
        last = rows[-1] if more and rows else None
        return CallPage(rows, Cursor(last["created_at"], last["call_id"]) if last else None)

    async def export(self, f: CallFilter, *, limit: int = 100_000) -> list[dict[str, Any]]:
        stmt = self._select(f).order_by(calls.c.created_at.desc(), calls.c.call_id).limit(limit)
        async with self._db.transaction("export calls") as conn:
            return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]

    async def _annotate(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        """Per-call figures for a page: turns, slowest first chunk, fallbacks, fillers,
        escalations (one grouped query over the page's calls)."""
        if not rows:
            return
        ids = [r["call_id"] for r in rows]
        stmt = (
            select(
                call_events.c.call_id,
                call_events.c.event_type,
                func.count().label("n"),
                func.max(call_events.c.latency_ms).label("worst"),
            )
            .where(call_events.c.call_id.in_(ids))
            .group_by(call_events.c.call_id, call_events.c.event_type)
        )
        found: dict[str, dict[str, tuple[int, int | None]]] = {}
        for r in (await conn.execute(stmt)).mappings():
            found.setdefault(r["call_id"], {})[r["event_type"]] = (int(r["n"]), r["worst"])
        for row in rows:
            kinds = found.get(row["call_id"], {})
            row["turns"] = kinds.get("turn_completed", (0, None))[0]
            row["worst_ms"] = kinds.get("turn_completed", (0, None))[1]
            row["fallbacks"] = kinds.get("fallback", (0, None))[0]
            row["fillers"] = kinds.get("filler", (0, None))[0]
            row["escalations"] = kinds.get("escalation", (0, None))[0]
            row["live"] = "call_connected" in kinds and "call_disconnected" not in kinds

    async def live(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """The calls whose socket is open on some instance (see the module doc), newest
        connect first: their ``calls`` row where there is one (not ended by a webhook),
        else the call id, the connect's time and its agent version."""
        opened = func.max(case((call_events.c.event_type.in_(_OPENED), call_events.c.id)))
        closed = func.max(case((call_events.c.event_type == "call_disconnected", call_events.c.id)))
        # Grouped by ``call_id || ''``: by the column itself SQLite walks the whole
        # ``(call_id, turn_index)`` index to group without sorting, instead of reading the
        # window's events on ``created_at`` (the Live page's reads took 790 ms at 100,000
        # calls, 10 ms so; ``benchmarks/console_live.py``).
        call = call_events.c.call_id.concat("")
        newest = (
            select(call.label("call_id"), opened.label("opened"))
            .where(
                call_events.c.created_at >= self._clock.now() - LIVE_WINDOW,
                call_events.c.event_type.in_((*_OPENED, "call_disconnected")),
            )
            .group_by(call)
            .having(and_(opened.is_not(None), or_(closed.is_(None), opened > closed)))
            .order_by(opened.desc())
            .limit(limit)
        )
        async with self._db.transaction("list live calls") as conn:
            connects = (
                (
                    await conn.execute(
                        select(call_events)
                        .where(call_events.c.id.in_(select(newest.subquery().c.opened)))
                        .order_by(call_events.c.id.desc())
                    )
                )
                .mappings()
                .all()
            )
            ids = [e["call_id"] for e in connects]
            known = {
                r["call_id"]: dict(r)
                for r in (
                    await conn.execute(select(*_LIST_COLUMNS).where(calls.c.call_id.in_(ids)))
                ).mappings()
            }
            rows = [
                known.get(e["call_id"])
                or {
                    "call_id": e["call_id"],
                    "created_at": e["created_at"],
                    "profile_version": (e["payload"] or {}).get("profile_version"),
                    "from_number": None,
                }
                for e in connects
            ]
            rows = [r for r in rows if r.get("ended_at") is None]
            await self._annotate(conn, rows)
        return rows

    async def detail(self, call_id: str) -> CallDetail | None:
        """A call with its events, bookings and callbacks; a call known only from its
        socket's events (no ``calls`` row yet) has a row of its id alone."""
        async with self._db.transaction("read call detail") as conn:
            row = await first_row(conn, select(calls).where(calls.c.call_id == call_id))
            events = (
                (
                    await conn.execute(
                        select(call_events)
                        .where(call_events.c.call_id == call_id)
                        .order_by(call_events.c.created_at, call_events.c.id)
                    )
                )
                .mappings()
                .all()
            )
            if row is None and not events:
                return None
            booked = (
                (await conn.execute(select(bookings).where(bookings.c.call_id == call_id)))
                .mappings()
                .all()
            )
            callbacks = (
                (
                    await conn.execute(
                        select(callback_requests).where(callback_requests.c.call_id == call_id)
                    )
                )
                .mappings()
                .all()
            )
        return CallDetail(
            dict(row)
            if row is not None
            else {c.name: None for c in calls.c} | {"call_id": call_id},
            [dict(e) for e in events],
            [dict(b) for b in booked],
            [dict(c) for c in callbacks],
        )

    async def events_since(self, call_id: str, after_id: int) -> list[dict[str, Any]]:
        stmt = (
            select(call_events)
            .where(call_events.c.call_id == call_id, call_events.c.id > after_id)
            .order_by(call_events.c.id)
            .limit(500)
        )
        async with self._db.transaction("read new call events") as conn:
            return [dict(e) for e in (await conn.execute(stmt)).mappings().all()]

    async def versions_in_use(self) -> list[int]:
        values = await self._distinct("profile_version", 1000)
        return sorted((int(v) for v in values), reverse=True)

    async def distinct_values(self, column: str) -> list[str]:
        return [str(v) for v in await self._distinct(column, 50)]

    async def _distinct(self, column: str, limit: int) -> list[Any]:
        """The first ``limit`` distinct non-null values of an indexed ``calls`` column, in
        order: a loose index scan (one index probe per value, not a scan of every call),
        which neither SQLite nor PostgreSQL does by itself for ``DISTINCT``."""
        name = calls.c[column].name  # a known column, or KeyError
        sql = text(
            f"WITH RECURSIVE v(x) AS ("
            f" SELECT min({name}) FROM calls"
            f" UNION ALL SELECT (SELECT min({name}) FROM calls WHERE {name} > v.x)"
            f" FROM v WHERE v.x IS NOT NULL)"
            f" SELECT x FROM v WHERE x IS NOT NULL LIMIT :limit"
        )
        async with self._db.transaction("list distinct values") as conn:
            return list((await conn.execute(sql, {"limit": limit})).scalars())


class WordIndexer:
    """Adds the words of new call events to ``call_words``."""

    NAME = "call_words"

    def __init__(self, db: Database, *, clock: Clock, batch: int = 2000) -> None:
        self._db = db
        self._clock = clock
        self._batch = batch

    async def catch_up(self, max_batches: int = 50) -> int:
        """Index what arrived since the last run; returns the events read."""
        total = 0
        for _ in range(max_batches):
            n = await self._one_batch()
            total += n
            if n < self._batch:
                break
        return total

    async def _one_batch(self) -> int:
        async with self._db.transaction("index call words") as conn:
            mark = await first_row(
                conn, select(search_progress).where(search_progress.c.name == self.NAME)
            )
            last = int(mark["last_event_id"]) if mark is not None else 0
            events = (
                (
                    await conn.execute(
                        select(
                            call_events.c.id,
                            call_events.c.call_id,
                            call_events.c.event_type,
                            call_events.c.content,
                        )
                        .where(call_events.c.id > last)
                        .order_by(call_events.c.id)
                        .limit(self._batch)
                    )
                )
                .mappings()
                .all()
            )
            if not events:
                return 0
            pairs: set[tuple[str, str]] = set()
            for e in events:
                if e["event_type"] in SEARCHED_EVENTS and e["content"]:
                    pairs.update((w, e["call_id"]) for w in words_of(e["content"]))
            if pairs:
                stmt = self._db.insert(call_words).on_conflict_do_nothing()
                await conn.execute(stmt, [{"word": w, "call_id": c} for w, c in sorted(pairs)])
            newest = int(events[-1]["id"])
            now = self._clock.now()
            if mark is None:
                upsert = self._db.insert(search_progress).values(
                    name=self.NAME, last_event_id=newest, updated_at=now
                )
                await conn.execute(
                    upsert.on_conflict_do_update(
                        index_elements=["name"],
                        set_={
                            "last_event_id": func.greatest(search_progress.c.last_event_id, newest)
                            if self._db.dialect == "postgresql"
                            else func.max(search_progress.c.last_event_id, newest),
                            "updated_at": now,
                        },
                    )
                )
            else:
                await conn.execute(
                    update(search_progress)
                    .where(
                        search_progress.c.name == self.NAME,
                        search_progress.c.last_event_id < newest,
                    )
                    .values(last_event_id=newest, updated_at=now)
                )
            return len(events)


def call_ids(rows: Sequence[dict[str, Any]]) -> list[str]:
    return [r["call_id"] for r in rows]
