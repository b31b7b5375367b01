"""Spoken dates, times, prices and durations; strict parsing; DST-explicit localisation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.tools.support import LONDON, LOS_ANGELES, NEW_YORK, clock_for
from voiceops.speech.words import ordinal
from voiceops.tools.timefmt import (
    NonexistentLocalTime,
    iso_local,
    iso_utc,
    localize,
    parse_date,
    parse_start,
    parse_time,
    spoken_clock,
    spoken_date,
    spoken_datetime,
    spoken_duration,
    spoken_price,
    zone_place,
)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (23, "23rd"),
        (30, "30th"),
        (31, "31st"),
        (111, "111th"),
    ],
)
def test_ordinal(n: int, expected: str) -> None:
    assert ordinal(n) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (time(9), "9 AM"),
        (time(9, 30), "9:30 AM"),
        (time(12), "noon"),
        (time(0), "midnight"),
        (time(12, 30), "12:30 PM"),
        (time(0, 15), "12:15 AM"),
        (time(17, 5), "5:05 PM"),
        (time(23, 59), "11:59 PM"),
    ],
)
def test_spoken_clock(value: time, expected: str) -> None:
    assert spoken_clock(value) == expected


def test_spoken_date() -> None:
    assert spoken_date(date(2026, 12, 1)) == "Tuesday, December 1st"
    assert spoken_date(date(2027, 1, 22)) == "Friday, January 22nd"


def test_spoken_datetime_same_zone_has_no_business_time() -> None:
    clock = clock_for(datetime(2026, 11, 30, 12, tzinfo=UTC))
    assert spoken_datetime(datetime(2026, 12, 1, 14, tzinfo=UTC), clock) == (
        "Tuesday, December 1st at 9 AM"
    )


def test_spoken_datetime_adds_business_time_when_clocks_differ() -> None:
    clock = clock_for(datetime(2026, 11, 30, 12, tzinfo=UTC), caller_zone=LOS_ANGELES)
    assert spoken_datetime(datetime(2026, 12, 1, 17, tzinfo=UTC), clock) == (
        "Tuesday, December 1st at 9 AM your time, that's noon here in New York"
    )


def test_spoken_datetime_names_the_business_day_across_midnight() -> None:
    clock = clock_for(datetime(2026, 11, 30, 12, tzinfo=UTC), caller_zone=LONDON)
    # 00:30 in London on Wednesday is 19:30 on Tuesday in New York.
    assert spoken_datetime(datetime(2026, 12, 2, 0, 30, tzinfo=UTC), clock) == (
        "Wednesday, December 2nd at 12:30 AM your time, that's 7:30 PM on Tuesday here in New York"
    )


def test_spoken_datetime_uses_offsets_at_the_instant_not_now() -> None:
    # Caller and business share an offset in November but not in between the two DST
    # changes of March (New York moves on the 8th, London on the 29th).
    clock = clock_for(datetime(2026, 11, 30, 12, tzinfo=UTC), caller_zone=LONDON)
    assert spoken_datetime(datetime(2026, 3, 16, 14, tzinfo=UTC), clock).endswith(
        "that's 10 AM here in New York"
    )
    assert spoken_datetime(datetime(2026, 3, 6, 14, tzinfo=UTC), clock).endswith(
        "that's 9 AM here in New York"
    )


def test_spoken_datetime_refuses_naive() -> None:
    with pytest.raises(ValueError, match="aware"):
        spoken_datetime(datetime(2026, 12, 1, 9), clock_for(datetime(2026, 12, 1, tzinfo=UTC)))


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("45", "45 dollars"),
        ("45.50", "45 dollars and 50 cents"),
        ("1", "1 dollar"),
        ("0.75", "75 cents"),
        ("0.01", "1 cent"),
        ("1.01", "1 dollar and 1 cent"),
        ("0", "0 dollars"),
        ("45.005", "45 dollars and 1 cent"),
        ("1200", "1200 dollars"),
    ],
)
def test_spoken_price(amount: str, expected: str) -> None:
    assert spoken_price(Decimal(amount)) == expected


def test_spoken_price_refuses_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        spoken_price(Decimal("-1"))


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (1, "1 minute"),
        (30, "30 minutes"),
        (60, "1 hour"),
        (90, "an hour and a half"),
        (120, "2 hours"),
        (150, "2 and a half hours"),
        (75, "1 hour and 15 minutes"),
        (121, "2 hours and 1 minute"),
        (0, "0 minutes"),
    ],
)
def test_spoken_duration(minutes: int, expected: str) -> None:
    assert spoken_duration(minutes) == expected


def test_zone_place() -> None:
    assert zone_place(ZoneInfo("America/New_York")) == "New York"
    assert zone_place(ZoneInfo("America/Argentina/Buenos_Aires")) == "Buenos Aires"
    assert zone_place(ZoneInfo("UTC")) == "UTC"


@pytest.mark.parametrize("bad", ["2026-1-01", "01/12/2026", "2026-12-01T09:00", "tomorrow", ""])
def test_parse_date_rejects_other_formats(bad: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_date(bad)


def test_parse_date_rejects_impossible_dates() -> None:
    with pytest.raises(ValueError, match="not a real calendar date"):
        parse_date("2026-02-30")


@pytest.mark.parametrize("bad", ["9:00", "9am", "09:00:00", "0900"])
def test_parse_time_rejects_other_formats(bad: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_time(bad)


@pytest.mark.parametrize("bad", ["24:00", "12:60"])
def test_parse_time_rejects_impossible_times(bad: str) -> None:
    with pytest.raises(ValueError, match="not a real time"):
        parse_time(bad)


def test_parse_start() -> None:
    assert parse_start(" 2026-12-01T09:30 ") == datetime(2026, 12, 1, 9, 30)
    for bad in ("2026-12-01 09:30", "2026-12-01T9:30", "2026-12-01T09:30Z", "2026-13-01T09:30"):
        with pytest.raises(ValueError):
            parse_start(bad)


def test_localize_rejects_the_spring_forward_gap() -> None:
    with pytest.raises(NonexistentLocalTime, match="daylight saving"):
        localize(datetime(2026, 3, 8, 2, 30), ZoneInfo(NEW_YORK))
    with pytest.raises(NonexistentLocalTime):
        localize(datetime(2026, 3, 29, 1, 30), ZoneInfo(LONDON))


def test_localize_takes_the_first_of_a_repeated_hour() -> None:
    aware = localize(datetime(2026, 11, 1, 1, 30), ZoneInfo(NEW_YORK))
    # First occurrence: still daylight time (UTC-4), i.e. 05:30 UTC, not 06:30.
    assert aware.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_iso_forms() -> None:
    instant = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert iso_utc(instant) == "2026-12-01T14:00:00Z"
    assert iso_local(instant, ZoneInfo(NEW_YORK)) == "2026-12-01T09:00:00-05:00"


_ZONES = st.sampled_from(
    [NEW_YORK, LONDON, LOS_ANGELES, "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"]
)


@given(
    wall=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)),
    zone_name=_ZONES,
)
def test_localize_round_trips_or_refuses(wall: datetime, zone_name: str) -> None:
    wall = wall.replace(second=0, microsecond=0)
    zone = ZoneInfo(zone_name)
    try:
        aware = localize(wall, zone)
    except NonexistentLocalTime:
        # Refused only when no instant shows this wall time under either offset around it.
        for fold in (0, 1):
            offset = wall.replace(tzinfo=zone, fold=fold).utcoffset()
            assert offset is not None
            instant = (wall - offset).replace(tzinfo=UTC)
            assert instant.astimezone(zone).replace(tzinfo=None) != wall
        return
    assert aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


@given(cents=st.integers(min_value=0, max_value=10_000_000))
def test_spoken_price_names_every_cent(cents: int) -> None:
    spoken = spoken_price(Decimal(cents) / 100)
    dollars, rest = divmod(cents, 100)
    assert (f"{dollars} dollar" in spoken) == (dollars > 0 or rest == 0)
    assert (f"{rest} cent" in spoken) == (rest > 0)
