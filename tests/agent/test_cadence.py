"""The confirmation cadence's bookkeeping: which details a tool call gives, what counts as
a read-back, when one is due (``voiceops.agent.cadence``)."""

from __future__ import annotations

import pytest

from tests.tools.support import make_profile
from voiceops.agent.cadence import (
    after_turn,
    due_read_back,
    observe_tool_call,
    observe_tool_result,
    read_back,
    reads_back,
)
from voiceops.core.state import BookingDetails, CallState

PROFILE = make_profile()


def state_after(*calls: tuple[str, str]) -> CallState:
    state = CallState(call_id="c")
    for name, arguments in calls:
        observe_tool_call(state, PROFILE, name, arguments)
    return state


def test_details_come_from_the_models_tool_arguments() -> None:
    state = state_after(
        ("check_availability", '{"service": "color", "date": "2026-12-04"}'),
        ("check_availability", '{"service": "color", "date": "2026-12-04", "time": "09:30"}'),
    )
    assert state.details == BookingDetails(service="colour", date="2026-12-04", time="09:30")
    observe_tool_call(
        state, PROFILE, "book_appointment", '{"start": "2026-12-05T11:00", "customer_name": "Dana"}'
    )
    assert (state.details.date, state.details.time, state.details.name) == (
        "2026-12-05",
        "11:00",
        "Dana",
    )


@pytest.mark.parametrize(
    "arguments",
    [
        "not json",
        "[1, 2]",
        '{"service": "massage", "date": "2026-13-01", "time": "25:00"}',
        '{"service": 7, "start": "tomorrow at ten", "customer_name": "<b>x</b>"}',
    ],
)
def test_arguments_a_tool_would_refuse_are_not_taken(arguments: str) -> None:
    assert state_after(("book_appointment", arguments)).details == BookingDetails()


def test_a_booking_made_moved_or_cancelled_settles_the_details() -> None:
    state = state_after(("check_availability", '{"service": "cut", "date": "2026-12-04"}'))
    observe_tool_result(state, "check_availability", committed=False)
    assert state.details.pending
    observe_tool_result(state, "book_appointment", committed=False)  # refused: still pending
    assert state.details.pending
    observe_tool_result(state, "book_appointment", committed=True)
    assert state.details == BookingDetails()


def test_the_read_back_says_what_is_known() -> None:
    details = BookingDetails(service="colour", date="2026-12-04", time="12:00", name="Dana")
    assert (
        read_back(details, PROFILE)
        == "So that's a colour on Friday, December 4th at noon, for Dana."
    )
    assert read_back(BookingDetails(service="haircut", date="2026-12-04"), PROFILE) == (
        "So that's a haircut on Friday, December 4th."
    )


@pytest.mark.parametrize(
    ("spoken", "counts"),
    [
        ("So a colour on Friday at 10 AM?", True),
        ("That's Friday at 10 then.", True),
        ("A color for December 4th, lovely.", True),
        ("We have 10, 11 or 2.", False),
        ("On Friday we have a few times.", False),
        ("What name shall I put it under?", False),
        ("A colour at 10:30 on Monday.", False),
    ],
)
def test_a_read_back_names_two_details(spoken: str, counts: bool) -> None:
    details = BookingDetails(service="colour", date="2026-12-04", time="10:00")
    assert reads_back(details, PROFILE, spoken) is counts


def test_due_on_the_third_turn_without_a_read_back() -> None:
    state = state_after(("check_availability", '{"service": "colour", "date": "2026-12-04"}'))
    for _ in range(2):
        assert due_read_back(state, PROFILE) == ""
        after_turn(state, PROFILE, "Anything else?", read_back_said=False)
    assert due_read_back(state, PROFILE) == "So that's a colour on Friday, December 4th."
    after_turn(state, PROFILE, "So that's ... Anything else?", read_back_said=True)
    assert due_read_back(state, PROFILE) == ""


def test_a_service_alone_is_nothing_to_read_back() -> None:
    state = state_after(("check_availability", '{"service": "colour"}'))
    for _ in range(5):
        after_turn(state, PROFILE, "Which day?", read_back_said=False)
    assert due_read_back(state, PROFILE) == ""


def test_the_details_survive_a_reconnect() -> None:
    state = state_after(("check_availability", '{"service": "colour", "date": "2026-12-04"}'))
    after_turn(state, PROFILE, "Which time?", read_back_said=False)
    assert CallState.from_json(state.to_json()).details == state.details
