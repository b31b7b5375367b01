"""The benchmark's arithmetic: percentiles, the join with the fake LLM, targets, the table."""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks.figures import (
    Thresholds,
    client_figures,
    expected_turn_ids,
    loop_counters,
    loop_figures,
    percentile,
    profile_summary,
    summary,
)
from benchmarks.report import check_targets, markdown_table, verdict_lines

from voiceops.metrics import Metrics

THRESHOLDS = Thresholds(first_token_ms=300, filler_deadline_ms=600)


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 99) == pytest.approx(3.97)
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_summary_rounds_and_counts() -> None:
    assert summary([1.0, 2.0, 3.0]) == {"n": 3, "p50": 2.0, "p95": 2.9, "p99": 2.98, "max": 3.0}
    assert summary([]) == {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}


def _turn(tag: str, kind: str, sent: float, first: float | None, **extra: Any) -> dict[str, Any]:
    row = {
        "call_id": "bench-c0001",
        "response_id": int(tag.split("r")[1]),
        "tag": tag,
        "kind": kind,
        "sent_at": sent,
        "first_at": first,
        "complete_at": None if first is None else first + 0.5,
        "superseded_at": None,
        "barrier_at": None if first is None else sent + 0.005,
        "timed_out": False,
        "got_frames": first is not None,
    }
    row.update(extra)
    return row


def _timing(tag: str, received: float, first: float | None, **extra: Any) -> dict[str, Any]:
    row = {
        "tag": tag,
        "first_token_ms": 300.0,
        "received_at": received,
        "first_token_at": first,
        "finished_at": None if first is None else first + 0.4,
        "completed": True,
        "closed_by_client": False,
        "client_closed_at": None,
    }
    row.update(extra)
    return row


def _load(turns: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "window": {"start": 0.0, "end": 100.0},
        "turns": turns,
        "pings": {"latencies_ms": [1.0, 2.0], "missed": 0},
        "frames": {"stale": 0, "in_flight": 2, "bad": 0},
        "loop_lag_ms": [0.5],
        "calls": {"connected": 1},
        "errors": [],
    }


def test_overhead_subtracts_what_the_fake_llm_actually_took() -> None:
    # Sent at 10.000, the fake got it at 10.002 and sent its first token 0.350 s later
    # (50 ms late under load); the caller heard it at 10.360: the server's share is 10 ms.
    figures = client_figures(
        _load([_turn("c1r1", "normal", 10.0, 10.360)]),
        [_timing("c1r1", 10.002, 10.352)],
        THRESHOLDS,
    )
    assert figures["overhead_ms"]["p50"] == pytest.approx(10.0)
    assert figures["overhead_before_llm_ms"]["p50"] == pytest.approx(2.0)
    assert figures["overhead_after_llm_ms"]["p50"] == pytest.approx(8.0)
    assert figures["overhead_nominal_ms"]["p50"] == pytest.approx(60.0)
    assert figures["first_chunk_ms"]["p50"] == pytest.approx(360.0)
    assert figures["unjoined_turns"] == 0


def test_the_llm_time_runs_to_the_token_that_ends_the_first_word() -> None:
    # The fake sent "Sure" at 10.302 and "," at 10.317 (a token later); the caller heard
    # "Sure," at 10.319: 17 ms after the first token, 2 ms after the word ended.
    figures = client_figures(
        _load([_turn("c1r1", "normal", 10.0, 10.319), _turn("c1r2", "normal", 20.0, 20.304)]),
        [
            _timing("c1r1", 10.002, 10.302, first_word_at=10.317, first_token="Sure"),
            # An older record without the word's end: the first token ends the word.
            _timing("c1r2", 20.001, 20.301),
        ],
        THRESHOLDS,
    )
    by_token = figures["first_frame_by_first_token"]
    assert by_token["Sure"]["max"] == pytest.approx(17.0)
    assert by_token["None"]["max"] == pytest.approx(3.0)
    assert figures["first_frame_after_first_token_ms"]["max"] == pytest.approx(17.0)
    assert figures["first_frame_after_first_token_ms"]["n"] == 2
    assert figures["llm_first_word_gap_ms"]["max"] == pytest.approx(15.0)
    assert figures["overhead_after_llm_ms"]["max"] == pytest.approx(3.0)
    assert figures["overhead_after_llm_ms"]["p50"] == pytest.approx(2.5)
    # The caller-side overhead leaves out the LLM's own time up to the word's end.
    assert figures["overhead_ms"]["max"] == pytest.approx(4.0)
    assert figures["overhead_nominal_ms"]["max"] == pytest.approx(19.0)


def test_slow_turns_time_the_filler_and_stay_out_of_the_overhead() -> None:
    figures = client_figures(
        _load([_turn("c1r1", "slow", 10.0, 10.612), _turn("c1r2", "slow", 20.0, 20.605)]),
        [_timing("c1r1", 10.001, 11.0), _timing("c1r2", 20.001, 21.0)],
        THRESHOLDS,
    )
    assert figures["overhead_ms"]["n"] == 0
    assert figures["filler_vs_deadline_ms"]["n"] == 2
    assert figures["filler_vs_deadline_ms"]["max"] == pytest.approx(12.0)


def test_a_chunk_before_the_llm_token_is_counted_and_a_missing_timing_is_unjoined() -> None:
    figures = client_figures(
        _load([_turn("c1r1", "normal", 0.0, 0.61), _turn("c1r2", "normal", 5.0, 5.31)]),
        [_timing("c1r1", 0.001, 0.9)],
        THRESHOLDS,
    )
    assert figures["first_chunk_before_llm_token"] == 1
    assert figures["unjoined_turns"] == 1
    assert figures["overhead_ms"]["n"] == 1


def test_superseded_streams_share_closed_by_the_client() -> None:
    turns = [
        _turn("c1r1", "barge", 0.0, 0.31, superseded_at=0.45),
        _turn("c1r2", "followup", 0.45, 0.76),
        _turn("c1r3", "barge", 5.0, 5.31, superseded_at=5.45),
        _turn("c1r4", "followup", 5.45, 5.76),
        # This stream had already finished when the caller barged in: not a superseded one.
        _turn("c1r5", "barge", 9.0, 9.31, superseded_at=9.9),
        _turn("c1r6", "followup", 9.9, 10.2),
        # Nor this one: it finished before the server had read the interrupting request.
        _turn("c1r7", "barge", 12.0, 12.31, superseded_at=12.4),
        _turn("c1r8", "followup", 12.4, 12.9, barrier_at=12.6),
    ]
    timings = [
        _timing("c1r1", 0.001, 0.30, completed=False, closed_by_client=True, finished_at=0.46),
        _timing("c1r2", 0.451, 0.75),
        _timing("c1r3", 5.001, 5.30, completed=True, finished_at=5.7),
        _timing("c1r4", 5.451, 5.75),
        _timing("c1r5", 9.001, 9.30, finished_at=9.8),
        _timing("c1r6", 9.901, 10.19),
        _timing("c1r7", 12.001, 12.30, finished_at=12.5),
        _timing("c1r8", 12.61, 12.89),
    ]
    figures = client_figures(_load(turns), timings, THRESHOLDS)
    assert figures["superseded_streams"] == 2
    assert figures["superseded_closed"] == 1
    assert figures["superseded_closed_share"] == 0.5
    assert figures["superseded_finished_first"] == 2
    assert figures["overhead_ms"]["n"] == 8


def test_expected_turn_ids_skip_requests_that_got_no_frame() -> None:
    load = _load([_turn("c1r1", "normal", 0.0, 0.3), _turn("c1r2", "normal", 3.0, None)])
    assert expected_turn_ids(load) == {"bench-c0001:1:turn"}


def _row(db: str, calls: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "db": db,
        "calls": calls,
        "turns_in_window": 10,
        "overhead_ms": {"p50": 2.0, "p95": 5.0, "p99": 9.0},
        "server_overhead_ms": {"p50": 1.0, "p95": 2.0, "p99": 3.0},
        "first_frame_after_first_token_ms": {"p50": 16.0, "p99": 18.5},
        "overhead_after_llm_ms": {"p50": 1.0, "p99": 3.5},
        "ping_ms": {"p99": 3.0},
        "keepalives_missed": 0,
        "stale_frames": 0,
        "superseded_closed_share": 1.0,
        "superseded_streams": 3,
        "filler_vs_deadline_ms": {"p50": 4.0, "p99": 9.0},
        "events_per_s": 120.0,
        "events_lost": 0,
        "cpu_ms_per_turn": 1.25,
        "rss_kib_per_call": 60.0,
        "loop": {
            "lag": {"n": 300, "over_20ms": 2},
            "gc0": {"n": 90, "over_10ms": 1},
            "gc1": {"n": 9, "over_10ms": 1},
        },
    }
    row.update(changes)
    return row


def test_targets_apply_latency_limits_to_postgres_and_correctness_everywhere() -> None:
    rows = [
        # The target reads the server's own measure; the caller-side figure may be higher.
        _row("postgres", 1, server_overhead_ms={"p50": 5.0, "p95": 6.0, "p99": 7.0}),
        _row("postgres", 200, overhead_ms={"p50": 50.0, "p95": 60.0, "p99": 70.0}),
        _row("postgres", 500, ping_ms={"p99": 25.0}),
        _row("postgres", 1, overhead_after_llm_ms={"p50": 2.5, "p99": 20.0}),
        _row("sqlite", 1, server_overhead_ms={"p50": 9.0, "p95": 9.0, "p99": 9.0}, events_lost=2),
        _row("sqlite", 50, superseded_closed_share=None, superseded_streams=0),
    ]
    verdicts = check_targets(rows)
    missed = {(v["target"], v["db"], v["calls"]) for v in verdicts if v["met"] is False}
    assert missed == {
        ("overhead p50 < 4 ms at 1 call", "postgres", 1),
        (
            "first frame within 2 ms of the token ending the first word (p50) at 1 call",
            "postgres",
            1,
        ),
        ("ping p99 < 20 ms at 500 calls", "postgres", 500),
        ("no lost event", "sqlite", 1),
    }
    unknown = [v for v in verdicts if v["met"] is None]
    assert [(v["target"], v["calls"]) for v in unknown] == [("every superseded stream closed", 50)]
    lines = verdict_lines(verdicts)
    assert lines[-1].startswith("targets: ") and "4 missed" in lines[-1]
    first_frame = [v for v in verdicts if v["target"].startswith("first frame")]
    assert [v["value"] for v in first_frame] == [1.0, 2.5]


def test_markdown_table_has_one_line_per_row_and_dashes_for_no_sample() -> None:
    table = markdown_table(
        [_row("postgres", 1), _row("sqlite", 2, superseded_closed_share=None, superseded_streams=0)]
    )
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[0].count("|") == lines[1].count("|") == lines[2].count("|")
    assert "| postgres | 1 | 10 | 1.0 / 2.0 / 3.0 | 2.0 / 9.0 | 16.0 / 18.5 |" in lines[2]
    assert "| first frame \u2212 first token p50 / p99 ms |" in lines[0]
    assert "100 % of 3" in lines[2]
    assert "- of 0" in lines[3]
    assert lines[2].endswith("| 2 of 300 / 2 |")
    no_loop = markdown_table([_row("sqlite", 2, loop={})]).splitlines()[2]
    assert no_loop.endswith("| - |")


def test_profile_summary_merges_lines_of_one_function() -> None:
    collapsed = [
        "main (app.py:1);handle (ws.py:10);parse (msg.py:5) 6",
        "main (app.py:1);handle (ws.py:12);send (ws.py:40) 3",
        "main (app.py:1);handle (ws.py:10);parse (msg.py:7) 1",
        "not a profile line",
    ]
    summary_ = profile_summary(collapsed, top=2)
    assert summary_["samples"] == 10
    assert summary_["self"] == [("parse (msg.py)", 0.7), ("send (ws.py)", 0.3)]
    assert summary_["inclusive"][0] in {("main (app.py)", 1.0), ("handle (ws.py)", 1.0)}
    assert profile_summary([]) == {"samples": 0, "self": [], "inclusive": []}


def test_loop_figures_count_only_what_happened_between_two_scrapes() -> None:
    metrics = Metrics()
    metrics.loop_lag.observe(0.5)  # before the window: must not count
    metrics.gc_pause.labels(generation="2").observe(0.2)
    before = loop_counters(metrics.render().decode())
    for lag in (0.001, 0.019, 0.03, 0.2):
        metrics.loop_lag.observe(lag)
    metrics.gc_pause.labels(generation="0").observe(0.0002)
    metrics.gc_pause.labels(generation="0").observe(0.015)
    after = loop_counters(metrics.render().decode())

    figures = loop_figures(before, after)
    assert figures["lag"] == {"n": 4, "total_ms": 250.0, "over_20ms": 2, "max_at_most_ms": 250.0}
    assert figures["gc0"] == {"n": 2, "total_ms": 15.2, "over_10ms": 1, "max_at_most_ms": 20.0}
    assert figures["gc2"] == {"n": 0, "total_ms": 0.0, "over_10ms": 0, "max_at_most_ms": None}


def test_loop_figures_past_the_last_bucket_have_no_upper_bound() -> None:
    metrics = Metrics()
    before = loop_counters(metrics.render().decode())
    metrics.loop_lag.observe(3.0)
    figures = loop_figures(before, loop_counters(metrics.render().decode()))
    assert figures["lag"]["max_at_most_ms"] is None
    assert figures["lag"]["over_20ms"] == 1
