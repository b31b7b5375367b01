"""What the Live page polls, on SQLite and PostgreSQL: the turns, opens and closes past a
cursor, the late ones a cursor alone would skip, a page that slept catching up in steps,
the ``calls`` rows of the calls that opened, and the shown calls a webhook ended."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from voiceops.core.clock import PinnedClock
from voiceops.store.db import Database
from voiceops.store.livefeed import BATCH, LATE, PER_CALL, LiveFeed
from voiceops.store.tables import call_events, calls

NOW = datetime(2030, 3, 4, 17, 0, tzinfo=UTC)
_ids = itertools.count(1)


async def event(
    db: Database,
    call_id: str,
    kind: str,
    at: datetime = NOW,
    content: str | None = None,
    **more: Any,
) -> int:
    async with db.transaction("test event") as conn:
        result = await conn.execute(
            call_events.insert().values(
                event_id=f"lf{next(_ids)}",
                call_id=call_id,
                event_type=kind,
                content=content,
                created_at=at,
                **more,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def feed(db: Database) -> LiveFeed:
    return LiveFeed(db, clock=PinnedClock(NOW))


async def test_changes_past_a_cursor(db: Database) -> None:
    old = NOW - LATE - timedelta(minutes=5)
    await event(db, "c_before", "call_connected", old)
    await event(db, "c_before", "user_turn", old, "already on the page")
    cursor = await feed(db).newest_event_id()
    assert cursor > 0
    said = await event(db, "c_before", "user_turn", content="<img src=x onerror=alert(1)>")
    await event(db, "c_before", "tool_call", content="not a turn")
    opened = await event(db, "c_new", "call_connected", payload={"profile_version": 4})
    async with db.transaction("row") as conn:
        await conn.execute(
            calls.insert().values(
                call_id="c_new",
                from_number="+12125550142",
                profile_version=4,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    answered = await event(db, "c_new", "turn_completed", content="Hello!", latency_ms=640)
    closed = await event(db, "c_before", "call_disconnected")

    got = await feed(db).changes(cursor, ["c_before"])
    assert [(e["id"], e["call_id"], e["event_type"]) for e in got.events] == [
        (said, "c_before", "user_turn"),
        (opened, "c_new", "call_connected"),
        (answered, "c_new", "turn_completed"),
        (closed, "c_before", "call_disconnected"),
    ]
    assert got.events[0]["content"] == "<img src=x onerror=alert(1)>"
    assert got.events[2]["latency_ms"] == 640
    assert got.cursor == closed and not got.more
    assert got.calls["c_new"]["from_number"] == "+12125550142"
    assert got.ended == []
    again = await feed(db).changes(got.cursor, ["c_new"])
    assert again.cursor == got.cursor
    # Written within LATE, so read again (the page drops what it has by id).
    assert [e["id"] for e in again.events] == [said, opened, answered, closed]


async def test_a_late_commit_below_the_cursor_is_still_read(db: Database) -> None:
    old = NOW - LATE - timedelta(seconds=1)
    await event(db, "c_a", "user_turn", old, "seen", id=100)
    # Took its id before the one above but committed after a page read past it.
    await event(db, "c_a", "user_turn", NOW - timedelta(seconds=2), "late words", id=50)
    await event(db, "c_a", "user_turn", old, "old and seen", id=40)
    got = await feed(db).changes(100, ["c_a"])
    assert [(e["id"], e["content"]) for e in got.events] == [(50, "late words")]
    assert got.cursor == 100


async def test_a_page_that_slept_catches_up_in_steps(db: Database) -> None:
    old = NOW - timedelta(hours=1)
    async with db.transaction("many") as conn:
        await conn.execute(
            call_events.insert(),
            [
                {
                    "event_id": f"many{n}",
                    "call_id": "c_long",
                    "event_type": "user_turn",
                    "content": f"line {n}",
                    "created_at": old,
                }
                for n in range(BATCH + 20)
            ],
        )
    first = await feed(db).changes(0, [])
    assert len(first.events) == BATCH and first.more
    rest = await feed(db).changes(first.cursor, [])
    assert len(rest.events) == 20 and not rest.more
    assert rest.events[-1]["content"] == f"line {BATCH + 19}"
    turns = await feed(db).transcripts(["c_long", "c_quiet"])
    assert len(turns["c_long"]) == PER_CALL and turns["c_quiet"] == []
    assert turns["c_long"][-1]["content"] == f"line {BATCH + 19}"


async def test_shown_calls_a_webhook_ended_are_named(db: Database) -> None:
    async with db.transaction("rows") as conn:
        for call_id, ended in (("c_on", None), ("c_done", NOW)):
            await conn.execute(
                calls.insert().values(
                    call_id=call_id, created_at=NOW, updated_at=NOW, ended_at=ended
                )
            )
    cursor = await feed(db).newest_event_id()
    got = await feed(db).changes(cursor, ["c_on", "c_done", "c_unknown"])
    assert got.ended == ["c_done"] and got.events == []
