"""Test helpers for the LLM brain: a small recording tool box and turn contexts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import openai

from voiceops.config import DEFAULT_PROFILE
from voiceops.core.caller import CallerClock
from voiceops.core.events import AgentEvent, Brain, EscalationTrigger, TurnContext
from voiceops.core.ports import ToolBox, ToolOutcome, ToolResult, ToolStatus
from voiceops.core.profile import AgentProfile, load_profile
from voiceops.core.state import CallState
from voiceops.core.transcript import CallObject, TranscriptEntry, Utterance
from voiceops.llm.brain import LLMBrain
from voiceops.metrics import Metrics
from voiceops.tools.results import ToolFailure
from voiceops.tracing import OFF, Tracer

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # Tuesday, 09:00 in New York
SPECS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"the {name} tool",
            "parameters": {"type": "object", "properties": {}, "additionalProperties": True},
        },
    }
    for name in ("check_availability", "get_service_info", "escalate", "end_call")
]


class Echo(ToolResult):
    """What the recording tool box answers: the tool's name and its arguments, back."""

    status: ToolStatus = ToolStatus.OK
    tool: str
    echo: Any


@dataclass
class RecordingToolBox:
    """Runs nothing real: answers each tool with ``outcomes[name]`` (or an echo) and records
    every call. Broken JSON gets a failed outcome, as the real tool box does."""

    outcomes: dict[str, ToolOutcome] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def specs(self) -> list[dict[str, Any]]:
        return [dict(spec) for spec in SPECS]

    async def run(self, name: str, arguments: str) -> ToolOutcome:
        self.calls.append((name, arguments))
        try:
            parsed = json.loads(arguments)
        except json.JSONDecodeError as exc:
            error = f"arguments are not valid JSON ({exc.msg} at character {exc.pos})"
            return ToolOutcome(ToolFailure(status=ToolStatus.INVALID, error=error))
        if name in self.outcomes:
            return self.outcomes[name]
        return ToolOutcome(Echo(tool=name, echo=parsed))


def demo_profile() -> AgentProfile:
    return load_profile(DEFAULT_PROFILE)


def make_ctx(
    *,
    transcript: Sequence[Utterance] = (Utterance(role="user", content="Hi, can I book?"),),
    woven: Sequence[TranscriptEntry] | None = None,
    kind: Literal["response", "reminder"] = "response",
    tools: ToolBox | None = None,
    profile: AgentProfile | None = None,
    call_id: str = "call_test",
    response_id: int = 1,
    escalation: EscalationTrigger | None = None,
    is_current: Callable[[], bool] = lambda: True,
) -> TurnContext:
    profile = profile or demo_profile()
    clock = CallerClock(
        zone=ZoneInfo("America/Chicago"), source="metadata", now_utc=NOW, business_zone=profile.zone
    )
    return TurnContext(
        call_id=call_id,
        response_id=response_id,
        kind=kind,
        transcript=list(transcript),
        transcript_with_tool_calls=list(woven) if woven is not None else None,
        call=CallObject(call_id=call_id, from_number="+13125550100"),
        profile=profile,
        clock=clock,
        state=CallState(call_id=call_id),
        tools=tools if tools is not None else RecordingToolBox(),
        is_current=is_current,
        escalation=escalation,
    )


async def collect(events: AsyncIterator[AgentEvent]) -> list[AgentEvent]:
    return [event async for event in events]


def make_brain(
    client: openai.AsyncOpenAI,
    metrics: Metrics | None = None,
    *,
    first_token_timeout_s: float = 5.0,
    turn_timeout_s: float = 20.0,
    max_tool_rounds: int = 3,
    tracer: Tracer = OFF,
) -> LLMBrain:
    """The LLM brain the tests use: model ``gpt-test``, temperature 0.3, 120 tokens."""
    brain = LLMBrain(
        client,
        model="gpt-test",
        temperature=0.3,
        max_tokens=120,
        first_token_timeout_s=first_token_timeout_s,
        turn_timeout_s=turn_timeout_s,
        max_tool_rounds=max_tool_rounds,
        metrics=metrics,
        tracer=tracer,
    )
    as_protocol: Brain = brain  # mypy checks that LLMBrain implements the Brain protocol
    assert as_protocol.name == "llm"
    return brain
