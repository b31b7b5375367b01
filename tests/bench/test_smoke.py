"""The whole benchmark, small: 2 calls for a few seconds on SQLite, real processes.

It starts the fake LLM, ``voiceops serve`` and the load generator exactly as
``scripts/bench`` does and checks that the JSON carries every figure and that the
correctness figures hold. No latency is asserted: this machine's speed is not under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.run import main

FIGURES = (
    "overhead_ms",
    "overhead_before_llm_ms",
    "overhead_after_llm_ms",
    "first_frame_after_first_token_ms",
    "llm_first_word_gap_ms",
    "server_overhead_ms",
    "ping_ms",
    "keepalives_missed",
    "stale_frames",
    "superseded_streams",
    "superseded_closed_share",
    "filler_vs_deadline_ms",
    "events_per_s",
    "events_lost",
    "cpu_ms_per_turn",
    "rss_kib_per_call",
    "loop",
)


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_two_calls_on_sqlite_produce_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    argv = [
        "--levels=2",
        "--duration=4",
        "--db=sqlite",
        "--warmup-s=0",
        "--ramp-s=0.2",
        "--stagger-s=0.5",
        "--think-min-s=0.3",
        "--think-max-s=0.8",
        "--speech-ms-per-word=10",
        "--min-turns=0",
        "--barge-in-share=0.3",
        "--slow-share=0.3",
        f"--out={out}",
    ]
    assert main(argv) == 0

    document = json.loads(out.read_text())
    (row,) = document["results"]
    assert (row["db"], row["calls"]) == ("sqlite", 2)
    for name in FIGURES:
        assert name in row, name
    assert row["loop"]["lag"]["n"] >= 30  # ten samples a second over a window of 4 s or more
    assert row["turns_in_window"] > 0 and row["overhead_ms"]["n"] > 0
    # Every reply's first word ends a token after its first ("Sure" ","; "Of" " course").
    assert row["first_frame_after_first_token_ms"]["n"] == row["overhead_ms"]["n"]
    assert row["llm_first_word_gap_ms"]["p50"] > 0
    assert row["server_overhead_ms"]["n"] > 0
    assert row["ping_ms"]["n"] > 0 and row["keepalives_missed"] == 0
    assert row["stale_frames"] == 0
    assert row["superseded_closed_share"] in (None, 1.0)
    assert row["events_lost"] == 0 and row["turn_rows_missing"] == 0
    assert row["cpu_ms_per_turn"] > 0
    assert row["call_outcomes"]["connected"] == 2
    assert document["shutdown"]["sqlite"]["server_exit_code"] == 0
    shutdown = document["shutdown"]["sqlite"]
    assert shutdown["event_rows_after_stop"] == shutdown["event_rows_before_stop"] > 0
    assert shutdown["journal_bytes_left"] == 0
    assert {v["target"] for v in document["targets"]} >= {"no stale frame", "no lost event"}

    printed = capsys.readouterr().out
    assert printed.startswith("| DB | calls |")
    assert "first frame \u2212 first token" in printed.splitlines()[0]
    assert "| sqlite | 2 |" in printed
