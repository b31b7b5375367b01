"""Earliest and latest times: a clock time said as a limit, not as the time wanted.

"After 5", "not before 10", "by 3", "my bus doesn't come until half past nine", "I finish
work at 5", "after I drop the kids at 9", "I have to pick my son up at 3": each names a
clock time, but the caller wants a time on one side of it, not that one. :func:`bound_of`
reads the words around one clock time found by :data:`~voiceops.flow.whenwords.TIME` and
says which side it limits. When the limit is an event the caller must travel from or to
(a bus, work, the school run) it leaves :data:`SLACK` for the journey.

The offers then keep to the limits (:func:`within`), and availability is asked around the
first time inside them (:func:`pivot`). Each reader here is one bounded regular expression
over at most :data:`_REACH` characters before or after the time: linear in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

SLACK = timedelta(minutes=30)
"""Time to get from an event to the salon, or from the salon to one."""
_STRICT = timedelta(seconds=1)
""""After 9:30" is later than 9:30: the limit a second past it (said as 9:30 still)."""
_REACH = 60
"""How far before a clock time its limiting words are looked for: a few words."""

Side = Literal["after", "before"]

_ARRIVING = re.compile(
    r"\b(?:bus|buses|train|tram|subway|metro|ferry|flight|shuttle|ride|lift)\b"
    r"(?: \S+){0,6} $"
)
"""Transport the caller comes by: the appointment is after it, with time to walk over."""
_LEAVING = re.compile(r"\b(?:leaves|leave|goes|departs|catch)(?: \S+){0,3} $")
"""...unless it is transport the caller must leave for ("my bus leaves at 3")."""
_FREED = re.compile(
    r"\b(?:(?:finish|finishes|finished|finishing|get off|get out of|leave|done with|off)"
    r" (?:work|school|class|college|my shift|the office)"
    r"|(?:work|working|at work|busy|in meetings?|stuck at work) (?:until|till)"
    r"|i (?:finish|get off|get out|knock off)"
    r"|drop(?:ping)?(?: off)? (?:the |my |our )?(?:kids?|children|son|daughter|boy|girl"
    r"|little one|grandkids?)|school run)(?: \S+){0,4} $"
)
"""Something the caller is busy with until then: the appointment after it, with travel."""
_BOUND_BY = re.compile(
    r"\b(?:pick(?:ing)? (?:up )?(?:\S+ ){0,2}(?:kids?|children|son|daughter|boy|girl"
    r"|little one|grandkids?)|school pick ?up|(?:start|starts|starting) (?:work|my shift)"
    r"|(?:be|get) (?:back )?(?:at|to) work|(?:have|need|got) to (?:be|go) (?:somewhere|back)"
    r"|(?:have|got|'ve got) (?:a|an|my|the) (?:\S+ )?(?:meeting|interview|class|lesson|shift"
    r"|flight|wedding|party|dinner|funeral|event))"
    r"(?: \S+){0,4} $"
)
"""Something the caller must be at then: the appointment over before it, with travel."""
_NOT_NEAR = re.compile(r"\b(?:not|never)\s*$")
"""A refusal right before the limit: "not before 10" is from 10 on."""
_NOT = re.compile(r"(?:\b(?:not|never)|n't)(?: \S+){0,3} $")
"""A refusal a few words before "until": "the bus doesn't come until 9:30"."""
_UNTIL = re.compile(r"\b(?:until|till|til)\s*$")
_AFTER = re.compile(r"\bafter\s*$")
_DAY_AFTER = re.compile(r"\bthe\s{3,}after\s*$")
""""The Tuesday after, 5 o'clock" names a day (blanked out here) and a time, no limit."""
_BEFORE = re.compile(r"\b(?:before|by)\s*$")
_RANGE = re.compile(r" (?:to|till|until|and|through)\b")
""""From 11 to 2" names two times, not a limit."""


_CLOCK = (
    r"(?:\d{1,2}(?::\d\d)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|noon|midday)(?: ?(?:am|pm|o'clock|oclock|ish))?"
)
_BETWEEN = re.compile(rf"\bbetween ({_CLOCK}) and (?={_CLOCK}\b)")
""""Between 2 and 4": from 2, over by 4."""


def as_limits(text: str) -> str:
    """Normalised ``text`` with "between 2 and 4" said as the two limits it sets."""
    return _BETWEEN.sub(r"not before \1 before ", text) if "between" in text else text


@dataclass(frozen=True, slots=True)
class Bound:
    side: Side
    at: time


def _shifted(value: time, by: timedelta) -> time:
    moved = datetime.combine(date(2000, 1, 1), value) + by
    if moved.date() != date(2000, 1, 1):
        return value
    return moved.time()


def bound_of(text: str, match: re.Match[str], value: time) -> Bound | None:
    """Whether the clock time ``value``, read by ``match`` in normalised ``text``, limits
    the time wanted rather than naming it; and which side."""
    prep = match.group("prep") or ""
    before_prep = text[max(0, match.start() - _REACH) : match.start()]
    head = f"{before_prep}{prep} " if prep else before_prep
    if _ARRIVING.search(head):
        if _LEAVING.search(head):
            return Bound("before", _shifted(value, -SLACK))  # "my bus leaves at 3"
        return Bound("after", _shifted(value, SLACK))
    if _FREED.search(head):
        return Bound("after", _shifted(value, SLACK))
    if _BOUND_BY.search(head):
        return Bound("before", _shifted(value, -SLACK))
    if _UNTIL.search(head):
        # "The bus doesn't come until 9:30", "I'm not free till 3": only from then on.
        return Bound("after", value) if _NOT.search(before_prep) else Bound("before", value)
    refused = _NOT_NEAR.search(before_prep) is not None or before_prep.endswith("no ")
    if prep.endswith("than"):
        # "No later than 4", "earlier than 10", "not earlier than 10".
        later = prep.startswith("later")
        if refused:
            return Bound("before", value) if later else Bound("after", value)
        return Bound("after", _shifted(value, _STRICT)) if later else Bound("before", value)
    if _AFTER.search(head) and not _DAY_AFTER.search(head):
        return Bound("before", value) if refused else Bound("after", _shifted(value, _STRICT))
    if _BEFORE.search(head):
        return Bound("after", value) if refused else Bound("before", value)
    if prep == "from" and not _RANGE.match(text, match.end()):
        return Bound("after", value)  # "from 2 on", "any time from 2"
    return None


def within(start: datetime, minutes: int, after: time | None, before: time | None) -> bool:
    """Whether an appointment of ``minutes`` starting at ``start`` keeps to the limits:
    starts no earlier than ``after`` and is over by ``before``."""
    if after is not None and start.time() < after:
        return False
    if before is None:
        return True
    end = start + timedelta(minutes=minutes)
    return end <= datetime.combine(start.date(), before)


def pivot(after: time | None, before: time | None, minutes: int, step: int) -> time | None:
    """A time to ask availability around so the nearest free times fall inside the limits:
    one step past the first start allowed, or one step before the last."""
    if after is not None:
        # The first start on the step at or past the limit, then one step on.
        minutes = after.hour * 60 + after.minute + (1 if after.second else 0)
        first = -(-minutes // step) * step + step
        return time(first // 60, first % 60) if first < 24 * 60 else after
    if before is not None:
        return _shifted(before, -timedelta(minutes=minutes + step))
    return None
