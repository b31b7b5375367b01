"""What the Live page needs beyond :meth:`CallList.live`: each live call's transcript, and
what changed since a cursor (the newest ``call_events.id`` a page has seen), so a page
open for hours follows calls without a reload.

Every read is by index: :meth:`LiveFeed.changes` reads ``call_events`` past the cursor on
the primary key (at most :data:`BATCH` rows, so a page that slept catches up in steps),
plus the events written in the last :data:`LATE` by ``created_at`` (on PostgreSQL a
transaction that took its id before a newer one may commit after it: a cursor alone would
skip it; the page drops what it has already seen by id), and the ``calls`` rows of the
calls it names by primary key. It never reads all of ``call_events`` or ``calls``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from voiceops.core.clock import Clock
from voiceops.store.db import Database
from voiceops.store.tables import call_events, calls

TURNS = ("user_turn", "turn_completed", "filler", "operator_said")
"""The events a live transcript shows: the caller, the agent, its fillers, an operator."""
OPENS = ("call_connected", "call_resumed")
CLOSES = ("call_disconnected", "webhook_call_ended")
_KINDS = (*TURNS, *OPENS, *CLOSES)
BATCH = 500
LATE = timedelta(seconds=30)
PER_CALL = 200
"""The newest turns of a call the page shows when it renders (its call page has all)."""
_READ = [
    call_events.c.id,
    call_events.c.call_id,
    call_events.c.event_type,
    call_events.c.content,
    call_events.c.latency_ms,
    call_events.c.payload,
    call_events.c.created_at,
]


@dataclass(slots=True)
class LiveChanges:
    cursor: int
    """The newest event id read: the next poll's ``after``."""
    events: list[dict[str, Any]]
    """Turns, opens and closes past the cursor (and late ones), oldest first."""
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The ``calls`` rows of the calls opened in ``events`` (where there is one)."""
    ended: list[str] = field(default_factory=list)
    """Of the calls the page shows, those a webhook says ended."""
    more: bool = False
    """More events wait past ``cursor``: poll again at once."""


def newer_events(after: int) -> Select[Any]:
    """The turns, opens and closes past the cursor (on the primary key)."""
    return (
        select(*_READ)
        .where(call_events.c.id > after, call_events.c.event_type.in_(_KINDS))
        .order_by(call_events.c.id)
        .limit(BATCH + 1)
    )


def late_events(after: int, now: datetime) -> Select[Any]:
    """Those written in the last :data:`LATE` at or below the cursor. ``id + 0``: the
    ``created_at`` index must drive this read; by the primary key it would be every event
    below the cursor."""
    return (
        select(*_READ)
        .where(
            call_events.c.created_at >= now - LATE,
            call_events.c.id + 0 <= after,
            call_events.c.event_type.in_(_KINDS),
        )
        .order_by(call_events.c.created_at)
        .limit(BATCH)
    )


def transcript_events(call_ids: list[str]) -> Select[Any]:
    """The turns of these calls (on the ``(call_id, turn_index)`` index; sorted by id in
    Python, so the primary key does not drive the read)."""
    return select(*_READ).where(
        call_events.c.call_id.in_(call_ids), call_events.c.event_type.in_(TURNS)
    )


class LiveFeed:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def newest_event_id(self) -> int:
        """The cursor of a page rendered now (read it before the page's rows)."""
        async with self._db.transaction("read newest call event") as conn:
            value = (await conn.execute(select(func.max(call_events.c.id)))).scalar()
        return int(value or 0)

    async def transcripts(self, call_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The newest :data:`PER_CALL` turns of each call, oldest first (on the
        ``(call_id, turn_index)`` index)."""
        found: dict[str, list[dict[str, Any]]] = {c: [] for c in call_ids}
        if not call_ids:
            return found
        stmt = transcript_events(call_ids)
        async with self._db.transaction("read live transcripts") as conn:
            for e in (await conn.execute(stmt)).mappings():
                found[e["call_id"]].append(dict(e))
        return {c: sorted(t, key=lambda e: int(e["id"]))[-PER_CALL:] for c, t in found.items()}

    async def changes(self, after: int, shown: list[str]) -> LiveChanges:
        """What happened since ``after``; ``shown`` are the calls the page lists (at most
        100 are looked at)."""
        newer, late = newer_events(after), late_events(after, self._clock.now())
        shown = shown[:100]
        async with self._db.transaction("read live changes") as conn:
            read = [dict(e) for e in (await conn.execute(newer)).mappings()]
            more = len(read) > BATCH
            read = read[:BATCH]
            cursor = int(read[-1]["id"]) if read else after
            if more:
                late_rows: list[dict[str, Any]] = []
            else:
                late_rows = [dict(e) for e in (await conn.execute(late)).mappings()]
            events = sorted(late_rows + read, key=lambda e: int(e["id"]))
            opened = sorted({e["call_id"] for e in events if e["event_type"] in OPENS})
            wanted = sorted(set(opened) | set(shown))
            rows: dict[str, dict[str, Any]] = {}
            if wanted:
                stmt = select(
                    calls.c.call_id,
                    calls.c.from_number,
                    calls.c.profile_version,
                    calls.c.created_at,
                    calls.c.ended_at,
                    calls.c.call_metadata,
                ).where(calls.c.call_id.in_(wanted))
                rows = {r["call_id"]: dict(r) for r in (await conn.execute(stmt)).mappings()}
        ended = [c for c in shown if c in rows and rows[c]["ended_at"] is not None]
        return LiveChanges(
            cursor=cursor,
            events=events,
            calls={c: rows[c] for c in opened if c in rows},
            ended=ended,
            more=more,
        )
