"""The flow brain on calls a held-out set found wanting, turn by turn over the real tools:
a service dropped for another, two prices, moving "my colour", a billing matter, the last
start of a day, two services at their own times, "the Tuesday after" a closed day, and
saying back what a booking has so far while its details are collected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.flow.support import CALLER, Conversation
from voiceops.core.actions import Transfer
from voiceops.flow.base import RECAP_EVERY

BILLING = "+12125550144"
THURSDAY_1500_NY = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)


async def test_a_service_dropped_for_another_keeps_the_time_and_books_only_the_new_one() -> None:
    call = Conversation()
    first = await call.say("Can I book a colour Thursday at 1pm? It's Grace.")
    assert "colour" in first.text and "1 PM" in first.text
    swap = await call.say("Actually no, scrap the colour, just a blow dry at the same time.")
    assert "a blow dry on Thursday, December 3rd at 1 PM for Grace" in swap.text
    assert "colour" not in swap.text
    done = await call.say("Yes.")
    assert done.tools == ["book_appointment"]
    assert done.arguments("book_appointment") == {
        "service": "blow dry",
        "start": "2026-12-03T13:00",
        "customer_name": "Grace",
    }


async def test_the_price_of_each_service_asked_about() -> None:
    turn = await Conversation().say("How much for a haircut and a beard trim?")
    assert turn.tools == ["get_service_info", "get_service_info"]
    assert "45 dollars" in turn.text and "20 dollars" in turn.text


async def test_push_my_colour_moves_the_booking_found_by_the_number() -> None:
    call = Conversation()
    await call.book_directly("2026-12-02T10:00", service="colour", name="Rosa Diaz", phone=CALLER)
    turn = await call.say("Something came up, could I push my colour to Saturday at 11?")
    assert turn.tools == ["find_booking", "check_availability"]
    assert "Just to confirm, move your colour to Saturday, December 5th at 11 AM?" in turn.text
    moved = await call.say("Yes please.")
    assert moved.arguments("reschedule_appointment")["new_start"] == "2026-12-05T11:00"


@pytest.mark.parametrize(
    "said",
    [
        "Hi, I was charged twice on my card for my colour last week and I need that refunded.",
        "I think you overcharged me for my haircut yesterday.",
        "i got double charged for my colour, can i speak to someone about it",
    ],
)
async def test_a_billing_matter_goes_to_the_billing_line(said: str) -> None:
    turn = await Conversation(now=THURSDAY_1500_NY).say(said)
    assert "already passed" not in turn.text
    assert isinstance(turn.action, Transfer)
    assert turn.action.number == BILLING


async def test_how_late_gives_the_last_start_of_that_day() -> None:
    turn = await Conversation().say("How late can I get a haircut on Friday?")
    assert turn.text.startswith(
        "On Fridays we're open until 7 PM, so the last haircut starts at 6:30 PM."
    )
    assert "notice" not in turn.text
    closed = await Conversation().say("How late are you open on Monday?")
    assert closed.text.startswith("We're closed on Mondays; we're open again Tuesday")


async def test_two_services_at_their_own_days_are_read_back_and_booked_there() -> None:
    call = Conversation()
    turn = await call.say(
        "Can I book a haircut on Thursday at 5 and a beard trim on Friday at 10? Name's Dev."
    )
    assert (
        "a haircut on Thursday, December 3rd at 5 PM for Dev, then a beard trim on Friday"
        " at 10 AM. Shall I book them?"
    ) in turn.text
    both = await call.say("Yes, both.")
    booked = [e for e in both.tools if e == "book_appointment"]
    assert len(booked) == 2
    assert both.arguments("book_appointment") == {
        "service": "beard trim",
        "start": "2026-12-04T10:00",
        "customer_name": "Dev",
    }
    assert "beard trim for Dev on Friday, December 4th at 10 AM is booked" in both.text


async def test_the_tuesday_after_a_closed_monday_is_the_next_day() -> None:
    call = Conversation()
    closed = await call.say("A colour on Monday the 7th, please.")
    assert "We're closed on Sundays and Mondays" in closed.text
    turn = await call.say("Oh. The Tuesday after then, at 11.")
    assert "Tuesday, December 8th at 11 AM" in turn.text


async def test_a_pick_is_said_back_with_the_name_said_with_it() -> None:
    call = Conversation()
    await call.say("A haircut on Friday afternoon, please.")
    turn = await call.say("The 2 o'clock, and his name's Leo.")
    assert turn.text.startswith(
        "Just to confirm, a haircut on Friday, December 4th at 2 PM for Leo"
    )


async def test_what_a_booking_has_so_far_is_said_back_every_few_turns() -> None:
    call = Conversation(caller_phone=None)
    replies = []
    for said in ("I'd like to book something", "a colour", "hmm", "Friday", "10", "Dana"):
        replies.append((await call.say(said)).text)
    said_back = ("So that's a colour", "For a colour", "for your colour", "Just to confirm")
    recaps = [i for i, text in enumerate(replies) if any(s in text for s in said_back)]
    assert recaps, replies
    gaps = [b - a for a, b in zip([-1, *recaps], [*recaps, len(replies)], strict=True)]
    assert max(gaps) <= RECAP_EVERY, replies
    assert replies[-1].startswith("Just to confirm, a colour on Friday, December 4th at 10 AM")


async def test_no_recap_when_a_person_is_offered() -> None:
    call = Conversation()
    await call.say("a haircut please")
    await call.say("yesterday")
    second = await call.say("last Friday then")
    assert "So that's" not in second.text
    assert second.text.endswith("Would you like someone from the team to help you?")


async def test_a_name_said_with_a_cancellation_is_looked_up_when_the_number_finds_nothing() -> None:
    call = Conversation()
    await call.book_directly("2026-12-04T10:00", name="Jordan")
    turn = await call.say("I want to cancel my haircut, it's under Jordan.")
    assert turn.tools == ["find_booking", "find_booking"]
    assert turn.arguments("find_booking") == {"customer_name": "Jordan"}
    assert turn.text.endswith(
        "I see your haircut on Friday, December 4th at 10 AM. Shall I cancel it?"
    )


async def test_a_failed_look_up_is_not_repeated_by_the_number_and_is_said_differently() -> None:
    call = Conversation()
    await call.say("I'd like to move my appointment")
    first = await call.say("Ana Lopez")
    assert first.text.startswith("I can't find a booking under that name either.")
    again = await call.say("Maybe it's under Anna Lopez.")
    assert again.tools == ["find_booking"]
    assert again.arguments("find_booking") == {"customer_name": "Anna Lopez"}
    assert again.text.startswith("I still can't find a booking under that name")


async def test_a_name_while_times_are_offered_is_kept_and_the_times_stand() -> None:
    call = Conversation()
    await call.say("a colour on Friday please")
    turn = await call.say("Priya.")
    assert turn.tools == []
    assert turn.text.startswith("Thanks, Priya. On Friday, December 4th I have")
    pick = await call.say("the first one")
    assert pick.text.startswith(
        "Just to confirm, a colour on Friday, December 4th at 9 AM for Priya"
    )


async def test_two_people_at_the_same_time_are_told_one_after_the_other() -> None:
    call = Conversation()
    await call.say("a haircut for me and my son on Saturday")
    turn = await call.say("can we do the same time?")
    assert "don't have that information" not in turn.text
    assert turn.text.startswith("We can only do one at a time, so one straight after the other.")


async def test_the_second_of_two_back_to_back_is_checked_before_it_is_read_back() -> None:
    call = Conversation()
    await call.book_directly("2026-12-05T10:30")
    await call.say("haircuts for me and my daughter on Saturday")
    turn = await call.say("10 o'clock. I'm Lena and she's Mia.")
    assert turn.tools[-2:] == ["check_availability", "check_availability"]
    assert "Sorry, the second haircut wouldn't fit straight after, at 10:30 AM." in turn.text
    assert "Shall I book them?" not in turn.text
    assert "10 AM" not in turn.text.split("wouldn't fit")[1]


async def test_a_no_with_a_new_question_answers_the_question() -> None:
    call = Conversation()
    await call.say("Can I bring my dog to my appointment?")
    turn = await call.say("No, that's fine. Do you have parking?")
    assert turn.text.startswith("There's free street parking on Maple Street")


async def test_how_long_after_the_price_says_the_length_alone() -> None:
    call = Conversation()
    await call.say("how much is a colour?")
    turn = await call.say("and how long does it take?")
    assert turn.text.startswith("A colour takes an hour and a half.")
    assert "120" not in turn.text


async def test_a_question_about_a_service_offers_to_book_it_and_a_yes_books_that() -> None:
    call = Conversation()
    answer = await call.say("Do you do kids haircuts? My son is 6.")
    assert answer.text.endswith("Would you like to book a haircut?")
    turn = await call.say("great, can he come in saturday morning")
    assert turn.arguments("check_availability")["service"] == "haircut"
    assert "Which service" not in turn.text


@pytest.mark.parametrize(
    "said",
    [
        "change my colour on wednesday to friday",
        "i had a colour booked wednesday, could we change it to friday please",
    ],
)
async def test_a_change_naming_a_booking_moves_it_rather_than_books_anew(said: str) -> None:
    call = Conversation()
    await call.book_directly("2026-12-02T10:00", service="colour", name="Rosa Diaz", phone=CALLER)
    turn = await call.say(said)
    assert turn.tools[0] == "find_booking", turn.tools
    assert "I see your colour on Wednesday" in turn.text


async def test_same_time_said_before_the_booking_is_found_keeps_its_time() -> None:
    call = Conversation()
    await call.book_directly("2026-12-02T10:00", service="colour", name="Rosa Diaz", phone=CALLER)
    turn = await call.say("i have a colour wednesday, can i change it to friday same time")
    assert "move your colour to Friday, December 4th at 10 AM?" in turn.text
    moved = await call.say("yes")
    assert moved.arguments("reschedule_appointment")["new_start"] == "2026-12-04T10:00"
