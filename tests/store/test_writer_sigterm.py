"""SIGTERM during load: the writer flushes or journals everything; nothing is lost.

A child process loads the writer (``sigterm_child.py``); once rows are landing, the test
sends SIGTERM and compares what the child says it emitted with what is in the database,
then lets a fresh writer replay whatever the journal kept.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.store.tcpproxy import TcpProxy
from tests.store.test_writer import count_rows
from voiceops.store.db import Database
from voiceops.store.writer import EventWriter

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
MID_LOAD_ROWS = 500


async def load_then_sigterm(
    url: str, journal: Path, observer: Database, *, proxy: TcpProxy | None = None
) -> dict[str, Any]:
    """Run the child on ``url``, SIGTERM it once ``observer`` sees rows landing (cutting
    ``proxy`` first when given), and return the child's final report."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.store.sigterm_child",
        url,
        str(journal),
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        async with asyncio.timeout(30):
            assert (await child.stdout.readline()).strip() == b"ready"
        for _ in range(600):
            if (await count_rows(observer))[0] >= MID_LOAD_ROWS:
                break
            await asyncio.sleep(0.05)
        if proxy is not None:
            proxy.down()
            await asyncio.sleep(0.3)  # the child keeps emitting into a database that is gone
        child.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            out, err = await child.communicate()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    assert child.returncode == 0, err.decode()
    report: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    assert report["emitted"] > MID_LOAD_ROWS and report["lost"] == 0, report
    return report


def journaled_lines(journal: Path) -> int:
    """Lines waiting in the journal, including a file whose replay was cut short."""
    files = (journal, journal.with_name(journal.name + ".replay"))
    return sum(len(f.read_bytes().splitlines()) for f in files if f.exists())


async def replay(db: Database, journal: Path) -> None:
    writer = EventWriter(
        db, queue_size=100, batch_size=100, flush_interval_ms=5, journal_path=journal
    )
    await writer.start()
    await writer.stop()


async def test_sigterm_during_load_loses_nothing(db: Database, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    url = db.engine.url.render_as_string(hide_password=False)
    report = await load_then_sigterm(url, journal, db)
    emitted = report["emitted"]
    rows, distinct = await count_rows(db)
    assert rows == distinct
    # Every event is in the database or waiting in the journal...
    assert rows + journaled_lines(journal) >= emitted, report
    # ...and the next start replays the journal: exactly what was emitted, once each.
    await replay(db, journal)
    assert await count_rows(db) == (emitted, emitted)


@pytest.mark.postgres
async def test_sigterm_while_the_database_is_away(
    direct: Database, proxied: tuple[Database, TcpProxy], tmp_path: Path
) -> None:
    through, proxy = proxied
    journal = tmp_path / "journal.jsonl"
    url = through.engine.url.render_as_string(hide_password=False)
    report = await load_then_sigterm(url, journal, direct, proxy=proxy)
    emitted = report["emitted"]
    rows = (await count_rows(direct))[0]
    assert rows < emitted
    assert journaled_lines(journal) >= emitted - rows, report
    await replay(direct, journal)
    assert await count_rows(direct) == (emitted, emitted)
