"""Rows the database refuses for their content are set aside, never retried forever.

One call event or call state the database cannot store (a ``response_id`` past the
column's range, a NUL character in a call id on PostgreSQL) used to fail its whole batch
on every retry, so nothing of any call was written again, and the event writer journaled
it at shutdown only to wedge again on the next start. Now the refused row goes to
``dead_letters`` (with the reason and the row as JSON), is counted and logged once, and
every other row is written.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.store.test_clock import PINNED
from tests.store.test_writer import AT, count_rows, events, make_writer
from voiceops.calls import StatePersister
from voiceops.core.callevents import CallEvent
from voiceops.core.clock import ManualClock, SystemClock
from voiceops.core.state import CallState
from voiceops.metrics import Metrics
from voiceops.store.db import Database
from voiceops.store.journal import decode_event, encode_event
from voiceops.store.states import StateStore
from voiceops.store.tables import call_events, call_states, dead_letters

POISON_CALL = "call_poison"
NUL_CALL = "call\x00poison"
POISONS: dict[str, tuple[CallEvent, set[str]]] = {
    # name: (the event, the dialects that refuse it)
    "response_id 2^31": (
        CallEvent(
            call_id=POISON_CALL,
            event_type="turn_started",
            response_id=2**31,
            event_id=f"{POISON_CALL}:{2**31}:turn",
            created_at=AT,
        ),
        {"postgresql"},  # PostgreSQL's integer is 32 bits, SQLite's 64
    ),
    "response_id 2^63": (
        CallEvent(
            call_id=POISON_CALL,
            event_type="turn_started",
            response_id=2**63,
            event_id=f"{POISON_CALL}:{2**63}:turn",
            created_at=AT,
        ),
        {"postgresql", "sqlite"},
    ),
    "NUL in the call id": (
        CallEvent(
            call_id=NUL_CALL,
            event_type="turn_started",
            response_id=1,
            event_id=f"{NUL_CALL}:1:turn",
            created_at=AT,
        ),
        {"postgresql"},  # SQLite keeps NUL in text
    ),
}


async def kept(db: Database) -> list[dict[str, Any]]:
    async with db.engine.connect() as conn:
        rows = (await conn.execute(select(dead_letters).order_by(dead_letters.c.id))).mappings()
        return [dict(row) for row in rows]


def refusal_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "voiceops.store.deadletters" and r.levelno >= logging.ERROR
    ]


@pytest.mark.parametrize("poison", POISONS, ids=list(POISONS))
async def test_one_unstorable_event_does_not_stop_the_writer(
    db: Database, tmp_path: Path, poison: str, caplog: pytest.LogCaptureFixture
) -> None:
    event, refused_by = POISONS[poison]
    refused = db.dialect in refused_by
    metrics = Metrics()
    clock = ManualClock(PINNED)
    journal = tmp_path / "j.jsonl"
    writer = make_writer(db, journal, metrics=metrics, clock=clock)
    await writer.start()
    # The unstorable event lands in the middle of one batch, among two other calls' events.
    for e in [*events(20, call_id="call_a"), event, *events(20, call_id="call_b")]:
        writer.emit(e)
    await writer.stop(timeout_s=5)
    async with db.engine.connect() as conn:
        stored = set((await conn.execute(select(call_events.c.event_id))).scalars())
    good = {e.event_id for e in [*events(20, call_id="call_a"), *events(20, call_id="call_b")]}
    assert stored - {event.event_id} == good
    assert journal.stat().st_size == 0, "nothing is left over for the next start"
    letters = await kept(db)
    if not refused:
        assert event.event_id in stored and letters == []
        return
    assert event.event_id not in stored
    (letter,) = letters
    assert letter["kind"] == "call_event" and letter["refusals"] == 1
    assert letter["call_id"] == event.call_id.replace("\x00", "\\x00")
    assert letter["reason"] and letter["updated_at"] == PINNED
    assert decode_event(letter["body"].encode()) == event
    assert writer.stats()["rejected"] == 1
    assert metrics.dead_lettered.labels("call_event")._value.get() == 1
    (log,) = refusal_logs(caplog)
    assert log.call_id == letter["call_id"]  # type: ignore[attr-defined]


async def test_the_journal_replays_past_an_unstorable_event(db: Database, tmp_path: Path) -> None:
    # An earlier run journaled the event at shutdown; it wedged every start since.
    event, _ = POISONS["response_id 2^63"]
    journal = tmp_path / "j.jsonl"
    before, after = events(30, call_id="call_a"), events(30, call_id="call_b")
    journal.write_bytes(b"".join(encode_event(e) for e in [*before[:15], event, *before[15:]]))
    writer = make_writer(db, journal)
    await writer.start()
    for e in after:  # calls of this run are written too
        writer.emit(e)
    await writer.stop(timeout_s=5)
    assert await count_rows(db) == (60, 60)
    assert [letter["call_id"] for letter in await kept(db)] == [POISON_CALL]
    assert writer.stats()["replayed"] == 31 and writer.stats()["rejected"] == 1
    assert journal.stat().st_size == 0
    assert not journal.with_name("j.jsonl.replay").exists()


async def test_a_whole_call_of_unstorable_events_is_logged_once(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    writer = make_writer(db, tmp_path / "j.jsonl", metrics=metrics)
    await writer.start()
    bad = [
        CallEvent(
            call_id=POISON_CALL, event_type="turn_started", response_id=2**63 + n, created_at=AT
        )
        for n in range(12)
    ]
    for e in [*bad, *events(12)]:
        writer.emit(e)
    await writer.stop(timeout_s=10)
    assert await count_rows(db) == (12, 12)
    assert len(await kept(db)) == 12
    assert metrics.dead_lettered.labels("call_event")._value.get() == 12
    assert len(refusal_logs(caplog)) == 1


# --------------------------------------------------------------------------------------
# call states

STATE_POISONS: dict[str, tuple[CallState, set[str]]] = {
    "NUL in the call id": (CallState(call_id=NUL_CALL), {"postgresql"}),
    "call id past its column": (CallState(call_id="c" * 300), {"postgresql"}),
}
"""States a live call can produce (the persister stamps ``updated_at_ms`` itself)."""
ODD_STATES = {
    **STATE_POISONS,
    "updated_at_ms past 64 bits": (
        CallState(call_id=POISON_CALL, updated_at_ms=2**63),
        {"postgresql", "sqlite"},
    ),
}


async def stored_states(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set((await conn.execute(select(call_states.c.call_id))).scalars())


@pytest.mark.parametrize("poison", STATE_POISONS, ids=list(STATE_POISONS))
async def test_one_unstorable_state_does_not_stop_the_persister(
    db: Database, poison: str, caplog: pytest.LogCaptureFixture
) -> None:
    state, refused_by = STATE_POISONS[poison]
    metrics = Metrics()
    store = StateStore(db, metrics=metrics, clock=ManualClock(PINNED))
    persister = StatePersister(store, clock=SystemClock(), retry_initial_s=0.01, retry_max_s=0.05)
    await persister.start()
    others = [CallState(call_id=f"call_{n:02d}", turns=n) for n in range(50)]
    for s in [*others[:25], state, *others[25:]]:
        persister.mark(s)
    await persister.stop(timeout_s=5)
    assert persister.pending == 0
    saved = await stored_states(db)
    assert saved - {state.call_id} == {s.call_id for s in others}
    if db.dialect not in refused_by:
        assert state.call_id in saved and await kept(db) == []
        return
    assert state.call_id not in saved
    (letter,) = await kept(db)
    assert letter["kind"] == "call_state" and letter["reason"]
    assert json.loads(letter["body"])["call_id"] == state.call_id
    assert store.refused == 1
    assert metrics.dead_lettered.labels("call_state")._value.get() == 1
    (log,) = refusal_logs(caplog)
    assert log.call_id == letter["call_id"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("poison", ODD_STATES, ids=list(ODD_STATES))
async def test_a_batch_of_states_is_written_around_an_unstorable_one(
    db: Database, poison: str
) -> None:
    state, refused_by = ODD_STATES[poison]
    store = StateStore(db)
    others = [CallState(call_id=f"call_{n:02d}", turns=n).snapshot() for n in range(20)]
    await store.save_many([*others, state.snapshot()])
    saved = await stored_states(db)
    assert saved - {state.call_id} == {s.call_id for s in others}
    refused = db.dialect in refused_by
    assert (state.call_id in saved) is not refused
    assert len(await kept(db)) == store.refused == int(refused)


async def test_a_state_refused_on_every_turn_is_kept_once_and_logged_once(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    store = StateStore(db)
    state = CallState(call_id=POISON_CALL, updated_at_ms=2**63)
    for turn in range(3):
        state.turns = turn
        await store.save_many([state.snapshot(), CallState(call_id=f"ok_{turn}").snapshot()])
    (letter,) = await kept(db)
    assert letter["refusals"] == 3 and json.loads(letter["body"])["turns"] == 2
    assert await stored_states(db) == {"ok_0", "ok_1", "ok_2"}
    assert len(refusal_logs(caplog)) == 1
