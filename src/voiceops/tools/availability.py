"""``check_availability``: the free slots of a service around what the caller asked for.

The caller names a day, a time, both or neither, in their own zone. The answer lists up to
``booking.max_offers`` slots, nearest to the request first; ``requested_free`` says whether
the exact time asked for is free, and ``note`` why not. When the caller's days hold nothing,
the nearest free times around them are offered instead, with a note saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from voiceops.core.ports import ToolStatus
from voiceops.tools.appointments import slot_view
from voiceops.tools.booking import Slot, check_instant, find_slots
from voiceops.tools.results import Availability
from voiceops.tools.scope import canonical_id
from voiceops.tools.timefmt import parse_date, parse_time

if TYPE_CHECKING:
    from voiceops.core.profile import Service
    from voiceops.tools.schemas import CheckAvailabilityArgs
    from voiceops.tools.scope import ToolScope


@dataclass(frozen=True, slots=True)
class _Request:
    """What the caller asked for, resolved: the caller-local days ``[start, end)`` and the
    exact instant wanted, if a time was named."""

    service: Service
    day: date
    days: int
    window_start: datetime
    window_end: datetime
    target: datetime | None
    exclude: str | None


async def check_availability(scope: ToolScope, args: CheckAvailabilityArgs) -> Availability:
    service = scope.service(args.service)
    if service is None:
        return _refused(scope, args.service, scope.unknown_service(args.service))
    today = scope.clock.now_local.date()
    day = parse_date(args.date) if args.date else None
    at = parse_time(args.time) if args.time else None
    if day is not None and day < today:
        return _refused(
            scope, service.name, f"{args.date} is in the past; today is {today} for the caller"
        )
    exclude = canonical_id(args.exclude_booking_id) if args.exclude_booking_id else None
    if day is None:
        if at is None:
            slots = await find_slots(
                scope.profile, service, scope.repo, scope.now, exclude_booking_id=exclude
            )
            return _answer(scope, service, slots)
        # Only a time: its next occurrence on the caller's clock.
        passed = datetime.combine(today, at) <= scope.clock.now_local.replace(tzinfo=None)
        day = today + timedelta(days=1) if passed else today
    zone = scope.clock.zone
    window_start = datetime.combine(day, time()).replace(tzinfo=zone)
    # The caller's calendar days [day, day + days), as instants.
    window_end = (window_start.replace(tzinfo=None) + timedelta(days=args.days)).replace(
        tzinfo=zone
    )
    target: datetime | None = None
    if at is not None:
        target, problem = scope.caller_instant(datetime.combine(day, at))
        if target is None:
            return _refused(scope, service.name, problem or "that time does not exist")
    request = _Request(service, day, args.days, window_start, window_end, target, exclude)
    return await _search(scope, request)


async def _search(scope: ToolScope, request: _Request) -> Availability:
    service, target, exclude = request.service, request.target, request.exclude
    requested_free: bool | None = None
    note: str | None = None
    if target is not None:
        requested_free, note = await _requested(scope, service, target, exclude)
    slots = await find_slots(
        scope.profile,
        service,
        scope.repo,
        scope.now,
        window_start=request.window_start,
        window_end=request.window_end,
        target=target,
        exclude_booking_id=exclude,
    )
    if slots:
        return _answer(scope, service, slots, requested_free, note)
    # Nothing in the window: offer the nearest free times around it instead.
    nearest = await find_slots(
        scope.profile,
        service,
        scope.repo,
        scope.now,
        target=target or request.window_start,
        exclude_booking_id=exclude,
    )
    gap = _gap(scope, request, found=bool(nearest))
    return _answer(scope, service, nearest, requested_free, f"{note}; {gap}" if note else gap)


async def _requested(
    scope: ToolScope, service: Service, target: datetime, exclude: str | None
) -> tuple[bool, str | None]:
    """(whether ``target`` itself is free, why not)."""
    refused = check_instant(scope.profile, service, target, scope.now)
    if refused is not None:
        return False, refused.message
    end = target + timedelta(minutes=service.duration_min)
    free = not any(b.booking_id != exclude for b in await scope.repo.bookings_between(target, end))
    return free, None if free else "the requested time is already booked"


def _gap(scope: ToolScope, request: _Request, *, found: bool) -> str:
    """Why the slots offered lie outside the days asked for."""
    gap = f"nothing is free on {request.day.isoformat()}"
    if request.days > 1:
        gap = f"nothing is free from {request.day.isoformat()} for {request.days} days"
    horizon = scope.profile.booking.horizon_days
    if request.window_start >= scope.now + timedelta(days=horizon):
        gap = f"bookings open only {horizon} days ahead"
    if found:
        gap += "; these are the nearest free times"
    return gap


def _answer(
    scope: ToolScope,
    service: Service,
    slots: list[Slot],
    requested_free: bool | None = None,
    note: str | None = None,
) -> Availability:
    return Availability(
        status=ToolStatus.OK,
        service=service.name,
        zone=scope.clock.zone.key,
        requested_free=requested_free,
        slots=[slot_view(scope, s) for s in slots],
        note=note or None,
    )


def _refused(scope: ToolScope, service: str, error: str) -> Availability:
    return Availability(
        status=ToolStatus.INVALID,
        service=service,
        zone=scope.clock.zone.key,
        requested_free=None,
        slots=[],
        error=error,
    )
