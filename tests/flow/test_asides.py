"""A booking the caller made that seems lost, "is this ...?", and services not offered."""

from __future__ import annotations

import pytest

from tests.flow.support import FRONT_DESK, Conversation
from voiceops.core.actions import Transfer

_MISSING = [
    "Hi, I booked an appointment for tomorrow last week and I just got a text saying I don't"
    " have one?",
    "my booking isn't showing up in your system",
    "you guys lost my appointment",
    "i booked a haircut for friday but its not in the system",
    "I got an email saying my appointment was cancelled and I never cancelled it",
    "the app says I don't have a booking but I made one on Monday",
    "my reservation has disappeared",
]


@pytest.mark.parametrize("said", _MISSING)
async def test_a_lost_booking_gets_sorry_and_the_choice_of_a_lookup_or_the_team(
    said: str,
) -> None:
    turn = await Conversation().say(said)
    assert turn.text.startswith("I'm so sorry about that.")
    assert "your name" in turn.text and "team" in turn.text
    assert "Which service" not in turn.text
    assert turn.tools == []


async def test_more_upset_the_team_comes_first_and_a_person_asked_for_is_put_through() -> None:
    call = Conversation()
    await call.say(_MISSING[0])
    again = await call.say(
        "This is the second time this has happened. Honestly, this is ridiculous."
    )
    assert again.text.startswith("I'm really sorry")
    assert "Which service" not in again.text and "calm down" not in again.text.lower()
    done = await call.say("No. I'm done with this. Just get me a real person, now.")
    assert isinstance(done.action, Transfer)
    assert done.action.number == FRONT_DESK


@pytest.mark.parametrize(
    "upset",
    ["this is the third time honestly", "ugh, this keeps happening", "seriously? again?"],
)
async def test_frustration_while_a_lost_booking_is_sorted_is_met_with_sorry(upset: str) -> None:
    call = Conversation()
    await call.say("my booking isn't showing up")
    turn = await call.say(upset)
    assert turn.text.startswith("I'm really sorry")
    assert turn.tools == []


async def test_a_name_given_looks_the_lost_booking_up() -> None:
    call = Conversation()
    await call.book_directly("2026-12-02T10:00", name="Dana Reyes")
    await call.say("I booked an appointment and got a text saying I don't have one")
    turn = await call.say("Dana Reyes")
    assert turn.tools == ["find_booking"]
    assert "haircut on Wednesday, December 2nd at 10 AM" in turn.text


async def test_yes_please_to_a_lookup_looks_by_the_number_first() -> None:
    call = Conversation()
    await call.say("my booking isn't showing up")
    turn = await call.say("yes please")
    assert turn.tools == ["find_booking"]


async def test_someone_from_the_team_is_called_in() -> None:
    call = Conversation()
    await call.say("my booking isn't showing up")
    turn = await call.say("the team please")
    assert isinstance(turn.action, Transfer)


async def test_a_complaint_about_a_missed_visit_still_offers_a_new_time_or_the_team() -> None:
    turn = await Conversation().say("I came in yesterday and nobody was there")
    assert turn.text.startswith("I'm really sorry about that.")
    assert "new time" in turn.text


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        ("Oh, hi, sorry. Is this Doctor Patel's dental office?", "No, this is Maple Street Hair."),
        ("is this joe's pizza", "No, this is Maple Street Hair."),
        ("sorry is this the dentist", "No, this is Maple Street Hair."),
        ("Hi, is this Maple Street Hair?", "Yes, this is Maple Street Hair."),
        ("is this the hair place on maple", "Yes, this is Maple Street Hair."),
        ("hello, is this the salon on maple street?", "Yes, this is Maple Street Hair."),
        ("is that Ava?", "Yes, this is Maple Street Hair."),
    ],
)
async def test_is_this_is_answered_yes_no_or_with_the_name(said: str, answer: str) -> None:
    turn = await Conversation().say(said)
    assert turn.text.startswith(answer)
    assert turn.tools == []


async def test_a_wrong_number_after_is_this_ends_the_call() -> None:
    call = Conversation()
    await call.say("Is this Doctor Patel's dental office?")
    turn = await call.say("Oh, my mistake, wrong number. Sorry about that, bye.")
    assert turn.tools == ["end_call"]


@pytest.mark.parametrize(
    ("said", "thing"),
    [
        ("Hi, do you guys do keratin treatments? How much would that be?", "keratin treatments"),
        ("do you do keratin and how much is it", "keratin"),
        ("do you offer hair straightening at all", "hair straightening"),
        ("do you do perms", "perms"),
    ],
)
async def test_a_service_not_offered_is_said_not_done_with_no_price_list(
    said: str, thing: str
) -> None:
    turn = await Conversation().say(said)
    assert turn.text.startswith(f"Sorry, we don't do {thing}; we do haircut, colour")
    assert turn.tools == []
    assert "dollars" not in turn.text


async def test_no_worries_thanks_anyway_after_a_service_not_offered_books_nothing() -> None:
    call = Conversation()
    await call.say("do you do keratin treatments?")
    turn = await call.say("Ah, okay, no worries. Thanks anyway.")
    assert "What day" not in turn.text
