"""Per-call state that outlives one connection: persisted after each turn, keyed by call id.

When Retell re-dials a call (possibly to another process of the same deployment) the new
connection loads this and carries on: no second greeting, same booking slots, same pending
transfer. Everything in it is JSON-serialisable.
"""

from __future__ import annotations

from typing import Any

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
    flow: dict[str, Any] = Field(default_factory=dict)
    """The flow brain's own dialogue state (slots, stage, attempts)."""
    updated_at_ms: int = 0

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, data: str | bytes) -> CallState:
        return cls.model_validate_json(data)
