"""Clock times as callers say them loosely: "half one", "two-ish", "one thirty", "like 6"."""

from __future__ import annotations

from datetime import date, time

import pytest

from tests.flow.support import Conversation
from voiceops.flow.when import parse_when

FRIDAY = date(2026, 12, 18)


@pytest.mark.parametrize(
    ("said", "at"),
    [
        ("Half one would be great. Name's Tom.", time(13, 30)),
        ("half two", time(14, 30)),
        ("could you do half nine", time(9, 30)),
        ("about half ten please", time(10, 30)),
        ("half twelve", time(12, 30)),
        ("at half 2", time(14, 30)),
        ("half past two", time(14, 30)),
        ("quarter to three", time(14, 45)),
        ("quarter past 10", time(10, 15)),
        ("ten past two", time(14, 10)),
        ("twenty to four", time(15, 40)),
        ("one thirty would be good", time(13, 30)),
        ("um two thirty", time(14, 30)),
        ("ten fifteen", time(10, 15)),
        ("two-ish?", time(14, 0)),
        ("6ish", time(18, 0)),
        ("around three", time(15, 0)),
        ("thursday evening, like 6?", time(18, 0)),
        ("something like 3 o'clock", time(15, 0)),
        ("at like maybe 4", time(16, 0)),
    ],
)
def test_a_clock_time_said_loosely_is_read_without_being_asked_for(said: str, at: time) -> None:
    assert parse_when(said, FRIDAY).at == at


@pytest.mark.parametrize(
    "said",
    [
        "I'd like two haircuts",
        "I'd like two please",
        "we would like 2",
        "half an hour",
        "half of them",
        "one of those",
        "the first one",
        "two people",
        "I'd like one",
    ],
)
def test_numbers_that_are_no_clock_time_stay_none(said: str) -> None:
    assert parse_when(said, FRIDAY).at is None


async def test_a_time_between_the_booking_steps_says_when_appointments_start() -> None:
    call = Conversation()
    turn = await call.say("a haircut thursday, quarter to three")
    assert turn.text.startswith("Sorry, appointments start on the hour and half hour.")
    assert "2:30 PM" in turn.text and "3 PM" in turn.text
