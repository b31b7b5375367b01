"""Reading what callers say, for the cases a held-out set of calls found wanting: names
given in parts or said twice, a service turned down, two services at their own times,
moving "my colour", a billing matter, "how late", "the appointment" as a noun, and the
relative day phrases."""

from __future__ import annotations

from datetime import date, time

import pytest

from tests.flow.support import demo_profile
from voiceops.flow.understand import Expectation, Understanding, understand
from voiceops.flow.when import parse_when

TUESDAY = date(2026, 12, 1)
PROFILE = demo_profile()


def read(text: str, expect: Expectation | None = None) -> Understanding:
    return understand(text, PROFILE, TUESDAY, expect=expect)


@pytest.mark.parametrize(
    ("said", "expect", "name"),
    [
        ("Becker. Tom Becker.", "name", "Tom Becker"),
        ("Tom. Tom Becker.", "name", "Tom Becker"),
        ("Sam, thanks.", "name", "Sam"),
        ("Becker. Sorry, what?", "name", "Becker"),
        ("Last name Okafor, first name Chidi.", "name", "Chidi Okafor"),
        ("first name Ana, surname Ruiz", "name", "Ana Ruiz"),
        ("My last name is Okafor.", None, "Okafor"),
        ("the first one", "name", None),
        ("the last one please", "name", None),
    ],
)
def test_names_in_parts_or_said_twice(said: str, expect: Expectation | None, name: str) -> None:
    assert read(said, expect).name == name


@pytest.mark.parametrize(
    ("said", "service"),
    [
        ("Actually no, scrap the colour, just a blow dry at the same time.", "blow dry"),
        ("forget the haircut, a beard trim instead", "beard trim"),
        ("not a trim, a colour", "colour"),
        ("drop the colour and do a haircut", "haircut"),
    ],
)
def test_a_service_turned_down_is_not_one_of_two(said: str, service: str) -> None:
    u = read(said)
    assert u.service == service
    assert u.services == ()


def test_two_services_at_their_own_days_and_times() -> None:
    u = read("a haircut on Thursday at 5 and a beard trim on Friday at 10")
    assert u.services == ("haircut", "beard trim")
    whens = {service: (w.day, w.at) for service, w in u.service_whens}
    assert whens == {
        "haircut": (date(2026, 12, 3), time(17, 0)),
        "beard trim": (date(2026, 12, 4), time(10, 0)),
    }


@pytest.mark.parametrize(
    "said",
    [
        "a haircut and a beard trim on Friday at 10",
        "a haircut on Friday at 10 and a beard trim",
        "a haircut at 10 and a beard trim at 10",
    ],
)
def test_two_services_at_one_time_are_one_visit(said: str) -> None:
    u = read(said)
    assert u.services == ("haircut", "beard trim")
    assert u.service_whens == ()


@pytest.mark.parametrize(
    ("said", "moves"),
    [
        ("could I push my colour to Saturday at 11?", True),
        ("can I shift my haircut to Friday", True),
        ("bump our booking back to 4", True),
        ("change my name to Ana", False),
        ("can you book my colour for Saturday", False),
    ],
)
def test_moving_my_booking(said: str, moves: bool) -> None:
    assert ("reschedule" in read(said).intents) is moves


@pytest.mark.parametrize(
    ("said", "billing"),
    [
        ("I was charged twice on my card for my colour", True),
        ("I think I was overcharged", True),
        ("I need a refund for my haircut", True),
        ("there's a problem with my bill", True),
        ("I got charged for a no show but I cancelled two days ago", True),
        ("you charged me twice", True),
        ("how much do you charge for a colour?", False),
        ("do you take cards?", False),
        ("can I pay by card", False),
    ],
)
def test_billing_matters(said: str, billing: bool) -> None:
    assert read(said).billing is billing


def test_how_late_asks_the_hours_not_the_late_policy_nor_a_booking() -> None:
    u = read("How late can I get a haircut on Fridays?")
    assert u.latest and "hours" in u.intents
    assert "book" not in u.intents
    assert u.faq is None
    assert u.when.day == date(2026, 12, 4)
    assert read("I'd like to get a haircut").intents == {"book"}
    late = read("what if I'm running late?")
    assert late.faq is not None and "Late arrivals" in late.faq


def test_the_appointment_as_a_noun_asks_for_no_booking() -> None:
    dog = read("Can I bring my dog with me to the appointment?")
    assert "book" not in dog.intents
    assert dog.unknown_question
    assert "book" in read("can I make an appointment for Friday?").intents


def test_the_weekday_after_is_kept_for_the_dialogue_to_anchor() -> None:
    assert read("the Tuesday after then").weekday_after == 1
    assert read("next Tuesday").weekday_after is None


def test_weekdays_said_in_the_plural() -> None:
    assert parse_when("only on fridays", TUESDAY).day == date(2026, 12, 4)
    assert parse_when("are you open saturdays", TUESDAY).day == date(2026, 12, 5)


@pytest.mark.parametrize("said", ["mm hmm", "mmhmm", "you bet", "go on then", "yes please"])
def test_bare_yeses(said: str) -> None:
    u = read(said)
    assert u.affirm and not u.deny


@pytest.mark.parametrize("said", ["no", "nope", "no, go on", "not really"])
def test_bare_noes(said: str) -> None:
    u = read(said)
    assert u.deny and not u.affirm
