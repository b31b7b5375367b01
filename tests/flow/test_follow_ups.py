"""Questions by ellipsis ("and a blowout?") and polite noes ("I'll think about it").

A follow-up names only what changed: it asks the question just answered (a price, how long
it takes, the hours) for the new thing, and the "okay" before it is no yes to the booking
offered after the answer.
"""

from __future__ import annotations

import pytest

from tests.flow.support import Conversation


@pytest.mark.parametrize(
    "follow_up",
    [
        "Okay. And a blowout?",
        "and a blow dry?",
        "what about a blow dry?",
        "ok cool, and for a blowout?",
        "right, and a blow dry then",
        "thanks, and the blow dry?",
        "how about a blowout",
        "hmm and a blow out",
    ],
)
async def test_a_follow_up_after_a_price_gets_the_price_of_what_it_names(follow_up: str) -> None:
    call = Conversation()
    await call.say("Hi, how much do you charge for a full color?")
    turn = await call.say(follow_up)
    assert turn.tools == ["get_service_info"]
    assert turn.arguments("get_service_info") == {"service": "blow dry"}
    assert "35 dollars" in turn.text
    assert "What day" not in turn.text


async def test_a_question_after_the_offer_to_book_is_answered_not_taken_as_a_yes() -> None:
    call = Conversation()
    await call.say("how much for a colour")
    turn = await call.say("ok, and how much for a haircut")
    assert "45 dollars" in turn.text and "What day" not in turn.text
    longer = await call.say("how long is that one")
    assert longer.text.startswith("A haircut takes 30 minutes.")


async def test_a_follow_up_after_how_long_asks_how_long_again() -> None:
    call = Conversation()
    await call.say("how long does a colour take?")
    turn = await call.say("and a beard trim?")
    assert turn.arguments("get_service_info") == {"service": "beard trim"}
    assert "20 minutes" in turn.text


async def test_a_follow_up_after_the_list_of_services_gets_its_price() -> None:
    call = Conversation()
    await call.say("what services do you have")
    turn = await call.say("and a blow dry?")
    assert "35 dollars" in turn.text


async def test_a_plain_and_with_a_day_in_a_booking_is_no_follow_up() -> None:
    call = Conversation()
    await call.say("how much is a haircut")
    await call.say("yes please")
    turn = await call.say("and friday?")
    assert turn.tools == ["check_availability"]


@pytest.mark.parametrize(
    "no",
    [
        "Great, I'll think about it. Thanks!",
        "Ah, okay, no worries. Thanks anyway.",
        "ok thanks, let me think about it",
        "maybe another time",
        "not right now, thanks",
        "great, I'll let you know",
        "right, cheers, ill have a think",
        "ok I will think about it",
    ],
)
async def test_a_polite_no_to_booking_books_nothing(no: str) -> None:
    call = Conversation()
    await call.say("how much is a blow dry?")
    turn = await call.say(no)
    assert turn.tools in ([], ["end_call"])
    assert "What day" not in turn.text


@pytest.mark.parametrize("yes", ["great, yes please", "okay sure", "yeah go on then"])
async def test_a_yes_to_booking_still_books(yes: str) -> None:
    call = Conversation()
    await call.say("how much is a blow dry?")
    turn = await call.say(yes)
    assert "What day" in turn.text


async def test_i_ll_think_about_it_while_booking_stops_the_booking() -> None:
    call = Conversation()
    await call.say("Can I book a haircut")
    turn = await call.say("ok thanks, I'll think about it")
    assert turn.text == "No problem. Is there anything else I can help with?"
