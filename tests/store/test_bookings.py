"""SqlBookingRepo keeps the BookingRepo contract, and purge keeps the retention window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from voiceops.core.errors import StorageError
from voiceops.core.ports import Booking, CallbackRequest
from voiceops.core.state import CallState
from voiceops.store.bookings import SqlBookingRepo
from voiceops.store.calls import CallRepo
from voiceops.store.db import Database
from voiceops.store.retention import purge
from voiceops.store.states import StateStore
from voiceops.store.tables import booking_changes, bookings, call_events, calls

NOON = datetime(2030, 3, 4, 17, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TOMORROW = NOON + timedelta(days=1)


def booking(n: int, *, start: datetime = NOON, minutes: int = 30, **changes: object) -> Booking:
    base = Booking(
        booking_id=f"bk_{n}",
        call_id=f"call_{n}",
        service="Haircut",
        customer_name="Dana Smith",
        customer_phone="+12125550142",
        start_utc=start,
        end_utc=start + timedelta(minutes=minutes),
        caller_zone="America/New_York",
        local_start=start.astimezone().isoformat(),
        status="confirmed",
        idempotency_key=f"key_{n}",
        created_at=datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        price="35.00",
        notes="",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_create_is_idempotent_on_its_key(db: Database) -> None:
    repo = SqlBookingRepo(db)
    first = await repo.create_booking(booking(1))
    assert first == booking(1)
    again = await repo.create_booking(booking(1, booking_id="bk_other", service="Shave"))
    assert again == first
    assert await repo.get_booking("bk_other") is None
    with pytest.raises(StorageError):  # the same booking id under another key
        await repo.create_booking(booking(1, idempotency_key="another key", start=TOMORROW))


async def test_bookings_between_sees_confirmed_overlaps(db: Database) -> None:
    repo = SqlBookingRepo(db)
    await repo.create_booking(booking(1, start=NOON))
    await repo.create_booking(booking(2, start=NOON + timedelta(minutes=30)))
    await repo.create_booking(booking(3, start=NOON + timedelta(hours=1), status="cancelled"))
    window = await repo.bookings_between(NOON + timedelta(minutes=29), NOON + timedelta(hours=2))
    assert [b.booking_id for b in window] == ["bk_1", "bk_2"]
    # [start, end): a booking ending exactly at the window's start does not overlap.
    later = await repo.bookings_between(NOON + timedelta(minutes=30), NOON + timedelta(hours=2))
    assert [b.booking_id for b in later] == ["bk_2"]


async def test_find_by_phone_digits_name_or_call_newest_first(db: Database) -> None:
    repo = SqlBookingRepo(db)
    await repo.create_booking(booking(1))
    await repo.create_booking(
        booking(2, start=NOON + HOUR, customer_name="ÉLODIE Martin", customer_phone=None)
    )
    await repo.create_booking(booking(3, status="cancelled"))
    await repo.create_booking(booking(4, start=NOON + 2 * HOUR))
    by_phone = await repo.find_bookings(phone="+1 (212) 555-0142")
    assert [b.booking_id for b in by_phone] == ["bk_4", "bk_1"]
    by_name = await repo.find_bookings(name="  élodie martin ")
    assert [b.booking_id for b in by_name] == ["bk_2"]
    either = await repo.find_bookings(name="élodie martin", call_id="call_1")
    assert [b.booking_id for b in either] == ["bk_2", "bk_1"]
    assert await repo.find_bookings() == []


async def test_one_name_alone_finds_bookings_under_that_first_or_last_name(db: Database) -> None:
    repo = SqlBookingRepo(db)
    await repo.create_booking(booking(1, customer_name="Joan Patterson"))
    await repo.create_booking(booking(2, start=NOON + HOUR, customer_name="Pattersonville Jo"))
    await repo.create_booking(booking(3, start=NOON + 2 * HOUR, customer_name="Joan"))
    await repo.create_booking(booking(4, start=NOON + 3 * HOUR, customer_name="Ann 50%_off"))
    for said in ("Mrs Patterson", "patterson", "Mrs. PATTERSON"):
        assert [b.booking_id for b in await repo.find_bookings(name=said)] == ["bk_1"], said
    assert [b.booking_id for b in await repo.find_bookings(name="joan")] == ["bk_3", "bk_1"]
    assert await repo.find_bookings(name="Joan Smith") == []
    assert await repo.find_bookings(name="50%") == []
    assert [b.booking_id for b in await repo.find_bookings(name="50%_off")] == ["bk_4"]


async def test_update_is_idempotent_per_change_key(db: Database) -> None:
    repo = SqlBookingRepo(db)
    await repo.create_booking(booking(1))
    moved = booking(1, start=NOON + timedelta(days=1), service="ignored")
    first = await repo.update_booking(moved, idempotency_key="move-1")
    assert first.start_utc == NOON + timedelta(days=1)
    assert first.service == "Haircut"
    cancelled = await repo.update_booking(
        replace(first, status="cancelled"), idempotency_key="cancel-1"
    )
    assert cancelled.status == "cancelled"
    # The move retried after the cancel changes nothing.
    retried = await repo.update_booking(moved, idempotency_key="move-1")
    assert retried == cancelled
    async with db.engine.connect() as conn:
        changes = (
            await conn.execute(select(func.count()).select_from(booking_changes))
        ).scalar_one()
    assert changes == 2
    with pytest.raises(StorageError):
        await repo.update_booking(booking(9), idempotency_key="move-9")


async def test_callbacks_are_idempotent(db: Database) -> None:
    repo = SqlBookingRepo(db)
    request = CallbackRequest(
        request_id="cb_1",
        call_id="call_1",
        name="Dana",
        phone="+12125550142",
        reason="billing question",
        priority="high",
        idempotency_key="cb-key",
        created_at=NOON,
    )
    assert await repo.create_callback(request) == request
    assert await repo.create_callback(replace(request, request_id="cb_2")) == request
    assert await repo.list_callbacks() == [request]


async def test_purge_deletes_only_what_is_older_than_the_window(db: Database) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(days=40)
    calls_repo = CallRepo(db)
    for call_id in ("old", "new"):
        await calls_repo.set_outcome(call_id, "ended")
        await StateStore(db).save(CallState(call_id=call_id))
    repo = SqlBookingRepo(db)
    await repo.create_booking(booking(1, start=old, created_at=old))
    await repo.create_booking(booking(2, start=now + timedelta(days=3), created_at=old))
    async with db.engine.begin() as conn:
        await conn.execute(update(calls).where(calls.c.call_id == "old").values(created_at=old))
        await conn.execute(
            call_events.insert(),
            [
                {"event_id": "e1", "call_id": "old", "event_type": "x", "created_at": old},
                {"event_id": "e2", "call_id": "new", "event_type": "x", "created_at": now},
            ],
        )
    counts = await purge(db, timedelta(days=30))
    assert counts["calls"] == 1 and counts["call_events"] == 1
    assert counts["bookings"] == 1  # the past one; the future booking stays
    assert counts["call_states"] == 0
    assert await calls_repo.get("old") is None
    assert await calls_repo.get("new") is not None
    assert await repo.get_booking("bk_2") is not None
    async with db.engine.connect() as conn:
        left = (await conn.execute(select(bookings.c.booking_id))).scalars().all()
    assert left == ["bk_2"]
    with pytest.raises(ValueError):
        await purge(db, timedelta(0))
