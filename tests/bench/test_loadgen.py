"""The load generator's frame accounting: what counts as stale, what was merely in flight."""

from __future__ import annotations

import json
import random

import pytest
from benchmarks.loadgen import CallPlayer, LoadSpec, Reply, _Ping


def _player() -> CallPlayer:
    spec = LoadSpec(url="ws://127.0.0.1:9/llm-websocket", calls=1, duration_s=1, ramp_s=0)
    return CallPlayer(0, spec, random.Random(1))


def _response(rid: int, content: str, complete: bool = False) -> dict[str, object]:
    return {
        "response_type": "response",
        "response_id": rid,
        "content": content,
        "content_complete": complete,
    }


def _request(player: CallPlayer, rid: int, at: float, kind: str = "normal") -> Reply:
    reply = Reply(rid, f"c0r{rid}", kind, at)
    player.replies[rid] = reply
    player.latest_id = rid
    return reply


def test_old_frames_are_in_flight_until_the_server_proves_it_read_the_newer_request() -> None:
    player = _player()
    first = _request(player, 1, 10.0, "barge")
    player._on_response(_response(1, ""), 10.2)
    assert first.first_at is None  # nothing speakable yet
    player._on_response(_response(1, "Sure, "), 10.3)
    assert first.first_at == 10.3 and first.first.is_set()

    second = _request(player, 2, 10.5, "followup")
    first.superseded_at = 10.5
    player._on_response(_response(1, "we have "), 10.51)
    assert (player.in_flight, player.stale) == (1, 0)

    # The pong to a ping sent after request 2: every frame behind it was sent after the
    # server read request 2.
    player.pending_pings[77] = _Ping(10.5, probe=True)
    player._on_pong({"response_type": "ping_pong", "timestamp": 77}, 10.52)
    assert second.barrier_at == 10.52
    player._on_response(_response(1, "openings."), 10.53)
    assert (player.in_flight, player.stale) == (1, 1)

    player._on_response(_response(2, "Of course.", complete=True), 10.8)
    assert second.complete_at == 10.8 and second.done.is_set()
    player._on_response(_response(2, "again"), 10.9)  # after content_complete
    player._on_response(_response(9, "never asked"), 10.9)
    assert player.stale == 3
    assert player.ping_samples == []  # probes are not keepalive samples


def test_a_keepalive_reply_is_a_sample_and_an_unknown_pong_is_counted() -> None:
    player = _player()
    player.pending_pings[5] = _Ping(3.0, probe=False)
    player._on_pong({"response_type": "ping_pong", "timestamp": 5}, 3.004)
    player._on_pong({"response_type": "ping_pong", "timestamp": 6}, 3.1)
    ((sent, latency),) = player.ping_samples
    assert sent == 3.0 and latency == pytest.approx(0.004)
    assert player.unexpected_pongs == 1
    assert player.pings_settled.is_set()


@pytest.mark.parametrize(
    "changes",
    [
        {"calls": 0},
        {"slow_share": 0.7, "barge_in_share": 0.5},
        {"barge_in_share": -0.1},
        {"think_min_s": 3.0, "think_max_s": 2.0},
        {"url": "ws://example.com:80/llm-websocket"},
        {"history_turns": -1},
    ],
)
def test_spec_refuses_nonsense(changes: dict[str, object]) -> None:
    values: dict[str, object] = {
        "url": "ws://127.0.0.1:9/llm-websocket",
        "calls": 1,
        "duration_s": 1.0,
        "ramp_s": 0.0,
    }
    values.update(changes)
    with pytest.raises(ValueError):
        LoadSpec(**values)  # type: ignore[arg-type]


def test_a_call_with_history_sends_it_in_every_frame_with_word_timings() -> None:
    spec = LoadSpec(
        url="ws://127.0.0.1:9/llm-websocket", calls=1, duration_s=1, ramp_s=0, history_turns=3
    )
    player = CallPlayer(0, spec, random.Random(1))
    player.woven = True
    frame = json.loads(player._frame('"interaction_type":"update_only"'))
    lines = frame["transcript"]
    assert [line["role"] for line in lines] == ["agent", "user"] * 3
    assert frame["transcript_with_tool_calls"] == lines
    starts = [word["start"] for line in lines for word in line["words"]]
    assert starts == sorted(starts) and player.audio_s > starts[-1]
