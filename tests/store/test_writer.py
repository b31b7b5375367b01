"""The event writer on both dialects: batching, dedupe, overflow journal, replay, refusal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from voiceops.core.callevents import CallEvent
from voiceops.core.errors import StorageError
from voiceops.metrics import Metrics
from voiceops.store.db import Database
from voiceops.store.journal import Journal, encode_event
from voiceops.store.tables import call_events, dead_letters
from voiceops.store.writer import EventWriter


def make_writer(db: Database, journal: Path, **overrides: Any) -> EventWriter:
    options: dict[str, Any] = {
        "queue_size": 1000,
        "batch_size": 50,
        "flush_interval_ms": 5,
        "journal_path": journal,
        "metrics": None,
    }
    options.update(overrides)
    return EventWriter(db, **options)


AT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def events(n: int, call_id: str = "call_w", start: int = 0) -> list[CallEvent]:
    return [
        CallEvent(
            call_id=call_id,
            event_type="turn_completed",
            turn_index=i,
            response_id=i,
            role="agent",
            content=f"reply {i}",
            latency_ms=i,
            payload={"i": i},
            event_id=f"{call_id}:{i}",
            created_at=AT,
        )
        for i in range(start, start + n)
    ]


async def count_rows(db: Database) -> tuple[int, int]:
    """(rows, distinct event ids) in call_events."""
    async with db.engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(call_events))).scalar_one()
        distinct = (
            await conn.execute(select(func.count(func.distinct(call_events.c.event_id))))
        ).scalar_one()
    return int(total), int(distinct)


async def test_writes_everything_in_batches_and_flushes_on_stop(
    db: Database, tmp_path: Path
) -> None:
    metrics = Metrics()
    writer = make_writer(db, tmp_path / "j.jsonl", metrics=metrics)
    await writer.start()
    for event in events(230):
        writer.emit(event)
    await writer.stop()
    assert await count_rows(db) == (230, 230)
    stats = writer.stats()
    assert stats["written"] == 230 and stats["queued"] == 0 and stats["journaled"] == 0
    assert metrics.events_written._value.get() == 230
    async with db.engine.connect() as conn:
        row = (
            (await conn.execute(select(call_events).where(call_events.c.event_id == "call_w:7")))
            .mappings()
            .one()
        )
    assert (row["turn_index"], row["content"], row["payload"]) == (7, "reply 7", {"i": 7})
    assert row["created_at"].tzinfo is not None


async def test_the_same_event_twice_is_written_once(db: Database, tmp_path: Path) -> None:
    writer = make_writer(db, tmp_path / "j.jsonl")
    await writer.start()
    batch = events(20)
    for event in [*batch, *batch[:10]]:
        writer.emit(event)
    await writer.stop()
    second = make_writer(db, tmp_path / "j.jsonl")
    await second.start()
    for event in batch:
        second.emit(event)
    await second.stop()
    assert await count_rows(db) == (20, 20)
    assert second.stats()["duplicates"] == 20


async def test_overflow_goes_to_the_journal_and_is_replayed(db: Database, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    writer = make_writer(db, journal, queue_size=10)
    # Not started yet: the buffer holds 10, the rest overflows to the journal.
    for event in events(35):
        writer.emit(event)
    assert writer.stats()["journaled"] == 25
    assert journal.stat().st_size > 0
    await writer.start()
    await writer.stop()
    assert await count_rows(db) == (35, 35)
    assert writer.stats()["replayed"] == 25
    assert not journal.with_name("j.jsonl.replay").exists()
    assert journal.stat().st_size == 0


async def test_events_after_stop_wait_in_the_journal_for_the_next_start(
    db: Database, tmp_path: Path
) -> None:
    journal = tmp_path / "j.jsonl"
    first = make_writer(db, journal)
    await first.start()
    await first.stop()
    first.emit(events(1, start=0)[0])
    assert first.stats()["journaled"] == 1
    # Release the descriptor the late emit reopened, as process exit would.
    first._journal.close()
    second = make_writer(db, journal)
    await second.start()
    await second.stop()
    assert await count_rows(db) == (1, 1)


async def test_interrupted_replay_is_finished_without_duplicates(
    db: Database, tmp_path: Path
) -> None:
    journal = tmp_path / "j.jsonl"
    batch = events(40)
    # A previous process wrote half of a replay file before dying...
    writer = make_writer(db, journal)
    await writer.start()
    for event in batch[:20]:
        writer.emit(event)
    await writer.stop()
    # ...leaving the whole file, a torn last line included, plus a newer active journal.
    replay = journal.with_name("j.jsonl.replay")
    replay.write_bytes(b"".join(encode_event(e) for e in batch[:30]) + b'{"call_id": "tor')
    journal.write_bytes(b"".join(encode_event(e) for e in batch[30:]))
    again = make_writer(db, journal)
    await again.start()
    await again.stop()
    assert await count_rows(db) == (40, 40)
    stats = again.stats()
    assert stats["replayed"] == 40 and stats["duplicates"] == 20 and stats["errors"] == 1
    assert not replay.exists()


async def test_a_refused_event_is_set_aside_and_the_rest_written(
    db: Database, tmp_path: Path
) -> None:
    journal = tmp_path / "j.jsonl"
    writer = make_writer(db, journal)
    await writer.start()
    batch = events(9)
    poison = CallEvent(call_id=None, event_type="error", event_id="bad", created_at=AT)  # type: ignore[arg-type]
    for event in [*batch[:4], poison, *batch[4:]]:
        writer.emit(event)
    await writer.stop()
    assert await count_rows(db) == (9, 9)
    assert writer.stats()["rejected"] == 1
    async with db.engine.connect() as conn:
        kind, body = (await conn.execute(select(dead_letters.c.kind, dead_letters.c.body))).one()
    assert kind == "call_event" and '"event_id":"bad"' in body


async def test_nul_characters_are_stored_not_refused(db: Database, tmp_path: Path) -> None:
    writer = make_writer(db, tmp_path / "j.jsonl")
    await writer.start()
    writer.emit(
        CallEvent(
            call_id="c", event_type="turn", content="a\x00b", payload={"k": "\x00"}, created_at=AT
        )
    )
    await writer.stop()
    async with db.engine.connect() as conn:
        content, payload = (
            await conn.execute(select(call_events.c.content, call_events.c.payload))
        ).one()
    assert content == "a\ufffdb" and payload == {"k": "\ufffd"}


async def test_one_journal_per_process(db: Database, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    writer = make_writer(db, journal)
    await writer.start()
    try:
        with pytest.raises(StorageError, match="in use"):
            Journal(journal).open()
    finally:
        await writer.stop()


async def test_a_burst_beyond_the_buffer_loses_nothing(db: Database, tmp_path: Path) -> None:
    writer = make_writer(db, tmp_path / "j.jsonl", queue_size=5)
    await writer.start()
    # emit is a plain call: the whole burst lands before the writer task runs at all.
    for event in events(500):
        writer.emit(event)
    assert writer.stats()["journaled"] == 495
    await writer.stop()
    assert await count_rows(db) == (500, 500)
    assert writer.stats()["replayed"] == 495
