"""Clock times as speech-to-text writes them ("930", "1030", "230" with no colon), two hours
side by side ("not 11, 12"), and a time corrected however it is put: "make that 12 instead
of 11", "not 11, 12", "change the time to 12", "can we say 12 rather than 11", "12 would
be better than 11", while the name is asked or at the read-back."""

from __future__ import annotations

from datetime import date, time

import pytest

from tests.flow.support import Conversation, demo_profile
from voiceops.flow.understand import understand
from voiceops.flow.when import normalise, parse_when
from voiceops.flow.written import written_numbers

PROFILE = demo_profile()
TUESDAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("said", "at"),
    [
        ("hey can i get a haircut tomorrow at like 930", time(9, 30)),
        ("930am", time(9, 30)),
        ("at 1030 on friday", time(10, 30)),
        ("230 works for me", time(14, 30)),
        ("around 1245", time(12, 45)),
        ("1130ish", time(11, 30)),
        ("how about 415 pm", time(16, 15)),
    ],
)
def test_a_clock_time_written_without_its_colon(said: str, at: time) -> None:
    assert parse_when(said, TUESDAY).at == at


@pytest.mark.parametrize(
    "said",
    [
        "my number is 212-555-1230",
        "212 555 1230",
        "it was $930",
        "930 dollars for a colour?",
        "about 100 people",
        "I live at 230 Main Street",
        "back in 2026",
        "1,230",
        "call me on 07700 900123",
    ],
)
def test_numbers_that_are_no_clock_time_stay_as_they_are(said: str) -> None:
    lowered = said.lower()
    assert written_numbers(lowered) == lowered
    assert parse_when(said, TUESDAY).at is None


@pytest.mark.parametrize(
    ("said", "normal"),
    [
        ("not 11, 12", "not 11 or 12"),
        ("no, not eleven, twelve", "no not eleven or twelve"),
        ("3, 4 or 5", "3 or 4 or 5"),
    ],
)
def test_two_hours_a_comma_keeps_apart_are_not_one_time(said: str, normal: str) -> None:
    assert normalise(said) == normal


@pytest.mark.parametrize(
    "said",
    [
        "Oh wait, sorry, can we make that 12 instead of 11? I forgot the school run.",
        "not 11, 12",
        "no, not 11, 12",
        "oh wait no not eleven, twelve",
        "can we say 12 rather than 11",
        "change the time to 12",
        "can you change it from 11 to 12",
        "can you swap 11 for 12",
        "actually 12 would be better than 11",
        "sorry can i do twelve o'clock rather than eleven",
        "um can we move it to 12 instead of 11",
    ],
)
@pytest.mark.parametrize("expect", [None, "name", "read_back"])
def test_a_time_corrected_names_the_new_one(said: str, expect: str | None) -> None:
    u = understand(said, PROFILE, TUESDAY, expect=expect)  # type: ignore[arg-type]
    assert u.when.at == time(12, 0)


@pytest.mark.parametrize(
    "said",
    ["not 11, 12", "can we say 12 rather than 11", "make that 12 instead of 11 please"],
)
async def test_a_time_corrected_while_the_name_is_asked(said: str) -> None:
    call = Conversation()
    await call.say("I'd like a haircut on Friday at 11")
    turn = await call.say(said)
    assert turn.arguments("check_availability")["time"] == "12:00"
    assert "noon" in turn.text and "name" in turn.text
    await call.say("Tom Becker")
    booked = await call.say("yes")
    assert booked.arguments("book_appointment")["start"] == "2026-12-04T12:00"


@pytest.mark.parametrize(
    "said",
    [
        "no, not 11, 12",
        "change the time to 12",
        "can you change it from 11 to 12",
        "actually 12 would be better than 11",
        "oh wait no not eleven, twelve",
    ],
)
async def test_a_time_corrected_at_the_read_back(said: str) -> None:
    call = Conversation()
    await call.say("a haircut friday at 11 please")
    await call.say("Tom")
    turn = await call.say(said)
    assert "at noon for Tom" in turn.text
    booked = await call.say("yes")
    assert booked.arguments("book_appointment")["start"] == "2026-12-04T12:00"


async def test_a_time_written_without_a_colon_is_taken_as_asked() -> None:
    call = Conversation()
    turn = await call.say("hey can i get a haircut tomorrow at like 930")
    assert turn.arguments("check_availability")["time"] == "09:30"
    assert "9:30 AM is free" in turn.text


@pytest.mark.parametrize(
    "said",
    [
        "Oh no, not eleven, twelve, I have the doctor at eleven",
        "twelve please, I've got a meeting at 11",
        "12 would be better, i have my dentist at 11",
    ],
)
def test_a_time_the_caller_is_busy_at_is_not_the_one_wanted(said: str) -> None:
    u = understand(said, PROFILE, TUESDAY, expect="time")
    assert u.when.at == time(12, 0)


def test_an_appointment_asked_about_is_no_time_the_caller_is_busy_at() -> None:
    u = understand("do you have an appointment at 11", PROFILE, TUESDAY)
    assert u.when.at == time(11, 0)
