"""A caller talking to the flow brain over the real tool box and in-memory repository.

:class:`Conversation` keeps what a call keeps between turns (transcript, ``CallState``, the
booking repository) and runs each turn through :meth:`FlowBrain.stream` exactly as the turn
runner does: a fresh :class:`~voiceops.tools.toolbox.Toolbox` per turn, the caller-local
clock, and the state persisted as JSON in between. Time is fixed; nothing reads the wall
clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from voiceops.config import DEFAULT_PROFILE
from voiceops.core.actions import EndCall, Transfer
from voiceops.core.caller import CallerClock, caller_number
from voiceops.core.callevents import ListSink
from voiceops.core.clock import ManualClock
from voiceops.core.events import (
    AgentEvent,
    EscalationTrigger,
    TextChunk,
    ToolFinished,
    ToolStarted,
    TurnContext,
)
from voiceops.core.profile import AgentProfile, load_profile
from voiceops.core.state import CallState
from voiceops.core.transcript import CallObject, TranscriptEntry, Utterance
from voiceops.flow.brain import FlowBrain
from voiceops.tools.memory import InMemoryBookingRepo
from voiceops.tools.toolbox import Toolbox

# Tuesday 1 December 2026, 14:00 UTC: 09:00 in New York, where the demo salon opens at 9.
TUE_0900_NY = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
# Monday 30 November 2026, 23:00 UTC: 18:00 in New York, the salon is closed on Mondays.
MON_1800_NY = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
NEW_YORK = "America/New_York"
CALLER = "+12125550188"
OTHER = "+12125550111"
FRONT_DESK = "+12125550143"

_BRAIN = FlowBrain()


def demo_profile() -> AgentProfile:
    return load_profile(DEFAULT_PROFILE)


@dataclass(slots=True)
class Turn:
    """What the brain did in one turn."""

    events: list[AgentEvent]

    @property
    def text(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, TextChunk))

    @property
    def tools(self) -> list[str]:
        return [e.name for e in self.events if isinstance(e, ToolStarted)]

    def arguments(self, tool: str) -> dict[str, Any]:
        """The parsed arguments of the (last) run of ``tool`` in this turn."""
        runs = [e for e in self.events if isinstance(e, ToolStarted) and e.name == tool]
        assert runs, f"{tool} did not run; ran {self.tools}"
        parsed = json.loads(runs[-1].arguments)
        assert isinstance(parsed, dict)
        return parsed

    def result(self, tool: str) -> dict[str, Any]:
        runs = [e for e in self.events if isinstance(e, ToolFinished) and e.name == tool]
        assert runs, f"{tool} did not run; ran {self.tools}"
        parsed = json.loads(runs[-1].content)
        assert isinstance(parsed, dict)
        return parsed

    @property
    def action(self) -> Transfer | EndCall | None:
        last = self.events[-1] if self.events else None
        return last if isinstance(last, Transfer | EndCall) else None


@dataclass
class Conversation:
    profile: AgentProfile = field(default_factory=demo_profile)
    now: datetime = TUE_0900_NY
    caller_zone: str = NEW_YORK
    caller_phone: str | None = CALLER
    repo: InMemoryBookingRepo = field(default_factory=InMemoryBookingRepo)
    call_id: str = "call-flow"
    transcript: list[Utterance] = field(default_factory=list)
    woven: list[TranscriptEntry] | None = None
    """``transcript_with_tool_calls``, when a test needs another brain's tool calls."""
    sink: ListSink = field(default_factory=ListSink)
    stored_flow: str = "{}"
    """``CallState.flow`` as persisted JSON between turns, as the store keeps it."""
    greeted: bool = False
    dynamic_variables: dict[str, str] | None = None
    response_id: int = 0
    brain: FlowBrain = _BRAIN

    @property
    def clock(self) -> CallerClock:
        return CallerClock(
            zone=ZoneInfo(self.caller_zone),
            source="metadata",
            now_utc=self.now,
            business_zone=self.profile.zone,
        )

    @property
    def flow(self) -> dict[str, Any]:
        loaded = json.loads(self.stored_flow)
        assert isinstance(loaded, dict)
        return loaded

    def call_object(self) -> CallObject:
        return CallObject(
            call_id=self.call_id,
            call_type="phone_call",
            direction="inbound",
            from_number=self.caller_phone,
            to_number=self.profile.business_phone,
            retell_llm_dynamic_variables=self.dynamic_variables,
        )

    async def turn(
        self,
        *,
        kind: Literal["response", "reminder"] = "response",
        escalation: EscalationTrigger | None = None,
        fallback_reason: str | None = None,
        current: bool = True,
    ) -> Turn:
        """Run one turn over the transcript so far; the agent's words join the transcript."""
        self.response_id += 1
        state = CallState(
            call_id=self.call_id, greeted=self.greeted, flow=json.loads(self.stored_flow)
        )
        clock = self.clock

        def is_current() -> bool:
            return current

        toolbox = Toolbox(
            call_id=self.call_id,
            response_id=self.response_id,
            profile=self.profile,
            clock=clock,
            repo=self.repo,
            caller_phone=caller_number(self.call_object()),
            is_current=is_current,
            events=self.sink,
            app_clock=ManualClock(clock.now_utc),
        )
        ctx = TurnContext(
            call_id=self.call_id,
            response_id=self.response_id,
            kind=kind,
            transcript=list(self.transcript),
            transcript_with_tool_calls=list(self.woven) if self.woven is not None else None,
            call=self.call_object(),
            profile=self.profile,
            clock=clock,
            state=state,
            tools=toolbox,
            is_current=is_current,
            escalation=escalation,
            fallback_reason=fallback_reason,
        )
        events = [event async for event in self.brain.stream(ctx)]
        # What the store would keep: the state as JSON text.
        self.stored_flow = json.dumps(state.flow)
        turn = Turn(events)
        if turn.text or turn.action is not None:
            spoken = turn.text
            if turn.action is not None:
                spoken = f"{spoken} {turn.action.message}".strip()
            self.transcript.append(Utterance(role="agent", content=spoken))
        self.greeted = True
        return turn

    async def book_directly(
        self, start: str, *, service: str = "haircut", name: str = "Alex", phone: str = OTHER
    ) -> None:
        """Another caller takes ``start`` (New York wall time) through the real tool box."""
        toolbox = Toolbox(
            call_id=f"other-{start}",
            response_id=1,
            profile=self.profile,
            clock=CallerClock(
                zone=self.profile.zone,
                source="business",
                now_utc=self.now,
                business_zone=self.profile.zone,
            ),
            repo=self.repo,
            caller_phone=phone,
            app_clock=ManualClock(self.now),
            is_current=lambda: True,
            events=ListSink(),
        )
        arguments = {"service": service, "start": start, "customer_name": name}
        outcome = await toolbox.run("book_appointment", json.dumps(arguments))
        assert outcome.result.status == "confirmed", outcome.result

    async def say(
        self,
        text: str,
        *,
        escalation: EscalationTrigger | None = None,
        fallback_reason: str | None = None,
        current: bool = True,
    ) -> Turn:
        """The caller says ``text``; returns the agent's turn."""
        self.transcript.append(Utterance(role="user", content=text))
        return await self.turn(
            escalation=escalation, fallback_reason=fallback_reason, current=current
        )
