"""Booking again what the caller had: "I missed my appointment today, can I rebook?", "I need
to rebook", "can I make another one like last time?", "same as before, please".

:func:`asks_again` tells such a request from others. :class:`RebookSteps` looks the caller's
bookings up (by the calling number, else the name given), past ones included, and takes
the one meant: the one that fits what the caller said of it, else the one missed or last
had when that is what they speak of, else the next one. Its service is booked again, "same
time" being its time. A booking still to come is moved rather than doubled; one in the
past stays as it was and a new one is made. Nothing found: a new booking, asked for the
usual way.

The readers are regular expressions over the normalised text, linear in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from voiceops.core.ports import ToolStatus
from voiceops.flow.existing import OTHER_PHONE, ExistingSteps, narrow
from voiceops.flow.relative import read_relative
from voiceops.flow.state import Clues
from voiceops.flow.steps import Call, Say, Step, result_of
from voiceops.flow.when import parse_when
from voiceops.flow.wording import with_article
from voiceops.tools.results import Found

if TYPE_CHECKING:
    from collections.abc import Sequence

    from voiceops.core.ports import ToolOutcome
    from voiceops.flow.state import BookingRef
    from voiceops.flow.understand import Understanding
    from voiceops.tools.results import FoundBooking

_ONE = r"(?:one|appointment|booking|visit|time)"
_BEFORE = r"(?:last time|before|(?:the|my) last(?: " + _ONE + r")?)"
_AGAIN = re.compile(
    r"\bre ?book(?:ed|ing|s)?\b"
    r"|\b(?:book|make|get|do|have|fit|squeeze|put|set)(?: [\w']+){0,4}? (?:again"
    r"|another " + _ONE + r" like(?: " + _BEFORE + r")?"
    r"|the same (?:again|thing|one|as(?: " + _BEFORE + r")?))\b"
    r"|\banother (?:" + _ONE + r" )?like " + _BEFORE + r"\b"
    r"|\b(?:same|like) (?:as )?" + _BEFORE + r"\b"
    r"|\b(?:the|my) usual\b|\b(?:come|get) (?:back )?in again\b|\bget back in\b"
)
"""The caller asks to book again what they had."""
_PAST_ONE = re.compile(r"\b(?:last|before|usual|missed|forgot|no ?show\w*|didn't|did not)\b")
"""What says the booking meant is one already had, not the next one."""
_MISSED = re.compile(
    r"\b(?:i|we) (?:totally |completely |just |actually |kind of |clean |must have )?"
    r"(?:(?:missed|slept through) (?!(?:my|our|the|a|your) (?:bus|train|flight|ride|call|phone"
    r"|message|text|email|voicemail|chance|turn|stop|exit|alarm)\b)(?:it|that|this|my|our|the)\b"
    r"(?! (?:time|day|date|address|name)\b)"
    r"|forgot(?! (?:to|when|what|which|how|where|whether|if|your|the (?:time|day|date|address"
    r"|name)|my (?:name|number|wallet|card|keys|phone))\b)"
    r"|(?:didn't|did not|couldn't|could not) (?:make it|show up|come)"
    r"|never (?:showed up|came)|no showed|(?:was|were) (?:supposed|meant|due) to (?:come|be))\b"
    r"|\bno ?show(?:ed)?\b"
)
"""The caller missed a booking ("I missed it", "I forgot about my appointment")."""
_LATE = re.compile(r"\b(?:running late|be late|going to be late|gonna be late|late for)\b")
"""Late for one still to come: not missed."""
_BOOKING_WORD = re.compile(
    r"\b(?:appointment|appt|booking|slot|session|reservation|visit|no ?show(?:ed)?)s?\b"
)
_TOLD = re.compile(
    r"\b(?:had|have|missed|was|were|did|didn't|booked|came|forgot|went|got|couldn't|slept"
    r"|last)\b"
)
"""Words before the request that tell of the booking already had ("I had one today at 2")."""
_IS_NUMBER = re.compile(r"^\+?[\d\s()-]{7,}$")
_FOR_SOMEONE = re.compile(
    r"\bfor (?:my|her|his|our) (?:son|daughter|wife|husband|partner|kids?|child|children|boy"
    r"|girl|mum|mom|mother|dad|father|friend|brother|sister|grandson|granddaughter)\b"
)
"""The new booking is for someone else: not under the name of the one had."""
_ANOTHER = re.compile(r"\b(?:another|one more|a second) (?:one|appointment|booking|slot)\b")
"""After a booking made in this call: one more of it."""


@dataclass(frozen=True, slots=True)
class Again:
    """A request to book again: where its words end, and what it says of the one meant."""

    end: int
    """Where the request ends in the text: what comes after says when the new one is."""
    start: int
    missed: bool
    past: bool
    """The one meant is one already had ("last time", "I missed it"), not the next one."""
    told: bool
    """Only a booking missed is told of ("I forgot about my appointment on Saturday"): all
    the words are about that one."""
    for_someone: bool = False
    """ "The same again for my son": the name is asked, not taken from the one had."""


def asks_again(text: str, *, named: bool) -> Again | None:
    """Normalised ``text`` asks to book again a booking the caller had, or says they missed
    one (with a booking or a service named: "I missed that" asks for the words again)."""
    asked = [*_AGAIN.finditer(text)]
    missing = [] if _LATE.search(text) else [*_MISSED.finditer(text)]
    found = asked + missing
    missed = _MISSED.search(text) is not None and not _LATE.search(text)
    if missed and not (_AGAIN.search(text) or named or _BOOKING_WORD.search(text)):
        return None
    if not found:
        return None
    last = max(found, key=lambda m: m.end())
    past = missed or _PAST_ONE.search(text) is not None
    told = not asked or max(m.end() for m in asked) < last.end()
    return Again(
        end=last.end(),
        start=last.start(),
        missed=missed,
        past=past,
        told=told,
        for_someone=_FOR_SOMEONE.search(text) is not None,
    )


class RebookSteps(ExistingSteps):
    """The part of the dialogue that books again what the caller had."""

    def _again(self, u: Understanding) -> list[Step] | None:
        """A request to book again, outside a task or before one has a service; ``None``
        when the turn is no such request."""
        state = self.state
        free = state.task is None or (
            state.task == "book" and state.slots.service is None and state.slots.day is None
        )
        if not free or u.intents & {"cancel", "lookup", "human"}:
            return None
        again = asks_again(u.text, named=u.service is not None)
        offered = state.slots.service if state.awaiting == "book_offer" else None
        if again is not None and offered is not None and not again.missed:
            # "Can I rebook it for next week?" to "would you like to book another time?"
            # after a cancellation: the service just cancelled.
            return self._same_again(u, offered, again)
        if state.last_service is not None and (again is None or not again.missed):
            more = _ANOTHER.search(u.text)
            if again is None and more is not None:
                # "Can I book another one next week?" after one made in this call.
                again = Again(
                    end=more.end(),
                    start=more.start(),
                    missed=False,
                    past=False,
                    told=False,
                    for_someone=_FOR_SOMEONE.search(u.text) is not None,
                )
            if again is not None:
                return self._same_again(u, state.last_service, again)
        return self._rebook(u, again) if again is not None else None

    def _same_again(self, u: Understanding, service: str, again: Again) -> list[Step]:
        """ "The same again for my son" after a booking made in this call: that service
        again, for whom and when the caller says."""
        name, start = self.state.slots.name, self.state.last_start
        self._begin_booking()
        slots = self.state.slots
        slots.service = u.service or service
        slots.name = None if again.for_someone else name
        slots.again_from = start  # "same time": the time of the one just made
        _, remarks = self._apply(replace(u, service=None, services=()))
        return [Say(f"Sure, {with_article(slots.service)}."), *remarks, *self._advance()]

    def _rebook(self, u: Understanding, again: Again) -> list[Step]:
        """Start a booking like the one the caller had, and look that one up."""
        told = u.text if again.told else u.text[: again.end]
        # "I had one today at 2 and missed it, can I rebook for tomorrow?": the words up to
        # the request tell of the old booking, the rest of the new one.
        old = told if again.told or _TOLD.search(told, 0, again.start) else ""
        new = replace(u, service_whens=())
        if old:
            rest = "" if again.told else u.text[again.end :]
            when = parse_when(rest, self.today, expect_time=True)
            new = replace(new, text=rest, **read_relative(rest, self.today, when).fields())
        clues = (
            self._clues_of(replace(u, text=old, when=parse_when(old, self.today)))
            if old
            else Clues()
        )
        clues.service = clues.service or u.service
        self._begin_booking()
        state = self.state
        if u.name is not None:
            state.slots.name, state.slots.by_phone = u.name, False
        self._apply(new)
        state.slots.same_time = new.same_time and state.slots.at is None
        state.clues = clues
        args: dict[str, Any] = {}
        if not self.caller_phone or (OTHER_PHONE.search(u.text) and state.slots.name):
            # "I'm on my daughter's phone": not by this number, by the name.
            if not state.slots.name:
                return [Say("Sure, let's book you in again."), *self._advance()]
            args["customer_name"] = state.slots.name
        return [Call("find_booking", args, then=partial(self._after_again, again, bool(args)))]

    def _after_again(self, again: Again, by_name: bool, outcome: ToolOutcome) -> list[Step]:
        state = self.state
        result = result_of(outcome, Found)
        if result.status is ToolStatus.SUPERSEDED:
            return []
        views = result.bookings if isinstance(result, Found) else []
        name = state.slots.name
        if not views and not by_name and name and not state.slots.by_phone:
            then = partial(self._after_again, again, True)
            return [Call("find_booking", {"customer_name": name}, then=then)]
        clues, state.clues = state.clues, None
        sorry = [Say("Sorry you missed it.")] if again.missed else []
        if not views:
            # Nothing to go by: a new booking, the service asked for if it is not known.
            line = "I can't find your last booking, but I can book you in again."
            return [*sorry, Say(line), *self._advance()]
        ref, view = self._meant(views, clues or Clues(), past=again.past)
        if view.upcoming:
            # Still to come: moved to the new time, never booked twice.
            state.task = "reschedule"
            return [*sorry, *self._with_target(ref)]
        return [*sorry, *self._book_like(ref, view, again)]

    def _meant(
        self, views: Sequence[FoundBooking], clues: Clues, *, past: bool
    ) -> tuple[BookingRef, FoundBooking]:
        """The booking meant: among those that fit what was said of it, the one last had
        when the caller speaks of one had, else the next one (the tool lists those to come
        soonest first, then those past latest first)."""
        refs = [self._booking_ref(view) for view in views]
        chosen = {ref.booking_id for ref in narrow(refs, clues)}
        fitting = [(r, v) for r, v in zip(refs, views, strict=True) if r.booking_id in chosen]
        coming = [pair for pair in fitting if pair[1].upcoming]
        gone = [pair for pair in fitting if not pair[1].upcoming]
        return (gone + coming if past else coming + gone)[0]

    def _book_like(self, ref: BookingRef, view: FoundBooking, again: Again) -> list[Step]:
        """A new booking of the service had (or of the one named now), at its time if
        "same time" was said, under its name unless it is for someone else."""
        slots = self.state.slots
        named = slots.service not in (None, ref.service)
        slots.service = slots.service or ref.service
        slots.again_from = ref.start
        if slots.same_time and slots.at is None:
            slots.at, slots.part = ref.start.time(), None
        slots.same_time = False
        theirs = not again.for_someone and not _IS_NUMBER.match(view.customer_name)
        if not slots.name and theirs:
            slots.name, slots.by_phone = view.customer_name, False
        line = "Sure." if named else f"I can book your {slots.service} again."
        return [Say(line), *self._advance()]

    def _apply(self, u: Understanding) -> tuple[bool, list[Step]]:
        """ "Same time" said of a booking like one the caller had: that one's time, and in
        a week named ("next week, same time") that one's weekday."""
        slots = self.state.slots
        again = slots.again_from
        if u.same_time and again is not None and u.when.at is None and self.state.task == "book":
            when = replace(u.when, at=again.time())
            first = when.day
            if first is not None and when.days > 1:
                ahead = (again.weekday() - first.weekday()) % 7
                if ahead < when.days:
                    when = replace(when, day=first + timedelta(days=ahead), days=1)
            u = replace(u, when=when, same_time=False)
        return super()._apply(u)
