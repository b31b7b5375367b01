"""The Toolbox end to end over a real in-memory repository, with a fixed clock."""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tools.support import (
    BILLING,
    CALLER_UK,
    FRONT_DESK,
    LONDON,
    LOS_ANGELES,
    NEW_YORK,
    BrokenRepo,
    RecordingRepo,
    YieldingRepo,
    make_profile,
    make_toolbox,
)
from voiceops.core.actions import EndCall, Transfer
from voiceops.core.clock import ManualClock
from voiceops.core.ports import ToolOutcome
from voiceops.tools.toolbox import TOOL_NAMES, Toolbox, idempotency_key


async def run(toolbox: Toolbox, tool: str, /, **arguments: Any) -> ToolOutcome:
    return await toolbox.run(tool, json.dumps(arguments))


def data(outcome: ToolOutcome) -> dict[str, Any]:
    """The result as the model reads it."""
    parsed = json.loads(outcome.result.model_dump_json())
    assert isinstance(parsed, dict)
    return parsed


# -- specs ---------------------------------------------------------------------------------


def test_specs_are_strict_openai_function_tools() -> None:
    toolbox, _, _ = make_toolbox()
    specs = toolbox.specs()
    assert [s["function"]["name"] for s in specs] == list(TOOL_NAMES)
    assert len(specs) == 10
    for spec in specs:
        assert spec["type"] == "function"
        function = spec["function"]
        assert function["strict"] is True
        assert len(function["description"]) > 30
        params = function["parameters"]
        assert params["type"] == "object"
        assert params["additionalProperties"] is False
        assert sorted(params["required"]) == sorted(params["properties"])
        for prop in params["properties"].values():
            assert prop["description"]
    json.dumps(specs)  # serialisable as is


def test_specs_offer_each_profiles_catalogue() -> None:
    toolbox, _, _ = make_toolbox()
    specs = toolbox.specs()
    book = next(s for s in specs if s["function"]["name"] == "book_appointment")
    assert book["function"]["parameters"]["properties"]["service"]["enum"] == [
        "haircut",
        "colour",
        "consultation",
    ]
    specs.pop()
    assert len(toolbox.specs()) == 10
    other, _, _ = make_toolbox(
        profile=make_profile(services=[{"name": "massage", "duration_min": 60, "price": "80"}])
    )
    book = next(s for s in other.specs() if s["function"]["name"] == "book_appointment")
    assert book["function"]["parameters"]["properties"]["service"]["enum"] == ["massage"]


# -- check_availability ---------------------------------------------------------------------


async def test_earliest_slots_when_nothing_requested() -> None:
    toolbox, _, _ = make_toolbox()
    result = data(await run(toolbox, "check_availability", service="cut"))
    assert result["status"] == "ok"
    assert result["service"] == "haircut"
    assert result["zone"] == NEW_YORK
    assert result["requested_free"] is None
    assert [s["start_local"] for s in result["slots"]] == [
        "2026-12-01T10:00:00-05:00",
        "2026-12-01T10:30:00-05:00",
        "2026-12-01T11:00:00-05:00",
    ]
    assert result["slots"][0] == {
        "start_local": "2026-12-01T10:00:00-05:00",
        "start_utc": "2026-12-01T15:00:00Z",
        "spoken": "Tuesday, December 1st at 10 AM",
    }


async def test_requested_time_free_comes_first() -> None:
    toolbox, _, _ = make_toolbox()
    result = data(
        await run(toolbox, "check_availability", service="haircut", date="2026-12-02", time="14:00")
    )
    assert result["requested_free"] is True
    assert result["slots"][0]["start_local"] == "2026-12-02T14:00:00-05:00"
    assert "note" not in result


async def test_the_booking_being_moved_does_not_block_its_own_new_time() -> None:
    toolbox, _, _ = make_toolbox()
    booked = data(
        await run(
            toolbox,
            "book_appointment",
            service="colour",
            start="2026-12-02T14:00",
            customer_name="Sam",
        )
    )
    booking_id = booked["booking"]["booking_id"]
    later = {"service": "colour", "date": "2026-12-02", "time": "14:30"}
    assert data(await run(toolbox, "check_availability", **later))["requested_free"] is False
    moving = data(await run(toolbox, "check_availability", exclude_booking_id=booking_id, **later))
    assert moving["requested_free"] is True
    assert moving["slots"][0]["start_local"] == "2026-12-02T14:30:00-05:00"
    spelled = booking_id.lower().replace("-", " ")
    again = data(await run(toolbox, "check_availability", exclude_booking_id=spelled, **later))
    assert again["requested_free"] is True


async def test_london_caller_late_evening_is_checked_in_new_york_time() -> None:
    # 23:30 in London on Wednesday 2 December is 18:30 in New York: Wednesday runs to 20:00.
    toolbox, _, _ = make_toolbox(caller_zone=LONDON)
    result = data(
        await run(toolbox, "check_availability", service="haircut", date="2026-12-02", time="23:30")
    )
    assert result["zone"] == LONDON
    assert result["requested_free"] is True
    first = result["slots"][0]
    assert first["start_utc"] == "2026-12-02T23:30:00Z"
    assert first["start_local"] == "2026-12-02T23:30:00+00:00"
    assert first["spoken"] == (
        "Wednesday, December 2nd at 11:30 PM your time, that's 6:30 PM here in New York"
    )


async def test_london_caller_after_midnight_books_the_previous_business_evening() -> None:
    # 00:30 on Thursday in London = 19:30 on Wednesday in New York.
    toolbox, _, _ = make_toolbox(caller_zone=LONDON)
    result = data(
        await run(
            toolbox,
            "book_appointment",
            service="haircut",
            start="2026-12-03T00:30",
            customer_name="Ann",
        )
    )
    assert result["status"] == "confirmed"
    booking = result["booking"]
    assert booking["start_utc"] == "2026-12-03T00:30:00Z"
    assert booking["zone"] == LONDON
    assert booking["spoken"] == (
        "Thursday, December 3rd at 12:30 AM your time, that's 7:30 PM on Wednesday here in New York"
    )


async def test_requested_time_outside_hours_offers_the_nearest() -> None:
    # 23:30 London on Tuesday = 18:30 New York; Tuesday closes at 17:00.
    toolbox, _, _ = make_toolbox(caller_zone=LONDON)
    result = data(
        await run(toolbox, "check_availability", service="haircut", date="2026-12-01", time="23:30")
    )
    assert result["status"] == "ok"
    assert result["requested_free"] is False
    assert "outside opening hours" in result["note"]
    assert [s["start_utc"] for s in result["slots"]] == [
        "2026-12-01T21:30:00Z",
        "2026-12-01T21:00:00Z",
        "2026-12-01T20:30:00Z",
    ]


async def test_tomorrow_at_nine_means_the_callers_tomorrow() -> None:
    # 06:00 UTC on Wednesday: 01:00 Wednesday in New York, 22:00 Tuesday in Los Angeles.
    now = datetime(2026, 12, 2, 6, tzinfo=UTC)
    toolbox, _, _ = make_toolbox(now_utc=now, caller_zone=LOS_ANGELES)
    clock_tomorrow = (now.astimezone(ZoneInfo(LOS_ANGELES)) + timedelta(days=1)).date()
    assert clock_tomorrow.isoformat() == "2026-12-02"
    result = data(
        await run(
            toolbox,
            "check_availability",
            service="haircut",
            date=clock_tomorrow.isoformat(),
            time="09:00",
        )
    )
    assert result["requested_free"] is True
    assert result["slots"][0]["start_utc"] == "2026-12-02T17:00:00Z"
    assert result["slots"][0]["spoken"] == (
        "Wednesday, December 2nd at 9 AM your time, that's noon here in New York"
    )
    # With only a time, the next 09:00 on the caller's clock is the same instant.
    only_time = data(await run(toolbox, "check_availability", service="haircut", time="09:00"))
    assert only_time["slots"][0]["start_utc"] == "2026-12-02T17:00:00Z"


async def test_spring_forward_in_new_york_shifts_the_london_view() -> None:
    # Between 8 and 29 March 2026 New York is on daylight time and London is not: 4 hours apart.
    now = datetime(2026, 3, 5, 12, tzinfo=UTC)
    toolbox, _, _ = make_toolbox(now_utc=now, caller_zone=LONDON)
    before = data(
        await run(toolbox, "check_availability", service="haircut", date="2026-03-06", time="14:00")
    )
    after = data(
        await run(toolbox, "check_availability", service="haircut", date="2026-03-09", time="14:00")
    )
    assert before["slots"][0]["spoken"].endswith("that's 9 AM here in New York")
    assert after["requested_free"] is True
    assert after["slots"][0]["start_utc"] == "2026-03-09T14:00:00Z"
    assert after["slots"][0]["spoken"].endswith("that's 10 AM here in New York")


async def test_london_spring_forward_gap_is_refused_with_a_reason() -> None:
    now = datetime(2026, 3, 20, 12, tzinfo=UTC)
    night = make_profile(
        business_zone=LONDON, opening_hours={"sun": ["00:00-06:00"]}, booking={"min_notice_min": 0}
    )
    toolbox, repo, _ = make_toolbox(now_utc=now, caller_zone=LONDON, profile=night)
    checked = await run(
        toolbox, "check_availability", service="haircut", date="2026-03-29", time="01:30"
    )
    assert not checked.successful
    assert "daylight saving" in data(checked)["error"]
    booked = await run(
        toolbox,
        "book_appointment",
        service="haircut",
        start="2026-03-29T01:30",
        customer_name="Ann",
    )
    assert data(booked)["status"] == "invalid"
    assert "does not exist" in data(booked)["error"]
    assert repo.bookings == []
    slots = data(
        await run(toolbox, "check_availability", service="haircut", date="2026-03-29", days=1)
    )["slots"]
    assert [s["start_local"] for s in slots] == [
        "2026-03-29T00:00:00+00:00",
        "2026-03-29T00:30:00+00:00",
        "2026-03-29T02:00:00+01:00",
    ]


async def test_a_closed_day_falls_back_to_the_nearest_days() -> None:
    toolbox, _, _ = make_toolbox()
    result = data(await run(toolbox, "check_availability", service="haircut", date="2026-12-06"))
    assert result["status"] == "ok"
    assert "nothing is free on 2026-12-06" in result["note"]
    # Nearest to the start of Sunday: Saturday's last slots come before Monday's first.
    assert result["slots"][0]["start_local"] == "2026-12-05T15:30:00-05:00"


async def test_check_availability_refuses_past_dates() -> None:
    toolbox, _, _ = make_toolbox()
    outcome = await run(toolbox, "check_availability", service="haircut", date="2026-11-30")
    assert not outcome.successful
    assert data(outcome)["status"] == "invalid"
    assert "in the past" in data(outcome)["error"]


# -- book_appointment -----------------------------------------------------------------------


async def test_booking_twice_with_the_same_arguments_books_once() -> None:
    repo = RecordingRepo()
    toolbox, _, sink = make_toolbox(repo=repo)
    first = await run(
        toolbox,
        "book_appointment",
        service="haircut",
        start="2026-12-02T10:00",
        customer_name="Ann Lee",
    )
    # Same booking, differently written: alias, case, spaces, an explicit caller number.
    second = await run(
        toolbox,
        "book_appointment",
        service="Trim",
        start="2026-12-02T10:00",
        customer_name="  ann lee ",
        customer_phone="+44 20 7183 8750",
    )
    assert data(first)["status"] == data(second)["status"] == "confirmed"
    assert data(first)["booking"]["booking_id"] == data(second)["booking"]["booking_id"]
    assert len(repo.bookings) == 1
    assert repo.writes == ["create_booking"]
    assert [e.event_type for e in sink.events].count("booking") == 1


async def test_a_booking_keeps_utc_local_start_and_caller_zone() -> None:
    toolbox, repo, _ = make_toolbox(caller_zone=LONDON)
    await run(
        toolbox, "book_appointment", service="colour", start="2026-12-02T15:00", customer_name="Ann"
    )
    (stored,) = repo.bookings
    assert stored.start_utc == datetime(2026, 12, 2, 15, tzinfo=UTC)
    assert stored.end_utc == datetime(2026, 12, 2, 16, 30, tzinfo=UTC)
    assert stored.local_start == "2026-12-02T15:00:00+00:00"
    assert stored.caller_zone == LONDON
    assert stored.customer_phone == CALLER_UK
    assert stored.price == "120.50"
    assert stored.call_id == "call-1"


async def test_booking_view_speaks_the_price() -> None:
    toolbox, _, _ = make_toolbox()
    booking = data(
        await run(
            toolbox,
            "book_appointment",
            service="colour",
            start="2026-12-02T15:00",
            customer_name="Ann",
        )
    )["booking"]
    assert booking["price"] == "120.50"
    assert booking["price_spoken"] == "120 dollars and 50 cents"
    assert set(booking) >= {
        "booking_id",
        "service",
        "start_local",
        "start_utc",
        "zone",
        "customer_name",
        "spoken",
        "price",
    }


async def test_a_superseded_turn_does_not_commit() -> None:
    current = [False]
    repo = RecordingRepo()
    toolbox, _, sink = make_toolbox(repo=repo, current=current)
    outcome = await run(
        toolbox,
        "book_appointment",
        service="haircut",
        start="2026-12-02T10:00",
        customer_name="Ann",
    )
    assert not outcome.successful
    assert data(outcome)["status"] == "superseded"
    assert repo.writes == []
    assert [e.event_type for e in sink.events] == ["tool_run"]
    callback = await run(toolbox, "request_callback", name="Ann", reason="billing")
    assert data(callback)["status"] == "superseded"
    assert repo.writes == []


async def test_a_taken_slot_returns_the_nearest_alternatives() -> None:
    first, repo, _ = make_toolbox(call_id="call-1")
    await run(
        first, "book_appointment", service="haircut", start="2026-12-02T14:00", customer_name="Ann"
    )
    second, _, _ = make_toolbox(call_id="call-2", repo=repo, caller_phone="+12125550199")
    outcome = await run(
        second, "book_appointment", service="haircut", start="2026-12-02T14:00", customer_name="Bob"
    )
    result = data(outcome)
    assert not outcome.successful
    assert result["status"] == "slot_taken"
    assert [a["start_local"] for a in result["alternatives"]] == [
        "2026-12-02T13:30:00-05:00",
        "2026-12-02T14:30:00-05:00",
        "2026-12-02T13:00:00-05:00",
    ]
    assert len(repo.bookings) == 1
    check = data(
        await run(second, "check_availability", service="haircut", date="2026-12-02", time="14:15")
    )
    assert check["requested_free"] is False


async def test_two_calls_racing_for_one_slot_get_one_booking() -> None:
    repo = YieldingRepo()
    a, _, _ = make_toolbox(call_id="call-a", repo=repo)
    b, _, _ = make_toolbox(call_id="call-b", repo=repo, caller_phone="+12125550199")
    outcomes = await asyncio.gather(
        run(
            a, "book_appointment", service="haircut", start="2026-12-02T14:00", customer_name="Ann"
        ),
        run(
            b, "book_appointment", service="haircut", start="2026-12-02T14:00", customer_name="Bob"
        ),
    )
    statuses = sorted(data(o)["status"] for o in outcomes)
    assert statuses == ["confirmed", "slot_taken"]
    confirmed = await repo.bookings_between(
        datetime(2026, 12, 2, 19, tzinfo=UTC), datetime(2026, 12, 2, 19, 30, tzinfo=UTC)
    )
    assert len(confirmed) == 1


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (
            {"service": "haircut", "start": "2026-12-02 10:00", "customer_name": "Ann"},
            "must be YYYY-MM-DDTHH:MM",
        ),
        (
            {"service": "haircut", "start": "02/12/2026 10am", "customer_name": "Ann"},
            "must be YYYY-MM-DDTHH:MM",
        ),
        (
            {"service": "perm", "start": "2026-12-02T10:00", "customer_name": "Ann"},
            "unknown service 'perm'; services offered: haircut, colour, consultation",
        ),
        (
            {"service": "haircut", "start": "2026-11-30T10:00", "customer_name": "Ann"},
            "already passed",
        ),
        (
            {"service": "haircut", "start": "2026-12-01T09:30", "customer_name": "Ann"},
            "60 minutes' notice",
        ),
        (
            {"service": "haircut", "start": "2026-12-02T21:00", "customer_name": "Ann"},
            "outside opening hours",
        ),
        (
            {"service": "haircut", "start": "2026-12-06T10:00", "customer_name": "Ann"},
            "closed on Sundays",
        ),
        (
            {"service": "haircut", "start": "2026-12-25T10:00", "customer_name": "Ann"},
            "closed on Friday, December 25th",
        ),
        (
            {"service": "haircut", "start": "2026-12-02T10:10", "customer_name": "Ann"},
            "every 30 minutes",
        ),
        ({"service": "haircut", "start": "2026-12-02T10:00", "customer_name": ""}, "customer_name"),
        ({"service": "haircut", "start": "2026-12-02T10:00"}, "customer_name: is required"),
        (
            {
                "service": "haircut",
                "start": "2026-12-02T10:00",
                "customer_name": "Ann",
                "notes": "x",
            },
            "notes: is not an argument of this tool",
        ),
        (
            {
                "service": "haircut",
                "start": "2026-12-02T10:00",
                "customer_name": "Ann",
                "customer_phone": "call me maybe",
            },
            "not a phone number",
        ),
    ],
)
async def test_invalid_booking_arguments_never_reach_the_database(
    arguments: dict[str, Any], fragment: str
) -> None:
    repo = RecordingRepo()
    toolbox, _, _ = make_toolbox(repo=repo)
    outcome = await run(toolbox, "book_appointment", **arguments)
    assert not outcome.successful
    assert data(outcome)["status"] == "invalid"
    assert fragment in data(outcome)["error"]
    assert repo.writes == []


async def test_refusals_that_know_the_service_offer_alternatives() -> None:
    toolbox, _, _ = make_toolbox()
    result = data(
        await run(
            toolbox,
            "book_appointment",
            service="haircut",
            start="2026-12-02T21:00",
            customer_name="Ann",
        )
    )
    assert [a["start_local"] for a in result["alternatives"]][:1] == ["2026-12-02T19:30:00-05:00"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('"haircut"', "must be a JSON object"),
        ("{}", "service: is required"),
        ("x" * 9000, "too long"),
    ],
)
async def test_broken_json_is_a_failed_outcome(raw: str, fragment: str) -> None:
    toolbox, _, sink = make_toolbox()
    outcome = await toolbox.run("check_availability", raw)
    assert not outcome.successful
    assert fragment in data(outcome)["error"]
    assert sink.events[-1].payload is not None
    assert sink.events[-1].payload["status"] == "invalid"


async def test_unknown_tool_is_a_failed_outcome() -> None:
    toolbox, _, _ = make_toolbox()
    outcome = await toolbox.run("delete_everything", "{}")
    assert not outcome.successful
    assert "unknown tool 'delete_everything'" in data(outcome)["error"]


async def test_storage_failure_is_a_failed_outcome() -> None:
    toolbox, _, _ = make_toolbox(repo=BrokenRepo())
    outcome = await run(
        toolbox,
        "book_appointment",
        service="haircut",
        start="2026-12-02T10:00",
        customer_name="Ann",
    )
    assert not outcome.successful
    assert data(outcome)["status"] == "unavailable"


# -- find, reschedule, cancel ---------------------------------------------------------------


async def test_find_reschedule_cancel() -> None:
    toolbox, repo, sink = make_toolbox()
    booked = data(
        await run(
            toolbox,
            "book_appointment",
            service="haircut",
            start="2026-12-02T10:00",
            customer_name="Ann",
        )
    )["booking"]
    found = data(await run(toolbox, "find_booking"))
    assert [b["booking_id"] for b in found["bookings"]] == [booked["booking_id"]]
    assert found["bookings"][0]["upcoming"] is True
    by_name = data(await run(toolbox, "find_booking", customer_name="ANN"))
    assert len(by_name["bookings"]) == 1

    moved = data(
        await run(
            toolbox,
            "reschedule_appointment",
            booking_id=booked["booking_id"],
            new_start="2026-12-03T15:00",
        )
    )
    assert moved["status"] == "confirmed"
    assert moved["booking"]["booking_id"] == booked["booking_id"]
    assert moved["booking"]["start_local"] == "2026-12-03T15:00:00-05:00"
    again = data(
        await run(
            toolbox,
            "reschedule_appointment",
            booking_id=booked["booking_id"],
            new_start="2026-12-03T15:00",
        )
    )
    assert again["status"] == "confirmed"

    cancelled = await run(toolbox, "cancel_appointment", booking_id=booked["booking_id"])
    assert data(cancelled)["status"] == "cancelled"
    twice = await run(toolbox, "cancel_appointment", booking_id=booked["booking_id"])
    assert data(twice)["status"] == "cancelled" and twice.successful
    assert repo.bookings[0].status == "cancelled"
    assert data(await run(toolbox, "find_booking"))["bookings"] == []
    actions = [e.payload["action"] for e in sink.events if e.event_type == "booking" and e.payload]
    assert actions == ["created", "rescheduled", "cancelled"]


async def test_reschedule_into_a_taken_slot_offers_alternatives() -> None:
    toolbox, _, _ = make_toolbox()
    mine = data(
        await run(
            toolbox,
            "book_appointment",
            service="haircut",
            start="2026-12-02T10:00",
            customer_name="Ann",
        )
    )["booking"]
    await run(
        toolbox,
        "book_appointment",
        service="haircut",
        start="2026-12-02T11:00",
        customer_name="Bob",
    )
    outcome = await run(
        toolbox,
        "reschedule_appointment",
        booking_id=mine["booking_id"],
        new_start="2026-12-02T11:00",
    )
    assert data(outcome)["status"] == "slot_taken"
    # The caller's own current time counts as free for them.
    assert "2026-12-02T10:00:00-05:00" in [a["start_local"] for a in data(outcome)["alternatives"]]


async def test_unknown_booking_ids() -> None:
    toolbox, _, _ = make_toolbox()
    for name, extra in (
        ("reschedule_appointment", {"new_start": "2026-12-02T10:00"}),
        ("cancel_appointment", {}),
    ):
        outcome = await run(toolbox, name, booking_id="B-NOPE", **extra)
        assert data(outcome)["status"] == "not_found"
        assert not outcome.successful


async def test_find_booking_needs_something_to_search_by() -> None:
    toolbox, _, _ = make_toolbox(caller_phone=None)
    outcome = await run(toolbox, "find_booking")
    assert data(outcome)["status"] == "invalid"
    assert "ask the caller for the name" in data(outcome)["error"]


async def test_superseded_reschedule_and_cancel_do_not_commit() -> None:
    current = [True]
    repo = RecordingRepo()
    toolbox, _, _ = make_toolbox(repo=repo, current=current)
    booking = data(
        await run(
            toolbox,
            "book_appointment",
            service="haircut",
            start="2026-12-02T10:00",
            customer_name="Ann",
        )
    )["booking"]
    current[0] = False
    moved = await run(
        toolbox,
        "reschedule_appointment",
        booking_id=booking["booking_id"],
        new_start="2026-12-02T11:00",
    )
    cancelled = await run(toolbox, "cancel_appointment", booking_id=booking["booking_id"])
    assert data(moved)["status"] == data(cancelled)["status"] == "superseded"
    assert repo.writes == ["create_booking"]


# -- catalogue and hours --------------------------------------------------------------------


async def test_service_info() -> None:
    toolbox, _, _ = make_toolbox()
    everything = data(await run(toolbox, "get_service_info", service=None))
    assert [s["name"] for s in everything["services"]] == ["haircut", "colour", "consultation"]
    colour = data(await run(toolbox, "get_service_info", service="color"))["services"][0]
    assert colour == {
        "name": "colour",
        "duration_min": 90,
        "price": "120.50",
        "spoken": "A colour takes an hour and a half and costs 120 dollars and 50 cents.",
    }
    free = data(await run(toolbox, "get_service_info", service="consultation"))["services"][0]
    assert free["spoken"] == "A consultation takes 15 minutes and is free."
    unknown = await run(toolbox, "get_service_info", service="perm")
    assert data(unknown)["status"] == "unknown_service"
    assert len(data(unknown)["services"]) == 3


async def test_opening_hours() -> None:
    toolbox, _, _ = make_toolbox(caller_zone=LONDON)
    week = data(await run(toolbox, "get_opening_hours"))
    assert week["open_now"] is True
    assert week["days"]["thu"] == [["09:00", "12:00"], ["13:00", "19:00"]]
    assert week["days"]["sun"] == []
    assert "That's New York time." in week["spoken"]
    assert week["spoken"].endswith("We're open right now.")
    assert week["closed_dates"] == ["2026-12-25"]
    christmas = data(await run(toolbox, "get_opening_hours", date="2026-12-25"))
    assert christmas["spoken"].startswith("We're closed on Friday, December 25th.")


# -- callbacks, escalation, end of call -----------------------------------------------------


async def test_request_callback_defaults_to_the_callers_number() -> None:
    toolbox, repo, sink = make_toolbox()
    outcome = await run(
        toolbox, "request_callback", name="Ann", reason="billing question", priority="high"
    )
    assert data(outcome)["status"] == "recorded"
    again = await run(
        toolbox, "request_callback", name="ann", reason="Billing question ", priority="high"
    )
    assert data(again)["request_id"] == data(outcome)["request_id"]
    (stored,) = repo.callbacks
    assert stored.phone == CALLER_UK
    assert stored.priority == "high"
    event = next(e for e in sink.events if e.event_type == "callback_request")
    assert event.payload is not None and event.payload["phone"] != CALLER_UK
    assert event.payload["phone"].endswith("8750")


async def test_request_callback_without_any_number_asks_for_one() -> None:
    toolbox, repo, _ = make_toolbox(caller_phone=None)
    outcome = await run(toolbox, "request_callback", name="Ann", reason="billing")
    assert data(outcome)["status"] == "invalid"
    assert "best number" in data(outcome)["error"]
    assert repo.callbacks == []


async def test_escalate_in_hours_transfers_to_the_right_number() -> None:
    toolbox, _, sink = make_toolbox()
    desk = await run(toolbox, "escalate", reason="wants a person", priority="medium")
    assert data(desk) == {"status": "transferring"}
    assert isinstance(desk.action, Transfer)
    assert desk.action.number == FRONT_DESK
    assert desk.action.trigger == "model"
    assert len(desk.action.message.split()) <= 8
    billing = await run(toolbox, "escalate", reason="Billing dispute", priority="high")
    assert isinstance(billing.action, Transfer)
    assert billing.action.number == BILLING
    assert billing.action.priority == "high"
    # A transfer is recorded once, by the turn runner as it sends it (agent/turn.py).
    assert [e for e in sink.events if e.event_type == "escalation"] == []


async def test_escalate_after_hours_requires_a_callback() -> None:
    evening = datetime(2026, 12, 1, 23, tzinfo=UTC)  # 18:00 Tuesday in New York: closed
    toolbox, _, _ = make_toolbox(now_utc=evening)
    outcome = await run(toolbox, "escalate", reason="wants a manager")
    result = data(outcome)
    assert outcome.action is None
    assert result["status"] == "callback_required"
    assert result["why"] == "after_hours"
    assert "request_callback" in result["next"]
    assert "Wednesday, December 2nd at 9 AM" in result["say"]


async def test_escalate_with_no_number_requires_a_callback() -> None:
    toolbox, _, _ = make_toolbox(profile=make_profile(transfer={}))
    result = data(await run(toolbox, "escalate", reason="wants a manager"))
    assert result["status"] == "callback_required"
    assert result["why"] == "no_number"


async def test_end_call() -> None:
    toolbox, _, _ = make_toolbox()
    outcome = await run(toolbox, "end_call", message="Thanks for calling, goodbye!")
    assert outcome.action == EndCall("Thanks for calling, goodbye!")
    assert data(outcome) == {"status": "ending"}
    empty = await run(toolbox, "end_call", message="   ")
    assert not empty.successful and empty.action is None


# -- events and idempotency keys ------------------------------------------------------------


async def test_every_run_is_an_event_with_masked_phones() -> None:
    toolbox, _, sink = make_toolbox()
    await run(
        toolbox,
        "book_appointment",
        service="haircut",
        start="2026-12-02T10:00",
        customer_name="Ann",
        customer_phone="+1 212 555 0177",
    )
    await toolbox.run("find_booking", '{"customer_phone": "+12125550177"')  # broken JSON
    runs = [e for e in sink.events if e.event_type == "tool_run"]
    assert len(runs) == 2
    first = runs[0].payload
    assert first is not None
    assert first["name"] == "book_appointment"
    assert first["status"] == "confirmed"
    assert isinstance(first["duration_ms"], float)
    assert first["arguments"]["start"] == "2026-12-02T10:00"
    assert "555 0177" not in json.dumps([e.payload for e in sink.events])
    assert "5550177" not in json.dumps([e.payload for e in sink.events])
    assert all(e.call_id == "call-1" and e.response_id == 4 for e in sink.events)


async def test_commit_times_and_durations_come_from_the_app_clock() -> None:
    # The caller's clock is the turn's start; a booking's created_at is read at the commit.
    app_clock = ManualClock(datetime(2026, 12, 1, 14, 0, 42, tzinfo=UTC))
    toolbox, repo, sink = make_toolbox(app_clock=app_clock)
    await run(
        toolbox, "book_appointment", service="haircut", start="2026-12-02T10:00", customer_name="A"
    )
    await run(toolbox, "request_callback", name="Ann", reason="billing")
    assert [b.created_at for b in repo.bookings] == [app_clock.now()]
    assert [c.created_at for c in repo.callbacks] == [app_clock.now()]
    durations = [e.payload["duration_ms"] for e in sink.events if e.event_type == "tool_run"]
    assert durations == [0.0, 0.0]  # the manual clock did not move


def test_idempotency_key_normalises_and_separates() -> None:
    a = idempotency_key("c1", "book_appointment", {"b": " Ann ", "a": "X"})
    assert a == idempotency_key("c1", "book_appointment", {"a": "x", "b": "ann"})
    assert a != idempotency_key("c2", "book_appointment", {"a": "x", "b": "ann"})
    assert a != idempotency_key("c1", "request_callback", {"a": "x", "b": "ann"})
    assert len(a) == 64


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from([*TOOL_NAMES, "", "nope"]),
    payload=st.one_of(
        st.text(max_size=200),
        st.dictionaries(
            st.sampled_from(
                [
                    "service",
                    "date",
                    "time",
                    "days",
                    "start",
                    "customer_name",
                    "customer_phone",
                    "booking_id",
                    "new_start",
                    "name",
                    "phone",
                    "reason",
                    "priority",
                    "message",
                    "junk",
                ]
            ),
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(),
                st.floats(allow_nan=False),
                st.text(max_size=30),
                st.lists(st.integers(), max_size=3),
            ),
        ).map(json.dumps),
    ),
)
async def test_run_never_raises(name: str, payload: str) -> None:
    toolbox, _, sink = make_toolbox()
    outcome = await toolbox.run(name, payload)
    assert isinstance(outcome.successful, bool)
    assert sink.events[-1].event_type == "tool_run"
    if not outcome.successful:
        assert data(outcome)["status"] in {"invalid", "not_found", "slot_taken", "unknown_service"}


async def test_opening_hours_when_closed_say_when_they_reopen() -> None:
    saturday_evening = datetime(2026, 12, 5, 22, tzinfo=UTC)  # 17:00 Saturday in New York
    toolbox, _, _ = make_toolbox(now_utc=saturday_evening, caller_zone=LOS_ANGELES)
    week = data(await run(toolbox, "get_opening_hours"))
    assert week["open_now"] is False
    assert week["spoken"].endswith(
        "We're closed right now. We open again on Monday, December 7th at 6 AM your time,"
        " that's 9 AM here in New York."
    )


async def test_dates_past_the_horizon_say_so() -> None:
    toolbox, _, _ = make_toolbox()
    result = data(await run(toolbox, "check_availability", service="haircut", date="2027-06-01"))
    assert result["status"] == "ok"
    assert "bookings open only 60 days ahead" in result["note"]
    assert result["slots"]  # the latest bookable times instead


async def test_booking_again_after_cancelling_books_anew() -> None:
    toolbox, repo, _ = make_toolbox()
    arguments = {"service": "haircut", "start": "2026-12-02T10:00", "customer_name": "Ann"}
    first = data(await run(toolbox, "book_appointment", **arguments))["booking"]
    await run(toolbox, "cancel_appointment", booking_id=first["booking_id"])
    second = await run(toolbox, "book_appointment", **arguments)
    assert data(second)["status"] == "confirmed"
    assert data(second)["booking"]["booking_id"] != first["booking_id"]
    again = await run(toolbox, "book_appointment", **arguments)
    assert data(again)["booking"]["booking_id"] == data(second)["booking"]["booking_id"]
    assert [b.status for b in repo.bookings] == ["cancelled", "confirmed"]


async def test_moving_a_booking_back_and_forth_really_moves_it() -> None:
    toolbox, repo, _ = make_toolbox()
    booking = data(
        await run(
            toolbox,
            "book_appointment",
            service="haircut",
            start="2026-12-02T10:00",
            customer_name="Ann",
        )
    )["booking"]
    for start in ("2026-12-02T11:00", "2026-12-02T10:00", "2026-12-02T11:00"):
        moved = data(
            await run(
                toolbox, "reschedule_appointment", booking_id=booking["booking_id"], new_start=start
            )
        )
        assert moved["booking"]["start_local"] == f"{start}:00-05:00"
        assert repo.bookings[0].local_start == f"{start}:00-05:00"


async def test_booking_ids_spelled_back_loosely_are_found() -> None:
    toolbox, _, _ = make_toolbox()
    booking = data(
        await run(
            toolbox,
            "book_appointment",
            service="haircut",
            start="2026-12-02T10:00",
            customer_name="Ann",
        )
    )["booking"]
    spelled = booking["booking_id"].lower().replace("-", " ")
    cancelled = await run(toolbox, "cancel_appointment", booking_id=f" {spelled[:5]} {spelled[5:]}")
    assert data(cancelled)["status"] == "cancelled"
    assert data(cancelled)["booking"]["booking_id"] == booking["booking_id"]


async def test_a_turns_tool_box_is_freed_without_the_cyclic_collector() -> None:
    # One tool box per turn at hundreds of turns a second: a reference cycle in it would
    # leave each one for the collector, whose passes stall every call of the process.
    toolbox, _, _ = make_toolbox()
    await toolbox.run("get_opening_hours", "{}")
    ref = weakref.ref(toolbox)
    gc.disable()
    try:
        del toolbox
        assert ref() is None
    finally:
        gc.enable()
