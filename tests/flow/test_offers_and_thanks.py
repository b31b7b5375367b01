"""Replies to the agent's open questions that answer them without the words asked for: a day
or a time said to "Would you like to book a colour?" is a yes to the colour ("can I do
Saturday the 19th at 1?", "what about Friday morning"), and thanks to "Is there anything
else I can help with?" with nothing new asked is a goodbye ("cheers", "brilliant, thank
you", "see you Saturday"), as is "I'll call back later" wherever it comes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.flow.support import Conversation
from voiceops.core.actions import EndCall

# Tuesday 8 December 2026, 10:00 in New York.
TUE_1000_NY = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)


async def offered(service: str = "colour") -> Conversation:
    call = Conversation(now=TUE_1000_NY)
    turn = await call.say(f"how much is a {service}?")
    assert turn.text.endswith(f"Would you like to book a {service}?")
    return call


@pytest.mark.parametrize(
    ("said", "date", "at"),
    [
        ("Can I do Saturday the 19th at 1?", "2026-12-19", "13:00"),
        ("saturday the 19th at 1 please", "2026-12-19", "13:00"),
        ("what about friday morning", "2026-12-11", "09:00"),
        ("how about next tuesday afternoon", "2026-12-15", "14:00"),
        ("is saturday free?", "2026-12-12", None),
        ("um tomorrow at 930?", "2026-12-09", "09:30"),
        ("friday after 5", "2026-12-11", "18:00"),
        ("hmm ok, not today, maybe saturday morning?", "2026-12-12", "09:00"),
        ("no, maybe next week", "2026-12-14", None),
    ],
)
async def test_a_day_or_time_said_to_a_booking_offer_books_the_service(
    said: str, date: str, at: str | None
) -> None:
    call = await offered()
    turn = await call.say(said)
    checked = turn.arguments("check_availability")
    assert checked["service"] == "colour" and checked["date"] == date
    assert checked.get("time") == at
    assert "Which service" not in turn.text


async def test_a_day_and_a_question_to_a_booking_offer_answers_then_books() -> None:
    call = await offered("blow dry")
    turn = await call.say("Can I do Saturday at 1, and how long does it take?")
    assert turn.text.startswith("A blow dry takes 45 minutes.")
    assert turn.arguments("check_availability")["time"] == "13:00"


@pytest.mark.parametrize(
    "said",
    [
        "are you open on sunday?",
        "how much is it on a saturday?",
        "no thanks",
        "no thanks, I'll think about it, maybe next week",
        "no thanks, I'll call next week",
    ],
)
async def test_a_question_or_a_no_to_a_booking_offer_books_nothing(said: str) -> None:
    call = await offered()
    turn = await call.say(said)
    assert "check_availability" not in turn.tools


async def booked() -> Conversation:
    call = Conversation(now=TUE_1000_NY)
    await call.say("a haircut tomorrow at 10")
    await call.say("Tom")
    turn = await call.say("yes")
    assert turn.text.endswith("Is there anything else I can help with?")
    return call


@pytest.mark.parametrize(
    "said",
    [
        "cheers",
        "thanks, that's great",
        "brilliant, thank you",
        "ok thank you",
        "perfect, cheers",
        "no that's great thanks",
        "ta very much",
        "thanks, i'll see you tomorrow",
        "lovely, much appreciated",
    ],
)
async def test_thanks_to_anything_else_ends_the_call(said: str) -> None:
    call = await booked()
    turn = await call.say(said)
    assert isinstance(turn.action, EndCall)
    assert turn.action.message.startswith("You're welcome.")


@pytest.mark.parametrize(
    "said",
    [
        "yes thanks, one more thing",
        "thanks. what time do you close today?",
        "thank you. um",
        "thanks, and how much is a colour?",
        "thanks, actually can I book a beard trim too",
    ],
)
async def test_thanks_with_more_to_come_keeps_the_call(said: str) -> None:
    call = await booked()
    turn = await call.say(said)
    assert turn.action is None


@pytest.mark.parametrize(
    "said",
    [
        "Okay, I'll call back later. Thanks",
        "ok i will ring back",
        "alright, I'll call you back",
        "hang on, i need to check with work, ill call you back",
    ],
)
async def test_a_caller_who_will_call_back_is_let_go(said: str) -> None:
    call = await offered("haircut")
    turn = await call.say(said)
    assert isinstance(turn.action, EndCall)


async def test_a_caller_who_will_call_back_mid_booking_is_let_go() -> None:
    call = Conversation(now=TUE_1000_NY)
    await call.say("i need a haircut friday at 2")
    turn = await call.say("hang on, i need to check with work, ill call you back")
    assert isinstance(turn.action, EndCall)
    assert "book_appointment" not in turn.tools


@pytest.mark.parametrize(
    "said", ["that is correct", "that is right", "yes that is lovely", "that is fine"]
)
async def test_an_uncontracted_yes_to_the_read_back_books(said: str) -> None:
    call = Conversation(now=TUE_1000_NY)
    await call.say("a haircut on wednesday at 1030")
    await call.say("Jay")
    turn = await call.say(said)
    assert turn.arguments("book_appointment")["start"] == "2026-12-09T10:30"


@pytest.mark.parametrize("said", ["ok great thanks bye", "yes please, bye", "perfect, cheers, bye"])
async def test_a_yes_and_goodbye_to_the_read_back_books_then_ends(said: str) -> None:
    call = Conversation(now=TUE_1000_NY)
    await call.say("a haircut on wednesday at 1030")
    await call.say("Jay")
    turn = await call.say(said)
    assert turn.arguments("book_appointment")["customer_name"] == "Jay"
    assert turn.text.startswith("You're all set.")
    assert isinstance(turn.action, EndCall)


@pytest.mark.parametrize("said", ["no thanks bye", "bye", "actually no, bye"])
async def test_a_goodbye_without_a_yes_to_the_read_back_books_nothing(said: str) -> None:
    call = Conversation(now=TUE_1000_NY)
    await call.say("a haircut on wednesday at 1030")
    await call.say("Jay")
    turn = await call.say(said)
    assert "book_appointment" not in turn.tools
