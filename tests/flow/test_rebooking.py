"""Booking again what the caller had, over the real tools: "I missed my appointment, can I
rebook?", "I need to rebook", "another one like last time". The caller's booking is looked
up, its service booked again ("same time" is its time); one still to come is moved, never
doubled, and one past stays as it was. Played at Tuesday 8 December 2026, 10 AM in New
York."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.flow.support import CALLER, OTHER, Conversation
from voiceops.core.ports import Booking
from voiceops.flow.rebook import asks_again
from voiceops.flow.when import normalise

NEW_YORK = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)


async def _had(
    call: Conversation, start: str, *, service: str = "colour", name: str = "Ana Ruiz"
) -> None:
    """A booking in the past, put in the diary as it was when it was made."""
    local = datetime.fromisoformat(start).replace(tzinfo=NEW_YORK)
    await call.repo.create_booking(
        Booking(
            booking_id=f"old-{start}",
            call_id="an-earlier-call",
            service=service,
            customer_name=name,
            customer_phone=CALLER,
            start_utc=local.astimezone(UTC),
            end_utc=(local + timedelta(minutes=30)).astimezone(UTC),
            caller_zone="America/New_York",
            local_start=local.isoformat(),
            status="confirmed",
            idempotency_key=f"old-{start}",
            created_at=TUESDAY_10 - timedelta(days=10),
        )
    )


@pytest.mark.parametrize(
    "said",
    [
        "i need to rebook",
        "can I make another one like last time",
        "same as last time please",
        "i missed my appointment on saturday, can i book again",
        "um hi i totally forgot about my colour on saturday",
        "i was a no show on saturday, sorry, can you fit me in again",
        "hi I had a colour booked for Saturday but I slept through it",
        "i was supposed to come in saturday for my colour but i completely forgot, so sorry",
        "can i get the usual",
        "could I re-book please",
    ],
)
def test_booking_again_however_it_is_asked(said: str) -> None:
    assert asks_again(normalise(said), named="colour" in said) is not None


@pytest.mark.parametrize(
    "said",
    [
        "sorry i missed that",
        "i missed your call earlier",
        "I missed my bus so I'll be late for my appointment",
        "i forgot when my appointment is",
        "i forgot to ask, do you do a haircut for kids",
        "I forgot my wallet there after my haircut",
        "i had a colour last time, can i book a haircut this time",
        "I'd like to book a haircut",
    ],
)
def test_no_booking_again_in_other_words(said: str) -> None:
    assert asks_again(normalise(said), named="haircut" in said) is None


@pytest.mark.parametrize(
    ("said", "sorry"),
    [
        ("i missed my appointment on saturday, can i rebook", True),
        ("hi um i need to rebook", False),
        ("can I make another one like last time", False),
        ("I forgot about my appointment on Saturday", True),
        ("same as last time please", False),
    ],
)
async def test_a_past_booking_is_booked_again_and_stays_as_it_was(said: str, sorry: bool) -> None:
    call = Conversation(now=TUESDAY_10)
    await _had(call, "2026-12-05T11:00")
    turn = await call.say(said)
    assert turn.tools == ["find_booking"], turn.tools
    assert ("Sorry you missed it." in turn.text) is sorry
    assert "I can book your colour again." in turn.text
    assert "Which service" not in turn.text
    timed = await call.say("thursday same time")
    assert timed.arguments("check_availability") == {
        "service": "colour",
        "date": "2026-12-10",
        "days": 1,
        "time": "11:00",
    }
    assert "a colour on Thursday, December 10th at 11 AM for Ana Ruiz" in timed.text
    done = await call.say("yes")
    assert done.tools == ["book_appointment"]
    assert len(call.repo.bookings) == 2  # the old one stays as it was


@pytest.mark.parametrize(
    ("said", "then"),
    [
        (
            "yeah i had an appointment today at 2 and i missed it, can i rebook",
            "for tomorrow same time",
        ),
        ("i missed my haircut today at two, can i rebook for tomorrow same time", None),
        ("I need to rebook my haircut", "tomorrow, same time"),
    ],
)
async def test_one_still_to_come_is_moved_not_booked_twice(said: str, then: str | None) -> None:
    call = Conversation(now=TUESDAY_10)
    await call.book_directly("2026-12-08T14:00", name="Ana Ruiz", phone=CALLER)
    turn = await call.say(said)
    assert turn.tools[0] == "find_booking", turn.tools
    assert "Which service" not in turn.text
    if then is not None:
        assert "I see your haircut on Tuesday, December 8th at 2 PM." in turn.text
        turn = await call.say(then)
    assert "move your haircut to Wednesday, December 9th at 2 PM?" in turn.text
    done = await call.say("yes please")
    assert done.tools == ["reschedule_appointment"]
    [booking] = call.repo.bookings
    assert booking.local_start.startswith("2026-12-09T14:00")


async def test_like_last_time_books_the_past_one_again_not_the_one_to_come() -> None:
    call = Conversation(now=TUESDAY_10)
    await _had(call, "2026-12-05T11:00", service="blow dry")
    await call.book_directly("2026-12-11T10:00", name="Ana Ruiz", phone=CALLER)
    turn = await call.say("can i book another one like last time")
    assert "I can book your blow dry again." in turn.text


async def test_the_booking_said_is_the_one_booked_again() -> None:
    call = Conversation(now=TUESDAY_10)
    await _had(call, "2026-12-05T11:00", service="blow dry")
    await _had(call, "2026-12-04T15:00", service="beard trim")
    turn = await call.say("i had a beard trim on friday and missed it, can i rebook")
    assert "I can book your beard trim again." in turn.text


async def test_nothing_found_is_a_new_booking() -> None:
    call = Conversation(now=TUESDAY_10, caller_phone=OTHER)
    turn = await call.say("can i rebook please")
    assert turn.text.startswith("I can't find your last booking, but I can book you in again.")
    assert "Which service would you like" in turn.text


async def test_from_another_phone_the_booking_had_is_looked_up_by_name() -> None:
    call = Conversation(now=TUESDAY_10, caller_phone=OTHER)
    await _had(call, "2026-12-05T11:00")
    turn = await call.say(
        "hi this is ana ruiz, im on my daughters phone, i missed my colour on saturday"
    )
    assert turn.tools == ["find_booking"], turn.tools
    assert turn.arguments("find_booking") == {"customer_name": "Ana Ruiz"}
    assert "I can book your colour again." in turn.text


async def test_the_same_again_for_someone_else_asks_their_name() -> None:
    call = Conversation(now=TUESDAY_10)
    await _had(call, "2026-12-05T11:00")
    turn = await call.say("can I book the same as last time for my daughter, friday at 10")
    assert "I can book your colour again." in turn.text
    assert "What name should I put the booking under?" in turn.text
    assert "Ana Ruiz" not in turn.text


async def test_the_same_again_after_a_booking_in_this_call_is_not_looked_up() -> None:
    call = Conversation(now=TUESDAY_10)
    await _had(call, "2026-12-05T11:00")
    await call.say("can I book a haircut on Thursday at 10")
    await call.say("Ana")
    await call.say("yes")
    turn = await call.say("can I get the same again for my son")
    assert "find_booking" not in turn.tools
    assert turn.text == "Sure, a haircut. What day would you like to come in?"
    timed = await call.say("Thursday at 11")
    assert "name" in timed.text
    assert "Ana" not in timed.text


async def test_another_one_after_a_booking_in_this_call_books_that_service_again() -> None:
    call = Conversation(now=TUESDAY_10)
    await call.say("can I book a beard trim on Thursday at 10")
    await call.say("Ana")
    await call.say("yes")
    turn = await call.say("great, can I book another one for next week, same time")
    assert "find_booking" not in turn.tools
    assert turn.text.startswith("Sure, a beard trim.")
    assert turn.arguments("check_availability") == {
        "service": "beard trim",
        "date": "2026-12-17",
        "days": 1,
        "time": "10:00",
    }
    assert "Thursday, December 17th at 10 AM" in turn.text


async def test_rebooking_it_after_a_cancellation_books_the_service_cancelled() -> None:
    call = Conversation(now=TUESDAY_10)
    await call.book_directly("2026-12-10T10:00", service="colour", name="Ana", phone=CALLER)
    await call.say("i need to cancel my colour on thursday")
    await call.say("yes")
    turn = await call.say("actually can i rebook it for friday at 3")
    assert turn.tools == ["check_availability"], turn.tools
    assert turn.arguments("check_availability")["service"] == "colour"
    assert turn.arguments("check_availability")["date"] == "2026-12-11"
    assert "Which service" not in turn.text
