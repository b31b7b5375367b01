"""A process killed while the database is away has lost none of its events.

Events used to be journaled only once the 20,000-event buffer overflowed, so a SIGKILL
during an outage lost every event the writer held in memory. Now a failed write sends the
batch in hand and the queue to the journal before the first retry wait, and later events
go straight there until writes succeed again. The child (``kill_child.py``) writes some
events while the database is up, then emits more into a database that is away; the test
kills it with SIGKILL once the journal holds them, brings the database back and lets the
next start replay: every event is in the database exactly once.

PostgreSQL goes away behind a :class:`TcpProxy`; SQLite is away while another connection
holds its write lock (the writer waits out its busy timeout, then fails "database is
locked").
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.store.tcpproxy import TcpProxy
from tests.store.test_writer import count_rows
from tests.store.test_writer_sigterm import REPO, journaled_lines, replay
from voiceops.store.db import Database
from voiceops.store.migrate import upgrade

pytestmark = pytest.mark.slow

BEFORE = 20
DURING = 30


class Child:
    """The child process, driven over its stdin."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def emit(self, first: int, count: int) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"emit {first} {count}\n".encode())
        await self.process.stdin.drain()
        async with asyncio.timeout(10):
            assert (await self.process.stdout.readline()).strip() == b"emitted"

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        assert self.process.returncode == -signal.SIGKILL


@contextlib.asynccontextmanager
async def child(url: str, journal: Path) -> AsyncIterator[Child]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.store.kill_child",
        url,
        str(journal),
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            assert (await process.stdout.readline()).strip() == b"ready"
        yield Child(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"{what} did not happen within {timeout_s:.0f}s")


async def rows(db: Database) -> int:
    return (await count_rows(db))[0]


async def kill_during_outage(
    url: str, journal: Path, observer: Database, away: contextlib.AbstractContextManager[None]
) -> None:
    async with child(url, journal) as proc:
        await proc.emit(0, BEFORE)
        for _ in range(600):
            if await rows(observer) == BEFORE:
                break
            await asyncio.sleep(0.05)
        assert await rows(observer) == BEFORE
        with away:
            await proc.emit(BEFORE, DURING)
            await wait_until(lambda: journaled_lines(journal) >= DURING, "journaling the events")
            await proc.kill()
    assert await rows(observer) == BEFORE


@pytest.mark.postgres
async def test_sigkill_while_postgresql_is_away_loses_nothing(
    direct: Database, proxied: tuple[Database, TcpProxy], tmp_path: Path
) -> None:
    through, proxy = proxied
    journal = tmp_path / "journal.jsonl"

    @contextlib.contextmanager
    def cut() -> Iterator[None]:
        proxy.down()
        yield

    url = through.engine.url.render_as_string(hide_password=False)
    await kill_during_outage(url, journal, direct, cut())
    proxy.up()
    await replay(through, journal)
    assert await count_rows(direct) == (BEFORE + DURING, BEFORE + DURING)


async def test_sigkill_while_sqlite_is_locked_loses_nothing(
    sqlite_url: str, tmp_path: Path
) -> None:
    await upgrade(sqlite_url)
    observer = await Database.open(sqlite_url)
    journal = tmp_path / "journal.jsonl"

    @contextlib.contextmanager
    def locked() -> Iterator[None]:
        holder = sqlite3.connect(make_url(sqlite_url).database or "", isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    try:
        await kill_during_outage(sqlite_url, journal, observer, locked())
        await replay(observer, journal)
        assert await count_rows(observer) == (BEFORE + DURING, BEFORE + DURING)
    finally:
        await observer.close()
