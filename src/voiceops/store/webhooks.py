"""Webhook deliveries: :class:`WebhookDeliveryRepo` keeps every delivery (raw body
included) and whether it was processed, so a retry is recognised and a crash loses
nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.core.clock import Clock, SystemClock
from voiceops.store.db import Database, first_row
from voiceops.store.tables import webhook_deliveries


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    event: str
    call_id: str | None
    sequence: int
    raw_body: bytes
    attempts: int
    processed: bool


class WebhookDeliveryRepo:
    """Webhook deliveries, stored before they are acknowledged and processed after.

    A delivery is identified by its dedupe key (``retell.webhooks.dedupe_key``). A retry
    with the same key is a duplicate and changes nothing, except that a delivery with a
    larger ``sequence`` (a longer ``transcript_updated`` snapshot) replaces the stored one
    and is processed again: latest snapshot wins.
    """

    def __init__(self, db: Database, *, clock: Clock | None = None) -> None:
        self._db = db
        self._clock: Clock = SystemClock() if clock is None else clock

    async def record(
        self,
        *,
        dedupe_key: str,
        event: str,
        call_id: str | None,
        sequence: int,
        signed_at_ms: int | None,
        raw_body: bytes,
    ) -> int | None:
        """Store a delivery; its id when it needs processing, ``None`` for a duplicate."""
        now = self._clock.now()
        insert = self._db.insert(webhook_deliveries).values(
            dedupe_key=dedupe_key,
            event=event,
            call_id=call_id,
            sequence=sequence,
            signed_at_ms=signed_at_ms,
            raw_body=raw_body,
            received_at=now,
            attempts=0,
        )
        new = insert.excluded
        stmt = insert.on_conflict_do_update(
            index_elements=["dedupe_key"],
            set_={
                "raw_body": new.raw_body,
                "sequence": new.sequence,
                "signed_at_ms": new.signed_at_ms,
                "received_at": new.received_at,
                "processed_at": None,
                "attempts": 0,
                "last_error": None,
            },
            where=webhook_deliveries.c.sequence < new.sequence,
        ).returning(webhook_deliveries.c.id)
        async with self._db.transaction("record webhook delivery") as conn:
            delivery_id = (await conn.execute(stmt)).scalar_one_or_none()
        return None if delivery_id is None else int(delivery_id)

    async def get(self, delivery_id: int) -> Delivery | None:
        stmt = select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
        async with self._db.transaction("read webhook delivery") as conn:
            row = await first_row(conn, stmt)
        if row is None:
            return None
        return Delivery(
            id=int(row["id"]),
            event=row["event"],
            call_id=row["call_id"],
            sequence=int(row["sequence"]),
            raw_body=bytes(row["raw_body"]),
            attempts=int(row["attempts"]),
            processed=row["processed_at"] is not None,
        )

    async def pending_ids(self, *, max_attempts: int, limit: int = 1000) -> list[int]:
        """Unprocessed deliveries that have failed fewer than ``max_attempts`` times,
        oldest first."""
        stmt = (
            select(webhook_deliveries.c.id)
            .where(
                webhook_deliveries.c.processed_at.is_(None),
                webhook_deliveries.c.attempts < max_attempts,
            )
            .order_by(webhook_deliveries.c.id)
            .limit(limit)
        )
        async with self._db.transaction("list pending webhook deliveries") as conn:
            return [int(i) for i in (await conn.execute(stmt)).scalars().all()]

    async def complete(
        self, delivery: Delivery, apply: Callable[[AsyncConnection], Awaitable[None]]
    ) -> bool:
        """Run ``apply`` and mark the delivery processed, in one transaction.

        Returns ``False`` (and still commits ``apply``, which is idempotent) when a newer
        snapshot replaced the delivery meanwhile: that one is processed next.
        """
        stmt = (
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.id == delivery.id,
                webhook_deliveries.c.sequence == delivery.sequence,
            )
            .values(processed_at=self._clock.now(), last_error=None)
        )
        async with self._db.transaction("process webhook delivery") as conn:
            await apply(conn)
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def fail(self, delivery_id: int, error: str) -> int:
        """Count a failed processing attempt; returns the attempts so far."""
        stmt = (
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(attempts=webhook_deliveries.c.attempts + 1, last_error=error[:2000])
            .returning(webhook_deliveries.c.attempts)
        )
        async with self._db.transaction("record webhook failure") as conn:
            attempts = (await conn.execute(stmt)).scalar_one_or_none()
        return int(attempts or 0)
