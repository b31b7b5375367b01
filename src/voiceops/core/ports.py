"""What tools need from storage, and what brains see of tools.

``BookingRepo`` is implemented in memory (``tools/memory.py``, tests and scripts) and on
SQL (``store/bookings.py``). ``ToolBox`` is what a brain calls: OpenAI-style specs plus ``run``,
which answers with a :class:`ToolOutcome` carrying a typed :class:`ToolResult` (each tool's
own result types live in ``tools/results.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from voiceops.core.actions import EndCall, Transfer

BookingStatus = Literal["confirmed", "cancelled"]


@dataclass(frozen=True, slots=True)
class Booking:
    booking_id: str
    call_id: str
    service: str
    customer_name: str
    customer_phone: str | None
    start_utc: datetime
    end_utc: datetime
    caller_zone: str
    """IANA zone the caller booked in; ``start_utc`` in that zone is what they heard."""
    local_start: str
    """ISO-8601 local start with offset in ``caller_zone`` (as read back to the caller)."""
    status: BookingStatus
    idempotency_key: str
    created_at: datetime
    price: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    request_id: str
    call_id: str
    name: str
    phone: str
    reason: str
    priority: str
    idempotency_key: str
    created_at: datetime


class BookingRepo(Protocol):
    async def create_booking(self, booking: Booking) -> Booking:
        """Insert; if ``idempotency_key`` exists already, return the stored booking. The
        SQL repository raises :class:`~voiceops.core.errors.SlotTaken` instead of inserting
        a confirmed booking that overlaps another, checking and inserting as one step."""
        ...

    async def get_booking(self, booking_id: str) -> Booking | None: ...

    async def bookings_between(self, start_utc: datetime, end_utc: datetime) -> list[Booking]:
        """Confirmed bookings overlapping ``[start_utc, end_utc)``."""
        ...

    async def find_bookings(
        self, *, phone: str | None = None, name: str | None = None, call_id: str | None = None
    ) -> list[Booking]:
        """Confirmed future-or-past bookings matching any given key, newest first."""
        ...

    async def update_booking(self, booking: Booking, *, idempotency_key: str) -> Booking:
        """Replace a booking's time/status; a repeated ``idempotency_key`` changes nothing
        and returns the stored row. The SQL repository raises
        :class:`~voiceops.core.errors.SlotTaken` rather than move a confirmed booking onto
        another."""
        ...

    async def create_callback(self, request: CallbackRequest) -> CallbackRequest:
        """Insert; if ``idempotency_key`` exists already, return the stored request."""
        ...


class ToolStatus(StrEnum):
    """Every status a tool result can have; each result type allows its own few."""

    OK = "ok"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    RECORDED = "recorded"
    TRANSFERRING = "transferring"
    CALLBACK_REQUIRED = "callback_required"
    ENDING = "ending"
    INVALID = "invalid"
    """The arguments, or what they ask for, cannot be done; ``error`` says why."""
    SLOT_TAKEN = "slot_taken"
    NOT_FOUND = "not_found"
    UNKNOWN_SERVICE = "unknown_service"
    UNAVAILABLE = "unavailable"
    """The booking system is not reachable."""
    ERROR = "error"
    """The tool failed (a bug); it must not be retried."""
    SUPERSEDED = "superseded"
    """A newer turn replaced this one before the tool committed anything."""


FAILED = frozenset(
    {
        ToolStatus.INVALID,
        ToolStatus.SLOT_TAKEN,
        ToolStatus.NOT_FOUND,
        ToolStatus.UNKNOWN_SERVICE,
        ToolStatus.UNAVAILABLE,
        ToolStatus.ERROR,
        ToolStatus.SUPERSEDED,
    }
)
"""The statuses of a tool run that did not do what it was asked."""


@dataclass(frozen=True, slots=True)
class Commitment:
    """Something a tool did that the caller must hear about."""

    say: str
    """One sentence telling the caller, e.g. "You're booked: your haircut is on ..."."""
    detail: str
    """The words that show they heard it (the booking's spoken time): when the agent's
    last words in the transcript carry them, it need not be said again."""


class ToolResult(BaseModel):
    """A tool's typed answer. Its JSON (``model_dump_json()``) is what the model reads and
    what Retell gets as ``tool_call_result.content``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: ToolStatus

    @property
    def successful(self) -> bool:
        return self.status not in FAILED

    def committed(self) -> Commitment | None:
        """For a result that changed something for the caller (a booking made, moved or
        cancelled, a callback recorded): what to tell them in a later reply if this turn's
        own reply is cut off before they hear it. ``None`` otherwise."""
        return None


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """What one tool run gave a brain: the typed result, and any terminal action it asks
    for. A brain sends ``result.model_dump_json()`` to the model and to Retell."""

    result: ToolResult
    action: Transfer | EndCall | None = None
    """A terminal action the tool asks for (escalate, end_call)."""

    @property
    def successful(self) -> bool:
        return self.result.successful


class ToolBox(Protocol):
    def specs(self) -> list[dict[str, Any]]:
        """OpenAI ``tools`` entries (``{"type": "function", "function": {...}}``)."""
        ...

    async def run(self, name: str, arguments: str) -> ToolOutcome:
        """Validate ``arguments`` (a JSON string) and run the tool. Bad arguments return a
        failed outcome describing the problem; they never raise."""
        ...
