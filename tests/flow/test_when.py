"""Spoken dates and times, resolved against a fixed caller-local "today"."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceops.flow.when import _dateparser_day, normalise, parse_when, part_of

TUESDAY = date(2026, 12, 1)  # Tuesday 1 December 2026


@pytest.mark.parametrize(
    ("said", "day", "at"),
    [
        ("next Friday", date(2026, 12, 4), None),
        ("friday", date(2026, 12, 4), None),
        ("this coming Friday", date(2026, 12, 4), None),
        ("tomorrow", date(2026, 12, 2), None),
        ("the day after tomorrow at noon", date(2026, 12, 3), time(12, 0)),
        ("the 3rd at half past two", date(2026, 12, 3), time(14, 30)),
        ("on the twenty first", date(2026, 12, 21), None),
        ("in two weeks", date(2026, 12, 15), None),
        ("in 3 days", date(2026, 12, 4), None),
        ("a week from Friday", date(2026, 12, 11), None),
        ("Friday next week", date(2026, 12, 11), None),
        ("next week on Wednesday", date(2026, 12, 9), None),
        ("Thursday after next", date(2026, 12, 10), None),
        ("December 3rd at 10am", date(2026, 12, 3), time(10, 0)),
        ("the twenty first of December", date(2026, 12, 21), None),
        ("January 5th", date(2027, 1, 5), None),
        ("May 3rd", date(2027, 5, 3), None),
        ("Thursday at 4", date(2026, 12, 3), time(16, 0)),
        ("quarter to five on Saturday", date(2026, 12, 5), time(16, 45)),
        ("ten past nine tomorrow", date(2026, 12, 2), time(9, 10)),
        ("tomorrow at 9 in the morning", date(2026, 12, 2), time(9, 0)),
        ("tonight at 7", TUESDAY, time(19, 0)),
        ("at 14:30", None, time(14, 30)),
        ("3pm", None, time(15, 0)),
        ("3 p.m.", None, time(15, 0)),
        ("two thirty pm", None, time(14, 30)),
        ("around 11", None, time(11, 0)),
        ("at 12 am", None, time(0, 0)),
    ],
)
def test_phrases_resolve_against_the_caller_today(
    said: str, day: date | None, at: time | None
) -> None:
    when = parse_when(said, TUESDAY)
    assert when.day == day
    assert when.at == at


def test_tomorrow_morning_is_a_day_and_a_part_without_a_clock_time() -> None:
    when = parse_when("tomorrow morning please", TUESDAY)
    assert (when.day, when.at, when.part) == (date(2026, 12, 2), None, "morning")


@pytest.mark.parametrize(
    ("said", "at"),
    [
        ("at 3", time(15, 0)),  # small hours without AM/PM are afternoon appointments
        ("at 8", time(8, 0)),
        ("at 3 in the morning", time(3, 0)),
        ("Saturday afternoon at 2", time(14, 0)),
        ("Friday morning at 11", time(11, 0)),
        ("in the evening at 6", time(18, 0)),
        ("at noon", time(12, 0)),
    ],
)
def test_am_pm_follows_the_caller_words_else_appointment_habits(said: str, at: time) -> None:
    assert parse_when(said, TUESDAY).at == at


def test_a_bare_number_is_a_time_only_when_a_time_was_asked_for() -> None:
    assert parse_when("3", TUESDAY).at is None
    assert parse_when("3", TUESDAY, expect_time=True).at == time(15, 0)
    assert parse_when("two thirty", TUESDAY, expect_time=True).at == time(14, 30)
    # "one" is a pronoun more often than 1 PM.
    assert parse_when("the first one", TUESDAY, expect_time=True).at is None


@pytest.mark.parametrize("said", ["for 2 people", "2 weeks", "about 5 minutes", "555 0142"])
def test_counts_and_numbers_are_not_clock_times(said: str) -> None:
    assert parse_when(said, TUESDAY, expect_time=True).at is None


def test_the_last_date_named_wins_and_a_turned_down_day_is_reported() -> None:
    when = parse_when("not Friday, Saturday", TUESDAY)
    assert when.day == date(2026, 12, 5)
    assert when.rejected_day == date(2026, 12, 4)
    refused = parse_when("Friday doesn't work for me", TUESDAY)
    assert refused.day is None
    assert refused.rejected_day == date(2026, 12, 4)
    assert parse_when("I can't do Thursday", TUESDAY).rejected_day == date(2026, 12, 3)


def test_every_day_named_is_kept_in_order() -> None:
    when = parse_when("move my Friday one to Saturday, not Sunday", TUESDAY)
    assert when.mentioned == (date(2026, 12, 4), date(2026, 12, 5))
    assert when.day == date(2026, 12, 5)


def test_a_correction_that_starts_with_no_is_not_a_refusal() -> None:
    when = parse_when("no, Thursday", TUESDAY)
    assert when.day == date(2026, 12, 3)
    assert when.rejected_day is None


@pytest.mark.parametrize("said", ["yesterday", "last Friday", "last week"])
def test_past_days_are_flagged_not_booked(said: str) -> None:
    when = parse_when(said, TUESDAY)
    assert when.past
    assert when.day is None


def test_ranges_and_as_soon_as_possible() -> None:
    next_week = parse_when("sometime next week", TUESDAY)
    assert (next_week.day, next_week.days) == (date(2026, 12, 7), 7)
    weekend = parse_when("this weekend", TUESDAY)
    assert (weekend.day, weekend.days) == (date(2026, 12, 5), 2)
    asap = parse_when("the first available", TUESDAY)
    assert asap.earliest
    assert asap.day is None


def test_a_bare_ordinal_is_marked_as_possibly_a_choice() -> None:
    when = parse_when("the second", TUESDAY)
    assert when.day == date(2026, 12, 2)  # the next 2nd of a month
    assert when.ordinal == 2
    assert parse_when("December the second", TUESDAY).ordinal is None
    # After the 2nd has passed this month, "the 2nd" is next month's.
    assert parse_when("the 2nd", date(2026, 12, 3)).day == date(2027, 1, 2)
    # A month without that day is skipped: the 31st after November 30th is December 31st.
    assert parse_when("on the 31st", date(2026, 11, 1)).day == date(2026, 12, 31)


def test_may_is_a_month_only_next_to_a_day() -> None:
    assert parse_when("I may be a bit late", TUESDAY).empty
    assert parse_when("call Jan tomorrow", TUESDAY).day == date(2026, 12, 2)


def test_today_moves_with_the_caller_clock() -> None:
    # Late on Monday in London it is already Tuesday; the caller's "tomorrow" is Wednesday.
    assert parse_when("tomorrow", date(2026, 12, 1)).day == date(2026, 12, 2)
    assert parse_when("tomorrow", date(2026, 11, 30)).day == date(2026, 12, 1)


def test_dateparser_only_sees_date_phrases_and_its_answers_are_cached() -> None:
    _dateparser_day.cache_clear()
    parse_when("I'd like a haircut with Sam at 3, please", TUESDAY)
    assert _dateparser_day.cache_info().currsize == 0
    parse_when("next Friday at 3", TUESDAY)
    parse_when("Next Friday, at three", TUESDAY)
    info = _dateparser_day.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_normalise() -> None:
    assert normalise("  It's 3PM,   Friday—OK?  ") == "it's 3 pm friday ok"
    assert normalise("10 a.m.") == "10 am"


@pytest.mark.parametrize(
    ("at", "part"),
    [(time(9, 0), "morning"), (time(12, 0), "afternoon"), (time(17, 30), "evening")],
)
def test_part_of(at: time, part: str) -> None:
    assert part_of(at) == part


@given(st.text(max_size=80), st.integers(min_value=0, max_value=3000))
def test_any_text_parses_without_error_and_never_into_the_past(text: str, offset: int) -> None:
    today = date(2024, 1, 1) + timedelta(days=offset)
    when = parse_when(text, today)
    if when.day is not None:
        assert when.day >= today
    if when.days != 1:
        assert 1 <= when.days <= 7
