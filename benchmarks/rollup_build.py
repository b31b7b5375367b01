"""The Insight rollup on a freshly seeded database (``benchmarks/seed.py``): how long the
first page view takes while the background builder has not built anything yet, how long
the builder takes to roll up the whole history, and the page time while calls are live.

    .venv/bin/python -m benchmarks.rollup_build --db sqlite+aiosqlite:///seed.db
    .venv/bin/python -m benchmarks.rollup_build --db postgresql+asyncpg://postgres@127.0.0.1/pages

It starts ``voiceops serve`` on a free loopback port against the database (whose rollup
must be empty: seed a new one), signs in as a viewer and asks for the latency page (30
days by day) at once; then it watches the rollup's backlog until it is empty. Then, for
``--live-s`` seconds, it writes ``--per-minute`` calls a minute (a call row and 12
events, stamped now, as the webhooks and the event writer would) and asks for the latency
page every ``--every-s`` seconds, each view finding the newest hours dirty; it prints the
median and the 95th percentile.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from benchmarks.pages import VOICEOPS, _sign_in, add_viewer
from benchmarks.procs import Child, free_port, wait_http
from voiceops.core.clock import SystemClock
from voiceops.store.db import Database
from voiceops.store.insight import InsightStore
from voiceops.store.tables import call_events, calls

PAGE = "/dashboard/insight/latency"
STILL = "still being computed"


async def _live_call(db: Database, n: int) -> None:
    now = SystemClock().now()
    call_id = f"bench-live-{n}-{int(now.timestamp())}"
    row = {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": "+12125550142",
        "to_number": "+12125550100",
        "started_at": now,
        "profile_version": 1,
        "created_at": now,
        "updated_at": now,
    }
    events = [
        {
            "event_id": f"{call_id}:{rid}",
            "call_id": call_id,
            "event_type": "turn_completed",
            "response_id": rid,
            "latency_ms": 400 + rid,
            "tokens_in": 900,
            "tokens_out": 60,
            "payload": {},
            "created_at": now,
        }
        for rid in range(12)
    ]
    async with db.transaction("a live call") as conn:
        await conn.execute(insert(calls), [row])
        await conn.execute(insert(call_events), events)


async def _measure(base: str, db: Database, args: argparse.Namespace) -> dict[str, Any]:
    store = InsightStore(db, clock=SystemClock())
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        await _sign_in(client)
        started = time.perf_counter()
        first = await client.get(PAGE)
        first_ms = (time.perf_counter() - started) * 1000
        while True:
            backlog = await store.backlog()
            if backlog.idle:
                break
            await asyncio.sleep(0.5)
        built_s = time.perf_counter() - started
        after = await client.get(PAGE)
        times: list[float] = []
        written = 0
        live_start = time.perf_counter()
        while time.perf_counter() - live_start < args.live_s:
            due = int((time.perf_counter() - live_start) / 60 * args.per_minute) + 1
            while written < due:
                await _live_call(db, written)
                written += 1
            t = time.perf_counter()
            assert (await client.get(PAGE)).status_code == 200
            times.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(args.every_s)
    times.sort()
    return {
        "first_view_ms": first_ms,
        "first_view_says_still_computing": STILL in first.text,
        "background_build_s": built_s,
        "after_build_says_still_computing": STILL in after.text,
        "live_calls": written,
        "live_views": len(times),
        "live_median_ms": statistics.median(times),
        "live_p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ) | {
        "VOICEOPS_DATABASE_URL": args.db,
        "VOICEOPS_BRAIN": "flow",
        "VOICEOPS_SESSION_SECRET": "b" * 64,
        "VOICEOPS_LOG_LEVEL": "warning",
    }
    await add_viewer(env)
    db = await Database.open(args.db)
    port = free_port()
    try:
        with tempfile.TemporaryDirectory() as logs:
            server = await Child.start(
                "server", [VOICEOPS, "serve", "--port", str(port)], env=env, log_dir=Path(logs)
            )
            try:
                base = f"http://127.0.0.1:{port}"
                await wait_http(server, f"{base}/healthz", 60)
                return await _measure(base, db, args)
            finally:
                await server.stop()
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the Insight rollup's build.")
    parser.add_argument("--db", required=True)
    parser.add_argument("--live-s", type=float, default=120)
    parser.add_argument("--per-minute", type=float, default=4)
    parser.add_argument("--every-s", type=float, default=2)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    for key, value in result.items():
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        sys.stdout.write(f"{key}: {shown}\n")


if __name__ == "__main__":
    main()
