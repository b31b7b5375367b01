"""Per-call state that outlives one connection: persisted after each turn, keyed by call id.

When Retell re-dials a call (possibly to another process of the same deployment) the new
connection loads this and carries on: no second greeting, same booking slots, same pending
transfer. Everything in it is JSON-serialisable.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field


class PendingTransfer(BaseModel):
    number: str
    message: str
    reason: str
    priority: str = "medium"
    trigger: str = "model"
    response_id: int = 0
    attempts: int = 1
    """How many times the transfer line has been sent."""


class BookingDetails(BaseModel):
    """The booking details the call has collected so far (``agent/cadence.py``), kept for
    read-backs: caller-local ``YYYY-MM-DD`` and ``HH:MM``, a service of the profile."""

    service: str | None = None
    date: str | None = None
    time: str | None = None
    name: str | None = None
    turns_since_read_back: int = 0
    """Answered agent turns since the caller last heard the details read back."""

    @property
    def pending(self) -> bool:
        """Enough to read back: two details or more (a service alone is no summary)."""
        return sum(v is not None for v in (self.service, self.date, self.time, self.name)) >= 2


class CallState(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=False)

    call_id: str
    greeted: bool = False
    call: dict[str, Any] | None = None
    """The ``call_details`` call object, as received."""
    caller_zone: str | None = None
    profile_version: int | None = None
    turns: int = 0
    last_response_id: int = -1
    pending_transfer: PendingTransfer | None = None
    ended: bool = False
    filler_count: int = 0
    last_filler: int | None = None
    on_fallback: bool = False
    """The LLM failed repeatedly; the call stays on the flow brain."""
    llm_failures: int = 0
    fallbacks: int = 0
    escalated: bool = False
    details: BookingDetails = Field(default_factory=BookingDetails)
    """Booking details collected and not yet booked, for the confirmation cadence."""
    flow: dict[str, Any] = Field(default_factory=dict)
    unheard: list[tuple[str, str, int]] = Field(default_factory=list)
    """What a superseded turn did that the caller may not have heard: (sentence, detail,
    transcript length at that turn's request) (:class:`~voiceops.core.ports.Commitment`).
    Said first in the next reply unless the agent's words since carry the detail."""
    """The flow brain's own dialogue state (slots, stage, attempts)."""
    context_prompt: tuple[str, int] | None = None
    """The voice prompt last written whole into a ``model_context`` event: (its SHA-256,
    that event's response id). A later turn with the same prompt refers to it instead of
    writing it again."""
    updated_at_ms: int = 0

    def to_json(self) -> str:
        return self.model_dump_json()

    def snapshot(self) -> StateSnapshot:
        """This state as it is now, frozen: later changes to ``self`` do not reach it.

        Serialised by pydantic-core in one pass (no Python deep copy). A value JSON does not
        know (only ``call`` and ``flow`` can hold one) is kept as its string form, as the
        database does with event payloads, so a snapshot never fails.
        """
        return StateSnapshot(self.call_id, self.updated_at_ms, self.model_dump_json(fallback=str))

    @classmethod
    def from_json(cls, data: str | bytes) -> CallState:
        return cls.model_validate_json(data)


class StateSnapshot(NamedTuple):
    """A :class:`CallState` frozen as JSON text, as it is queued for saving and stored.

    A tuple of strings and an int: immutable, and dropped from the cyclic garbage
    collector's tracking after its first pass, however many of them are waiting.
    """

    call_id: str
    updated_at_ms: int
    json: str
    """``CallState.model_dump_json()`` of the state at snapshot time."""

    def restore(self) -> CallState:
        """A new, independent :class:`CallState` equal to the one snapshotted."""
        return CallState.from_json(self.json)
