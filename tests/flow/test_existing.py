"""The flow brain on calls about a booking the caller has, over the real tools: a move asked
for in many ways moves it (never a second booking), said relative to the booking itself;
the booking meant is told apart from the caller's others by what they said of it; a yes
after a silence still confirms; the words a caller expects once it is done; and earlier or
later times asked for while booking."""

from __future__ import annotations

import pytest

from tests.flow.support import CALLER, OTHER, Conversation


async def _moved(call: Conversation, start: str) -> None:
    done = await call.say("yes please")
    assert done.tools == ["reschedule_appointment"], done.tools
    assert done.arguments("reschedule_appointment")["new_start"] == start
    assert done.text.startswith("I've moved your ")
    [booking] = call.repo.bookings
    assert booking.status == "confirmed"


@pytest.mark.parametrize(
    ("said", "start"),
    [
        ("I need to push my haircut on Thursday to next week, same day and time.", "10T10:00"),
        ("hi, i've got a haircut thursday morning, can we make it a week later", "10T10:00"),
        ("i have a haircut thursday at ten but i need it an hour later", "03T11:00"),
        ("could my haircut on thursday be moved to the afternoon, say two?", "03T14:00"),
        (
            "um i booked a haircut for thursday, would friday same time be possible instead",
            "04T10:00",
        ),
        ("can I bring my appointment forward a day please", "02T10:00"),
        ("could you push my 10 o'clock on thursday to 11", "03T11:00"),
        ("can you shift my haircut to the friday after", "04T10:00"),
        ("I'd like to move my appointment to the following week, same time", "10T10:00"),
        (
            "i have appointment haircut thursday. is possible change for same time on friday?",
            "04T10:00",
        ),
    ],
)
async def test_a_move_however_put_moves_the_booking_and_books_nothing(
    said: str, start: str
) -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam", phone=CALLER)
    turn = await call.say(said)
    assert turn.tools[0] == "find_booking", turn.tools
    assert "book_appointment" not in turn.tools
    assert "Just to confirm, move your haircut to" in turn.text, turn.text
    await _moved(call, f"2026-12-{start}")
    assert len(call.repo.bookings) == 1


async def test_a_move_by_name_from_another_number_moves_it_to_the_time_said() -> None:
    call = Conversation()
    await call.book_directly("2026-12-08T11:00", service="colour", name="Dorothy Reed", phone=OTHER)
    turn = await call.say(
        "Hello dear, it's Dorothy Reed. I've got my colour on the eighth at eleven, and I was"
        " hoping it could be changed to the afternoon, maybe three o'clock?"
    )
    assert turn.tools[:2] == ["find_booking", "find_booking"]
    assert "move your colour to Tuesday, December 8th at 3 PM?" in turn.text
    await _moved(call, "2026-12-08T15:00")


async def test_a_move_said_again_once_found_goes_on_with_the_same_booking() -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam", phone=CALLER)
    await call.say("can I reschedule my haircut")
    await call.say("friday at 2")
    again = await call.say("actually, can you move it to saturday instead, same time")
    assert "find_booking" not in again.tools
    assert again.text.endswith("move your haircut to Saturday, December 5th at 2 PM?")
    later = await call.say("hmm, make it a day later")
    assert later.arguments("check_availability")["date"] == "2026-12-06" or "Sunday" in later.text


async def test_moving_words_while_booking_change_the_booking_under_way() -> None:
    call = Conversation()
    await call.say("I want a haircut on Thursday at 2 for Jo")
    turn = await call.say("can we move it to 3")
    assert "find_booking" not in turn.tools
    assert "a haircut on Thursday, December 3rd at 3 PM for Jo" in turn.text


# --- which booking ---------------------------------------------------------------------


async def _two(call: Conversation, phone: str = CALLER) -> None:
    await call.book_directly("2026-12-03T10:00", name="Grace Lee", phone=phone)
    await call.book_directly("2026-12-12T12:00", service="colour", name="Grace Lee", phone=phone)


@pytest.mark.parametrize(
    "said",
    [
        "I need to cancel my appointment on the twelfth",
        "please cancel my saturday appointment",
        "cancel the colour please",
        "i want to cancel my appointment at noon",
    ],
)
async def test_what_the_caller_said_picks_one_of_two_bookings(said: str) -> None:
    call = Conversation()
    await _two(call)
    turn = await call.say(said)
    assert turn.text == "I see your colour on Saturday, December 12th at noon. Shall I cancel it?"


async def test_the_day_said_still_picks_after_a_lookup_by_name() -> None:
    call = Conversation()
    await _two(call, phone=OTHER)
    asked = await call.say("I need to cancel my appointment on the twelfth")
    assert "What name" in asked.text
    turn = await call.say("Grace Lee")
    assert turn.text == "I see your colour on Saturday, December 12th at noon. Shall I cancel it?"
    done = await call.say("Yes, just that one. Keep the other one.")
    assert done.text.startswith("I've cancelled your colour on Saturday, December 12th at noon.")
    assert [b.status for b in call.repo.bookings] == ["confirmed", "cancelled"]


@pytest.mark.parametrize(
    "answer", ["the colour", "the second one", "the saturday one", "the one at noon", "the 12th"]
)
async def test_the_answer_to_which_one_is_taken(answer: str) -> None:
    call = Conversation()
    await _two(call)
    asked = await call.say("i need to cancel an appointment")
    assert asked.text.endswith("Which one do you mean?")
    turn = await call.say(answer)
    assert turn.text == "I see your colour on Saturday, December 12th at noon. Shall I cancel it?"


async def test_an_answer_naming_neither_is_asked_again_then_a_person_offered() -> None:
    call = Conversation()
    await _two(call)
    await call.say("i need to move one of my appointments")
    again = await call.say("yes that one")
    assert again.text.startswith("Sorry, I didn't catch which one.")
    assert "find_booking" not in again.tools
    stuck = await call.say("um")
    assert "someone from the team" in stuck.text


async def test_the_answer_to_which_one_may_say_where_it_goes() -> None:
    call = Conversation()
    await _two(call)
    await call.say("i need to move an appointment")
    turn = await call.say("the thursday one, can you move it to friday at 2")
    assert turn.text.endswith("move your haircut to Friday, December 4th at 2 PM?")


# --- a yes after a silence ---------------------------------------------------------------


@pytest.mark.parametrize(
    "yes", ["Sorry, yes, please cancel it.", "yes", "please cancel it", "oh sorry, yes go ahead"]
)
async def test_a_yes_after_a_reminder_cancels(yes: str) -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam", phone=CALLER)
    await call.say("I must cancel the appointment of Thursday, I am sick")
    reminded = await call.turn(kind="reminder")
    assert reminded.text == "Are you still there? Shall I cancel it?"
    done = await call.say(yes)
    assert done.tools == ["cancel_appointment"]
    assert done.text.startswith("I've cancelled your haircut on Thursday, December 3rd at 10 AM.")


async def test_still_here_after_a_reminder_is_not_a_yes() -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam", phone=CALLER)
    await call.say("cancel my appointment please")
    await call.turn(kind="reminder")
    here = await call.say("yes yes I'm still here")
    assert here.tools == []
    assert here.text == "Shall I cancel it?"
    assert (await call.say("yes")).tools == ["cancel_appointment"]


async def test_a_yes_after_a_reminder_books_and_moves() -> None:
    call = Conversation()
    await call.say("a haircut friday at 2, my name is Jo")
    await call.turn(kind="reminder")
    booked = await call.say("oh sorry, yes please")
    assert booked.tools == ["book_appointment"]
    await call.say("I'd like to move it to saturday at 11")
    await call.turn(kind="reminder")
    moved = await call.say("sorry, yes, move it")
    assert moved.tools == ["reschedule_appointment"]


@pytest.mark.parametrize("no", ["sorry, no", "um, no thanks, leave it"])
async def test_a_no_with_an_apology_is_a_no(no: str) -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam", phone=CALLER)
    await call.say("cancel my appointment please")
    kept = await call.say(no)
    assert kept.tools == []
    assert kept.text.startswith("Okay, I'll leave it as it is.")


# --- earlier or later ----------------------------------------------------------------------


async def test_anything_later_offers_later_times_the_same_day() -> None:
    call = Conversation()
    offered = await call.say("haircut thursday afternoon")
    assert "1:30 PM, 2 PM or 2:30 PM" in offered.text
    later = await call.say("do you have anything a bit later?")
    assert (
        later.text
        == "On Thursday, December 3rd I have 3 PM, 3:30 PM or 4 PM. Which would suit you?"
    )


@pytest.mark.parametrize("earlier", ["can you do it earlier", "is there anything earlier?"])
async def test_earlier_than_the_time_agreed_offers_earlier_times(earlier: str) -> None:
    call = Conversation()
    await call.say("I want a haircut on Thursday at 2")
    turn = await call.say(earlier)
    assert turn.text == (
        "On Thursday, December 3rd I have 12:30 PM, 1 PM or 1:30 PM. Which would suit you?"
    )
    assert "information" not in turn.text


async def test_nothing_earlier_says_so_and_offers_what_there_is() -> None:
    call = Conversation()
    await call.say("I want a haircut on Thursday at 9 for Jo")
    turn = await call.say("anything earlier?")
    assert turn.text.startswith("I don't have anything earlier on Thursday.")
    assert "9 AM" in turn.text


async def test_the_request_said_again_while_the_name_is_asked_asks_for_the_name() -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", service="blow dry", name="Ana Ruiz", phone=OTHER)
    await call.say("I need to move my blow dry a week later")
    await call.turn(kind="reminder")
    again = await call.say("oh sorry, yes, please move it")
    assert again.tools == []
    assert again.text == "Sorry, I didn't catch the name. What name is the booking under?"
    found = await call.say("Ana Ruiz")
    assert found.text.endswith("move your blow dry to Thursday, December 10th at 10 AM?")


async def test_naming_the_booking_to_shall_i_cancel_it_asks_once_more() -> None:
    call = Conversation()
    await _two(call)
    await call.say("cancel my saturday appointment")
    which = await call.say("the colour")
    assert which.tools == []
    assert which.text == "Shall I cancel your colour on Saturday, December 12th at noon?"
    other = await call.say("sorry, actually the thursday one")
    assert other.text == "I see your haircut on Thursday, December 3rd at 10 AM. Shall I cancel it?"
    done = await call.say("yes cancel it")
    assert done.arguments("cancel_appointment")["booking_id"] == call.repo.bookings[0].booking_id


@pytest.mark.parametrize(
    "said",
    [
        "i cant make the haircut on thursday can you cancel that one but keep the colour",
        "cancel the haircut please, not the colour",
        "please cancel my thursday appointment and leave the colour as it is",
    ],
)
async def test_the_booking_to_keep_is_not_the_one_cancelled(said: str) -> None:
    call = Conversation()
    await _two(call)
    turn = await call.say(said)
    assert turn.text == "I see your haircut on Thursday, December 3rd at 10 AM. Shall I cancel it?"


async def test_clues_pointing_at_different_bookings_ask_which() -> None:
    call = Conversation()
    await _two(call)
    turn = await call.say("cancel my colour on thursday")
    assert turn.text.endswith("Which one do you mean?")
    assert "haircut" in turn.text and "colour" in turn.text
