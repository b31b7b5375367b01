"""The console's metrics pages as data: for each page, the rollup metrics it reads and the
charts and headline figures it shows (latency, calls, escalations, cost, quality)."""

from __future__ import annotations

from collections.abc import Callable

from voiceops.insight import quality, rollup, spend
from voiceops.insight.charts import (
    Chart,
    Page,
    Pricing,
    Series,
    by_category,
    fmt_ms,
    fmt_pct,
    over_time,
    version_name,
    window_end,
)
from voiceops.insight.series import ALL, Figures, Window, percentile, ratio, share, top_keys
from voiceops.store.insight import InsightStore

PAGES = ("latency", "calls", "escalations", "cost", "quality")
OUTCOMES = ("booked", "answered", "transferred", "callback", "abandoned", "ended_by_agent")
TRIGGERS = ("model", "phrase", "frustration", "loop")
TRIGGER_LABELS = {"phrase": "rule (caller asked)", "model": "model"}
TRANSFER_STATES = ("started", "bridged", "ended", "cancelled")
METRICS: dict[str, tuple[str, ...]] = {
    "latency": (
        "first_frame",
        "turns",
        "filler_turns",
        "fallback_turns",
        *(f"retell_{p}" for p in rollup.RETELL_PARTS),
    ),
    "calls": ("calls", "duration", "outcome", "disconnection"),
    "escalations": (
        "calls",
        "escalated_calls",
        "escalations",
        "esc_trigger",
        "esc_reason",
        "esc_outcome",
        "transfer",
        "callbacks",
    ),
    "cost": ("calls", "duration", "cost_retell", "cost_product", "tokens", "phone_ms"),
    "quality": ("calls", "success", "sentiment"),
}


async def build(
    store: InsightStore, name: str, window: Window, *, split: bool, pricing: Pricing
) -> Page:
    """Read what page ``name`` needs for ``window`` and shape it into charts."""
    rows = await store.read(
        METRICS[name],
        first_hour=window.first_hour,
        end_hour=window.end_hour,
        bucket_hours=window.bucket_hours,
        shift_hours=window.shift_hours,
        day_shift=None if window.granularity == "hour" else window.day_shift,
    )
    figures = Figures.of(rows)
    page = Page(name, window, [])
    if name == "latency":
        _latency(page, figures, split, pricing.budget_ms)
    elif name == "calls":
        _calls(page, figures, split)
    elif name == "escalations":
        _escalations(page, figures, split)
        since, until = window.start_of(window.buckets()[0]), window_end(window)
        count, newest = await store.open_callbacks(since, until)
        page.tables["open_callbacks"], page.tables["open_callbacks_count"] = newest, count
    elif name == "cost":
        spend.cost_page(page, figures, split, pricing)
    else:
        quality.quality_page(page, figures, split)
        page.tables["eval_runs"] = await quality.eval_versions(store, window)
        page.charts.append(quality.eval_chart(page.tables["eval_runs"]))
    return page


# --- latency ------------------------------------------------------------------------------


def _quantile(f: Figures, metric: str, q: float) -> Callable[[int, int], float | None]:
    return lambda b, v: percentile(f.histogram(metric, bucket=b, version=v), q)


def _share_of_turns(f: Figures, metric: str) -> Callable[[int, int], float | None]:
    return lambda b, v: share(
        f.count(metric, bucket=b, version=v), f.count("turns", bucket=b, version=v)
    )


def _latency(page: Page, f: Figures, split: bool, budget_ms: int) -> None:
    w = page.window
    quantiles = [("p95", _quantile(f, "first_frame", 0.95))]
    if not split:
        quantiles = [(f"p{round(q * 100)}", _quantile(f, "first_frame", q)) for q in _QS]
    labels, series = over_time(w, f, quantiles[0][1], quantiles, split=split)
    page.charts.append(
        Chart(
            "first_frame",
            "Time to the first speakable frame",
            "line",
            "ms",
            labels,
            series,
            budget=float(budget_ms),
            budget_label=f"budget {budget_ms} ms",
        )
    )
    parts = [("e2e p50", _quantile(f, "retell_e2e", 0.5))]
    if not split:
        parts = [(f"{p} p50", _quantile(f, f"retell_{p}", 0.5)) for p in rollup.RETELL_PARTS]
    labels, series = over_time(w, f, parts[0][1], parts, split=split)
    page.charts.append(
        Chart(
            "retell",
            "Retell's latency (end to end and by part)",
            "line",
            "ms",
            labels,
            series,
            note="From Retell's call records, where they have arrived.",
        )
    )
    helped = [
        ("filler", _share_of_turns(f, "filler_turns")),
        ("fallback", _share_of_turns(f, "fallback_turns")),
    ]
    labels, series = over_time(w, f, helped[0][1], helped, split=split)
    page.charts.append(
        Chart(
            "helped",
            "Turns that needed a filler or the fallback",
            "line",
            "%",
            labels,
            series,
            digits=1,
        )
    )
    for version in [ALL, *f.versions] if split else [ALL]:
        page.headline += _latency_headline(f, version)


_QS = (0.50, 0.95, 0.99)


def _latency_headline(f: Figures, version: int) -> list[tuple[str, str]]:
    hist = f.histogram("first_frame", version=version)
    prefix = "" if version == ALL else f"{version_name(version)} "
    turns = f.count("turns", version=version)
    return [
        (f"{prefix}turns", str(turns)),
        (f"{prefix}p50 / p95 / p99", " / ".join(fmt_ms(percentile(hist, x)) for x in _QS)),
        (f"{prefix}filler", fmt_pct(share(f.count("filler_turns", version=version), turns))),
        (f"{prefix}fallback", fmt_pct(share(f.count("fallback_turns", version=version), turns))),
    ]


# --- calls -----------------------------------------------------------------------------


def _calls(page: Page, f: Figures, split: bool) -> None:
    w = page.window
    labels, series = over_time(
        w, f, lambda b, v: float(f.count("calls", bucket=b, version=v)), split=split
    )
    page.charts.append(
        Chart("calls", "Calls", "stacked" if split else "bars", "calls", labels, series)
    )

    def minutes(b: int | None, v: int) -> float | None:
        got = ratio(
            f.sum("duration", bucket=b, version=v), f.count("duration", bucket=b, version=v)
        )
        return None if got is None else got / 60_000

    labels, series = over_time(w, f, minutes, split=split)
    page.charts.append(
        Chart("duration", "Average call length", "line", "min", labels, series, digits=2)
    )
    page.charts.append(_outcome_chart(w, f, split))
    reasons = top_keys(f.by_key("disconnection"), 12)
    page.charts.append(
        Chart(
            "disconnection",
            "Disconnection reasons",
            "hbars",
            "calls",
            reasons,
            by_category(f, reasons, _counter(f, "disconnection"), split=split),
        )
    )
    total = f.count("calls")
    page.headline += [
        ("calls", str(total)),
        ("calls a day", f"{total / page.window.days:.1f}"),
        ("average length", _minutes(minutes(None, ALL))),
    ]


def _outcome_chart(w: Window, f: Figures, split: bool) -> Chart:
    """Outcomes over time (stacked), or, split by version, each version's share of each."""
    outcomes = top_keys(f.by_key("outcome"), 12, OUTCOMES)
    if split:
        return Chart(
            "outcome",
            "Outcome (share of calls)",
            "hbars",
            "%",
            outcomes,
            by_category(
                f,
                outcomes,
                lambda c, v: share(
                    f.by_key("outcome", version=v).get(c, 0), f.count("calls", version=v)
                ),
                split=True,
            ),
            digits=1,
        )
    series = [
        Series(o, [float(f.by_key("outcome", bucket=b).get(o, 0)) for b in w.buckets()])
        for o in outcomes
    ]
    return Chart(
        "outcome", "Outcome", "stacked", "calls", [w.label(b) for b in w.buckets()], series
    )


def _counter(f: Figures, metric: str) -> Callable[[str, int], float | None]:
    return lambda key, version: float(f.by_key(metric, version=version).get(key, 0))


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} min"


# --- escalations --------------------------------------------------------------------------


def _escalations(page: Page, f: Figures, split: bool) -> None:
    w = page.window
    labels, series = over_time(
        w,
        f,
        lambda b, v: share(
            f.count("escalated_calls", bucket=b, version=v), f.count("calls", bucket=b, version=v)
        ),
        split=split,
    )
    page.charts.append(
        Chart("rate", "Escalation rate (calls escalated)", "line", "%", labels, series, digits=1)
    )
    for slug, metric, title, order, limit in (
        ("trigger", "esc_trigger", "What triggered them", TRIGGERS, 8),
        ("reason", "esc_reason", "Reasons (top 10)", (), 10),
        ("outcome", "esc_outcome", "What became of them", (), 8),
        ("transfer", "transfer", "Transfers by Retell's last word", TRANSFER_STATES, 8),
    ):
        keys = top_keys(f.by_key(metric), limit, order)
        labels = [TRIGGER_LABELS.get(k, k) if metric == "esc_trigger" else k for k in keys]
        page.charts.append(
            Chart(
                slug,
                title,
                "hbars",
                "calls" if metric == "transfer" else "escalations",
                labels,
                by_category(
                    f,
                    keys,
                    _counter(f, metric),
                    split=split,
                ),
            )
        )
    calls = f.count("calls")
    failed = f.by_key("transfer").get("cancelled", 0)
    abandoned = f.by_key("esc_outcome").get("transfer_abandoned", 0)
    page.headline += [
        ("escalated calls", f"{f.count('escalated_calls')} of {calls}"),
        ("rate", fmt_pct(share(f.count("escalated_calls"), calls))),
        ("transfers cancelled", str(failed)),
        ("transfers given up", str(abandoned)),
        ("callbacks requested", str(f.count("callbacks"))),
    ]
