"""The call event record and the sink that takes it off the hot path.

Every turn, chunk summary, tool run, filler, escalation, fallback and error becomes one
:class:`CallEvent`. Producers call :meth:`EventSink.emit`, which never blocks and never
raises; the writer (``store/writer.py``) batches events into the ``call_events`` table.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class CallEvent:
    call_id: str
    event_type: str
    """e.g. ``call_connected``, ``turn_started``, ``turn_completed``, ``turn_superseded``,
    ``tool_run``, ``filler``, ``escalation``, ``fallback``, ``error``, ``bad_frame``."""
    turn_index: int | None = None
    response_id: int | None = None
    role: str | None = None
    content: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: int | None = None
    payload: dict[str, Any] | None = None
    event_id: str = field(default_factory=_new_id)
    """Unique; a deterministic id (e.g. ``{call_id}:{response_id}:turn``) makes retries safe."""
    created_at: datetime = field(kw_only=True)
    """When it happened, from the process's clock (``voiceops.core.clock``)."""


class EventSink(Protocol):
    def emit(self, event: CallEvent) -> None:
        """Queue ``event`` for writing. Never blocks, never raises."""
        ...


class NullSink:
    """Discards events (for tools and scripts that need no log)."""

    def emit(self, event: CallEvent) -> None:
        return None


class ListSink:
    """Keeps events in memory (tests)."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []

    def emit(self, event: CallEvent) -> None:
        self.events.append(event)
