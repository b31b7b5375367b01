"""After the ack: deliveries survive a process that dies before applying them, failures are
kept and retried, and the route works over a real socket."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette

from tests.webhooks.conftest import MAX_BODY, Harness, HarnessFactory
from tests.webhooks.samples import signed_samples
from voiceops.core.clock import ManualClock
from voiceops.metrics import Metrics
from voiceops.retell.webhooks import sign
from voiceops.store.calls import CallRepo
from voiceops.store.db import Database
from voiceops.store.tables import call_events, webhook_deliveries
from voiceops.store.webhooks import WebhookDeliveryRepo
from voiceops.web.webhook import WebhookProcessor

CALL_ID = "call_8d1f0c3b9a7e4d2f6a5b"


async def test_deliveries_acked_before_a_crash_are_applied_at_next_start(
    db: Database, harness_factory: HarnessFactory
) -> None:
    # A process that acknowledges deliveries but dies before its processor runs them.
    dying = harness_factory(db)
    for sample in signed_samples():
        dying.clock.now_ms = sample.timestamp_ms
        assert (await dying.post(sample.raw_body, header=sample.header)).status_code == 204
    assert await CallRepo(db).get(CALL_ID) is None
    # The next process finds them on start.
    restarted = harness_factory(db)
    await restarted.processor.start()
    await restarted.processor.join()
    call = await CallRepo(db).get(CALL_ID)
    assert call is not None
    assert call["call_status"] == "ended"
    assert call["call_analysis"]["call_successful"] is True
    assert await WebhookDeliveryRepo(db).pending_ids(max_attempts=10) == []


async def test_a_delivery_that_cannot_be_applied_is_kept_with_its_error(db: Database) -> None:
    deliveries = WebhookDeliveryRepo(db)
    # Injected fault: a stored body that no longer parses as a call webhook.
    bad = await deliveries.record(
        dedupe_key="call_ended:broken",
        event="call_ended",
        call_id="broken",
        sequence=0,
        signed_at_ms=None,
        raw_body=b'{"event": "call_ended", "call": {}}',
    )
    assert bad is not None
    processor = WebhookProcessor(
        db,
        Metrics(),
        clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)),
        rescan_interval_s=3600,
        max_attempts=2,
    )
    await processor.start()  # picks it up: attempt 1
    try:
        await processor.join()
        for _ in range(2):  # attempt 2, then nothing: it is out of attempts
            processor.submit(bad)
            await processor.join()
    finally:
        await processor.stop()
    async with db.engine.connect() as conn:
        row = (
            (await conn.execute(select(webhook_deliveries).where(webhook_deliveries.c.id == bad)))
            .mappings()
            .one()
        )
    assert row["processed_at"] is None
    assert row["attempts"] == 2
    assert "PayloadError" in row["last_error"]
    # Past max_attempts it is no longer picked up, but it stays for an operator to see.
    assert await deliveries.pending_ids(max_attempts=2) == []


async def test_timeline_events_are_recorded_once(harness: Harness, db: Database) -> None:
    for sample in signed_samples():
        harness.clock.now_ms = sample.timestamp_ms
        await harness.post(sample.raw_body, header=sample.header)
        await harness.post(sample.raw_body, header=sample.header)
    await harness.processor.join()
    async with db.engine.connect() as conn:
        kinds = (
            (await conn.execute(select(call_events.c.event_type).order_by(call_events.c.id)))
            .scalars()
            .all()
        )
    assert kinds == ["webhook_call_started", "webhook_call_ended", "webhook_call_analyzed"]


@pytest.fixture
async def served(harness: Harness) -> AsyncIterator[str]:
    """The harness's app on uvicorn, on a free local port; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app: Starlette = harness.app
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="off", ws="none", log_level="warning", access_log=False)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def test_over_a_real_socket(harness: Harness, served: str, db: Database) -> None:
    async with httpx.AsyncClient(base_url=served) as client:
        for sample in signed_samples():
            harness.clock.now_ms = sample.timestamp_ms + 250
            for _ in range(4):  # the delivery and three retries
                response = await client.post(
                    "/webhooks/retell",
                    content=sample.raw_body,
                    headers={
                        "content-type": "application/json",
                        "x-retell-signature": sample.header,
                    },
                )
                assert response.status_code == 204
        big = b"{" + b" " * (MAX_BODY + 1) + b"}"
        too_big = await client.post(
            "/webhooks/retell",
            content=big,
            headers={"x-retell-signature": sign(big, "k", harness.clock.now_ms)},
        )
        assert too_big.status_code == 413
        unsigned = await client.post("/webhooks/retell", content=signed_samples()[0].raw_body)
        assert unsigned.status_code == 401
        assert unsigned.content == b""
    await harness.processor.join()
    async with db.engine.connect() as conn:
        stored = (await conn.execute(select(webhook_deliveries.c.event))).scalars().all()
    assert sorted(stored) == ["call_analyzed", "call_ended", "call_started"]
    call = await CallRepo(db).get(CALL_ID)
    assert call is not None
    assert call["ended_at"] == datetime(2026, 1, 1, 0, 3, 1, tzinfo=UTC)
