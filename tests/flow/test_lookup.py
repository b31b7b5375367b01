"""A caller asking about a booking they already have is read it back, not offered new
times: by the calling number, else by the name they give; the one asked about (a day, a
range, a service) when it is there, what they do have when it is not, and an offer to book
when they have nothing. Played at Tuesday 1 December 2026, 9 AM in New York."""

from __future__ import annotations

from datetime import date

import pytest

from tests.flow.support import CALLER, OTHER, Conversation, demo_profile
from voiceops.flow.understand import understand

TUESDAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    "text",
    [
        "I booked a blow dry for tomorrow, can you tell me what time it is",
        "when is my appointment?",
        "whens my haircut",
        "can you check my booking",
        "what time am I booked for",
        "do I have anything booked next week",
        "um i think i have a booking with you on friday what time was it",
        "i have an appointment tomorrow but i forgot the time",
        "could you remind me what time my colour is",
        "what day is my appointment again",
        "i booked online for saturday but i never got a confirmation, can you check",
        "we made an appointment last week, could you make sure it's there",
        "I have a booking on Friday and I just want to confirm it",
        "have i got anything booked",
        "is my appointment still on for thursday",
        "can you tell me when im coming in",
        "did i book for thursday or friday",
        "oh and do i have anything next week",
        "i cant remember when my appointment is",
        "could you confirm the time of my appointment",
        "what did i book for friday",
        "hello yes i made an appointment last week and i cant remember what day it was",
    ],
)
def test_questions_about_a_booking_the_caller_has_are_lookups(text: str) -> None:
    u = understand(text, demo_profile(), TUESDAY)
    assert "lookup" in u.intents
    assert "book" not in u.intents


@pytest.mark.parametrize(
    "text",
    [
        "when can I come in",
        "what time can I book",
        "I'd like to book an appointment for tomorrow",
        "do i have to book ahead",
        "what time do you open",
        "do i have a choice of stylist",
        "i had an appointment at 3 and when i came nobody was there",
        "I have a wedding on saturday, what time could I get a blow dry",
        "when is the earliest appointment",
        "do you have anything next week",
        "I booked a haircut last month and I want another one, can you check Friday",
        "can you check if you have anything on Saturday",
        "do i have anything to bring",
        "what time my son can come in",
    ],
)
def test_requests_and_other_questions_are_not_lookups(text: str) -> None:
    assert "lookup" not in understand(text, demo_profile(), TUESDAY).intents


async def test_the_booking_asked_about_is_read_back_not_new_times() -> None:
    call = Conversation()
    await call.book_directly("2026-12-02T11:00", service="blow dry", name="Dana", phone=CALLER)
    turn = await call.say("I booked a blow dry for tomorrow, can you tell me what time it is")
    assert turn.tools == ["find_booking"]
    assert turn.text == (
        "You're booked for a blow dry on Wednesday, December 2nd at 11 AM."
        " Is there anything else I can help with?"
    )


async def test_several_bookings_are_read_and_the_one_asked_about_is_picked() -> None:
    call = Conversation()
    await call.book_directly("2026-12-02T11:00", service="blow dry", name="Dana", phone=CALLER)
    await call.book_directly("2026-12-04T14:00", service="haircut", name="Dana", phone=CALLER)
    every = await call.say("when is my appointment?")
    assert "blow dry on Wednesday" in every.text and "haircut on Friday" in every.text
    haircut = await call.say("and whens my haircut")
    assert haircut.text.startswith("You're booked for a haircut on Friday, December 4th at 2 PM.")
    assert "blow dry" not in haircut.text


async def test_nothing_in_the_range_asked_says_so_and_what_there_is() -> None:
    call = Conversation()
    await call.book_directly("2026-12-02T11:00", service="blow dry", name="Dana", phone=CALLER)
    turn = await call.say("do I have anything booked next week")
    assert turn.text.startswith(
        "I don't see anything next week, but you're booked for a blow dry on Wednesday"
    )
    assert "check_availability" not in turn.tools


async def test_by_name_when_the_number_has_none_and_the_day_asked_is_kept() -> None:
    call = Conversation()
    await call.book_directly("2026-12-02T11:00", service="blow dry", name="Dana Park", phone=OTHER)
    await call.book_directly("2026-12-04T10:00", service="haircut", name="Dana Park", phone=OTHER)
    asked = await call.say("hi i think i have something booked friday what time is it")
    assert "What name is the booking under?" in asked.text
    told = await call.say("Dana Park")
    assert told.text.startswith("You're booked for a haircut on Friday, December 4th at 10 AM.")


async def test_no_booking_at_all_says_so_and_offers_to_book() -> None:
    call = Conversation()
    await call.say("what time is my appointment")
    told = await call.say("Sam Lee")
    assert told.text == (
        "I can't find any upcoming bookings under Sam Lee. Would you like to book an appointment?"
    )
    offered = await call.say("yes please, a haircut")
    assert "What day would you like to come in?" in offered.text


async def test_a_booking_is_found_by_the_surname_with_a_title() -> None:
    call = Conversation(caller_phone="+12125550999")
    await call.book_directly("2026-12-09T10:00", service="haircut", name="Joan Patterson")
    turn = await call.say(
        "Hello. This is Mrs Patterson. I have an appointment next week I believe,"
        " could you tell me when it is?"
    )
    assert "haircut on Wednesday, December 9th at 10 AM" in turn.text, turn.text
