"""Hours asked for a day or days: a named day, the weekend, a closed day with the next open
one. Played at Tuesday 1 December 2026, 9 AM in New York (the demo salon is closed on
Sundays and Mondays and opens Saturdays 10 to 4)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.flow.support import Conversation
from voiceops.core.ports import ToolStatus
from voiceops.flow.hours import hours_on_days
from voiceops.tools.results import OpeningHours

TUESDAY = date(2026, 12, 1)
_DAYS = {
    "mon": [],
    "tue": [("09:00", "17:00")],
    "wed": [("09:00", "17:00")],
    "thu": [("09:00", "19:00")],
    "fri": [("09:00", "19:00")],
    "sat": [("10:00", "16:00")],
    "sun": [],
}


def _hours(*closed: date) -> OpeningHours:
    return OpeningHours(
        status=ToolStatus.OK, open_now=True, spoken="-", days=_DAYS, closed_dates=list(closed)
    )


@pytest.mark.parametrize(
    "question",
    [
        "are you open on Sunday?",
        "um are you guys open sundays at all",
        "do you do sundays",
        "what are your hours on sunday",
        "is the salon open this sunday",
    ],
)
async def test_a_closed_day_names_the_next_open_day(question: str) -> None:
    turn = await Conversation().say(question)
    assert turn.text.startswith(
        "We're closed on Sundays and Mondays; we're open again Tuesday from 9 AM."
    )
    assert len(turn.text.split()) <= 30


@pytest.mark.parametrize(
    "question",
    [
        "what are your hours on Saturday",
        "what time do you open saturday",
        "are you open saturdays",
        "and saturday whats your hours",
    ],
)
async def test_a_named_day_gets_that_days_hours(question: str) -> None:
    turn = await Conversation().say(question)
    assert turn.text.startswith("On Saturday we're open 10 AM to 4 PM.")


@pytest.mark.parametrize(
    "question",
    [
        "open this weekend?",
        "are you open at the weekend",
        "what are your weekend hours",
        "do you work weekends",
        "are you open saturday and sunday",
    ],
)
async def test_the_weekend_gets_both_days(question: str) -> None:
    turn = await Conversation().say(question)
    assert turn.text.startswith("On Saturday we're open 10 AM to 4 PM; we're closed on Sundays.")


async def test_a_follow_up_about_weekends_answers_the_weekend_not_today_again() -> None:
    call = Conversation()
    now = await call.say("are you open right now")
    assert "today" in now.text
    weekend = await call.say("and on weekends?")
    assert weekend.text.startswith("On Saturday we're open 10 AM to 4 PM")
    assert "today" not in weekend.text
    monday = await call.say("what about mondays")
    assert monday.text.startswith("We're closed on Mondays; we're open again Tuesday from 9 AM.")


async def test_questions_about_now_and_the_week_keep_their_answers() -> None:
    call = Conversation()
    now = await call.say("are you open right now")
    assert now.text.startswith("Yes, we're open today until 5 PM.")
    week = await call.say("what days are you open")
    assert week.text.startswith("We're open Tuesday and Wednesday 9 AM to 5 PM")


def test_a_closed_date_is_said_by_its_date_and_the_next_open_day_follows() -> None:
    christmas = date(2026, 12, 25)
    said = hours_on_days(_hours(christmas), [christmas], TUESDAY)
    assert said == ("We're closed on Friday, December 25th; we're open again Saturday from 10 AM.")


def test_today_and_tomorrow_are_said_so() -> None:
    assert hours_on_days(_hours(), [TUESDAY], TUESDAY) == "Today we're open 9 AM to 5 PM."
    monday = date(2026, 11, 30)
    assert hours_on_days(_hours(), [monday], monday) == (
        "We're closed on Mondays; we're open again tomorrow from 9 AM."
    )


def test_without_the_next_open_day_while_booking() -> None:
    sunday = date(2026, 12, 6)
    said = hours_on_days(_hours(), [sunday], TUESDAY, next_open=False)
    assert said == "We're closed on Sundays and Mondays."
