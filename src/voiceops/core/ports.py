"""What tools need from storage, and what brains see of tools.

``BookingRepo`` is implemented in memory (``tools/memory.py``, tests and scripts) and on
SQL (``store/repo.py``). ``ToolBox`` is what a brain calls: OpenAI-style specs plus ``run``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

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
        """Insert; if ``idempotency_key`` exists already, return the stored booking."""
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
        and returns the stored row."""
        ...

    async def create_callback(self, request: CallbackRequest) -> CallbackRequest:
        """Insert; if ``idempotency_key`` exists already, return the stored request."""
        ...


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    content: str
    """Result text for the model (JSON), also sent as ``tool_call_result.content``."""
    successful: bool
    action: Transfer | EndCall | None = None
    """A terminal action the tool asks for (escalate, end_call)."""
    data: dict[str, Any] | None = None
    """Structured result for brains that do not read JSON text (the flow brain)."""


class ToolBox(Protocol):
    def specs(self) -> list[dict[str, Any]]:
        """OpenAI ``tools`` entries (``{"type": "function", "function": {...}}``)."""
        ...

    async def run(self, name: str, arguments: str) -> ToolOutcome:
        """Validate ``arguments`` (a JSON string) and run the tool. Bad arguments return a
        failed outcome describing the problem; they never raise."""
        ...
