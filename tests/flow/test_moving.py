"""Reading a request to move a booking the caller has: the many ways it is asked for, the
words that say which booking it is and those that say where it goes, what is said relative
to the booking itself ("same day next week", "a week later"), and asking for times earlier
or later than those in hand."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from tests.flow.support import demo_profile
from voiceops.flow.moving import settle, split_move, take_marks
from voiceops.flow.othertimes import asks_other_times
from voiceops.flow.state import Slots
from voiceops.flow.understand import understand
from voiceops.flow.when import normalise

TUESDAY = date(2026, 12, 1)
PROFILE = demo_profile()
THURSDAY_10 = datetime(2026, 12, 3, 10, 0)


@pytest.mark.parametrize(
    "said",
    [
        "I need to push my blow dry tomorrow to next week, same day and time.",
        "I have an appointment for a colour on the 22nd at eleven, I wonder whether it might"
        " be moved to the afternoon",
        "um i got a colour booked for the 22nd could we maybe shift it to the afternoon",
        "i have a haircut on thursday but i cant make it, can i come friday instead",
        "i booked a beard trim for friday and i would rather do saturday",
        "i am booked tomorrow at 10 but something came up, is another day possible?",
        "I need a different time for my appointment",
        "can you switch my appointment to saturday",
        "could my appointment be changed to 3 o clock",
        "i need to change one of my appointments",
        "could my haircut on thursday be moved to the afternoon",
        "i need to move an appointment",
        "my booking on friday, can we make it an hour later",
        "bring my appointment forward a day please",
        "push my colour back a week",
        "I'd like to reschedule my haircut for next week",
        "Hello, I want change my time please",
        "can you bump my 2 o'clock tomorrow to 3",
        "move my tomorrow's appointment to friday",
        "hello. i have appointment colour on thursday. is possible to change for same time on"
        " saturday?",
        "Morning. I need to change my beard trim on Tuesday. What have you got Wednesday?",
        "i gotta change my haircut",
        "I'd like to switch my blow dry on friday",
        "need to swap my haircut tomorrow for another day",
        "i need a different day for my beard trim, what do you have wednesday",
        "I can't make my beard trim on tuesday, anything wednesday morning?",
        "my beard trim on tuesday doesn't work anymore",
        "um yeah the beard trim i got on tuesday i cant do it anymore",
        "I've got a colour booked this Friday, but something's come up at work.",
        "i have a haircut friday but something came up",
        "i have a colour on friday, it won't work anymore",
        "hello, i have booking beard trim friday 4pm, is not possible for me, maybe saturday?",
        "i have a colour thursday but its not good for me now",
        "my haircut on friday doesn't suit any more",
        "this is grace kim, i cant make it friday",
        "hi, I'm not going to be able to make it today, I'm sick",
    ],
)
def test_moving_a_booking_however_it_is_asked(said: str) -> None:
    assert "reschedule" in understand(said, PROFILE, TUESDAY).intents
    assert "book" not in understand(said, PROFILE, TUESDAY).intents


@pytest.mark.parametrize(
    "said",
    [
        "I'd like to book a haircut on Friday",
        "change my name to Ana",
        "can you book my colour for Saturday",
        "I have a question, do you do colour instead of highlights",
        "i'd rather not give my name",
        "can I get a haircut instead",
        "I have a haircut on Friday, what time is it?",
        "is there anything later on Friday?",
        "can I get my haircut on Friday instead",
        "I'd like a colour, could it be done on Friday",
        "hi i want to change my hair colour",
        "something came up so I need a haircut before friday",
        "friday doesn't work, what about saturday",
        "I can't make it Friday, can I get a haircut on Saturday?",
        "my cousin says the weather is nice, Friday doesn't work at 4, my haircut",
        "is it not possible to book a colour on friday",
    ],
)
def test_asking_for_a_booking_or_about_one_is_no_move(said: str) -> None:
    assert "reschedule" not in understand(said, PROFILE, TUESDAY).intents


@pytest.mark.parametrize(
    ("said", "booking", "goes"),
    [
        ("push my blow dry tomorrow to next week, same day", "push my blow dry tomorrow", "next"),
        ("change my colour on wednesday to friday", "change my colour on wednesday", "friday"),
        ("could it be moved to the afternoon, say two", "could it be moved", "the afternoon"),
        ("i'd like to reschedule my haircut for next week", "reschedule my haircut", "next week"),
        ("move it from thursday till saturday", "move it from thursday", "saturday"),
        ("is possible to change for same time on saturday", "is possible to change", "same"),
    ],
)
def test_the_booking_and_where_it_goes_are_told_apart(said: str, booking: str, goes: str) -> None:
    split = split_move(normalise(said))
    assert split is not None
    assert booking in split[0]
    assert split[1].startswith(goes)


@pytest.mark.parametrize(
    "said",
    [
        "can I reschedule my Thursday appointment",
        "i need to move it i have to go to the doctor",  # "to go": no day follows
        "push it back an hour",
    ],
)
def test_no_split_without_a_day_or_time_to_go_to(said: str) -> None:
    assert split_move(normalise(said)) is None


@pytest.mark.parametrize(
    ("said", "day", "at"),
    [
        ("next week same day and time", date(2026, 12, 10), time(10, 0)),
        ("next week, same time", date(2026, 12, 10), time(10, 0)),
        ("a week later", date(2026, 12, 10), time(10, 0)),
        ("the following week", date(2026, 12, 10), time(10, 0)),
        ("push it back a day", date(2026, 12, 4), time(10, 0)),
        ("a day earlier", date(2026, 12, 2), time(10, 0)),
        ("bring it forward two days", date(2026, 12, 1), time(10, 0)),
        ("the friday after", date(2026, 12, 4), time(10, 0)),
        ("an hour later", date(2026, 12, 3), time(11, 0)),
        ("half an hour earlier", date(2026, 12, 3), time(9, 30)),
        ("same day but at 2", date(2026, 12, 3), time(14, 0)),
        ("friday same time", date(2026, 12, 4), time(10, 0)),
        ("two o'clock", date(2026, 12, 3), time(14, 0)),
    ],
)
def test_what_is_said_of_a_move_counts_from_the_booking(said: str, day: date, at: time) -> None:
    u = understand(said, PROFILE, TUESDAY, expect="time")
    slots = Slots(
        day=u.when.day,
        days=u.when.days,
        at=u.when.at,
        same_time=u.same_time,
        move_minutes=u.shift if u.when.at is None else None,
    )
    take_marks(slots, u.text)
    settle(slots, THURSDAY_10)
    assert (slots.day, slots.at) == (day, at)


def test_a_week_named_without_same_day_stays_a_week() -> None:
    u = understand("next week", PROFILE, TUESDAY)
    slots = Slots(day=u.when.day, days=u.when.days)
    take_marks(slots, u.text)
    settle(slots, THURSDAY_10)
    assert (slots.day, slots.days, slots.at) == (date(2026, 12, 7), 7, None)


@pytest.mark.parametrize(
    ("said", "way"),
    [
        ("anything later?", "later"),
        ("do you have something a bit later", "later"),
        ("can you do it earlier", "earlier"),
        ("is there anything earlier that day", "earlier"),
        ("any earlier times", "earlier"),
        ("nothing sooner?", "earlier"),
        ("is that the latest you have", "later"),
        ("um do you have any later slots on thursday", "later"),
        ("the later one", None),
        ("the earlier one please", None),
        ("an hour later", None),
        ("i'll call you later", None),
        ("anything later in the week?", None),
        ("talk to you later bye", None),
    ],
)
def test_asking_for_earlier_or_later_times(said: str, way: str | None) -> None:
    assert asks_other_times(normalise(said)) == way
