"""The Insight rollup's backlog: a page view recomputes at most a few of the newest queued
hours and leaves history (a first build, an import, a purge) to the background builder,
which works newest first in chunks; purged calls stop counting. On SQLite and PostgreSQL,
on a manual clock."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from tests.store.tcpproxy import TcpProxy
from voiceops.core.clock import ManualClock
from voiceops.insight import rollup
from voiceops.insight.builder import CHUNK_HOURS, PAGE_HOURS, RollupBuilder
from voiceops.insight.series import Window
from voiceops.store.db import Database, LockBusy
from voiceops.store.insight import Backlog, InsightStore, hour_of
from voiceops.store.retention import purge
from voiceops.store.rollup_tables import insight_days, insight_hours, insight_marks
from voiceops.store.tables import call_events, calls
from voiceops.web.dashboard.insight import pending_note

BASE = datetime(2026, 3, 9, tzinfo=UTC)
FIRST = hour_of(BASE)
NOW = BASE + timedelta(days=3)
UTC_ZONE = ZoneInfo("UTC")
FILLS = "are still being computed; this page fills in as they are."


def _calls(first: int, count: int, *, step: timedelta = timedelta(hours=1)) -> list[Any]:
    return [
        {
            "call_id": f"c{first + i}",
            "call_type": "phone_call",
            "direction": "inbound",
            "from_number": "+12125550142",
            "to_number": "+12125550100",
            "started_at": BASE + step * (first + i) + timedelta(minutes=10),
            "duration_ms": 60_000,
            "profile_version": 1,
            "created_at": BASE + step * (first + i) + timedelta(minutes=10),
            "updated_at": BASE + step * (first + i) + timedelta(minutes=12),
        }
        for i in range(count)
    ]


def _turns(rows: list[Any]) -> list[Any]:
    return [
        {
            "event_id": f"{row['call_id']}:{rid}",
            "call_id": row["call_id"],
            "event_type": "turn_completed",
            "response_id": rid,
            "latency_ms": 300 + rid,
            "tokens_in": 10,
            "tokens_out": 5,
            "payload": {},
            "created_at": row["created_at"],
        }
        for row in rows
        for rid in (1, 2)
    ]


async def _add(db: Database, rows: list[Any]) -> None:
    async with db.transaction("seed") as conn:
        await conn.execute(insert(calls), rows)
        await conn.execute(insert(call_events), _turns(rows))


async def _hours(db: Database) -> set[int]:
    async with db.transaction("read") as conn:
        return set((await conn.execute(select(insight_hours.c.hour).distinct())).scalars())


async def _snapshot(db: Database) -> tuple[list[Any], list[Any]]:
    async with db.transaction("read") as conn:
        hours = (await conn.execute(select(insight_hours).order_by(*insight_hours.c))).all()
        days = (await conn.execute(select(insight_days).order_by(*insight_days.c))).all()
    return [tuple(r) for r in hours], [tuple(r) for r in days]


async def _from_scratch(db: Database, clock: ManualClock) -> tuple[list[Any], list[Any]]:
    """The rollup rebuilt whole from the source tables (the day rollup of shift 0 too)."""
    async with db.transaction("forget") as conn:
        await conn.execute(insight_hours.delete())
        await conn.execute(insight_days.delete())
        await conn.execute(insight_marks.delete())
    store = InsightStore(db, clock=clock)
    await store.refresh(rollup.compute)
    await _calls_per_day(store)
    return await _snapshot(db)


async def _calls_per_day(store: InsightStore) -> dict[int, int]:
    """Calls per UTC day, read from the day rollup (built for shift 0 on first read)."""
    rows = await store.read(
        ["calls"],
        first_hour=FIRST - 24 * 60,
        end_hour=FIRST + 24 * 10,
        bucket_hours=24,
        shift_hours=0,
        day_shift=0,
    )
    return {r.bucket: r.n for r in rows}


def _window() -> Window:
    return Window.of(date(2026, 3, 1), date(2026, 3, 11), "hour", UTC_ZONE)


async def _page_view(store: InsightStore, scan_limit: int = 2_000) -> int:
    return await store.refresh(rollup.compute, max_hours=PAGE_HOURS, scan_limit=scan_limit)


async def test_a_page_view_leaves_history_to_the_builder_which_fills_in_newest_first(
    db: Database,
) -> None:
    clock = ManualClock(NOW)
    await _add(db, _calls(0, 30))
    store = InsightStore(db, clock=clock)
    # Never built: the page view does nothing, and says so.
    assert await _page_view(store) == 0
    backlog = await store.backlog()
    assert backlog == Backlog(changed=True, hours=0, newest=None)
    assert pending_note(backlog, _window()) == f"The latest figures {FILLS}"
    assert await _hours(db) == set()

    builder = RollupBuilder(store, clock=clock)
    assert await builder.build_once()  # every hour queued, the newest chunk done
    assert await _hours(db) == set(range(FIRST + 30 - CHUNK_HOURS, FIRST + 30))
    backlog = await store.backlog()
    assert backlog == Backlog(changed=False, hours=30 - CHUNK_HOURS, newest=FIRST + 17)
    # A page view recomputes the newest few queued hours, no more.
    assert await _page_view(store) == PAGE_HOURS
    backlog = await store.backlog()
    assert backlog.newest == FIRST + 17 - PAGE_HOURS
    assert pending_note(backlog, _window()) == f"Figures before 9 Mar {18 - PAGE_HOURS}:00 {FILLS}"

    assert await builder.build_all() == -(-(30 - CHUNK_HOURS - PAGE_HOURS) // CHUNK_HOURS)
    assert (await store.backlog()).idle
    assert pending_note(await store.backlog(), _window()) is None
    assert await _hours(db) == set(range(FIRST, FIRST + 30))
    assert await _calls_per_day(store) == {FIRST // 24: 24, FIRST // 24 + 1: 6}
    built = await _snapshot(db)
    assert built == await _from_scratch(db, clock)


async def test_live_calls_are_rolled_up_by_the_page_view_and_an_import_is_not(
    db: Database,
) -> None:
    clock = ManualClock(NOW)
    await _add(db, _calls(0, 10))
    store = InsightStore(db, clock=clock)
    await RollupBuilder(store, clock=clock).build_all()
    # A live call in the newest hour: the page view finds it and recomputes its hour
    # alone (older events just below the mark, made long before it moved, are not looked
    # at again).
    live = _calls(9, 1)
    live[0] |= {"call_id": "live", "updated_at": NOW}
    await _add(db, live)
    assert await _page_view(store) == 1
    assert (await store.backlog()).idle
    newest = await store.read(
        ["calls"], first_hour=FIRST + 9, end_hour=FIRST + 10, bucket_hours=1, shift_hours=0
    )
    assert [r.n for r in newest] == [2]
    assert await _calls_per_day(store) == {FIRST // 24: 11}
    # An import of more rows than a page view looks at is left to the builder.
    await _add(db, _calls(100, 12, step=timedelta(minutes=1)))
    assert await _page_view(store, scan_limit=10) == 0
    assert (await store.backlog()).changed
    assert await _calls_per_day(store) == {FIRST // 24: 11}
    await RollupBuilder(store, clock=clock).build_all()
    assert await _calls_per_day(store) == {FIRST // 24: 23}
    assert await _snapshot(db) == await _from_scratch(db, clock)


async def test_purged_calls_stop_counting(db: Database) -> None:
    clock = ManualClock(BASE + timedelta(days=31, hours=12))
    # Two calls a day for four days, from 9 March.
    await _add(db, _calls(0, 8, step=timedelta(hours=12)))
    store = InsightStore(db, clock=clock)
    await store.refresh(rollup.compute)
    day = FIRST // 24
    assert await _calls_per_day(store) == {day: 2, day + 1: 2, day + 2: 2, day + 3: 2}
    # Keep 30 days: what was made before 10 March 12:00 goes (the calls at 9 March 00:10,
    # 12:10 and 10 March 00:10).
    counts = await purge(db, timedelta(days=30), clock=clock)
    assert counts["calls"] == 3
    backlog = await store.backlog()
    assert not backlog.changed
    assert backlog.hours == 3
    assert await store.refresh(rollup.compute) == 3
    assert await _calls_per_day(store) == {day + 1: 1, day + 2: 2, day + 3: 2}
    assert await _hours(db) == {FIRST + 36, FIRST + 48, FIRST + 60, FIRST + 72, FIRST + 84}
    assert await _snapshot(db) == await _from_scratch(db, clock)


async def test_the_background_builder_runs_on_the_clock_until_stopped(db: Database) -> None:
    clock = ManualClock(NOW)
    await _add(db, _calls(0, 30))
    builder = RollupBuilder(InsightStore(db, clock=clock), clock=clock)
    builder.start()
    try:
        outcomes = []
        for _ in range(10):
            await asyncio.wait_for(builder.ticked.wait(), 30)
            builder.ticked.clear()
            outcomes.append(builder.last)
            if builder.last == "idle":
                break
            await clock.advance(0.05)
        assert outcomes == ["busy", "busy", "idle"]
        assert await _hours(db) == set(range(FIRST, FIRST + 30))
    finally:
        await builder.stop()
    await builder.stop()  # stopping twice is harmless


async def test_two_instances_build_one_at_a_time(db: Database) -> None:
    clock = ManualClock(NOW)
    await _add(db, _calls(0, 60, step=timedelta(minutes=30)))
    other = await Database.open(db.engine.url.render_as_string(hide_password=False))
    try:
        builders = [RollupBuilder(InsightStore(d, clock=clock), clock=clock) for d in (db, other)]
        await asyncio.gather(*(b.build_all() for b in builders))
    finally:
        await other.close()
    hours, _ = await _snapshot(db)
    assert {r[1] for r in hours} == set(range(FIRST, FIRST + 30))
    assert hours == (await _from_scratch(db, clock))[0]


@pytest.mark.postgres
async def test_the_builder_survives_the_database_going_away(
    proxied: tuple[Database, TcpProxy], caplog: pytest.LogCaptureFixture
) -> None:
    db, proxy = proxied
    clock = ManualClock(NOW)
    await _add(db, _calls(0, 5))
    builder = RollupBuilder(InsightStore(db, clock=clock), clock=clock)
    proxy.down()
    builder.start()
    try:
        with caplog.at_level(logging.WARNING, logger="voiceops.insight"):
            await asyncio.wait_for(builder.ticked.wait(), 30)
        assert builder.last == "failed"
        assert "insight rollup not brought up to date, will retry" in caplog.text
        builder.ticked.clear()
        proxy.up()
        await clock.advance(30)
        await asyncio.wait_for(builder.ticked.wait(), 30)
        assert builder.last == "idle"
    finally:
        await builder.stop()
    assert await _hours(db) == set(range(FIRST, FIRST + 5))


def test_the_note_names_the_first_local_hour_that_is_up_to_date() -> None:
    window = Window.of(date(2026, 3, 1), date(2026, 3, 11), "day", ZoneInfo("America/New_York"))
    midnight_ny = hour_of(datetime(2026, 3, 9, 4, tzinfo=UTC))  # 9 March 00:00 in New York
    assert pending_note(Backlog(False, 3, midnight_ny - 1), window) == (
        f"Figures before 9 Mar {FILLS}"
    )
    new_year = Window.of(date(2026, 12, 20), date(2027, 1, 2), "day", UTC_ZONE)
    late = hour_of(datetime(2026, 12, 31, 22, tzinfo=UTC))
    assert pending_note(Backlog(False, 1, late), new_year) == (
        f"Figures before 31 Dec 2026 23:00 {FILLS}"
    )
    # Hours queued before the range do not concern it.
    assert pending_note(Backlog(False, 3, window.first_hour - 1), window) is None
    assert pending_note(Backlog(False, 0, None), window) is None


async def test_a_page_view_does_not_wait_for_a_refresh_under_way(db: Database) -> None:
    clock = ManualClock(NOW)
    await _add(db, _calls(0, 3))
    store = InsightStore(db, clock=clock)
    await RollupBuilder(store, clock=clock).build_all()
    await _add(db, _calls(5, 1))
    async with db.serialized("hold the rollup's lock", "insight_rollup"):
        with pytest.raises(LockBusy):
            await asyncio.wait_for(
                store.refresh(rollup.compute, max_hours=PAGE_HOURS, wait=False), timeout=3
            )
    # Once the other refresh is done, the same call does the work.
    assert await store.refresh(rollup.compute, max_hours=PAGE_HOURS, wait=False) > 0
    assert (await store.backlog()).idle
