"""How fast the console's transcript search is at 100,000 calls: exact words against word
beginnings (``book`` finding ``booking``), on PostgreSQL, first page and a later one.

It makes a throw-away database ``voiceops_bench_search_<hex>`` through the admin URL,
migrates it, fills ``calls`` and ``call_words`` with COPY (each call some 15 distinct words
of a 3,000-word vocabulary drawn with a long tail, plus booking words in a share of
calls), times :meth:`CallList.page` for each query (median of ``--repeat`` runs), and
drops the database.

    .venv/bin/python -m benchmarks.console_search [--calls 100000] [--repeat 15]
        [--admin postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import asyncpg  # type: ignore[import-untyped]

from voiceops.core.clock import PinnedClock
from voiceops.store.calllist import CallFilter, CallList
from voiceops.store.db import Database
from voiceops.store.migrate import upgrade

NOW = datetime(2030, 3, 4, 17, 0, tzinfo=UTC)
BOOKING_WORDS = ("book", "booking", "booked", "books", "bookings")
QUERIES = ("booking", "book", "boo", "haircut", "hair", "word17", "word1", "zzz")


def _vocabulary(rng: random.Random) -> list[str]:
    words = [f"word{n}" for n in range(3000)]
    words[:40] = ["haircut", "hair", "colour", "tomorrow", "friday", "please", "time", "trim"] * 5
    rng.shuffle(words)
    return words


async def fill(admin: str, dsn: str, calls: int, rng: random.Random) -> None:
    vocabulary = _vocabulary(rng)
    weights = [1 / (n + 1) for n in range(len(vocabulary))]
    conn = await asyncpg.connect(dsn)
    try:
        call_rows = []
        word_rows = []
        for n in range(calls):
            call_id = f"call_{n:07d}"
            at = NOW - timedelta(seconds=n * 77)
            call_rows.append((call_id, at, at, 0))
            words = set(rng.choices(vocabulary, weights, k=18))
            if n % 7 == 0:
                words.add(rng.choice(BOOKING_WORDS))
            word_rows.extend((w, call_id) for w in words)
        await conn.copy_records_to_table(
            "calls",
            records=call_rows,
            columns=["call_id", "created_at", "updated_at", "transcript_size"],
        )
        await conn.copy_records_to_table(
            "call_words", records=word_rows, columns=["word", "call_id"]
        )
        await conn.execute("ANALYZE")
        sys.stdout.write(f"{calls} calls, {len(word_rows)} call_words rows\n")
    finally:
        await conn.close()


async def measure(url: str, repeat: int) -> None:
    db = await Database.open(url)
    try:
        calls = CallList(db, clock=PinnedClock(NOW))
        for query in QUERIES:
            first, later, found = [], [], 0
            for _ in range(repeat):
                started = time.perf_counter()
                page = await calls.page(CallFilter(query=query), limit=50)
                first.append(time.perf_counter() - started)
                found = len(page.rows)
                if page.next_cursor is not None:
                    started = time.perf_counter()
                    await calls.page(CallFilter(query=query), limit=50, after=page.next_cursor)
                    later.append(time.perf_counter() - started)
            second = f"{statistics.median(later) * 1000:7.1f}" if later else "      -"
            sys.stdout.write(
                f"  {query!r:>10}: first page {statistics.median(first) * 1000:6.1f} ms, "
                f"next {second} ms ({found} rows on the first)\n"
            )
    finally:
        await db.close()


async def main(admin: str, calls: int, repeat: int) -> None:
    name = f"voiceops_bench_search_{secrets.token_hex(4)}"
    root = await asyncpg.connect(admin)
    try:
        await root.execute(f'CREATE DATABASE "{name}"')
    finally:
        await root.close()
    base = admin.rsplit("/", 1)[0]
    dsn = f"{base}/{name}"
    url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        await upgrade(url)
        started = time.perf_counter()
        await fill(admin, dsn, calls, random.Random(7))
        sys.stdout.write(f"filled in {time.perf_counter() - started:.0f} s\n")
        await measure(url, repeat)
    finally:
        root = await asyncpg.connect(admin)
        try:
            await root.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await root.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--admin", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    asyncio.run(main(args.admin, args.calls, args.repeat))
