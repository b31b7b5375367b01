"""A service taken off a booking of two ("the colour can wait", "just the blow dry then")."""

from __future__ import annotations

import pytest

from tests.flow.support import Conversation
from voiceops.config import DEFAULT_PROFILE
from voiceops.core.profile import load_profile
from voiceops.flow.lexicon import lexicon_for, services_in
from voiceops.flow.when import normalise

_LEXICON = lexicon_for(load_profile(DEFAULT_PROFILE))


@pytest.mark.parametrize(
    ("said", "wanted", "dropped", "only"),
    [
        ("let's do a blow dry instead, the colour can wait", ["blow dry"], ("colour",), False),
        ("forget the colour", [], ("colour",), False),
        ("skip the colour, just the haircut", ["haircut"], ("colour",), True),
        ("just the blow dry then", ["blow dry"], (), True),
        ("no colour after all", [], ("colour",), False),
        ("the beard trim another time", [], ("beard trim",), False),
        ("the colour will have to wait", [], ("colour",), False),
        ("No, a colour please", ["colour"], (), False),
        ("a haircut and a beard trim", ["haircut", "beard trim"], (), False),
        ("just wondering about a colour", ["colour"], (), False),
    ],
)
def test_services_wanted_dropped_and_alone(
    said: str, wanted: list[str], dropped: tuple[str, ...], only: bool
) -> None:
    named = services_in(normalise(said), _LEXICON)
    assert [name for name, _ in named.wanted] == wanted
    assert named.dropped == dropped
    assert named.only is only


async def _two(call: Conversation) -> None:
    await call.say("A colour and a blow dry on Thursday at 10, for Beth")


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        ("actually skip the colour", "blow dry"),
        ("the colour can wait", "blow dry"),
        ("just the blow dry then", "blow dry"),
        ("forget the blow dry", "colour"),
        ("no blow dry after all", "colour"),
        ("only the colour", "colour"),
    ],
)
async def test_a_service_dropped_from_two_leaves_only_the_other(said: str, kept: str) -> None:
    call = Conversation()
    await _two(call)
    turn = await call.say(said)
    assert f"a {kept} on Thursday" in turn.text
    assert "Shall I book them" not in turn.text
    done = await call.say("yes")
    assert done.tools == ["book_appointment"]
    assert done.arguments("book_appointment")["service"] == kept


async def test_a_service_named_instead_with_the_first_put_off_is_the_only_one() -> None:
    call = Conversation()
    await call.say("Can I book a colour for Wednesday at 10? It's Beth Adams.")
    turn = await call.say(
        "Actually, you know what, let's just do a blow dry instead, the colour can wait. Same time."
    )
    assert "a blow dry on Wednesday, December 2nd at 10 AM for Beth Adams" in turn.text
    assert "then a colour" not in turn.text
    done = await call.say("Yes, book that.")
    assert done.tools == ["book_appointment"]
    assert done.arguments("book_appointment")["service"] == "blow dry"
