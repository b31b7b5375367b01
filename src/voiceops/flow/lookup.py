"""A booking the caller already has, asked about: "when is my appointment?", "I booked a
blow dry for tomorrow, what time is it?", "do I have anything booked next week?".

:data:`ASKS_LOOKUP` tells such a question from a request for a new booking (both name a
service and a day). :class:`LookupSteps` reads the bookings found (by the calling number,
else by the name the caller gives; the finding itself is ``flow/existing.py``'s) back to
the caller: the ones that match the day, range or service asked about, else what the
caller does have, else that nothing is booked and an offer to book.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

from voiceops.flow.slots import SlotFilling
from voiceops.flow.steps import Say, Step
from voiceops.flow.wording import join_and, with_article
from voiceops.tools.timefmt import spoken_date

if TYPE_CHECKING:
    from collections.abc import Sequence

    from voiceops.flow.state import BookingRef
    from voiceops.flow.understand import Understanding

_OWN = r"(?:bookings?|appointments?|appts?|reservations?|slots?|visits?)"
_TIME_ASKED = (
    r"(?:what|which) (?:time|day|date)(?: (?:is|was) (?:it|that)| (?:it|that) (?:is|was)|'s it"
    r"| (?:i'm|i am|am i|we're|are we))|when (?:is it|it is|was it|it was|is that|that is"
    r"|am i|i'm|i am)|forg[eo]t (?:the|what|when|which)|(?:can't|cannot|don't|do not) remember"
    r"|not sure (?:what|when|which|of the)"
)
"""Asking when something already arranged is ("what time is it", "I forgot the time")."""
ASKS_LOOKUP = re.compile(
    r"\b(?:when(?:'s| is| was) (?:my|our)|what(?:'s| is) (?:my|our) " + _OWN + r"\b"
    r"|(?:what|which) (?:time|day|date) (?:is|was|'s) (?:my|our)"
    r"|(?:when|what time|what day|which day) (?:my|our) (?:\w+ ){1,2}(?:is|was)"
    r"|(?:time|day|date) of (?:my|our)|what did (?:i|we) book"
    r"|(?:when|what time|what day) (?:am i|are we|i'm|i am|we're) (?:booked|scheduled|coming"
    r"|due|in|supposed|meant)"
    r"|(?:do|did|have) (?:i|we) (?:already |still )?(?:have|got|booked|book|made|make)"
    r" (?:(?:anything|something)(?! (?:to|i|we)\b)"
    r"|(?:an?|any) (?:\w+ ){0,2}(?:booked|scheduled|" + _OWN + r")|for|on|it for)"
    r"|(?:am i|are we) (?:still )?(?:booked|scheduled|down for|on the (?:books|list|schedule))"
    r"|is my (?:\w+ )?" + _OWN + r" (?:still |all )?(?:on|confirmed|booked|set|for|at|ok)"
    r"|(?:check|checking|confirm|confirming|double check|verify|look up|find)"
    r" (?:on )?(?:my|our) (?:\w+ ){0,2}?(?:" + _OWN + r"|time)"
    r"|remind me (?:when|what time|what day|of (?:my|the) (?:time|day))"
    r"|(?:i|we) (?:have|booked|made|got|'ve got|have got|think i have|think i booked)"
    r" (?:a|an|my|the|something|one)\b.*\b(?:" + _TIME_ASKED + r")"
    r"|(?:i|we) (?:booked|made a booking|made an appointment|have a booking|have an appointment)"
    r"\b.*\b(?:confirmation|(?:check|confirm|make sure|see if|look up) (?:it|that|this|my"
    r"|the (?:booking|appointment))|(?:check|confirm|look (?:it|that) up)\W*$))\b"
)
"""A question about a booking the caller has. "I booked a blow dry, what time is it?" asks
about it; "I'd like to book a blow dry" does not, nor does "what time do you open?"."""
_READ_AT_MOST = 3
"""Bookings read out one by one; more are counted and the next ones read."""


class LookupSteps(SlotFilling):
    """The part of the dialogue that tells the caller about the bookings they have."""

    def _remember_query(self, u: Understanding) -> None:
        """What the caller asked about (service, day or range), kept while the bookings
        are looked for, perhaps by the name asked for next."""
        slots = self.state.slots
        if u.service is not None:
            slots.service = u.service
        if u.when.day is not None:
            slots.day, slots.days = u.when.day, u.when.days

    def _asked_matches(self, refs: Sequence[BookingRef]) -> list[BookingRef]:
        slots = self.state.slots
        found = list(refs)
        if slots.service is not None:
            found = [r for r in found if r.service == slots.service]
        if slots.day is not None:
            last = slots.day + timedelta(days=slots.days - 1)
            found = [r for r in found if slots.day <= r.start.date() <= last]
        return found

    def _read_found(self, refs: Sequence[BookingRef]) -> list[Step]:
        """The bookings asked about, read back; then anything else, or an offer to book."""
        state = self.state
        asked = self._asked_what()
        matches = self._asked_matches(refs)
        service = state.slots.service
        state.finish_task()
        if not refs:
            state.slots.service = service
            under = f" under {state.slots.name}" if state.slots.name else ""
            return [Say(f"I can't find any upcoming bookings{under}."), *self._ask("book_offer")]
        if matches:
            return [Say(_bookings_sentence(matches)), *self._ask("anything_else")]
        have = _bookings_sentence(refs)
        return [
            Say(f"I don't see {asked}, but {have[:1].lower()}{have[1:]}"),
            *self._ask("anything_else"),
        ]

    def _asked_what(self) -> str:
        """ "a blow dry on Wednesday", "anything next week": what was asked about."""
        slots = self.state.slots
        what = with_article(slots.service) if slots.service else "anything"
        if slots.day is None:
            return f"{what} booked"
        if slots.days > 1:
            return f"{what} {_range(slots.day, slots.days, self.today)}"
        return f"{what} on {spoken_date(slots.day)}"


def _range(day: date, days: int, today: date) -> str:
    monday = today - timedelta(days=today.weekday())
    if day == monday + timedelta(weeks=1) and days == 7:
        return "next week"
    last = day + timedelta(days=days - 1)
    return f"between {spoken_date(day)} and {spoken_date(last)}"


def _bookings_sentence(refs: Sequence[BookingRef]) -> str:
    """ "You're booked for a haircut on ...", or the first few of several."""
    if len(refs) == 1:
        ref = refs[0]
        return f"You're booked for {with_article(ref.service)} on {ref.spoken}."
    listed = join_and([f"{with_article(r.service)} on {r.spoken}" for r in refs[:_READ_AT_MOST]])
    if len(refs) <= _READ_AT_MOST:
        return f"You have {listed}."
    return f"You have {len(refs)} bookings; the next ones are {listed}."
