"""Opening hours and appointment slots: which instants a service can start at, and why not.

All rules are evaluated in the BUSINESS zone: slots start on ``slot_step_min`` boundaries of
the business-local day (counted from midnight), lie wholly inside one opening interval of that
day, never on a closed date, at least ``min_notice_min`` after now and within ``horizon_days``.
A slot is free when no confirmed booking overlaps it. Callers' wall times come in through
:func:`voiceops.tools.timefmt.localize` (caller zone -> UTC) and are judged here as instants,
so a London caller's 23:30 is checked against New York's 18:30 of the same instant.

Business wall times skipped by a DST change produce no slot; a business wall time that occurs
twice produces one slot, at its first occurrence (``fold=0``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

from voiceops.core.profile import WEEKDAYS, AgentProfile, Interval, Service
from voiceops.tools.timefmt import (
    NonexistentLocalTime,
    localize,
    spoken_clock,
    spoken_date,
    spoken_week,
    weekday_name,
    zone_place,
)

if TYPE_CHECKING:
    from voiceops.core.ports import Booking, BookingRepo

Refusal = Literal[
    "past", "notice", "horizon", "closed_date", "closed_day", "outside_hours", "off_step"
]


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start for one service, as instants (aware, UTC)."""

    start_utc: datetime
    end_utc: datetime


@dataclass(frozen=True, slots=True)
class SlotRefused:
    """Why an instant cannot be booked; ``message`` is written for the model."""

    code: Refusal
    message: str


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("booking rules need aware datetimes")
    return instant.astimezone(UTC)


def intervals_on(profile: AgentProfile, day: date) -> Sequence[Interval]:
    """Opening intervals of business-local ``day`` (empty when closed)."""
    if day in profile.closed_dates:
        return ()
    return profile.opening_hours.get(WEEKDAYS[day.weekday()], [])


def is_open_at(profile: AgentProfile, instant: datetime) -> bool:
    """True when ``instant`` falls inside an opening interval, in business time."""
    local = _utc(instant).astimezone(profile.zone)
    wall = local.time().replace(tzinfo=None)
    return any(iv.start <= wall < iv.end for iv in intervals_on(profile, local.date()))


def next_opening(
    profile: AgentProfile, now_utc: datetime, *, max_days: int = 14
) -> datetime | None:
    """The next instant (UTC) an opening interval begins after ``now_utc``; ``None`` when the
    business opens on none of the next ``max_days`` days. If open now, returns ``now_utc``."""
    now_utc = _utc(now_utc)
    if is_open_at(profile, now_utc):
        return now_utc
    today = now_utc.astimezone(profile.zone).date()
    for offset in range(max_days + 1):
        day = today + timedelta(days=offset)
        for iv in intervals_on(profile, day):
            # No localize(): an opening time inside a skipped DST hour still opens, as far
            # into the new offset as the wall clock says (fold=0 maps 02:30 to 03:30).
            start = datetime.combine(day, iv.start).replace(tzinfo=profile.zone).astimezone(UTC)
            if start > now_utc:
                return start
    return None


def _day_starts(profile: AgentProfile, day: date, duration: timedelta) -> Iterator[Slot]:
    """Candidate slots of business-local ``day`` (ignoring notice, horizon and bookings)."""
    step = profile.booking.slot_step_min
    for iv in intervals_on(profile, day):
        first = iv.start.hour * 60 + iv.start.minute
        first += -first % step
        last = iv.end.hour * 60 + iv.end.minute
        for minute in range(first, last, step):
            wall = datetime.combine(day, time(minute // 60, minute % 60))
            try:
                start = localize(wall, profile.zone)
            except NonexistentLocalTime:
                continue
            # The slot must end inside the interval in wall-clock terms (what the staff see).
            end = start.astimezone(UTC) + duration
            end_wall = end.astimezone(profile.zone).replace(tzinfo=None)
            if end_wall > datetime.combine(day, iv.end):
                break
            yield Slot(start.astimezone(UTC), end)


def check_instant(
    profile: AgentProfile, service: Service, start: datetime, now_utc: datetime
) -> SlotRefused | None:
    """Why ``start`` (aware) cannot begin ``service`` regardless of other bookings, or None."""
    start_utc, now_utc = _utc(start), _utc(now_utc)
    business = start_utc.astimezone(profile.zone)
    place = zone_place(profile.zone)
    policy = profile.booking
    if start_utc <= now_utc:
        return SlotRefused("past", "that time has already passed; ask for a later time")
    if start_utc < now_utc + timedelta(minutes=policy.min_notice_min):
        return SlotRefused(
            "notice",
            f"bookings need at least {policy.min_notice_min} minutes' notice; offer a later time",
        )
    if start_utc >= now_utc + timedelta(days=policy.horizon_days):
        return SlotRefused(
            "horizon",
            f"bookings open only {policy.horizon_days} days ahead; choose an earlier date",
        )
    day = business.date()
    if day in profile.closed_dates:
        return SlotRefused(
            "closed_date", f"the business is closed on {spoken_date(day)} ({place} time)"
        )
    intervals = intervals_on(profile, day)
    if not intervals:
        return SlotRefused(
            "closed_day", f"the business is closed on {weekday_name(day)}s ({place} time)"
        )
    duration = timedelta(minutes=service.duration_min)
    if not any(slot.start_utc == start_utc for slot in _day_starts(profile, day, duration)):
        wall = business.time().replace(tzinfo=None)
        inside = any(iv.start <= wall < iv.end for iv in intervals)
        step = policy.slot_step_min
        if inside and (wall.hour * 60 + wall.minute) % step:
            return SlotRefused(
                "off_step", f"appointments start every {step} minutes from the hour ({place} time)"
            )
        hours = ", ".join(f"{spoken_clock(iv.start)} to {spoken_clock(iv.end)}" for iv in intervals)
        return SlotRefused(
            "outside_hours",
            f"a {service.name} at that time would fall outside opening hours; on"
            f" {weekday_name(day)} the business is open {hours} {place} time and the"
            f" {service.name} takes {service.duration_min} minutes",
        )
    return None


class _Busy:
    """Confirmed bookings as sorted intervals, for O(log n) overlap checks."""

    __slots__ = ("_max_end", "_starts")

    def __init__(self, bookings: Iterable[Booking], exclude: str | None) -> None:
        spans = sorted(
            (b.start_utc, b.end_utc)
            for b in bookings
            if b.status == "confirmed" and b.booking_id != exclude
        )
        self._starts = [start for start, _ in spans]
        # _max_end[i]: the latest end among the first i bookings (by start).
        self._max_end: list[datetime | None] = [None]
        for _, end in spans:
            previous = self._max_end[-1]
            self._max_end.append(end if previous is None or end > previous else previous)

    def overlaps(self, slot: Slot) -> bool:
        # Bookings starting before the slot ends overlap it iff one of them ends after it starts.
        latest_end = self._max_end[bisect_left(self._starts, slot.end_utc)]
        return latest_end is not None and latest_end > slot.start_utc


async def _free_between(
    profile: AgentProfile,
    service: Service,
    repo: BookingRepo,
    lo: datetime,
    hi: datetime,
    exclude: str | None,
) -> list[Slot]:
    """Free slots starting in ``[lo, hi)``, chronological; one repository read."""
    if lo >= hi:
        return []
    duration = timedelta(minutes=service.duration_min)
    zone = profile.zone
    candidates: list[Slot] = []
    day = lo.astimezone(zone).date()
    last_day = hi.astimezone(zone).date()
    while day <= last_day:
        candidates.extend(
            slot for slot in _day_starts(profile, day, duration) if lo <= slot.start_utc < hi
        )
        day += timedelta(days=1)
    if not candidates:
        return []
    # Profiles may list a day's intervals in any order; slots of one service share a length.
    candidates.sort(key=lambda slot: slot.start_utc)
    booked = await repo.bookings_between(candidates[0].start_utc, candidates[-1].end_utc)
    busy = _Busy(booked, exclude)
    return [slot for slot in candidates if not busy.overlaps(slot)]


_EARLIEST_CHUNKS_DAYS = (2, 7)
"""Search widths for the earliest slots: most answers are in the next couple of days."""
_NEAREST_RADII_DAYS = (1, 4, 15)
"""Search radii around a target before falling back to the whole horizon."""


async def find_slots(
    profile: AgentProfile,
    service: Service,
    repo: BookingRepo,
    now_utc: datetime,
    *,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    target: datetime | None = None,
    limit: int | None = None,
    exclude_booking_id: str | None = None,
) -> list[Slot]:
    """Free slots for ``service`` starting in ``[window_start, window_end)`` (clipped to
    ``[now + notice, now + horizon)``), nearest to ``target`` first (ties: the earlier), or
    chronological without one; at most ``limit`` (default ``max_offers``).

    ``exclude_booking_id`` ignores that booking's own time (rescheduling). The search widens
    step by step (a few days, then more) and stops as soon as the answer cannot change, so
    a typical request reads the repository once, for a short span.
    """
    now_utc = _utc(now_utc)
    policy = profile.booking
    wanted = limit if limit is not None else policy.max_offers
    lo = now_utc + timedelta(minutes=policy.min_notice_min)
    hi = now_utc + timedelta(days=policy.horizon_days)
    if window_start is not None:
        lo = max(lo, _utc(window_start))
    if window_end is not None:
        hi = min(hi, _utc(window_end))
    if lo >= hi or wanted <= 0:
        return []
    if target is None:
        return await _earliest(profile, service, repo, lo, hi, wanted, exclude_booking_id)
    return await _nearest(profile, service, repo, lo, hi, wanted, exclude_booking_id, target)


async def _earliest(
    profile: AgentProfile,
    service: Service,
    repo: BookingRepo,
    lo: datetime,
    hi: datetime,
    wanted: int,
    exclude: str | None,
) -> list[Slot]:
    """The first ``wanted`` free slots of ``[lo, hi)``, read a few days at a time."""
    found: list[Slot] = []
    start = lo
    for width in (*_EARLIEST_CHUNKS_DAYS, None):
        end = hi if width is None else min(hi, start + timedelta(days=width))
        found.extend(await _free_between(profile, service, repo, start, end, exclude))
        if len(found) >= wanted or end >= hi:
            break
        start = end
    return found[:wanted]


async def _nearest(
    profile: AgentProfile,
    service: Service,
    repo: BookingRepo,
    lo: datetime,
    hi: datetime,
    wanted: int,
    exclude: str | None,
    target: datetime,
) -> list[Slot]:
    """The ``wanted`` free slots of ``[lo, hi)`` nearest to ``target``, read in windows
    widening around it."""
    pivot = _utc(target)

    def distance(slot: Slot) -> tuple[timedelta, datetime]:
        return abs(slot.start_utc - pivot), slot.start_utc

    for radius in (*_NEAREST_RADII_DAYS, None):
        if radius is None:
            a, b = lo, hi
        else:
            a = max(lo, pivot - timedelta(days=radius))
            b = min(hi, pivot + timedelta(days=radius))
            if a >= b:
                continue
        free = sorted(await _free_between(profile, service, repo, a, b, exclude), key=distance)
        # Slots inside [a, b) are at most `radius` from the target and slots outside at least
        # that far (ties go to the earlier, inside one); beyond lo/hi there are none at all.
        # So once the window holds enough, widening cannot change the answer.
        if len(free) >= wanted or (a == lo and b == hi):
            return free[:wanted]
    return []  # unreachable: the last radius covers all of [lo, hi)


async def is_free(repo: BookingRepo, slot: Slot, *, exclude_booking_id: str | None = None) -> bool:
    """True when no confirmed booking overlaps ``slot``."""
    booked = await repo.bookings_between(slot.start_utc, slot.end_utc)
    return not _Busy(booked, exclude_booking_id).overlaps(slot)


def spoken_hours_week(profile: AgentProfile) -> str:
    """The weekly hours as the opening-hours tool says them: ``We're open Tuesday and
    Wednesday 9 AM to 5 PM, Saturday 10 AM to 4 PM; closed Monday and Sunday.``"""
    if not any(profile.opening_hours.values()):
        return "We have no regular opening hours at the moment."
    return f"We're open {spoken_week(profile.opening_hours)}."


def spoken_hours_on(profile: AgentProfile, day: date) -> str:
    """``On Tuesday, December 1st we're open 9 AM to 5 PM.`` or that the business is closed."""
    intervals = intervals_on(profile, day)
    if not intervals:
        return f"We're closed on {spoken_date(day)}."
    spans = " and ".join(f"{spoken_clock(iv.start)} to {spoken_clock(iv.end)}" for iv in intervals)
    return f"On {spoken_date(day)} we're open {spans}."
