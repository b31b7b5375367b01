"""A correction is said back: whatever the caller changed (the service, the day, the time,
the name), the reply to it names the new value, so a caller who misspoke hears it fixed."""

from __future__ import annotations

import pytest

from tests.flow.support import Conversation

FIRST = "a blow dry on Wednesday at 11, please"


@pytest.mark.parametrize(
    ("switch", "service"),
    [
        ("Oh wait, sorry, I meant a haircut, not a blow dry. Same time.", "haircut"),
        ("actually can it be a colour instead", "colour"),
        ("oh sorry i said blow dry but i meant beard trim", "beard trim"),
        ("um make it a haircut instead", "haircut"),
        ("no not a blow dry, a colour", "colour"),
        ("i meant to say a haircut", "haircut"),
    ],
)
async def test_a_service_switched_before_the_name_is_said_back(switch: str, service: str) -> None:
    call = Conversation()
    await call.say(FIRST)
    turn = await call.say(switch)
    assert turn.text.startswith(f"Okay, a {service} instead.")
    assert turn.arguments("check_availability")["service"] == service
    assert "blow dry" not in turn.text or service == "blow dry"
    assert "book_appointment" not in turn.tools
    named = await call.say("Tom Becker")
    assert f"a {service} on Wednesday" in named.text and "Tom Becker" in named.text


async def test_a_service_switched_before_the_day_is_said_back() -> None:
    call = Conversation()
    await call.say("can I book a haircut")
    turn = await call.say("no wait, a beard trim not a haircut")
    assert turn.text == "Okay, a beard trim instead. What day would you like to come in?"


async def test_a_service_switched_while_times_are_offered_is_said_back() -> None:
    call = Conversation()
    await call.say("a haircut on Friday")
    turn = await call.say("actually can it be a colour instead")
    assert turn.text.startswith("Okay, a colour instead. On Friday")


async def test_a_service_switched_at_the_read_back_is_read_back_once() -> None:
    call = Conversation()
    await call.say(FIRST)
    await call.say("Tom")
    turn = await call.say("oh sorry, a haircut, not a blow dry")
    assert "instead" not in turn.text
    assert turn.text.count("haircut") == 1 and "for Tom" in turn.text


@pytest.mark.parametrize(
    ("correction", "said"),
    [
        ("actually make it Thursday", "Thursday, December 3rd at 11 AM"),
        ("sorry, make that 2", "Wednesday, December 2nd at 2 PM"),
    ],
)
async def test_a_day_or_time_corrected_is_said_back(correction: str, said: str) -> None:
    call = Conversation()
    await call.say(FIRST)
    turn = await call.say(correction)
    assert turn.text.startswith(f"Okay, I have {said}.")


async def test_a_name_given_then_changed_before_the_day_is_said_back() -> None:
    call = Conversation()
    await call.say("I'd like to book a blow dry")
    first = await call.say("Its Jo")
    assert first.text.startswith("Thanks, Jo.")
    changed = await call.say("actually put it under my husband, his name is Peter")
    assert changed.text.startswith("Okay, it's under Peter now.")


@pytest.mark.parametrize(
    "added", ["and a beard trim straight after please", "can I get a beard trim as well"]
)
async def test_a_second_service_added_is_not_a_switch(added: str) -> None:
    call = Conversation()
    await call.say("can I book a haircut")
    turn = await call.say(added)
    assert "instead" not in turn.text
    assert turn.text.startswith("I can book the haircut now and the beard trim straight after.")
