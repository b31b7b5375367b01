"""What a brain produces, what it is given, and the interface every brain implements.

A :class:`Brain` turns a :class:`TurnContext` into a stream of :data:`AgentEvent` values.
The turn runner (``agent/turn.py``) owns everything around it: speech hygiene, fillers,
rule-based escalation, frames, staleness and the event log. Brains never see the socket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from voiceops.core.actions import EndCall, Transfer
from voiceops.core.caller import CallerClock
from voiceops.core.ports import Commitment, ToolBox
from voiceops.core.profile import AgentProfile
from voiceops.core.state import CallState
from voiceops.core.transcript import CallObject, TranscriptEntry, Utterance


@dataclass(frozen=True, slots=True)
class TextChunk:
    """Text meant to be spoken (raw: the turn runner cleans it for TTS)."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolStarted:
    tool_call_id: str
    name: str
    arguments: str
    """The arguments as a JSON string, exactly as the model produced them."""


@dataclass(frozen=True, slots=True)
class ToolFinished:
    tool_call_id: str
    name: str
    content: str
    successful: bool
    committed: Commitment | None = None
    """What the tool changed for the caller, to tell them if this turn's reply is cut off
    before they hear it (:meth:`ToolResult.committed`)."""


AgentEvent = TextChunk | ToolStarted | ToolFinished | Transfer | EndCall


@dataclass(frozen=True, slots=True)
class EscalationTrigger:
    """A rule (not the model) decided the caller wants or needs a human."""

    reason: str
    trigger: Literal["phrase", "frustration", "loop", "model", "flow"]
    priority: Literal["low", "medium", "high"] = "medium"
    detail: str = ""


@dataclass(slots=True)
class TurnStats:
    """What a brain reports about its turn: filled in while it runs, read by the turn runner
    when the turn ends (tokens for cost, the model's first-token wait for the server's own
    overhead)."""

    tokens_in: int | None = None
    tokens_out: int | None = None
    tokens_cached: int | None = None
    """Of ``tokens_in``, those served from the provider's prompt cache."""
    model_request_at: float | None = None
    """When (monotonic) the turn's first model request was handed to the client."""
    model_first_token_s: float | None = None
    """Seconds the turn's first model request waited for its first token (``None``: no
    token came, or the brain asks no model)."""
    waits_on_model: bool = False
    """True for a brain whose first words wait on a model (the server's own share of the
    turn is then its time to the first chunk minus that wait)."""
    model_messages: list[dict[str, Any]] | None = None
    """The messages of the turn's model requests, set by a brain that asks a model (the
    brain's own list, appended to by its tool rounds, so at the end of the turn it is what
    the last request sent); ``None`` when no model was asked."""


@dataclass(slots=True)
class TurnContext:
    """Everything a brain may use to answer one ``response_required``/``reminder_required``."""

    call_id: str
    response_id: int
    kind: Literal["response", "reminder"]
    transcript: Sequence[Utterance]
    transcript_with_tool_calls: Sequence[TranscriptEntry] | None
    call: CallObject | None
    profile: AgentProfile
    clock: CallerClock
    state: CallState
    tools: ToolBox
    is_current: Callable[[], bool]
    """False once a newer request superseded this turn; side effects must check it."""
    escalation: EscalationTrigger | None = None
    """Set when a rule fired but no transfer is possible (after hours / no number)."""
    fallback_reason: str | None = None
    """Set when the flow brain answers because the LLM failed (``timeout``, ``http_5xx``...)."""
    told: str = ""
    """What the runner said first in this reply, on the brain's behalf: what a turn the
    caller talked over had done (a booking made). The brain must not say it again."""
    read_back: str = ""
    """The read-back of the booking details the runner began this reply with (the
    confirmation cadence, ``agent/cadence.py``). The brain must not say it again."""
    stats: TurnStats = field(default_factory=TurnStats)

    @property
    def last_user_text(self) -> str:
        """The newest caller utterance, or ``""`` (the transcript may be empty)."""
        for utterance in reversed(self.transcript):
            if utterance.role == "user":
                return utterance.content
        return ""


class Brain(Protocol):
    """A source of agent events. Implementations: ``llm`` and ``flow``."""

    name: str

    def stream(self, ctx: TurnContext) -> AsyncIterator[AgentEvent]:
        """Yield events for one turn. Cancellation (a superseded turn) must stop all work,
        including any upstream HTTP stream, promptly."""
        ...
