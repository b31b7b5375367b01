"""The appointment tools: book, find, reschedule and cancel (availability has its own module).

Arguments are CALLER-local wall times; the rules are judged in business time
(``tools/booking.py``). Commits (book, reschedule, cancel) carry an idempotency key, so a
repeated call changes nothing and answers with the stored row, and happen only while the
turn is current. Of two calls racing for one slot, the SQL repository lets one commit and
refuses the other (``SlotTaken``, answered ``slot_taken``). Over a repository that does not
(the in-memory one), both commit, then look again: the booking created first
(``created_at``, read from the app's clock at the commit, then the booking id) keeps the
slot and the other is cancelled and answered ``slot_taken``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

from voiceops.core.errors import SlotTaken
from voiceops.core.ports import Booking, ToolStatus
from voiceops.tools.booking import Slot, check_instant, find_slots
from voiceops.tools.results import (
    SUPERSEDED,
    Booked,
    BookingView,
    Cancelled,
    Found,
    FoundBooking,
    Rescheduled,
    SlotView,
    ToolFailure,
)
from voiceops.tools.scope import canonical_id, idempotency_key, masked, short_id
from voiceops.tools.timefmt import iso_local, iso_utc, parse_start, spoken_datetime, spoken_price

if TYPE_CHECKING:
    from voiceops.core.profile import Service
    from voiceops.tools.schemas import (
        BookAppointmentArgs,
        CancelArgs,
        FindBookingArgs,
        RescheduleArgs,
    )
    from voiceops.tools.scope import ToolScope

MAX_FIND_RESULTS = 5
MAX_REBOOKINGS = 5
"""Book, cancel, book the same slot again (or move a booking back and forth): how many
rounds of the same request one call may go."""

_Change = TypeVar("_Change", Booked, Rescheduled)


# --------------------------------------------------------------------------------------
# views and shared steps


def slot_view(scope: ToolScope, slot: Slot) -> SlotView:
    """A slot as tools report it: caller-local start, UTC start and the spoken phrase."""
    return SlotView(
        start_local=slot.start_utc.astimezone(scope.clock.zone),
        start_utc=slot.start_utc,
        spoken=spoken_datetime(slot.start_utc, scope.clock),
    )


def booking_fields(scope: ToolScope, booking: Booking) -> dict[str, Any]:
    """The fields of a :class:`BookingView` of ``booking``, in the caller's time."""
    service = scope.service(booking.service)
    price = booking.price or (str(service.price) if service else "")
    try:
        price_spoken = spoken_price(Decimal(price)) if price else ""
    except (InvalidOperation, ValueError):
        # A price stored by an older catalogue in a free-text form: leave it unspoken.
        price_spoken = ""
    return {
        "booking_id": booking.booking_id,
        "service": booking.service,
        "start_local": booking.start_utc.astimezone(scope.clock.zone),
        "start_utc": booking.start_utc,
        "zone": scope.clock.zone.key,
        "customer_name": booking.customer_name,
        "spoken": spoken_datetime(booking.start_utc, scope.clock),
        "price": price,
        "price_spoken": price_spoken,
    }


def booking_view(scope: ToolScope, booking: Booking) -> BookingView:
    return BookingView(**booking_fields(scope, booking))


async def alternatives(
    scope: ToolScope, service: Service, target: datetime, exclude: str | None = None
) -> list[SlotView]:
    """The free slots nearest to ``target``; ``exclude`` names a booking being moved."""
    slots = await find_slots(
        scope.profile, service, scope.repo, scope.now, target=target, exclude_booking_id=exclude
    )
    return [slot_view(scope, s) for s in slots]


async def _slot_conflict(
    scope: ToolScope, slot: Slot, *, same: Callable[[Booking], bool], exclude: str | None = None
) -> tuple[Booking | None, bool]:
    """(the confirmed booking that already is this request, whether any other booking
    overlaps ``slot``); ``exclude`` names a booking to ignore (the one being moved)."""
    overlapping = await scope.repo.bookings_between(slot.start_utc, slot.end_utc)
    mine = next((b for b in overlapping if same(b)), None)
    others = any(
        b is not mine and b.booking_id != exclude and b.status == "confirmed" for b in overlapping
    )
    return mine, others


async def _lost_race(scope: ToolScope, booking: Booking) -> bool:
    """After a commit: True when an earlier booking overlaps ours (two calls raced for the
    slot); the earlier one wins, deterministically, on every instance."""
    overlapping = await scope.repo.bookings_between(booking.start_utc, booking.end_utc)
    return any(
        b.booking_id != booking.booking_id
        and b.status == "confirmed"
        and (b.created_at, b.booking_id) < (booking.created_at, booking.booking_id)
        for b in overlapping
    )


def booking_event(action: str, booking: Booking, **extra: Any) -> dict[str, Any]:
    """The ``booking`` event's payload (the phone masked)."""
    return {
        "action": action,
        "booking_id": booking.booking_id,
        "service": booking.service,
        "start_utc": iso_utc(booking.start_utc),
        "local_start": booking.local_start,
        "caller_zone": booking.caller_zone,
        "customer_name": booking.customer_name,
        "customer_phone": masked(booking.customer_phone),
        **extra,
    }


def _not_found(booking_id: str) -> str:
    return f"no booking {booking_id!r}; use find_booking"


# --------------------------------------------------------------------------------------
# book_appointment


async def book_appointment(scope: ToolScope, args: BookAppointmentArgs) -> Booked | ToolFailure:
    service = scope.service(args.service)
    if service is None:
        return Booked(status=ToolStatus.INVALID, error=scope.unknown_service(args.service))
    instant, problem = scope.caller_instant(parse_start(args.start))
    if instant is None:
        return Booked(status=ToolStatus.INVALID, error=problem or "")
    phone, phone_problem = scope.phone(args.customer_phone)
    if phone_problem is not None:
        return Booked(status=ToolStatus.INVALID, error=phone_problem)
    refused = check_instant(scope.profile, service, instant, scope.now)
    if refused is not None:
        return Booked(
            status=ToolStatus.INVALID,
            error=refused.message,
            alternatives=await alternatives(scope, service, instant),
        )
    request = {
        "service": service.name,
        "start": iso_utc(instant),
        "customer_name": args.customer_name,
        "customer_phone": phone,
    }
    key = idempotency_key(scope.call_id, "book_appointment", request)
    slot = Slot(instant, instant + timedelta(minutes=service.duration_min))

    def same(b: Booking) -> bool:
        # The request itself, made earlier in this call (perhaps under an older key).
        return b.idempotency_key == key or (
            b.call_id == scope.call_id
            and b.service == service.name
            and b.start_utc == instant
            and b.customer_name.strip().casefold() == args.customer_name.casefold()
            and b.customer_phone == phone
        )

    mine, taken = await _slot_conflict(scope, slot, same=same)
    if mine is not None:
        return Booked(status=ToolStatus.CONFIRMED, booking=booking_view(scope, mine))
    if taken:
        return await _slot_taken(Booked, scope, service, instant)
    limit = scope.profile.booking.max_per_call
    if len(await scope.repo.find_bookings(call_id=scope.call_id)) >= limit:
        # Whatever the caller says or the model is talked into: one call books what one
        # caller can reasonably need (booking.max_per_call).
        return Booked(
            status=ToolStatus.INVALID,
            error=(
                f"this call already has {limit} bookings, the most one call may make; "
                "offer to have the team call back for more"
            ),
        )
    if not scope.is_current():
        return SUPERSEDED
    return await _commit_booking(scope, service, slot, args.customer_name, phone, request)


async def _commit_booking(
    scope: ToolScope,
    service: Service,
    slot: Slot,
    name: str,
    phone: str | None,
    request: dict[str, Any],
) -> Booked:
    key = idempotency_key(scope.call_id, "book_appointment", request)
    try:
        booking = await _create_booking(scope, service, slot, name, phone, key)
        for _ in range(MAX_REBOOKINGS):
            if booking.status == "confirmed":
                break
            # This call booked the very same thing before and has cancelled it since: book
            # anew under a key naming the cancelled booking, so retries stay idempotent.
            key = idempotency_key(
                scope.call_id, "book_appointment", {**request, "after": booking.booking_id}
            )
            booking = await _create_booking(scope, service, slot, name, phone, key)
    except SlotTaken:  # another call took the slot since the check
        return await _slot_taken(Booked, scope, service, slot.start_utc)
    if booking.status != "confirmed":
        return Booked(
            status=ToolStatus.INVALID,
            error="this booking was made and cancelled too often in one call",
        )
    if await _lost_race(scope, booking):
        await scope.repo.update_booking(
            dataclasses.replace(booking, status="cancelled", notes="lost a race for the slot"),
            idempotency_key=f"{key}:race",
        )
        return await _slot_taken(Booked, scope, service, slot.start_utc)
    scope.emit("booking", booking_event("created", booking))
    return Booked(status=ToolStatus.CONFIRMED, booking=booking_view(scope, booking))


async def _create_booking(
    scope: ToolScope, service: Service, slot: Slot, name: str, phone: str | None, key: str
) -> Booking:
    return await scope.repo.create_booking(
        Booking(
            booking_id=short_id("B", key),
            call_id=scope.call_id,
            service=service.name,
            customer_name=name,
            customer_phone=phone,
            start_utc=slot.start_utc,
            end_utc=slot.end_utc,
            caller_zone=scope.clock.zone.key,
            local_start=iso_local(slot.start_utc, scope.clock.zone),
            status="confirmed",
            idempotency_key=key,
            created_at=scope.app_clock.now(),
            price=str(service.price),
        )
    )


async def _slot_taken(
    kind: type[_Change],
    scope: ToolScope,
    service: Service,
    instant: datetime,
    exclude: str | None = None,
) -> _Change:
    return kind(
        status=ToolStatus.SLOT_TAKEN,
        error="that time is taken; offer the alternatives",
        alternatives=await alternatives(scope, service, instant, exclude),
    )


# --------------------------------------------------------------------------------------
# find_booking


async def find_booking(scope: ToolScope, args: FindBookingArgs) -> Found:
    name = args.customer_name or None
    phone: str | None = None
    if args.customer_phone or name is None:
        phone, problem = scope.phone(args.customer_phone)
        if problem is not None:
            return Found(status=ToolStatus.INVALID, error=problem, bookings=[])
    if name is None and phone is None:
        return Found(
            status=ToolStatus.INVALID,
            error="no name or phone to search by; ask the caller for the name on the booking",
            bookings=[],
        )
    found = await scope.repo.find_bookings(phone=phone, name=name)
    now = scope.now
    upcoming = sorted((b for b in found if b.end_utc > now), key=lambda b: b.start_utc)
    past = sorted((b for b in found if b.end_utc <= now), key=lambda b: b.start_utc)
    ordered = (upcoming + past[::-1])[:MAX_FIND_RESULTS]
    return Found(
        status=ToolStatus.OK,
        bookings=[
            FoundBooking(**booking_fields(scope, b), upcoming=b.end_utc > now) for b in ordered
        ],
    )


# --------------------------------------------------------------------------------------
# reschedule_appointment


async def reschedule_appointment(
    scope: ToolScope, args: RescheduleArgs
) -> Rescheduled | ToolFailure:
    booking = await scope.repo.get_booking(canonical_id(args.booking_id))
    if booking is None:
        return Rescheduled(status=ToolStatus.NOT_FOUND, error=_not_found(args.booking_id))
    if booking.status != "confirmed":
        return Rescheduled(
            status=ToolStatus.INVALID, error="that booking was cancelled; book a new appointment"
        )
    if booking.start_utc <= scope.now:
        return Rescheduled(
            status=ToolStatus.INVALID, error="that appointment has already started or passed"
        )
    service = scope.service(booking.service)
    if service is None:
        return Rescheduled(
            status=ToolStatus.INVALID,
            error=f"the service {booking.service!r} is no longer offered; cancel and book anew",
        )
    instant, problem = scope.caller_instant(parse_start(args.new_start))
    if instant is None:
        return Rescheduled(status=ToolStatus.INVALID, error=problem or "")
    if instant == booking.start_utc:
        return Rescheduled(status=ToolStatus.CONFIRMED, booking=booking_view(scope, booking))
    refused = check_instant(scope.profile, service, instant, scope.now)
    if refused is not None:
        return Rescheduled(
            status=ToolStatus.INVALID,
            error=refused.message,
            alternatives=await alternatives(scope, service, instant, booking.booking_id),
        )
    slot = Slot(instant, instant + timedelta(minutes=service.duration_min))
    _, taken = await _slot_conflict(scope, slot, same=lambda b: False, exclude=booking.booking_id)
    if taken:
        return await _slot_taken(Rescheduled, scope, service, instant, booking.booking_id)
    if not scope.is_current():
        return SUPERSEDED
    try:
        return await _commit_move(scope, booking, slot)
    except SlotTaken:  # another call took the slot since the check
        return await _slot_taken(Rescheduled, scope, service, instant, booking.booking_id)


async def _commit_move(scope: ToolScope, booking: Booking, slot: Slot) -> Rescheduled:
    instant = slot.start_utc
    change = dataclasses.replace(
        booking,
        start_utc=instant,
        end_utc=slot.end_utc,
        caller_zone=scope.clock.zone.key,
        local_start=iso_local(instant, scope.clock.zone),
    )
    request = {"booking_id": booking.booking_id, "new_start": iso_utc(instant)}
    moved = booking
    for attempt in range(MAX_REBOOKINGS):
        # A key seen before returns the row unchanged: when this call moved the booking
        # here, away and back again, the next round's key makes the move happen.
        round_request = request if attempt == 0 else {**request, "round": attempt}
        key = idempotency_key(scope.call_id, "reschedule_appointment", round_request)
        moved = await scope.repo.update_booking(change, idempotency_key=key)
        if moved.start_utc == instant:
            break
    else:
        return Rescheduled(
            status=ToolStatus.INVALID,
            error="this booking was moved back and forth too often in one call",
        )
    scope.emit(
        "booking",
        booking_event("rescheduled", moved, previous_start_utc=iso_utc(booking.start_utc)),
    )
    return Rescheduled(status=ToolStatus.CONFIRMED, booking=booking_view(scope, moved))


# --------------------------------------------------------------------------------------
# cancel_appointment


async def cancel_appointment(scope: ToolScope, args: CancelArgs) -> Cancelled | ToolFailure:
    booking = await scope.repo.get_booking(canonical_id(args.booking_id))
    if booking is None:
        return Cancelled(status=ToolStatus.NOT_FOUND, error=_not_found(args.booking_id))
    if booking.status == "cancelled":
        return Cancelled(status=ToolStatus.CANCELLED, booking=booking_view(scope, booking))
    if booking.start_utc <= scope.now:
        return Cancelled(
            status=ToolStatus.INVALID, error="that appointment has already started or passed"
        )
    if not scope.is_current():
        return SUPERSEDED
    key = idempotency_key(scope.call_id, "cancel_appointment", {"booking_id": booking.booking_id})
    cancelled = await scope.repo.update_booking(
        dataclasses.replace(booking, status="cancelled"), idempotency_key=key
    )
    scope.emit("booking", booking_event("cancelled", cancelled))
    return Cancelled(status=ToolStatus.CANCELLED, booking=booking_view(scope, cancelled))
