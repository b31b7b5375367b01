"""Call records, per-call state (and its persister) and profile versions on both dialects."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from tests.store.tcpproxy import TcpProxy
from voiceops.calls import StatePersister
from voiceops.config import DEFAULT_PROFILE
from voiceops.core.clock import SystemClock
from voiceops.core.errors import StorageError
from voiceops.core.profile import load_profile
from voiceops.core.state import CallState, PendingTransfer, StateSnapshot
from voiceops.core.transcript import CallObject
from voiceops.store.calls import CallRepo
from voiceops.store.db import Database
from voiceops.store.profiles import ProfileRepo
from voiceops.store.states import StateStore
from voiceops.store.tables import call_states

CALL: dict[str, Any] = {
    "call_id": "call_8d1f0c3b9a7e4d2f6a5b",
    "agent_id": "agent_2c7e91d4b0f35a8e6d14",
    "agent_version": 3,
    "call_type": "phone_call",
    "direction": "inbound",
    "from_number": "+14155550101",
    "to_number": "+14155550199",
    "call_status": "ongoing",
    "start_timestamp": 1767225600000,
    "metadata": {"crm_contact_id": "C-10442"},
}
ENDED: dict[str, Any] = {
    **CALL,
    "call_status": "ended",
    "end_timestamp": 1767225781000,
    "duration_ms": 181000,
    "disconnection_reason": "call_transfer",
    "transfer_destination": "+14155550123",
    "transcript": "Agent: Hello\nUser: Hi\n",
    "transcript_with_tool_calls": [
        {"role": "agent", "content": "Hello"},
        {"role": "user", "content": "Hi"},
    ],
    "latency": {"llm": {"p50": 420}},
    "call_cost": {"combined_cost": 12.5},
}
ANALYZED: dict[str, Any] = {
    **CALL,
    "call_status": "ended",
    "end_timestamp": 1767225781000,
    "disconnection_reason": "call_transfer",
    "call_analysis": {"call_summary": "Leak under the sink.", "call_successful": True},
}


async def test_call_details_then_webhooks_build_one_record(db: Database) -> None:
    calls = CallRepo(db)
    await calls.upsert_from_details(
        CallObject.model_validate(CALL), caller_zone="America/Los_Angeles", profile_version=2
    )
    await calls.apply_webhook("call_ended", ENDED)
    await calls.apply_webhook("call_analyzed", ANALYZED)
    row = await calls.get(CALL["call_id"])
    assert row is not None
    assert row["caller_zone"] == "America/Los_Angeles"
    assert row["profile_version"] == 2
    assert row["call_status"] == "ended"
    assert row["started_at"] == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert row["ended_at"] == datetime(2026, 1, 1, 0, 3, 1, tzinfo=UTC)
    assert row["disconnection_reason"] == "call_transfer"
    assert row["transfer_destination"] == "+14155550123"
    assert row["call_analysis"]["call_summary"] == "Leak under the sink."
    assert row["latency"] == {"llm": {"p50": 420}}
    assert row["call_cost"] == {"combined_cost": 12.5}
    assert row["transcript_size"] == 2
    assert row["call_metadata"] == {"crm_contact_id": "C-10442"}


async def test_late_call_started_does_not_reopen_an_ended_call(db: Database) -> None:
    calls = CallRepo(db)
    await calls.apply_webhook("call_ended", ENDED)
    await calls.apply_webhook("call_started", CALL)
    row = await calls.get(CALL["call_id"])
    assert row is not None
    assert row["call_status"] == "ended"
    assert row["ended_at"] is not None


async def test_transcript_snapshot_longest_wins(db: Database) -> None:
    calls = CallRepo(db)
    one = {**CALL, "transcript_with_tool_calls": [{"role": "agent", "content": "Hello"}]}
    two = {
        **CALL,
        "transcript_with_tool_calls": [
            {"role": "agent", "content": "Hello"},
            {"role": "user", "content": "I need a plumber"},
        ],
    }
    await calls.apply_webhook("transcript_updated", one)
    await calls.apply_webhook("transcript_updated", two)
    await calls.apply_webhook("transcript_updated", one)  # a late retry of an older snapshot
    row = await calls.get(CALL["call_id"])
    assert row is not None
    assert row["transcript_size"] == 2
    assert row["transcript_entries"][1]["content"] == "I need a plumber"


async def test_transfer_events_and_outcome(db: Database) -> None:
    calls = CallRepo(db)
    await calls.apply_webhook("transfer_started", CALL, transfer_destination="+14155550123")
    await calls.apply_webhook(
        "transfer_bridged", CALL, transfer_destination={"type": "predefined", "number": "+1415555"}
    )
    await calls.set_outcome(CALL["call_id"], "transferred")
    row = await calls.get(CALL["call_id"])
    assert row is not None
    assert row["transfer_status"] == "bridged"
    assert row["transfer_destination"] == "+1415555"
    assert row["outcome"] == "transferred"
    assert row["call_status"] == "ongoing"


async def test_set_outcome_creates_the_row_and_loose_types_are_ignored(db: Database) -> None:
    calls = CallRepo(db)
    await calls.set_outcome("call_x", "booked", transfer_destination=None)
    await calls.apply_webhook(
        "call_ended", {"call_id": "call_x", "agent_version": "three", "duration_ms": True}
    )
    row = await calls.get("call_x")
    assert row is not None
    assert (row["outcome"], row["agent_version"], row["duration_ms"]) == ("booked", None, None)
    with pytest.raises(ValueError):
        await calls.apply_webhook("call_ended", {"agent_id": "no call id"})


async def test_list_calls_newest_first_and_paged(db: Database) -> None:
    calls = CallRepo(db)
    for n in range(5):
        await calls.set_outcome(f"call_{n}", "ended")
    page = await calls.list_calls(limit=2, offset=0)
    assert [r["call_id"] for r in page] == ["call_4", "call_3"]
    assert "transcript_entries" not in page[0]
    rest = await calls.list_calls(limit=10, offset=2)
    assert [r["call_id"] for r in rest] == ["call_2", "call_1", "call_0"]
    assert await calls.get("nope") is None


async def test_state_roundtrip_and_stale_save_ignored(db: Database) -> None:
    store = StateStore(db)
    assert await store.load("call_1") is None
    state = CallState(
        call_id="call_1",
        greeted=True,
        turns=3,
        pending_transfer=PendingTransfer(number="+14155550123", message="Connecting", reason="x"),
        flow={"stage": "confirm", "slots": {"service": "Haircut"}},
        updated_at_ms=2000,
    )
    await store.save(state)
    assert await store.load("call_1") == state
    await store.save(state.model_copy(update={"turns": 1, "updated_at_ms": 1000}))
    loaded = await store.load("call_1")
    assert loaded is not None and loaded.turns == 3
    await store.save(state.model_copy(update={"turns": 4, "updated_at_ms": 3000}))
    loaded = await store.load("call_1")
    assert loaded is not None and loaded.turns == 4


async def test_profile_versions_by_content(db: Database) -> None:
    profiles = ProfileRepo(db)
    assert await profiles.latest() is None
    demo = load_profile(DEFAULT_PROFILE)
    first = await profiles.save(demo)
    assert await profiles.save(demo.model_copy(update={"version": 99})) == first
    changed = demo.model_copy(update={"agent_name": "Robin"})
    second = await profiles.save(changed)
    assert second == first + 1
    latest = await profiles.latest()
    assert latest is not None
    assert latest.version == second and latest.agent_name == "Robin"
    older = await profiles.get(first)
    assert older is not None and older.agent_name == demo.agent_name
    assert await profiles.save(demo) == first


# --------------------------------------------------------------------------------------
# the state persister on a real database


def snap(call_id: str, turns: int, updated_at_ms: int) -> StateSnapshot:
    return CallState(call_id=call_id, turns=turns, updated_at_ms=updated_at_ms).snapshot()


async def stored_turns(db: Database) -> dict[str, int]:
    """Every stored state's ``turns``, read inside the JSON column by SQL."""
    stmt = select(call_states.c.call_id, call_states.c.state["turns"].as_integer())
    async with db.transaction("read states") as conn:
        return {call_id: turns for call_id, turns in (await conn.execute(stmt)).all()}


class Recording:
    """The real :class:`StateStore`, noting every batch it is asked to write."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.batches: list[list[StateSnapshot]] = []

    async def load(self, call_id: str) -> CallState | None:
        return await self.store.load(call_id)

    async def save_many(self, snapshots: Sequence[StateSnapshot]) -> None:
        self.batches.append(list(snapshots))
        await self.store.save_many(snapshots)

    def sizes(self) -> list[int]:
        return [len(batch) for batch in self.batches]


async def test_a_batch_never_moves_a_state_back(db: Database) -> None:
    store = StateStore(db)
    await store.save_many([snap("a", 3, 2000), snap("b", 1, 1000)])
    await store.save_many(
        [
            snap("a", 1, 1000),  # older than the stored a: ignored
            snap("b", 2, 2000),  # newer than the stored b: written
            snap("c", 5, 5000),  # the same call twice in one batch: the newer wins,
            snap("c", 4, 4000),  # whatever the order
            snap("d", 6, 6000),
        ]
    )
    assert await stored_turns(db) == {"a": 3, "b": 2, "c": 5, "d": 6}
    loaded = await store.load("d")
    assert loaded == CallState(call_id="d", turns=6, updated_at_ms=6000)


async def test_a_burst_of_marks_is_written_as_one_batch(db: Database) -> None:
    store = Recording(StateStore(db))
    persister = StatePersister(store, clock=SystemClock())
    await persister.start()
    for n in range(150):  # no await in between: the worker sees the whole burst at once
        persister.mark(CallState(call_id=f"call_{n:03d}", turns=n))
    await persister.stop()
    assert store.sizes() == [150]
    assert await stored_turns(db) == {f"call_{n:03d}": n for n in range(150)}


async def test_a_backlog_goes_out_in_bounded_batches(db: Database) -> None:
    store = Recording(StateStore(db))
    persister = StatePersister(store, clock=SystemClock(), batch_size=200)
    await persister.start()
    for n in range(450):
        persister.mark(CallState(call_id=f"call_{n:03d}", turns=n))
    await persister.stop()
    assert store.sizes() == [200, 200, 50]
    assert len(await stored_turns(db)) == 450 and persister.pending == 0


class Gated(Recording):
    """Holds every write until the test opens the gate (to mark while a batch is saving)."""

    def __init__(self, store: StateStore) -> None:
        super().__init__(store)
        self.writing = asyncio.Event()
        self.gate = asyncio.Event()

    async def save_many(self, snapshots: Sequence[StateSnapshot]) -> None:
        self.writing.set()
        await self.gate.wait()
        await super().save_many(snapshots)


async def test_the_newest_snapshot_wins(db: Database) -> None:
    store = Gated(StateStore(db))
    persister = StatePersister(store, clock=SystemClock())
    await persister.start()
    state = CallState(call_id="c1", turns=1)
    persister.mark(state)
    state.turns = 2
    persister.mark(state)  # replaces the unsaved snapshot
    await asyncio.wait_for(store.writing.wait(), 5)
    state.turns = 3
    persister.mark(state)  # arrives while turn 2 is being saved: must not be forgotten
    store.gate.set()
    await persister.stop()
    assert [[s.restore().turns for s in batch] for batch in store.batches] == [[2], [3]]
    assert await stored_turns(db) == {"c1": 3} and persister.pending == 0


class FailingFirst(Recording):
    """An injected fault: the first ``failures`` writes fail as if the database were away."""

    def __init__(self, store: StateStore, failures: int) -> None:
        super().__init__(store)
        self.failures = failures

    async def save_many(self, snapshots: Sequence[StateSnapshot]) -> None:
        if self.failures > 0:
            self.failures -= 1
            self.batches.append(list(snapshots))
            raise StorageError("save call states failed: ConnectionRefusedError")
        await super().save_many(snapshots)


async def test_a_failed_batch_is_retried_whole(db: Database) -> None:
    store = FailingFirst(StateStore(db), failures=2)
    persister = StatePersister(store, clock=SystemClock(), retry_initial_s=0.01, retry_max_s=0.02)
    await persister.start()
    for n in range(120):
        persister.mark(CallState(call_id=f"call_{n:03d}", turns=n))
    await persister.stop()
    assert store.sizes() == [120, 120, 120]
    assert await stored_turns(db) == {f"call_{n:03d}": n for n in range(120)}


@pytest.mark.postgres
async def test_postgresql_away_during_a_batch_loses_nothing(
    direct: Database, proxied: tuple[Database, TcpProxy]
) -> None:
    through, proxy = proxied
    outage = asyncio.Event()

    class CutDuringWrite(Recording):
        async def save_many(self, snapshots: Sequence[StateSnapshot]) -> None:
            if not outage.is_set():  # the database goes away as the first batch goes out
                outage.set()
                proxy.down()
            await super().save_many(snapshots)

    store = CutDuringWrite(StateStore(through))
    await StateStore(through).load("warm")  # a pooled connection for the cut to break
    persister = StatePersister(store, clock=SystemClock(), retry_initial_s=0.02, retry_max_s=0.1)
    await persister.start()
    states = [CallState(call_id=f"call_{n:03d}", turns=n) for n in range(300)]
    for state in states:
        persister.mark(state)
    await asyncio.wait_for(outage.wait(), 5)
    await asyncio.sleep(0.3)  # several retries against a database that is away
    assert persister.pending == 300 and await stored_turns(direct) == {}
    for state in states[:10]:  # calls go on during the outage
        state.turns += 1000
        persister.mark(state)
    proxy.up()
    await persister.stop()
    assert len(store.batches) > 2 and proxy.refused > 0
    expected = {f"call_{n:03d}": n + (1000 if n < 10 else 0) for n in range(300)}
    assert await stored_turns(direct) == expected and persister.pending == 0


async def test_a_state_with_nul_characters_is_saved_on_every_database(db: Database) -> None:
    # JSONB refuses NUL; one such state must not block every call's state forever.
    store = StateStore(db)
    odd = CallState(call_id="nul-call", updated_at_ms=5)
    odd.flow = {"name": "Da\x00na", "said": "a literal \\u0000 stays", "end": "\\\x00"}
    plain = CallState(call_id="plain-call", updated_at_ms=5)
    await store.save_many([odd.snapshot(), plain.snapshot()])
    loaded = await store.load("nul-call")
    assert loaded is not None and await store.load("plain-call") is not None
    assert loaded.flow["said"] == "a literal \\u0000 stays"
    if db.dialect == "postgresql":
        assert loaded.flow["name"] == "Da\ufffdna" and loaded.flow["end"] == "\\\ufffd"
    else:
        assert loaded.flow == odd.flow
