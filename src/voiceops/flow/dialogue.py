"""The flow brain's dialogue policy, sans I/O: an utterance in, a list of steps out.

:class:`Dialogue` decides what to say and which tools to run for one turn. It never awaits
anything: it returns :data:`Step` values, and a tool call carries its continuation
(:attr:`Call.then`), which the driver (``flow/brain.py``) calls with the tool's
:class:`~voiceops.core.ports.ToolOutcome` to get the steps that follow. Tests drive it with
lists in and lists out, and fabricate outcomes without a toolbox.

The policy is a slot-filling booking dialogue with side trips: it fills service, day, time
and name over several turns in any order, takes corrections ("no, Thursday"), checks
availability before offering times, reads the details back before it books, offers the
nearest free slots when the asked one is taken, and moves or cancels existing bookings.
Prices, durations, hours and availability are only ever spoken from tool results; the
profile's own words (service names, FAQ answers) are the only other facts it says.
After two failed attempts at the same question it offers a person. What it is waiting for
lives in :class:`~voiceops.flow.state.FlowState` (``awaiting``), so every reply is read in
the light of the question it answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from voiceops.agent.prompts import render_greeting
from voiceops.core.actions import EndCall, Transfer
from voiceops.core.events import EscalationTrigger
from voiceops.core.ports import ToolResult, ToolStatus
from voiceops.flow.state import Awaiting, BookingRef, CallbackDraft, FlowState, Offer, Priority
from voiceops.flow.understand import Expectation, Understanding, understand
from voiceops.flow.when import PART_PIVOT, part_of
from voiceops.speech.words import ordinal
from voiceops.tools.handoff import callback_line, why_no_transfer
from voiceops.tools.results import (
    Availability,
    BookingChange,
    BookingView,
    CallbackRecorded,
    Cancelled,
    Escalated,
    Found,
    OpeningHours,
    ServiceInfo,
    SlotView,
    ToolFailure,
)
from voiceops.tools.timefmt import spoken_clock, spoken_date, weekday_name

if TYPE_CHECKING:
    from voiceops.core.caller import CallerClock
    from voiceops.core.ports import ToolOutcome
    from voiceops.core.profile import AgentProfile

log = logging.getLogger("voiceops.flow")

MAX_FAILED_ATTEMPTS = 2
"""Failed answers to the same question before a person is offered."""
_SERVICES_LISTED = 4
"""Up to this many services are named when asking which one; more would be a list."""
_TOPIC_MAX = 200
_SHORT_NO_WORDS = 3

_IDLE: tuple[Awaiting | None, ...] = (None, "anything_else")
_EXPECT: dict[Awaiting, Expectation] = {
    "time": "time",
    "offer": "time",
    "name": "name",
    "lookup_name": "name",
    "callback_name": "name",
    "callback_phone": "phone",
    "callback_reason": "free_text",
    "which_booking": "pick",
}
_TOPIC = re.compile(r"\b(?:about|regarding|concerning|because)\s+(?P<topic>.+)$")
_CHANGE_DAY = re.compile(r"\b(?:day|date)\b")
_CHANGE_TIME = re.compile(r"\btime\b")
_CHANGE_NAME = re.compile(r"\bname\b")
_CHANGE_SERVICE = re.compile(r"\bservice\b")
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
_R = TypeVar("_R", bound=ToolResult)


# --------------------------------------------------------------------------------------
# steps


@dataclass(frozen=True, slots=True)
class Say:
    """Speak ``text`` (one or two short sentences)."""

    text: str


@dataclass(frozen=True, slots=True)
class Call:
    """Run tool ``name`` with ``arguments``; ``then`` maps its outcome to the next steps."""

    name: str
    arguments: dict[str, Any]
    then: Callable[[ToolOutcome], list[Step]]


@dataclass(frozen=True, slots=True)
class Finish:
    """End the turn with a terminal action (transfer or hang-up)."""

    action: Transfer | EndCall


Step = Say | Call | Finish


# --------------------------------------------------------------------------------------
# wording helpers


def _phone_refused(result: CallbackRecorded | ToolFailure) -> bool:
    """The callback was refused for its number (missing, or not a phone number)."""
    if isinstance(result, ToolFailure):
        return "phone" in result.arguments
    return result.phone_refused


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


def result_of(outcome: ToolOutcome, kind: type[_R]) -> _R | ToolFailure:
    """The outcome's result when it is a ``kind`` or a failure. Anything else (no tool box
    of ours answers so) counts as a failed tool, and is never read."""
    result = outcome.result
    if isinstance(result, (kind, ToolFailure)):
        return result
    return ToolFailure(
        status=ToolStatus.ERROR, error=f"{type(result).__name__} is not a {kind.__name__}"
    )


# --------------------------------------------------------------------------------------
# the policy


class Dialogue:
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
        self._handlers: dict[Awaiting, Callable[[Understanding], list[Step] | None]] = {
            "offer": self._on_offer,
            "confirm": self._on_confirm,
            "change": self._on_change,
            "which_booking": self._on_which_booking,
            "confirm_cancel": self._on_confirm_cancel,
            "lookup_name": self._on_lookup_name,
            "info_service": self._on_info_service,
            "book_offer": self._on_book_offer,
            "human_offer": self._on_human_offer,
            "callback_name": self._on_callback,
            "callback_phone": self._on_callback,
            "callback_reason": self._on_callback,
            "anything_else": self._on_anything_else,
        }

    # --- entry points -----------------------------------------------------------------

    def greet(self, *, already_greeted: bool) -> list[Step]:
        """The first words when the caller has said nothing yet."""
        self.state.greeted = True
        if already_greeted:
            return [Say("How can I help you today?")]
        return [Say(render_greeting(self.profile, self.caller_name))]

    def remind(self) -> list[Step]:
        """The caller has been silent: check in once, then just say we are here."""
        state = self.state
        state.reminders += 1
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

    def respond(self, text: str) -> list[Step]:
        """Answer the caller's newest utterance."""
        state = self.state
        state.reminders = 0
        u = self._understand(text, state.awaiting)
        if self.escalation is not None and state.task != "callback":
            return self._escalation_callback(u)
        if u.unintelligible:
            return self._not_understood("Sorry, I didn't catch that.")
        if u.farewell or (u.closing and state.awaiting in _IDLE and not u.intents - {"thanks"}):
            return self._goodbye()
        if "human" in u.intents and state.task != "callback":
            return self._escalate("caller asked for a person", "medium")
        if u.dismiss and not u.has_slot_value and not u.intents:
            state.finish_task()
            state.callback = None
            return [Say("No problem."), *self._ask("anything_else")]
        if u.follow_up and state.task is None and state.last_topic and not u.intents:
            # "What about Sunday?" after the hours: the same question for another day.
            u = replace(u, intents=frozenset({state.last_topic}))
        handler = self._handlers.get(state.awaiting) if state.awaiting else None
        if handler is not None:
            steps = handler(u)
            if steps is not None:
                return steps
        return self._general(u)

    @staticmethod
    def infer_awaiting(agent_text: str) -> Awaiting | None:
        """What an agent line asked for, judged from its last question."""
        lowered = agent_text.lower()
        questions = re.findall(r"[^.!?]*\?", lowered)
        focus = questions[-1] if questions else lowered
        for pattern, awaiting in _AGENT_ASKED:
            if pattern.search(focus):
                return awaiting
        return None

    # --- reading ------------------------------------------------------------------------

    def _understand(self, text: str, awaiting: Awaiting | None) -> Understanding:
        expect = _EXPECT.get(awaiting) if awaiting else None
        return understand(text, self.profile, self.today, expect=expect)

    def _take_task(self, u: Understanding) -> bool:
        """Switch task on an explicit request; True when a new task began."""
        state = self.state
        for intent in ("cancel", "reschedule", "lookup"):
            if intent in u.intents:
                state.finish_task()
                state.task = intent
                return True
        wants_booking = "book" in u.intents or (
            state.task is None and u.service is not None and (u.when.has_date or u.when.at)
        )
        if wants_booking and state.task not in ("book", "reschedule"):
            self._begin_booking()
            return True
        return False

    def _begin_booking(self) -> None:
        state = self.state
        state.finish_task()
        state.task = "book"
        if state.slots.name is None and self.caller_name:
            state.slots.name = self.caller_name

    def _apply(self, u: Understanding) -> tuple[bool, list[Step]]:
        """Put the utterance's values into the slots; returns (changed, remarks to say)."""
        state = self.state
        slots = state.slots
        remarks: list[Step] = []
        changed = False
        if u.service and state.task == "book" and u.service != slots.service:
            slots.service = u.service
            slots.clear_time()
            state.attempts.pop("service", None)
            changed = True
        when = u.when
        if when.rejected_day is not None and when.rejected_day == slots.day and when.day is None:
            slots.day = None
            slots.clear_time()
            remarks.append(Say(f"Okay, not {weekday_name(when.rejected_day)}."))
            changed = True
        if when.rejected_time is not None and when.rejected_time == slots.at and when.at is None:
            slots.at = None
            slots.clear_time()
            changed = True
        if when.past:
            slots.day = None
            slots.clear_time()
            remarks.append(Say("That day has already passed."))
            self._bump("day")
            changed = True
        if when.earliest and not slots.earliest:
            slots.earliest, slots.day, slots.days = True, None, 1
            slots.clear_time()
            changed = True
        if when.day is not None and (when.day, when.days) != (slots.day, slots.days):
            # Attempts at the day are cleared only once the tools accept it.
            slots.day, slots.days, slots.earliest = when.day, when.days, False
            slots.clear_time()
            changed = True
        if when.at is not None and when.at != slots.at:
            slots.at, slots.part = when.at, when.part
            slots.clear_time()
            state.attempts.pop("time", None)
            changed = True
        elif when.at is None and when.part is not None and when.part != slots.part:
            slots.part = when.part
            if slots.at is not None and part_of(slots.at) != when.part:
                slots.at = None
            slots.clear_time()
            changed = True
        if u.name is not None and u.name != slots.name:
            slots.name = u.name
            state.attempts.pop("name", None)
            changed = True
        if changed:
            state.offers = []
        return changed, remarks

    def _bump(self, key: str) -> int:
        count = self.state.attempts.get(key, 0) + 1
        self.state.attempts[key] = count
        return count

    # --- the general reading of a turn --------------------------------------------------

    def _general(self, u: Understanding) -> list[Step]:
        state = self.state
        began = self._take_task(u)
        if began and state.task in ("cancel", "reschedule", "lookup"):
            info = self._info(u, follow_up=False)
            if state.task == "reschedule":
                self._apply(u)
            return info + self._find(u)
        working = state.task in ("book", "reschedule")
        info = self._info(u, follow_up=not working)
        if working:
            changed, remarks = self._apply(u)
            if began or changed or info or remarks:
                return info + remarks + self._advance()
            if (u.affirm or u.intents & {"thanks", "greeting"}) and not u.deny:
                # "Okay", "great, thanks": nothing wrong, nothing new; the question stands.
                if state.awaiting is None:
                    return self._advance()
                return [Say(self._question(state.awaiting))]
            return self._not_understood(self._off_topic())
        if state.task in ("cancel", "reschedule", "lookup") and state.target is None:
            return info + self._find(u)
        if info:
            return info
        if u.service is not None and u.question:
            # "Do you do colour?": what it is and costs, then an offer to book it.
            return self._service_info(u.service, follow_up=True)
        if u.service is not None or u.when.has_date or u.when.at is not None:
            # "A haircut, please" or "tomorrow at 3": the caller wants to come in.
            self._begin_booking()
            self._apply(u)
            return self._advance()
        if "ask" in u.intents:
            state.awaiting = None
            return [Say("Sure, go ahead.")]
        if "thanks" in u.intents:
            return [Say("You're welcome."), *self._ask("anything_else")]
        if "greeting" in u.intents or (u.affirm and state.awaiting in _IDLE):
            state.awaiting = None
            return [
                Say(
                    "Hello! What can I help you with today?"
                    if "greeting" in u.intents
                    else "Sure, what can I help you with?"
                )
            ]
        if u.deny and state.awaiting in _IDLE and len(u.text.split()) <= _SHORT_NO_WORDS:
            return self._goodbye()
        return self._not_understood(self._off_topic())

    def _off_topic(self) -> str:
        return (
            f"Sorry, I can only help with appointments and questions about "
            f"{self.profile.business_name}."
        )

    def _info(self, u: Understanding, *, follow_up: bool) -> list[Step]:
        """Answers to questions (prices, hours, FAQ, services) in the utterance, if any.

        With ``follow_up`` the answers end with a question (book one? anything else?);
        without, the caller's task goes on after them.
        """
        state = self.state
        steps: list[Step] = []
        offer_booking: str | None = None
        if u.intents & {"price", "duration"}:
            service = (
                u.service or state.slots.service or (state.target.service if state.target else None)
            )
            if service is None:
                return [Say(self._services_sentence()), *self._ask("info_service")]
            steps.extend(self._service_info(service, follow_up=False))
            offer_booking = service
        if "hours" in u.intents:
            args: dict[str, Any] = {}
            if u.when.day is not None:
                args["date"] = u.when.day.isoformat()
            steps.append(Call("get_opening_hours", args, then=self._after_hours))
        if u.faq:
            steps.append(Say(u.faq))
        if "services" in u.intents:
            steps.append(Say(self._services_sentence()))
            offer_booking = offer_booking or ""
        if not steps or not follow_up:
            return steps
        if "hours" in u.intents:
            state.last_topic = "hours"
        elif u.intents & {"price", "duration"}:
            state.last_topic = "price"
        if offer_booking is not None and state.task is None:
            state.slots.service = offer_booking or None
            return [*steps, *self._ask("book_offer")]
        return [*steps, *self._ask("anything_else")]

    def _service_info(self, service: str, *, follow_up: bool) -> list[Step]:
        def said(outcome: ToolOutcome) -> list[Step]:
            result = result_of(outcome, ServiceInfo)
            if isinstance(result, ServiceInfo) and result.status is ToolStatus.OK:
                spoken = result.services[0].spoken if result.services else ""
                if spoken:
                    return [Say(spoken.rstrip(".") + ".")]
            return [Say("Sorry, I can't look that up right now.")]

        steps: list[Step] = [Call("get_service_info", {"service": service}, then=said)]
        if follow_up:
            if self.state.task is None:
                self.state.slots.service = service
                self.state.last_topic = "price"
                steps.extend(self._ask("book_offer"))
            else:
                steps.extend(self._advance())
        return steps

    def _after_hours(self, outcome: ToolOutcome) -> list[Step]:
        result = result_of(outcome, OpeningHours)
        if isinstance(result, OpeningHours) and result.spoken:
            return [Say(result.spoken)]
        return [Say("Sorry, I can't look up our hours right now.")]

    def _services_sentence(self) -> str:
        names = [s.name for s in self.profile.services]
        return f"We offer {join_and(names)}."

    # --- moving a task forward ------------------------------------------------------------

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
            return [self._availability()]
        if task == "book" and not slots.name:
            return self._ask_missing("name")
        return self._ask("confirm")

    def _ask_missing(self, awaiting: Awaiting, *, other: bool = False) -> list[Step]:
        """Ask for a slot, or offer a person once it has failed too often."""
        if self.state.attempts.get(awaiting, 0) >= MAX_FAILED_ATTEMPTS:
            self.state.awaiting = awaiting
            return self._offer_human()
        return self._ask(awaiting, other=other)

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
            pivot = slots.at or (PART_PIVOT[slots.part] if slots.part else None)
            if pivot is not None:
                args["time"] = pivot.strftime("%H:%M")
        return Call("check_availability", args, then=self._after_availability)

    def _wall(self, view: SlotView | BookingView) -> datetime:
        """A view's start as the caller's wall time (naive), as the tools take it."""
        return view.start_local.astimezone(self.clock.zone).replace(tzinfo=None)

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
        requested = slots.day
        if requested is not None and slots.at is not None:
            wanted = datetime.combine(requested, slots.at)
            match = next((o for o in offers if o.start == wanted), None)
            if match is not None:
                return [Say("Good news, that time is free."), *self._choose(match)]
            return self._present(
                offers,
                f"Sorry, {spoken_clock(slots.at)} on {weekday_name(requested)} isn't available.",
            )
        if slots.part is not None:
            offers = [o for o in offers if part_of(o.start.time()) == slots.part] or offers
        head = None
        if requested is not None and offers:
            last = requested + timedelta(days=slots.days - 1)
            if all(not requested <= o.start.date() <= last for o in offers):
                # The tool widened the search itself: say why these are other days.
                head = (
                    f"I don't have anything free on {weekday_name(requested)}."
                    if slots.days == 1
                    else "I don't have anything free then."
                )
        return self._present(offers, head)

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
        return steps + self._ask("offer")

    def _offers_sentence(self, offers: Sequence[Offer]) -> str:
        if len(offers) == 1:
            return f"The nearest free time is {offers[0].spoken}."
        days = {o.start.date() for o in offers}
        suffix = " your time" if self.clock.zones_differ else ""
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

    def _choose(self, offer: Offer) -> list[Step]:
        state = self.state
        slots = state.slots
        slots.start, slots.spoken = offer.start, offer.spoken
        slots.day, slots.at, slots.earliest = offer.start.date(), offer.start.time(), False
        state.offers = []
        state.attempts.pop("offer", None)
        return self._advance()

    def _confirm_sentence(self) -> str:
        state = self.state
        slots = state.slots
        if state.task == "reschedule" and state.target is not None:
            return f"Just to confirm, move your {state.target.service} to {slots.spoken}?"
        return (
            f"Just to confirm, {with_article(slots.service or '')} on {slots.spoken}"
            f" for {slots.name}. Shall I book it?"
        )

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
                line = f"Done. Your {service} is now on {spoken}."
            else:
                line = f"You're all set. Your {service} is booked for {spoken}."
            state.finish_task()
            return [Say(line), *self._ask("anything_else")]
        state.slots.clear_time()
        if isinstance(result, BookingChange) and status is ToolStatus.SLOT_TAKEN:
            offers = self._offers_from(result.alternatives)
            return self._present(offers, "Sorry, that time has just been taken.")
        return self._tool_refused("booking", result)

    # --- existing bookings ----------------------------------------------------------------

    def _find(self, u: Understanding | None, *, name: str | None = None) -> list[Step]:
        args: dict[str, Any] = {}
        if name:
            args["customer_name"] = name
        elif not self.caller_phone:
            if not self.state.slots.name:
                return self._ask("lookup_name")
            args["customer_name"] = self.state.slots.name
        return [Call("find_booking", args, then=partial(self._after_find, u, bool(args)))]

    def _booking_ref(self, view: BookingView) -> BookingRef:
        return BookingRef(
            booking_id=view.booking_id,
            service=view.service or "appointment",
            start=self._wall(view),
            spoken=view.spoken,
        )

    def _after_find(
        self, u: Understanding | None, by_name: bool, outcome: ToolOutcome
    ) -> list[Step]:
        state = self.state
        result = result_of(outcome, Found)
        if result.status is ToolStatus.SUPERSEDED:
            return []
        if isinstance(result, ToolFailure) or result.status is not ToolStatus.OK:
            return self._tool_refused("lookup", result)
        now = self.clock.now_local.replace(tzinfo=None)
        refs = [ref for view in result.bookings if (ref := self._booking_ref(view)).start > now]
        if not refs:
            if not by_name:
                return [
                    Say("I can't find a booking for the number you're calling from."),
                    *self._ask("lookup_name"),
                ]
            state.resume = None
            return [
                Say("I can't find a booking under that name either."),
                *self._ask("human_offer"),
            ]
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
        chosen = self._match_booking(u, refs) if u is not None else None
        if chosen is not None:
            return self._with_target(chosen)
        state.bookings = refs
        return self._ask("which_booking")

    def _match_booking(
        self, u: Understanding | None, refs: Sequence[BookingRef]
    ) -> BookingRef | None:
        if u is None:
            return None
        if u.pick is not None and -len(refs) <= u.pick < len(refs):
            return refs[u.pick]
        for named in u.when.mentioned:
            on_day = [r for r in refs if r.start.date() == named]
            if len(on_day) == 1:
                slots = self.state.slots
                if slots.day == named:
                    # That date named the booking ("my Friday one"), not a new day for it.
                    slots.day = None
                    slots.at = None
                    slots.clear_time()
                return on_day[0]
        if u.service is not None:
            same = [r for r in refs if r.service == u.service]
            if len(same) == 1:
                return same[0]
        return None

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
            slots.clear_time()
        return [Say(f"I see your {ref.service} on {ref.spoken}."), *self._advance()]

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
                Say(f"Done. Your {target.service} on {target.spoken} is cancelled."),
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

    # --- handlers for what the agent is waiting for ---------------------------------------

    def _on_offer(self, u: Understanding) -> list[Step] | None:
        offers = self.state.offers
        if not offers:
            return None
        chosen: Offer | None = None
        if u.pick is not None and (u.when.day is None or u.when.ordinal is not None):
            if -len(offers) <= u.pick < len(offers):
                chosen = offers[u.pick]
        elif u.when.at is not None or u.when.day is not None:
            fitting = [
                o
                for o in offers
                if (u.when.at is None or o.start.time() == u.when.at)
                and (u.when.day is None or o.start.date() == u.when.day)
            ]
            if len(fitting) == 1:
                chosen = fitting[0]
        elif u.affirm and len(offers) == 1:
            chosen = offers[0]
        if chosen is not None:
            return self._choose(chosen)
        if u.deny and not u.has_slot_value:
            slots = self.state.slots
            self.state.offers = []
            slots.day, slots.at, slots.part, slots.earliest = None, None, None, False
            slots.clear_time()
            return [Say("No problem."), *self._ask("day", other=True)]
        if u.affirm and not u.has_slot_value:
            return [Say("Which one would you like?"), *self._ask("offer", say=False)]
        return None

    def _on_confirm(self, u: Understanding) -> list[Step] | None:
        changed, remarks = self._apply(u)
        if changed:
            return remarks + self._advance()
        if u.affirm:
            return self._commit()
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

    def _on_which_booking(self, u: Understanding) -> list[Step] | None:
        chosen = self._match_booking(u, self.state.bookings)
        return self._with_target(chosen) if chosen is not None else None

    def _on_confirm_cancel(self, u: Understanding) -> list[Step] | None:
        target = self.state.target
        if target is None:
            return None
        if u.affirm:
            return [
                Call(
                    "cancel_appointment", {"booking_id": target.booking_id}, then=self._after_cancel
                )
            ]
        if u.deny:
            self.state.finish_task()
            return [Say("Okay, I'll leave it as it is."), *self._ask("anything_else")]
        return None

    def _on_lookup_name(self, u: Understanding) -> list[Step] | None:
        if u.name is None:
            return None
        self.state.slots.name = u.name
        return self._find(u, name=u.name)

    def _on_info_service(self, u: Understanding) -> list[Step] | None:
        if u.service is None:
            return None
        self.state.attempts.pop("info_service", None)
        return self._service_info(u.service, follow_up=True)

    def _on_book_offer(self, u: Understanding) -> list[Step] | None:
        service = self.state.slots.service
        if u.affirm or "book" in u.intents:
            self._begin_booking()
            self.state.slots.service = u.service or service
            self._apply(u)
            return self._advance()
        if u.deny and not u.has_slot_value:
            self.state.slots.service = None
            return [Say("No problem."), *self._ask("anything_else")]
        return None

    def _on_anything_else(self, u: Understanding) -> list[Step] | None:
        # A short "no" closes the call; "no, one more question" does not.
        short = len(u.text.split()) <= _SHORT_NO_WORDS
        if u.deny and short and not u.intents and not u.has_slot_value and not u.faq:
            return self._goodbye()
        return None

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
            if resume is None or resume in _IDLE:
                state.finish_task()
                return [Say("No problem."), *self._ask("anything_else")]
            state.attempts.pop(resume, None)
            return [Say("Okay, let's try again."), *self._ask(resume)]
        if not u.is_empty and state.resume is not None:
            # The caller answered the earlier question instead: go back to it.
            state.awaiting, state.resume = state.resume, None
            handler = self._handlers.get(state.awaiting) if state.awaiting else None
            steps = handler(u) if handler is not None else None
            return steps if steps is not None else self._general(u)
        return None

    # --- people: transfers and callbacks ---------------------------------------------------

    def _escalate(self, reason: str, priority: Priority) -> list[Step]:
        return [
            Call(
                "escalate",
                {"reason": reason, "priority": priority},
                then=partial(self._after_escalate, reason, priority),
            )
        ]

    def _after_escalate(self, reason: str, priority: Priority, outcome: ToolOutcome) -> list[Step]:
        if isinstance(outcome.action, Transfer):
            self.state.awaiting = None
            return [Finish(outcome.action)]
        result = result_of(outcome, Escalated)
        if result.status is ToolStatus.SUPERSEDED:
            return []
        why = result.why if isinstance(result, Escalated) and result.why else "unavailable"
        return self._start_callback(reason, priority, why, None)

    def _escalation_callback(self, u: Understanding) -> list[Step]:
        trigger = self.escalation
        assert trigger is not None
        if self.state.callback_recorded:
            return [
                Say("I've passed your details to the team, and someone will call you back."),
                *self._ask("anything_else"),
            ]
        why = why_no_transfer(self.profile, self.clock, trigger.reason) or "unavailable"
        return self._start_callback(trigger.reason, trigger.priority, why, u)

    def _start_callback(
        self, reason: str, priority: Priority, why: str, u: Understanding | None
    ) -> list[Step]:
        state = self.state
        state.finish_task()
        state.task = "callback"
        state.callback = CallbackDraft(reason=reason, priority=priority, name=state.slots.name)
        state.awaiting = "callback_name"
        if u is not None:
            self._fill_callback(u)
        # The callback line asks for name, number and topic at once; wait for the first
        # one still missing without asking again.
        return [Say(callback_line(self.profile, self.clock, why)), *self._callback_next(quiet=True)]

    def _fill_callback(self, u: Understanding) -> bool:
        """Take name, number and topic from ``u``; True when anything was taken."""
        draft = self.state.callback
        assert draft is not None
        awaiting = self.state.awaiting
        took = False
        if u.name is not None:
            draft.name, took = u.name, True
        if u.phone is not None:
            draft.phone, draft.use_caller_number, took = u.phone, False, True
        elif u.caller_number and self.caller_phone:
            draft.use_caller_number, took = True, True
        elif awaiting == "callback_phone" and self.caller_phone and not draft.phone:
            if u.affirm:
                draft.use_caller_number, took = True, True
            elif u.deny:
                draft.caller_number_declined, took = True, True
        topic = _TOPIC.search(u.text)
        if topic is not None:
            draft.topic, took = topic.group("topic")[:_TOPIC_MAX], True
        elif awaiting == "callback_reason" and u.text and not took:
            draft.topic, took = u.text[:_TOPIC_MAX], True
        return took

    def _on_callback(self, u: Understanding) -> list[Step]:
        state = self.state
        draft = state.callback
        if draft is None:
            state.finish_task()
            return self._ask("anything_else")
        awaiting = state.awaiting
        if u.unintelligible or not self._fill_callback(u):
            if awaiting is not None and self._bump(awaiting) >= MAX_FAILED_ATTEMPTS:
                # Nobody can be put through (that is why we are here): take what we have.
                return self._callback_next(give_up=True)
            apology = "Sorry, I didn't catch that."
            return [Say(apology), *self._callback_next()]
        return self._callback_next()

    def _callback_next(self, *, give_up: bool = False, quiet: bool = False) -> list[Step]:
        """Ask for the first missing detail, or record the request when all are in."""
        state = self.state
        draft = state.callback
        assert draft is not None
        say = not quiet
        if not draft.name and not give_up:
            return self._ask("callback_name", say=say)
        has_number = bool(draft.phone) or (draft.use_caller_number and self.caller_phone)
        if not has_number:
            if give_up and self.caller_phone:
                draft.use_caller_number = True
            elif give_up:
                state.finish_task()
                state.callback = None
                return [
                    Say("I'm sorry, I couldn't take your details."),
                    Say("Please call us back during opening hours."),
                    *self._ask("anything_else", say=False),
                ]
            else:
                return self._ask("callback_phone", say=say)
        if not draft.topic and not give_up:
            return self._ask("callback_reason", say=say)
        args: dict[str, Any] = {
            "name": draft.name or "unknown caller",
            "reason": f"{draft.reason}: {draft.topic}" if draft.topic else draft.reason,
            "priority": draft.priority,
        }
        if draft.phone and not draft.use_caller_number:
            args["phone"] = draft.phone
        return [Call("request_callback", args, then=self._after_callback)]

    def _after_callback(self, outcome: ToolOutcome) -> list[Step]:
        state = self.state
        result = result_of(outcome, CallbackRecorded)
        status = result.status
        if status is ToolStatus.SUPERSEDED:
            return []
        draft = state.callback
        if status is ToolStatus.RECORDED:
            name = draft.name if draft is not None and draft.name else None
            state.callback_recorded = True
            state.callback = None
            state.finish_task()
            thanks = f"Thank you, {name}." if name else "Thank you."
            return [
                Say(f"{thanks} Someone from the team will call you back."),
                *self._ask("anything_else"),
            ]
        self._log.info("flow: callback refused with status %s", status.value)
        if draft is not None and _phone_refused(result):
            draft.phone, draft.use_caller_number, draft.caller_number_declined = None, False, True
            return [Say("Sorry, I couldn't use that number."), *self._ask("callback_phone")]
        state.callback = None
        state.finish_task()
        return [
            Say("Sorry, I couldn't record that just now."),
            Say("Please call us back during opening hours."),
            *self._ask("anything_else", say=False),
        ]

    # --- failing, and leaving ----------------------------------------------------------

    def _not_understood(self, apology: str) -> list[Step]:
        state = self.state
        key = state.awaiting or "open"
        count = self._bump(key)
        if count >= MAX_FAILED_ATTEMPTS:
            if key == "human_offer":
                return self._escalate("caller could not be understood", "medium")
            return self._offer_human()
        return [Say(apology), Say(self._question(state.awaiting))]

    def _offer_human(self) -> list[Step]:
        state = self.state
        if state.awaiting != "human_offer":
            state.resume = state.awaiting
        return [Say("I'm sorry, I'm having trouble with this."), *self._ask("human_offer")]

    def _goodbye(self) -> list[Step]:
        line = f"Thanks for calling {self.profile.business_name}. Have a great day!"
        self.state.awaiting = None

        def ended(outcome: ToolOutcome) -> list[Step]:
            action = outcome.action
            return [Finish(action if isinstance(action, EndCall) else EndCall(line))]

        return [Call("end_call", {"message": line}, then=ended)]

    # --- questions ------------------------------------------------------------------------

    def _ask(self, awaiting: Awaiting, *, other: bool = False, say: bool = True) -> list[Step]:
        """Wait for ``awaiting`` next, saying its question unless ``say`` is False."""
        self.state.awaiting = awaiting
        return [Say(self._question(awaiting, other=other))] if say else []

    def _question(self, awaiting: Awaiting | None, *, other: bool = False) -> str:
        state = self.state
        slots = state.slots
        match awaiting:
            case "service":
                names = [s.name for s in self.profile.services]
                if len(names) <= _SERVICES_LISTED:
                    return f"Which service would you like, {join_or(names)}?"
                return "Which service would you like?"
            case "day":
                if other:
                    return "Which other day would suit you?"
                if state.task == "reschedule":
                    return "What day would you like to move it to?"
                return "What day would you like to come in?"
            case "time":
                return "What time would suit you?"
            case "name":
                return "What name should I put the booking under?"
            case "offer":
                if not state.offers:
                    return self._question("day", other=other)
                closing = "Would that work?" if len(state.offers) == 1 else "Which would suit you?"
                return f"{self._offers_sentence(state.offers)} {closing}"
            case "confirm":
                if slots.start is None or slots.spoken is None:
                    # Picked up from another brain's read-back: the tools have not agreed
                    # to a time yet, so check before reading anything back.
                    return "Shall I go ahead and check that for you?"
                return self._confirm_sentence()
            case "change":
                return "What would you like to change, the day, the time or the name?"
            case "which_booking":
                return self._which_booking_question()
            case "confirm_cancel":
                return "Shall I cancel it?"
            case "lookup_name":
                return "What name is the booking under?"
            case "info_service":
                return "Which service would you like to know about?"
            case "book_offer":
                if slots.service:
                    return f"Would you like to book {with_article(slots.service)}?"
                return "Would you like to book an appointment?"
            case "human_offer":
                return "Would you like someone from the team to help you?"
            case "callback_name":
                return "Could I have your name, please?"
            case "callback_phone":
                draft = state.callback
                if self.caller_phone and draft is not None and not draft.caller_number_declined:
                    return "Is the number you're calling from the best one to reach you?"
                return "What's the best number to reach you?"
            case "callback_reason":
                return "And briefly, what is it about?"
            case "anything_else":
                return "Is there anything else I can help with?"
            case None:
                return "How can I help you today?"
        raise AssertionError(f"no question for {awaiting}")  # pragma: no cover

    def _which_booking_question(self) -> str:
        refs = self.state.bookings
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
