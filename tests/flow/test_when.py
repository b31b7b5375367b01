"""Spoken dates and times, resolved against a fixed caller-local "today"."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import date, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceops.flow import when as when_module
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


# --- long utterances: bounded work ---------------------------------------------------------

RAMBLE = (
    "uh so not Friday, Friday doesn't work for me at 4, maybe the 3rd at half past two or "
    "Monday morning, qwe-rty ### 1234, I can't make it at 5 "
)
"""Caller-like filler with dates, times and refusals in it: every kind of phrase is found."""


def _long(size: int, ending: str) -> str:
    filler = (RAMBLE * (size // len(RAMBLE) + 1))[: size - len(ending)]
    return filler + ending


class _Spy:
    """Stands in for a compiled pattern and records how many characters each call reads."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.widths: list[int] = []

    def _width(self, string: str, pos: int, endpos: int) -> None:
        self.widths.append(min(endpos, len(string)) - pos)

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        self._width(string, pos, endpos)
        return self.pattern.search(string, pos, endpos)

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        self._width(string, pos, endpos)
        return self.pattern.match(string, pos, endpos)


def _bounded_normalise(monkeypatch: pytest.MonkeyPatch, limit: int) -> list[int]:
    """Make ``normalise`` refuse (fast) any text over ``limit``; returns the lengths seen."""
    seen: list[int] = []
    real: Callable[[str], str] = when_module.normalise

    def checked(text: str) -> str:
        assert len(text) <= limit, f"{len(text)} characters handed to the date reader"
        seen.append(len(text))
        return real(text)

    monkeypatch.setattr(when_module, "normalise", checked)
    return seen


def test_a_400_kb_utterance_parses_the_same_as_its_tail(monkeypatch: pytest.MonkeyPatch) -> None:
    limit = when_module.MAX_PARSED_CHARS
    text = "Monday at 9am is what I first thought. " + _long(
        400_000, " so Saturday at 3pm then, not Friday"
    )
    tail = when_module.utterance_tail(text)
    assert len(tail) <= limit and text.endswith(tail)
    seen = _bounded_normalise(monkeypatch, limit)

    whole = parse_when(text, TUESDAY, expect_time=True)

    assert seen and max(seen) <= limit
    assert whole == parse_when(tail, TUESDAY, expect_time=True)
    assert whole.day == date(2026, 12, 5) and whole.at == time(15, 0)
    assert whole.rejected_day == date(2026, 12, 4)


def test_the_tail_starts_at_a_word_and_costs_only_its_own_length() -> None:
    tail = when_module.utterance_tail
    assert tail("Friday at 3", 100) == "Friday at 3"
    assert tail("on Saturday at 3", 10) == "at 3", "the cut word (urday) is dropped"
    assert tail("on Saturday at 3", 13) == "Saturday at 3", "a cut at a space keeps the word"
    assert tail("x" * 50, 10) == "x" * 10, "no space to cut at: the last characters"
    assert tail("a b " + "x" * 20, 10) == "x" * 10
    assert len(tail("y " * 5_000_000)) <= when_module.MAX_PARSED_CHARS


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.text(max_size=300),
    phrases=st.lists(
        st.sampled_from(
            [
                "next Friday",
                "not Friday",
                "Friday doesn't work",
                "at 3",
                "half past two",
                "the 3rd",
                "in two weeks",
                "tomorrow morning",
                "December 21st at 10am",
                "can't do 4",
                "um",
                "###",
                "1234",
            ]
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_what_comes_before_the_last_characters_never_changes_the_reading(
    prefix: str, phrases: list[str]
) -> None:
    unit = " ".join(phrases) + " "
    body = unit * (when_module.MAX_PARSED_CHARS // len(unit) + 2)
    assert len(body) > when_module.MAX_PARSED_CHARS
    for expect_time in (False, True):
        assert parse_when(prefix + body, TUESDAY, expect_time=expect_time) == parse_when(
            body, TUESDAY, expect_time=expect_time
        )


def test_refusal_checks_read_a_window_not_the_text_before_each_phrase(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The tail bound aside, each step must be linear: lift the bound and count what the
    # refusal checks read for a text with hundreds of dates and times in it.
    monkeypatch.setattr(when_module, "MAX_PARSED_CHARS", 10**9, raising=False)
    before, after = _Spy(when_module._REJECT_BEFORE), _Spy(when_module._REJECT_AFTER)
    monkeypatch.setattr(when_module, "_REJECT_BEFORE", before)
    monkeypatch.setattr(when_module, "_REJECT_AFTER", after)
    text = _long(40_000, " not Friday, Saturday at 3pm")

    when = parse_when(text, TUESDAY, expect_time=True)

    assert when.day == date(2026, 12, 5) and when.rejected_day == date(2026, 12, 4)
    checks = before.widths + after.widths
    assert len(before.widths) > 500, "every date and time phrase is checked"
    assert max(checks) <= 128, "a refusal is looked for next to the phrase only"
    assert sum(checks) <= 128 * len(checks)


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("can i come in now for a haircut", TUESDAY),
        ("i need it done right away", TUESDAY),
        ("could you fit me in straight away", TUESDAY),
        ("now i want to ask about prices", None),
        ("i'm calling now because my hair is a mess", None),
        ("are you open now", None),
        ("are you open right now", None),
        ("can I come in right now", TUESDAY),
    ],
)
def test_now_said_of_coming_in_is_today(said: str, day: date | None) -> None:
    assert parse_when(said, TUESDAY).day == day
