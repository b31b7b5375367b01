"""Availability rules in business time: steps, hours, closed dates, notice, horizon, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tools.support import LONDON, NEW_YORK, TUE_0900_NY, make_profile
from voiceops.core.ports import Booking
from voiceops.core.profile import AgentProfile, Service
from voiceops.tools.booking import (
    Slot,
    check_instant,
    find_slots,
    is_open_at,
    next_opening,
    spoken_hours_on,
    spoken_hours_week,
)
from voiceops.tools.memory import InMemoryBookingRepo

NY = ZoneInfo(NEW_YORK)


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


def booking_at(start: datetime, minutes: int = 30, booking_id: str = "B-1") -> Booking:
    return Booking(
        booking_id=booking_id,
        call_id="other-call",
        service="haircut",
        customer_name="Someone",
        customer_phone="+12125550100",
        start_utc=start,
        end_utc=start + timedelta(minutes=minutes),
        caller_zone=NEW_YORK,
        local_start=start.astimezone(NY).isoformat(),
        status="confirmed",
        idempotency_key=f"key-{booking_id}",
        created_at=TUE_0900_NY,
    )


async def test_earliest_slots_respect_notice_and_step() -> None:
    profile = make_profile()
    haircut = profile.service("haircut")
    assert haircut is not None
    slots = await find_slots(profile, haircut, InMemoryBookingRepo(), TUE_0900_NY)
    # Now is 09:00 and notice is 60 minutes: 10:00 is the first start.
    assert [s.start_utc for s in slots] == [
        ny(2026, 12, 1, 10),
        ny(2026, 12, 1, 10, 30),
        ny(2026, 12, 1, 11),
    ]


async def test_slots_end_inside_the_interval() -> None:
    profile = make_profile()
    colour = profile.service("colour")  # 90 minutes
    assert colour is not None
    window = (ny(2026, 12, 3, 0), ny(2026, 12, 4, 0))  # Thursday 09-12 and 13-19
    slots = await find_slots(
        profile,
        colour,
        InMemoryBookingRepo(),
        TUE_0900_NY,
        window_start=window[0],
        window_end=window[1],
        limit=100,
    )
    starts = [s.start_utc.astimezone(NY).strftime("%H:%M") for s in slots]
    assert starts[:4] == ["09:00", "09:30", "10:00", "10:30"]
    assert "11:00" not in starts  # would run into the lunch break
    assert "13:00" in starts
    assert starts[-1] == "17:30"


async def test_booked_slots_are_skipped_and_target_orders_by_distance() -> None:
    profile = make_profile()
    haircut = profile.service("haircut")
    assert haircut is not None
    repo = InMemoryBookingRepo()
    await repo.create_booking(booking_at(ny(2026, 12, 2, 14)))
    slots = await find_slots(
        profile,
        haircut,
        repo,
        TUE_0900_NY,
        window_start=ny(2026, 12, 2, 0),
        window_end=ny(2026, 12, 3, 0),
        target=ny(2026, 12, 2, 14),
    )
    assert [s.start_utc for s in slots] == [
        ny(2026, 12, 2, 13, 30),
        ny(2026, 12, 2, 14, 30),
        ny(2026, 12, 2, 13),
    ]


async def test_rescheduling_may_reuse_its_own_time() -> None:
    profile = make_profile()
    haircut = profile.service("haircut")
    assert haircut is not None
    repo = InMemoryBookingRepo()
    await repo.create_booking(booking_at(ny(2026, 12, 2, 14), booking_id="B-OWN"))
    slots = await find_slots(
        profile, haircut, repo, TUE_0900_NY, target=ny(2026, 12, 2, 14), exclude_booking_id="B-OWN"
    )
    assert slots[0].start_utc == ny(2026, 12, 2, 14)


def test_check_instant_reasons() -> None:
    profile = make_profile()
    haircut = profile.service("haircut")
    assert haircut is not None

    def code(start: datetime) -> str | None:
        refused = check_instant(profile, haircut, start, TUE_0900_NY)
        return refused.code if refused else None

    assert code(ny(2026, 12, 1, 8)) == "past"
    assert code(ny(2026, 12, 1, 9, 30)) == "notice"
    assert code(ny(2026, 12, 1, 10)) is None
    assert code(ny(2026, 12, 6, 10)) == "closed_day"  # Sunday
    assert code(ny(2026, 12, 25, 10)) == "closed_date"
    assert code(ny(2026, 12, 1, 10, 15)) == "off_step"
    assert code(ny(2026, 12, 1, 16, 45)) == "off_step"
    assert code(ny(2026, 12, 1, 17)) == "outside_hours"
    assert code(ny(2026, 12, 3, 11, 45)) == "off_step"
    assert code(ny(2026, 12, 3, 12)) == "outside_hours"  # lunch break
    assert code(ny(2027, 3, 1, 10)) == "horizon"


def test_outside_hours_message_names_the_hours_in_business_time() -> None:
    profile = make_profile()
    haircut = profile.service("haircut")
    assert haircut is not None
    refused = check_instant(profile, haircut, ny(2026, 12, 1, 18, 30), TUE_0900_NY)
    assert refused is not None
    assert "9 AM to 5 PM New York time" in refused.message


async def test_caller_midnight_maps_to_the_business_evening() -> None:
    # A London caller's 00:30 on Thursday is 19:30 on Wednesday in New York (open to 20:00).
    profile = make_profile()
    haircut = profile.service("haircut")
    assert haircut is not None
    start = datetime(2026, 12, 3, 0, 30, tzinfo=ZoneInfo(LONDON))
    assert check_instant(profile, haircut, start, TUE_0900_NY) is None
    late = datetime(2026, 12, 3, 1, 0, tzinfo=ZoneInfo(LONDON))  # 20:00 NY, closing time
    refused = check_instant(profile, haircut, late, TUE_0900_NY)
    assert refused is not None and refused.code == "outside_hours"


async def test_spring_forward_day_has_no_slots_in_the_gap() -> None:
    night = make_profile(
        opening_hours={"sun": ["00:00-06:00"]}, booking={"min_notice_min": 0, "horizon_days": 60}
    )
    haircut = night.service("haircut")
    assert haircut is not None
    now = datetime(2026, 3, 7, 12, tzinfo=UTC)
    slots = await find_slots(
        night,
        haircut,
        InMemoryBookingRepo(),
        now,
        window_start=ny(2026, 3, 8, 0),
        window_end=ny(2026, 3, 8, 6),
        limit=100,
    )
    walls = [s.start_utc.astimezone(NY).strftime("%H:%M") for s in slots]
    assert walls == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "03:00",
        "03:30",
        "04:00",
        "04:30",
        "05:00",
        "05:30",
    ]
    # Every slot really lasts 30 minutes, including the one that ends at the jump.
    assert all(s.end_utc - s.start_utc == timedelta(minutes=30) for s in slots)


async def test_fall_back_day_offers_a_repeated_wall_time_once() -> None:
    night = make_profile(
        opening_hours={"sun": ["00:00-03:00"]}, booking={"min_notice_min": 0, "horizon_days": 60}
    )
    haircut = night.service("haircut")
    assert haircut is not None
    now = datetime(2026, 10, 31, 12, tzinfo=UTC)
    slots = await find_slots(
        night,
        haircut,
        InMemoryBookingRepo(),
        now,
        window_start=datetime(2026, 11, 1, 4, tzinfo=UTC),
        window_end=datetime(2026, 11, 1, 8, tzinfo=UTC),
        limit=100,
    )
    walls = [s.start_utc.astimezone(NY).strftime("%H:%M") for s in slots]
    assert walls == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]
    # 01:30 is its first occurrence, still on daylight time.
    assert slots[3].start_utc == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


async def test_slots_move_with_the_business_dst_change() -> None:
    profile = make_profile()
    haircut = profile.service("haircut")
    assert haircut is not None
    now = datetime(2026, 3, 4, 12, tzinfo=UTC)
    before = await find_slots(
        profile,
        haircut,
        InMemoryBookingRepo(),
        now,
        window_start=ny(2026, 3, 6, 0),
        window_end=ny(2026, 3, 7, 0),
    )
    after = await find_slots(
        profile,
        haircut,
        InMemoryBookingRepo(),
        now,
        window_start=ny(2026, 3, 9, 0),
        window_end=ny(2026, 3, 10, 0),
    )
    assert before[0].start_utc == datetime(2026, 3, 6, 14, tzinfo=UTC)  # 09:00 EST
    assert after[0].start_utc == datetime(2026, 3, 9, 13, tzinfo=UTC)  # 09:00 EDT


def test_open_now_and_next_opening() -> None:
    profile = make_profile()
    assert is_open_at(profile, TUE_0900_NY)
    assert not is_open_at(profile, ny(2026, 12, 1, 17))
    assert next_opening(profile, TUE_0900_NY) == TUE_0900_NY
    # Saturday 16:30 -> closed Sunday -> Monday 09:00.
    assert next_opening(profile, ny(2026, 12, 5, 16, 30)) == ny(2026, 12, 7, 9)
    # Thursday lunch break -> 13:00 the same day.
    assert next_opening(profile, ny(2026, 12, 3, 12, 15)) == ny(2026, 12, 3, 13)
    assert next_opening(make_profile(opening_hours={}), TUE_0900_NY) is None


def test_spoken_hours() -> None:
    profile = make_profile()
    assert spoken_hours_week(profile) == (
        "We're open Monday and Tuesday 9 AM to 5 PM, Wednesday 9 AM to 8 PM,"
        " Thursday 9 AM to noon and 1 PM to 7 PM, Friday 9 AM to 7 PM, Saturday 10 AM to 4 PM;"
        " closed Sunday."
    )
    same = make_profile(opening_hours={d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu")})
    assert spoken_hours_week(same) == (
        "We're open Monday to Thursday 9 AM to 5 PM; closed Friday, Saturday and Sunday."
    )
    assert spoken_hours_on(profile, date(2026, 12, 25)) == "We're closed on Friday, December 25th."
    assert spoken_hours_on(profile, date(2026, 12, 6)) == "We're closed on Sunday, December 6th."


@settings(max_examples=60, deadline=None)
@given(
    offset_min=st.integers(min_value=0, max_value=60 * 24 * 400),
    service_name=st.sampled_from(["haircut", "colour", "consultation"]),
    booked=st.lists(st.integers(min_value=0, max_value=60 * 24 * 7), max_size=6),
)
async def test_every_offered_slot_is_bookable_and_free(
    offset_min: int, service_name: str, booked: list[int]
) -> None:
    profile = make_profile()
    service = profile.service(service_name)
    assert service is not None
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=offset_min)
    repo = InMemoryBookingRepo()
    for index, minutes in enumerate(booked):
        start = now + timedelta(minutes=minutes)
        await repo.create_booking(booking_at(start, 45, booking_id=f"B-{index}"))
    slots = await find_slots(
        profile, service, repo, now, window_end=now + timedelta(days=8), limit=50
    )
    taken = await repo.bookings_between(now, now + timedelta(days=9))
    for slot in slots:
        assert check_instant(profile, service, slot.start_utc, now) is None
        assert slot.end_utc - slot.start_utc == timedelta(minutes=service.duration_min)
        assert not any(b.start_utc < slot.end_utc and slot.start_utc < b.end_utc for b in taken)
    assert slots == sorted(slots, key=lambda s: s.start_utc)
    assert all(isinstance(s, Slot) for s in slots)


def _brute_force_nearest(
    profile: AgentProfile, service: Service, now: datetime, busy: list[Booking], pivot: datetime
) -> list[datetime]:
    """Every step boundary of the horizon, judged one by one (slow, obviously right)."""
    step = timedelta(minutes=profile.booking.slot_step_min)
    instant = now.replace(minute=0, second=0, microsecond=0)
    length = timedelta(minutes=service.duration_min)
    free: list[datetime] = []
    while instant < now + timedelta(days=profile.booking.horizon_days):
        if check_instant(profile, service, instant, now) is None and not any(
            b.start_utc < instant + length and instant < b.end_utc for b in busy
        ):
            free.append(instant)
        instant += step
    return sorted(free, key=lambda s: (abs(s - pivot), s))[: profile.booking.max_offers]


@settings(max_examples=15, deadline=None)
@given(
    now_offset_h=st.integers(min_value=0, max_value=24 * 30),
    target_offset_h=st.integers(min_value=-48, max_value=24 * 70),
    booked_h=st.lists(st.integers(min_value=0, max_value=24 * 20), max_size=30),
)
async def test_nearest_slots_match_an_exhaustive_search(
    now_offset_h: int, target_offset_h: int, booked_h: list[int]
) -> None:
    profile = make_profile(booking={"horizon_days": 21, "max_offers": 3})
    service = profile.service("haircut")
    assert service is not None
    now = datetime(2026, 2, 20, tzinfo=UTC) + timedelta(hours=now_offset_h)
    repo = InMemoryBookingRepo()
    for index, hours in enumerate(booked_h):
        await repo.create_booking(
            booking_at(now + timedelta(hours=hours), 60, booking_id=f"B-{index}")
        )
    busy = await repo.bookings_between(now - timedelta(days=1), now + timedelta(days=40))
    pivot = now + timedelta(hours=target_offset_h)
    slots = await find_slots(profile, service, repo, now, target=pivot)
    assert [s.start_utc for s in slots] == _brute_force_nearest(profile, service, now, busy, pivot)
