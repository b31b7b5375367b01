"""Relative dates and corrections: the phrases :func:`~voiceops.flow.when.parse_when`
leaves to the dialogue because they lean on what was said before or on the clock.

"Not this Friday, the one after", "the Friday after", "the Saturday before the 3rd",
"after work", "after school", "around lunch", "first thing", "in half an hour", "push it
back an hour", "make it 4", "same time". Each reader here is one regular expression over
the normalised text (linear in it) and a little arithmetic.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from voiceops.flow.when import WEEKDAY_WORDS, When

CORRECTION = re.compile(
    r"\b(?:actually|make it|make that|instead|rather"
    r"|(?:change|move|push|shift|switch|swap) (?:it|that|my time|the time) (?:to|from|for)"
    r"|swap (?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
    r"|i meant|i mean|i said|can we do|how about|what about"
    r"|not (?:at )?(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve))\b"
)
"""A correction or a counter-offer: a bare number in it is a clock time ("make it 4", "no I
said 2", "two, not ten", "change it from 11 to 12", "swap 11 for 12")."""
_SHIFT = re.compile(
    r"\b(?:push|move|bump|put|make|set) (?:it|that|the time|the appointment|the booking|me)"
    r" (?P<dir>back|later|forward|earlier|ahead)(?: (?:by|like|about|around|maybe|just|say))*"
    r" (?P<amount>an|one|two|half an|a half|\d{1,2}|fifteen|thirty|forty five)"
    r" (?P<unit>hours?|minutes?|mins?)\b"
    r"|\b(?P<amount2>an|one|two|half an|\d{1,2}|fifteen|thirty|forty five)"
    r" (?P<unit2>hours?|minutes?|mins?) (?P<dir2>later|earlier)\b"
)
"""Moving a time by an amount: "push it back an hour", "half an hour earlier"."""
_SHIFT_AMOUNTS = {
    "an": 1,
    "one": 1,
    "two": 2,
    "half an": 0.5,
    "a half": 0.5,
    "fifteen": 15,
    "thirty": 30,
    "forty five": 45,
}
_SAME_AS_BEFORE = re.compile(r"\b(?:same time|the same time|same hour)\b")
_ONE_AFTER = re.compile(r"\b(?:the one after|the following one|the week after|a week later)\b")
"""After a refused day ("not this Friday, the one after"): the same weekday a week on."""
_WD = r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_WEEKDAY_AFTER = re.compile(rf"\bthe {_WD} after\b(?! (?:next|the|that|this)\b| \d)")
""""The Friday after": the one after the coming Friday."""
_WEEKDAY_BEFORE = re.compile(rf"\bthe {_WD} before (?:the )?\w+")
""""The Saturday before the 3rd": the last such weekday before the date named."""
_NEXT_WEEKDAY = re.compile(rf"\bnext {_WD}\b")
_FROM_NOW = re.compile(
    r"\bin (?P<amount>half an|an|one|two|a couple of|\d{1,3}|ten|fifteen|twenty|thirty"
    r"|forty five) (?P<unit>hours?|minutes?|mins?)\b"
)
_FROM_NOW_AMOUNTS = {
    "half an": 0.5,
    "an": 1,
    "one": 1,
    "two": 2,
    "a couple of": 2,
    "ten": 10,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty five": 45,
}
_SAME_TIME = re.compile(r"\b(?:same time|at once|together|side by side)\b")
_AFTER_WORK = re.compile(r"\bafter work\b")
_AFTER_SCHOOL = re.compile(r"\b(?:after school|school pick ?up)\b")
_LUNCH = re.compile(r"\blunch ?(?:time|break|hour)?\b")
_AROUND_LUNCH = re.compile(r"\b(?P<side>after|before) (?:my |your |the )?lunch\b")
""""After lunch" is from 1 on, "before lunch" over by noon: neither is noon itself."""
_LUNCH_ENDS, _LUNCH_STARTS = time(13, 0), time(12, 0)
_SCHOOL_OUT = time(15, 30)
_FIRST_THING = re.compile(r"\b(?:first thing|as soon as you open|when you open)\b")


def _shift(text: str) -> int | None:
    match = _SHIFT.search(text)
    if match is None:
        return None
    amount = match.group("amount") or match.group("amount2")
    unit = match.group("unit") or match.group("unit2")
    way = match.group("dir") or match.group("dir2")
    value = _SHIFT_AMOUNTS.get(amount) or (int(amount) if amount.isdigit() else 0)
    minutes = int(value * 60) if unit.startswith("hour") else int(value)
    if not minutes:
        return None
    return -minutes if way in ("forward", "earlier", "ahead") else minutes


def _from_now(text: str) -> int | None:
    match = _FROM_NOW.search(text)
    if match is None:
        return None
    amount = match.group("amount")
    value = _FROM_NOW_AMOUNTS.get(amount) or (int(amount) if amount.isdigit() else 0)
    return int(value * 60) if match.group("unit").startswith("hour") else int(value)


def _resolve(text: str, today: date, when: When) -> tuple[When, bool]:
    """Day phrases :func:`parse_when` leaves to us; True when one cannot be resolved."""
    if when.day is None and when.rejected_day is not None and _ONE_AFTER.search(text):
        # "Not this Friday, the one after."
        return dataclasses.replace(when, day=when.rejected_day + timedelta(days=7)), False
    before = _WEEKDAY_BEFORE.search(text)
    if before is not None and when.day is not None:
        anchor = when.day
        wanted = WEEKDAY_WORDS.index(before.group("wd"))
        back = (anchor.weekday() - wanted) % 7 or 7
        day = anchor - timedelta(days=back)
        if day < today:
            return dataclasses.replace(when, day=None, ordinal=None, mentioned=()), True
        return dataclasses.replace(when, day=day, ordinal=None), False
    after = _WEEKDAY_AFTER.search(text)
    if after is not None and when.day is not None:
        if when.day.weekday() == WEEKDAY_WORDS.index(after.group("wd")):
            return dataclasses.replace(when, day=when.day + timedelta(days=7)), False
    if when.at is None and _AFTER_WORK.search(text):
        return dataclasses.replace(when, part="evening"), False
    if when.at is None and when.part is None and _AFTER_SCHOOL.search(text):
        # School is out around 3: the times from half past, with time to get there.
        return dataclasses.replace(when, at=None, part="afternoon", after=_SCHOOL_OUT), False
    around = _AROUND_LUNCH.search(text)
    if around is not None and when.at in (None, _LUNCH_STARTS):
        if around.group("side") == "after":
            return dataclasses.replace(when, at=None, part="afternoon", after=_LUNCH_ENDS), False
        return dataclasses.replace(when, at=None, part="morning", before=_LUNCH_STARTS), False
    if when.at is None and _LUNCH.search(text):
        return dataclasses.replace(when, at=time(12, 0), part="afternoon"), False
    return when, False


@dataclass(frozen=True, slots=True)
class Relative:
    """What an utterance says relative to the clock or to what was said before."""

    when: When
    """The date and time, with the relative day phrases resolved."""
    unresolved: bool = False
    """A date phrase that names no day we can be sure of: ask, don't guess."""
    shift: int | None = None
    """Minutes to move the time by ("push it back an hour": 60; "half an hour earlier": -30)."""
    from_now: int | None = None
    """"In half an hour": minutes from now."""
    same_time: bool = False
    one_after: bool = False
    first_thing: bool = False
    next_weekday: bool = False
    weekday_after: int | None = None
    """"The Tuesday after": that weekday, for the dialogue to put after the day in hand."""

    def fields(self) -> dict[str, Any]:
        """The values by name, as :class:`~voiceops.flow.understand.Understanding` has them."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


def read_relative(text: str, today: date, when: When) -> Relative:
    """The relative phrases of normalised ``text``, over what :func:`parse_when` read."""
    resolved, unresolved = _resolve(text, today, when)
    after = _WEEKDAY_AFTER.search(text)
    return Relative(
        when=resolved,
        unresolved=unresolved,
        shift=_shift(text),
        from_now=_from_now(text),
        same_time=bool(_SAME_TIME.search(text) or _SAME_AS_BEFORE.search(text)),
        one_after=bool(_ONE_AFTER.search(text)) and resolved.day is None,
        first_thing=bool(_FIRST_THING.search(text)),
        next_weekday=bool(_NEXT_WEEKDAY.search(text)) and resolved.day is not None,
        weekday_after=WEEKDAY_WORDS.index(after.group("wd")) if after is not None else None,
    )
