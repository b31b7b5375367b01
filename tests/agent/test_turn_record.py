"""The server's own share of a turn: the time to the brain's first speakable chunk, less
the wait on the model for the text that made it (which runs to the token that ends the
first word, not to the first token)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.agent.test_filler import Link
from voiceops.agent import turn_record
from voiceops.agent.deps import TurnDeps
from voiceops.agent.speaker import Speaker
from voiceops.agent.turn_record import record_turn
from voiceops.config import DEFAULT_PROFILE, Settings
from voiceops.core.callevents import ListSink
from voiceops.core.events import TurnStats
from voiceops.core.profile import load_profile
from voiceops.logs import mask_value
from voiceops.metrics import Metrics
from voiceops.tools.memory import InMemoryBookingRepo


class Named:
    def __init__(self, name: str) -> None:
        self.name = name

    async def stream(self, ctx: Any) -> Any:  # pragma: no cover - never run here
        yield None


def deps(brain: str) -> TurnDeps:
    return TurnDeps(
        brain=Named(brain),
        fallback=None,
        profile=load_profile(DEFAULT_PROFILE),
        settings=Settings(),
        repo=InMemoryBookingRepo(),
        events=ListSink(),
        metrics=Metrics(),
        rng=random.Random(0),
    )


def speaker(started: float, text_at: float, chunk_at: float) -> Speaker:
    out = Speaker(Link(), 1, started, lambda: chunk_at, Metrics())
    out.brain_text_at, out.brain_chunk_at, out.first_chunk_at = text_at, chunk_at, chunk_at
    return out


@pytest.mark.parametrize(
    ("stats", "expected_ms"),
    [
        # The model: request handed over 2 ms in, "Sure" at 300 ms, "," (ending the word)
        # at 348 ms; the chunk left 3 ms after that. Only 2 + 3 ms are the server's.
        (TurnStats(waits_on_model=True, model_request_at=10.002, model_first_token_s=0.298), 5.0),
        # A brain that asks no model: everything is the server's.
        (TurnStats(), 353.0),
        # The model's wait is unknown: no figure rather than a wrong one.
        (TurnStats(waits_on_model=True), None),
    ],
)
def test_the_server_share_leaves_out_the_wait_for_the_first_word(
    stats: TurnStats, expected_ms: float | None
) -> None:
    turn_deps = deps("llm")
    out = speaker(10.0, 10.350, 10.353)
    link = out.link
    overhead = record_turn(turn_deps, link, out, 1, 1, "response", "llm", "completed", stats)
    assert overhead == (pytest.approx(expected_ms) if expected_ms is not None else None)


def test_no_share_is_claimed_for_a_fallback_or_a_filler_turn() -> None:
    stats = TurnStats()
    out = speaker(10.0, 10.350, 10.353)
    assert (
        record_turn(deps("llm"), out.link, out, 1, 1, "response", "flow", "completed", stats)
        is None
    )
    out.filler_spoken = True
    assert (
        record_turn(deps("llm"), out.link, out, 1, 1, "response", "llm", "completed", stats) is None
    )


def test_the_model_context_is_recorded_masked_and_bounded_only_when_a_model_was_asked() -> None:
    mask_value("sk-live-abcdef123456")
    turn_deps = deps("llm")
    out = speaker(10.0, 10.350, 10.353)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are Ava. The caller's number is +12125550142."},
        {"role": "user", "content": "my key is sk-live-abcdef123456, book me at 3pm"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "book", "arguments": '{"phone":"+12125550142"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"start":"2026-12-02T15:00"}'},
        {"role": "user", "content": "x" * (turn_record.MAX_CONTEXT_MESSAGE_CHARS + 50)},
        *[{"role": "user", "content": "y" * 7000} for _ in range(10)],
    ]
    stats = TurnStats(waits_on_model=True, model_messages=messages)
    record_turn(turn_deps, out.link, out, 7, 3, "response", "llm", "completed", stats)
    sink = turn_deps.events
    assert isinstance(sink, ListSink)
    (context,) = [e for e in sink.events if e.event_type == "model_context"]
    assert context.response_id == 7 and context.event_id.endswith(":7:context")
    payload = context.payload
    assert payload is not None
    kept = payload["messages"]
    assert kept[0]["content"] == "You are Ava. The caller's number is +1******0142."
    assert kept[1]["content"] == "my key is ***, book me at 3pm"
    assert kept[2]["tool_calls"] == [{"name": "book", "arguments": '{"phone":"+1******0142"}'}]
    assert kept[3] == {
        "role": "tool",
        "content": '{"start":"2026-12-02T15:00"}',
        "tool_call_id": "c1",
    }
    assert kept[4]["cut"] is True
    assert len(kept[4]["content"]) == turn_record.MAX_CONTEXT_MESSAGE_CHARS
    assert payload["total"] == len(messages) and payload["clipped"] is True
    assert len(kept) < len(messages)
    assert sum(len(m["content"]) for m in kept) <= turn_record.MAX_CONTEXT_CHARS

    flow_deps = deps("flow")
    out = speaker(10.0, 10.350, 10.353)
    record_turn(flow_deps, out.link, out, 8, 4, "response", "flow", "completed", TurnStats())
    assert isinstance(flow_deps.events, ListSink)
    assert [e.event_type for e in flow_deps.events.events] == ["turn_completed"]


def test_the_voice_prompt_is_written_once_per_call_while_it_stays_the_same() -> None:
    turn_deps = deps("llm")
    out = speaker(10.0, 10.350, 10.353)

    def turn(rid: int, prompt: str) -> dict[str, Any]:
        messages = [{"role": "system", "content": prompt}, {"role": "user", "content": "hi"}]
        stats = TurnStats(waits_on_model=True, model_messages=messages)
        record_turn(turn_deps, out.link, out, rid, rid, "response", "llm", "completed", stats)
        assert isinstance(turn_deps.events, ListSink)
        payload = turn_deps.events.events[-1].payload
        assert payload is not None
        first: dict[str, Any] = payload["messages"][0]
        return first

    assert turn(1, "You are Ava.") == {"role": "system", "content": "You are Ava."}
    assert turn(2, "You are Ava.") == {"role": "system", "content": "", "same_as": 1}
    assert turn(3, "You are Ava, now warmer.")["content"] == "You are Ava, now warmer."
    assert turn(4, "You are Ava, now warmer.")["same_as"] == 3
