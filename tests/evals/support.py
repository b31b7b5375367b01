"""Helpers for the evaluation tests: scenarios from YAML text, calls recorded by hand."""

from __future__ import annotations

import textwrap
from pathlib import Path

from voiceops.config import DEFAULT_PROFILE
from voiceops.core.profile import AgentProfile, load_profile
from voiceops.evals.loading import LoadedScenario, load_scenario
from voiceops.evals.play import CallRecord, ToolSeen, TurnRecord

PROFILE: AgentProfile = load_profile(DEFAULT_PROFILE)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def scenario(tmp_path: Path, text: str, name: str = "s.yaml") -> LoadedScenario:
    return load_scenario(write(tmp_path, name, text), PROFILE)


def turn(
    index: int,
    text: str,
    *,
    caller: str | None = "hello",
    first_ms: float | None = 40.0,
    tools: list[ToolSeen] | None = None,
    transfer: str | None = None,
    end_call: bool = False,
    previous: str | None = None,
    filler: str | None = None,
    uninterruptible: bool = True,
) -> TurnRecord:
    return TurnRecord(
        index=index,
        kind="greeting" if index == 0 else "caller",
        caller=None if index == 0 else caller,
        response_id=index,
        text=text,
        heard=text,
        previous_agent=previous,
        first_frame_ms=first_ms,
        complete_ms=first_ms,
        tools=tools or [],
        transfer_number=transfer,
        end_call=end_call,
        no_interruption_allowed=uninterruptible,
        filler=filler,
        complete=True,
    )


GREETING = "Thanks for calling Maple Street Hair, this is Ava. How can I help?"


def record(*turns: TurnRecord, scripted: int | None = None) -> CallRecord:
    """A call that went as ``turns`` say (the greeting is added first)."""
    played = [turn(0, GREETING), *turns]
    ended = next((t.index for t in turns if t.transfer_number or t.end_call), None)
    return CallRecord(
        call_id="call_test",
        turns=played,
        scripted_turns=len(turns) if scripted is None else scripted,
        ended_at=ended,
        pings=[1, 2],
    )
