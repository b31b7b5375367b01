"""Retell's webhook routes and the processor that applies deliveries after the ack.

``POST /webhooks/retell`` takes call webhooks (section 8 of the protocol reference):

1. refuse everything with 503 while no Retell API key is configured (never accept an
   unsigned webhook);
2. bound the body: 413 when ``Content-Length`` exceeds the limit, and again while
   streaming, so no more than the limit is ever read;
3. verify ``x-retell-signature`` on the raw bytes: 401 with an empty body on any failure;
4. parse: 400 for invalid JSON or a body that is not a call webhook;
5. store the delivery (raw body kept) under its dedupe key and answer 204. A retry finds
   the key taken and changes nothing; a failing database answers 503 so Retell retries.

The work a delivery causes (merging the call record, the call's timeline event) happens
in :class:`WebhookProcessor`, after the ack. Deliveries are durable before the ack, so a
process that dies before processing them finds them again at its next start.

``POST /webhooks/retell/inbound`` answers the inbound-call webhook (section 8.4) with the
agent's dynamic variables; it changes nothing and is not stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from voiceops.config import Settings
from voiceops.core.callevents import CallEvent
from voiceops.core.clock import Clock, Deadline, utc_now_ms
from voiceops.core.errors import PayloadError, SignatureError, StorageError
from voiceops.core.profile import AgentProfile
from voiceops.masking import mask_phone
from voiceops.metrics import Metrics
from voiceops.retell.webhooks import (
    LIFECYCLE_EVENTS,
    SIGNATURE_HEADER,
    TRANSCRIPT_EVENT,
    TRANSFER_EVENTS,
    WebhookPayload,
    dedupe_key,
    inbound_response,
    parse_inbound,
    parse_payload,
    parse_signature,
    verify_signature,
)
from voiceops.store.calls import CallRepo
from voiceops.store.db import Database
from voiceops.store.retell_records import RetellRecordRepo
from voiceops.store.webhooks import Delivery, WebhookDeliveryRepo

log = logging.getLogger(__name__)

RESCAN_INTERVAL_S = 10.0
MAX_ATTEMPTS = 10
STOP_TIMEOUT_S = 5.0
_QUEUE_SIZE = 1000


class _Refused(Exception):
    """Ends a request early with ``status`` and an empty body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WebhookProcessor:
    """Applies stored deliveries to the call records, one at a time, after the ack.

    :meth:`submit` never blocks: when the in-memory queue is full the delivery simply
    waits in the database for the next rescan. A failed delivery is retried at later
    rescans, up to ``max_attempts`` times; its error is kept on its row.
    """

    def __init__(
        self,
        db: Database,
        metrics: Metrics,
        *,
        clock: Clock,
        rescan_interval_s: float = RESCAN_INTERVAL_S,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._deliveries = WebhookDeliveryRepo(db, clock=clock)
        self._calls = CallRepo(db, clock=clock)
        self._records = RetellRecordRepo(db, clock=clock)
        self._metrics = metrics
        self._clock = clock
        self._rescan_interval_s = rescan_interval_s
        self._max_attempts = max_attempts
        self._queue: asyncio.Queue[int] = asyncio.Queue(maxsize=_QUEUE_SIZE)
        self._task: asyncio.Task[None] | None = None
        self._rescan = True

    async def start(self) -> None:
        """Queue the deliveries a previous run left unprocessed and start the worker."""
        if self._task is not None:
            raise RuntimeError("webhook processor already started")
        await self._enqueue_pending()
        self._task = asyncio.create_task(self._run(), name="voiceops-webhook-processor")

    async def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Finish what is queued within ``timeout_s``, then stop. Unfinished deliveries
        stay in the database for the next start."""
        task, self._task = self._task, None
        if task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout_s)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def submit(self, delivery_id: int) -> None:
        try:
            self._queue.put_nowait(delivery_id)
        except asyncio.QueueFull:
            self._rescan = True

    async def join(self) -> None:
        """Wait until every submitted delivery has been handled."""
        await self._queue.join()

    async def _run(self) -> None:
        clock = self._clock
        next_rescan = clock.monotonic() + self._rescan_interval_s
        while True:
            if self._rescan or clock.monotonic() >= next_rescan:
                # Failed deliveries wait for this periodic scan: that spacing is their backoff.
                await self._enqueue_pending()
                next_rescan = clock.monotonic() + self._rescan_interval_s
            try:
                async with Deadline(clock, next_rescan):
                    delivery_id = await self._queue.get()
            except TimeoutError:
                continue
            try:
                await self._process(delivery_id)
            finally:
                self._queue.task_done()

    async def _enqueue_pending(self) -> None:
        try:
            pending = await self._deliveries.pending_ids(max_attempts=self._max_attempts)
        except StorageError as exc:
            log.warning("cannot list pending webhook deliveries: %s", exc)
            return
        self._rescan = False
        for delivery_id in pending:
            self.submit(delivery_id)

    async def _process(self, delivery_id: int) -> None:
        try:
            delivery = await self._deliveries.get(delivery_id)
            if delivery is None or delivery.processed or delivery.attempts >= self._max_attempts:
                return
            payload = parse_payload(delivery.raw_body)
            current = await self._deliveries.complete(delivery, self._applier(payload, delivery))
        except (StorageError, PayloadError, ValueError) as exc:
            await self._failed(delivery_id, exc)
            return
        except Exception as exc:
            # A bug must not stop the worker for every later delivery; the row keeps the
            # error and the delivery is retried at the next rescan.
            log.exception("webhook delivery %d crashed its processing", delivery_id)
            await self._failed(delivery_id, exc)
            return
        if current:
            log.info("webhook %s applied to call %s", payload.event, payload.call_id)

    def _applier(
        self, payload: WebhookPayload, delivery: Delivery
    ) -> Callable[[AsyncConnection], Awaitable[None]]:
        calls = self._calls

        async def apply(conn: AsyncConnection) -> None:
            await calls.apply_in(
                conn,
                payload.event,
                payload.call,
                transfer_destination=payload.transfer_destination,
            )
            # Retell's record of the call (status, cost, latency ...), merged with syncs.
            await self._records.merge_webhook_in(
                conn,
                payload.event,
                payload.call,
                transfer_destination=payload.transfer_destination,
                delivery_id=delivery.id,
            )
            if payload.event in LIFECYCLE_EVENTS or payload.event in TRANSFER_EVENTS:
                await calls.record_event_in(
                    conn, _timeline_event(payload, delivery, self._clock.now())
                )

        return apply

    async def _failed(self, delivery_id: int, exc: Exception) -> None:
        try:
            attempts = await self._deliveries.fail(delivery_id, f"{type(exc).__name__}: {exc}")
        except StorageError as again:
            log.warning(
                "webhook delivery %d failed (%s); cannot record it: %s", delivery_id, exc, again
            )
            return
        level = logging.ERROR if attempts >= self._max_attempts else logging.WARNING
        log.log(level, "webhook delivery %d failed (attempt %d): %s", delivery_id, attempts, exc)


def _timeline_event(payload: WebhookPayload, delivery: Delivery, now: datetime) -> CallEvent:
    key = dedupe_key(payload)
    if len(key) > 200:
        key = hashlib.sha256(key.encode("utf-8")).hexdigest()
    details: dict[str, Any] = {
        name: payload.call[name]
        for name in ("call_status", "disconnection_reason", "duration_ms")
        if name in payload.call
    }
    if payload.transfer_destination is not None:
        details["transfer_destination"] = payload.transfer_destination
    return CallEvent(
        call_id=payload.call_id,
        event_type=f"webhook_{payload.event}",
        payload={"delivery_id": delivery.id, **details},
        event_id=f"webhook:{key}",
        created_at=now,
    )


class _WebhookEndpoints:
    def __init__(
        self,
        *,
        db: Database,
        settings: Settings,
        metrics: Metrics,
        profile: AgentProfile,
        processor: WebhookProcessor,
        clock: Clock,
    ) -> None:
        self._deliveries = WebhookDeliveryRepo(db, clock=clock)
        self._settings = settings
        self._metrics = metrics
        self._profile = profile
        self._processor = processor
        self._clock = clock
        self._warned_no_key = False

    async def call_webhook(self, request: Request) -> Response:
        try:
            raw = await self._verified_body(request)
            payload = parse_payload(raw)
        except _Refused as refused:
            return self._refuse(refused)
        except PayloadError as exc:
            log.warning("webhook refused: %s", exc)
            return self._refuse(_Refused(400, "bad_request"))
        key = dedupe_key(payload)
        sequence = payload.snapshot_size if payload.event == TRANSCRIPT_EVENT else 0
        try:
            delivery_id = await self._deliveries.record(
                dedupe_key=key,
                event=payload.event,
                call_id=payload.call_id,
                sequence=sequence,
                signed_at_ms=parse_signature(request.headers.get(SIGNATURE_HEADER)).timestamp_ms,
                raw_body=raw,
            )
        except StorageError as exc:
            # Not stored means not acknowledged: Retell retries later.
            log.error("webhook %s for call %s not stored: %s", payload.event, payload.call_id, exc)
            return self._refuse(_Refused(503, "unavailable"))
        if delivery_id is None:
            self._metrics.webhook_duplicates.inc()
            log.info("webhook %s for call %s is a retry; ignored", payload.event, payload.call_id)
            return Response(status_code=204)
        self._metrics.webhooks.labels(payload.event).inc()
        self._processor.submit(delivery_id)
        return Response(status_code=204)

    async def inbound_webhook(self, request: Request) -> Response:
        try:
            raw = await self._verified_body(request)
            payload = parse_inbound(raw)
        except _Refused as refused:
            return self._refuse(refused)
        except PayloadError as exc:
            log.warning("inbound-call webhook refused: %s", exc)
            return self._refuse(_Refused(400, "bad_request"))
        self._metrics.webhooks.labels(payload.event).inc()
        log.info(
            "inbound call from %s to %s",
            mask_phone(payload.call_inbound.from_number),
            mask_phone(payload.call_inbound.to_number),
        )
        now = self._clock.now()
        return JSONResponse(inbound_response(self._profile, payload, now))

    async def _verified_body(self, request: Request) -> bytes:
        api_key = self._settings.retell_api_key
        if api_key is None:
            if not self._warned_no_key:
                self._warned_no_key = True
                log.error(
                    "refusing Retell webhooks with 503: VOICEOPS_RETELL_API_KEY is not set, "
                    "so their signatures cannot be checked"
                )
            raise _Refused(503, "no_key")
        raw = await _read_bounded(request, self._settings.webhook_max_body_bytes)
        try:
            verify_signature(
                raw,
                request.headers.get(SIGNATURE_HEADER),
                api_key.get_secret_value(),
                now_ms=utc_now_ms(self._clock),
                tolerance_ms=self._settings.webhook_tolerance_ms,
            )
        except SignatureError as exc:
            log.warning("webhook refused: %s", exc)
            raise _Refused(401, "signature") from None
        return raw

    def _refuse(self, refused: _Refused) -> Response:
        self._metrics.webhook_rejected.labels(refused.reason).inc()
        return Response(status_code=refused.status)


async def _read_bounded(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it is known to exceed ``limit`` bytes:
    by ``Content-Length`` before reading anything, or by counting while streaming (a
    chunked body, or a client that lies about its length)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise _Refused(400, "bad_request")
        if int(declared) > limit:
            raise _Refused(413, "too_large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _Refused(413, "too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_routes(
    *,
    db: Database,
    settings: Settings,
    metrics: Metrics,
    profile: AgentProfile,
    clock: Clock,
) -> tuple[list[BaseRoute], WebhookProcessor]:
    """The webhook routes and their processor (start and stop it in the app lifespan).

    ``clock`` is the process's clock: the signature's timestamp window, the inbound
    answer's local time and the processor's rescans all read it.
    """
    processor = WebhookProcessor(db, metrics, clock=clock)
    endpoints = _WebhookEndpoints(
        db=db,
        settings=settings,
        metrics=metrics,
        profile=profile,
        processor=processor,
        clock=clock,
    )
    routes: list[BaseRoute] = [
        Route("/webhooks/retell", endpoints.call_webhook, methods=["POST"]),
        Route("/webhooks/retell/inbound", endpoints.inbound_webhook, methods=["POST"]),
    ]
    return routes, processor
