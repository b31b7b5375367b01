"""Limits said instead of a time: "after 5", "not before 10", "my bus gets in at 9:30".

A clock time said as a limit is not the time wanted: the agent offers times on the right
side of it, with time to travel when the limit is an event (a bus, work, the school run).
"""

from __future__ import annotations

from datetime import date, time

import pytest

from tests.flow.support import Conversation
from voiceops.flow.when import parse_when

FRIDAY = date(2026, 12, 18)


@pytest.mark.parametrize(
    ("said", "after", "before"),
    [
        ("not too early, the bus doesn't come until half past nine", time(10, 0), None),
        ("my bus gets in at 9:30", time(10, 0), None),
        ("I finish work at 5", time(17, 30), None),
        ("i get off work at 5 so after that", time(17, 30), None),
        ("I work until 5", time(17, 30), None),
        ("after I drop the kids at 9", time(9, 30), None),
        ("not before 10", time(10, 0), None),
        ("no earlier than 10", time(10, 0), None),
        ("I'm not free until 2", time(14, 0), None),
        ("I can't make it until half two", time(14, 30), None),
        ("any time from 2 onwards", time(14, 0), None),
        ("before 3", None, time(15, 0)),
        ("I need to be done by 3", None, time(15, 0)),
        ("no later than 4", None, time(16, 0)),
        ("I have to pick up the kids at 3", None, time(14, 30)),
        ("I have to pick my son up at 3", None, time(14, 30)),
        ("my bus leaves at 3", None, time(14, 30)),
        ("I have a meeting at 9", None, time(8, 30)),
        ("i've got a job interview at 2", None, time(13, 30)),
        ("I'm free until 4", None, time(16, 0)),
        ("anytime before noon", None, time(12, 0)),
        ("I'm at work till 5", time(17, 30), None),
        ("sometime between 2 and 4", time(14, 0), time(16, 0)),
        ("between 10am and noon", time(10, 0), time(12, 0)),
    ],
)
def test_a_limit_is_read_as_one_not_as_the_time(
    said: str, after: time | None, before: time | None
) -> None:
    when = parse_when(said, FRIDAY)
    assert when.at is None
    assert (when.after, when.before) == (after, before)


def test_after_a_time_means_later_than_it() -> None:
    when = parse_when("any time after 9:30", FRIDAY)
    assert when.at is None and when.after is not None
    assert when.after > time(9, 30)
    assert when.after < time(9, 31)


@pytest.mark.parametrize(
    ("said", "at"),
    [
        ("from eleven to two o'clock", time(14, 0)),
        ("the Tuesday after, at 2", time(14, 0)),
        ("the Tuesday after 9 o'clock", time(9, 0)),
        ("can I come by at 3", time(15, 0)),
        ("tomorrow after work, around six", time(18, 0)),
        ("at 3", time(15, 0)),
    ],
)
def test_a_time_that_is_no_limit_stays_the_time(said: str, at: time) -> None:
    when = parse_when(said, FRIDAY)
    assert when.at == at
    assert (when.after, when.before) == (None, None)


async def test_after_lunch_offers_afternoon_times_and_half_one_takes_one_thirty() -> None:
    call = Conversation()
    offered = await call.say("Any chance of a trim tomorrow? Sometime after lunch ideally.")
    assert "1 PM" in offered.text and "noon" not in offered.text
    picked = await call.say("Half one would be great. Name's Tom.")
    assert "1:30 PM" in picked.text and "Tom" in picked.text
    done = await call.say("yes")
    assert done.arguments("book_appointment")["start"] == "2026-12-02T13:30"


@pytest.mark.parametrize(
    ("said", "first"),
    [
        ("a blow dry thursday morning, my bus gets in at half nine", "10 AM"),
        ("haircut thursday, I finish work at 5", "5:30 PM"),
        ("colour tomorrow but not before 11", "11 AM"),
        ("a trim on thursday after I drop the kids at 9", "9:30 AM"),
        ("haircut friday after 5", "5:30 PM"),
    ],
)
async def test_the_times_offered_start_past_the_limit(said: str, first: str) -> None:
    turn = await Conversation().say(said)
    assert turn.text.startswith("On ")
    times = turn.text.split(" I have ", 1)[1]
    assert times.startswith(first), turn.text


async def test_between_two_times_offers_times_inside_them() -> None:
    turn = await Conversation().say("haircut thursday sometime between 2 and 4")
    assert "I have 2 PM, 2:30 PM or 3 PM" in turn.text


async def test_the_times_offered_end_before_the_limit() -> None:
    turn = await Conversation().say("beard trim tomorrow, I have to pick up the kids at 3")
    assert "2:30 PM" not in turn.text and "3 PM" not in turn.text
    assert "2 PM" in turn.text


async def test_a_limit_said_later_narrows_the_times_offered() -> None:
    call = Conversation()
    await call.say("haircut tomorrow morning")
    turn = await call.say("actually not before 11")
    assert "I have 11 AM" in turn.text and "10:30" not in turn.text


async def test_nothing_inside_the_limit_is_said_before_other_times() -> None:
    turn = await Conversation().say("haircut saturday before 10")
    assert turn.text.startswith("I don't have anything free before 10 AM.")


async def test_a_time_named_exactly_is_booked_even_with_a_limit() -> None:
    call = Conversation()
    await call.say("haircut thursday, I finish work at 5")
    turn = await call.say("6 o'clock, it's Andre")
    assert "6 PM" in turn.text and "Andre" in turn.text


async def test_the_school_run_is_no_question_about_children_s_cuts() -> None:
    turn = await Conversation().say(
        "a colour friday, after I drop the kids at school at half eight"
    )
    assert "children" not in turn.text
    assert "I have 9 AM" in turn.text


def test_a_time_asked_for_stays_the_time_beside_an_event_it_must_be_over_by() -> None:
    when = parse_when("can you do a blow dry at 8am tomorrow? I have a meeting at 9", FRIDAY)
    assert when.at == time(8, 0)
    assert when.before == time(8, 30)
