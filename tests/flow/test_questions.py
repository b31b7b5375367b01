"""Questions a second held-out set found wanting on the flow brain: two FAQ entries in one
question, a question the profile cannot answer after a greeting, a new question in reply to
the call-back offer, and another name of a service asked about after its price."""

from __future__ import annotations

from tests.flow.support import Conversation


async def test_two_faq_entries_in_one_question_are_both_answered_in_order() -> None:
    turn = await Conversation().say("do you take cards, and is there somewhere to park")
    assert turn.text.index("card") < turn.text.index("parking")
    assert "public lot behind the bakery" in turn.text


async def test_a_question_after_a_greeting_gets_no_information_not_a_greeting() -> None:
    turn = await Conversation().say("hello there, do you do wedding packages for a bridal party")
    assert "Hello" not in turn.text
    assert "I don't have that information" in turn.text and "call you back" in turn.text


async def test_ok_and_a_new_question_to_the_call_back_offer_answers_it() -> None:
    call = Conversation()
    await call.say("hi, do you sell gift wrap")
    turn = await call.say("okay and where are you located")
    assert "18 Maple Street" in turn.text
    assert "name" not in turn.text


async def test_another_name_of_a_service_asked_about_after_its_price_is_that_service() -> None:
    call = Conversation()
    await call.say("how much is a haircut")
    turn = await call.say("ok and a fade, is that the same")
    assert "haircut" in turn.text and "45 dollars" in turn.text
    assert "What day" not in turn.text
