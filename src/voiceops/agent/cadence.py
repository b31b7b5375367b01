"""Confirmation cadence: while booking details are being collected, the caller hears what
the agent has so far at least every third agent turn ("So that's a colour on Friday,
December 11th at 10 AM, for Dana.").

The voice prompt asks the model to do it every two or three replies; this is the check
behind that rule, for the LLM brain (the flow brain reads back on its own). It keeps
:class:`~voiceops.core.state.BookingDetails` in the call's state:

* the details come from the tool calls the model makes (``check_availability``,
  ``book_appointment``, ``reschedule_appointment``, ``request_callback``): arguments the
  model has already resolved into a service of the profile, a date and a time, so nothing
  is guessed from the caller's words; a booking made, moved or cancelled clears them;
* after each answered turn, a reply that names at least two of the details (or the only
  one) counts as a read-back; any other turn adds one to ``turns_since_read_back``;
* when two turns went by without one, the third reply begins with the read-back
  (:func:`due_read_back`), said by the server through the same speech hygiene as the
  model's text, and the turn note tells the model it was said, so it is not said twice.

Why the server speaks it instead of asking the model to: a note is a request the model
skipped twice already, while a sentence made from four known fields is certain, costs
microseconds, and leaves at once, before the model's first token. All of this is string
work on a few short values: the server's share of a turn stays in microseconds.
"""

from __future__ import annotations

import json
import re
from typing import Any

from voiceops.core.profile import AgentProfile
from voiceops.core.state import BookingDetails, CallState
from voiceops.speech.words import MONTHS
from voiceops.tools.timefmt import (
    parse_date,
    parse_time,
    spoken_clock,
    spoken_date,
    weekday_name,
)

TURNS_WITHOUT_READ_BACK = 2
"""Agent turns in a row that may go without a read-back; the next one begins with it."""

_NAME_MAX = 40
_SETS_DETAILS = frozenset({"check_availability", "book_appointment", "reschedule_appointment"})
_SETTLES = frozenset({"book_appointment", "reschedule_appointment", "cancel_appointment"})


def observe_tool_call(state: CallState, profile: AgentProfile, name: str, arguments: str) -> None:
    """Take the booking details from a tool call the model made. Arguments the tool would
    refuse (an unknown service, a malformed date) are not taken either."""
    if name not in _SETS_DETAILS and name != "request_callback":
        return
    try:
        args = json.loads(arguments)
    except ValueError:
        return
    if not isinstance(args, dict):
        return
    details = state.details
    if name == "request_callback":
        if details.pending:
            details.name = _name(args.get("name")) or details.name
        return
    service = profile.service(args["service"]) if isinstance(args.get("service"), str) else None
    if service is not None:
        details.service = service.name
    day, at = _when(args)
    details.date = day or details.date
    details.time = at or details.time
    details.name = _name(args.get("customer_name")) or details.name


def observe_tool_result(state: CallState, name: str, committed: bool) -> None:
    """A booking made, moved or cancelled settles the details: nothing is pending."""
    if committed and name in _SETTLES:
        state.details = BookingDetails()


def due_read_back(state: CallState, profile: AgentProfile) -> str:
    """The read-back this reply must begin with, or ``""`` when it is not due."""
    details = state.details
    if not details.pending or details.turns_since_read_back < TURNS_WITHOUT_READ_BACK:
        return ""
    return read_back(details, profile)


def read_back(details: BookingDetails, profile: AgentProfile) -> str:
    """``So that's a colour on Friday, December 11th at 10 AM, for Dana.``"""
    parts = ["So that's"]
    if details.service:
        service = profile.service(details.service)
        name = service.name if service is not None else details.service
        parts.append(f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}")
    if details.date:
        parts.append(f"on {spoken_date(parse_date(details.date))}")
    if details.time:
        parts.append(f"at {spoken_clock(parse_time(details.time))}")
    text = " ".join(parts)
    if details.name:
        text += f", for {details.name}"
    return text + "."


def after_turn(
    state: CallState, profile: AgentProfile, spoken: str, *, read_back_said: bool
) -> None:
    """Count an answered turn: a read-back (the server's, or the model's own words naming
    the details) starts the count again; any other turn adds one while details are pending."""
    details = state.details
    if not details.pending:
        details.turns_since_read_back = 0
    elif read_back_said or reads_back(details, profile, spoken):
        details.turns_since_read_back = 0
    else:
        details.turns_since_read_back += 1


def reads_back(details: BookingDetails, profile: AgentProfile, spoken: str) -> bool:
    """Whether ``spoken`` names at least two of the details collected (or the only one)."""
    text = spoken.casefold()
    checks = [
        _names_service(details.service, profile, text),
        _names_date(details.date, text),
        _names_time(details.time, text),
        _names_person(details.name, text),
    ]
    known = [hit for hit in checks if hit is not None]
    return bool(known) and sum(known) >= min(2, len(known))


def _names_service(service: str | None, profile: AgentProfile, text: str) -> bool | None:
    if not service:
        return None
    found = profile.service(service)
    words = [service] if found is None else [found.name, *found.aliases]
    return any(_has_words(word.casefold(), text) for word in words)


def _names_date(value: str | None, text: str) -> bool | None:
    if not value:
        return None
    day = parse_date(value)
    month_day = rf"{MONTHS[day.month - 1].casefold()}\s+{day.day}(?:st|nd|rd|th)?\b"
    return _has_words(weekday_name(day).casefold(), text) or re.search(month_day, text) is not None


def _names_time(value: str | None, text: str) -> bool | None:
    if not value:
        return None
    at = parse_time(value)
    hour12 = at.hour % 12 or 12
    minutes = f":{at.minute:02d}" if at.minute else r"(?::00)?"
    said = re.search(rf"(?<![\d:]){hour12}{minutes}(?![\d:])", text) is not None
    return said or _has_words(spoken_clock(at).casefold(), text)


def _names_person(name: str | None, text: str) -> bool | None:
    if not name:
        return None
    return _has_words(name.split()[0].casefold(), text)


def _has_words(words: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text) is not None


def _when(args: dict[str, Any]) -> tuple[str | None, str | None]:
    """(YYYY-MM-DD, HH:MM) from ``start``/``new_start`` or ``date`` and ``time``; a value
    that does not parse is left out."""
    start = args.get("start") or args.get("new_start")
    if isinstance(start, str) and "T" in start:
        day_text, _, time_text = start.partition("T")
        return _valid_date(day_text), _valid_time(time_text)
    return _valid_date(args.get("date")), _valid_time(args.get("time"))


def _valid_date(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_date(value).isoformat()
    except ValueError:
        return None


def _valid_time(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return f"{parse_time(value):%H:%M}"
    except ValueError:
        return None


def _name(value: object) -> str | None:
    """A name from the model's arguments, fit to be said: letters, spaces, apostrophes and
    hyphens, at most 40 characters; anything else is not taken."""
    if not isinstance(value, str):
        return None
    name = " ".join(value.split())
    if not name or len(name) > _NAME_MAX:
        return None
    if not all(ch.isalpha() or ch in " '-" for ch in name):
        return None
    return name
