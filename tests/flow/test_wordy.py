"""Long, wordy requests: the service, day and time are found wherever they sit in a
rambling sentence, however the service is put ("have my hair coloured"), and the story
around them adds nothing (a friend named, an age, "it won't take long")."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.flow.support import Conversation, demo_profile
from voiceops.flow.lexicon import lexicon_for, named_services
from voiceops.flow.when import parse_when

THU_1500_NY = datetime(2026, 12, 10, 20, 0, tzinfo=UTC)
"""Thursday 10 December 2026, 15:00 in New York: next week's Wednesday is the 16th."""
MONDAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("said", "service", "day", "at"),
    [
        (
            "Oh hello dear. My granddaughter says I ought to have my hair coloured before "
            "Christmas, and I thought, why not. Could I come in sometime next week, perhaps "
            "the Tuesday, in the morning, around eleven o'clock?",
            "colour",
            "2026-12-15",
            "11:00",
        ),
        (
            "well hello there so my daughter is getting married and she said mum you need to "
            "get your roots done so i was thinking could i maybe get my hair dyed next week "
            "perhaps the thursday in the afternoon around two",
            "colour",
            "2026-12-17",
            "14:00",
        ),
        (
            "um yes hi so basically ive been meaning to call for ages and my beard is out of "
            "hand honestly, could I get it trimmed on friday, any time after about eleven",
            "beard trim",
            "2026-12-11",
            "12:00",  # after eleven: the times around noon, from 11:30 on
        ),
        (
            "good morning. now i don't know if you can help, i'm 82 and i don't get out much, "
            "but i wanted to have it blow dried on the wednesday of next week, at eleven",
            "blow dry",
            "2026-12-16",
            "11:00",
        ),
        (
            "hi so my son who is eight needs a haircut before school, he's only eight so it "
            "won't take long, could we do tomorrow after school maybe around four",
            "haircut",
            "2026-12-11",
            "16:00",
        ),
        (
            "hello um yeah so the thing is ive got a job interview on the 18th and i want to "
            "look smart so id like a haircut the day before that in the afternoon at three",
            "haircut",
            "2026-12-17",
            "15:00",
        ),
    ],
)
async def test_a_long_request_is_read_in_full(said: str, service: str, day: str, at: str) -> None:
    turn = await Conversation(now=THU_1500_NY).say(said)
    arguments = turn.arguments("check_availability")
    assert (arguments["service"], arguments["date"], arguments["time"]) == (service, day, at)
    assert "book_appointment" not in turn.tools


async def test_a_friend_named_in_the_story_is_not_the_name_booked() -> None:
    said = (
        "Oh hello. I usually go to another place but they've closed, and my friend Jean said "
        "you were very good, so I'd like an appointment for a cut on Saturday at eleven."
    )
    turn = await Conversation(now=THU_1500_NY).say(said)
    assert "Jean" not in turn.text
    assert "name" in turn.text


@pytest.mark.parametrize(
    ("said", "service"),
    [
        ("i ought to have my hair coloured", "colour"),
        ("can I get my hair colored", "colour"),
        ("id like my hair dyed", "colour"),
        ("get them highlighted please", "colour"),
        ("can i get my beard trimmed", "beard trim"),
        ("i want it blow dried", "blow dry"),
        ("my hair trimmed and coloured", "colour"),
    ],
)
def test_a_service_said_as_what_is_done(said: str, service: str) -> None:
    named = named_services(said, lexicon_for(demo_profile()))
    assert named and named[-1][0] == service


@pytest.mark.parametrize(
    ("said", "services"),
    [
        ("my colour has faded a bit", ["colour"]),
        ("i shaved my head myself last year", []),
        ("sorry you're cutting out", []),
        ("the dog was dyed pink at the groomer", []),
    ],
)
def test_a_past_participle_in_passing_names_no_service(said: str, services: list[str]) -> None:
    named = named_services(said, lexicon_for(demo_profile()))
    assert [name for name, _ in named] == services


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("sometime next week perhaps the wednesday", date(2026, 12, 16)),
        ("next week, say thursday", date(2026, 12, 17)),
        ("this week, maybe friday", date(2026, 12, 11)),
        ("wednesday next week", date(2026, 12, 16)),
        ("my interview is on the 18th so the day before", date(2026, 12, 17)),
        ("friday, or the day after", date(2026, 12, 12)),
        ("the day after tomorrow", date(2026, 12, 9)),
    ],
)
def test_a_weekday_in_the_week_named_and_the_day_beside_one(said: str, day: date) -> None:
    assert parse_when(said, MONDAY).day == day


@pytest.mark.parametrize(
    "said",
    ["it won't take long", "it shouldn't take long, he's only little", "it does not take long"],
)
async def test_it_wont_take_long_asks_no_duration(said: str) -> None:
    turn = await Conversation().say(f"a haircut tomorrow at 3, {said}")
    assert "get_service_info" not in turn.tools
    assert turn.arguments("check_availability")["time"] == "15:00"
