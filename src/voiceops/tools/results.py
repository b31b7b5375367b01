"""What each tool answers: one typed result per tool, each with its own statuses.

Every result is a :class:`~voiceops.core.ports.ToolResult`: a frozen pydantic model whose
``status`` is narrowed to the :class:`~voiceops.core.ports.ToolStatus` members that tool can
answer with. Brains read the fields (the flow brain) or send the JSON (the LLM brain, and
both as Retell's ``tool_call_result``); the JSON is the model's view, so its keys and order
are part of the contract, and optional fields that are ``None`` are left out of it.

:class:`ToolFailure` is what any tool answers when it could not do its work at all: broken
or invalid arguments, an unknown tool, the database away, a bug, or a turn superseded before
its commit. Its ``arguments`` names the arguments at fault, for brains; the model reads the
``error``.

Times in views are aware datetimes: ``start_local`` in the caller's zone (``2026-12-01T
09:00:00-05:00`` in JSON), ``start_utc`` in UTC (``2026-12-01T14:00:00Z``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from voiceops.core.ports import Commitment, ToolResult, ToolStatus
from voiceops.tools.timefmt import iso_utc

NoTransferWhy = Literal["after_hours", "no_number"]
"""Why nobody can take a transfer right now (see ``tools/handoff.py``)."""


def _iso_local(instant: datetime) -> str:
    return instant.replace(microsecond=0).isoformat()


LocalTime = Annotated[datetime, PlainSerializer(_iso_local, return_type=str, when_used="json")]
"""An aware datetime in the caller's zone; ``2026-12-01T09:00:00-05:00`` in JSON."""
UtcTime = Annotated[datetime, PlainSerializer(iso_utc, return_type=str, when_used="json")]
"""An aware datetime; ``2026-12-01T14:00:00Z`` in JSON."""


def _is_none(value: object) -> bool:
    return value is None


_OMIT_NONE = Field(exclude_if=_is_none)
"""On an optional field: left out of the JSON while it is ``None``."""


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SlotView(_View):
    """A bookable start, as offered to the caller."""

    start_local: LocalTime
    start_utc: UtcTime
    spoken: str
    """The start as said to the caller, in their time (and the business's when they differ)."""


class BookingView(_View):
    booking_id: str
    service: str
    start_local: LocalTime
    start_utc: UtcTime
    zone: str
    """The caller's IANA zone, which ``start_local`` and ``spoken`` are in."""
    customer_name: str
    spoken: str
    price: str
    """The price booked, as a decimal string (``"45"``, ``"120.50"``); ``""`` if unknown."""
    price_spoken: str


class FoundBooking(BookingView):
    upcoming: bool
    """False once the appointment has ended."""


class ServiceView(_View):
    name: str
    duration_min: int
    price: str
    spoken: str


class ToolFailure(ToolResult):
    """The tool could not do its work; ``error`` says what to do instead."""

    status: Literal[
        ToolStatus.INVALID, ToolStatus.UNAVAILABLE, ToolStatus.ERROR, ToolStatus.SUPERSEDED
    ]
    error: str
    arguments: tuple[str, ...] = Field(default=(), exclude=True)
    """The arguments at fault, when validation refused them (not sent to the model)."""


SUPERSEDED = ToolFailure(
    status=ToolStatus.SUPERSEDED, error="this turn was replaced by a newer one"
)
"""What a side effect answers when a newer turn replaced this one before it committed."""


class Availability(ToolResult):
    """``check_availability``: free slots, nearest to the request first."""

    status: Literal[ToolStatus.OK, ToolStatus.INVALID]
    service: str
    zone: str
    requested_free: bool | None
    """Whether the exact requested time is free; ``None`` when no time was asked for."""
    slots: list[SlotView]
    note: Annotated[str | None, _OMIT_NONE] = None
    """Why the slots are not what was asked for (taken, closed, past the horizon...)."""
    error: Annotated[str | None, _OMIT_NONE] = None


class BookingChange(ToolResult):
    """What booking and rescheduling answer alike."""

    booking: Annotated[BookingView | None, _OMIT_NONE] = None
    """The booking as it now stands (with ``confirmed``)."""
    error: Annotated[str | None, _OMIT_NONE] = None
    alternatives: list[SlotView] = Field(default_factory=list)
    """Free slots near the one asked for, to offer instead (with ``slot_taken``, and with
    ``invalid`` when the time itself was refused)."""


class Booked(BookingChange):
    """``book_appointment``."""

    status: Literal[ToolStatus.CONFIRMED, ToolStatus.SLOT_TAKEN, ToolStatus.INVALID]

    def committed(self) -> Commitment | None:
        if self.status is not ToolStatus.CONFIRMED or self.booking is None:
            return None
        booking = self.booking
        return Commitment(
            f"You're booked: your {booking.service} is on {booking.spoken}.", booking.spoken
        )


class Rescheduled(BookingChange):
    """``reschedule_appointment``."""

    status: Literal[
        ToolStatus.CONFIRMED, ToolStatus.SLOT_TAKEN, ToolStatus.NOT_FOUND, ToolStatus.INVALID
    ]

    def committed(self) -> Commitment | None:
        if self.status is not ToolStatus.CONFIRMED or self.booking is None:
            return None
        booking = self.booking
        return Commitment(f"Your {booking.service} is now on {booking.spoken}.", booking.spoken)


class Cancelled(ToolResult):
    """``cancel_appointment``."""

    status: Literal[ToolStatus.CANCELLED, ToolStatus.NOT_FOUND, ToolStatus.INVALID]
    error: Annotated[str | None, _OMIT_NONE] = None
    booking: Annotated[BookingView | None, _OMIT_NONE] = None

    def committed(self) -> Commitment | None:
        if self.status is not ToolStatus.CANCELLED or self.booking is None:
            return None
        booking = self.booking
        return Commitment(
            f"Your {booking.service} on {booking.spoken} is cancelled.", booking.spoken
        )


class Found(ToolResult):
    """``find_booking``: upcoming bookings first (soonest first), then past ones."""

    status: Literal[ToolStatus.OK, ToolStatus.INVALID]
    error: Annotated[str | None, _OMIT_NONE] = None
    bookings: list[FoundBooking]


class ServiceInfo(ToolResult):
    """``get_service_info``: one service, or the whole catalogue."""

    status: Literal[ToolStatus.OK, ToolStatus.UNKNOWN_SERVICE]
    error: Annotated[str | None, _OMIT_NONE] = None
    services: list[ServiceView]


class OpeningHours(ToolResult):
    """``get_opening_hours``."""

    status: Literal[ToolStatus.OK]
    open_now: bool
    spoken: str
    """The hours of the week (or of the date asked about), ready to say."""
    days: dict[str, list[tuple[str, str]]]
    """Weekday key (``mon`` ...) to its opening intervals as ``HH:MM`` pairs, business time."""
    closed_dates: list[date]


class CallbackRecorded(ToolResult):
    """``request_callback``."""

    status: Literal[ToolStatus.RECORDED, ToolStatus.INVALID]
    request_id: Annotated[str | None, _OMIT_NONE] = None
    error: Annotated[str | None, _OMIT_NONE] = None
    phone_refused: bool = Field(default=False, exclude=True)
    """The number to call back was missing or unusable (not sent to the model)."""

    def committed(self) -> Commitment | None:
        if self.status is not ToolStatus.RECORDED:
            return None
        return Commitment("I've passed your request on, and someone will call you back.", "call")


class Escalated(ToolResult):
    """``escalate``: a transfer now (the outcome carries it), or a callback to offer."""

    status: Literal[ToolStatus.TRANSFERRING, ToolStatus.CALLBACK_REQUIRED]
    why: Annotated[NoTransferWhy | None, _OMIT_NONE] = None
    say: Annotated[str | None, _OMIT_NONE] = None
    next: Annotated[str | None, _OMIT_NONE] = None


class Ending(ToolResult):
    """``end_call``: the outcome carries the goodbye."""

    status: Literal[ToolStatus.ENDING]
