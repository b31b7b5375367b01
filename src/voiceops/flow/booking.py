"""Booking and moving an appointment: filling the slots, offering times, reading back, committing.

The caller's service, day, time (or part of the day) and name are taken in any order and
corrected at will (:meth:`BookingSteps._apply`); once day and service are known,
availability is checked and the free times are offered; a chosen time is read back, and
committed on a yes. Moving an existing booking runs the same steps with the booking found
by ``flow/existing.py`` as the target.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from voiceops.core.ports import ToolStatus
from voiceops.flow.bounds import pivot as pivot_within
from voiceops.flow.bounds import within
from voiceops.flow.existing import still_here
from voiceops.flow.following import FollowingSteps
from voiceops.flow.othertimes import asks_other_times, beyond
from voiceops.flow.state import Offer
from voiceops.flow.steps import Call, Say, Step, result_of
from voiceops.flow.when import PART_PIVOT, part_of
from voiceops.flow.wording import closed_weekdays, on_the_step
from voiceops.tools.booking import intervals_on
from voiceops.tools.results import Availability, BookingChange, ToolFailure
from voiceops.tools.timefmt import spoken_clock, spoken_date, weekday_name

if TYPE_CHECKING:
    from voiceops.core.ports import ToolOutcome
    from voiceops.core.profile import Interval
    from voiceops.flow.understand import Understanding
    from voiceops.tools.results import SlotView

_CHANGE_DAY = re.compile(r"\b(?:day|date)\b")
_CHANGE_TIME = re.compile(r"\btime\b")
_CHANGE_NAME = re.compile(r"\bname\b")
_CHANGE_SERVICE = re.compile(r"\bservice\b")
_CLOSED_LOOKAHEAD_DAYS = 15


def _spans(hours: Sequence[Interval]) -> str:
    return " and ".join(f"{spoken_clock(iv.start)} to {spoken_clock(iv.end)}" for iv in hours)


class BookingSteps(FollowingSteps):
    """The booking and moving part of the dialogue."""

    # --- taking what the caller said ----------------------------------------------------

    # --- moving a booking forward ----------------------------------------------------------

    def _advance(self) -> list[Step]:
        """Ask for what is missing, check availability, or read back for confirmation."""
        state = self.state
        slots = state.slots
        task = state.task
        if task in ("cancel", "reschedule", "lookup") and state.target is None:
            return self._find(None)
        if task not in ("book", "reschedule"):
            return self._ask("anything_else")
        if task == "book" and slots.service is None:
            return self._ask_missing("service")
        if slots.day is None and not slots.earliest:
            return self._ask_missing("day")
        if slots.start is None:
            closed = self._closed_day()
            if closed is not None and self.closed_said:
                # The hours just said it is closed: name the next open day, let them choose.
                slots.day, slots.from_closed = None, False
                following = closed.split("; ", 1)[1]
                return [Say(following[:1].upper() + following[1:]), *self._ask("day", other=True)]
            if closed is not None:
                return [Say(closed), self._availability()]
            return [self._availability()]
        if task == "book" and not slots.name:
            return self._ask_missing("name")
        slots.then_times = self._following_starts()
        if task == "book" and slots.then and not slots.then_fit:
            # Each one to follow must be free where it falls before any is promised.
            return [self._following_check(0)]
        return self._ask("confirm")

    def _closed_day(self) -> str | None:
        """When the day asked for is a closed one: say so, and move to the next open day."""
        slots = self.state.slots
        day = slots.day
        if day is None or slots.days != 1 or intervals_on(self.profile, day):
            return None
        following = next(
            (
                day + timedelta(days=n)
                for n in range(1, _CLOSED_LOOKAHEAD_DAYS)
                if intervals_on(self.profile, day + timedelta(days=n))
            ),
            None,
        )
        if following is None:
            return None
        slots.day, slots.from_closed, slots.closed_day = following, True, day
        slots.clear_time()
        if day in self.profile.closed_dates:
            closed = f"We're closed on {spoken_date(day)}"
        else:
            closed = f"We're closed on {closed_weekdays(self.profile)}"
        nearby = following - day < timedelta(days=7)
        named = weekday_name(following) if nearby else spoken_date(following)
        return f"{closed}; the next day we're open is {named}."

    def _task_service(self) -> str:
        state = self.state
        if state.task == "reschedule" and state.target is not None:
            return state.target.service
        return state.slots.service or ""

    def _availability(self) -> Call:
        slots = self.state.slots
        args: dict[str, Any] = {"service": self._task_service()}
        if self.state.task == "reschedule" and self.state.target is not None:
            # Moving a booking: its current time is not "taken" by someone else.
            args["exclude_booking_id"] = self.state.target.booking_id
        if slots.day is not None:
            args["date"] = slots.day.isoformat()
            args["days"] = slots.days
            part = PART_PIVOT[slots.part] if slots.part else None
            limited = pivot_within(slots.after, slots.before, self._minutes(), self._step())
            if limited is not None and slots.part and part_of(limited) != slots.part:
                limited = None  # "in the afternoon" said too: its times, not the limit's
            pivot = slots.at or slots.near or limited or part
            if pivot is not None:
                args["time"] = pivot.strftime("%H:%M")
        return Call("check_availability", args, then=self._after_availability)

    def _minutes(self) -> int:
        kind = self.profile.service(self._task_service())
        return kind.duration_min if kind else self._step()

    def _step(self) -> int:
        return self.profile.booking.slot_step_min

    def _bounded(self, offers: list[Offer]) -> list[Offer]:
        """The offers that keep to the earliest start and latest end the caller set."""
        slots, minutes = self.state.slots, self._minutes()
        return [o for o in offers if within(o.start, minutes, slots.after, slots.before)]

    def _limits(self) -> str:
        """The caller's limits, said: "after 5 PM", "before 3 PM", "between 10 AM and 3 PM"."""
        after, before = self.state.slots.after, self.state.slots.before
        if after and before:
            return f"between {spoken_clock(after)} and {spoken_clock(before)}"
        return (
            f"after {spoken_clock(after)}" if after else f"before {spoken_clock(before or time())}"
        )

    def _offers_from(self, views: Sequence[SlotView]) -> list[Offer]:
        return [Offer(start=self._wall(view), spoken=view.spoken) for view in views]

    def _after_availability(self, outcome: ToolOutcome) -> list[Step]:
        state = self.state
        slots = state.slots
        result = result_of(outcome, Availability)
        if result.status is ToolStatus.SUPERSEDED:
            return []
        if isinstance(result, ToolFailure) or result.status is not ToolStatus.OK:
            return self._tool_refused("availability", result, ask="day")
        state.attempts.pop("day", None)
        offers = self._offers_from(result.slots)
        from_closed, slots.from_closed = slots.from_closed, False
        if slots.day is not None and slots.at is not None:
            return self._at_time_asked(slots.day, slots.at, offers, from_closed=from_closed)
        return self._around_time_asked(offers, from_closed=from_closed)

    def _at_time_asked(
        self, requested: date, at: time, offers: list[Offer], *, from_closed: bool
    ) -> list[Step]:
        """The free slots for an exact day and time: take it when free, else the nearest."""
        state = self.state
        wanted = datetime.combine(requested, at)
        match = next((o for o in offers if o.start == wanted), None)
        if match is None:
            hours = intervals_on(self.profile, requested)
            if hours and not any(iv.start <= at < iv.end for iv in hours):
                return self._present(
                    offers, f"On {weekday_name(requested)} we're open {_spans(hours)}."
                )
            off_step = (at.hour * 60 + at.minute) % self._step()
            return self._present(
                self._bounded(offers) or offers,
                on_the_step(self._step())
                if off_step
                else f"Sorry, {spoken_clock(at)} on {weekday_name(requested)} isn't available.",
            )
        if from_closed:
            # "We're closed on Mondays; the next day we're open is Tuesday." Ask first.
            state.offers = [match]
            return [Say(f"Would {spoken_clock(at)} work?"), *self._ask("offer", say=False)]
        if state.slots.agreed:
            # Agreed in the read-back of the first booking ("book them"): book it now.
            self._choose(match)
            return self._commit()
        self._recapped()  # said here, or in the read-back
        steps = self._choose(match)
        if state.awaiting == "confirm":
            # The read-back says the time; after a correction it is the new one.
            return steps if self.corrected else [Say("Good news, that time is free."), *steps]
        if self.corrected:
            # After "Okay, a haircut instead." the time stands: say it, not "okay" again.
            head = "I have" if self.switched else "Okay, I have"
            return [Say(f"{head} {match.spoken}."), *steps]
        # No read-back yet: say which service, day and time were understood.
        service = self._task_service()
        return [Say(f"Good news, {match.spoken} is free for your {service}."), *steps]

    def _around_time_asked(self, offers: list[Offer], *, from_closed: bool) -> list[Step]:
        """The free slots for a day, a part of it, a range of days or the earliest."""
        slots = self.state.slots
        requested = slots.day
        offers, head = beyond(slots, offers)
        offers = [o for o in offers if o.start not in slots.unfit] or offers
        if slots.near is not None and requested is not None:
            later = [o for o in offers if o.start >= datetime.combine(requested, slots.near)]
            offers = later or offers
        if slots.after or slots.before:
            kept = self._bounded(offers)
            if offers and not kept:
                head = f"I don't have anything free {self._limits()}."
            offers = kept or offers
        if slots.part is not None:
            fitting = [o for o in offers if part_of(o.start.time()) == slots.part]
            hours = intervals_on(self.profile, requested) if requested is not None else []
            if not fitting and hours and requested is not None:
                head = f"On {weekday_name(requested)} we're open {_spans(hours)}."
            offers = fitting or offers
        if requested is not None and offers and not from_closed and head is None:
            last = requested + timedelta(days=slots.days - 1)
            if all(not requested <= o.start.date() <= last for o in offers):
                # The tool widened the search itself: say why these are other days.
                head = (
                    f"I don't have anything free on {weekday_name(requested)}."
                    if slots.days == 1
                    else "I don't have anything free then."
                )
        return self._present(offers, head)

    def _present(self, offers: list[Offer], head: str | None) -> list[Step]:
        """Read free slots out (or say there are none) and wait for the caller's pick."""
        state = self.state
        steps: list[Step] = [Say(head)] if head else []
        if not offers:
            state.slots.day = None
            state.slots.earliest = False
            state.slots.clear_time()
            steps.append(Say("I'm sorry, I don't have anything free around then."))
            return steps + self._ask("day", other=True)
        # Nearest first is how the tools rank them; callers hear them in clock order, and
        # "the second one" means the second they heard.
        state.offers = sorted(offers, key=lambda o: o.start)
        if self._recap_due() and state.task == "book" and state.slots.service:
            # The times are read out for the service asked for, said again now.
            self._recapped()
            self.offer_for = state.slots.service
        return steps + self._ask("offer")

    def _choose(self, offer: Offer) -> list[Step]:
        state = self.state
        slots = state.slots
        slots.start, slots.spoken = offer.start, offer.spoken
        slots.day, slots.at, slots.earliest = offer.start.date(), offer.start.time(), False
        state.offers = []
        state.attempts.pop("offer", None)
        state.attempts.pop("yes_to_offers", None)
        return self._advance()

    def _commit(self) -> list[Step]:
        state = self.state
        slots = state.slots
        if slots.start is None:
            return self._advance()
        start = slots.start.strftime("%Y-%m-%dT%H:%M")
        if state.task == "reschedule" and state.target is not None:
            return [
                Call(
                    "reschedule_appointment",
                    {"booking_id": state.target.booking_id, "new_start": start},
                    then=self._after_commit,
                )
            ]
        return [
            Call(
                "book_appointment",
                {"service": slots.service, "start": start, "customer_name": slots.name},
                then=self._after_commit,
            )
        ]

    def _after_commit(self, outcome: ToolOutcome) -> list[Step]:
        state = self.state
        result = result_of(outcome, BookingChange)
        status = result.status
        if status is ToolStatus.SUPERSEDED:
            return []
        if isinstance(result, BookingChange) and status is ToolStatus.CONFIRMED:
            booking = result.booking
            service = booking.service if booking else self._task_service()
            spoken = booking.spoken if booking else state.slots.spoken or ""
            if state.task == "reschedule":
                line = f"I've moved your {service} to {spoken}."
            elif state.slots.agreed and booking is not None:
                at = spoken_clock(self._wall(booking).time())
                when = f"on {spoken}" if state.slots.own_time else f"at {at}"
                line = f"And the {service} for {state.slots.name} {when} is booked."
            else:
                line = f"You're all set. Your {service} is booked for {spoken}."
            start = self._wall(booking) if booking else None
            following = state.slots.model_copy(deep=True)
            state.finish_task()
            state.last_service, state.last_booked = service, spoken
            state.last_start = start
            if following.then and start is not None:
                return [Say(line), *self._book_next(following, start)]
            if self.leaving:
                return [Say(line), *self._goodbye()]
            return [Say(line), *self._ask("anything_else")]
        state.slots.clear_time()
        if isinstance(result, BookingChange) and status is ToolStatus.SLOT_TAKEN:
            offers = self._offers_from(result.alternatives)
            return self._present(offers, "Sorry, that time has just been taken.")
        return self._tool_refused("booking", result)

    # --- answers to its questions ------------------------------------------------------

    def _on_offer(self, u: Understanding) -> list[Step] | None:
        if self.state.slots.offer_then is not None:
            return self._on_following_offer(u)
        offers = self.state.offers
        if not offers or asks_other_times(u.text):
            return None  # "anything later?": read generally, as a new time asked for
        chosen = self._picked(u, offers)
        if chosen is not None:
            if u.name is not None and self.state.task == "book":
                # "The 6 o'clock, and his name's Leo": the name said with the pick counts.
                self.state.slots.name, self.state.slots.by_phone = u.name, False
            self._recapped()  # said here, or in the read-back
            steps = self._choose(chosen)
            if self.state.awaiting == "confirm":
                return steps
            # What was understood, before the next question.
            return [Say(f"Great, {chosen.spoken} for your {self._task_service()}."), *steps]
        if (u.name is not None or u.names) and u.when.empty and self.state.task == "book":
            # A name before the time ("I'm Carla and he's Tom"): kept; the times stand.
            self._take_names(u)
            name = self.state.slots.name
            two = u.names and self.state.slots.then
            thanks = f"Thanks, {name}." if name and not two else "Thanks."
            return [Say(thanks), Say(self._question("offer"))]
        if u.deny and not u.has_slot_value:
            slots = self.state.slots
            self.state.offers = []
            slots.day, slots.at, slots.part, slots.earliest = None, None, None, False
            slots.clear_time()
            return [Say("No problem."), *self._ask("day", other=True)]
        if u.affirm and not u.has_slot_value:
            if self._bump("yes_to_offers") > 1:
                # A second plain yes to several times: the first one, put as a question.
                first = self.state.offers = self.state.offers[:1]
                return [Say(f"Shall I take {first[0].spoken}?"), *self._ask("offer", say=False)]
            return [Say("Which one would you like?"), *self._ask("offer", say=False)]
        return None

    def _picked(self, u: Understanding, offers: list[Offer]) -> Offer | None:
        """The offer the caller chose: by its place ("the second one"), its day or time, or
        a yes to the only one."""
        if u.pick is not None and (u.when.day is None or u.when.ordinal is not None):
            return offers[u.pick] if -len(offers) <= u.pick < len(offers) else None
        if u.when.at is not None or u.when.day is not None:
            fitting = [
                o
                for o in offers
                if (u.when.at is None or o.start.time() == u.when.at)
                and (u.when.day is None or o.start.date() == u.when.day)
            ]
            return fitting[0] if len(fitting) == 1 else None
        if u.affirm and len(offers) == 1:
            return offers[0]
        return None

    def _take_names(self, u: Understanding) -> None:
        slots = self.state.slots
        if u.names and slots.then:
            slots.name = u.names[0]
            slots.then_names = list(u.names[1 : 1 + len(slots.then)])
        elif u.name is not None:
            slots.name = u.name
        slots.by_phone = False
        self.state.attempts.pop("name", None)

    def _on_confirm(self, u: Understanding) -> list[Step] | None:
        changed, remarks = self._apply(u)
        if changed:
            return remarks + self._advance()
        if still_here(u) and not u.deny:
            return [Say("Shall I go ahead?")]
        moving = self.state.task == "reschedule" and "reschedule" in u.intents
        if u.affirm or (moving and not u.deny):
            # "Yes", or "please move it" to "move your colour to Friday?"; a question asked
            # with the yes ("yes please, and how long will I be there?") is answered first.
            asked = u.faq or u.intents & {"price", "duration"}
            service = u.service or self._task_service() or None
            info = self._info(replace(u, service=service), follow_up=False) if asked else []
            return [*info, *self._commit()]
        if u.deny:
            return [Say("No problem."), *self._ask("change")]
        return None

    def _on_change(self, u: Understanding) -> list[Step] | None:
        changed, remarks = self._apply(u)
        if changed:
            return remarks + self._advance()
        slots = self.state.slots
        if _CHANGE_DAY.search(u.text):
            slots.day, slots.at = None, None
            slots.clear_time()
            return self._ask("day")
        if _CHANGE_TIME.search(u.text):
            slots.at = None
            slots.clear_time()
            return self._ask("time")
        if _CHANGE_NAME.search(u.text) and self.state.task == "book":
            slots.name = None
            return self._ask("name")
        if _CHANGE_SERVICE.search(u.text) and self.state.task == "book":
            slots.service = None
            slots.clear_time()
            return self._ask("service")
        if u.affirm and slots.start is not None:
            return self._commit()
        return None
