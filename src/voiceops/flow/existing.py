"""Existing bookings: finding the caller's, telling which one they mean, cancelling it.

A lookup goes by the number the caller is calling from, else by the name they give. One
upcoming booking is taken as the one meant; several are narrowed down by an ordinal ("the
second one"), a day or a service. Moving a booking hands over to ``flow/booking.py`` with
it as the target; cancelling reads it back and cancels on a yes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from voiceops.core.ports import ToolStatus
from voiceops.flow.lexicon import lexicon_for, named_services
from voiceops.flow.lookup import LookupSteps
from voiceops.flow.moving import cant_keep, moves_by, settle, split_move
from voiceops.flow.relative import read_relative
from voiceops.flow.state import BookingRef, Clues
from voiceops.flow.steps import Call, Say, Step, result_of
from voiceops.flow.when import WEEKDAY_WORDS, When, parse_when, part_of
from voiceops.flow.whenwords import WEEKDAY_ALIASES
from voiceops.flow.wording import with_article
from voiceops.tools.results import Cancelled, Found, ToolFailure

_PERSON = re.compile(
    r"\b(?:someone|somebody|a person|the team|team|staff|manager|human|real person"
    r"|put me through|transfer me)\b"
)
"""Choosing the person over a new booking ("someone from the team, please")."""
_WEEKDAY = re.compile(rf"\b(?:{'|'.join((*WEEKDAY_WORDS, *WEEKDAY_ALIASES))})\b")
_HERE = re.compile(
    r"\b(?:(?:i'm|i am|yes|yeah|still) (?:still )?(?:here|there|on the line|with you)"
    r"|can you hear me|sorry i was)\b"
)
"""Answering "are you still there?", which is no yes to the question after it."""
_KEPT = re.compile(
    r"\b(?:keep|leave|not|except|but not|other than|apart from|besides|instead of)"
    r" (?:the |my |that |this |a |an )?$"
)
"""Before a service the caller means to keep ("keep the colour"), not the one they mean."""
_KEPT_REACH = 24
_MOVE_OR_CANCEL = "Would you like to move it to another day, or cancel it?"
_GO_AHEAD = re.compile(r"\b(?:go ahead|do it|please do|cancel|book|move|confirm)\b")
OTHER_PHONE = re.compile(
    r"\b(?:calling|ringing|phoning|on|using|from)(?: you)?(?: from| on)? (?:my|a|the|his|her|our)"
    r" (?:work|office|business|other|different|new|second|borrowed|(?:husband|wife|partner"
    r"|friend|mom|mum|mother|dad|father|son|daughter|sister|brother|boss|colleague|coworker"
    r"|girlfriend|boyfriend|neighbou?r)'?s) (?:phone|number|cell|cellphone|mobile|line)\b"
    r"|\bnot (?:on |from )?my (?:own |usual |regular )?(?:phone|number|cell|mobile)\b"
)
"""The caller is not on the phone their booking is under: it is looked for by name."""


def still_here(u: Understanding) -> bool:
    """ "Yes, I'm still here" after a reminder: no answer yet to the question it repeated."""
    return bool(_HERE.search(u.text)) and not _GO_AHEAD.search(u.text)


def _names(u: Understanding, target: BookingRef) -> bool:
    """What ``u`` says of a booking fits ``target`` (its service, its date or weekday)."""
    day = target.start.date()
    days = all(d == day or d.weekday() == day.weekday() for d in u.when.mentioned)
    return days and u.service in (None, target.service)


def _tests(clues: Clues) -> tuple[Callable[[BookingRef], bool], ...]:
    return (
        lambda r: clues.service is None or r.service == clues.service,
        lambda r: not clues.days or r.start.date() in clues.days,
        lambda r: not clues.weekdays or r.start.weekday() in clues.weekdays,
        lambda r: clues.at is None or r.start.time() == clues.at,
        lambda r: clues.part is None or part_of(r.start.time()) == clues.part,
    )


def fits(ref: BookingRef, clues: Clues) -> bool:
    """``ref`` fits every clue."""
    return all(test(ref) for test in _tests(clues))


def narrow(refs: Sequence[BookingRef], clues: Clues) -> list[BookingRef]:
    """The bookings that fit each clue in turn (service, date, weekday, time, part of the
    day); a clue no booking fits is passed over, as a slip of the caller's, and clues that
    point at different bookings tell none apart (all of them are returned, to ask)."""
    chosen = list(refs)
    for test in _tests(clues):
        fitting = [r for r in chosen if test(r)]
        if not fitting and any(test(r) for r in refs):
            return list(refs)  # "the colour on Thursday" when the colour is on Saturday
        chosen = fitting or chosen
    return chosen


if TYPE_CHECKING:
    from voiceops.core.ports import ToolOutcome
    from voiceops.flow.understand import Understanding
    from voiceops.tools.results import BookingView


class ExistingSteps(LookupSteps):
    """The part of the dialogue about bookings the caller already has."""

    def _find(self, u: Understanding | None, *, name: str | None = None) -> list[Step]:
        if u is not None and self.state.target is None:
            self._note_clues(u)
        args: dict[str, Any] = {}
        if u is not None and self.state.task == "lookup":
            self._remember_query(u)  # what the caller asked about, for the read-back
        if u is not None and OTHER_PHONE.search(u.text):
            # "I'm calling from my work phone": not by this number, by the name.
            self.state.attempts["phone_lookup"] = 1
        if name:
            args["customer_name"] = name
        elif self.state.attempts.get("name_lookup"):
            # Looked for by number and name already: the caller says what happens next.
            return self._ask("new_or_team")
        elif not self.caller_phone or self.state.attempts.get("phone_lookup"):
            if not self.state.slots.name:
                return self._ask("lookup_name")
            args["customer_name"] = self.state.slots.name
        return [Call("find_booking", args, then=partial(self._after_find, bool(args)))]

    def _note_clues(self, u: Understanding) -> None:
        """Keep what the caller says of the booking they mean, to tell it from their others
        once found; of a request to move one, only the words before where it goes."""
        said = self._clues_of(u)
        kept = self.state.clues
        if kept is not None:
            said.service = said.service or kept.service
            said.days, said.weekdays = said.days or kept.days, said.weekdays or kept.weekdays
            said.at, said.part = said.at or kept.at, said.part or kept.part
        self.state.clues = said

    def _clues_of(self, u: Understanding) -> Clues:
        """What ``u`` says of a booking the caller has; of a request to move one, only the
        words before where it goes ("my Thursday one, to Saturday")."""
        text, when = u.text, u.when
        split = split_move(text) if self.state.task == "reschedule" else None
        if split is not None:
            text, when = split[0], parse_when(split[0], self.today)
        # "Cancel the haircut but keep the colour": the colour is not the one meant.
        named = {
            name
            for name, at in named_services(text, lexicon_for(self.profile))
            if not _KEPT.search(text, max(0, at - _KEPT_REACH), at)
        }
        service = named.pop() if len(named) == 1 else None
        weekdays = [WEEKDAY_WORDS.index(WEEKDAY_ALIASES.get(w, w)) for w in _WEEKDAY.findall(text)]
        return Clues(
            service=service,
            days=list(when.mentioned),
            weekdays=weekdays,
            at=when.at,
            part=when.part,
        )

    def _take_move(self, u: Understanding) -> None:
        """A request to move a booking: what follows the "to" is where it goes; what comes
        before only tells which booking it is (:meth:`_note_clues`)."""
        split = split_move(u.text)
        # "Something's come up": once it is found, moving or cancelling it is asked.
        self.state.slots.unsure = (
            cant_keep(u.text) and split is None and u.shift is None and not moves_by(u.text)
        )
        if split is not None:
            to = split[1]
            relative = read_relative(to, self.today, parse_when(to, self.today, expect_time=True))
            u = replace(u, text=to, service_whens=(), **relative.fields())
        elif u.shift is not None or moves_by(u.text):
            # "My Thursday 10 o'clock, an hour later": the day and time said are its own.
            u = replace(u, when=When(), service_whens=())
        self._apply(u)

    def _booking_ref(self, view: BookingView) -> BookingRef:
        return BookingRef(
            booking_id=view.booking_id,
            service=view.service or "appointment",
            start=self._wall(view),
            spoken=view.spoken,
        )

    def _after_find(self, by_name: bool, outcome: ToolOutcome) -> list[Step]:
        state = self.state
        result = result_of(outcome, Found)
        if result.status is ToolStatus.SUPERSEDED:
            return []
        if isinstance(result, ToolFailure) or result.status is not ToolStatus.OK:
            return self._tool_refused("lookup", result)
        now = self.clock.now_local.replace(tzinfo=None)
        refs = [ref for view in result.bookings if (ref := self._booking_ref(view)).start > now]
        if not by_name and refs and self._someone_elses(result.bookings, refs):
            # Tom's beard trim on the phone Nadia calls from, her blow dry asked about.
            return self._not_found(by_name=False)
        if state.task == "lookup" and (refs or by_name):
            return self._read_found(refs)  # flow/lookup.py
        if not refs:
            return self._not_found(by_name=by_name)
        refs = self._narrowed(refs)
        if len(refs) == 1:
            return self._with_target(refs[0])
        if state.task == "lookup":
            first = refs[0]
            state.finish_task()
            return [
                Say(f"You have {len(refs)} upcoming bookings."),
                Say(f"The next one is your {first.service} on {first.spoken}."),
                *self._ask("anything_else"),
            ]
        state.bookings = refs
        return self._ask("which_booking")

    def _someone_elses(self, views: Sequence[BookingView], refs: Sequence[BookingRef]) -> bool:
        """The bookings under the calling number are someone else's: none is under the name
        the caller gave, and none fits what they said of theirs."""
        name = self.state.slots.name
        if not name or self.state.task not in ("reschedule", "cancel"):
            return False
        given = name.split()[0].lower()
        for view in views:
            first = (view.customer_name.split() or [""])[0].lower()
            if first and (first.startswith(given) or given.startswith(first)):
                return False
        clues = self.state.clues
        said = clues is not None and clues != Clues()
        return not (said and clues is not None and any(fits(r, clues) for r in refs))

    def _not_found(self, *, by_name: bool) -> list[Step]:
        """Nothing under the caller's number: by the name said already, else ask for it;
        nothing under the name either: a person offered (in other words the second time)."""
        state = self.state
        if not by_name:
            self._bump("phone_lookup")  # not again by the number this task
            if state.slots.name:
                # "It's under Jordan" was said with the request: look that up at once.
                return self._find(None, name=state.slots.name)
            return [
                Say("I can't find a booking for the number you're calling from."),
                *self._ask("lookup_name"),
            ]
        state.resume = None
        if self._bump("name_lookup") > 1:
            line = "I still can't find a booking under that name, so I can't change it from here."
            return [Say(line), *self._ask("new_or_team")]
        either = " either" if state.attempts.get("phone_lookup") else ""
        # Both ways on, once: a new booking, or a person to find the one they have.
        state.awaiting = "new_or_team"
        return [
            Say(f"I can't find a booking under that name{either}."),
            Say(
                "I can make you a new booking, or have someone from the team look into it."
                " Which would you prefer?"
            ),
        ]

    def _narrowed(
        self, refs: Sequence[BookingRef], answer: Understanding | None = None
    ) -> list[BookingRef]:
        """The bookings among ``refs`` that fit what the caller said of the one they mean:
        the answer to "which one?" first (a day, a weekday, a time, a service, "the second
        one"), else what they said with the request."""
        if answer is not None:
            fitting = narrow(refs, self._clues_of(answer))
            if len(fitting) < len(refs):
                return fitting
            if answer.pick is not None and -len(refs) <= answer.pick < len(refs):
                return [refs[answer.pick]]
        clues = self.state.clues
        return narrow(refs, clues) if clues is not None else list(refs)

    def _with_target(self, ref: BookingRef) -> list[Step]:
        state = self.state
        state.target = ref
        state.bookings = []
        if state.task == "lookup":
            state.finish_task()
            return [
                Say(f"You're booked for {with_article(ref.service)} on {ref.spoken}."),
                *self._ask("anything_else"),
            ]
        if state.task == "cancel":
            return [Say(f"I see your {ref.service} on {ref.spoken}."), *self._ask("confirm_cancel")]
        slots = state.slots
        slots.service = ref.service
        if slots.day == ref.start.date() and slots.at in (None, ref.start.time()):
            # "Move my Thursday appointment": Thursday is where it is, not where it goes.
            slots.day, slots.at = None, None
            if slots.part == part_of(ref.start.time()):
                slots.part = None
            slots.clear_time()
        # "Next week, same day and time", "an hour later", "to 2 o'clock": from its own.
        settle(slots, ref.start)
        if slots.day == ref.start.date() and slots.at == ref.start.time():
            slots.day, slots.at = None, None
            slots.clear_time()
        seen = Say(f"I see your {ref.service} on {ref.spoken}.")
        if slots.unsure and slots.day is None and not slots.earliest:
            # Only "I can't make it" said: the caller may want it moved, or gone.
            slots.unsure = False
            return [seen, Say(_MOVE_OR_CANCEL), *self._ask("day", say=False)]
        return [seen, *self._advance()]

    def _cancel_instead(self, u: Understanding) -> list[Step] | None:
        """ "Just cancel it" while the booking found is being moved: that one, cancelled
        after a yes (``None`` when another booking is named)."""
        state = self.state
        target = state.target
        if state.task != "reschedule" or target is None or not _names(u, target):
            return None
        state.finish_task()
        state.task, state.target = "cancel", target
        ask = f"Okay. Shall I cancel your {target.service} on {target.spoken}?"
        return [Say(ask), *self._ask("confirm_cancel", say=False)]

    def _after_cancel(self, outcome: ToolOutcome) -> list[Step]:
        state = self.state
        result = result_of(outcome, Cancelled)
        status = result.status
        if status is ToolStatus.SUPERSEDED:
            return []
        target = state.target
        if status is ToolStatus.CANCELLED and target is not None:
            state.finish_task()
            state.slots.service = target.service
            return [
                Say(f"I've cancelled your {target.service} on {target.spoken}."),
                Say("Would you like to book another time?"),
                *self._ask("book_offer", say=False),
            ]
        state.finish_task()
        if status is ToolStatus.NOT_FOUND:
            return [
                Say("I can't find that booking any more, so it may already be cancelled."),
                *self._ask("anything_else"),
            ]
        return self._tool_refused("cancellation", result)

    # --- answers to its questions ------------------------------------------------------

    def _on_which_booking(self, u: Understanding) -> list[Step] | None:
        """Which of the bookings read out: told by what the answer says of it; asked again
        (then a person offered) when it tells none of them apart."""
        state = self.state
        refs = state.bookings
        if not refs:
            return None
        if still_here(u) and not u.has_slot_value:
            return [Say(self._question("which_booking"))]
        fitting = self._narrowed(refs, u)
        if len(fitting) == 1:
            if state.task == "reschedule" and split_move(u.text) is not None:
                self._take_move(u)  # "the Thursday one, move it to Saturday at 2"
            return self._with_target(fitting[0])
        if u.intents - {"thanks", "greeting", "cancel", "reschedule"} or u.question or u.dismiss:
            return None
        if u.deny and not u.has_slot_value:
            state.finish_task()
            return [Say("Okay, I'll leave them as they are."), *self._ask("anything_else")]
        state.bookings = fitting
        return self._not_understood("Sorry, I didn't catch which one.")

    def _on_confirm_cancel(self, u: Understanding) -> list[Step] | None:
        state = self.state
        target = state.target
        if target is None:
            return None
        if still_here(u) and not u.deny:
            return [Say("Shall I cancel it?")]
        named = u.service is not None or bool(u.when.mentioned)
        if named and not _names(u, target) and not u.intents - {"cancel", "thanks"}:
            # "No, the colour": another of the caller's bookings.
            state.finish_task()
            state.task = "cancel"
            return self._find(u)
        if u.affirm or ("cancel" in u.intents and not u.deny):
            return [
                Call(
                    "cancel_appointment", {"booking_id": target.booking_id}, then=self._after_cancel
                )
            ]
        if u.deny:
            state.finish_task()
            return [Say("Okay, I'll leave it as it is."), *self._ask("anything_else")]
        if named and not u.intents:
            # "The beard trim": which one, not yet a yes to cancelling it.
            return [Say(f"Shall I cancel your {target.service} on {target.spoken}?")]
        return None

    def _on_lookup_name(self, u: Understanding) -> list[Step] | None:
        if u.name is None:
            asked = u.intents - {self.state.task, "thanks", "greeting"}
            if asked or u.has_slot_value or u.question or u.deny:
                return None
            # "Yes", "um": the name is still wanted, not another look by the number.
            return self._not_understood("Sorry, I didn't catch the name.")
        self.state.slots.name = u.name
        return self._find(u, name=u.name)

    def _on_new_or_team(self, u: Understanding) -> list[Step] | None:
        """The booking to move or cancel is nowhere, or the caller was let down: follow the
        caller, to a new booking, a person, another name to look under, or nothing."""
        state = self.state
        looking = state.task in ("reschedule", "cancel", "lookup")
        if u.name is not None and not u.new_booking and looking:
            state.slots.name = u.name
            return self._find(u, name=u.name)
        plain = not (u.deny or u.question or u.intents - {"book"})
        if u.new_booking or (u.has_slot_value and plain):
            # "A new one", "Friday at 2 then": a day or time said is for a new booking.
            return self._book_instead(u)
        if "human" in u.intents or _PERSON.search(u.text):
            why = "caller's booking could not be found" if looking else "caller complaint"
            return self._escalate(why, "medium" if looking else "high")
        if u.deny and not u.intents:
            state.finish_task()
            return [Say("No problem."), *self._ask("anything_else")]
        if u.affirm and not u.intents:
            return [Say("Sure. A new booking, or someone from the team?")]
        return None

    def _book_instead(self, u: Understanding) -> list[Step]:
        """A new booking instead of the one not found, with what was said for the move."""
        kept = self.state.slots.model_copy(deep=True)
        self._begin_booking()
        slots = self.state.slots
        slots.day, slots.days, slots.at, slots.part = kept.day, kept.days, kept.at, kept.part
        slots.service = kept.service if kept.service != "appointment" else None
        _, remarks = self._apply(u)
        return [Say("Sure, let's make a new booking."), *remarks, *self._advance()]
