"""The flow brain on lower-case transcripts without apostrophes ("its kate", "thats
everything", "names jo"), as speech-to-text often writes them: what a second held-out set
found, turn by turn over the real tools."""

from __future__ import annotations

import pytest

from tests.flow.support import OTHER, Conversation
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


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("thursday at 2 is fine its for oona", "Oona"),
        ("2 pm works, its tam", "Tam"),
        ("2 pm please, it's under ngozi eze", "Ngozi Eze"),
    ],
)
async def test_a_name_closing_the_reply_that_picks_a_time_is_taken(said: str, name: str) -> None:
    call = Conversation()
    await call.say("can i get a haircut thursday afternoon")
    picked = await call.say(said)
    assert f"for {name}. Shall I book it?" in picked.text


async def test_a_cancellation_under_a_relatives_name_looks_that_name_up() -> None:
    call = Conversation(caller_phone="+12125550100")
    await call.book_directly("2026-12-04T12:00", service="haircut", name="Tomas Novak", phone=OTHER)
    await call.say("i need to cancel a booking")
    found = await call.say("its probably under my sons name tomas novak")
    assert found.arguments("find_booking") == {"customer_name": "Tomas Novak"}
    assert "I see your haircut on Friday" in found.text


async def test_a_cancellation_its_under_a_name_searches_by_that_name() -> None:
    call = Conversation(caller_phone="+12125550100")
    await call.book_directly("2026-12-04T12:00", service="colour", name="Ines Silva", phone=OTHER)
    found = await call.say("hi i have to cancel my appointment its under ines silva")
    assert found.arguments("find_booking") == {"customer_name": "Ines Silva"}
    assert "I see your colour on Friday" in found.text


async def test_a_name_off_the_list_corrected_at_the_read_back_is_the_one_booked() -> None:
    call = Conversation()
    first = await call.say("can i get a haircut thursday at 2, names priya")
    assert "for Priya" in first.text
    fixed = await call.say("oh sorry no its pria")
    assert "for Pria." in fixed.text
    done = await call.say("yep thats right")
    assert done.arguments("book_appointment")["customer_name"] == "Pria"


async def test_a_yes_at_the_read_back_keeps_the_name() -> None:
    call = Conversation()
    await call.say("can i get a haircut thursday at 2 for Priya")
    done = await call.say("yes its perfect thanks")
    assert done.arguments("book_appointment")["customer_name"] == "Priya"
