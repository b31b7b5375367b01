"""The words of dates and times, and clock times: what :mod:`voiceops.flow.when` reads with.

Number words ("forty five", "twenty first"), weekday and month names with the short forms a
transcript may carry, the two big patterns for date phrases (:data:`DATE`) and clock times
(:data:`TIME`), the cheap word gates that keep those patterns off text they cannot match, and
the reading of one clock-time match (:func:`resolve_time`): 1 to 7 without AM/PM is the
afternoon, 8 to 11 the morning, unless a part of the day says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time
from typing import Literal

DayPart = Literal["morning", "afternoon", "evening"]


_UNITS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
_ORDINAL_UNITS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
}
_ORDINAL_TENS = {"twentieth": 20, "thirtieth": 30}
WEEKDAY_WORDS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""Weekday names as a caller says them, Monday first (``date.weekday()`` order)."""
WEEKDAY_ALIASES = {
    "tue": "tuesday",
    "tues": "tuesday",
    "wed": "wednesday",
    "weds": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
    "fri": "friday",
}
"""Short forms a transcript may carry; "mon", "sat" and "sun" are words of their own."""
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_ABBREVIATIONS = (
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
)


def _alt(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first so "thurs" beats "thu"."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_NUM_UNIT = _alt(_UNITS)
_NUM_WORD = rf"(?:{_alt(_TENS)})(?:\ (?:{_alt(list(_UNITS)[:9])}))?|{_NUM_UNIT}"
_ORD_WORD = (
    rf"(?:twenty|thirty)\ (?:{_alt(list(_ORDINAL_UNITS)[:9])})|{_alt(_ORDINAL_TENS)}"
    rf"|{_alt(_ORDINAL_UNITS)}"
)
_ORDINAL = rf"\d{{1,2}}(?:st|nd|rd|th)|{_ORD_WORD}"
_DAY_NUMBER = rf"\d{{1,2}}(?:st|nd|rd|th)?|{_ORD_WORD}"
_WEEKDAY = rf"{_alt(WEEKDAY_WORDS)}|{_alt(WEEKDAY_ALIASES)}"
# "may", "mar" and "jan" are ordinary words too: months only next to a day number.
_MONTH = rf"{_alt(_MONTHS)}|{_alt(_MONTH_ABBREVIATIONS)}"
_COUNT = rf"\d{{1,2}}|an?|{_NUM_WORD}"

DATE = re.compile(
    rf"""
    \b(?:
        (?P<past>yesterday|last\ (?:week|{_WEEKDAY}))
      | (?P<n_from>(?P<n_from_count>{_COUNT})\ weeks?\ from
                  \ (?P<n_from_base>today|now|tomorrow|{_WEEKDAY}))
      | (?P<in_n>in\ (?P<in_n_count>{_COUNT})\ (?P<in_n_unit>day|week|month)s?(?:\ time)?)
      | (?P<now>right\ away|straight\ away|(?<=\bin\ )(?:right\ )?now)
      | (?P<rel>(?:the\ )?day\ after\ tomorrow|today|tonight|tomorrow
              |this(?=\ (?:morning|afternoon|evening)\b))
      | (?P<wd_next_week>(?:on\ )?(?P<wd_nw_a>{_WEEKDAY})\ (?:of\ )?next\ week
                        |next\ week\ (?:on\ )?(?P<wd_nw_b>{_WEEKDAY}))
      | (?P<wd_after_next>(?P<wd_an>{_WEEKDAY})\ after\ next)
      | (?P<wd>(?:(?P<wd_mod>next|this(?:\ coming)?|coming)\ )?(?P<wd_day>{_WEEKDAY})s?)
      | (?P<md>(?P<md_month>{_MONTH})\ (?:the\ )?(?P<md_day>{_DAY_NUMBER})
             |(?:the\ )?(?:(?P<dm_day>{_ORDINAL})\ (?:of\ )?|(?P<dm_num>\d{{1,2}})\ of\ )
              (?P<dm_month>{_MONTH}))
      | (?P<range>next\ week|this\ week|(?:this\ |next\ |the\ )?weekends?)
      | (?P<earliest>as\ soon\ as\ possible|asap|earliest|soonest|first\ available|next\ available
                   |any\ ?time|whenever)
      | (?P<ord>(?:(?:on\ )?the|on)\ (?P<ord_n>{_ORDINAL})
                (?!\ (?:available|one|option|slot|time|thing|appointment|booking)))
    )\b
    """,
    re.VERBOSE,
)

_HOUR_WORD = _alt(list(_UNITS)[:12])
_MINUTE_WORD = (
    rf"(?:oh|o)\ (?:{_alt(list(_UNITS)[:9])})|(?!(?:{_alt(list(_UNITS)[:9])})\b)(?:{_NUM_WORD})"
)
"""Minutes said after the hour: "oh five", "fifteen", "forty five"; never a bare unit ("the
two one" is the 2 o'clock one, not 2:01)."""
_MERIDIEM = r"am|pm|o'?\ ?clock|in\ the\ (?:morning|afternoon|evening)|at\ night|tonight"
_LIKE = r"(?<!i'd\ )(?<!would\ )(?<!we'd\ )(?<!i\ )(?<!we\ )(?<!they\ )(?<!you\ )like"
""""Like 6" is a time said loosely; "I'd like two" is not."""
_TIME_PREP = (
    rf"at|around|about|by|after|before|from|until|till|say|maybe|ish|{_LIKE}"
    r"|(?:later|earlier)\ than"
)
_UNITS_AFTER = (
    r"people|persons?|of\ us|minutes?|mins?|hours?|days?|weeks?|months?|years?|dollars?|bucks"
    r"|st\b|nd\b|rd\b|th\b|times?|services?"
)

TIME = re.compile(
    rf"""
    \b(?:
        (?P<noon>noon|midday|lunch\ ?time)
      | (?P<rel_q>half|quarter|\d{{1,2}}|{_NUM_WORD})(?:\ minutes?)?
        \ (?P<rel_dir>past|after|to|of|till)\ (?P<rel_h>\d{{1,2}}|{_HOUR_WORD})
      | half\ (?P<half_h>\d{{1,2}}|{_HOUR_WORD})(?:\ (?P<half_mer>am|pm))?
        (?!\ (?:{_UNITS_AFTER}|an?\b))
      | (?:(?P<prep>{_TIME_PREP})\ (?:(?:about|around|like|maybe)\ )?)?
        (?P<h>\d{{1,2}}|{_HOUR_WORD})
        (?::(?P<m>\d{{2}})|\ (?P<mw>\d{{2}}|{_MINUTE_WORD}))?
        (?:\ ?(?P<mer>{_MERIDIEM}))?(?:\ (?P<ish>ish))?
    )\b(?!\ (?:{_UNITS_AFTER}))(?!:)
    """,
    re.VERBOSE,
)

AGE = re.compile(
    rf"""
    (?:\b(?:he|she|they|son|daughter|kid|child|boy|girl|baby|who)(?:'s|'re|\ is|\ are|\ was)
      |\b(?:turn(?:s|ed|ing)?|aged?))
    (?:\ (?:only|just|nearly|almost|about|now|going\ on))*
    \ (?:\d{{1,2}}|{_NUM_WORD})\b(?!\ (?:{_MERIDIEM}|am|pm|thirty|fifteen|forty|\d))
    """,
    re.VERBOSE,
)
"""An age, not a clock time: "he's only six", "she is 8", "turning seven" ("six years old"
is kept off by the units after a time)."""

# Cheap gates: the two big patterns above only run on text that has a word they could
# start with, which most replies ("Sam Smith", "yes please") do not.
DATE_WORDS = frozenset(
    {
        *WEEKDAY_WORDS,
        *(f"{day}s" for day in WEEKDAY_WORDS),
        *WEEKDAY_ALIASES,
        *_MONTHS,
        *_MONTH_ABBREVIATIONS,
        *_ORDINAL_UNITS,
        *_ORDINAL_TENS,
        *("today", "tonight", "tomorrow", "yesterday", "day", "days", "week", "weeks"),
        *("weekend", "weekends", "month", "months", "asap", "earliest", "soonest", "available"),
        *("whenever", "anytime", "any", "this", "now", "away"),
    }
)
TIME_WORDS = frozenset({*list(_UNITS)[:12], "noon", "midday", "lunch", "lunchtime", "half"})
ORDINAL_TOKEN = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)\b")
DIGIT = re.compile(r"\d")


_QUARTER_MINUTES = frozenset({"fifteen", "thirty", "forty five", "15", "30", "45"})
"""Minutes that make an hour before them a clock time ("one thirty") with no other cue."""


def number(text: str) -> int | None:
    """``"7"``, ``"seven"``, ``"forty five"``, ``"oh five"`` -> int; ``None`` otherwise."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    words = text.split()
    if words and words[0] in ("oh", "o"):
        words = words[1:]
    if len(words) == 1:
        return _UNITS.get(words[0], _TENS.get(words[0]))
    if len(words) == 2 and words[0] in _TENS and words[1] in _UNITS:
        return _TENS[words[0]] + _UNITS[words[1]]
    return None


def ordinal_number(text: str) -> int | None:
    """``"3rd"``, ``"third"``, ``"twenty first"`` -> int."""
    text = text.strip()
    digits = re.match(r"^(\d{1,2})(?:st|nd|rd|th)?$", text)
    if digits:
        return int(digits.group(1))
    words = text.split()
    if len(words) == 1:
        return _ORDINAL_UNITS.get(words[0], _ORDINAL_TENS.get(words[0]))
    if len(words) == 2 and words[0] in _TENS and words[1] in _ORDINAL_UNITS:
        return _TENS[words[0]] + _ORDINAL_UNITS[words[1]]
    return None


def count(text: str) -> int | None:
    return 1 if text in ("a", "an") else number(text)


def _clock(hour: int, minute: int, meridiem: str | None, part: DayPart | None) -> time | None:
    if not 0 <= minute <= 59:
        return None
    if meridiem in ("am", "in the morning"):
        if not 1 <= hour <= 12:
            return None
        hour = 0 if hour == 12 else hour
    elif meridiem in ("pm", "in the afternoon", "in the evening", "at night", "tonight"):
        if not 1 <= hour <= 12:
            return None
        hour = hour if hour == 12 else hour + 12
    elif hour > 23:
        return None
    elif 1 <= hour <= 12:
        if part == "morning":
            hour = 0 if hour == 12 else hour
        elif part in ("afternoon", "evening"):
            hour = hour if hour == 12 else hour + 12
        elif hour <= 7:
            # Nobody books a haircut at 3 in the morning: bare small hours are afternoon.
            hour += 12
    return time(hour, minute)


def resolve_time(match: re.Match[str], part: DayPart | None, expect_time: bool) -> time | None:
    g = match.group
    if g("noon"):
        return time(12, 0)
    if g("rel_q"):
        quantity, direction = g("rel_q"), g("rel_dir")
        hour = number(g("rel_h"))
        if quantity == "half":
            minutes = 30
        elif quantity == "quarter":
            minutes = 15
        else:
            parsed = number(quantity)
            if parsed is None:
                return None
            minutes = parsed
        if hour is None or not 1 <= hour <= 12 or not 0 < minutes < 60:
            return None
        if direction in ("to", "of", "till"):
            if quantity == "half":
                return None
            hour, minutes = (hour - 1) or 12, 60 - minutes
        elif direction == "after" and quantity == "half":
            return None
        return _clock(hour, minutes, None, part)
    if g("half_h"):
        # "Half one", "half nine": half past, as said in Britain and Ireland.
        hour = number(g("half_h"))
        if hour is None or not 1 <= hour <= 12:
            return None
        return _clock(hour, 30, g("half_mer"), part)
    hour = number(g("h"))
    if hour is None:
        return None
    meridiem = g("mer")
    # "Two-ish" and "one thirty" are clock times wherever they are said.
    quarters = g("mw") in _QUARTER_MINUTES
    explicit = bool(meridiem or g("m") or g("prep") or g("ish") or quarters)
    if not explicit:
        # A bare number is a time only when the agent just asked for one, and "one" is
        # then still more often a pronoun ("the first one") than 1 PM.
        if not expect_time or g("h") == "one":
            return None
    minute = 0
    if g("m"):
        minute = int(g("m"))
    elif g("mw"):
        parsed = number(g("mw"))
        if parsed is None:
            return None
        minute = parsed
    if meridiem in ("o'clock", "oclock", "o clock"):
        meridiem = None
    return _clock(hour, minute, meridiem, part)


DAY_BESIDE = re.compile(r"\bthe day (?P<dir>before|after)\b(?! tomorrow)")
"""The day before or after the one named ("my interview is on the 18th, the day before")."""
AGE_WORDS = frozenset("he's she's they're is are was turn turns turned turning age aged".split())
"""Words of which a text must hold one for :data:`AGE` to be worth trying."""


def blank(match: re.Match[str]) -> str:
    """Spaces as long as the match: the words taken out, every position kept."""
    return " " * (match.end() - match.start())
