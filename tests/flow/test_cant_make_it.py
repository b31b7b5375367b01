"""The flow brain on a caller who can't keep a booking, over the real tools: said without a
moving word ("something's come up", "I can't make my Thursday haircut"), from a phone the
booking is not under, or while asking what else there is. The booking is found (by name
when the caller is on another phone), moving or cancelling it is asked when nothing says
where it goes, and a time chosen from the options moves it: never a second booking.
Played at Tuesday 1 December 2026, 9 AM in New York."""

from __future__ import annotations

import pytest

from tests.flow.support import CALLER, OTHER, Conversation


async def _haircut_thursday(*, phone: str = CALLER) -> Conversation:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam Reed", phone=phone)
    return call


@pytest.mark.parametrize(
    "said",
    [
        "I've got a haircut booked this Thursday but something's come up at work.",
        "hi um i have a haircut on thursday and i cant make it",
        "my haircut on thursday doesn't work anymore",
        "the haircut i got on thursday, i won't be able to make it",
        "I can't make my haircut on Thursday.",
    ],
)
async def test_a_booking_the_caller_cant_keep_is_found_and_move_or_cancel_asked(
    said: str,
) -> None:
    call = await _haircut_thursday()
    turn = await call.say(said)
    assert turn.tools == ["find_booking"], turn.tools
    assert "I see your haircut on Thursday, December 3rd at 10 AM." in turn.text
    assert "move it to another day, or cancel it?" in turn.text
    moved = await call.say("could we do the following tuesday instead, same time?")
    assert "Just to confirm, move your haircut to Tuesday, December 8th at 10 AM?" in moved.text
    done = await call.say("yes")
    assert done.tools == ["reschedule_appointment"]
    assert len(call.repo.bookings) == 1


@pytest.mark.parametrize("said", ["just cancel it then", "cancel it please", "I'll cancel"])
async def test_cancel_to_move_or_cancel_cancels_the_booking_found(said: str) -> None:
    call = await _haircut_thursday()
    await call.say("something came up with my haircut on thursday, i can't make it")
    turn = await call.say(said)
    assert turn.tools == [], turn.tools
    assert turn.text == "Okay. Shall I cancel your haircut on Thursday, December 3rd at 10 AM?"
    done = await call.say("yes")
    assert done.tools == ["cancel_appointment"]
    assert call.repo.bookings[0].status == "cancelled"


@pytest.mark.parametrize("said", ["move it please", "another day", "i'd like to reschedule"])
async def test_move_to_move_or_cancel_asks_the_day(said: str) -> None:
    call = await _haircut_thursday()
    await call.say("i have a haircut thursday but something came up")
    turn = await call.say(said)
    assert turn.text == "Sure. What day would you like to move it to?"


@pytest.mark.parametrize(
    "said",
    [
        "I'm calling from my work phone. I've got a haircut on Thursday under Sam Reed, but"
        " something's come up.",
        "hi this is sam reed, not on my own phone, i cant make my haircut thursday",
        "it's Sam Reed on my husband's phone, my haircut on thursday doesn't work anymore",
    ],
)
async def test_from_another_phone_the_booking_is_looked_up_by_name(said: str) -> None:
    call = await _haircut_thursday(phone=OTHER)
    await call.book_directly("2026-12-04T10:00", name="Someone Else", phone=CALLER)
    turn = await call.say(said)
    assert turn.tools == ["find_booking"], turn.tools
    assert turn.arguments("find_booking") == {"customer_name": "Sam Reed"}
    assert "I see your haircut on Thursday, December 3rd at 10 AM." in turn.text


@pytest.mark.parametrize(
    "said",
    [
        "Morning. I need to change my haircut on Thursday, it's Sam Reed. What have you got"
        " Friday morning?",
        "i cant make my haircut thursday, anything friday morning?",
        "i need a different day for my haircut, what do you have on friday morning",
        "my haircut thursday doesn't work any more, whats free friday morning",
        "I'd like to switch my haircut on thursday, what do you have friday morning",
    ],
)
async def test_options_asked_for_during_a_move_move_the_booking(said: str) -> None:
    call = await _haircut_thursday()
    turn = await call.say(said)
    assert turn.tools[0] == "find_booking", turn.tools
    assert "On Friday, December 4th I have" in turn.text
    picked = await call.say("nine thirty please")
    assert "Just to confirm, move your haircut to Friday, December 4th at 9:30 AM?" in picked.text
    done = await call.say("yep go ahead")
    assert done.tools == ["reschedule_appointment"]
    [booking] = call.repo.bookings
    assert booking.local_start.startswith("2026-12-04T09:30")


async def test_someone_elses_booking_on_the_calling_number_is_not_taken_for_theirs() -> None:
    call = await _haircut_thursday(phone=OTHER)
    await call.book_directly("2026-12-03T11:00", service="beard trim", name="Tom", phone=CALLER)
    turn = await call.say("this is sam reed, my haircut on thursday, i can't make it")
    assert turn.tools == ["find_booking", "find_booking"], turn.tools
    assert turn.arguments("find_booking") == {"customer_name": "Sam Reed"}
    assert "I see your haircut on Thursday, December 3rd at 10 AM." in turn.text
    assert "beard trim" not in turn.text


@pytest.mark.parametrize(
    "said",
    [
        "this is sam, my haircut on thursday, i can't make it",
        "it's Samuel, I can't make my haircut thursday",
        "this is Alex, I can't make my haircut on Thursday",  # another name, but it fits
    ],
)
async def test_the_booking_on_the_calling_number_is_taken_when_it_fits(said: str) -> None:
    call = await _haircut_thursday()
    turn = await call.say(said)
    assert turn.tools == ["find_booking"], turn.tools
    assert "I see your haircut on Thursday, December 3rd at 10 AM." in turn.text


async def test_cant_make_it_with_a_name_alone_finds_the_booking() -> None:
    call = await _haircut_thursday(phone=OTHER)
    turn = await call.say("this is sam reed, i cant make it thursday")
    assert turn.arguments("find_booking") == {"customer_name": "Sam Reed"}
    assert "I see your haircut on Thursday, December 3rd at 10 AM." in turn.text
    assert "Which service" not in turn.text


async def test_cant_make_it_while_booking_changes_the_booking_under_way() -> None:
    call = Conversation()
    await call.say("can I get a haircut on Thursday")
    turn = await call.say("actually I can't make it thursday, what about friday")
    assert "find_booking" not in turn.tools
    assert turn.arguments("check_availability")["date"] == "2026-12-04"
