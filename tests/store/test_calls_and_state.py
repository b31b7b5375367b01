"""Call records, per-call state and profile versions on both dialects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from voiceops.agent.profile import load_profile
from voiceops.agent.state import CallState, PendingTransfer
from voiceops.config import DEFAULT_PROFILE
from voiceops.retell.messages import CallObject
from voiceops.store.db import Database
from voiceops.store.repo import CallRepo, ProfileRepo, StateStore

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
