"""Profiles, clocks and repositories shared by the tools and escalation tests.

Every test uses a fixed ``now``; nothing here reads the wall clock.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from voiceops.core.caller import CallerClock
from voiceops.core.callevents import ListSink
from voiceops.core.clock import Clock, ManualClock
from voiceops.core.errors import StorageError
from voiceops.core.ports import Booking, BookingRepo, CallbackRequest
from voiceops.core.profile import AgentProfile
from voiceops.tools.memory import InMemoryBookingRepo
from voiceops.tools.toolbox import Toolbox

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
LOS_ANGELES = "America/Los_Angeles"

# Tuesday 1 December 2026, 14:00 UTC: 09:00 in New York, 14:00 in London.
TUE_0900_NY = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)

FRONT_DESK = "+12125550143"
BILLING = "+12125550144"
CALLER_UK = "+442071838750"


def make_profile(**overrides: Any) -> AgentProfile:
    """A New York salon open Monday to Saturday; ``overrides`` replace top-level fields."""
    raw: dict[str, Any] = {
        "business_name": "Maple Street Hair",
        "agent_name": "Ava",
        "business_zone": NEW_YORK,
        "business_phone": "+12125550142",
        "opening_hours": {
            "mon": ["09:00-17:00"],
            "tue": ["09:00-17:00"],
            "wed": ["09:00-20:00"],
            "thu": ["09:00-12:00", "13:00-19:00"],
            "fri": ["09:00-19:00"],
            "sat": ["10:00-16:00"],
        },
        "closed_dates": [date(2026, 12, 25)],
        "services": [
            {"name": "haircut", "aliases": ["cut", "trim"], "duration_min": 30, "price": "45"},
            {"name": "colour", "aliases": ["color"], "duration_min": 90, "price": "120.50"},
            {"name": "consultation", "duration_min": 15, "price": "0"},
        ],
        "transfer": {"default": FRONT_DESK, "by_reason": {"billing": BILLING}},
        "booking": {"slot_step_min": 30, "horizon_days": 60, "min_notice_min": 60, "max_offers": 3},
    }
    raw.update(overrides)
    return AgentProfile.model_validate(raw)


def clock_for(
    now_utc: datetime, caller_zone: str = NEW_YORK, business_zone: str = NEW_YORK
) -> CallerClock:
    return CallerClock(
        zone=ZoneInfo(caller_zone),
        source="metadata",
        now_utc=now_utc,
        business_zone=ZoneInfo(business_zone),
    )


class RecordingRepo(InMemoryBookingRepo):
    """The in-memory repository, remembering which methods were called."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def create_booking(self, booking: Booking) -> Booking:
        self.calls.append("create_booking")
        return await super().create_booking(booking)

    async def update_booking(self, booking: Booking, *, idempotency_key: str) -> Booking:
        self.calls.append("update_booking")
        return await super().update_booking(booking, idempotency_key=idempotency_key)

    async def create_callback(self, request: CallbackRequest) -> CallbackRequest:
        self.calls.append("create_callback")
        return await super().create_callback(request)

    async def bookings_between(self, start_utc: datetime, end_utc: datetime) -> list[Booking]:
        self.calls.append("bookings_between")
        return await super().bookings_between(start_utc, end_utc)

    @property
    def writes(self) -> list[str]:
        return [
            c for c in self.calls if c in ("create_booking", "update_booking", "create_callback")
        ]


class YieldingRepo(InMemoryBookingRepo):
    """Gives the event loop away inside every read, as a networked database would, so two
    concurrent bookings can interleave between their availability check and their insert."""

    async def bookings_between(self, start_utc: datetime, end_utc: datetime) -> list[Booking]:
        await asyncio.sleep(0)
        return await super().bookings_between(start_utc, end_utc)

    async def create_booking(self, booking: Booking) -> Booking:
        await asyncio.sleep(0)
        return await super().create_booking(booking)


class BrokenRepo(InMemoryBookingRepo):
    """A database that is away: every write raises :class:`StorageError`."""

    async def create_booking(self, booking: Booking) -> Booking:
        raise StorageError("connection refused")

    async def create_callback(self, request: CallbackRequest) -> CallbackRequest:
        raise StorageError("connection refused")


class TickingClock(ManualClock):
    """A manual clock whose wall time moves on a microsecond at every reading, as a real one
    would between two commits: racing bookings then get ``created_at`` in the order they
    read it, instead of a tie."""

    def now(self) -> datetime:
        self.set_now(super().now() + timedelta(microseconds=1))
        return super().now()


def build_toolbox(
    repo: BookingRepo,
    *,
    now_utc: datetime = TUE_0900_NY,
    caller_zone: str = NEW_YORK,
    profile: AgentProfile | None = None,
    caller_phone: str | None = CALLER_UK,
    call_id: str = "call-1",
    current: list[bool] | None = None,
    app_clock: Clock | None = None,
) -> tuple[Toolbox, ListSink]:
    """A toolbox over ``repo``; ``current[0]`` drives ``is_current``; the app clock stands
    still at ``now_utc`` unless given."""
    profile = profile or make_profile()
    sink = ListSink()
    flag = current if current is not None else [True]
    toolbox = Toolbox(
        call_id=call_id,
        response_id=4,
        profile=profile,
        clock=clock_for(now_utc, caller_zone, profile.business_zone),
        repo=repo,
        caller_phone=caller_phone,
        is_current=lambda: flag[0],
        events=sink,
        app_clock=app_clock if app_clock is not None else ManualClock(now_utc),
    )
    return toolbox, sink


def make_toolbox(
    *,
    repo: InMemoryBookingRepo | None = None,
    now_utc: datetime = TUE_0900_NY,
    caller_zone: str = NEW_YORK,
    profile: AgentProfile | None = None,
    caller_phone: str | None = CALLER_UK,
    call_id: str = "call-1",
    current: list[bool] | None = None,
    app_clock: Clock | None = None,
) -> tuple[Toolbox, InMemoryBookingRepo, ListSink]:
    """A toolbox over a real in-memory repository (a fresh one unless given)."""
    repo = repo if repo is not None else InMemoryBookingRepo()
    toolbox, sink = build_toolbox(
        repo,
        now_utc=now_utc,
        caller_zone=caller_zone,
        profile=profile,
        caller_phone=caller_phone,
        call_id=call_id,
        current=current,
        app_clock=app_clock,
    )
    return toolbox, repo, sink
