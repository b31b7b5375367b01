"""What the flow brain says, worded once: its questions, read-backs and lists.

Plain functions over the call's state; the dialogue parts decide *when* to say them. Times
and prices are never composed here from scratch: slots and bookings carry the tools'
``spoken`` phrases, and clock times are spoken with ``tools/timefmt.py`` like the tools do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, time, timedelta
from decimal import Decimal
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from voiceops.core.profile import WEEKDAYS
from voiceops.speech.words import ordinal
from voiceops.tools.timefmt import (
    WEEKDAY_NAMES,
    spoken_clock,
    spoken_date,
    spoken_price,
    weekday_name,
    zone_place,
)

if TYPE_CHECKING:
    from voiceops.core.caller import CallerClock
    from voiceops.core.profile import AgentProfile
    from voiceops.flow.state import Awaiting, BookingRef, FlowState, Offer
    from voiceops.tools.results import OpeningHours, ServiceView

_ARTICLE = re.compile(r"^(?:(?:a|an|the|any|some)\s+)+")
_SAME_WORD = 0.8
"""How alike a word must be to a service's name to be its spelling ("color", "colour")."""
SERVICES_LISTED = 4
"""Up to this many services are named when asking which one; more would be a list."""

FIXED_QUESTIONS: dict[Awaiting, str] = {
    "time": "What time would suit you?",
    "change": "What would you like to change, the day, the time or the name?",
    "confirm_cancel": "Shall I cancel it?",
    "lookup_name": "What name is the booking under?",
    "new_or_team": "Would you like a new booking, or someone from the team to look into it?",
    "info_service": "Which service would you like to know about?",
    "human_offer": "Would you like someone from the team to help you?",
    "callback_name": "Could I have your name, please?",
    "callback_reason": "And briefly, what is it about?",
    "anything_else": "Is there anything else I can help with?",
    "callback_offer": "Would you like someone to call you back?",
}
"""The questions whose words never depend on the call."""

REWORDED: dict[Awaiting, tuple[str, ...]] = {
    "name": (
        "What name should I put the booking under?",
        "And what name is it under?",
        "And the name for the booking?",
    ),
}
"""Questions asked again and again in one call (while the caller corrects the time): a
repeat is worded differently, so the call doesn't sound stuck, and isn't taken for a loop."""


def who_i_am(profile: AgentProfile, *, can_transfer: bool) -> str:
    """The honest answer to "are you a real person?": a virtual assistant, and what it can
    do, a person included."""
    person = (
        "put you through to the team"
        if can_transfer
        else "take a message for the team to call you back"
    )
    return (
        f"I'm {profile.agent_name}, {profile.business_name}'s virtual assistant."
        f" I can book an appointment for you, or {person}."
    )


def join_or(items: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


def join_and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def with_article(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def which_service(profile: AgentProfile) -> str:
    names = [s.name for s in profile.services]
    if len(names) <= SERVICES_LISTED:
        return f"Which service would you like, {join_or(names)}?"
    return "Which service would you like?"


def which_day(state: FlowState, *, other: bool) -> str:
    if other:
        return "Which other day would suit you?"
    if state.task == "reschedule":
        return "What day would you like to move it to?"
    return "What day would you like to come in?"


def services_sentence(profile: AgentProfile) -> str:
    return f"We offer {join_and([s.name for s in profile.services])}."


def closed_weekdays(profile: AgentProfile) -> str:
    """``Sundays and Mondays``: the weekdays with no opening hours, a run kept together."""
    closed = [i for i, key in enumerate(WEEKDAYS) if not profile.opening_hours.get(key)]
    if not closed:
        return "that day"
    # Start the list after an open day, so Sunday comes before Monday.
    first = next((i for i in closed if (i - 1) % 7 not in closed), closed[0])
    ordered = sorted(closed, key=lambda i: (i - first) % 7)
    return join_and([f"{WEEKDAY_NAMES[i]}s" for i in ordered])


def on_the_step(step: int) -> str:
    """Why a time like 2:45 can't be booked: when appointments start."""
    if step == 60:
        return "Sorry, appointments start on the hour."
    if step == 30:
        return "Sorry, appointments start on the hour and half hour."
    return f"Sorry, appointments start every {step} minutes."


def not_offered(profile: AgentProfile, asked: str | None = None) -> str:
    """A service the business does not do (its services don't name it: "keratin
    treatments", "tattoos"), said back in the caller's words, and what it does instead."""
    what = _ARTICLE.sub("", asked or "").strip() or "that"
    return f"Sorry, we don't do {what}; we do {join_and([s.name for s in profile.services])}."


def we_do(service: str, asked: str) -> str:
    """Yes to "do you do highlights?": the service it is booked as, when named otherwise."""
    same = SequenceMatcher(None, asked.rstrip("s"), service).ratio() >= _SAME_WORD
    return (
        "Yes, we do."
        if same or service in asked
        else f"Yes, we do that as {with_article(service)}."
    )


def hours_now(hours: OpeningHours, clock: CallerClock) -> str:
    """Today's hours and the next opening, in a sentence or two (not the whole week).

    Read from the tool's result: its weekday intervals and closed dates, in business time.
    """
    now = clock.now_business
    today = now.date()
    here = f" {zone_place(clock.business_zone)} time" if clock.zones_differ else ""

    def spans(day: date) -> list[tuple[time, time]]:
        if day in hours.closed_dates:
            return []
        key = WEEKDAYS[day.weekday()]
        return [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in hours.days.get(key, [])]

    wall = now.time().replace(tzinfo=None)
    first = ""
    for start, end in spans(today):
        if start <= wall < end:
            first = f"Yes, we're open today until {spoken_clock(end)}{here}."
            break
        if wall < start:
            return f"We open today at {spoken_clock(start)}{here}, until {spoken_clock(end)}."
    for ahead in range(1, 15):
        day = today + timedelta(days=ahead)
        opens = spans(day)
        if not opens:
            continue
        start, end = opens[0]
        label = "Tomorrow" if ahead == 1 else f"On {weekday_name(day)}"
        hours_then = f"{spoken_clock(start)} to {spoken_clock(end)}"
        if first:
            return f"{first} {label} we're open {hours_then}."
        return f"We're closed now. {label} we're open {hours_then}{here}."
    return first or "We're closed right now."


def prices_sentence(services: Sequence[ServiceView]) -> str:
    """``A haircut is 45 dollars, a colour 120 dollars and a beard trim 20 dollars.``"""
    parts = [
        f"{with_article(s.name)} {'is ' if i == 0 else ''}{spoken_price(Decimal(s.price))}"
        for i, s in enumerate(services)
    ]
    return join_and(parts)[:1].upper() + join_and(parts)[1:] + "."


def off_topic(profile: AgentProfile) -> str:
    return f"Sorry, I can only help with appointments and questions about {profile.business_name}."


def offers_sentence(offers: Sequence[Offer], *, zones_differ: bool) -> str:
    """The free times read out: one, several on one day, or several days."""
    if len(offers) == 1:
        return f"The nearest free time is {offers[0].spoken}."
    days = {o.start.date() for o in offers}
    suffix = " your time" if zones_differ else ""
    if len(days) == 1:
        day = offers[0].start.date()
        clocks = [spoken_clock(o.start.time()) for o in offers]
        return f"On {spoken_date(day)} I have {join_or(clocks)}{suffix}."
    moments = [
        f"{weekday_name(o.start.date())} the {ordinal(o.start.day)} at "
        f"{spoken_clock(o.start.time())}"
        for o in offers
    ]
    return f"I have {join_or(moments)}{suffix}."


def so_far(state: FlowState) -> str:
    """What a booking under way has so far, as a phrase: "a colour on Friday, December 4th
    at 10 AM, for Dana", "moving your colour to Saturday, December 12th"."""
    slots = state.slots
    when = ""
    if slots.day is not None:
        when = f" on {spoken_date(slots.day)}" if slots.days == 1 else ""
        if slots.at is not None:
            when += f" at {spoken_clock(slots.at)}"
    if state.task == "reschedule" and state.target is not None:
        return f"moving your {state.target.service}{' to' + when[3:] if when else ''}"
    if slots.service is None:
        return ""
    who = f", for {slots.name}" if slots.name and not slots.by_phone else ""
    return f"{with_article(slots.service)}{when}{who}"


_CONFIRM_ASKS = ("Shall I book it?", "Shall I go ahead and book that?", "Is that right?")
"""The read-back's closing question, worded afresh each time it is read back again."""


def confirm_sentence(state: FlowState) -> str:
    """The read-back before a booking or a move is committed."""
    slots = state.slots
    if state.task == "reschedule" and state.target is not None:
        return f"Just to confirm, move your {state.target.service} to {slots.spoken}?"
    who = "under the number you're calling from" if slots.by_phone else f"for {slots.name}"
    if slots.then:
        # Two at once: the first exactly, the rest straight after it.
        others = []
        for i, service in enumerate(slots.then):
            other = with_article(service)
            if i < len(slots.then_names):
                other += f" for {slots.then_names[i]}"
            if i < len(slots.then_times):
                starts = slots.then_times[i]
                day = slots.start.date() if slots.start else None
                if starts.date() != day:
                    other += f" on {weekday_name(starts.date())}"
                other += f" at {spoken_clock(starts.time())}"
            others.append(other)
        return (
            f"Just to confirm, {with_article(slots.service or '')} on {slots.spoken} {who},"
            f" then {join_and(others)}. Shall I book them?"
        )
    asked = state.asked.get("confirm", 0)
    state.asked["confirm"] = asked + 1
    return (
        f"Just to confirm, {with_article(slots.service or '')} on {slots.spoken}"
        f" {who}. {_CONFIRM_ASKS[asked % len(_CONFIRM_ASKS)]}"
    )


def which_booking(refs: Sequence[BookingRef]) -> str:
    if len(refs) == 2:
        first, second = refs
        return (
            f"I see your {first.service} on {first.spoken} and your {second.service} on"
            f" {second.spoken}. Which one do you mean?"
        )
    if not refs:
        return "Which booking do you mean?"
    return (
        f"I see {len(refs)} upcoming bookings, the next is your {refs[0].service} on"
        f" {refs[0].spoken}. Which one do you mean?"
    )


def in_full(heard: str | None, last: str | None) -> str | None:
    """The agent's last words: in full when the transcript holds the start of what this
    brain said (the caller talked over the rest), else as the transcript has them."""
    if last is None or heard is None:
        return heard or last
    words = heard.split()
    return last if last.split()[: len(words)][:-1] == words[:-1] else heard
