"""POST /webhooks/retell and /webhooks/retell/inbound over ASGI, on both dialects."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.webhooks.conftest import MAX_BODY, Harness, HarnessFactory
from tests.webhooks.samples import EXAMPLE_BODY, EXAMPLE_HEADER, EXAMPLE_TIMESTAMP, signed_samples
from voiceops.retell.webhooks import sign
from voiceops.store.calls import CallRepo
from voiceops.store.db import Database
from voiceops.store.tables import call_events, webhook_deliveries

CALL_ID = "call_8d1f0c3b9a7e4d2f6a5b"


async def table_count(db: Database, table: Any) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


def body(event: str, call: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"event": event, "call": call, **extra}, separators=(",", ":")).encode()


async def test_signed_samples_are_acked_and_applied(harness: Harness, db: Database) -> None:
    for sample in signed_samples():
        harness.clock.now_ms = sample.timestamp_ms + 1500
        response = await harness.post(sample.raw_body, header=sample.header)
        assert response.status_code == 204, sample.event
        assert response.content == b""
    await harness.processor.join()
    call = await CallRepo(db).get(CALL_ID)
    assert call is not None
    assert call["call_status"] == "ended"
    assert call["disconnection_reason"] == "call_transfer"
    assert call["transfer_destination"] == "+14155550123"
    assert call["duration_ms"] == 181000
    assert call["call_analysis"]["user_sentiment"] == "Neutral"
    assert call["recording_url"] == "https://example.invalid/rec.wav"
    assert harness.counter("voiceops_webhook_deliveries_total", {"event": "call_ended"}) == 1


async def test_three_retries_of_each_webhook_make_one_effect(
    harness: Harness, db: Database
) -> None:
    samples = signed_samples()
    for sample in samples:
        harness.clock.now_ms = sample.timestamp_ms
        first = await harness.post(sample.raw_body, header=sample.header)
        assert first.status_code == 204
    await harness.processor.join()
    once = await CallRepo(db).get(CALL_ID)
    for retry in range(3):
        for sample in samples:
            # Retries may come re-signed later (or with the original signature).
            harness.clock.now_ms = sample.timestamp_ms + 10_000 * (retry + 1)
            again = await harness.post(sample.raw_body, signed_at=harness.clock.now_ms)
            assert again.status_code == 204
    await harness.processor.join()
    assert await table_count(db, webhook_deliveries) == 3
    assert await table_count(db, call_events) == 3  # one timeline event per delivery
    after = await CallRepo(db).get(CALL_ID)
    assert after is not None and once is not None
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in once.items() if k != "updated_at"
    }
    assert harness.counter("voiceops_webhook_duplicates_total") == 9
    assert (
        sum(
            harness.counter("voiceops_webhook_deliveries_total", {"event": s.event})
            for s in samples
        )
        == 3
    )


async def test_transcript_updated_latest_snapshot_wins(harness: Harness, db: Database) -> None:
    base = {"call_id": "call_t", "call_status": "ongoing"}
    short = body("transcript_updated", {**base, "transcript_with_tool_calls": [{"role": "agent"}]})
    long = body(
        "transcript_updated",
        {**base, "transcript_with_tool_calls": [{"role": "agent"}, {"role": "user"}]},
    )
    for payload in (short, long, long, short):
        assert (await harness.post(payload)).status_code == 204
    await harness.processor.join()
    call = await CallRepo(db).get("call_t")
    assert call is not None and call["transcript_size"] == 2
    assert await table_count(db, webhook_deliveries) == 1
    assert harness.counter("voiceops_webhook_duplicates_total") == 2


async def test_transfer_events_dedupe_on_destination(harness: Harness, db: Database) -> None:
    call = {"call_id": "call_x", "start_timestamp": 1767225600000}
    to_desk = body("transfer_started", call, transfer_destination="+14155550123")
    to_billing = body("transfer_started", call, transfer_destination="+14155550124")
    for payload in (to_desk, to_desk, to_billing, to_billing):
        assert (await harness.post(payload)).status_code == 204
    await harness.processor.join()
    assert await table_count(db, webhook_deliveries) == 2
    row = await CallRepo(db).get("call_x")
    assert row is not None and row["transfer_status"] == "started"


@pytest.mark.parametrize(
    ("case", "offset_ms"),
    [
        ("stale", 300_001),
        ("future", -300_001),
        ("uppercase", 0),
        ("reserialised", 0),
        ("malformed", 0),
        ("missing", 0),
        ("wrong-key", 0),
    ],
)
async def test_bad_signatures_get_401_and_change_nothing(
    harness: Harness, db: Database, case: str, offset_ms: int
) -> None:
    harness.clock.now_ms = EXAMPLE_TIMESTAMP + offset_ms
    raw, header = EXAMPLE_BODY, EXAMPLE_HEADER
    if case == "uppercase":
        version, digest = header.split(",d=")
        header = f"{version},d={digest.upper()}"
    elif case == "reserialised":
        raw = json.dumps(json.loads(EXAMPLE_BODY)).encode()
    elif case == "malformed":
        header = "sha256=" + header
    elif case == "wrong-key":
        header = sign(raw, "key_not_ours", EXAMPLE_TIMESTAMP)
    if case == "missing":
        response = await harness.client.post("/webhooks/retell", content=raw)
    else:
        response = await harness.post(raw, header=header)
    assert response.status_code == 401
    assert response.content == b""
    assert await table_count(db, webhook_deliveries) == 0
    assert harness.counter("voiceops_webhook_rejected_total", {"reason": "signature"}) == 1


async def test_the_worked_example_is_accepted(harness: Harness) -> None:
    harness.clock.now_ms = EXAMPLE_TIMESTAMP + 1000
    response = await harness.post(EXAMPLE_BODY, header=EXAMPLE_HEADER)
    assert response.status_code == 204


async def test_oversized_by_content_length_is_413(harness: Harness, db: Database) -> None:
    raw = body("call_started", {"call_id": "c", "pad": "x" * MAX_BODY})
    response = await harness.post(raw)
    assert response.status_code == 413
    assert await table_count(db, webhook_deliveries) == 0


async def test_oversized_chunked_body_is_413_without_reading_it_all(
    harness: Harness, db: Database
) -> None:
    chunk = b"x" * 1024
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(1000):
            sent += 1
            yield chunk

    response = await harness.client.post(
        "/webhooks/retell",
        content=endless(),
        headers={"x-retell-signature": sign(b"", "k", harness.clock.now_ms)},
    )
    assert response.status_code == 413
    assert "content-length" not in response.request.headers
    assert sent * len(chunk) <= MAX_BODY + len(chunk)
    assert await table_count(db, webhook_deliveries) == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[1, 2]",
        b'{"event": "call_ended"}',
        b'{"event": "call_ended", "call": {"agent_id": "no call id"}}',
        b'{"event": "call_ended", "call": {"call_id": ""}}',
        b"\xff\xfe",
    ],
    ids=["broken", "array", "no-call", "no-call-id", "empty-call-id", "not-utf8"],
)
async def test_signed_but_invalid_bodies_are_400(
    harness: Harness, db: Database, raw: bytes
) -> None:
    response = await harness.post(raw)
    assert response.status_code == 400
    assert await table_count(db, webhook_deliveries) == 0


async def test_without_an_api_key_everything_is_503_and_said_once(
    db: Database, harness_factory: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    harness = harness_factory(db, key=None)
    caplog.set_level(logging.ERROR, logger="voiceops.web.webhook")
    for sample in signed_samples():
        harness.clock.now_ms = sample.timestamp_ms
        assert (await harness.post(sample.raw_body, header=sample.header)).status_code == 503
    inbound = await harness.post(b"{}", path="/webhooks/retell/inbound")
    assert inbound.status_code == 503
    assert len([r for r in caplog.records if "VOICEOPS_RETELL_API_KEY" in r.message]) == 1
    assert await table_count(db, webhook_deliveries) == 0


async def test_inbound_call_gets_dynamic_variables(harness: Harness, db: Database) -> None:
    harness.clock.now_ms = 1767225600000  # 2026-01-01 00:00 UTC
    raw = json.dumps(
        {
            "event": "call_inbound",
            "call_inbound": {"from_number": "+14155550101", "to_number": "+14155550199"},
        }
    ).encode()
    response = await harness.post(raw, path="/webhooks/retell/inbound")
    assert response.status_code == 200
    variables = response.json()["call_inbound"]["dynamic_variables"]
    assert variables["business_name"] == harness.profile.business_name
    assert variables["agent_name"] == harness.profile.agent_name
    assert variables["caller_timezone"] == "America/Los_Angeles"
    assert variables["caller_local_time"] == "16:00"
    assert variables["caller_local_date"] == "2025-12-31"
    assert all(isinstance(v, str) for v in variables.values())
    assert await table_count(db, webhook_deliveries) == 0
    unsigned = await harness.client.post("/webhooks/retell/inbound", content=raw)
    assert unsigned.status_code == 401
    wrong_event = await harness.post(body("call_started", {"call_id": "c"}), path=unsigned.url.path)
    assert wrong_event.status_code == 400


async def test_database_away_means_503_so_retell_retries(harness_factory: HarnessFactory) -> None:
    # Port 1 refuses connections: storing the delivery fails before any ack.
    away = await Database.open("postgresql+asyncpg://voiceops@127.0.0.1:1/none")
    try:
        harness = harness_factory(away)
        response = await harness.post(body("call_started", {"call_id": "c"}))
        assert response.status_code == 503
        assert harness.counter("voiceops_webhook_rejected_total", {"reason": "unavailable"}) == 1
    finally:
        await away.close()
