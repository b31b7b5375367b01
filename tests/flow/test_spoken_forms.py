"""The flow brain on lower-case transcripts without apostrophes ("its kate", "thats
everything", "names jo"), as speech-to-text often writes them: what a second held-out set
found, turn by turn over the real tools."""

from __future__ import annotations

import pytest

from tests.flow.support import Conversation
from voiceops.core.actions import EndCall
from voiceops.flow.contractions import restore


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("no thats everything thank you", "no that's everything thank you"),
        ("no sorry its kate, just kate", "no sorry it's kate, just kate"),
        ("Its Dev", "It's Dev"),
        ("names jo", "name's jo"),
        ("my names dev im calling", "my name's dev i'm calling"),
        ("under my husbands name peter", "under my husband's name peter"),
        ("what are its hours", "what are its hours"),
        ("the names on the list", "the names on the list"),
        ("my husbands appointment", "my husbands appointment"),
    ],
)
def test_apostrophes_come_back_only_where_a_contraction_stands(heard: str, meant: str) -> None:
    assert restore(heard) == meant


async def test_a_name_corrected_at_the_read_back_is_read_back_and_booked() -> None:
    call = Conversation()
    first = await call.say("could i get a haircut thursday at 11, name is jenny")
    assert "Jenny" in first.text
    fixed = await call.say("oh no its jenna actually")
    assert "Jenna" in fixed.text and "Jenny" not in fixed.text
    assert "book_appointment" not in fixed.tools
    done = await call.say("yep thats right")
    assert done.arguments("book_appointment")["customer_name"] == "Jenna"


async def test_yes_thats_it_to_a_read_back_books_rather_than_says_goodbye() -> None:
    call = Conversation()
    await call.say("a blow dry thursday at 2 for Priya please")
    done = await call.say("yes thats it")
    assert done.tools == ["book_appointment"]


async def test_thats_everything_without_an_apostrophe_ends_the_call() -> None:
    call = Conversation()
    await call.say("what time do you close on saturday")
    bye = await call.say("nope thats all thanks")
    assert any(isinstance(e, EndCall) for e in bye.events), bye.text


async def test_surname_first_without_an_apostrophe_gives_the_whole_name() -> None:
    call = Conversation()
    await call.say("a haircut thursday at 11 please")
    named = await call.say("surnames okafor, first name chidi")
    assert "Chidi Okafor" in named.text
