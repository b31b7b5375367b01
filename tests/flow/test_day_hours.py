"""Hours asked with "how late" or "how early", and of several days at once: each day asked
about is answered with its opening and its closing, from the opening-hours tool; "how late
can I get a beard trim?" still gives that service's last start. Played on Friday 4
December 2026 at 7:30 PM in New York, just after closing (the demo salon opens Saturdays
10 to 4 and is closed on Sundays and Mondays)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.flow.support import Conversation

FRIDAY_EVENING = datetime(2026, 12, 5, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "question",
    [
        "Hi, what time do you open tomorrow, and how late are you there?",
        "what time you open tomorrow and what time you close",
        "how late are you open tomorrow",
        "um how early do you open tomorrow",
        "when do you close tomorrow",
        "what hours are you there tomorrow",
    ],
)
async def test_the_hours_of_a_day_say_when_it_opens_and_closes(question: str) -> None:
    turn = await Conversation(now=FRIDAY_EVENING).say(question)
    assert turn.text.startswith("Tomorrow we're open 10 AM to 4 PM.")
    assert turn.tools == ["get_opening_hours"]


@pytest.mark.parametrize(
    "question",
    [
        "what are your hours tomorrow and sunday",
        "are you open tomorrow or sunday",
        "how late are you open tomorrow and on sunday",
    ],
)
async def test_two_days_in_one_question_are_both_answered(question: str) -> None:
    turn = await Conversation(now=FRIDAY_EVENING).say(question)
    assert turn.text.startswith("Tomorrow we're open 10 AM to 4 PM; we're closed on Sundays.")
    assert len(turn.text.split()) <= 30


async def test_how_late_for_a_service_still_gives_its_last_start() -> None:
    turn = await Conversation(now=FRIDAY_EVENING).say("how late can I get a beard trim tomorrow")
    assert turn.text.startswith(
        "On Saturdays we're open until 4 PM, so the last beard trim starts at 3:30 PM."
    )
