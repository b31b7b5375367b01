"""The cost page: what calls cost by part over time, Retell's products, and a month
at the current volume (``insight.cost``'s report, summed from the rollup)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from voiceops.insight.charts import (
    Chart,
    Page,
    Pricing,
    by_category,
    over_time,
    version_name,
)
from voiceops.insight.cost import (
    PART_LABELS,
    PARTS,
    CostReport,
    Part,
    TokenUsage,
    llm_cost_cents,
    project,
)
from voiceops.insight.series import ALL, Figures, top_keys


def report(
    f: Figures, days: int, pricing: Pricing, *, bucket: int | None = None, version: int = ALL
) -> CostReport:
    """The rollup's sums as ``insight.cost``'s report of a window of ``days`` days."""
    calls = f.count("calls", bucket=bucket, version=version)
    minutes = Decimal(f.sum("duration", bucket=bucket, version=version)) / 60_000
    tokens = f.by_key("tokens", bucket=bucket, version=version, totals=True)
    usage = TokenUsage(
        tokens.get("input", 0), tokens.get("cached_input", 0), tokens.get("output", 0)
    )
    phone_minutes = Decimal(f.sum("phone_ms", bucket=bucket, version=version)) / 60_000
    totals: dict[Part, Decimal] = {
        "retell": Decimal(f.sum("cost_retell", bucket=bucket, version=version)) / 1000,
        "llm": llm_cost_cents(usage, pricing.price) if pricing.price else Decimal(0),
        "telephony": phone_minutes * pricing.telephony_cents_per_minute,
    }
    products = {
        k: Decimal(v) / 1000
        for k, v in f.by_key("cost_product", bucket=bucket, version=version, totals=True).items()
    }
    volume = Decimal(calls) / Decimal(days)
    return CostReport(
        days=days,
        calls=calls,
        minutes=minutes,
        totals=totals,
        products=products,
        without_retell_cost=calls - f.count("cost_retell", bucket=bucket, version=version),
        tokens=usage,
        projection=project(totals, calls=calls, minutes=minutes, calls_per_day=volume),
    )


def cost_page(page: Page, f: Figures, split: bool, pricing: Pricing) -> None:
    w = page.window
    page.charts.append(_per_call_chart(page, f, split, pricing))
    whole = report(f, w.days, pricing)
    products = top_keys({k: int(v) for k, v in whole.products.items()}, 12)

    def product_usd(product: str, version: int) -> float:
        spent = report(f, w.days, pricing, version=version).products.get(product, Decimal(0))
        return float(spent) / 100

    page.charts.append(
        Chart(
            "products",
            "Retell's products (USD over the range)",
            "hbars",
            "USD",
            products,
            by_category(f, products, product_usd, split=split),
            digits=2,
        )
    )
    page.tables["cost"] = whole.as_dict()
    page.tables["cost_versions"] = (
        {version_name(v): report(f, w.days, pricing, version=v).as_dict() for v in f.versions}
        if split
        else {}
    )
    money = page.tables["cost"]
    page.headline += [
        ("per call", f"USD {Decimal(money['per_call_cents']['all']) / 100:.4f}"),
        ("per minute", f"USD {Decimal(money['per_minute_cents']['all']) / 100:.4f}"),
        ("a month at this volume", f"USD {money['monthly_projection']['usd']['all']}"),
    ]


def _per_call_chart(page: Page, f: Figures, split: bool, pricing: Pricing) -> Chart:
    """Cost per call over time: by part (stacked), or the total per version when split."""
    w = page.window
    days = max(1, w.bucket_hours // 24)

    def per_call(part: Part | None) -> Callable[[int, int], float | None]:
        def value(b: int, v: int) -> float | None:
            r = report(f, days, pricing, bucket=b, version=v)
            return float(r.per_call(part)) / 100 if r.calls else None

        return value

    if split:
        labels, series = over_time(w, f, per_call(None), split=True)
        return Chart("per_call", "Cost per call (USD)", "line", "USD", labels, series, digits=4)
    parts = [(PART_LABELS[p].split(" (")[0], per_call(p)) for p in PARTS]
    labels, series = over_time(w, f, per_call(None), parts, split=False)
    return Chart(
        "per_call", "Cost per call by part (USD)", "stacked", "USD", labels, series, digits=4
    )
