"""An in-memory :class:`~voiceops.core.ports.BookingRepo` for tests, scripts and evals.

It keeps the same contract as the SQL repository (``store/bookings.py``): idempotency keys make
repeated creates and updates return the stored row, ``bookings_between`` sees only confirmed
bookings, lookups return newest first. Every method runs without awaiting, so each call is
atomic with respect to other tasks on the event loop. State lives only as long as the object.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from voiceops.core.errors import StorageError
from voiceops.core.names import name_matches, name_query
from voiceops.core.phone import phone_digits
from voiceops.core.ports import Booking, CallbackRequest


class InMemoryBookingRepo:
    """Bookings and callback requests in dictionaries. Not shared between processes."""

    def __init__(self) -> None:
        self._bookings: dict[str, Booking] = {}
        self._by_key: dict[str, str] = {}
        """Creation idempotency key -> booking id."""
        self._update_keys: dict[str, str] = {}
        """Update idempotency key -> booking id."""
        self._callbacks: dict[str, CallbackRequest] = {}
        """Callback idempotency key -> request."""

    async def create_booking(self, booking: Booking) -> Booking:
        """Insert; if ``idempotency_key`` exists already, return the stored booking."""
        existing = self._by_key.get(booking.idempotency_key)
        if existing is not None:
            return self._bookings[existing]
        if booking.booking_id in self._bookings:
            raise StorageError(f"booking id {booking.booking_id!r} exists already")
        self._bookings[booking.booking_id] = booking
        self._by_key[booking.idempotency_key] = booking.booking_id
        return booking

    async def get_booking(self, booking_id: str) -> Booking | None:
        return self._bookings.get(booking_id)

    async def bookings_between(self, start_utc: datetime, end_utc: datetime) -> list[Booking]:
        """Confirmed bookings overlapping ``[start_utc, end_utc)``, earliest first."""
        hits = [
            b
            for b in self._bookings.values()
            if b.status == "confirmed" and b.start_utc < end_utc and start_utc < b.end_utc
        ]
        return sorted(hits, key=lambda b: b.start_utc)

    async def find_bookings(
        self, *, phone: str | None = None, name: str | None = None, call_id: str | None = None
    ) -> list[Booking]:
        """Confirmed bookings matching any given key (phone by digits, name case-insensitively),
        newest first; no key at all matches nothing."""
        phone_key = phone_digits(phone) if phone else None
        query = name_query(name) if name else None

        def matches(b: Booking) -> bool:
            return bool(
                (phone_key and b.customer_phone and phone_digits(b.customer_phone) == phone_key)
                or (query is not None and name_matches(b.customer_name, query))
                or (call_id and b.call_id == call_id)
            )

        hits = [b for b in self._bookings.values() if b.status == "confirmed" and matches(b)]
        return sorted(hits, key=lambda b: b.created_at, reverse=True)

    async def update_booking(self, booking: Booking, *, idempotency_key: str) -> Booking:
        """Replace a booking's time/status; a repeated ``idempotency_key`` changes nothing
        and returns the stored row. Raises :class:`StorageError` for an unknown booking."""
        seen = self._update_keys.get(idempotency_key)
        if seen is not None:
            return self._bookings[seen]
        stored = self._bookings.get(booking.booking_id)
        if stored is None:
            raise StorageError(f"no booking {booking.booking_id!r} to update")
        # Identity and provenance stay as first stored; time, status and notes change.
        updated = dataclasses.replace(
            stored,
            start_utc=booking.start_utc,
            end_utc=booking.end_utc,
            caller_zone=booking.caller_zone,
            local_start=booking.local_start,
            status=booking.status,
            notes=booking.notes,
        )
        self._bookings[booking.booking_id] = updated
        self._update_keys[idempotency_key] = booking.booking_id
        return updated

    async def create_callback(self, request: CallbackRequest) -> CallbackRequest:
        """Insert; if ``idempotency_key`` exists already, return the stored request."""
        existing = self._callbacks.get(request.idempotency_key)
        if existing is not None:
            return existing
        self._callbacks[request.idempotency_key] = request
        return request

    @property
    def callbacks(self) -> list[CallbackRequest]:
        """Every stored callback request, oldest first (for tests and scripts)."""
        return sorted(self._callbacks.values(), key=lambda r: r.created_at)

    @property
    def bookings(self) -> list[Booking]:
        """Every stored booking, any status, oldest first (for tests and scripts)."""
        return sorted(self._bookings.values(), key=lambda b: b.created_at)
