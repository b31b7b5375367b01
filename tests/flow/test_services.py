"""Services asked for in other words, vaguely, or not at all: verb forms of a service's
words ("coloured", "dyed"), the profile's other names ("roots", "a tidy up"), two halves of
one name said apart ("my beard needs a trim"), hair said to want cutting ("my hair is a
mess"), and never the same question a third time in a row."""

from __future__ import annotations

from datetime import date

import pytest

from tests.flow.support import Conversation, demo_profile
from voiceops.flow.inflect import inflections
from voiceops.flow.understand import understand

TUESDAY = date(2026, 12, 1)


def _service(text: str) -> str | None:
    return understand(text, demo_profile(), TUESDAY).service


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("I'd like to have my hair coloured", "colour"),
        ("i want my hair colored please", "colour"),
        ("can i get my hair dyed", "colour"),
        ("im thinking of dyeing my hair", "colour"),
        ("i need to get my roots done", "colour"),
        ("something to cover my greys", "colour"),
        ("I need a trim", "haircut"),
        ("i need a bit of a tidy up", "haircut"),
        ("just a cut please", "haircut"),
        ("i want to get my hair cut short", "haircut"),
        ("something for my beard", "beard trim"),
        ("my beard needs a trim", "beard trim"),
        ("could you trim my beard", "beard trim"),
        ("i need my beard trimmed", "beard trim"),
        ("my beard needs a tidy up", "beard trim"),
        ("i want to get my hair blow dried for a party", "blow dry"),
        ("my hair needs cutting", "haircut"),
        ("my beard could do with trimming", "beard trim"),
    ],
)
def test_a_service_said_in_other_words_is_that_service(text: str, service: str) -> None:
    assert _service(text) == service


@pytest.mark.parametrize(
    ("text", "services"),
    [
        ("a haircut and a beard trim", ("haircut", "beard trim")),
        ("a beard trim and a trim for my son", ("beard trim", "haircut")),
        ("a cut and colour", ("haircut", "colour")),
        ("i want my hair cut and coloured", ("haircut", "colour")),
    ],
)
def test_two_services_said_together_stay_two(text: str, services: tuple[str, ...]) -> None:
    assert understand(text, demo_profile(), TUESDAY).services == services


@pytest.mark.parametrize(
    "text",
    ["my colour has faded a lot", "im dying for a coffee", "the shaved ice place next door"],
)
def test_verb_forms_said_of_nothing_name_no_haircut(text: str) -> None:
    assert _service(text) in (None, "colour")


def test_inflections_of_the_last_word() -> None:
    assert set(inflections("trim")) >= {"trimmed", "trimming"}
    assert set(inflections("dye")) == {"dyed", "dyeing"}
    assert set(inflections("shave")) == {"shaved", "shaving"}
    assert set(inflections("colour")) == {"coloured", "colouring"}
    assert set(inflections("blow dry")) == {"blow dried", "blow drying"}


@pytest.mark.parametrize(
    "text",
    [
        "my hair is a total mess can someone fix it today",
        "hiya my hairs a total state can somebody sort it out",
        "can you sort my hair out its way too long",
        "my fringe has gone wild",
        "um my hair is getting really long and scruffy",
    ],
)
async def test_hair_said_to_want_cutting_suggests_a_haircut(text: str) -> None:
    call = Conversation()
    turn = await call.say(text)
    assert turn.text == "It sounds like a haircut — shall I look for one?"
    yes = await call.say("yes please")
    assert call.flow["slots"]["service"] == "haircut"
    assert "check_availability" in yes.tools or "What day" in yes.text


async def test_the_day_said_with_a_vague_request_is_kept() -> None:
    call = Conversation()
    await call.say("my hair is a total mess can someone fix it tomorrow")
    yes = await call.say("sure")
    assert yes.arguments("check_availability")["date"] == "2026-12-02"


async def test_no_to_the_suggestion_lists_the_services() -> None:
    call = Conversation()
    await call.say("my hair is a mess can you help")
    no = await call.say("no")
    assert no.text == "Which service would you like, haircut, colour, blow dry or beard trim?"
    colour = await call.say("a colour")
    assert call.flow["slots"]["service"] == "colour"
    assert colour.text.endswith("What day would you like to come in?")


async def test_the_service_question_is_not_asked_a_third_time_the_same_way() -> None:
    call = Conversation()
    said = [(await call.say(line)).text for line in ("i want to book", "any time works", "sure")]
    assert said[0] == "Which service would you like, haircut, colour, blow dry or beard trim?"
    assert said[1] == "Which service would you like?"
    # The third time: the choices with their prices.
    assert said[2].startswith("A haircut is 45 dollars, a colour 120 dollars")
    named = await call.say("Dana")
    assert "someone from the team" in named.text
    assert call.flow["slots"]["name"] == "Dana"
    assert call.flow["slots"]["earliest"] is True
    # Naming a service instead of answering the offer of a person goes on with the booking.
    turn = await call.say("oh a beard trim please")
    assert turn.arguments("check_availability")["service"] == "beard trim"


async def test_anything_else_three_times_in_a_row_is_worded_otherwise() -> None:
    call = Conversation()
    texts = [
        (await call.say(line)).text
        for line in ("where are you", "is there parking", "do you take cards", "walk ins?")
    ]
    endings = [text.rsplit(". ", 1)[-1] for text in texts]
    assert endings[0] == endings[1] == "Is there anything else I can help with?"
    assert endings[2] != endings[1] and "anything else" in endings[2].lower()
    assert endings[3] != endings[2]


async def test_an_answer_asked_for_twice_may_be_the_same() -> None:
    call = Conversation()
    first = await call.say("how long does a haircut take")
    again = await call.say("sorry how long does it take")
    assert "30 minutes" in first.text and "30 minutes" in again.text
