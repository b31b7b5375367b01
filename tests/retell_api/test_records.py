"""Retell records: the fields kept from a call object, and the merge, newest observation
winning field by field, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.fakes.fake_retell_api import phone_call
from voiceops.core.callevents import CallEvent
from voiceops.core.clock import ManualClock
from voiceops.store.calls import CallRepo
from voiceops.store.db import Database
from voiceops.store.retell_records import RetellRecord, RetellRecordRepo, record_from_call
from voiceops.store.retention import purge
from voiceops.store.usage import calls_without_record, token_usage

START_MS = 1_767_225_600_000
NOW = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)


def test_a_call_object_becomes_a_record_with_exact_amounts() -> None:
    call = phone_call(
        "call_a",
        start_ms=START_MS,
        duration_ms=181_000,
        combined_cost=0.1 + 0.2,  # the float 0.30000000000000004, as JSON would carry it
        products=[("retell_platform", 12.67, 0.07), ("elevenlabs_tts", 12.3, 0.068)],
    )
    del call["duration_ms"]  # derived from start and end
    record = record_from_call(call, transfer_destination={"number": "+14155550123"})
    values = record.values
    assert values["started_at"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert values["duration_ms"] == 181_000
    assert values["transfer_destination"] == "+14155550123"
    assert values["call_cost"] == {
        "combined_cost": "0.30000000000000004",
        "product_costs": [
            {"product": "retell_platform", "cost": "12.67", "unit_price": "0.07"},
            {"product": "elevenlabs_tts", "cost": "12.3", "unit_price": "0.068"},
        ],
        "total_duration_seconds": "181.0",
        "total_duration_unit_price": "0.138",
    }
    assert values["latency"]["e2e"] == {
        "p50": 820.0,
        "p90": 1100.0,
        "p99": 1400.0,
        "values": [800.0, 840.0],
    }
    assert values["call_analysis"] == {"call_summary": "Booked a haircut.", "call_successful": True}
    assert values["disconnection_reason"] == "user_hangup"
    assert "from_number" not in values  # the socket's calls row keeps the numbers


async def test_newest_observation_wins_field_by_field(db: Database) -> None:
    repo = RetellRecordRepo(db, clock=ManualClock(NOW))
    ended = RetellRecord(
        "call_m",
        {"call_status": "ended", "disconnection_reason": "user_hangup", "duration_ms": 60_000},
    )
    assert await repo.merge(ended, source="webhook", as_of_ms=2_000) == "new"
    assert await repo.merge(ended, source="webhook", as_of_ms=2_000) == "unchanged"

    # An older observation loses the fields the newer one set, and adds the ones it lacked.
    older = RetellRecord(
        "call_m",
        {"disconnection_reason": "agent_hangup", "recording_url": "https://r.invalid/a.wav"},
    )
    assert await repo.merge(older, source="sync", as_of_ms=1_000) == "updated"
    stored = await repo.get("call_m")
    assert stored is not None
    assert stored.disconnection_reason == "user_hangup"
    assert stored.recording_url == "https://r.invalid/a.wav"

    # A newer one wins; a field it does not carry is not cleared.
    analysed = RetellRecord(
        "call_m",
        {"disconnection_reason": "call_transfer", "call_analysis": {"call_successful": False}},
    )
    assert await repo.merge(analysed, source="sync", as_of_ms=3_000) == "updated"
    stored = await repo.get("call_m")
    assert stored is not None
    assert stored.disconnection_reason == "call_transfer"
    assert stored.call_analysis == {"call_successful": False}
    assert stored.duration_ms == 60_000 and stored.recording_url == "https://r.invalid/a.wav"
    assert stored.field_times["disconnection_reason"] == 3_000
    assert stored.field_times["duration_ms"] == 2_000
    assert stored.webhook_at is not None and stored.synced_at is not None

    # A call that ended never goes back to ongoing, however the deliveries are ordered.
    late = RetellRecord("call_m", {"call_status": "ongoing"})
    await repo.merge(late, source="webhook", as_of_ms=9_000)
    stored = await repo.get("call_m")
    assert stored is not None and stored.call_status == "ended"


async def test_tokens_per_call_and_calls_the_sync_has_not_brought(db: Database) -> None:
    clock = ManualClock(NOW)
    calls = CallRepo(db)
    async with db.transaction("seed") as conn:
        for call_id, rid, tokens_in, tokens_out, cached in (
            ("call_x", 1, 2_000, 40, 0),
            ("call_x", 2, 2_500, 60, 1_792),
            ("call_y", 1, None, None, None),  # a flow turn asks no model
        ):
            await calls.record_event_in(
                conn,
                CallEvent(
                    call_id,
                    "turn_completed",
                    response_id=rid,
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                    payload={"brain": "llm", "tokens_cached": cached},
                    event_id=f"{call_id}:{rid}:turn",
                    created_at=NOW,
                ),
            )
    usage = await token_usage(db, since=NOW - timedelta(hours=1))
    assert usage["call_x"].tokens_in == 4_500 and usage["call_x"].tokens_out == 100
    assert usage["call_x"].turns == 2 and usage["call_x"].tokens_cached == 1_792
    assert "call_y" not in usage
    assert await token_usage(db, since=NOW - timedelta(hours=1), call_ids=["call_y"]) == {}

    await calls.apply_webhook("call_started", {"call_id": "call_x", "start_timestamp": START_MS})
    await calls.apply_webhook("call_started", {"call_id": "call_y", "start_timestamp": START_MS})
    window = {"start": NOW - timedelta(days=1), "end": NOW}
    assert await calls_without_record(db, **window) == 2
    await RetellRecordRepo(db, clock=clock).merge(
        record_from_call(phone_call("call_x", start_ms=START_MS)), source="sync"
    )
    assert await calls_without_record(db, **window) == 1


async def test_a_webhook_and_a_sync_merging_at_once_make_one_row_with_both(
    db: Database,
) -> None:
    repo = RetellRecordRepo(db, clock=ManualClock(NOW))
    for n in range(10):
        call_id = f"call_race_{n}"
        webhook = RetellRecord(call_id, {"call_analysis": {"call_successful": True}})
        sync = RetellRecord(call_id, {"call_status": "ended", "duration_ms": 1_000})
        outcomes = await asyncio.gather(
            repo.merge(webhook, source="webhook", as_of_ms=5),
            repo.merge_many([sync], source="sync", as_of_ms=6),
        )
        assert sorted([outcomes[0], *outcomes[1]]) == ["new", "updated"]
        stored = await repo.get(call_id)
        assert stored is not None
        assert stored.call_analysis == {"call_successful": True}
        assert stored.call_status == "ended" and stored.duration_ms == 1_000


async def test_records_age_out_with_the_rest_of_the_call_data(db: Database) -> None:
    month_ago = RetellRecordRepo(db, clock=ManualClock(NOW - timedelta(days=31)))
    await month_ago.merge(RetellRecord("call_old", {"call_status": "ended"}), source="sync")
    recent = RetellRecordRepo(db, clock=ManualClock(NOW - timedelta(days=29)))
    await recent.merge(RetellRecord("call_new", {"call_status": "ended"}), source="sync")
    counts = await purge(db, timedelta(days=30), clock=ManualClock(NOW))
    assert counts["retell_calls"] == 1
    assert await recent.get("call_old") is None and await recent.get("call_new") is not None
