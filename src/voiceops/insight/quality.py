"""The quality page: Retell's post-call analysis (success, sentiment) and the
evaluation runs of each version."""

from __future__ import annotations

from typing import Any

from voiceops.insight.charts import (
    Chart,
    Page,
    Series,
    by_category,
    fmt_pct,
    over_time,
    version_name,
    window_end,
)
from voiceops.insight.series import ALL, Figures, Window, share, top_keys
from voiceops.store.insight import InsightStore


def quality_page(page: Page, f: Figures, split: bool) -> None:
    w = page.window

    def success(b: int | None, v: int) -> float | None:
        said = f.by_key("success", bucket=b, version=v)
        return share(said.get("yes", 0), said.get("yes", 0) + said.get("no", 0))

    labels, series = over_time(w, f, success, split=split)
    page.charts.append(
        Chart(
            "success",
            "Successful calls (Retell's post-call analysis)",
            "line",
            "%",
            labels,
            series,
            digits=1,
        )
    )
    moods = top_keys(f.by_key("sentiment"), 6, ("Positive", "Neutral", "Negative", "Unknown"))
    page.charts.append(
        Chart(
            "sentiment",
            "Caller sentiment (share of analysed calls)",
            "hbars",
            "%",
            moods,
            by_category(
                f,
                moods,
                lambda c, v: share(
                    f.by_key("sentiment", version=v).get(c, 0), f.count("sentiment", version=v)
                ),
                split=split,
            ),
            digits=1,
        )
    )
    analysed = f.count("success")
    page.headline += [
        ("analysed calls", f"{analysed} of {f.count('calls')}"),
        ("successful", fmt_pct(success(None, ALL))),
    ]


async def eval_versions(store: InsightStore, window: Window) -> list[dict[str, Any]]:
    """Evaluation runs of the range per profile version: runs, pass rate of the scenarios
    that counted (passed over passed and failed; expected failures and skips aside), the
    newest run's status."""
    runs = await store.eval_runs(window.start_of(window.buckets()[0]), window_end(window))
    versions: dict[int, dict[str, Any]] = {}
    for run in runs:
        v = int(run["profile_version"] or 0)
        row = versions.setdefault(
            v,
            {
                "version": version_name(v),
                "runs": 0,
                "passed": 0,
                "failed": 0,
                "latest": "",
                "latest_at": None,
            },
        )
        row["runs"] += 1
        row["passed"] += int(run["passed"])
        row["failed"] += int(run["failed"])
        row["latest"], row["latest_at"] = run["status"], run["started_at"]
    for row in versions.values():
        rate = share(row["passed"], row["passed"] + row["failed"])
        row["pass_rate"] = "-" if rate is None else f"{rate:.1f}%"
    return [versions[v] for v in sorted(versions)]


def eval_chart(rows: list[dict[str, Any]]) -> Chart:
    labels = [r["version"] for r in rows]
    values: list[float | None] = []
    for r in rows:
        counted = r["passed"] + r["failed"]
        values.append(share(r["passed"], counted))
    return Chart(
        "evals",
        "Evaluation pass rate per version",
        "hbars",
        "%",
        labels,
        [Series("pass rate", values)],
        digits=1,
    )
