"""Spoken forms of dates, times, prices and durations, plus the strict formats tools accept.

Everything here produces text a TTS voice can read as is ("Tuesday, December 1st at 9 AM",
"45 dollars and 50 cents", "an hour and a half"), in the caller's zone, with the business's
own time added when the two wall clocks differ. The flow brain reuses these for read-backs,
so a slot offered by a tool and the brain's confirmation sound the same.

The parsing half is deliberately strict: tools take caller-local ``YYYY-MM-DD``, ``HH:MM``
and ``YYYY-MM-DDTHH:MM`` only; natural language is the brain's job. Converting a wall time to
an instant is explicit about DST: a time that does not exist (clocks spring forward over it)
is rejected with :class:`NonexistentLocalTime`; a time that happens twice (clocks fall back)
means its first occurrence (``fold=0``), the one a caller would reach first.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from voiceops.core.profile import WEEKDAYS
from voiceops.speech.words import MONTHS, ordinal
from voiceops.speech.words import spoken_clock as spoken_clock  # said here with the dates

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from voiceops.core.caller import CallerClock
    from voiceops.core.profile import Interval, Weekday

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{2}):(\d{2})$")
_START = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$")

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""The spoken weekday names, Monday first (``date.weekday()`` order); the one table."""
_CENT = Decimal("0.01")


class NonexistentLocalTime(ValueError):
    """A wall time skipped by a DST change (e.g. 02:30 on 2026-03-08 in New York)."""


# --------------------------------------------------------------------------------------
# strict parsing


def parse_date(value: str) -> date:
    """Parse ``YYYY-MM-DD``; raises :class:`ValueError` with a message fit for the model."""
    match = _DATE.match(value.strip())
    if not match:
        raise ValueError(f"date {value!r} must be YYYY-MM-DD, e.g. 2026-12-01")
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        raise ValueError(f"date {value!r} is not a real calendar date") from None


def parse_time(value: str) -> time:
    """Parse 24-hour ``HH:MM``; raises :class:`ValueError` with a message fit for the model."""
    match = _TIME.match(value.strip())
    if not match:
        raise ValueError(f"time {value!r} must be 24-hour HH:MM, e.g. 09:00 or 14:30")
    hour, minute = (int(g) for g in match.groups())
    if hour > 23 or minute > 59:
        raise ValueError(f"time {value!r} is not a real time of day (00:00 to 23:59)")
    return time(hour, minute)


def parse_start(value: str) -> datetime:
    """Parse ``YYYY-MM-DDTHH:MM`` into a naive wall-clock datetime."""
    match = _START.match(value.strip())
    if not match:
        raise ValueError(f"start {value!r} must be YYYY-MM-DDTHH:MM, e.g. 2026-12-01T09:30")
    year, month, day, hour, minute = (int(g) for g in match.groups())
    if hour > 23 or minute > 59:
        raise ValueError(f"start {value!r} has no real time of day (00:00 to 23:59)")
    try:
        return datetime(year, month, day, hour, minute)
    except ValueError:
        raise ValueError(f"start {value!r} is not a real calendar date") from None


def localize(wall: datetime, zone: ZoneInfo) -> datetime:
    """Attach ``zone`` to a naive wall time and return the aware instant (in ``zone``).

    A wall time skipped by a DST change raises :class:`NonexistentLocalTime`. A wall time
    that occurs twice resolves to its first occurrence (``fold=0``).
    """
    aware = wall.replace(tzinfo=zone, fold=0)
    # A nonexistent wall time does not survive the round trip through UTC.
    back = aware.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise NonexistentLocalTime(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks skip it for"
            " daylight saving time; choose a time outside the skipped hour"
        )
    return aware


def iso_utc(instant: datetime) -> str:
    """``2026-12-01T14:00:00Z``: the instant in UTC, seconds precision."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(instant: datetime, zone: ZoneInfo) -> str:
    """``2026-12-01T09:00:00-05:00``: the instant's wall time in ``zone`` with its offset."""
    return instant.astimezone(zone).replace(microsecond=0).isoformat()


# --------------------------------------------------------------------------------------
# spoken forms


def weekday_name(day: date) -> str:
    return WEEKDAY_NAMES[day.weekday()]


def spoken_date(day: date) -> str:
    """``Tuesday, December 1st``."""
    return f"{weekday_name(day)}, {MONTHS[day.month - 1]} {ordinal(day.day)}"


def zone_place(zone: ZoneInfo) -> str:
    """A speakable place for a zone: ``America/New_York`` -> ``New York``."""
    key = zone.key
    if key in ("UTC", "Etc/UTC", "Etc/GMT", "GMT"):
        return "UTC"
    return key.rsplit("/", 1)[-1].replace("_", " ")


def spoken_datetime(dt_utc: datetime, clock: CallerClock) -> str:
    """An instant as the caller hears it: ``Tuesday, December 1st at 9 AM``.

    When the caller's wall clock differs from the business's at that instant, the business
    time follows: ``..., at 2 PM your time, that's 9 AM here in New York``; when the two
    fall on different days the business weekday is named as well.
    """
    if dt_utc.tzinfo is None:
        raise ValueError("spoken_datetime needs an aware datetime")
    local = dt_utc.astimezone(clock.zone)
    business = dt_utc.astimezone(clock.business_zone)
    head = f"{spoken_date(local.date())} at {spoken_clock(local.time())}"
    if local.utcoffset() == business.utcoffset():
        return head
    there = spoken_clock(business.time())
    if business.date() != local.date():
        there = f"{there} on {weekday_name(business.date())}"
    return f"{head} your time, that's {there} here in {zone_place(clock.business_zone)}"


def spoken_price(amount: Decimal) -> str:
    """``45 dollars``, ``45 dollars and 50 cents``, ``1 dollar``, ``75 cents``.

    Amounts are rounded half-up to the cent; negative amounts are refused.
    """
    if amount < 0:
        raise ValueError(f"price {amount} is negative")
    cents_total = int((amount.quantize(_CENT, rounding=ROUND_HALF_UP) * 100).to_integral_value())
    dollars, cents = divmod(cents_total, 100)
    dollar_part = f"{dollars} dollar{'' if dollars == 1 else 's'}"
    cent_part = f"{cents} cent{'' if cents == 1 else 's'}"
    if cents == 0:
        return dollar_part
    if dollars == 0:
        return cent_part
    return f"{dollar_part} and {cent_part}"


def spoken_duration(minutes: int) -> str:
    """``30 minutes``, ``1 hour``, ``an hour and a half``, ``2 hours and 15 minutes``."""
    if minutes < 0:
        raise ValueError(f"duration {minutes} is negative")
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return f"{rest} minute{'' if rest == 1 else 's'}"
    if rest == 0:
        return f"{hours} hour{'' if hours == 1 else 's'}"
    if rest == 30:
        return "an hour and a half" if hours == 1 else f"{hours} and a half hours"
    hour_part = f"{hours} hour{'' if hours == 1 else 's'}"
    return f"{hour_part} and {rest} minute{'' if rest == 1 else 's'}"


def spoken_week(hours: Mapping[Weekday, Sequence[Interval]]) -> str:
    """The weekly hours, the one way they are said (the prompt's facts, the opening-hours
    tool): ``Tuesday and Wednesday 9 AM to 5 PM, Saturday 10 AM to noon; closed Monday and
    Sunday``. Consecutive days (Monday first) with the same hours are grouped; with no hours
    at all, ``no regular opening hours``."""
    groups: list[tuple[list[int], str]] = []
    closed: list[str] = []
    for index, key in enumerate(WEEKDAYS):
        intervals = hours.get(key) or []
        if not intervals:
            closed.append(WEEKDAY_NAMES[index])
            continue
        spoken = " and ".join(
            f"{spoken_clock(i.start)} to {spoken_clock(i.end)}" for i in intervals
        )
        if groups and groups[-1][1] == spoken and groups[-1][0][-1] == index - 1:
            groups[-1][0].append(index)
        else:
            groups.append(([index], spoken))
    if not groups:
        return "no regular opening hours"
    text = ", ".join(f"{_day_span(days)} {spoken}" for days, spoken in groups)
    if closed:
        text += f"; closed {_and_list(closed)}"
    return text


def _day_span(days: Sequence[int]) -> str:
    first, last = WEEKDAY_NAMES[days[0]], WEEKDAY_NAMES[days[-1]]
    if len(days) == 1:
        return first
    return f"{first} and {last}" if len(days) == 2 else f"{first} to {last}"


def _and_list(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
