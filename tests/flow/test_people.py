"""The flow brain and people: a request for a person is a request, a person word is not, and
"are you a robot?" gets the truth."""

from __future__ import annotations

import pytest

from tests.flow.support import FRONT_DESK, MON_1800_NY, Conversation
from voiceops.core.actions import Transfer

BILLING = "+12125550144"
"""The demo profile's number for ``billing``."""
HONEST = (
    "I'm Ava, Maple Street Hair's virtual assistant."
    " I can book an appointment for you, or put you through to the team."
)


@pytest.mark.parametrize(
    "said",
    [
        "My manager asked me to book a haircut.",
        "I'm only human, I forgot to book a haircut.",
        "Human resources said I could book a haircut for Friday.",
        "I don't need a manager, just a haircut.",
        "I'd like to book a haircut for someone else.",
    ],
)
async def test_a_person_word_in_a_booking_is_a_booking(said: str) -> None:
    call = Conversation()
    turn = await call.say(said)
    assert "escalate" not in turn.tools
    assert turn.action is None
    assert call.flow["task"] == "book"
    assert call.flow["slots"]["service"] == "haircut"


async def test_put_me_through_to_billing_goes_to_the_billing_line() -> None:
    call = Conversation()
    turn = await call.say("Put me through to billing, please.")
    assert turn.arguments("escalate")["reason"] == "caller asked for billing"
    assert isinstance(turn.action, Transfer)
    assert turn.action.number == BILLING
    assert turn.action.message == "Connecting you with our billing team now."


async def test_a_billing_dispute_goes_to_the_billing_line() -> None:
    call = Conversation()
    turn = await call.say("I need to speak with someone about a billing dispute.")
    assert isinstance(turn.action, Transfer)
    assert turn.action.number == BILLING
    refund = await Conversation().say("Who do I talk to about a refund?")
    assert isinstance(refund.action, Transfer) and refund.action.number == BILLING


@pytest.mark.parametrize(
    "said",
    [
        "Is there someone I can talk to?",
        "Can someone call me back?",
        "I don't want to talk to a robot.",
        "Could you put me through to someone who can help?",
    ],
)
async def test_requests_without_the_trigger_words_reach_the_front_desk(said: str) -> None:
    turn = await Conversation().say(said)
    assert turn.arguments("escalate")["reason"] == "caller asked for a person"
    assert isinstance(turn.action, Transfer) and turn.action.number == FRONT_DESK


@pytest.mark.parametrize(
    "said",
    [
        "hi is there someone there i could actually talk to its about a wedding party booking",
        "Good morning. Anyone there I could speak with? It's for a group of six.",
        "id rather talk to somebody about booking a hen party",
        "Hello, could somebody give me a call about a group booking on Saturday?",
        "um is there like a real person I could have a word with, about a bridal party",
    ],
)
async def test_a_person_asked_for_around_a_booking_is_a_request(said: str) -> None:
    turn = await Conversation().say(said)
    assert "book_appointment" not in turn.tools
    assert turn.arguments("escalate")["reason"].startswith("caller asked for a person")
    assert isinstance(turn.action, Transfer) and turn.action.number == FRONT_DESK


async def test_are_you_a_real_person_gets_the_truth_not_a_transfer() -> None:
    call = Conversation()
    turn = await call.say("Are you a real person?")
    assert turn.tools == []
    assert turn.action is None
    assert turn.text == f"{HONEST} How can I help you today?"
    # The caller takes up the offer.
    through = await call.say("Okay, put me through then.")
    assert isinstance(through.action, Transfer) and through.action.number == FRONT_DESK


async def test_the_truth_then_the_question_the_caller_was_answering() -> None:
    call = Conversation()
    await call.say("a haircut please")
    turn = await call.say("Wait, am I talking to a robot?")
    assert turn.text == f"{HONEST} What day would you like to come in?"
    assert call.flow["attempts"] == {}, "an honest answer is no failed attempt"
    moving = await call.say("Saturday")
    assert moving.tools == ["check_availability"]


async def test_the_truth_and_the_rest_of_the_turn() -> None:
    call = Conversation()
    turn = await call.say("Are you a bot? Anyway, I'd like a haircut on Saturday.")
    assert turn.text.startswith(HONEST)
    assert turn.tools == ["check_availability"]


async def test_after_hours_the_truth_offers_a_message() -> None:
    turn = await Conversation(now=MON_1800_NY).say("Is this a real person?")
    assert turn.text.startswith(
        "I'm Ava, Maple Street Hair's virtual assistant. I can book an appointment for you,"
        " or take a message for the team to call you back."
    )
    assert turn.tools == []


async def test_a_question_about_the_agent_with_a_request_is_a_request() -> None:
    turn = await Conversation().say("Are you a robot? I want a real person.")
    assert isinstance(turn.action, Transfer)
