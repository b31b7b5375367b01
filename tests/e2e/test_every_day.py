"""A booking call on every day of the week and across both daylight-saving changes.

The server's clock is pinned (``PinnedClock``) at ten in the morning in New York on each
day, so "tomorrow" falls on each weekday in turn, open or closed, and "Tuesday" falls on the
far side of a clock change. What is checked does not depend on the day the suite runs: the
weekday the agent names, whether it books, and the booking's local and UTC times.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from tests.conftest import RunningServer, run_server
from voiceops.config import Settings
from voiceops.core.clock import PinnedClock
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import RetellPeer

NEW_YORK = ZoneInfo("America/New_York")
WEEK = [date(2026, 12, 7) + timedelta(days=i) for i in range(7)]  # Monday to Sunday


def pinned(day: date) -> PinnedClock:
    return PinnedClock(datetime(day.year, day.month, day.day, 10, 0, tzinfo=NEW_YORK))


def caller(call_id: str) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": "+12125550100",
        "to_number": "+12125550142",
    }


async def booked(server: RunningServer, call_id: str) -> list[Any]:
    async with server.runtime.db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT * FROM bookings WHERE call_id = :c AND status = 'confirmed'"),
            {"c": call_id},
        )
        return list(rows.mappings().all())


def is_open_at_three(profile: AgentProfile, day: date) -> bool:
    key = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    return any(
        interval.start.hour <= 15 and interval.end.hour >= 16
        for interval in profile.opening_hours.get(key, [])  # type: ignore[call-overload]
    )


@pytest.mark.parametrize("today", WEEK, ids=[d.strftime("%a") for d in WEEK])
async def test_book_tomorrow_at_three_on_every_day(
    today: date, make_settings: Callable[..., Settings], profile: AgentProfile
) -> None:
    tomorrow = today + timedelta(days=1)
    call_id = f"every_day_{today:%a}".lower()
    settings = make_settings(brain="flow")
    async with (
        run_server(settings, profile=profile, clock=pinned(today)) as server,
        RetellPeer(server.url(call_id), call=caller(call_id)) as peer,
    ):
        await peer.wait_begin()
        first = await peer.turn("Hi, can I book a haircut for tomorrow at 3pm?")
        weekday = tomorrow.strftime("%A")
        if is_open_at_three(profile, tomorrow):
            reply = await peer.turn("It's Robin")
            assert weekday in reply.text and "3 PM" in reply.text, reply.text
            await peer.turn("yes")
            (row,) = await booked(server, call_id)
            local = datetime.fromisoformat(row["local_start"])
            assert local.date() == tomorrow and (local.hour, local.minute) == (15, 0)
            assert (
                local.utcoffset()
                == datetime(
                    tomorrow.year, tomorrow.month, tomorrow.day, 15, tzinfo=NEW_YORK
                ).utcoffset()
            )
        else:
            # A closed day: the agent says so and offers the next open day, never tomorrow,
            # and nothing is booked without the caller agreeing to it.
            assert "We're closed on Sundays and Mondays" in first.text, first.text
            assert f"On {weekday}" not in first.text, first.text
            await peer.turn("It's Robin")
            assert await booked(server, call_id) == []


@pytest.mark.parametrize(
    ("today", "tuesday", "offset_h"),
    [
        # Saturday before the spring change (14 March 2027): Tuesday is on daylight time.
        (date(2027, 3, 13), date(2027, 3, 16), -4),
        # Saturday before the autumn change (1 November 2026): Tuesday is on standard time.
        (date(2026, 10, 31), date(2026, 11, 3), -5),
    ],
    ids=["spring_forward", "fall_back"],
)
async def test_a_booking_across_a_clock_change_keeps_the_local_time(
    today: date,
    tuesday: date,
    offset_h: int,
    make_settings: Callable[..., Settings],
    profile: AgentProfile,
) -> None:
    call_id = f"dst_{today:%m%d}"
    async with (
        run_server(make_settings(brain="flow"), profile=profile, clock=pinned(today)) as server,
        RetellPeer(server.url(call_id), call=caller(call_id)) as peer,
    ):
        await peer.wait_begin()
        await peer.turn("I'd like a haircut on Tuesday at 3pm")
        confirm = await peer.turn("Sam")
        assert "Tuesday" in confirm.text and "3 PM" in confirm.text, confirm.text
        await peer.turn("yes")
        (row,) = await booked(server, call_id)
        local = datetime.fromisoformat(row["local_start"])
        assert local.date() == tuesday and local.hour == 15
        assert local.utcoffset() == timedelta(hours=offset_h)
        start_utc = row["start_utc"]
        if isinstance(start_utc, str):
            start_utc = datetime.fromisoformat(start_utc)
        if start_utc.tzinfo is None:
            start_utc = start_utc.replace(tzinfo=UTC)
        assert start_utc == datetime(
            tuesday.year, tuesday.month, tuesday.day, 15 - offset_h, tzinfo=UTC
        )
