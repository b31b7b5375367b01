"""The server's own share of a turn: the time to the brain's first speakable chunk, less
the wait on the model for the text that made it (which runs to the token that ends the
first word, not to the first token)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.agent.test_filler import Link
from voiceops.agent.deps import TurnDeps
from voiceops.agent.speaker import Speaker
from voiceops.agent.turn_record import record_turn
from voiceops.config import DEFAULT_PROFILE, Settings
from voiceops.core.callevents import ListSink
from voiceops.core.events import TurnStats
from voiceops.core.profile import load_profile
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
