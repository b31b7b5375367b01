"""The dialogue policy without I/O: steps out, fabricated tool outcomes in.

These cover what the real tool box rarely does on demand: a database that is away, a turn
superseded mid-way, a result of the wrong kind, a transfer action.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.flow.support import FRONT_DESK, TUE_0900_NY, demo_profile
from voiceops.core.actions import EndCall, Transfer
from voiceops.core.caller import CallerClock
from voiceops.core.ports import ToolOutcome, ToolResult, ToolStatus
from voiceops.flow.dialogue import Dialogue
from voiceops.flow.state import Awaiting, CallbackDraft, FlowState, Slots, Task
from voiceops.flow.steps import Call, Finish, Say, Step
from voiceops.flow.wording import join_or
from voiceops.tools.results import (
    Availability,
    CallbackRecorded,
    Escalated,
    Found,
    ServiceInfo,
    ToolFailure,
)

PROFILE = demo_profile()
CLOCK = CallerClock(
    zone=ZoneInfo("America/New_York"),
    source="metadata",
    now_utc=TUE_0900_NY,
    business_zone=PROFILE.zone,
)


def outcome(result: ToolResult, action: Transfer | EndCall | None = None) -> ToolOutcome:
    return ToolOutcome(result, action)


def failure(status: ToolStatus, error: str = "refused") -> ToolOutcome:
    return outcome(ToolFailure(status=status, error=error))


@dataclass
class Played:
    said: list[str] = field(default_factory=list)
    tools: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    finish: Transfer | EndCall | None = None

    @property
    def text(self) -> str:
        return " ".join(self.said)


def play(steps: list[Step], outcomes: dict[str, ToolOutcome]) -> Played:
    """Run steps the way the brain does, answering each tool from ``outcomes``."""
    played = Played()
    queue: deque[Step] = deque(steps)
    while queue:
        step = queue.popleft()
        if isinstance(step, Say):
            played.said.append(step.text)
        elif isinstance(step, Call):
            played.tools.append((step.name, step.arguments))
            queue.extendleft(reversed(step.then(outcomes[step.name])))
        elif isinstance(step, Finish):
            played.finish = step.action
            break
    return played


def booking_state(**slots: Any) -> FlowState:
    state = FlowState(task="book", awaiting="confirm")
    state.slots = Slots(
        service="haircut",
        day=date(2026, 12, 4),
        at=time(11, 0),
        name="Sam",
        start=datetime(2026, 12, 4, 11, 0),
        spoken="Friday, December 4th at 11 AM",
        **slots,
    )
    return state


def dialogue(state: FlowState, **kwargs: Any) -> Dialogue:
    return Dialogue(PROFILE, CLOCK, state, caller_phone="+12125550188", **kwargs)


def test_a_booking_system_that_is_away_gets_an_apology_and_a_person() -> None:
    state = FlowState()
    played = play(
        dialogue(state).respond("a haircut on Friday at 11"),
        {"check_availability": failure(ToolStatus.UNAVAILABLE)},
    )
    assert played.text == (
        "Sorry, our booking system isn't answering right now. I'm sorry, I'm having trouble"
        " with this. Would you like someone from the team to help you?"
    )
    assert state.awaiting == "human_offer"
    assert state.resume is None


def test_a_refused_day_is_asked_again_then_a_person_is_offered() -> None:
    state = FlowState()
    refused = {
        "check_availability": outcome(
            Availability(
                status=ToolStatus.INVALID,
                service="haircut",
                zone="America/New_York",
                requested_free=None,
                slots=[],
                error="too far ahead",
            )
        )
    }
    first = play(dialogue(state).respond("a haircut on March 3rd"), refused)
    assert first.text == "Sorry, I can't book that day. Which other day would suit you?"
    assert state.slots.day is None
    second = play(dialogue(state).respond("March 4th then"), refused)
    assert second.said[-1] == "Would you like someone from the team to help you?"
    assert state.resume == "day"


def test_a_superseded_booking_says_nothing_more() -> None:
    state = booking_state()
    played = play(
        dialogue(state).respond("yes"),
        {"book_appointment": failure(ToolStatus.SUPERSEDED)},
    )
    assert played.said == []
    assert [name for name, _ in played.tools] == ["book_appointment"]


def test_a_result_of_another_kind_is_never_read_as_slots() -> None:
    state = FlowState()
    played = play(
        dialogue(state).respond("a haircut tomorrow"),
        {"check_availability": outcome(Found(status=ToolStatus.OK, bookings=[]))},
    )
    assert played.text.startswith("Sorry, our booking system isn't answering right now.")
    assert state.awaiting == "human_offer"


def test_no_slots_asks_for_another_day() -> None:
    state = FlowState()
    empty = Availability(
        status=ToolStatus.OK, service="haircut", zone="", requested_free=None, slots=[]
    )
    played = play(
        dialogue(state).respond("a haircut tomorrow"), {"check_availability": outcome(empty)}
    )
    assert played.text == (
        "I'm sorry, I don't have anything free around then. Which other day would suit you?"
    )


def test_an_escalate_transfer_ends_the_turn_with_it() -> None:
    transfer = Transfer(FRONT_DESK, "Connecting you with the front desk now.", "caller asked")
    state = FlowState()
    played = play(
        dialogue(state).respond("can I talk to someone at the front desk"),
        {"escalate": outcome(Escalated(status=ToolStatus.TRANSFERRING), action=transfer)},
    )
    assert played.finish == transfer
    assert played.said == []


def test_end_call_without_an_action_still_ends_with_the_goodbye() -> None:
    played = play(
        dialogue(FlowState()).respond("bye"),
        {"end_call": failure(ToolStatus.INVALID)},
    )
    assert played.finish == EndCall("Thanks for calling Maple Street Hair. Have a great day!")


def test_a_callback_refused_for_its_number_asks_for_another() -> None:
    state = FlowState()
    first = play(
        dialogue(state).respond("get me a human"),
        {
            "escalate": outcome(
                Escalated(status=ToolStatus.CALLBACK_REQUIRED, why="after_hours", say="", next="")
            )
        },
    )
    assert state.awaiting == "callback_name"
    assert first.said[0].startswith("Our team is away right now")
    refused = outcome(
        CallbackRecorded(
            status=ToolStatus.INVALID,
            error="no number to call back; ask for the best number",
            phone_refused=True,
        )
    )
    played = play(
        dialogue(state).respond("Dana, my number is 212 555 0199, about a refund"),
        {"request_callback": refused},
    )
    assert played.text == "Sorry, I couldn't use that number. What's the best number to reach you?"
    assert state.dump()["awaiting"] == "callback_phone"


@pytest.mark.parametrize(
    ("line", "awaiting"),
    [
        ("Sure! What day would you like to come in?", "day"),
        ("2 PM is free. What name should I put it under?", "name"),
        ("Great. Which service would you like?", "service"),
        ("I have 10 AM or 2 PM. Which one would suit you?", "time"),
        ("A haircut on Friday at 2 PM for Sam. Shall I book it?", "confirm"),
        ("You're booked. Is there anything else?", "anything_else"),
        ("Our salon is lovely.", None),
    ],
)
def test_what_another_brain_was_asking(line: str, awaiting: str | None) -> None:
    assert Dialogue.infer_awaiting(line) == awaiting


def test_state_round_trips_through_json_and_drops_what_it_cannot_read() -> None:
    state = booking_state()
    state.attempts["day"] = 1
    stored = json.loads(json.dumps(state.dump()))
    assert stored["slots"]["start"] == "2026-12-04T11:00:00"
    assert FlowState.load(stored) == state
    assert FlowState.load({}) == FlowState()
    assert FlowState.load({"version": 99, "task": "book"}) == FlowState()
    assert FlowState.load({"slots": {"day": "tomorrow"}}) == FlowState()


def test_join_or() -> None:
    assert join_or([]) == ""
    assert join_or(["10 AM"]) == "10 AM"
    assert join_or(["10 AM", "noon"]) == "10 AM or noon"
    assert join_or(["9 AM", "10 AM", "noon"]) == "9 AM, 10 AM or noon"


AWAITING = [None, *get_args(Awaiting)]


class _AnyTool(dict[str, ToolOutcome]):
    """Empty answers from the tools that look things up, refusals from the rest."""

    def __missing__(self, key: str) -> ToolOutcome:
        ok = ToolStatus.OK
        match key:
            case "check_availability":
                return outcome(
                    Availability(status=ok, service="", zone="", requested_free=None, slots=[])
                )
            case "find_booking":
                return outcome(Found(status=ok, bookings=[]))
            case "get_service_info":
                return outcome(ServiceInfo(status=ok, services=[]))
        return failure(ToolStatus.INVALID)


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=60) | st.sampled_from(["yes", "no", "the second one", "3", "Sam", "bye"]),
    st.sampled_from(AWAITING),
    st.sampled_from([None, "book", "reschedule", "cancel", "lookup", "callback"]),
)
def test_any_reply_in_any_state_gets_words_or_an_action(
    text: str, awaiting: Awaiting | None, task: Task | None
) -> None:
    state = FlowState(task=task, awaiting=awaiting)
    if task == "callback":
        state.callback = CallbackDraft(reason="caller asked for a person")
    played = play(dialogue(state).respond(text), _AnyTool())
    assert played.said or played.finish is not None
    assert all(line.strip() and "None" not in line for line in played.said)
    json.dumps(state.dump())
