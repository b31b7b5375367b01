"""Numbers as speech-to-text writes them, put the way the date and time readers take them.

A transcript writes what a caller says in digits, and not always as a clock or a calendar
would: "12/14" for the 14th of December, "9am" with the meridiem glued on, "930", "1030"
and "230" for 9:30, 10:30 and 2:30 with no colon, and "not 11, 12" with two numbers side by
side that, the comma dropped, would read as one time ("11 12", eleven twelve).
:func:`written_numbers` rewrites them in lower-cased text, before punctuation is dropped:
a slash date to the month's name and the day, a glued meridiem apart, a colonless clock
time to ``h:mm``, and a comma between two hours to "or". Phone numbers (digits
beside other digits), years and amounts ("$930", "230 dollars", "100 people") are left as
they are. Each step is one regular expression, linear in the text.
"""

from __future__ import annotations

import re

_GLUED_MERIDIEM = re.compile(r"(\d)(am|pm|ish)\b")
_SLASH_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(?:\d{4}|\d{2}))?\b(?!/\d)")
"""A date written with numbers ("12/14", "12/14/2026"): month first, as in the US, unless
only day first makes a date ("25/12")."""
_MONTH_NAMES = (
    "january february march april may june july august september october november december"
).split()
_AMOUNTS = (
    r"dollars?|bucks|pounds?|quid|euros?|cents?|percent|people|persons?|of us|minutes?|mins?"
    r"|hours?|days?|weeks?|months?|years?|times?|services?|calls?|miles?|blocks?|feet|k\b"
)
_STREET = r"\S+ (?:street|st|avenue|ave|road|rd|drive|dr|lane|ln|boulevard|blvd|way|place)"
_CLOCK = re.compile(
    rf"(?<![\d$£€#.,:/+\-])(?<!\d )\b(?P<h>1[0-2]|[1-9])(?P<m>[0-5]\d)\b"
    rf"(?![.,]?\d| ?[\-/]? ?\d| ?%| (?:{_AMOUNTS})\b| {_STREET}\b)"
)
"""A clock time written without its colon ("930", "1030", "1245"): an hour of 1 to 12 and
minutes, standing alone, not in a phone number, not an amount, not a street number."""
_HOURS = r"\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_SIDE_BY_SIDE = re.compile(rf"\b({_HOURS}) ?, ?(?=(?:{_HOURS})\b(?![.,:]?\d))")
""""Not 11, 12", "no, not eleven, twelve", "3, 4 or 5": two hours a comma keeps apart."""


def _slash_date(match: re.Match[str]) -> str:
    first, second = int(match.group(1)), int(match.group(2))
    month, day = (first, second) if first <= 12 else (second, first)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match.group(0)
    return f" {_MONTH_NAMES[month - 1]} {day} "


def written_numbers(lowered: str) -> str:
    """``lowered`` (lower case, punctuation still in) with its written numbers rewritten
    as the readers of dates and times take them; see the module docstring."""
    text = _GLUED_MERIDIEM.sub(r"\1 \2", lowered)
    text = _SLASH_DATE.sub(_slash_date, text)
    text = _CLOCK.sub(r"\g<h>:\g<m>", text)
    return _SIDE_BY_SIDE.sub(r"\1 or ", text)
