"""The flow brain's dialogue policy, sans I/O: an utterance in, a list of steps out.

:class:`Dialogue` decides what to say and which tools to run for one turn. It never awaits
anything: it returns :data:`Step` values, and a tool call carries its continuation
(:attr:`Call.then`), which the driver (``flow/brain.py``) calls with the tool's outcome to
get the steps that follow. Tests drive it with lists in and out, outcomes made by hand.

The policy is a slot-filling booking dialogue with side trips: it fills service, day, time
and name over several turns in any order, takes corrections ("no, Thursday"), checks
availability before offering times, reads the details back before it books, offers the
nearest free slots when the asked one is taken, and moves or cancels existing bookings.
Prices, durations, hours and availability are only ever spoken from tool results; the
profile's own words (service names, FAQ answers) are the only other facts it says.
After two failed attempts at the same question it offers a person. What it is waiting for
lives in :class:`~voiceops.flow.state.FlowState` (``awaiting``), so every reply is read in
the light of the question it answers.

:class:`Dialogue` is the entry point and reads each turn; the parts of the policy live
beside it: ``flow/idle.py`` (turns outside a task), ``flow/answers.py`` (questions),
``flow/booking.py`` (booking and moving), ``flow/existing.py`` (finding and cancelling),
``flow/rebook.py`` (booking again what the caller had), ``flow/callback.py`` (transfers and
callbacks), over ``flow/base.py`` (what they share), ``flow/steps.py`` (the steps) and
``flow/wording.py`` (what is said).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from voiceops.agent.intent import asks_what_agent_is
from voiceops.agent.prompts import render_greeting
from voiceops.flow.asides import AsideSteps
from voiceops.flow.base import MAX_FAILED_ATTEMPTS
from voiceops.flow.booking import BookingSteps
from voiceops.flow.callback import CallbackSteps
from voiceops.flow.idle import IDLE, IdleSteps
from voiceops.flow.moving import keeps_task, says_move
from voiceops.flow.rebook import RebookSteps
from voiceops.flow.steps import Say, Step
from voiceops.flow.understand import Expectation, Understanding, slot_reply, understand
from voiceops.flow.when import utterance_tail
from voiceops.flow.wording import in_full

if TYPE_CHECKING:
    from voiceops.flow.state import Awaiting

_REMINDERS_BEFORE_HANGING_UP = 2
"""Reminders spoken into a silence; the next one ends the call."""
_SWITCH = re.compile(r"\b(?:instead|rather|change|switch|actually|make it|not a)\b")
"""A service named in a question mid-booking replaces the one booked only with these."""
_POLITE = frozenset({"thanks", "greeting"})
_SOCIAL_REPLIES = {
    "how_are_you": "I'm doing well, thanks for asking.",
    "weather": "It is, isn't it?",
}

_EXPECT: dict[Awaiting, Expectation] = {
    "time": "time",
    "offer": "time",
    "confirm": "read_back",
    "name": "name",
    "lookup_name": "name",
    "callback_name": "name",
    "callback_phone": "phone",
    "callback_reason": "free_text",
    "which_booking": "pick",
}
_AGENT_ASKED: tuple[tuple[re.Pattern[str], Awaiting], ...] = (
    (re.compile(r"\banything else\b"), "anything_else"),
    (
        re.compile(
            r"\b(?:shall|should|can) i (?:book|go ahead|confirm)|\bis that (?:right|correct)"
            r"|\bwant me to book\b"
        ),
        "confirm",
    ),
    (re.compile(r"\bname\b"), "name"),
    (
        re.compile(r"\b(?:which|what) (?:service|treatment)\b|\bwhat would you like to book\b"),
        "service",
    ),
    (re.compile(r"\b(?:what|which) (?:day|date)\b|\bwhen would\b|\bwhen works\b"), "day"),
    (
        re.compile(
            r"\b(?:what|which) time\b|\bwhich (?:one|would suit)\b|\bwould (?:that|any of "
            r"(?:those|these)) work\b"
        ),
        "time",
    ),
)
"""What an agent line was asking, for picking up a conversation another brain started."""


class Dialogue(IdleSteps, BookingSteps, AsideSteps, RebookSteps, CallbackSteps):
    """One turn's decisions over a call's :class:`~voiceops.flow.state.FlowState`."""

    # --- entry points -----------------------------------------------------------------

    def greet(self, *, already_greeted: bool) -> list[Step]:
        """The first words when the caller has said nothing yet."""
        self.state.greeted = True
        if already_greeted:
            return [Say("How can I help you today?")]
        return [Say(render_greeting(self.profile, self.caller_name))]

    def remind(self) -> list[Step]:
        """The caller has been silent: check in once, say we are here, then hang up."""
        state = self.state
        state.reminders += 1
        if state.reminders > _REMINDERS_BEFORE_HANGING_UP:
            return self._goodbye(
                f"I'll let you go for now. Thanks for calling {self.profile.business_name}."
            )
        if state.reminders > 1:
            return [Say("I'm still here whenever you're ready.")]
        return [Say("Are you still there?"), Say(self._question(state.awaiting))]

    def nudge(self) -> list[Step]:
        """A response is due but the caller said nothing new: repeat the open question."""
        return [Say(self._question(self.state.awaiting))]

    def absorb(self, text: str, agent_text: str | None) -> None:
        """Take in a caller utterance another brain answered (replay after a fallback):
        tasks and slot values only, no tools, no words. ``agent_text`` is the agent line
        the caller was answering."""
        asked = self.infer_awaiting(agent_text) if agent_text else None
        u = self._understand(text, asked or self.state.awaiting)
        if u.unintelligible or u.is_empty:
            return
        self._take_task(u)
        if self.state.task in ("book", "reschedule"):
            self._apply(u)
        elif u.name is not None:
            self.state.slots.name = u.name

    def settle(self) -> None:
        """Another brain completed the task (a booking, move, cancellation or callback)."""
        self.state.finish_task()
        self.state.callback = None
        self.state.awaiting = "anything_else"

    def respond(self, text: str, said: str | None = None) -> list[Step]:
        """Answer the caller's newest utterance; ``said`` is the agent's line before it."""
        state = self.state
        state.reminders = 0
        if state.task in ("book", "reschedule"):
            state.since_recap += 1
        u = self._understand(text, state.awaiting)
        if self.escalation is not None and state.task != "callback":
            return self._escalation_callback(u)
        if u.unintelligible:
            return self._not_understood("Sorry, I didn't catch that.")
        if u.trailing and not u.question and replace(u, intents=u.intents - {"greeting"}).is_empty:
            # "So I was uh": half a sentence is no failure; the rest is on its way.
            return [Say("Sure, take your time.")]
        if u.repeat and not (u.has_slot_value or u.affirm or u.deny or u.intents or u.faq):
            # "What?", "what times did you say?": the last words again, not a new answer.
            again = (in_full(said, state.last_said) or "").removeprefix("Of course. ")
            return [Say(f"Of course. {again}" if again else self._question(state.awaiting))]
        if u.social == "wrong_number":
            return self._goodbye("No problem at all. Have a great day!")
        robot = asks_what_agent_is(text)
        if robot:
            # The question about the agent is answered below, not as a question nothing answers.
            u = replace(u, unknown_question=False, off_topic=False, who_is_this=False)
        if u.who_is_this and state.task is None and not u.service and "book" not in u.intents:
            this = self._whom(u)
            return [Say(this), *self._ask("anything_else", say=False), Say("How can I help?")]
        if u.farewell or self._closes(u):
            if state.awaiting == "confirm" and u.affirm and not u.deny and state.slots.start:
                # "Ok great, thanks, bye" to the read-back: booked, then goodbye.
                self.leaving = True
                return self._commit()
            if state.awaiting == "confirm" and not u.deny and not u.farewell:
                # "That's it" to a read-back may be a yes: ask once before hanging up.
                if self._bump("leaving") == 1:
                    return [Say("Before you go, shall I book it?")]
            return self._goodbye()
        if u.billing and state.task != "callback":
            # A disputed charge or a refund is for the billing team, whatever else was said,
            # "I need someone to sort it out" included.
            asked = self._asked_for(text) if "human" in u.intents else ""
            why = asked if "billing" in asked else "billing: a charge or refund the caller raised"
            return self._escalate(why, "medium")
        if "human" in u.intents and state.task != "callback":
            return self._escalate(self._asked_for(text), "medium")
        let_down = self._let_down(u)
        if let_down:  # "nobody was there", "I got a text saying I don't have one": sorry
            return let_down
        honest = self._who_i_am() if robot else []
        if honest and replace(u, intents=u.intents - {"greeting"}).is_empty:
            # "Are you a robot?": the truth, then the question the caller was answering.
            return [*honest, Say(self._question(state.awaiting))]
        return [*honest, *self._answer(u)]

    def _answer(self, u: Understanding) -> list[Step]:
        """The turn's answer once nobody is to be called in: by what the agent is waiting
        for, else by the general reading."""
        state = self.state
        if u.dismiss and not u.has_slot_value and not u.intents:
            state.finish_task()
            state.callback = None
            return [Say("No problem."), *self._ask("anything_else")]
        offered = state.awaiting == "book_offer" and (u.when.has_date or u.when.at is not None)
        if u.follow_up and state.task is None and state.last_topic and not offered:
            # "What about Sunday?" after the hours: the same question for another day.
            u = self._continued(u, state.last_topic)
        social = _SOCIAL_REPLIES.get(u.social or "")
        if social is not None:
            rest = replace(u, social=None)
            asks = (
                rest.service is not None
                or rest.intents - {"greeting", "thanks"}
                or rest.faq
                or rest.not_offered
                or rest.unlisted
                or (state.task is not None and rest.has_slot_value)
            )
            if not asks:
                # "How are you today?" is not a booking for today.
                return [Say(social), Say(self._question(state.awaiting))]
            return [Say(social), *self._reply(rest)]
        return self._reply(u)

    def _reply(self, u: Understanding) -> list[Step]:
        state = self.state
        handler = _HANDLERS.get(state.awaiting) if state.awaiting else None
        if handler is not None:
            steps = handler(self, u)
            if steps is not None:
                return steps
        return self._general(u)

    @staticmethod
    def infer_awaiting(agent_text: str) -> Awaiting | None:
        """What an agent line asked for, judged from its last question."""
        lowered = utterance_tail(agent_text).lower()
        # A question starts where a sentence does (the lookbehind): a long line with no "?"
        # is then read once, not once from every position in it.
        questions = re.findall(r"(?<![^.!?])[^.!?]*\?", lowered)
        focus = questions[-1] if questions else lowered
        for pattern, awaiting in _AGENT_ASKED:
            if pattern.search(focus):
                return awaiting
        return None

    # --- reading ------------------------------------------------------------------------

    def _understand(self, text: str, awaiting: Awaiting | None) -> Understanding:
        expect = _EXPECT.get(awaiting, slot_reply(awaiting)) if awaiting else None
        state = self.state
        wanted = awaiting == "new_or_team" or (
            awaiting in ("offer", "time") and state.task == "book" and not state.slots.name
        )
        u = understand(text, self.profile, self.today, expect=expect, name_wanted=wanted)
        if u.stylist is not None:
            state.stylist = u.stylist
        elif u.name is not None and u.name.split()[0] == state.stylist:
            # "I really want Maria": the stylist asked for before, not the caller's name.
            u = replace(u, name=None, stylist=state.stylist, unknown_question=False)
        return u

    def _take_task(self, u: Understanding) -> bool:
        """Switch task on an explicit request; True when a new task began."""
        state = self.state
        for intent in ("cancel", "reschedule", "lookup"):
            if intent in u.intents and keeps_task(state, u, intent):
                # "Push it back an hour", "change my time to 4" while booking: the time
                # asked for moves, not a booking the caller already has.
                continue
            if intent in u.intents:
                state.finish_task()
                state.task = intent
                return True
        asks = u.intents & {"price", "duration"}
        wants_booking = "book" in u.intents or (
            # "A haircut tomorrow at 3": a booking; "how much is a colour, are you open
            # Sunday?": two questions.
            state.task is None
            and u.service is not None
            and (u.when.has_date or u.when.at)
            and not asks
        )
        lost = state.task in ("reschedule", "cancel", "lookup") and state.target is None
        if wants_booking and (state.task not in ("book", "reschedule") or (lost and u.new_booking)):
            self._begin_booking()
            return True
        return False

    # --- the general reading of a turn --------------------------------------------------

    def _general(self, u: Understanding) -> list[Step]:
        state = self.state
        cancelling = self._cancel_instead(u) if "cancel" in u.intents else None
        again = cancelling if cancelling is not None else self._again(u)
        if again is not None:  # "just cancel it", "I missed it, can I rebook?"
            return again
        began = self._take_task(u)
        if began and state.task in ("cancel", "reschedule", "lookup"):
            info = self._info(u, follow_up=False)
            if u.name is not None:
                state.slots.name = u.name  # "cancel my haircut, it's under Jordan"
            if state.task == "reschedule":
                self._take_move(u)
            return info + self._find(u)
        working = state.task in ("book", "reschedule")
        info = self._info(u, follow_up=not working)
        if working:
            return self._working(u, began=began, info=info)
        if state.task in ("cancel", "reschedule", "lookup") and state.target is None:
            return info + self._find(u)
        if info:
            return info
        return self._idle(u)

    def _working(self, u: Understanding, *, began: bool, info: list[Step]) -> list[Step]:
        """A turn of a booking or a move that no question of the agent's explains."""
        state = self.state
        asked = state.slots.service
        if (
            u.question
            and u.service is not None
            and asked is not None
            and u.service != asked
            and not _SWITCH.search(u.text)
            and "book" not in u.intents
        ):
            # "Is there someone who does beards as well?" mid-booking: an answer, not a switch
            # ("can I get a beard trim as well?" asks for one).
            info = [*info, *self._service_info(u.service, follow_up=False)]
            u = replace(u, service=None)
        changed, remarks = self._apply(u)
        if began or changed or info or remarks:
            return info + remarks + self._advance()
        if u.deny and not u.intents - _POLITE and state.awaiting in ("service", "day", "time"):
            # "No" to "what day would you like?": the caller doesn't want to book now.
            state.finish_task()
            return [Say("No problem."), *self._ask("anything_else")]
        if (u.affirm or u.intents & {"thanks", "greeting"}) and not u.deny:
            # "Okay", "great, thanks": nothing wrong, nothing new; the question stands.
            if state.awaiting is None:
                return self._advance()
            if state.awaiting == "confirm" and state.slots.spoken:
                return [Say("Shall I go ahead and book it?")]  # not the read-back again
            if state.awaiting == "day" and u.affirm and self._bump("yes_to_day") > 1:
                # "Yes" twice to "what day?": any day will do, so the earliest free times.
                state.slots.earliest = True
                return [Say("I'll find the earliest times for you."), *self._advance()]
            return [Say(self._question(state.awaiting))]
        if u.service is not None and u.service == state.slots.service:
            # "Highlights instead, or is that the same?": the service in hand, named again.
            same = f"That's our {u.service}, so nothing changes."
            return [Say(same), Say(self._question(state.awaiting))]
        if state.task == "reschedule" and state.target is not None and says_move(u.text):
            # "Move it, please" to "move it or cancel it?": what the move still needs.
            return [Say("Sure."), Say(self._question(state.awaiting))]
        return self._redirect(u)

    def _on_name(self, u: Understanding) -> list[Step] | None:
        if u.name is not None or self.state.task not in ("book", "reschedule"):
            return None
        if u.no_name or (u.deny and self.state.attempts.get("no_name")):
            return self._nameless()
        if u.has_slot_value or u.intents - {"thanks", "greeting"} or u.question or u.faq:
            return None
        if self._bump("name") >= MAX_FAILED_ATTEMPTS:
            self.state.attempts["no_name"] = 1  # asked twice already: no third time
            return self._nameless()
        return [Say("Sorry, I didn't catch the name."), *self._ask("name")]

    def _on_human_offer(self, u: Understanding) -> list[Step] | None:
        state = self.state
        if u.affirm:
            resume = state.resume
            state.resume = None
            topic = f"the {resume.replace('_', ' ')}" if resume else "their request"
            return self._escalate(f"caller needed help with {topic}", "medium")
        if u.deny and not u.has_slot_value:
            resume = state.resume
            state.resume = None
            state.attempts.pop("human_offer", None)
            if resume is None or resume in IDLE:
                state.finish_task()
                return [Say("No problem."), *self._ask("anything_else")]
            state.attempts.pop(resume, None)
            return [Say("Okay, let's try again."), *self._ask(resume)]
        if not u.is_empty and state.resume is not None:
            # The caller answered the earlier question instead: go back to it.
            state.awaiting, state.resume = state.resume, None
            handler = _HANDLERS.get(state.awaiting) if state.awaiting else None
            steps = handler(self, u) if handler is not None else None
            return steps if steps is not None else self._general(u)
        return None


_HANDLERS: dict[Awaiting, Callable[[Dialogue, Understanding], list[Step] | None]] = {
    "name": Dialogue._on_name,
    "callback_offer": Dialogue._on_callback_offer,
    "offer": Dialogue._on_offer,
    "confirm": Dialogue._on_confirm,
    "change": Dialogue._on_change,
    "which_booking": Dialogue._on_which_booking,
    "confirm_cancel": Dialogue._on_confirm_cancel,
    "lookup_name": Dialogue._on_lookup_name,
    "new_or_team": Dialogue._on_new_or_team,
    "info_service": Dialogue._on_info_service,
    "book_offer": Dialogue._on_book_offer,
    "human_offer": Dialogue._on_human_offer,
    "callback_name": Dialogue._on_callback,
    "callback_phone": Dialogue._on_callback,
    "callback_reason": Dialogue._on_callback,
    "anything_else": Dialogue._on_anything_else,
}
"""How to read a reply, by what the agent is waiting for; the rest read it generally."""
