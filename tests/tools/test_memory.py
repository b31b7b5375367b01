"""The in-memory repository keeps the BookingRepo contract the SQL repository keeps."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.tools.support import NEW_YORK, TUE_0900_NY
from voiceops.core.errors import StorageError
from voiceops.core.ports import Booking, CallbackRequest
from voiceops.tools.memory import InMemoryBookingRepo

START = datetime(2026, 12, 2, 15, tzinfo=UTC)


def booking(booking_id: str = "B-1", key: str = "k1", **changes: Any) -> Booking:
    base = Booking(
        booking_id=booking_id,
        call_id="call-1",
        service="haircut",
        customer_name="Ann Lee",
        customer_phone="+12125550100",
        start_utc=START,
        end_utc=START + timedelta(minutes=30),
        caller_zone=NEW_YORK,
        local_start="2026-12-02T10:00:00-05:00",
        status="confirmed",
        idempotency_key=key,
        created_at=TUE_0900_NY,
    )
    return dataclasses.replace(base, **changes)


async def test_create_is_idempotent_on_the_key() -> None:
    repo = InMemoryBookingRepo()
    first = await repo.create_booking(booking())
    again = await repo.create_booking(booking(booking_id="B-2", customer_name="Other"))
    assert again == first
    assert [b.booking_id for b in repo.bookings] == ["B-1"]


async def test_duplicate_id_with_another_key_is_refused() -> None:
    repo = InMemoryBookingRepo()
    await repo.create_booking(booking())
    with pytest.raises(StorageError, match="exists already"):
        await repo.create_booking(booking(key="k2"))


async def test_bookings_between_is_half_open_and_confirmed_only() -> None:
    repo = InMemoryBookingRepo()
    await repo.create_booking(booking())
    await repo.create_booking(
        booking(
            "B-2",
            "k2",
            start_utc=START + timedelta(hours=1),
            end_utc=START + timedelta(hours=1, minutes=30),
            status="cancelled",
        )
    )
    assert (
        await repo.bookings_between(START + timedelta(minutes=30), START + timedelta(hours=2)) == []
    )
    assert await repo.bookings_between(START - timedelta(minutes=30), START) == []
    hits = await repo.bookings_between(START + timedelta(minutes=29), START + timedelta(hours=3))
    assert [b.booking_id for b in hits] == ["B-1"]


async def test_find_bookings_matches_any_key_newest_first() -> None:
    repo = InMemoryBookingRepo()
    await repo.create_booking(booking())
    await repo.create_booking(
        booking(
            "B-2",
            "k2",
            customer_name="ann lee ",
            customer_phone=None,
            call_id="call-2",
            created_at=TUE_0900_NY + timedelta(minutes=5),
        )
    )
    await repo.create_booking(booking("B-3", "k3", customer_name="Bob", status="cancelled"))
    by_phone = await repo.find_bookings(phone="+1 (212) 555-0100")
    assert [b.booking_id for b in by_phone] == ["B-1"]
    by_name = await repo.find_bookings(name="ANN LEE")
    assert [b.booking_id for b in by_name] == ["B-2", "B-1"]
    assert [b.booking_id for b in await repo.find_bookings(call_id="call-2")] == ["B-2"]
    assert await repo.find_bookings(name="Bob") == []
    assert await repo.find_bookings() == []


async def test_update_is_idempotent_on_its_key_and_keeps_identity() -> None:
    repo = InMemoryBookingRepo()
    stored = await repo.create_booking(booking())
    later = START + timedelta(days=1)
    moved = await repo.update_booking(
        dataclasses.replace(
            stored, start_utc=later, end_utc=later + timedelta(minutes=30), customer_name="Changed"
        ),
        idempotency_key="move-1",
    )
    assert moved.start_utc == later
    assert moved.customer_name == "Ann Lee"  # identity fields never change on update
    again = await repo.update_booking(
        dataclasses.replace(stored, status="cancelled"), idempotency_key="move-1"
    )
    assert again == moved
    assert (await repo.get_booking("B-1")) == moved


async def test_update_of_unknown_booking_raises() -> None:
    with pytest.raises(StorageError, match="no booking"):
        await InMemoryBookingRepo().update_booking(booking(), idempotency_key="u")


async def test_callbacks_are_idempotent() -> None:
    repo = InMemoryBookingRepo()
    request = CallbackRequest(
        request_id="CB-1",
        call_id="call-1",
        name="Ann",
        phone="+12125550100",
        reason="billing",
        priority="high",
        idempotency_key="cb",
        created_at=TUE_0900_NY,
    )
    assert await repo.create_callback(request) == request
    assert await repo.create_callback(dataclasses.replace(request, request_id="CB-2")) == request
    assert repo.callbacks == [request]
