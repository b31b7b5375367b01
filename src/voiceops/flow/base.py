"""What every part of the flow dialogue shares: the call, its state, and asking.

:class:`DialogueBase` holds one turn's view of the call (profile, caller clock, the
:class:`~voiceops.flow.state.FlowState` it mutates, the caller's name and number) and the
moves every part makes: asking a question and waiting for its answer, counting failed
attempts, offering a person, apologising for a tool that said no, saying goodbye. The parts
(``flow/booking.py``, ``flow/existing.py``, ``flow/callback.py``) extend it, and
:class:`~voiceops.flow.dialogue.Dialogue` joins them; the few hand-overs from one part to
another are declared here and implemented by the part that owns them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from voiceops.core.actions import EndCall
from voiceops.core.ports import ToolStatus
from voiceops.flow import wording
from voiceops.flow.again import asked_again, offers_person
from voiceops.flow.steps import Call, Finish, Say, Step

if TYPE_CHECKING:
    from voiceops.core.caller import CallerClock
    from voiceops.core.events import EscalationTrigger
    from voiceops.core.ports import ToolOutcome, ToolResult
    from voiceops.core.profile import AgentProfile
    from voiceops.flow.state import Awaiting, FlowState, Priority
    from voiceops.flow.understand import Understanding
    from voiceops.tools.results import BookingView, SlotView

log = logging.getLogger("voiceops.flow")

MAX_FAILED_ATTEMPTS = 2
"""Failed answers to the same question before a person is offered."""
RECAP_EVERY = 3
"""While a booking's details are collected, what the agent has so far is said back at
least every third agent turn ("So that's a colour on Friday at 10 AM, for Dana.")."""


class DialogueBase:
    """One turn's decisions over a call's :class:`FlowState` (mutated in place)."""

    def __init__(
        self,
        profile: AgentProfile,
        clock: CallerClock,
        state: FlowState,
        *,
        caller_name: str | None = None,
        caller_phone: str | None = None,
        escalation: EscalationTrigger | None = None,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger] = log,
    ) -> None:
        self.profile = profile
        self.clock = clock
        self.state = state
        self.caller_name = caller_name
        self.caller_phone = caller_phone
        self.escalation = escalation
        self._log = logger
        self.today = clock.now_local.date()
        self.asked_before = state.awaiting
        """The question the agent's last turn left open (this turn answers it)."""
        self._asked_now: set[str] = set()
        self.closed_said = False
        self.corrected = False
        self.switched: str | None = None
        """The service this turn switched the booking to ("a haircut, not a blow dry")."""
        self.leaving = False
        """The caller agreed and said goodbye in one ("ok great, thanks, bye"): what is
        committed is said, then the call ends."""
        self.offer_for: str | None = None
        """The service the times read out this turn are for, said with them as a recap."""
        """This turn changed a time the tools had already agreed to (a correction)."""
        """This turn already said the day asked about is a closed one (from the hours)."""

    # --- hand-overs between the parts, each implemented by the part named -------------

    def _general(self, u: Understanding) -> list[Step]:
        """The reading of a turn no question explains (``flow/dialogue.py``)."""
        raise NotImplementedError

    def _advance(self) -> list[Step]:
        """The next step of a booking, or of moving one (``flow/booking.py``)."""
        raise NotImplementedError

    def _find(self, u: Understanding | None, *, name: str | None = None) -> list[Step]:
        """Look up the caller's bookings (``flow/existing.py``)."""
        raise NotImplementedError

    def _escalate(self, reason: str, priority: Priority) -> list[Step]:
        """Hand the caller to a person, or take a callback (``flow/callback.py``)."""
        raise NotImplementedError

    def _info(self, u: Understanding, *, follow_up: bool) -> list[Step]:
        """Answers to the questions in an utterance (``flow/answers.py``)."""
        raise NotImplementedError

    # --- asking -------------------------------------------------------------------------

    def _ask(self, awaiting: Awaiting, *, other: bool = False, say: bool = True) -> list[Step]:
        """Wait for ``awaiting`` next, saying its question unless ``say`` is False."""
        self.state.awaiting = awaiting
        if say and awaiting in wording.REWORDED:
            asked = self.state.asked.get(awaiting, 0)
            self.state.asked[awaiting] = asked + 1
            variants = wording.REWORDED[awaiting]
            return [Say(variants[asked % len(variants)])]
        return [Say(self._question(awaiting, other=other))] if say else []

    def _question(self, awaiting: Awaiting | None, *, other: bool = False) -> str:
        state = self.state
        again = self._in_a_row(awaiting) if awaiting else None
        if again is not None:
            return again
        fixed = wording.FIXED_QUESTIONS.get(awaiting) if awaiting else None
        if fixed is not None:
            return fixed
        if awaiting in wording.REWORDED:
            return wording.REWORDED[awaiting][0]
        match awaiting:
            case "service":
                if state.slots.suggested:
                    service = wording.with_article(state.slots.suggested)
                    return f"It sounds like {service} — shall I look for one?"
                # The list, then the short question, then the list again: a caller who
                # did not take the short one hears the choices once more.
                listed = state.asked.get("service", 0)
                state.asked["service"] = listed + 1
                if listed % 2:
                    return "Which service would you like?"
                return wording.which_service(self.profile)
            case "day":
                return wording.which_day(state, other=other)
            case "offer":
                if not state.offers:
                    return wording.which_day(state, other=other)
                closing = "Would that work?" if len(state.offers) == 1 else "Which would suit you?"
                offers = wording.offers_sentence(state.offers, zones_differ=self.clock.zones_differ)
                if self.offer_for:
                    service = wording.with_article(self.offer_for)
                    offers = f"For {service}, {offers[:1].lower()}{offers[1:]}"
                return f"{offers} {closing}"
            case "confirm":
                self._recapped()
                if state.slots.start is None or state.slots.spoken is None:
                    # Picked up from another brain's read-back: the tools have not agreed
                    # to a time yet, so check before reading anything back.
                    return "Shall I go ahead and check that for you?"
                return wording.confirm_sentence(state)
            case "which_booking":
                return wording.which_booking(state.bookings)
            case "book_offer":
                if state.slots.service:
                    return f"Would you like to book {wording.with_article(state.slots.service)}?"
                return "Would you like to book an appointment?"
            case "callback_phone":
                draft = state.callback
                if self.caller_phone and draft is not None and not draft.caller_number_declined:
                    return "Is the number you're calling from the best one to reach you?"
                return "What's the best number to reach you?"
            case None:
                return "How can I help you today?"
        raise AssertionError(f"no question for {awaiting}")  # pragma: no cover

    def _in_a_row(self, awaiting: Awaiting) -> str | None:
        """Count the question asked in a row; past twice, its other words (``flow/again.py``)
        or, for a service the caller cannot name, a person offered."""
        state = self.state
        if awaiting in self._asked_now:
            return None  # counted once a turn
        self._asked_now.add(awaiting)
        if awaiting == self.asked_before and state.row_of == awaiting:
            state.row += 1
        else:
            state.row_of, state.row = awaiting, 1
        if offers_person(awaiting, state.row):
            state.resume, state.awaiting = awaiting, "human_offer"
            state.row_of = None
            return (
                "Sorry, I'm not sure which service you need. "
                + wording.FIXED_QUESTIONS["human_offer"]
            )
        return asked_again(awaiting, state.row, self.profile)

    def _nameless(self) -> list[Step]:
        """The caller won't give a name: ask once more, then book under their number."""
        state = self.state
        if state.attempts.get("no_name", 0) == 0:
            self._bump("no_name")
            state.awaiting = "name"
            return [Say("That's fine. Just a first name is enough, so we know who to expect.")]
        if self.caller_phone:
            state.slots.name, state.slots.by_phone = self.caller_phone, True
            state.attempts.pop("name", None)
            return [
                Say("No problem, I'll put it under the number you're calling from."),
                *self._advance(),
            ]
        state.slots.name = "Guest"
        return [Say("No problem, I'll book it without a name."), *self._advance()]

    def _recap_due(self) -> bool:
        state = self.state
        return state.task in ("book", "reschedule") and state.since_recap >= RECAP_EVERY

    def _recapped(self) -> None:
        """What the agent has so far was just said back (a read-back, a slot said free)."""
        self.state.since_recap = 0

    def _recap(self) -> list[Step]:
        """What the booking under way has so far, when it is due to be said back."""
        if not self._recap_due():
            return []
        so_far = wording.so_far(self.state)
        if not so_far:
            return []
        self._recapped()
        return [Say(f"So that's {so_far}.")]

    def _ask_missing(self, awaiting: Awaiting, *, other: bool = False) -> list[Step]:
        """Ask for a slot, or offer a person once it has failed too often; with what the
        agent has so far said back first when that is due."""
        steps = self._ask_slot(awaiting, other=other)
        if self.state.awaiting != awaiting:
            return steps  # not asked: a person offered, or booked without a name
        return [*self._recap(), *steps]

    def _ask_slot(self, awaiting: Awaiting, *, other: bool = False) -> list[Step]:
        if awaiting == "name" and self.state.attempts.get("name", 0) >= MAX_FAILED_ATTEMPTS:
            # Nobody needs a person to book without a name.
            return self._nameless()
        if self.state.attempts.get(awaiting, 0) >= MAX_FAILED_ATTEMPTS:
            self.state.awaiting = awaiting
            return self._offer_human()
        return self._ask(awaiting, other=other)

    def _bump(self, key: str) -> int:
        count = self.state.attempts.get(key, 0) + 1
        self.state.attempts[key] = count
        return count

    # --- failing, and leaving ----------------------------------------------------------

    def _not_understood(self, apology: str) -> list[Step]:
        state = self.state
        key = state.awaiting or "open"
        count = self._bump(key)
        if count >= MAX_FAILED_ATTEMPTS:
            if key == "human_offer":
                return self._escalate("caller could not be understood", "medium")
            return self._offer_human()
        return [Say(apology), *self._recap(), Say(self._question(state.awaiting))]

    def _offer_human(self) -> list[Step]:
        state = self.state
        if state.awaiting != "human_offer":
            state.resume = state.awaiting
        return [Say("I'm sorry, I'm having trouble with this."), *self._ask("human_offer")]

    def _tool_refused(
        self, what: str, result: ToolResult, *, ask: Awaiting | None = None
    ) -> list[Step]:
        """A tool said no (bad day, system away): apologise, then re-ask or offer a person."""
        status = result.status
        # Status only: tool errors may quote what the caller said, phone numbers included.
        self._log.info("flow: %s refused with status %s", what, status.value)
        if status in (ToolStatus.UNAVAILABLE, ToolStatus.ERROR):
            return [
                Say("Sorry, our booking system isn't answering right now."),
                *self._offer_human(),
            ]
        if ask == "day":
            self.state.slots.day = None
            self.state.slots.clear_time()
            self._bump("day")
            return [Say("Sorry, I can't book that day."), *self._ask_missing("day", other=True)]
        return [Say("Sorry, I couldn't complete that."), *self._offer_human()]

    def _goodbye(self, line: str | None = None) -> list[Step]:
        if line is None:
            line = f"Thanks for calling {self.profile.business_name}. Have a great day!"
        elif "Have a" not in line:
            line = f"{line} Have a great day!"
        self.state.awaiting = None

        def ended(outcome: ToolOutcome) -> list[Step]:
            action = outcome.action
            return [Finish(action if isinstance(action, EndCall) else EndCall(line))]

        return [Call("end_call", {"message": line}, then=ended)]

    # --- reading tool results -----------------------------------------------------------

    def _wall(self, view: SlotView | BookingView) -> datetime:
        """A view's start as the caller's wall time (naive), as the tools take it."""
        return view.start_local.astimezone(self.clock.zone).replace(tzinfo=None)
