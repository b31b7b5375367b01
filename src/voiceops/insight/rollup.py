"""What the hourly rollup holds: calls, turns, Retell's latency, escalations, cost and
post-call analysis, counted per hour of the call's start and per profile version.

:func:`compute` turns the source rows of some hours (``store.insight.HourSource``) into
rollup rows ``(metric, hour, version, key, n, total)``. Latencies are kept as histograms
over :data:`EDGES` (``key`` is the bin's lower edge in ms), so percentiles of any range
come from summed counts (:func:`voiceops.insight.series.percentile`). Money is kept in
millicents and durations in ms, so every total is an integer.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from voiceops.insight.cost import RetellCost
from voiceops.store.insight import HourSource, RollupRow, hour_of

EDGES: tuple[int, ...] = (
    *range(0, 1000, 25),
    *range(1000, 3000, 100),
    *range(3000, 10000, 500),
    10_000,
    15_000,
    20_000,
    30_000,
    60_000,
)
"""Lower edges of the latency bins in ms: 25 ms wide below a second, 100 ms to 3 s,
500 ms to 10 s, then coarse; the last bin is open."""

RETELL_PARTS = ("e2e", "asr", "llm", "tts")
OUTCOMES = ("booked", "answered", "transferred", "callback", "abandoned")
MILLICENTS = Decimal(1000)


def bin_of(ms: float) -> int:
    """The lower edge of the bin ``ms`` falls in."""
    return EDGES[max(0, bisect_right(EDGES, max(0.0, ms)) - 1)]


def bin_width(edge: int) -> int | None:
    """The width of the bin at ``edge``; ``None`` for the last, open one."""
    i = EDGES.index(edge)
    return EDGES[i + 1] - edge if i + 1 < len(EDGES) else None


def normal_reason(reason: object) -> str:
    """An escalation reason as it is counted: words lower-cased and single-spaced, cut."""
    text = " ".join(str(reason or "").split()).lower()
    return text[:64] or "(none)"


class _Tally:
    def __init__(self) -> None:
        self.rows: Counter[tuple[str, int, int, str]] = Counter()
        self.totals: Counter[tuple[str, int, int, str]] = Counter()

    def add(self, metric: str, hour: int, version: int, key: str = "", total: int = 0) -> None:
        slot = (metric, hour, version, key[:64])
        self.rows[slot] += 1
        self.totals[slot] += total

    def out(self) -> Iterator[RollupRow]:
        for slot, n in sorted(self.rows.items()):
            yield (*slot, n, self.totals[slot])


def compute(source: HourSource) -> Iterable[RollupRow]:
    """The rollup rows of the calls in ``source`` and of their events."""
    tally = _Tally()
    where = {
        c["call_id"]: (hour_of(c["seen"]), int(c["profile_version"] or 0)) for c in source.calls
    }
    escalated: set[str] = set()
    replied: set[str] = set()
    fallback_turns: set[tuple[str, int | None]] = set()
    for event in source.events:
        at = where.get(event["call_id"])
        if at is None:
            continue
        kind = event["event_type"]
        if kind == "fallback":
            fallback_turns.add((event["call_id"], event["response_id"]))
        elif kind == "escalation":
            escalated.add(event["call_id"])
            _escalation(tally, *at, event.get("payload") or {})
        else:
            _turn(tally, *at, event)
            if kind == "turn_completed" and (event.get("payload") or {}).get("kind") != "reminder":
                replied.add(event["call_id"])
    for call in source.calls:
        call_id = call["call_id"]
        hour, version = where[call_id]
        _call(tally, hour, version, call)
        tally.add(
            "outcome",
            hour,
            version,
            outcome_of(
                call,
                booked=source.bookings.get(call_id, 0) > 0,
                callback=source.callbacks.get(call_id, 0) > 0,
                replied=call_id in replied,
            ),
        )
        for _ in range(source.callbacks.get(call_id, 0)):
            tally.add("callbacks", hour, version)
    for call_id, _rid in fallback_turns:
        tally.add("fallback_turns", *where[call_id])
    for call_id in escalated:
        tally.add("escalated_calls", *where[call_id])
    return list(tally.out())


def outcome_of(call: Mapping[str, Any], *, booked: bool, callback: bool, replied: bool) -> str:
    """How a call ended, for the outcome chart: what the call records when it is one of
    :data:`OUTCOMES`, else, in this order, ``transferred`` (the agent transferred it, or
    Retell reported a transfer), ``booked`` (a booking was made in it), ``callback`` (a
    callback was requested), ``abandoned`` (the caller left before any reply to what they
    said), ``answered``. A call still going on is ``ongoing``."""
    recorded = call["outcome"]
    if recorded in OUTCOMES:
        return str(recorded)
    if recorded == "transferred" or call["transfer_status"]:
        return "transferred"
    if booked:
        return "booked"
    if callback:
        return "callback"
    if call.get("ended_at") is None and call["duration_ms"] is None:
        return "ongoing"
    return "answered" if replied else "abandoned"


def _call(tally: _Tally, hour: int, version: int, call: Mapping[str, Any]) -> None:
    duration = call["duration_ms"]
    tally.add("calls", hour, version, total=int(duration or 0))
    if duration is not None:
        tally.add("duration", hour, version, total=int(duration))
    if call["disconnection_reason"]:
        tally.add("disconnection", hour, version, call["disconnection_reason"])
    if call["transfer_status"]:
        tally.add("transfer", hour, version, call["transfer_status"])
    _latency(tally, hour, version, call["latency"])
    _cost(tally, hour, version, call)
    analysis = call["call_analysis"]
    if isinstance(analysis, Mapping):
        success = analysis.get("call_successful")
        if isinstance(success, bool):
            tally.add("success", hour, version, "yes" if success else "no")
        sentiment = analysis.get("user_sentiment")
        if isinstance(sentiment, str) and sentiment:
            tally.add("sentiment", hour, version, sentiment)


def _latency(tally: _Tally, hour: int, version: int, latency: object) -> None:
    """Retell's per-turn latency of the call (``values``), else its p50 once per turn."""
    if not isinstance(latency, Mapping):
        return
    for part in RETELL_PARTS:
        figures = latency.get(part)
        if not isinstance(figures, Mapping):
            continue
        values = figures.get("values")
        if isinstance(values, list) and values:
            samples = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        elif isinstance(figures.get("p50"), int | float):
            count = figures.get("num")
            samples = [figures["p50"]] * (count if isinstance(count, int) and count > 0 else 1)
        else:
            samples = []
        for value in samples:
            tally.add(f"retell_{part}", hour, version, str(bin_of(float(value))))


def _cost(tally: _Tally, hour: int, version: int, call: Mapping[str, Any]) -> None:
    try:
        retell = RetellCost.from_record(call["call_cost"])
    except (ValueError, ArithmeticError, KeyError, TypeError):
        retell = None
    duration = call["duration_ms"]
    if retell is not None:
        tally.add("cost_retell", hour, version, total=_millicents(retell.combined_cents))
        for product in retell.products:
            tally.add("cost_product", hour, version, product.product, _millicents(product.cents))
    needs_phone = call["call_type"] != "web_call" and not (
        retell is not None and retell.includes_telephony
    )
    if needs_phone and duration is not None:
        tally.add("phone_ms", hour, version, total=int(duration))


def _turn(tally: _Tally, hour: int, version: int, event: Mapping[str, Any]) -> None:
    payload = event.get("payload") or {}
    tokens_in, tokens_out = event.get("tokens_in"), event.get("tokens_out")
    cached = payload.get("tokens_cached") if isinstance(payload, Mapping) else None
    for key, value in (("input", tokens_in), ("cached_input", cached), ("output", tokens_out)):
        if isinstance(value, int) and value > 0:
            tally.add("tokens", hour, version, key, value)
    if event["event_type"] != "turn_completed":
        return
    tally.add("turns", hour, version)
    if isinstance(payload, Mapping) and payload.get("filler"):
        tally.add("filler_turns", hour, version)
    latency = event.get("latency_ms")
    if latency is not None:
        tally.add("first_frame", hour, version, str(bin_of(float(latency))))


def _escalation(tally: _Tally, hour: int, version: int, payload: Mapping[str, Any]) -> None:
    tally.add("escalations", hour, version)
    tally.add("esc_trigger", hour, version, str(payload.get("trigger") or "unknown"))
    tally.add("esc_outcome", hour, version, str(payload.get("outcome") or "unknown"))
    tally.add("esc_reason", hour, version, normal_reason(payload.get("reason")))


def _millicents(cents: Decimal) -> int:
    return int((cents * MILLICENTS).to_integral_value())
