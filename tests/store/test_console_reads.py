"""The console's reads and the purge of what the console keeps, on SQLite and PostgreSQL:
word-beginning search, live calls from what the sockets record, and purging the search
words, the audit log and expired sessions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from voiceops.core.clock import PinnedClock
from voiceops.store.audit import AuditLog
from voiceops.store.calllist import LIVE_WINDOW, CallFilter, CallList
from voiceops.store.db import Database
from voiceops.store.retention import purge
from voiceops.store.tables import call_events, call_words, calls, console_sessions
from voiceops.store.users import SessionRepo, UserRepo

NOW = datetime(2030, 3, 4, 17, 0, tzinfo=UTC)
_ids = itertools.count(1)


async def add_call(db: Database, call_id: str, at: datetime, **columns: Any) -> None:
    async with db.transaction("test call") as conn:
        await conn.execute(
            calls.insert().values(call_id=call_id, created_at=at, updated_at=at, **columns)
        )


async def add_event(
    db: Database, call_id: str, kind: str, at: datetime, content: str | None = None
) -> None:
    async with db.transaction("test event") as conn:
        await conn.execute(
            call_events.insert().values(
                event_id=f"ev{next(_ids)}",
                call_id=call_id,
                event_type=kind,
                content=content,
                payload={"profile_version": 4} if kind == "call_connected" else None,
                created_at=at,
            )
        )


async def found(db: Database, query: str) -> list[str]:
    page = await CallList(db, clock=PinnedClock(NOW)).page(CallFilter(query=query))
    return sorted(r["call_id"] for r in page.rows)


async def test_search_finds_the_words_a_query_word_begins(db: Database) -> None:
    lines = {
        "c_booking": "I'd like to make a booking for Friday",
        "c_book": "can you book me in",
        "c_books": "do you sell books about hair",
        "c_boost": "a color boost please",
        "c_other": "what time do you open",
    }
    for n, (call_id, said) in enumerate(lines.items()):
        await add_call(db, call_id, NOW - timedelta(minutes=n))
        await add_event(db, call_id, "user_turn", NOW - timedelta(minutes=n), said)
    await CallList(db, clock=PinnedClock(NOW)).indexer.catch_up()
    assert await found(db, "book") == ["c_book", "c_booking", "c_books"]
    assert await found(db, "Booking") == ["c_booking"]
    assert await found(db, "boo") == ["c_book", "c_booking", "c_books", "c_boost"]
    assert await found(db, "bo") == []  # two letters match whole words only
    assert await found(db, "book fri") == ["c_booking"]  # every word, each a beginning
    assert await found(db, "bookings") == []
    assert await found(db, "hai") == ["c_books"]


async def test_live_calls_come_from_the_sockets_records(db: Database) -> None:
    at = NOW - timedelta(minutes=5)
    # A call with no calls row at all (no webhook, no call_details yet).
    await add_event(db, "c_socket_only", "call_connected", at)
    # A call with a row, connected.
    await add_call(db, "c_row", at, from_number="+12125550142", profile_version=3)
    await add_event(db, "c_row", "call_connected", at)
    # Ended: disconnected.
    await add_event(db, "c_gone", "call_connected", at)
    await add_event(db, "c_gone", "call_disconnected", at)
    # Re-dialled to another instance: disconnected there, resumed here.
    await add_event(db, "c_moved", "call_connected", at)
    await add_event(db, "c_moved", "call_disconnected", at)
    await add_event(db, "c_moved", "call_resumed", at)
    # A webhook says it ended, though no disconnect was recorded.
    await add_call(db, "c_ended", at, ended_at=at)
    await add_event(db, "c_ended", "call_connected", at)
    # A process died holding it, long ago.
    await add_event(db, "c_stale", "call_connected", NOW - LIVE_WINDOW - timedelta(minutes=1))

    rows = await CallList(db, clock=PinnedClock(NOW)).live()
    by_id = {r["call_id"]: r for r in rows}
    assert sorted(by_id) == ["c_moved", "c_row", "c_socket_only"]
    assert by_id["c_socket_only"]["profile_version"] == 4
    assert by_id["c_socket_only"]["from_number"] is None
    assert by_id["c_row"]["from_number"] == "+12125550142"
    assert by_id["c_row"]["profile_version"] == 3
    detail = await CallList(db, clock=PinnedClock(NOW)).detail("c_socket_only")
    assert detail is not None and detail.call["call_id"] == "c_socket_only"
    assert [e["event_type"] for e in detail.events] == ["call_connected"]
    assert await CallList(db, clock=PinnedClock(NOW)).detail("c_nothing") is None


async def count(db: Database, table: Any, *where: Any) -> int:
    async with db.transaction("count") as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


async def test_purge_clears_search_words_audit_entries_and_expired_sessions(db: Database) -> None:
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=1)
    await add_call(db, "c_old", old)
    await add_event(db, "c_old", "user_turn", old, "haircut please")
    await add_event(db, "c_events_only", "user_turn", old, "haircut tomorrow")
    await add_call(db, "c_new", recent)
    await add_event(db, "c_new", "user_turn", recent, "haircut today")
    # A call whose row is old but which still has new events keeps its words.
    await add_call(db, "c_spanning", old)
    await add_event(db, "c_spanning", "user_turn", recent, "haircut later")
    await CallList(db, clock=PinnedClock(NOW)).indexer.catch_up()
    assert await found(db, "haircut") == ["c_new", "c_old", "c_spanning"]

    await AuditLog(db, clock=PinnedClock(old)).record("a@b.c", "publish", "v1")
    await AuditLog(db, clock=PinnedClock(recent)).record("a@b.c", "publish", "v2")
    user = await UserRepo(db, clock=PinnedClock(old)).add("a@b.c", "admin", "x")
    # (Signing in clears the sessions expired by then, so the current one comes first.)
    await SessionRepo(db, clock=PinnedClock(NOW), lifetime=timedelta(hours=12)).create(user, None)
    await SessionRepo(db, clock=PinnedClock(old), lifetime=timedelta(hours=12)).create(user, None)
    assert await count(db, console_sessions) == 2

    counts = await purge(db, timedelta(days=30), clock=PinnedClock(NOW))
    assert counts["call_words"] == 4  # c_old: haircut, please; c_events_only: haircut, tomorrow
    async with db.transaction("words") as conn:
        left = sorted((await conn.execute(select(call_words.c.call_id).distinct())).scalars())
    assert left == ["c_new", "c_spanning"]
    assert counts["audit_log"] == 1 and counts["console_sessions"] == 1
    assert await count(db, console_sessions) == 1
