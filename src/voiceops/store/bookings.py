"""Bookings and callback requests: :class:`SqlBookingRepo`, the ``BookingRepo`` of
``core/ports.py`` on SQL.

A slot is given once: creating or moving a confirmed booking checks for an overlapping
confirmed booking and writes in one step, under one lock for all booking writes (SQLite's
write lock, a PostgreSQL advisory lock), and raises :class:`SlotTaken` when the slot is
gone. Every method runs in its own transaction and raises :class:`StorageError` when the
database refuses or is away.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.core.clock import Clock, SystemClock
from voiceops.core.errors import SlotTaken, StorageError
from voiceops.core.names import name_key, name_query
from voiceops.core.phone import phone_digits
from voiceops.core.ports import Booking, BookingStatus, CallbackRequest
from voiceops.store.db import Database, first_row
from voiceops.store.tables import booking_changes, bookings, callback_requests


def _booking(row: RowMapping) -> Booking:
    return Booking(
        booking_id=row["booking_id"],
        call_id=row["call_id"],
        service=row["service"],
        customer_name=row["customer_name"],
        customer_phone=row["customer_phone"],
        start_utc=row["start_utc"],
        end_utc=row["end_utc"],
        caller_zone=row["caller_zone"],
        local_start=row["local_start"],
        status=cast(BookingStatus, row["status"]),
        idempotency_key=row["idempotency_key"],
        created_at=row["created_at"],
        price=row["price"],
        notes=row["notes"],
    )


def _callback(row: RowMapping) -> CallbackRequest:
    return CallbackRequest(
        request_id=row["request_id"],
        call_id=row["call_id"],
        name=row["name"],
        phone=row["phone"],
        reason=row["reason"],
        priority=row["priority"],
        idempotency_key=row["idempotency_key"],
        created_at=row["created_at"],
    )


BOOKINGS_LOCK = "bookings"
"""Every booking write of every process takes this one lock (a few milliseconds each): the
overlap check and the write it guards must see and exclude each other."""


def _takes_a_slot(stored: Booking, change: Booking) -> bool:
    """Whether ``change`` occupies time that ``stored`` did not hold: it is confirmed, and
    moves the booking or confirms it again."""
    if change.status != "confirmed":
        return False
    held = (stored.status, stored.start_utc, stored.end_utc)
    return held != ("confirmed", change.start_utc, change.end_utc)


async def _refuse_overlap(conn: AsyncConnection, booking: Booking) -> None:
    """Raise :class:`SlotTaken` when a confirmed booking other than ``booking`` overlaps
    its ``[start_utc, end_utc)``."""
    stmt = (
        select(bookings.c.booking_id)
        .where(
            bookings.c.status == "confirmed",
            bookings.c.start_utc < booking.end_utc,
            bookings.c.end_utc > booking.start_utc,
            bookings.c.booking_id != booking.booking_id,
        )
        .limit(1)
    )
    taken = (await conn.execute(stmt)).scalar_one_or_none()
    if taken is not None:
        raise SlotTaken(f"booking {booking.booking_id} overlaps booking {taken}")


class SqlBookingRepo:
    """``BookingRepo`` on SQL. Idempotency keys are unique columns, so a tool that runs
    twice (speculative turns, retries) inserts once and gets the stored row back."""

    def __init__(self, db: Database, *, clock: Clock | None = None) -> None:
        self._db = db
        self._clock: Clock = SystemClock() if clock is None else clock

    async def create_booking(self, booking: Booking) -> Booking:
        """Insert ``booking``; if its idempotency key exists already, return the stored one.

        A confirmed booking is inserted only if no confirmed booking overlaps it, and the
        check and the insert are one step (:meth:`Database.serialized`): of callers racing
        for one slot, on any number of processes, one gets it and the others get
        :class:`SlotTaken`.
        """
        by_key = select(bookings).where(bookings.c.idempotency_key == booking.idempotency_key)
        async with self._db.serialized("create booking", BOOKINGS_LOCK) as conn:
            stored = await first_row(conn, by_key)
            if stored is not None:
                return _booking(stored)
            if booking.status == "confirmed":
                await _refuse_overlap(conn, booking)
            insert = self._db.insert(bookings).values(**self._row(booking))
            await conn.execute(insert.on_conflict_do_nothing(index_elements=["idempotency_key"]))
            row = await first_row(conn, by_key)
        if row is None:  # pragma: no cover - the row was just inserted
            raise StorageError("booking vanished right after its insert")
        return _booking(row)

    def _row(self, booking: Booking) -> dict[str, Any]:
        return {
            "booking_id": booking.booking_id,
            "call_id": booking.call_id,
            "service": booking.service,
            "customer_name": booking.customer_name,
            "customer_phone": booking.customer_phone,
            "phone_key": phone_digits(booking.customer_phone),
            "name_key": name_key(booking.customer_name)[:255],
            "start_utc": booking.start_utc,
            "end_utc": booking.end_utc,
            "caller_zone": booking.caller_zone,
            "local_start": booking.local_start,
            "status": booking.status,
            "idempotency_key": booking.idempotency_key,
            "price": booking.price,
            "notes": booking.notes,
            "created_at": booking.created_at,
            "updated_at": self._clock.now(),
        }

    async def get_booking(self, booking_id: str) -> Booking | None:
        async with self._db.transaction("read booking") as conn:
            row = await first_row(conn, select(bookings).where(bookings.c.booking_id == booking_id))
        return None if row is None else _booking(row)

    async def bookings_between(self, start_utc: datetime, end_utc: datetime) -> list[Booking]:
        """Confirmed bookings overlapping ``[start_utc, end_utc)``, earliest first."""
        stmt = (
            select(bookings)
            .where(
                bookings.c.status == "confirmed",
                bookings.c.start_utc < end_utc,
                bookings.c.end_utc > start_utc,
            )
            .order_by(bookings.c.start_utc, bookings.c.booking_id)
        )
        async with self._db.transaction("list bookings") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_booking(row) for row in rows]

    async def find_bookings(
        self, *, phone: str | None = None, name: str | None = None, call_id: str | None = None
    ) -> list[Booking]:
        """Confirmed bookings matching any given key (phone by its digits, name
        case-insensitively), newest first (by creation). No key at all finds nothing."""
        keys = []
        wanted_phone = phone_digits(phone)
        if wanted_phone:
            keys.append(bookings.c.phone_key == wanted_phone)
        query = name_query(name) if name else None
        if query is not None:
            keys.append(bookings.c.name_key == query.whole[:255])
            if query.single is not None:
                # "Mrs Patterson", "it's under Joan": a first or a last name alone.
                keys.append(bookings.c.name_key.endswith(f" {query.single}", autoescape=True))
                keys.append(bookings.c.name_key.startswith(f"{query.single} ", autoescape=True))
        if call_id:
            keys.append(bookings.c.call_id == call_id)
        if not keys:
            return []
        stmt = (
            select(bookings)
            .where(bookings.c.status == "confirmed", or_(*keys))
            .order_by(bookings.c.created_at.desc(), bookings.c.booking_id.desc())
        )
        async with self._db.transaction("find bookings") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_booking(row) for row in rows]

    async def update_booking(self, booking: Booking, *, idempotency_key: str) -> Booking:
        """Replace the booking's time, zone, status and notes with ``booking``'s (its
        identity, customer and service stay as first stored).

        Each change is recorded under its ``idempotency_key`` in ``booking_changes``; a
        repeated key changes nothing and returns the booking as stored. A change that would
        make the booking overlap another confirmed one (moving it, or confirming it again)
        raises :class:`SlotTaken`, checked and applied in one step like
        :meth:`create_booking`. Raises :class:`StorageError` for an unknown ``booking_id``.
        """
        now = self._clock.now()
        where = bookings.c.booking_id == booking.booking_id
        seen = select(booking_changes.c.id).where(
            booking_changes.c.idempotency_key == idempotency_key
        )
        async with self._db.serialized("update booking", BOOKINGS_LOCK) as conn:
            stored = await first_row(conn, select(bookings).where(where))
            if stored is None:
                raise StorageError(f"no booking {booking.booking_id!r} to update")
            if (await conn.execute(seen)).first() is None:
                if _takes_a_slot(_booking(stored), booking):
                    await _refuse_overlap(conn, booking)
                await conn.execute(
                    booking_changes.insert().values(
                        booking_id=booking.booking_id,
                        idempotency_key=idempotency_key,
                        start_utc=booking.start_utc,
                        end_utc=booking.end_utc,
                        status=booking.status,
                        created_at=now,
                    )
                )
                await conn.execute(
                    update(bookings)
                    .where(where)
                    .values(
                        start_utc=booking.start_utc,
                        end_utc=booking.end_utc,
                        caller_zone=booking.caller_zone,
                        local_start=booking.local_start,
                        status=booking.status,
                        notes=booking.notes,
                        updated_at=now,
                    )
                )
            row = await first_row(conn, select(bookings).where(where))
        if row is None:  # pragma: no cover - the lock keeps other writers out
            raise StorageError("booking vanished during its update")
        return _booking(row)

    async def create_callback(self, request: CallbackRequest) -> CallbackRequest:
        stmt = (
            self._db.insert(callback_requests)
            .values(
                request_id=request.request_id,
                call_id=request.call_id,
                name=request.name,
                phone=request.phone,
                reason=request.reason,
                priority=request.priority,
                idempotency_key=request.idempotency_key,
                created_at=request.created_at,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        key = callback_requests.c.idempotency_key == request.idempotency_key
        async with self._db.transaction("create callback request") as conn:
            await conn.execute(stmt)
            row = await first_row(conn, select(callback_requests).where(key))
        if row is None:  # pragma: no cover - the row was just inserted or already there
            raise StorageError("callback request vanished right after its insert")
        return _callback(row)

    async def list_callbacks(self, *, limit: int = 50, offset: int = 0) -> list[CallbackRequest]:
        """Callback requests, newest first (for the operator's dashboard)."""
        stmt = (
            select(callback_requests)
            .order_by(callback_requests.c.created_at.desc(), callback_requests.c.request_id)
            .limit(limit)
            .offset(offset)
        )
        async with self._db.transaction("list callback requests") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_callback(row) for row in rows]
