"""Dates and times as callers say them, resolved against the caller-local calendar.

:func:`parse_when` finds the date and time phrases in one utterance ("next Friday",
"tomorrow morning", "the 3rd at half past two", "in two weeks") and returns a :class:`When`.
Work is split by who does it best:

* ``dateparser`` resolves calendar phrases (weekdays with ``this``/``next``, ``tomorrow``,
  ``in two weeks``, ``December 3rd``) with ``PREFER_DATES_FROM=future`` and the caller's
  local midnight as ``RELATIVE_BASE``. It is slow (about a millisecond a call) and reads
  whole strings, not sentences, so it only ever sees the short spans found here, and its
  answers are cached per ``(span, caller-local date)``. For "next Friday" it follows the
  library's reading (the coming Friday); the brain reads every date back before booking.
* What dateparser reads wrongly is done here: a bare ordinal ("the 3rd" is a day of the
  month, dateparser takes it for March), spoken clock times ("half past two", "at 3",
  "quarter to five", which it misses or turns into dates) and week ranges ("next week").

Clock times without AM/PM are read as a caller booking an appointment means them: 1 to 7
is afternoon, 8 to 11 morning, unless "morning"/"afternoon"/"evening" says otherwise. An
age is never a time ("he's only six"), and a weekday after "next week" is in that week.
Everything here is pure; the only state is the dateparser answer cache.

The work is bounded: only the last :data:`MAX_PARSED_CHARS` characters of an utterance are
read (:func:`utterance_tail`), and every step is linear in what is read, so no utterance,
however long, holds the event loop that every call of the process shares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import dateparser

from voiceops.flow.bounds import as_limits, bound_of
from voiceops.flow.whenwords import (
    AGE,
    AGE_WORDS,
    DATE,
    DATE_WORDS,
    DAY_BESIDE,
    DIGIT,
    ORDINAL_TOKEN,
    TIME,
    TIME_WORDS,
    WEEKDAY_ALIASES,
    WEEKDAY_WORDS,
    DayPart,
    blank,
    count,
    ordinal_number,
    resolve_time,
)
from voiceops.flow.written import written_numbers

__all__ = ["PART_PIVOT", "WEEKDAY_WORDS", "DayPart", "When", "normalise", "parse_when"]


_PART_HOURS: dict[DayPart, tuple[int, int]] = {
    "morning": (0, 12),
    "afternoon": (12, 17),
    "evening": (17, 24),
}
"""Hour ranges ``[start, end)`` of each part of the day, in the caller's wall time."""

PART_PIVOT: dict[DayPart, time] = {
    "morning": time(9, 0),
    "afternoon": time(14, 0),
    "evening": time(17, 30),
}
"""A representative time per part of the day, to ask for the nearest free slots."""

MAX_PARSED_CHARS = 2_000
"""How much of one utterance is read: its last 2,000 characters, about 350 spoken words or
two minutes of talk without a pause. A phone caller never says more in one turn; a longer
text is a transcript gone wrong or a hostile frame. What the caller said last is what the
agent answers, so the tail is kept and the rest is not looked at."""

_DATEPARSER_SETTINGS_BASE = {
    "PREFER_DATES_FROM": "future",
    "RETURN_AS_TIMEZONE_AWARE": False,
}


_PART = re.compile(
    r"\b(?P<part>morning|afternoon|evening|tonight|night|first thing"
    r"|(?:later|late) in the day|end of the day)\b"
)
_REJECT_BEFORE = re.compile(
    r"\b(?:not|except|can'?t do|cannot do|can'?t make|cannot make|instead of|rather than"
    r"|in place of|better than|(?:have|got) (?:a |the |my )?(?:doctor'?s?|dentist|meeting"
    r"|class|interview|lesson|physio))\s+(?:on\s+|at\s+)?$"
)
_REJECT_AFTER = re.compile(
    r"\s*(?:doesn'?t|does not|won'?t|will not|isn'?t|is not|is no|can'?t|cannot|is bad)"
    r"(?:\s+(?:work|good|suit|do|possible))?\b"
)
_REJECT_REACH = 48
"""How far from a date or time phrase a refusal is looked for, past the blanks left where
other phrases were taken out: the longest refusal ("cannot make on", "does not work") is
well within it. Looking only there keeps each check constant, not as long as the text."""
_BLANKS = re.compile(r" *")
_WORD_REST = re.compile(r"\S+\s*")
_NON_TEXT = re.compile(r"[^a-z0-9:' ]+")
_SPACES = re.compile(r"\s+")


def utterance_tail(text: str, limit: int | None = None) -> str:
    """At most the last ``limit`` (default :data:`MAX_PARSED_CHARS`) characters of
    ``text``, starting at a word: a word cut in half ("...urday at 3") is dropped, unless
    the tail has no space to cut at. Costs ``O(limit)`` whatever the length of ``text``."""
    limit = MAX_PARSED_CHARS if limit is None else limit
    if len(text) <= limit:
        return text
    start = len(text) - limit
    if not text[start - 1].isspace():
        rest = _WORD_REST.match(text, start)
        if rest is not None and rest.end() < len(text):
            start = rest.end()
    return text[start:]


def normalise(text: str) -> str:
    """Lower-case, ``a.m.`` to ``am``, numbers as written read as said ("12/14" to
    "december 14", "930" to "9:30": :func:`~voiceops.flow.written.written_numbers`), hyphens
    and punctuation to spaces, single spaces."""
    lowered = text.lower().replace("\u2019", "'").replace("a.m.", "am").replace("p.m.", "pm")
    lowered = written_numbers(lowered)
    lowered = _NON_TEXT.sub(" ", lowered.replace("-", " "))
    return _SPACES.sub(" ", lowered).strip()


# --------------------------------------------------------------------------------------
# result


@dataclass(frozen=True, slots=True)
class When:
    """What one utterance says about when. All dates are caller-local."""

    day: date | None = None
    days: int = 1
    """Length of the range starting at ``day`` ("next week" is 7 days)."""
    at: time | None = None
    part: DayPart | None = None
    earliest: bool = False
    """"As soon as possible", "first available": any date will do."""
    past: bool = False
    """A day before today was named ("yesterday", or a date that resolved to the past)."""
    rejected_day: date | None = None
    """A day the caller turned down ("not Friday", "Friday doesn't work")."""
    rejected_time: time | None = None
    ordinal: int | None = None
    """Set when ``day`` came only from a bare ordinal ("the second"), which in some
    contexts means a choice from a list rather than a day of the month."""
    mentioned: tuple[date, ...] = ()
    """Every day named and not turned down, in order ("my Friday one to Saturday")."""
    after: time | None = None
    """The earliest start the caller can make ("not before 10", "my bus gets in at 9:30")."""
    before: time | None = None
    """When the appointment must be over by ("before 3", "I pick the kids up at 3")."""

    @property
    def has_date(self) -> bool:
        return self.day is not None or self.earliest

    @property
    def empty(self) -> bool:
        return (
            self.day is None
            and self.at is None
            and self.part is None
            and not self.earliest
            and not self.past
            and self.rejected_day is None
            and self.rejected_time is None
            and self.after is None
            and self.before is None
        )


def part_of(value: time) -> DayPart:
    """The part of the day ``value`` falls in."""
    for part, (start, end) in _PART_HOURS.items():
        if start <= value.hour < end:
            return part
    return "evening"


# --------------------------------------------------------------------------------------
# calendar resolution


@lru_cache(maxsize=4096)
def _dateparser_day(span: str, today: date) -> date | None:
    """dateparser's reading of ``span`` (already normalised), relative to ``today``."""
    settings = dict(_DATEPARSER_SETTINGS_BASE)
    settings["RELATIVE_BASE"] = datetime.combine(today, time())
    parsed = dateparser.parse(span, languages=["en"], settings=settings)
    return parsed.date() if parsed is not None else None


def warm_up() -> None:
    """Load dateparser's language data now (the first call takes a few hundred ms)."""
    _dateparser_day("tomorrow", date(2000, 1, 1))


def _weekday_index(name: str) -> int:
    return WEEKDAY_WORDS.index(WEEKDAY_ALIASES.get(name, name))


def _next_weekday(today: date, index: int) -> date:
    ahead = (index - today.weekday()) % 7
    if ahead == 0:
        ahead = 7
    return today + timedelta(days=ahead)


def _next_day_of_month(today: date, day: int) -> date | None:
    """The first date on or after ``today`` whose day of the month is ``day``."""
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return None


@dataclass(frozen=True, slots=True)
class _DateHit:
    day: date | None
    days: int = 1
    earliest: bool = False
    past: bool = False
    evening: bool = False
    ordinal: int | None = None


def _resolve_count(match: re.Match[str], today: date) -> _DateHit | None:
    """ "Two weeks from Friday", "in three days"."""
    g = match.group
    if g("n_from"):
        weeks = count(g("n_from_count"))
        base_word = g("n_from_base")
        if weeks is None:
            return None
        if base_word in ("today", "now"):
            base = today
        elif base_word == "tomorrow":
            base = today + timedelta(days=1)
        else:
            base = _next_weekday(today, _weekday_index(base_word))
        return _DateHit(base + timedelta(weeks=weeks))
    amount = count(g("in_n_count"))
    if amount is None:
        return None
    return _DateHit(_dateparser_day(f"in {amount} {g('in_n_unit')}s", today))


def _resolve_range(word: str, today: date) -> _DateHit:
    """ "This week", "next week", "this weekend" (the rest of it when said on one)."""
    if word == "this week":
        return _DateHit(today, days=7 - today.weekday())
    if word == "next week":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
        return _DateHit(monday, days=7)
    word = word.removesuffix("s")  # "on weekends": the next one
    if today.weekday() >= 5 and word != "next weekend":
        # Said on the weekend itself: the rest of this one.
        return _DateHit(today, days=7 - today.weekday())
    return _DateHit(_next_weekday(today, 5), days=2)


def _resolve_weekday(match: re.Match[str], today: date) -> _DateHit:
    g = match.group
    if g("wd_next_week"):
        name = g("wd_nw_a") or g("wd_nw_b")
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
        return _DateHit(monday + timedelta(days=_weekday_index(name)))
    if g("wd_after_next"):
        return _DateHit(_next_weekday(today, _weekday_index(g("wd_an"))) + timedelta(weeks=1))
    name = WEEKDAY_ALIASES.get(g("wd_day"), g("wd_day"))
    modifier = g("wd_mod") or ""
    prefix = "next " if modifier == "next" else ("this " if modifier == "this" else "")
    return _DateHit(_dateparser_day(prefix + name, today))


def _resolve_date(match: re.Match[str], today: date) -> _DateHit | None:
    g = match.group
    if g("past"):
        return _DateHit(None, past=True)
    if g("earliest"):
        return _DateHit(None, earliest=True)
    if g("now"):  # "can I come in now?": today, from the next free time
        return _DateHit(today)
    if g("n_from") or g("in_n"):
        return _resolve_count(match, today)
    if g("rel"):
        word = g("rel")
        if word == "tonight":
            return _DateHit(today, evening=True)
        if word == "this":  # "this afternoon": only "this" is taken, the part stays
            return _DateHit(today)
        span = "day after tomorrow" if "after" in word else word
        return _DateHit(_dateparser_day(span, today))
    if g("wd_next_week") or g("wd_after_next") or g("wd"):
        return _resolve_weekday(match, today)
    if g("md"):
        month = g("md_month") or g("dm_month")
        day = ordinal_number(g("md_day") or g("dm_day") or g("dm_num"))
        if day is None or not 1 <= day <= 31:
            return None
        return _DateHit(_dateparser_day(f"{month} {day}", today))
    if g("range"):
        return _resolve_range(g("range"), today)
    if g("ord"):
        number = ordinal_number(g("ord_n"))
        if number is None:
            return None
        return _DateHit(_next_day_of_month(today, number), ordinal=number)
    raise AssertionError(f"unhandled date pattern {match.lastgroup}")  # pragma: no cover


# --------------------------------------------------------------------------------------
# entry point


def _rejected(text: str, start: int, end: int) -> bool:
    """Whether a refusal stands right before or after ``text[start:end]``.

    Only a window of :data:`_REJECT_REACH` characters on either side is read, beyond the
    run of blanks that touches the phrase. Those runs lie between consecutive phrases, so
    over one scan they add up to at most the text's length: the checks stay linear."""
    head = start
    while head > 0 and text[head - 1] == " ":
        head -= 1
    if _REJECT_BEFORE.search(text, max(0, head - _REJECT_REACH), start):
        return True
    after = _BLANKS.match(text, end)
    reach = (after.end() if after is not None else end) + _REJECT_REACH
    return _REJECT_AFTER.match(text, end, reach) is not None


@dataclass(slots=True)
class _Dates:
    """What the date phrases of one utterance said, gathered left to right."""

    day: date | None = None
    days: int = 1
    earliest: bool = False
    past: bool = False
    evening: bool = False
    ordinal: int | None = None
    rejected: date | None = None
    mentioned: list[date] = field(default_factory=list)


def _scan_dates(clean: str, words: frozenset[str], today: date) -> tuple[_Dates, str]:
    """The dates in ``clean``, and ``clean`` with their spans blanked out for the clock
    scan (so "in two weeks" is not also "at two")."""
    found = _Dates()
    if not (words & DATE_WORDS or ORDINAL_TOKEN.search(clean)):
        return found, clean
    blanked = list(clean)
    week: date | None = None
    for match in DATE.finditer(clean):
        hit = _resolve_date(match, today)
        if hit is None:
            continue
        if week is not None and hit.day is not None and match.group("wd") and not match["wd_mod"]:
            # "Sometime next week, perhaps the Wednesday": that week's Wednesday.
            hit = replace(hit, day=week + timedelta(days=(hit.day.weekday() - week.weekday()) % 7))
        if hit.days == 7 and hit.day is not None:
            week = hit.day
        blanked[match.start() : match.end()] = " " * (match.end() - match.start())
        if hit.day is not None and _rejected(clean, match.start(), match.end()):
            found.rejected = hit.day
        elif hit.earliest:
            found.earliest = True
        elif hit.past or (hit.day is not None and hit.day < today):
            found.past = True
        elif hit.day is not None:
            found.mentioned.append(hit.day)
            found.day, found.days, found.ordinal = hit.day, hit.days, hit.ordinal
            found.past = False
            found.evening = found.evening or hit.evening
    return found, "".join(blanked)


def _scan_part(rest: str, evening: bool) -> DayPart | None:
    part: DayPart | None = "evening" if evening else None
    for match in _PART.finditer(rest):
        word = match.group("part")
        if word == "first thing":
            part = "morning"
        elif word in ("tonight", "night", "evening"):
            part = "evening"
        elif word == "morning":
            part = "morning"
        else:
            part = "afternoon"
    return part


@dataclass(slots=True)
class _Times:
    """What the clock times of one utterance said, gathered left to right."""

    at: time | None = None
    rejected: time | None = None
    bounds: dict[str, time] = field(default_factory=dict)


def _scan_times(
    rest: str, words: frozenset[str], part: DayPart | None, expect_time: bool
) -> _Times:
    """The clock time named last, one turned down, and the limits set ("after 5") in
    ``rest``."""
    found = _Times()
    if not (words & TIME_WORDS or DIGIT.search(rest)):
        return found
    for match in TIME.finditer(rest):
        value = resolve_time(match, part, expect_time)
        if value is None:
            continue
        bound = bound_of(rest, match, value)
        if bound is not None:
            found.bounds[bound.side] = bound.at
        elif _rejected(rest, match.start(), match.end()):
            found.rejected = value
        else:
            found.at = value
    return found


def parse_when(text: str, today: date, *, expect_time: bool = False) -> When:
    """Read the date, time and part of day in ``text``, relative to caller-local ``today``.

    ``expect_time`` says the agent has just asked for a time, so a bare number ("3",
    "two thirty") is a clock time. When several dates or times are named, the last one
    wins ("not Friday, Saturday"): callers correct themselves forwards. A date in the past
    sets ``past`` instead of ``day``. ``text`` may be raw; it is normalised here. Only its
    last :data:`MAX_PARSED_CHARS` characters are read (:func:`utterance_tail`).
    """
    clean = as_limits(normalise(utterance_tail(text)))
    if not clean:
        return When()
    words = frozenset(clean.split())
    dates, rest = _scan_dates(clean, words, today)
    beside = DAY_BESIDE.search(rest) if dates.day is not None and "day" in words else None
    if beside is not None and dates.day is not None:
        # "An interview on the 18th, so the day before": the day next to the one named.
        dates.day += timedelta(days=-1 if beside.group("dir") == "before" else 1)
        dates.mentioned.append(dates.day)
    part = _scan_part(rest, dates.evening)
    if words & AGE_WORDS:
        rest = AGE.sub(blank, rest)  # "he's only six": an age, not 6 PM
    times = _scan_times(rest, words, part, expect_time)
    at = times.at
    ordinal = dates.ordinal
    if dates.day is not None and (at is not None or part is not None):
        # "The 3rd at 2": with a time beside it a bare ordinal is a date, not a choice.
        ordinal = None
    return When(
        day=dates.day,
        days=dates.days,
        at=at,
        part=part if at is None else part_of(at),
        earliest=dates.earliest and dates.day is None,
        past=dates.past and dates.day is None,
        rejected_day=dates.rejected,
        rejected_time=times.rejected,
        ordinal=ordinal,
        mentioned=tuple(dates.mentioned),
        after=times.bounds.get("after"),
        before=times.bounds.get("before"),
    )
