"""Calls that callers hung up on, turn by turn over the real tools: a name no list knows
said while times are offered, a service asked for by another word or not listed at all,
two services at their own times where the second is taken, and a move whose booking is
nowhere to be found."""

from __future__ import annotations

import pytest

from tests.flow.support import Conversation, demo_profile
from voiceops.core.actions import Transfer
from voiceops.flow.understand import understand

TUESDAY = Conversation().clock.now_local.date()
PROFILE = demo_profile()


# --- a name nobody's list knows -------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "name"), [("Dev", "Dev"), ("umm, dev.", "Dev"), ("Ngozi Eze", "Ngozi Eze")]
)
def test_a_bare_reply_is_a_name_when_one_is_wanted(said: str, name: str) -> None:
    assert understand(said, PROFILE, TUESDAY, expect="time", name_wanted=True).name == name
    # Without a name wanted, a word no list knows is not taken for one.
    assert understand("Dev", PROFILE, TUESDAY, expect="time").name is None


@pytest.mark.parametrize(
    "said",
    ["whichever", "Either.", "huh?", "tomorrow", "Yes.", "no", "the haircut", "Later", "Team."],
)
def test_a_reply_that_says_something_else_is_not_a_name(said: str) -> None:
    assert understand(said, PROFILE, TUESDAY, expect="time", name_wanted=True).name is None


async def test_a_name_no_list_knows_said_while_times_are_offered_is_kept() -> None:
    call = Conversation()
    await call.say("I'd like a haircut on Friday")
    turn = await call.say("Dev")
    assert turn.tools == []
    assert turn.text.startswith("Thanks, Dev. On Friday, December 4th I have")
    picked = await call.say("The first one.")
    assert "for Dev" in picked.text
    booked = await call.say("Yes.")
    assert booked.arguments("book_appointment")["customer_name"] == "Dev"


async def test_a_name_introduced_as_a_sentence_of_its_own_is_taken() -> None:
    call = Conversation()
    turn = await call.say("I'm Lou. A colour on Thursday at 10, please.")
    assert "for Lou" in turn.text
    assert "name" not in turn.text


# --- a service by another word, or not on the list ---------------------------------------


async def test_a_service_asked_for_by_an_alias_is_answered_as_the_service() -> None:
    turn = await Conversation().say("Do you do fades?")
    assert turn.tools == ["get_service_info"]
    assert turn.arguments("get_service_info") == {"service": "haircut"}
    assert turn.text.startswith("Yes, we do that as a haircut. A haircut takes 30 minutes")
    assert turn.text.endswith("Would you like to book a haircut?")


async def test_a_service_the_list_does_not_name_gets_what_is_offered() -> None:
    call = Conversation()
    turn = await call.say("do you guys do keratin treatments?")
    assert turn.tools == []
    assert turn.text == (
        "Sorry, we don't do keratin treatments; we do haircut, colour, blow dry and"
        " beard trim. Would you like to book an appointment?"
    )
    yes = await call.say("Yes, a blow dry on Saturday.")
    assert yes.arguments("check_availability")["service"] == "blow dry"


async def test_a_question_about_something_that_is_no_service_is_not_read_as_one() -> None:
    turn = await Conversation().say("Do you do student discounts?")
    assert "we don't do" not in turn.text
    assert turn.text.startswith("I don't have that information")


async def test_what_is_free_in_the_morning_is_not_the_list_of_services() -> None:
    call = Conversation()
    await call.say("A haircut tomorrow, please.")
    turn = await call.say("What do you have in the morning?")
    assert "We offer" not in turn.text
    assert turn.arguments("check_availability")["date"] == "2026-12-02"


# --- two services at their own times, the second taken ------------------------------------


async def _second_taken() -> tuple[Conversation, str]:
    call = Conversation()
    await call.book_directly("2026-12-05T11:00", service="beard trim")
    turn = await call.say(
        "I'm Sam. I need a colour on Wednesday at 10 and a beard trim on Saturday at 11."
    )
    return call, turn.text


async def test_the_second_service_is_checked_before_the_read_back_and_offered_elsewhere() -> None:
    call, said = await _second_taken()
    assert "Sorry, the beard trim isn't free on Saturday at 11 AM." in said
    assert "For a beard trim, on Saturday, December 5th I have" in said
    assert "Shall I book" not in said
    picked = await call.say("10:30 works.")
    assert picked.tools == []
    assert picked.text.startswith("Great, a beard trim on Saturday, December 5th at 10:30 AM.")
    assert "then a beard trim on Saturday at 10:30 AM. Shall I book them?" in picked.text
    booked = await call.say("Yes.")
    assert [c for c in booked.tools if c == "book_appointment"] == ["book_appointment"] * 2
    mine = [(b.service, b.local_start[:16]) for b in call.repo.bookings if b.customer_name == "Sam"]
    assert mine == [("colour", "2026-12-02T10:00"), ("beard trim", "2026-12-05T10:30")]


async def test_another_time_for_the_second_service_is_checked_first() -> None:
    call, _ = await _second_taken()
    turn = await call.say("How about Friday at 11 instead?")
    assert turn.tools == ["check_availability"]
    assert turn.arguments("check_availability") == {
        "service": "beard trim",
        "date": "2026-12-04",
        "days": 1,
        "time": "11:00",
    }
    assert "then a beard trim on Friday at 11 AM. Shall I book them?" in turn.text


async def test_no_to_the_second_services_times_books_the_first_alone() -> None:
    call, _ = await _second_taken()
    turn = await call.say("No, none of those.")
    assert turn.text.startswith("No problem, I'll leave the beard trim for now.")
    assert "a colour on Wednesday, December 2nd at 10 AM for Sam. Shall I book it?" in turn.text
    booked = await call.say("Yes please.")
    assert booked.tools == ["book_appointment"]
    assert booked.arguments("book_appointment")["service"] == "colour"


async def test_a_time_named_after_a_late_refusal_is_read_back_not_booked_at_once() -> None:
    call = Conversation()
    await call.say("I'm Sam. A colour on Wednesday at 10 and a beard trim on Saturday at 11.")
    # Taken between the read-back and the yes: the beard trim's time is no longer free.
    await call.book_directly("2026-12-05T11:00", service="beard trim")
    turn = await call.say("Yes.")
    assert turn.tools.count("book_appointment") == 1
    other = await call.say("1 PM then.")
    assert "book_appointment" not in other.tools
    assert "Shall I book it?" in other.text


# --- a move whose booking is nowhere ---------------------------------------------------


async def _lost() -> tuple[Conversation, str]:
    call = Conversation()
    await call.say("I need to move my appointment.")
    turn = await call.say("Ana Lopez")
    return call, turn.text


async def test_a_booking_not_found_offers_a_new_booking_or_a_person_once() -> None:
    call, said = await _lost()
    assert said == (
        "I can't find a booking under that name either. I can make you a new booking, or"
        " have someone from the team look into it. Which would you prefer?"
    )
    turn = await call.say("What time do you close today?")
    assert turn.tools == ["get_opening_hours"]
    assert "9 AM to 5 PM" in turn.text
    assert turn.text.endswith(
        "Would you like a new booking, or someone from the team to look into it?"
    )


async def test_a_booking_not_found_then_a_new_one_keeps_what_was_said() -> None:
    call, _ = await _lost()
    turn = await call.say("Just book me a new one for Friday at 2 then, a haircut.")
    assert turn.tools == ["check_availability"]
    assert turn.arguments("check_availability") == {
        "service": "haircut",
        "date": "2026-12-04",
        "days": 1,
        "time": "14:00",
    }
    assert "a haircut on Friday, December 4th at 2 PM for Ana Lopez" in turn.text


async def test_a_booking_not_found_then_a_person() -> None:
    call, _ = await _lost()
    turn = await call.say("Someone from the team, please.")
    assert turn.tools == ["escalate"]
    assert isinstance(turn.action, Transfer)


async def test_a_booking_not_found_then_no_thanks() -> None:
    call, _ = await _lost()
    turn = await call.say("No, that's okay.")
    assert turn.tools == []
    assert turn.text == "No problem. Is there anything else I can help with?"
