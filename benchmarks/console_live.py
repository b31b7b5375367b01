"""What the Live page's poll costs with 100,000 calls in the tables, on SQLite and
PostgreSQL: :meth:`LiveFeed.changes` idle (nothing new) and with 50 new events for 20
shown calls, and the page itself (the newest event id, :meth:`CallList.live`, the
transcripts of the live calls). Median of ``--repeat`` runs.

It fills a throw-away database of each kind (a SQLite file in a temporary directory; a
PostgreSQL database ``voiceops_bench_live_<hex>`` through the admin URL, dropped after)
with ``--calls`` calls of 10 events each over 90 days, the newest 20 still connected and
talking at once.

    .venv/bin/python -m benchmarks.console_live [--calls 100000] [--repeat 50]
        [--admin postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from voiceops.core.clock import PinnedClock
from voiceops.store.calllist import CallList
from voiceops.store.db import Database
from voiceops.store.livefeed import LiveFeed, late_events, newer_events, transcript_events
from voiceops.store.migrate import upgrade
from voiceops.store.tables import call_events, calls

NOW = datetime(2030, 3, 4, 17, 0, tzinfo=UTC)
LIVE = 20
KINDS = ["call_connected"] + ["user_turn", "turn_completed"] * 4 + ["call_disconnected"]


def _rows(n: int, total: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    call_id = f"call_{n:07d}"
    live = n >= total - LIVE
    # The live calls talk at once: their events fill the last two minutes (so the poll's
    # read of the last 30 s has some 100 events to read); the others came one by one.
    ago = (total - n) * 6 + 54 if live else (total - n) * 77 + 180
    start = NOW - timedelta(seconds=ago)
    call = {"call_id": call_id, "created_at": start, "updated_at": start, "profile_version": 1}
    kinds = KINDS[:-1] if live else KINDS
    events = [
        {
            "event_id": f"{call_id}_{k}",
            "call_id": call_id,
            "event_type": kind,
            "turn_index": k,
            "content": f"words of turn {k} of call {n}" if "turn" in kind else None,
            "created_at": start + timedelta(seconds=6 * k),
        }
        for k, kind in enumerate(kinds)
    ]
    return call, events


async def fill(db: Database, total: int) -> None:
    chunk = 5000
    for first in range(0, total, chunk):
        made = [_rows(n, total) for n in range(first, min(first + chunk, total))]
        async with db.transaction("bench fill") as conn:
            await conn.execute(calls.insert(), [c for c, _ in made])
            await conn.execute(call_events.insert(), [e for _, es in made for e in es])
    async with db.transaction("bench analyze") as conn:
        await conn.exec_driver_sql("ANALYZE")


async def timed(repeat: int, what: Callable[[], Awaitable[object]]) -> float:
    spent = []
    for _ in range(repeat):
        started = time.perf_counter()
        await what()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent) * 1000


async def explain(db: Database, newest: int, shown: list[str]) -> None:
    """The plans of the poll's event reads, to check that indexes drive them."""
    prefix = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "
    reads = (newer_events(newest - 50), late_events(newest, NOW), transcript_events(shown))
    async with db.transaction("bench explain") as conn:
        for stmt in reads:
            sql = str(stmt.compile(conn.engine, compile_kwargs={"literal_binds": True}))
            for row in (await conn.exec_driver_sql(prefix + sql)).all():
                sys.stdout.write(f"    {row[-1]}\n")
            sys.stdout.write("\n")


async def measure(url: str, total: int, repeat: int, name: str) -> None:
    db = await Database.open(url)
    try:
        started = time.perf_counter()
        await fill(db, total)
        filled = time.perf_counter() - started
        clock = PinnedClock(NOW)
        feed, listing = LiveFeed(db, clock=clock), CallList(db, clock=clock)
        newest = await feed.newest_event_id()
        shown = [f"call_{n:07d}" for n in range(total - LIVE, total)]

        async def page() -> None:
            await feed.newest_event_id()
            rows = await listing.live(limit=100)
            await feed.transcripts([r["call_id"] for r in rows])

        await explain(db, newest, shown)
        idle = await timed(repeat, lambda: feed.changes(newest, shown))
        busy = await timed(repeat, lambda: feed.changes(newest - 50, shown))
        render = await timed(repeat, page)
        live = len(await listing.live(limit=100))
        sys.stdout.write(
            f"{name}: {total} calls, {newest} events (filled in {filled:.0f} s), {live} live; "
            f"poll idle {idle:.1f} ms, poll with 50 new events {busy:.1f} ms, "
            f"page reads {render:.1f} ms\n"
        )
    finally:
        await db.close()


async def main(admin: str, total: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as where:
        url = f"sqlite+aiosqlite:///{Path(where) / 'bench.db'}"
        await upgrade(url)
        await measure(url, total, repeat, "SQLite")
    name = f"voiceops_bench_live_{secrets.token_hex(4)}"
    root = await asyncpg.connect(admin)
    try:
        await root.execute(f'CREATE DATABASE "{name}"')
    finally:
        await root.close()
    url = f"{admin.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        await upgrade(url)
        await measure(url, total, repeat, "PostgreSQL")
    finally:
        root = await asyncpg.connect(admin)
        try:
            await root.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await root.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--admin", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    asyncio.run(main(args.admin, args.calls, args.repeat))
