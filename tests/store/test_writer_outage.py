"""The event writer while PostgreSQL goes away mid-load: nothing lost, nothing doubled.

A TCP proxy stands between the writer and PostgreSQL; the test cuts it (open connections
reset, new ones refused) for a couple of seconds while events keep coming, then restores
it. Row counts are read over a direct connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.store.tcpproxy import TcpProxy
from tests.store.test_writer import count_rows, events
from voiceops.metrics import Metrics
from voiceops.store.db import Database
from voiceops.store.writer import EventWriter

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TOTAL = 3000
CHUNK = 30


def outage_writer(db: Database, journal: Path, metrics: Metrics | None = None) -> EventWriter:
    return EventWriter(
        db,
        queue_size=200,
        batch_size=50,
        flush_interval_ms=5,
        journal_path=journal,
        metrics=metrics,
        retry_initial_s=0.05,
        retry_max_s=0.4,
    )


async def produce(writer: EventWriter, proxy: TcpProxy, *, outage_s: float) -> None:
    """Emit TOTAL events in small bursts; cut the database a third of the way in and
    restore it ``outage_s`` later, without pausing the producer."""
    restore: asyncio.TimerHandle | None = None
    for n, start in enumerate(range(0, TOTAL, CHUNK)):
        if n == TOTAL // CHUNK // 3:
            proxy.down()
            restore = asyncio.get_running_loop().call_later(outage_s, proxy.up)
        for event in events(CHUNK, call_id="call_outage", start=start):
            writer.emit(event)
        await asyncio.sleep(0.02)
    assert restore is not None


async def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout_s``."""
    for _ in range(int(timeout_s / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"condition not met within {timeout_s}s")


async def test_outage_mid_load_loses_nothing_and_doubles_nothing(
    direct: Database, proxied: tuple[Database, TcpProxy], tmp_path: Path
) -> None:
    db, proxy = proxied
    metrics = Metrics()
    writer = outage_writer(db, tmp_path / "journal.jsonl", metrics)
    await writer.start()
    await produce(writer, proxy, outage_s=2.0)
    # Events are still draining and the journal replaying; let the writer catch up.
    await wait_for(
        lambda: (
            writer.stats()["queued"] == 0
            and writer.stats()["replayed"] == writer.stats()["journaled"]
        ),
    )
    await writer.stop()
    assert await count_rows(direct) == (TOTAL, TOTAL)
    stats = writer.stats()
    assert proxy.refused > 0 and stats["errors"] > 0
    assert stats["journaled"] > 0, "the outage should have overflowed the 200-event buffer"
    assert stats["lost"] == 0 and stats["rejected"] == 0
    assert metrics.event_write_errors._value.get() > 0
    assert (tmp_path / "journal.jsonl").stat().st_size == 0


async def test_database_still_away_at_shutdown_then_back_at_next_start(
    direct: Database, proxied: tuple[Database, TcpProxy], tmp_path: Path
) -> None:
    db, proxy = proxied
    journal = tmp_path / "journal.jsonl"
    writer = outage_writer(db, journal)
    await writer.start()
    await produce(writer, proxy, outage_s=3600)  # never comes back during this run
    await writer.stop(timeout_s=2.0)
    written_first = (await count_rows(direct))[0]
    assert written_first < TOTAL
    assert writer.stats()["journaled"] >= TOTAL - written_first
    proxy.up()
    again = outage_writer(db, journal)
    await again.start()
    await again.stop()
    assert await count_rows(direct) == (TOTAL, TOTAL)
    assert again.stats()["lost"] == 0
    assert journal.stat().st_size == 0
