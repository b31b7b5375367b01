"""Names as callers give them when they are hard to hear: spelled letter by letter ("S I O B
H A N", "s-i-o-b-h-a-n", "P as in Peter, A, T"), first and last name in separate phrases
("It's Siobhan, last name Kelly", then "and the surname's Kelly" a turn later), names of
three parts ("Nguyen Van An"), and short lower-case names said in passing ("its jay", "jay
here") by a caller in a hurry."""

from __future__ import annotations

from datetime import date

import pytest

from tests.flow.support import Conversation, demo_profile
from voiceops.flow.spelling import join_spelled
from voiceops.flow.understand import understand

PROFILE = demo_profile()
TUESDAY = date(2026, 12, 1)


def name_in(said: str, *, asked: bool = True) -> str | None:
    return understand(said, PROFILE, TUESDAY, expect="name" if asked else None).name


@pytest.mark.parametrize(
    ("said", "joined"),
    [
        ("S I O B H A N", "Siobhan"),
        ("s i o b h a n", "Siobhan"),
        ("S-I-O-B-H-A-N", "Siobhan"),
        ("S. I. O. B. H. A. N.", "Siobhan"),
        ("that's P as in Peter, A, T", "that's Pat"),
        ("my last name is K E double L Y", "my last name is Kelly"),
        ("It's Siobhan, S I O B H A N, last name Kelly.", "It's Siobhan, last name Kelly."),
        ("Siobhan Kelly, that's S-I-O-B-H-A-N", "Siobhan Kelly"),
        # The spelling is what the caller meant, however the word before it was heard.
        ("It's Shivon, that's spelled S I O B H A N", "It's Siobhan"),
        ("its shivon s i o b h a n", "its Siobhan"),
        ("S I O B H A N, I am in a rush", "Siobhan, I am in a rush"),
        ("s i o b h a n i need it quick", "Siobhan i need it quick"),
        ("it is P A T, a haircut please", "it is Pat, a haircut please"),
        ("A N N", "Ann"),
    ],
)
def test_spelled_letters_are_joined_into_the_word(said: str, joined: str) -> None:
    assert join_spelled(said) == joined


@pytest.mark.parametrize(
    "said",
    [
        "I need a haircut at 9 a m",
        "J K Rowling",
        "a haircut on Friday at 3",
        "is it OK if I come at 2",
        "the B and B on Main Street",
    ],
)
def test_a_letter_or_two_is_no_spelling(said: str) -> None:
    assert join_spelled(said) == said


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("It's Siobhan, S I O B H A N, last name Kelly.", "Siobhan Kelly"),
        ("s i o b h a n", "Siobhan"),
        ("Siobhan Kelly, that's S-I-O-B-H-A-N", "Siobhan Kelly"),
        ("that's P as in Peter, A, T", "Pat"),
        ("It's Siobhan, last name Kelly", "Siobhan Kelly"),
        ("Siobhan and my last name is Kelly", "Siobhan Kelly"),
        ("it's Siobhan, Kelly's my surname", "Siobhan Kelly"),
        ("it's Kelly, first name Siobhan", "Siobhan Kelly"),
        ("Siobhan. Kelly.", "Siobhan Kelly"),
        ("first name Siobhan, last name Kelly", "Siobhan Kelly"),
        ("Nguyen Van An", "Nguyen Van An"),
        ("maria de la cruz", "Maria De La Cruz"),
        ("it is siobhan, s-i-o-b-h-a-n, and my last name is o connor", "Siobhan O'Connor"),
        ("last name van der berg, first name anna", "Anna Van Der Berg"),
        ("ok its nguyen van an", "Nguyen Van An"),
        ("its jay", "Jay"),
        ("jay here", "Jay"),
        ("um jay", "Jay"),
        ("names jay", "Jay"),
        ("uh it's dev", "Dev"),
    ],
)
def test_a_name_spelled_or_given_in_parts_when_asked(said: str, name: str) -> None:
    assert name_in(said) == name


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("hi um yeah i need a cut tomorrow at 9 im kinda in a rush its jay", "Jay"),
        ("jay here, need a cut tomorrow at 9", "Jay"),
        ("um yeah jay here can i get a haircut tomorrow", "Jay"),
        ("hi its jay, need a cut tomorrow at 9", "Jay"),
        ("Hi, it's Siobhan, last name Kelly, I'd like a colour on Friday", "Siobhan Kelly"),
        ("hi im siobhan and my last name is kelly, colour on friday please", "Siobhan Kelly"),
        ("can I book a haircut for Saturday at 2, the name is Nguyen Van An", "Nguyen Van An"),
    ],
)
def test_a_name_said_in_passing_with_a_request(said: str, name: str) -> None:
    assert name_in(said, asked=False) == name


@pytest.mark.parametrize(
    "said",
    [
        "its urgent, i need a haircut tomorrow",
        "it's mark's birthday, can I get a haircut friday",
        "is Jay here on Saturday?",
        "is anyone here today",
        "i'd like to book under the last name",
        "its an emergency, my fringe is a disaster",
    ],
)
def test_no_name_in_words_around_one(said: str) -> None:
    assert name_in(said, asked=False) is None


async def test_a_surname_said_after_the_first_name_is_added_to_it() -> None:
    call = Conversation()
    await call.say("I'd like a colour on Friday at 10")
    await call.say("Siobhan")
    turn = await call.say("oh sorry, and the last name is Kelly, K E L L Y")
    assert "for Siobhan Kelly" in turn.text
    booked = await call.say("yes")
    assert booked.arguments("book_appointment")["customer_name"] == "Siobhan Kelly"


async def test_a_name_misheard_then_spelled_is_booked_as_spelled() -> None:
    call = Conversation()
    await call.say("I'd like a colour on Friday at 10")
    turn = await call.say("its shivon, s i o b h a n")
    assert "for Siobhan." in turn.text
    booked = await call.say("yes")
    assert booked.arguments("book_appointment")["customer_name"] == "Siobhan"


async def test_a_hurried_caller_gives_a_short_name_with_the_request() -> None:
    call = Conversation()
    turn = await call.say("hey um need a cut tomorrow at 10 jay here")
    assert "for Jay" in turn.text and "name" not in turn.text
    booked = await call.say("yep")
    assert booked.arguments("book_appointment")["customer_name"] == "Jay"


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("It is Margaret. Margaret Ellis.", "Margaret Ellis"),
        ("Becker. Tom Becker.", "Tom Becker"),
        ("dev", "Dev"),
        ("um, it's Ngozi Eze", "Ngozi Eze"),
    ],
)
async def test_a_name_said_while_times_are_offered(said: str, name: str) -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T11:00", service="blow dry")
    offers = await call.say("a blow dry on Thursday at 11")
    assert "isn't available" in offers.text
    turn = await call.say(said)
    assert turn.text.startswith(f"Thanks, {name}.")


@pytest.mark.parametrize("said", ["yeah friday works", "the first one please", "noon is fine"])
async def test_a_reply_to_the_times_offered_is_no_name(said: str) -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T11:00", service="blow dry")
    await call.say("a blow dry on Thursday at 11")
    turn = await call.say(said)
    assert not turn.text.startswith("Thanks,")
