"""Time the console's pages on a seeded database (``benchmarks/seed.py``): the Insight pages
and the existing ones (calls list, a deep page, a filtered list, a word search, one call,
the live page), signed in, as a browser asks for them.

    .venv/bin/python -m benchmarks.pages --db sqlite+aiosqlite:///seed.db
    .venv/bin/python -m benchmarks.pages --db postgresql+asyncpg://postgres@127.0.0.1/pages

It starts ``voiceops serve`` on a free loopback port against the database, adds a viewer,
waits until the word index and the Insight rollup have caught up with the seeded rows
(their one-off catch-up after an import or an upgrade is timed and reported apart), then
asks for every page ``--requests`` times one after another and prints the median and the
95th percentile in ms as a Markdown table (``--json`` writes the figures too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import func, select

from benchmarks.procs import Child, free_port, wait_http
from voiceops.store.db import Database
from voiceops.store.tables import call_events, calls, search_progress

EMAIL, PASSWORD = "bench@pages.test", "bench pages password"
VOICEOPS = str(Path(sys.executable).with_name("voiceops"))


async def _pages(db_url: str) -> list[tuple[str, str]]:
    """(name, path) of every timed page; the deep page and the call come from the data."""
    db = await Database.open(db_url)
    try:
        async with db.transaction("pick pages") as conn:
            newest = await conn.scalar(select(func.max(calls.c.created_at)))
            assert newest is not None, "seed the database first (benchmarks/seed.py)"
            deep = (
                await conn.execute(
                    select(calls.c.created_at, calls.c.call_id)
                    .order_by(calls.c.created_at.desc(), calls.c.call_id)
                    .offset(60_000)
                    .limit(1)
                )
            ).one()
            middle = await conn.scalar(
                select(calls.c.call_id).order_by(calls.c.call_id).offset(50_000).limit(1)
            )
    finally:
        await db.close()
    cursor = quote(f"{deep[0].isoformat()}|{deep[1]}")
    today = newest.date()
    last30 = f"since={today - timedelta(days=29)}&until={today}"
    since90, since7 = today - timedelta(days=89), today - timedelta(days=6)
    pages = [
        ("calls: first page", "/dashboard/calls"),
        ("calls: page 1,200 (keyset)", f"/dashboard/calls?after={cursor}"),
        (
            "calls: filtered (v2, booked, a filler)",
            "/dashboard/calls?version=2&outcome=booked&filler=1",
        ),
        ("calls: word search", "/dashboard/calls?q=haircut+saturday"),
        ("one call", f"/dashboard/calls/{middle}"),
        ("live", "/dashboard/live"),
    ]
    for name in ("latency", "calls", "escalations", "cost", "quality"):
        pages.append((f"insight {name}: 30 days by day", f"/dashboard/insight/{name}?{last30}"))
    for name in ("latency", "calls", "escalations", "cost", "quality"):
        pages.append(
            (
                f"insight {name}: 90 days by week, split",
                f"/dashboard/insight/{name}?since={since90}&until={today}&g=week&split=1",
            )
        )
    pages.append(
        (
            "insight latency: 7 days by hour",
            f"/dashboard/insight/latency?since={since7}&until={today}&g=hour",
        )
    )
    return pages


async def _caught_up(db_url: str) -> bool:
    db = await Database.open(db_url)
    try:
        async with db.transaction("progress") as conn:
            top = await conn.scalar(select(func.max(call_events.c.id)))
            mark = await conn.scalar(
                select(search_progress.c.last_event_id).where(
                    search_progress.c.name == "call_words"
                )
            )
    finally:
        await db.close()
    return top is None or (mark is not None and mark >= top)


async def add_viewer(env: dict[str, str]) -> None:
    """The benchmark's viewer account, made with ``voiceops users add`` as an operator would."""
    adding = await asyncio.create_subprocess_exec(
        VOICEOPS,
        "users",
        "add",
        EMAIL,
        "--role",
        "viewer",
        "--password-stdin",
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await adding.communicate(PASSWORD.encode())


async def _sign_in(client: httpx.AsyncClient) -> None:
    page = await client.get("/dashboard/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no sign-in form"
    done = await client.post(
        "/dashboard/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert done.status_code == 303, done.text[:300]


async def _time(client: httpx.AsyncClient, path: str, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = await client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, f"{path}: {response.status_code}"
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95


async def run(db_url: str, requests: int) -> dict[str, Any]:
    env = dict(os.environ) | {
        "VOICEOPS_DATABASE_URL": db_url,
        "VOICEOPS_BRAIN": "flow",
        "VOICEOPS_SESSION_SECRET": "b" * 64,
        "VOICEOPS_LOG_LEVEL": "warning",
    }
    await add_viewer(env)
    port = free_port()
    with tempfile.TemporaryDirectory() as logs:
        server = await Child.start(
            "server", [VOICEOPS, "serve", "--port", str(port)], env=env, log_dir=Path(logs)
        )
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_http(server, f"{base}/healthz", 60)
            result = await _measure(base, db_url, requests)
        finally:
            await server.stop()
    return result


async def _measure(base: str, db_url: str, requests: int) -> dict[str, Any]:
    pages = await _pages(db_url)
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        await _sign_in(client)
        started = time.perf_counter()
        while not await _caught_up(db_url):
            await client.get("/dashboard/calls?q=haircut")
            await asyncio.sleep(1)
        words_s = time.perf_counter() - started
        started = time.perf_counter()
        await client.get("/dashboard/insight/latency")
        rollup_s = time.perf_counter() - started
        rows = []
        for name, path in pages:
            await _time(client, path, 2)  # warm: templates, statement caches
            median, p95 = await _time(client, path, requests)
            rows.append({"page": name, "path": path, "median_ms": median, "p95_ms": p95})
    return {"catch_up_s": {"word_index": words_s, "insight_rollup": rollup_s}, "pages": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the console's pages.")
    parser.add_argument("--db", required=True)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = asyncio.run(run(args.db, args.requests))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    sys.stdout.write(render(result))


def render(result: dict[str, Any]) -> str:
    catch_up = result["catch_up_s"]
    lines = [
        f"catch-up after the import: word index {catch_up['word_index']:.1f} s, "
        f"insight rollup {catch_up['insight_rollup']:.1f} s",
        "",
        "| page | median ms | p95 ms |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {row['page']} | {row['median_ms']:.0f} | {row['p95_ms']:.0f} |"
        for row in result["pages"]
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
