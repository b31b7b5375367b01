"""Opening hours for the days a caller asks about: a named day, a weekend, a few days.

"Are you open on Sunday?", "what are your hours on Saturday?", "open this weekend?": the
answer is about those days, not today's hours again. A closed day says when the business
opens next ("We're closed on Sundays and Mondays; we're open again Tuesday from 9 AM."),
so the caller is not left to guess. Everything is read from the opening-hours tool's
result (its weekday intervals and closed dates), never from the profile directly, and
worded short: one or two sentences.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from voiceops.core.profile import WEEKDAYS
from voiceops.flow.whenwords import WEEKDAY_WORDS
from voiceops.tools.timefmt import spoken_clock, spoken_date, weekday_name

if TYPE_CHECKING:
    from voiceops.flow.when import When
    from voiceops.tools.results import OpeningHours

MAX_DAYS_NAMED = 2
"""Up to this many days are answered one by one ("this weekend"); more get the week."""
_LOOKAHEAD_DAYS = 15
"""How far ahead the next open day is looked for after a closed one."""
_NEARBY = timedelta(days=7)
"""A day this close to the one it is said after is named by its weekday alone."""
_DAYS = rf"(?:weekends?|weekdays?|{'|'.join(WEEKDAY_WORDS)})s?"
DAY_HOURS = re.compile(
    rf"\b(?:(?:do|are|is) (?:you|you guys|y'all|ya|the salon|the shop|anyone|anybody|someone)"
    rf" (?:\w+ )?(?:work|working|do|open|in|around|there)(?: on| at| over| during)?(?: the)?"
    rf" {_DAYS}|{_DAYS} hours|hours (?:on|for|at|over|this|next|during) (?:the )?{_DAYS})\b"
)
"""Hours asked for by day in other words: "do you work weekends?", "what are your Sunday
hours?", "is anyone in on Saturdays?"."""


def asked_days(when: When) -> list[date]:
    """The days an hours question is about, in order: the day or range said, or every day
    named ("Saturday and Sunday"); empty when none is."""
    if when.day is None:
        return []
    if when.days > 1:
        return [when.day + timedelta(days=n) for n in range(when.days)]
    named = sorted(set(when.mentioned) | {when.day})
    return named


def _spans(hours: OpeningHours, day: date) -> list[tuple[time, time]]:
    if day in hours.closed_dates:
        return []
    key = WEEKDAYS[day.weekday()]
    return [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in hours.days.get(key, [])]


def _said(spans: list[tuple[time, time]]) -> str:
    return " and ".join(f"{spoken_clock(a)} to {spoken_clock(b)}" for a, b in spans)


def _label(day: date, today: date) -> str:
    """ "Today", "tomorrow", "Saturday" (within the week), else the full date."""
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    if timedelta(0) < day - today < _NEARBY:
        return weekday_name(day)
    return spoken_date(day)


def _on(day: date, today: date) -> str:
    label = _label(day, today)
    return label if label in ("today", "tomorrow") else f"on {label}"


def _closed_run(hours: OpeningHours, day: date) -> tuple[list[date], date | None]:
    """``day`` and the closed days straight after it, and the next open day (if any)."""
    run = [day]
    for ahead in range(1, _LOOKAHEAD_DAYS):
        following = day + timedelta(days=ahead)
        if _spans(hours, following):
            return run, following
        run.append(following)
    return run, None


def _closed_on(hours: OpeningHours, run: list[date], today: date) -> str:
    """ "closed on Sundays and Mondays" for weekly closures, the date for a closed date."""
    if any(d in hours.closed_dates for d in run) or len(run) > MAX_DAYS_NAMED:
        return f"closed {_on(run[0], today)}"
    names = [f"{weekday_name(d)}s" for d in run]
    return f"closed on {' and '.join(names)}"


def closed_answer(hours: OpeningHours, day: date, today: date, *, next_open: bool) -> str:
    """A closed day, and (with ``next_open``) when the business opens again."""
    run, reopens = _closed_run(hours, day)
    closed = f"We're {_closed_on(hours, run, today)}"
    if not next_open or reopens is None:
        return f"{closed}."
    named = weekday_name(reopens) if reopens - day < _NEARBY else spoken_date(reopens)
    if reopens == today + timedelta(days=1):
        named = "tomorrow"
    starts = spoken_clock(_spans(hours, reopens)[0][0])
    return f"{closed}; we're open again {named} from {starts}."


def hours_on_days(
    hours: OpeningHours, days: list[date], today: date, *, next_open: bool = True
) -> str:
    """The hours of one or two days asked about, in a sentence or two."""
    if len(days) == 1:
        day = days[0]
        spans = _spans(hours, day)
        if not spans:
            return closed_answer(hours, day, today, next_open=next_open)
        on = _on(day, today)
        return f"{on[:1].upper()}{on[1:]} we're open {_said(spans)}."
    opened = [(d, s) for d in days if (s := _spans(hours, d))]
    if not opened:
        return closed_answer(hours, days[0], today, next_open=next_open)
    parts = [f"{_on(d, today)} we're open {_said(s)}" for d, s in opened]
    text = " and ".join(parts)
    shut = [d for d in days if not _spans(hours, d)]
    if shut:
        text += f"; we're {_closed_on(hours, shut, today)}"
    return f"{text[:1].upper()}{text[1:]}."
