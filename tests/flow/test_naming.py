"""Names as a parent, a partner or a hurried caller gives them: "its for ollie", "for my son
ollie", "Ollie's the name", "put it under my name … karen walsh", "it's Samira, not Sam",
"yeah, Bo"; and ages, which are never a time ("he's only six")."""

from __future__ import annotations

from datetime import date, time

import pytest

from tests.flow.support import Conversation, demo_profile
from voiceops.flow.contractions import restore
from voiceops.flow.lexicon import lexicon_for
from voiceops.flow.naming import read_name
from voiceops.flow.when import parse_when

STOP = lexicon_for(demo_profile()).stop
TUESDAY = date(2026, 12, 1)
ASKED = "Good news, Wednesday, December 2nd at 4 PM is free for your haircut."


def asked_for(said: str) -> str | None:
    """The name in a reply to "what name should I put it under?"."""
    return read_name(restore(said), STOP, asked=True)


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("its for ollie", "Ollie"),
        ("it's for Ollie, thanks", "Ollie"),
        ("for my son ollie", "Ollie"),
        ("oh its for my daughter maisie", "Maisie"),
        ("it'll be for ollie", "Ollie"),
        ("its for me, joan baker", "Joan Baker"),
        ("ollie's the name", "Ollie"),
        ("ollies the name", "Ollie"),
        ("Ollie Walsh is the name", "Ollie Walsh"),
        ("he's called ollie", "Ollie"),
        ("hes called ollie", "Ollie"),
        ("call him ollie", "Ollie"),
        ("yeah bo", "Bo"),
        ("yes, it's Bo", "Bo"),
    ],
)
def test_a_name_given_for_someone_or_in_passing(said: str, name: str) -> None:
    assert asked_for(said) == name


@pytest.mark.parametrize(
    "said", ["put it under my name", "use my name", "yes definitely", "sure thing", "yes ma'am"]
)
def test_words_around_a_name_are_no_name(said: str) -> None:
    assert asked_for(said) is None


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("oh wait actually put it under my name hes only six. karen walsh", "Karen Walsh"),
        ("actually put it under my name, karen walsh", "Karen Walsh"),
        ("can you put it under my name instead karen walsh", "Karen Walsh"),
        ("sorry its Samira not Sam", "Samira"),
        ("It's Margaret Collins.", "Margaret Collins"),
        ("would it be okay if i gave my name as Jo", "Jo"),
        ("put me down as dev", "Dev"),
        ("just book it as Priya Shah", "Priya Shah"),
    ],
)
def test_a_name_said_in_so_many_words_is_read_wherever_it_comes(said: str, name: str) -> None:
    assert read_name(restore(said), STOP, asked=False) == name


@pytest.mark.parametrize(
    "said",
    [
        "my friend Jean said you were very good",
        "my sister Maria recommended you",
        "Tom usually cuts my hair but he's away",
    ],
)
def test_someone_the_caller_talks_about_is_not_the_caller(said: str) -> None:
    assert read_name(said, STOP, asked=False) is None


@pytest.mark.parametrize(
    "said",
    ["he's only six", "hes only six", "she is 8", "six years old", "he's turning seven", "aged 9"],
)
def test_an_age_is_never_a_time(said: str) -> None:
    assert parse_when(restore(said), TUESDAY, expect_time=True).at is None


@pytest.mark.parametrize(
    ("said", "at"),
    [("make it 6", time(18, 0)), ("he's at 6", time(18, 0)), ("no, two not ten", time(14, 0))],
)
def test_a_time_beside_a_person_is_still_a_time(said: str, at: time) -> None:
    assert parse_when(said, TUESDAY, expect_time=True).at == at


async def test_a_son_booked_then_put_under_the_parent_s_name_keeps_the_time() -> None:
    call = Conversation()
    first = await call.say("hi um i want to book a haircut for my son tomorrow at four")
    assert first.arguments("check_availability")["time"] == "16:00"
    named = await call.say("its for ollie")
    assert "Ollie" in named.text
    changed = await call.say("oh wait actually put it under my name hes only six. karen walsh")
    assert "Karen Walsh" in changed.text and "4 PM" in changed.text
    assert "check_availability" not in changed.tools
    booked = await call.say("yes thats right")
    assert booked.arguments("book_appointment")["customer_name"] == "Karen Walsh"


@pytest.mark.parametrize(
    ("correction", "name"),
    [("sorry its Samira not Sam", "Samira"), ("actually the name is Samantha", "Samantha")],
)
async def test_a_name_corrected_while_times_are_offered_is_taken(
    correction: str, name: str
) -> None:
    call = Conversation()
    await call.say("I'd like a haircut on Friday.")
    await call.say("Sam")
    turn = await call.say(correction)
    assert name in turn.text
    picked = await call.say("the first one")
    assert name in picked.text and "Sam " not in picked.text


async def test_a_name_given_before_the_service_is_kept() -> None:
    call = Conversation()
    await call.say("I'd like to book an appointment please")
    named = await call.say("It's Margaret Collins.")
    assert named.text.startswith("Thanks, Margaret.")
    assert "didn't catch" not in named.text
    turn = await call.say("a colour tomorrow at 10")
    assert "Margaret Collins" in turn.text
