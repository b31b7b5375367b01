"""The benchmark's Markdown table and its check against the targets of the scale issue.

Latency targets hold for PostgreSQL storage (the production set-up) at the named levels;
correctness targets (no stale frame, no lost event, every superseded stream closed, no
missed keepalive) hold for every row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]
DASH = "-"


def _num(value: object, digits: int = 1) -> str:
    if value is None:
        return DASH
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _share(value: object) -> str:
    return DASH if not isinstance(value, float | int) else f"{value * 100:.0f} %"


def _trio(stats: Mapping[str, Any], *keys: str) -> str:
    return " / ".join(_num(stats.get(k)) for k in keys)


def _loop_cell(loop: Mapping[str, Any] | None) -> str:
    """Late loop-lag samples of all taken, and collector passes over 10 ms (any generation)."""
    if not loop or "lag" not in loop:
        return DASH
    lag = loop["lag"]
    long_gc = sum(v["over_10ms"] for k, v in loop.items() if k.startswith("gc"))
    return f"{lag['over_20ms']} of {lag['n']} / {long_gc}"


COLUMNS: tuple[tuple[str, Callable[[Row], str]], ...] = (
    ("DB", lambda r: str(r["db"])),
    ("calls", lambda r: str(r["calls"])),
    ("turns", lambda r: str(r["turns_in_window"])),
    (
        "server overhead p50 / p95 / p99 ms",
        lambda r: _trio(r["server_overhead_ms"], "p50", "p95", "p99"),
    ),
    (
        "caller-side overhead p50 / p99 ms",
        lambda r: _trio(r["overhead_ms"], "p50", "p99"),
    ),
    (
        "first frame \u2212 first token p50 / p99 ms",
        lambda r: _trio(r.get("first_frame_after_first_token_ms") or {}, "p50", "p99"),
    ),
    ("ping p99 ms", lambda r: _num(r["ping_ms"]["p99"])),
    ("missed pings", lambda r: str(r["keepalives_missed"])),
    ("stale frames", lambda r: str(r["stale_frames"])),
    (
        "superseded streams closed",
        lambda r: f"{_share(r['superseded_closed_share'])} of {r['superseded_streams']}",
    ),
    ("filler p50 / p99 vs deadline ms", lambda r: _trio(r["filler_vs_deadline_ms"], "p50", "p99")),
    ("events/s", lambda r: _num(r["events_per_s"], 0)),
    ("events lost", lambda r: str(r["events_lost"])),
    ("CPU ms/turn", lambda r: _num(r["cpu_ms_per_turn"], 2)),
    ("RSS KiB/call", lambda r: _num(r["rss_kib_per_call"], 0)),
    ("loop lag > 20 ms / GC pauses > 10 ms", lambda r: _loop_cell(r.get("loop"))),
)


def markdown_table(rows: Sequence[Row]) -> str:
    head = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---" if i < 1 else "---:" for i in range(len(COLUMNS))) + "|"
    body = ["| " + " | ".join(cell(row) for _, cell in COLUMNS) + " |" for row in rows]
    return "\n".join([head, rule, *body])


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    value: Callable[[Row], float | int | None]
    passes: Callable[[float], bool]
    calls: int | None = None
    """Only at this level; ``None``: at every level."""
    postgres_only: bool = True


TARGETS: tuple[Target, ...] = (
    Target(
        "overhead p50 < 4 ms at 1 call",
        lambda r: r["server_overhead_ms"]["p50"],
        lambda v: v < 4,
        1,
    ),
    Target(
        "overhead p99 < 20 ms at 200 calls",
        lambda r: r["server_overhead_ms"]["p99"],
        lambda v: v < 20,
        200,
    ),
    Target(
        "overhead p99 < 60 ms at 500 calls",
        lambda r: r["server_overhead_ms"]["p99"],
        lambda v: v < 60,
        500,
    ),
    Target(
        "first frame within 2 ms of the token ending the first word (p50) at 1 call",
        lambda r: r["overhead_after_llm_ms"]["p50"],
        lambda v: v <= 2,
        1,
    ),
    Target("ping p99 < 20 ms at 500 calls", lambda r: r["ping_ms"]["p99"], lambda v: v < 20, 500),
    Target(
        "filler p99 within 25 ms of the deadline",
        lambda r: r["filler_vs_deadline_ms"]["p99"],
        lambda v: abs(v) <= 25,
    ),
    Target("no stale frame", lambda r: r["stale_frames"], lambda v: v == 0, postgres_only=False),
    Target("no lost event", lambda r: r["events_lost"], lambda v: v == 0, postgres_only=False),
    Target(
        "every superseded stream closed",
        lambda r: r["superseded_closed_share"],
        lambda v: v == 1,
        postgres_only=False,
    ),
    Target(
        "no missed keepalive",
        lambda r: r["keepalives_missed"],
        lambda v: v == 0,
        postgres_only=False,
    ),
)


def check_targets(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """One verdict per target and row it applies to; ``met`` is ``None`` when the row has
    no sample for it (e.g. no superseded stream at one call)."""
    verdicts: list[dict[str, Any]] = []
    for target in TARGETS:
        for row in rows:
            if target.postgres_only and row["db"] != "postgres":
                continue
            if target.calls is not None and row["calls"] != target.calls:
                continue
            value = target.value(row)
            verdicts.append(
                {
                    "target": target.name,
                    "db": row["db"],
                    "calls": row["calls"],
                    "value": value,
                    "met": None if value is None else target.passes(value),
                }
            )
    return verdicts


def verdict_lines(verdicts: Sequence[Mapping[str, Any]]) -> list[str]:
    """Missed targets first, then a one-line count."""
    lines = [
        f"MISSED  {v['target']}  ({v['db']}, {v['calls']} calls): {_num(v['value'], 2)}"
        for v in verdicts
        if v["met"] is False
    ]
    met = sum(v["met"] is True for v in verdicts)
    unknown = sum(v["met"] is None for v in verdicts)
    lines.append(
        f"targets: {met} met, {len(lines)} missed, {unknown} without samples "
        f"(latency targets apply to PostgreSQL rows)"
    )
    return lines
