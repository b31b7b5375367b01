"""Calls played by hand as varied callers would, where the agent lost them: "what?", half
sentences, dates as numbers, "the 2 one", a complaint, a stylist asked for by name, three
questions at once, names with fillers or without "is"."""

from __future__ import annotations

from datetime import date, time

import pytest

from tests.flow.support import CALLER, Conversation, demo_profile
from voiceops.core.actions import Transfer
from voiceops.core.transcript import Utterance
from voiceops.flow.understand import understand
from voiceops.flow.when import normalise, parse_when

TUESDAY = date(2026, 12, 1)
PROFILE = demo_profile()


async def test_what_says_the_last_words_again() -> None:
    call = Conversation()
    await call.say("A haircut on Friday, please.")
    offered = call.transcript[-1].content
    again = await call.say("What?")
    assert again.tools == []
    assert again.text == f"Of course. {offered}"
    said = await call.say("Sorry, what times did you say?")
    assert said.text == again.text


async def test_what_after_the_caller_cut_the_agent_short_says_it_all_again() -> None:
    call = Conversation()
    await call.say("A blow dry on Friday, please.")
    offered = call.transcript[-1].content
    # Talked over after three words: the transcript holds only those.
    call.transcript[-1] = Utterance(role="agent", content=" ".join(offered.split()[:3]))
    again = await call.say("Sorry, what did you say?")
    assert again.text == f"Of course. {offered}"


async def test_half_a_sentence_is_waited_for_not_failed() -> None:
    call = Conversation()
    first = await call.say("umm yeah hi so I was uh")
    assert first.text == "Sure, take your time."
    second = await call.say("I wanted to um get a")
    assert second.text == "Sure, take your time."
    third = await call.say("the the haircut")
    assert third.text == "What day would you like to come in?"
    assert "team" not in first.text + second.text + third.text


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("on 12/15", date(2026, 12, 15)),
        ("12/4/2026", date(2026, 12, 4)),
        ("25/12", date(2026, 12, 25)),
    ],
)
def test_a_date_written_in_numbers_is_read_month_first(said: str, day: date) -> None:
    assert parse_when(normalise(said), TUESDAY).day == day


def test_a_time_said_as_the_one_is_the_hour_and_a_bare_unit_is_no_minute() -> None:
    assert parse_when("the 2 one", TUESDAY, expect_time=True).at == time(14, 0)
    assert parse_when("two one", TUESDAY, expect_time=True).at == time(14, 0)
    assert parse_when("two oh five", TUESDAY, expect_time=True).at == time(14, 5)
    assert parse_when("two fifteen", TUESDAY, expect_time=True).at == time(14, 15)
    assert parse_when("later in the day", TUESDAY).part == "afternoon"


async def test_the_2_one_picks_the_2_pm_offer() -> None:
    call = Conversation()
    await call.say("A colour on Saturday afternoon, I'm Jasmine.")
    turn = await call.say("the 2 one")
    assert "Saturday, December 5th at 2 PM" in turn.text


async def test_a_complaint_gets_an_apology_and_a_person_or_a_new_time() -> None:
    call = Conversation()
    turn = await call.say(
        "I had an appointment this morning and nobody was there when I showed up!"
    )
    assert turn.tools == []
    assert turn.text == (
        "I'm really sorry about that. I can have someone from the team look into it, or book"
        " you a new time now. Which would you prefer?"
    )
    person = await call.say("Someone from the team.")
    assert person.arguments("escalate") == {"reason": "caller complaint", "priority": "high"}
    assert isinstance(person.action, Transfer)


async def test_a_complaint_then_a_new_time() -> None:
    call = Conversation()
    await call.say("You guys cancelled on me last week, this is ridiculous.")
    turn = await call.say("Just book me a haircut on Friday.")
    assert turn.arguments("check_availability")["service"] == "haircut"
    assert turn.arguments("check_availability")["date"] == "2026-12-04"


async def test_a_stylist_asked_for_is_not_the_caller_and_is_answered_honestly() -> None:
    call = Conversation()
    turn = await call.say("Can I book a haircut with Maria on Friday?")
    assert turn.text.startswith(
        "I can't book a particular stylist or see who's in, but I can book the time for you."
    )
    assert call.flow["slots"]["name"] is None
    again = await call.say("I really want Maria though, is she in that day?")
    assert "Thanks, Maria" not in again.text
    assert again.text.startswith("Sorry, I can't see when Maria is in.")
    assert "don't have that information" not in again.text
    assert call.flow["slots"]["name"] is None


@pytest.mark.parametrize(
    ("said", "name"),
    [("My name Nguyen", "Nguyen"), ("it's uh Tomasz", "Tomasz"), ("Umm. Dev.", "Dev")],
)
def test_names_said_with_fillers_or_without_is(said: str, name: str) -> None:
    assert understand(said, PROFILE, TUESDAY, expect="name").name == name


async def test_a_name_said_twice_in_one_reply_while_times_are_offered_is_the_fuller() -> None:
    call = Conversation()
    await call.say("A colour on Saturday.")
    turn = await call.say("It's Jasmine, Jasmine Wu")
    assert turn.text.startswith("Thanks, Jasmine Wu.")


async def test_three_questions_at_once_are_answered_without_starting_a_booking() -> None:
    call = Conversation()
    turn = await call.say("Hi, how much is a colour, are you open Sunday, and do you have parking?")
    assert turn.tools == ["get_service_info", "get_opening_hours"]
    assert "120 dollars" in turn.text
    assert "closed on Sunday" in turn.text
    assert "parking" in turn.text
    assert turn.text.endswith("Would you like to book a colour?")
    assert call.flow["task"] is None


async def test_change_my_time_moves_the_booking_the_caller_has() -> None:
    call = Conversation()
    await call.book_directly("2026-12-04T10:00", service="colour", name="Ines", phone=CALLER)
    turn = await call.say("Hello, I want change my time please")
    assert turn.tools == ["find_booking"]
    assert "I see your colour on Friday, December 4th at 10 AM." in turn.text


async def test_change_my_time_while_booking_changes_the_time_asked_for() -> None:
    call = Conversation()
    await call.say("A haircut on Friday at 3, I'm Sam.")
    turn = await call.say("Can I change my time to 4?")
    assert "find_booking" not in turn.tools
    assert "a haircut on Friday, December 4th at 4 PM for Sam" in turn.text


async def test_hold_on_is_waited_for() -> None:
    call = Conversation()
    turn = await call.say("hold on one sec")
    assert turn.text == "Sure, take your time."
    assert call.flow["attempts"] == {}


def test_after_school_is_the_afternoon() -> None:
    said = understand("next Tuesday after school", PROFILE, TUESDAY)
    assert said.when.part == "afternoon"
    assert said.when.day == date(2026, 12, 8)


async def test_a_caller_who_says_yes_to_everything_is_led_to_a_time() -> None:
    call = Conversation()
    await call.say("yes a haircut")
    assert (await call.say("yes")).text == "What day would you like to come in?"
    earliest = await call.say("yes")
    assert earliest.text.startswith("I'll find the earliest times for you.")
    assert earliest.tools == ["check_availability"]
    assert (await call.say("yes")).text == "Which one would you like?"
    first = await call.say("yes")
    assert first.text == "Shall I take Tuesday, December 1st at 10 AM?"
    assert "10 AM" in (await call.say("yes")).text
