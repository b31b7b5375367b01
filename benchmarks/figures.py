"""From raw samples to the figures the benchmark reports. Pure functions, no I/O.

Definitions (all times ``time.monotonic()``, one clock for every process on Linux):

* **the LLM's own time** for a turn runs from the fake LLM receiving the request to it
  sending the token that ends the reply's first word (``first_word_at`` of its timings):
  no server can speak a word before the word has ended, and a model streams ``"Sure"``
  and then ``","``, so that is one token after the first (``first_token_at``). When the
  first token ends a word by itself the two are the same.
* **caller-side overhead per turn** (``overhead_ms``) = (first speakable chunk received
  by the caller - request sent) - the LLM's own time. What is left is the server's own
  share on both sides of the LLM plus loopback transport; the fake LLM's own lateness
  under load is not charged to the server. ``overhead_nominal_ms`` subtracts the
  configured first-token delay instead, and so also contains the fake's lag and the wait
  for the first word's end. Slow turns (made to trigger the filler) are left out;
  everything else sent within the window counts, including a reply that is later
  interrupted and the request that interrupts it. Turns before the window (calls getting
  under way) count only for the correctness figures (timeouts, stale frames, stored
  events). Its two parts are reported too: ``overhead_before_llm_ms`` (request sent to
  request received by the fake LLM) and ``overhead_after_llm_ms`` (token ending the first
  word sent to first chunk received).
* **first frame - first token** (``first_frame_after_first_token_ms``) = first speakable
  chunk received by the caller - first content token sent by the fake LLM, both as the
  two processes saw them: what a caller waits beyond the model's first token, the wait
  for the first word's end included. ``llm_first_word_gap_ms`` is the fake LLM's own part
  of it (first token sent to the token ending the first word sent), and
  ``first_frame_by_first_token`` the figure for each reply text, by its first token.
* **server overhead** is the server's own measure (``overhead_ms`` of its
  ``turn_completed`` events): first speakable chunk sent minus request received, minus its
  wait on the model for the text that made that chunk (from handing the request to the
  SDK to the arrival of the token that ends the first word), so it too leaves out the
  LLM's own time.
* **filler timing** = first speakable chunk of a slow turn - request sent - filler deadline.
* **superseded stream**: the LLM stream of an interrupted reply that was still running when
  the server took up the newer request. When that was is known from the caller's side: the
  first frame the server sent after reading the newer request (its pong to the ping sent
  right behind the request, or a frame for the new id) arrives at ``barrier_at`` of the
  interrupting turn; the server has cancelled the old turn by then. A stream that had
  completed before that was not superseded and is counted apart
  (``superseded_finished_first``; many of them mean the server lags behind its callers).
  Of the superseded streams, the share the fake LLM saw closed by the client must be 100 %.
* **keepalive missed**: a ``ping_pong`` with no reply within 5 s.
* **loop**: the server's own histograms over the window, from ``/metrics``: how many of its
  10-a-second loop-lag samples ran 20 ms or more late, and each collector generation's
  passes, total pause and passes of 10 ms or more (:func:`loop_figures`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

OVERHEAD_KINDS = frozenset({"normal", "barge", "followup"})
_LINE_NUMBER = re.compile(r":\d+\)$")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks;
    ``None`` for no values."""
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float], qs: Iterable[int] = (50, 95, 99)) -> dict[str, float | None]:
    """``n``, the given percentiles and ``max``, rounded to 0.01."""
    out: dict[str, float | None] = {"n": len(values)}
    for q in qs:
        out[f"p{q}"] = _round(percentile(values, q))
    out["max"] = _round(max(values)) if values else None
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass(frozen=True, slots=True)
class Thresholds:
    first_token_ms: float
    filler_deadline_ms: float


def _first_word_at(timing: Mapping[str, Any]) -> float:
    """When the token ending the first word was sent (the first token for timings that
    have no such record, or a reply whose only word never ended before its end)."""
    word = timing.get("first_word_at")
    return float(word if word is not None else timing["first_token_at"])


def client_figures(
    load: Mapping[str, Any],
    timings: Sequence[Mapping[str, Any]],
    thresholds: Thresholds,
) -> dict[str, Any]:
    """The figures measured from outside the server, for one level.

    ``load`` is the load generator's output, ``timings`` the fake LLM's ``/_timings``.
    """
    by_tag = {str(t["tag"]): t for t in timings}
    by_key = {(t["call_id"], t["response_id"]): t for t in load["turns"]}
    window = load["window"]
    turns: list[Mapping[str, Any]] = load["turns"]
    overhead: list[float] = []
    pre_llm: list[float] = []
    post_llm: list[float] = []
    nominal: list[float] = []
    first_chunk: list[float] = []
    after_first_token: list[float] = []
    by_first_token: dict[str, list[float]] = {}
    word_gap: list[float] = []
    filler: list[float] = []
    early = unjoined = timeouts = no_reply = 0
    superseded = closed = finished_first = before_llm = 0
    for turn in turns:
        if turn["timed_out"]:
            timeouts += 1
        if not turn["got_frames"]:
            no_reply += 1
        if not window["start"] <= turn["sent_at"] <= window["end"]:
            continue  # before the steady state (or after): correctness only, no latency
        timing = by_tag.get(str(turn["tag"]))
        first_at = turn["first_at"]
        if turn["kind"] == "slow":
            if first_at is not None:
                filler.append((first_at - turn["sent_at"]) * 1000 - thresholds.filler_deadline_ms)
        elif turn["kind"] in OVERHEAD_KINDS and first_at is not None:
            e2e = (first_at - turn["sent_at"]) * 1000
            first_chunk.append(e2e)
            nominal.append(e2e - thresholds.first_token_ms)
            if timing is None or timing["first_token_at"] is None:
                unjoined += 1
            else:
                word_at = _first_word_at(timing)
                upstream = (word_at - timing["received_at"]) * 1000
                overhead.append(e2e - upstream)
                pre_llm.append((timing["received_at"] - turn["sent_at"]) * 1000)
                post_llm.append((first_at - word_at) * 1000)
                after_first_token.append((first_at - timing["first_token_at"]) * 1000)
                by_first_token.setdefault(str(timing.get("first_token")), []).append(
                    after_first_token[-1]
                )
                word_gap.append((word_at - timing["first_token_at"]) * 1000)
                if first_at < timing["first_token_at"]:
                    early += 1  # something (a filler) was spoken before the LLM's first token
        if turn["kind"] == "barge" and turn["superseded_at"] is not None:
            # The interrupting request is the next response id of the same call.
            follow = by_key.get((turn["call_id"], turn["response_id"] + 1))
            taken_up = follow["barrier_at"] if follow is not None else None
            if timing is None:
                before_llm += 1
            elif timing["closed_by_client"]:
                superseded += 1
                closed += 1
            elif timing["completed"] and (taken_up is None or timing["finished_at"] <= taken_up):
                finished_first += 1
            else:
                superseded += 1
    in_window = [t for t in turns if window["start"] <= t["sent_at"] <= window["end"]]
    pings = load["pings"]
    frames = load["frames"]
    return {
        "turns": len(turns),
        "turns_in_window": len(in_window),
        "turn_timeouts": timeouts,
        "turns_without_reply": no_reply,
        "overhead_ms": summary(overhead),
        "overhead_before_llm_ms": summary(pre_llm),
        "overhead_after_llm_ms": summary(post_llm),
        "overhead_nominal_ms": summary(nominal),
        "first_chunk_ms": summary(first_chunk),
        "first_frame_after_first_token_ms": summary(after_first_token),
        "llm_first_word_gap_ms": summary(word_gap),
        "first_frame_by_first_token": {
            token: summary(values) for token, values in sorted(by_first_token.items())
        },
        "first_chunk_before_llm_token": early,
        "unjoined_turns": unjoined,
        "ping_ms": summary(pings["latencies_ms"]),
        "keepalives_missed": pings["missed"],
        "stale_frames": frames["stale"],
        "in_flight_frames": frames["in_flight"],
        "bad_frames": frames["bad"],
        "superseded_streams": superseded,
        "superseded_closed": closed,
        "superseded_closed_share": round(closed / superseded, 4) if superseded else None,
        "superseded_finished_first": finished_first,
        "superseded_before_llm_request": before_llm,
        "filler_vs_deadline_ms": summary(filler),
        "loadgen_lag_ms": summary(load["loop_lag_ms"]),
        "call_outcomes": load["calls"],
        "loadgen_errors": load["errors"],
    }


def expected_turn_ids(load: Mapping[str, Any]) -> set[str]:
    """The turn rows the database must hold: one per request the server answered at all
    (``{call_id}:{response_id}:turn``, the turn runner's deterministic event id)."""
    return {f"{t['call_id']}:{t['response_id']}:turn" for t in load["turns"] if t["got_frames"]}


def per_unit(delta: float, count: int) -> float | None:
    return delta / count if count > 0 else None


def profile_summary(collapsed: Iterable[str], top: int = 15) -> dict[str, Any]:
    """The heaviest functions of a py-spy ``raw`` (collapsed stacks) profile.

    Each line is ``frame;frame;...;leaf count``. Frames are merged per function (line
    numbers dropped). ``self`` is where the samples were taken, ``inclusive`` what was on
    the stack; both as shares of all samples.
    """
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed:
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_LINE_NUMBER.sub(")", frame) for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(frame, round(n / total, 4)) for frame, n in counter.most_common(top)]

    return {
        "samples": total,
        "self": shares(own) if total else [],
        "inclusive": shares(inclusive) if total else [],
    }


_LONG_S = {"lag": 0.02, "gc": 0.01}
"""Per series kind, the bound above which a sample counts as long."""
_LOOP_PREFIX = {"voiceops_event_loop_lag_seconds": "lag", "voiceops_gc_pause_seconds": "gc"}


def loop_counters(exposition: str) -> dict[str, float]:
    """The loop-lag and collector histograms of a ``/metrics`` page, flattened.

    Keys are ``<series>|count``, ``<series>|sum`` and ``<series>|<le>`` (cumulative bucket
    counts), where a series is ``lag`` or ``gc0``, ``gc1``, ``gc2``.
    """
    flat: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        prefix = _LOOP_PREFIX.get(family.name)
        if prefix is None:
            continue
        for sample in family.samples:
            series = prefix + sample.labels.get("generation", "")
            if sample.name.endswith("_bucket"):
                flat[f"{series}|{sample.labels['le']}"] = sample.value
            elif sample.name.endswith("_count"):
                flat[f"{series}|count"] = sample.value
            elif sample.name.endswith("_sum"):
                flat[f"{series}|sum"] = sample.value
    return flat


def loop_figures(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, Any]:
    """Per series, what happened between two :func:`loop_counters` readings: samples
    (``n``), their total in milliseconds, how many were longer than the series' bound
    (20 ms of loop lag, 10 ms of collector pause), and the upper bound of the bucket that
    holds the longest (``max_at_most_ms``; ``None`` past the last finite bucket)."""
    figures: dict[str, Any] = {}
    for series in sorted({key.split("|")[0] for key in after}):

        def delta(field: str, series: str = series) -> float:
            key = f"{series}|{field}"
            return after.get(key, 0.0) - before.get(key, 0.0)

        n = int(delta("count"))
        bound = _LONG_S[series.rstrip("012")]
        buckets = sorted(
            (float(field), delta(field))
            for field in (key.split("|")[1] for key in after if key.startswith(series + "|"))
            if field not in ("count", "sum")
        )
        within = next((count for le, count in buckets if le >= bound), 0.0)
        at_most = next((le for le, count in buckets if count >= n), math.inf)
        figures[series] = {
            "n": n,
            "total_ms": _round(1000 * delta("sum")),
            f"over_{bound * 1000:g}ms": int(n - within),
            "max_at_most_ms": None if n == 0 or math.isinf(at_most) else _round(1000 * at_most),
        }
    return figures
