"""The caller's first words: a greeting, and then what the call is about. The greeting is
answered only when nothing else was said; "good afternoon" greets and asks for no
afternoon; a question asked indirectly ("I wondered where you are") is a question."""

from __future__ import annotations

from datetime import date, time

import pytest

from tests.flow.support import Conversation, demo_profile
from voiceops.flow.understand import understand

TUESDAY = date(2026, 12, 1)
GREETED = "Hello! What can I help you with today?"


@pytest.mark.parametrize(
    "said",
    [
        "Hello, yes, good morning. I wondered where exactly you are, my sister recommended you.",
        "hi there um i was just wondering where you guys are located",
        "Good afternoon dear. Could you tell me how I find you? I don't drive much these days.",
        "hello yes hi, im calling to ask what the address is",
        "Hiya, whereabouts is the salon exactly?",
    ],
)
async def test_a_greeting_then_where_the_salon_is_gets_the_address(said: str) -> None:
    turn = await Conversation().say(said)
    assert "18 Maple Street" in turn.text
    assert GREETED not in turn.text


@pytest.mark.parametrize(
    "said",
    [
        "Hello, good afternoon, I was wondering whether there's anywhere to park the car",
        "hi yes um is there parking nearby because my knees are bad",
        "Good morning. I'd like to know if there's somewhere I can park.",
    ],
)
async def test_a_greeting_then_parking_gets_the_parking_answer(said: str) -> None:
    turn = await Conversation().say(said)
    assert "public lot behind the bakery" in turn.text
    assert GREETED not in turn.text


@pytest.mark.parametrize(
    "said",
    [
        "Good afternoon. Do you have discount for seniors? I am seventy-two years old.",
        "hi there quick question do you guys do student discounts",
        "Hello dear, I'm ringing to ask if you have a lift in the building",
        "good evening, hi, can I bring my dog with me",
        "Hello, I was hoping you could tell me whether you sell hair products",
    ],
)
async def test_a_greeting_then_a_question_the_profile_cannot_answer(said: str) -> None:
    turn = await Conversation().say(said)
    assert turn.text.startswith("I don't have that information")
    assert "call you back" in turn.text
    assert turn.tools == []


@pytest.mark.parametrize(
    "said",
    ["Hello?", "hi there, good morning", "Good afternoon, dear.", "hello yes hi", "hey"],
)
async def test_a_greeting_alone_is_greeted(said: str) -> None:
    turn = await Conversation().say(said)
    assert turn.text == GREETED


@pytest.mark.parametrize(
    "said",
    ["hi, I have a quick question", "hello yes, I've got a question for you", "um one more thing"],
)
async def test_a_question_announced_is_waited_for(said: str) -> None:
    turn = await Conversation().say(said)
    assert turn.text == "Sure, go ahead."


@pytest.mark.parametrize(
    "said",
    [
        "hi im new to the area and looking for a salon, what sort of things do you do",
        "Hello! What kinds of treatments do you have?",
    ],
)
async def test_a_greeting_then_what_the_salon_does_lists_the_services(said: str) -> None:
    turn = await Conversation().say(said)
    assert turn.text.startswith("We offer haircut, colour, blow dry and beard trim.")


@pytest.mark.parametrize(
    ("said", "at"),
    [
        ("good morning, a haircut tomorrow at 3 please", "15:00"),
        ("Hello, good evening, could I book a blow dry for Friday at four", "16:00"),
        ("good afternoon i need a beard trim thursday at ten", "10:00"),
    ],
)
async def test_good_morning_is_no_part_of_the_day(said: str, at: str) -> None:
    turn = await Conversation().say(said)
    assert turn.arguments("check_availability")["time"] == at


@pytest.mark.parametrize(
    "said",
    [
        "hi good morning, is it possible to come in this afternoon for a haircut",
        "could I get a beard trim this afternoon",
        "Hello, do you have anything this morning at 11 for a blow dry?",
    ],
)
async def test_this_afternoon_is_today(said: str) -> None:
    turn = await Conversation().say(said)
    assert turn.arguments("check_availability")["date"] == "2026-12-01"


@pytest.mark.parametrize(
    "said",
    [
        "I was wondering if you're open on Sunday",
        "i wondered where exactly you are",
        "could you tell me whether you take cards",
        "I'd like to know if there's parking",
        "quick question do you guys do beards",
        "im calling to ask about the price of a colour",
    ],
)
def test_questions_asked_indirectly_are_questions(said: str) -> None:
    assert understand(said, demo_profile(), TUESDAY).question


@pytest.mark.parametrize(
    "said", ["a haircut tomorrow at 3", "my neighbour recommended you", "Sam Becker", "yes please"]
)
def test_statements_are_not_questions(said: str) -> None:
    assert not understand(said, demo_profile(), TUESDAY).question


def test_good_afternoon_opening_a_booking_leaves_the_time_as_said() -> None:
    u = understand("Good afternoon! Tomorrow at 10, a colour.", demo_profile(), TUESDAY)
    assert u.when.at == time(10, 0) and u.when.day == date(2026, 12, 2)
    assert "greeting" in u.intents


def test_where_the_salon_is_comes_from_the_address_when_no_faq_entry_says() -> None:
    profile = demo_profile()
    profile = profile.model_copy(
        update={"faq": [e for e in profile.faq if "address" not in e.keywords]}
    )
    u = understand("hello, how do I find you?", profile, TUESDAY)
    assert u.faq == "We're at 18 Maple Street, Brooklyn."
