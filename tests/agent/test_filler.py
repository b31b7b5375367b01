"""Fillers: which line (rotation, cap) and when (deadline, tools, superseded turns), through
the real turn runner with a scripted brain and a real call session; no socket needed."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from voiceops.agent.deps import TurnDeps
from voiceops.agent.filler import FillerPicker
from voiceops.agent.turn import TurnRunner
from voiceops.config import DEFAULT_PROFILE, Settings
from voiceops.core.callevents import ListSink
from voiceops.core.clock import ManualClock
from voiceops.core.events import AgentEvent, TextChunk, ToolFinished, ToolStarted, TurnContext
from voiceops.core.profile import load_profile
from voiceops.core.state import CallState
from voiceops.metrics import Metrics
from voiceops.retell.messages import parse_inbound
from voiceops.retell.session import CallSession
from voiceops.tools.memory import InMemoryBookingRepo

LINES = ["One moment.", "Let me check.", "Just a second."]


def test_lines_rotate_never_twice_in_a_row_and_are_capped() -> None:
    picker = FillerPicker(LINES, max_per_call=50, rng=random.Random(3))
    state = CallState(call_id="c")
    picked = [picker.pick(state) for _ in range(50)]
    assert all(a != b for a, b in itertools.pairwise(picked))
    assert set(picked) == set(LINES)
    capped = FillerPicker(LINES, max_per_call=2, rng=random.Random(3))
    other = CallState(call_id="d")
    assert capped.may_speak(other)
    capped.pick(other)
    capped.pick(other)
    assert not capped.may_speak(other)
    assert not FillerPicker([], max_per_call=5, rng=random.Random(1)).may_speak(other)


class Link:
    """A call link that records frames instead of writing to a socket."""

    def __init__(self) -> None:
        self.call_id = "call_filler"
        self.session = CallSession(self.call_id, greeting=None)
        self.session.connect()
        self.state = CallState(call_id=self.call_id)
        self.frames: list[dict[str, Any]] = []

    async def send(self, text: str) -> None:
        self.frames.append(json.loads(text))

    def spoken(self, rid: int) -> list[str]:
        return [
            f["content"]
            for f in self.frames
            if f.get("response_type") == "response" and f["response_id"] == rid and f["content"]
        ]


class Scripted:
    """A brain that waits for ``go`` before each step; steps are events or ``"wait"``."""

    name = "scripted"

    def __init__(self, *steps: AgentEvent) -> None:
        self.steps = steps
        self.go = asyncio.Event()

    async def stream(self, ctx: TurnContext) -> AsyncIterator[AgentEvent]:
        for step in self.steps:
            yield step
            if isinstance(step, ToolStarted):
                await self.go.wait()  # the tool runs until released


START = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def runner_for(brain: Any, deadline_ms: int = 50) -> TurnRunner:
    """A runner on a manual clock: tests move time with ``runner.deps.clock.advance``."""
    profile = load_profile(DEFAULT_PROFILE).model_copy(update={"fillers": LINES})
    deps = TurnDeps(
        brain=brain,
        fallback=None,
        profile=profile,
        settings=Settings(filler_deadline_ms=deadline_ms, filler_max_per_call=5),
        repo=InMemoryBookingRepo(),
        events=ListSink(),
        metrics=Metrics(),
        rng=random.Random(0),
        clock=ManualClock(START),
    )
    return TurnRunner(deps)


def clock_of(runner: TurnRunner) -> ManualClock:
    clock = runner.deps.clock
    assert isinstance(clock, ManualClock)
    return clock


def start(runner: TurnRunner, link: Link, rid: int) -> asyncio.Task[None]:
    now = runner.deps.clock.monotonic()
    return asyncio.create_task(runner.run(link, request(link, rid), now))


def request(link: Link, rid: int, text: str = "Is Thursday free?") -> Any:
    frame = parse_inbound(
        json.dumps(
            {
                "interaction_type": "response_required",
                "response_id": rid,
                "transcript": [{"role": "user", "content": text}],
            }
        ),
        max_bytes=1 << 20,
    )
    link.session.receive(frame)
    return frame


class Slow:
    """A brain whose first text comes only when released."""

    name = "slow"

    def __init__(self, text: str) -> None:
        self.text = text
        self.go = asyncio.Event()

    async def stream(self, ctx: TurnContext) -> AsyncIterator[AgentEvent]:
        await self.go.wait()
        yield TextChunk(self.text)


async def test_a_slow_reply_gets_one_filler_at_the_deadline_then_the_reply() -> None:
    brain = Slow("Thursday at ten is free.")
    link = Link()
    runner = runner_for(brain)
    turn = start(runner, link, 1)
    await clock_of(runner).advance(0.049)
    assert link.spoken(1) == []  # not a moment before the deadline
    await clock_of(runner).advance(0.001)
    assert len(link.spoken(1)) == 1
    await clock_of(runner).advance(5.0)
    assert len(link.spoken(1)) == 1  # one per turn
    brain.go.set()
    await turn
    spoken = link.spoken(1)
    assert spoken[0].strip() in LINES
    assert "".join(spoken[1:]).strip() == "Thursday at ten is free."
    assert link.state.filler_count == 1


async def test_a_fast_reply_gets_no_filler() -> None:
    brain = Slow("We open at nine.")
    brain.go.set()
    link = Link()
    runner = runner_for(brain)
    await start(runner, link, 1)
    await clock_of(runner).advance(0.15)  # three deadlines later: nothing more was sent
    assert "".join(link.spoken(1)).strip() == "We open at nine."
    assert link.state.filler_count == 0


async def test_a_superseded_turn_never_speaks_its_filler() -> None:
    brain = Slow("too late")
    link = Link()
    runner = runner_for(brain, deadline_ms=200)
    turn = start(runner, link, 1)
    await clock_of(runner).advance(0.01)
    request(link, 2, "Is Friday free?")  # supersedes 1 before its deadline
    turn.cancel()
    await asyncio.gather(turn, return_exceptions=True)
    await clock_of(runner).advance(0.3)
    assert clock_of(runner).pending == 0  # the timer went with the turn
    assert link.spoken(1) == []
    assert link.state.filler_count == 0


async def test_a_long_tool_gets_a_filler_even_after_the_reply_began() -> None:
    brain = Scripted(
        TextChunk("Let me look. "),
        ToolStarted("t1", "check_availability", "{}"),
        ToolFinished("t1", "check_availability", "{}", True),
        TextChunk("Thursday is free."),
    )
    link = Link()
    runner = runner_for(brain)
    turn = start(runner, link, 1)
    await clock_of(runner).advance(0.0)
    assert [c.strip() for c in link.spoken(1)] == ["Let me look."]
    await clock_of(runner).advance(0.05)  # the tool runs past the deadline
    assert len(link.spoken(1)) == 2  # the line, then the filler
    brain.go.set()
    await turn
    spoken = [c.strip() for c in link.spoken(1)]
    assert spoken[0] == "Let me look."
    assert spoken[1] in LINES
    assert "".join(link.spoken(1)).strip().endswith("Thursday is free.")
    invocation = [f for f in link.frames if f["response_type"] == "tool_call_invocation"]
    assert len(invocation) == 1
