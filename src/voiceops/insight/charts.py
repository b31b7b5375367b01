"""What a chart shows, before anyone draws it: labelled points of named series, its unit
and its table. Rendering lives with the console (``web/dashboard/svg.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from voiceops.insight.cost import TokenPrice
from voiceops.insight.series import ALL, Figures, Window

Kind = Literal["line", "bars", "stacked", "hbars"]


@dataclass(slots=True)
class Series:
    name: str
    values: list[float | None]


@dataclass(slots=True)
class Chart:
    """``labels`` are the x positions (buckets) or, for ``hbars``, the categories; each
    series has one value per label."""

    slug: str
    title: str
    kind: Kind
    unit: str
    labels: list[str]
    series: list[Series]
    budget: float | None = None
    budget_label: str = ""
    note: str = ""
    digits: int = 0
    extra: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return all(v is None or v == 0 for s in self.series for v in s.values)

    def header(self) -> list[str]:
        first = "category" if self.kind == "hbars" else "bucket"
        return [first, *(s.name for s in self.series)]

    def rows(self) -> list[list[str]]:
        """The table: one row per label, one column per series, numbers as text."""
        out = []
        for i, label in enumerate(self.labels):
            out.append([label, *(_fmt(s.values[i], self.digits) for s in self.series)])
        return out


def _fmt(value: float | None, digits: int) -> str:
    if value is None:
        return ""
    return f"{value:.{digits}f}"


def version_name(version: int) -> str:
    return "all" if version == ALL else ("unknown version" if version == 0 else f"v{version}")


def over_time(
    window: Window,
    figures: Figures,
    figure: Callable[[int, int], float | None],
    names: Sequence[tuple[str, Callable[[int, int], float | None]]] | None = None,
    *,
    split: bool,
) -> tuple[list[str], list[Series]]:
    """Labels of the window's buckets and series of ``figure(bucket, version)``: one over
    every version, or one per version when ``split``; ``names`` gives several figures
    (each named) instead of one."""
    buckets = window.buckets()
    labels = [window.label(b) for b in buckets]
    figures_named = list(names) if names is not None else [("", figure)]
    versions = figures.versions if split else [ALL]
    series = []
    for name, fn in figures_named:
        for version in versions:
            title = " ".join(p for p in (name, version_name(version) if split else "") if p)
            series.append(Series(title or "all", [fn(b, version) for b in buckets]))
    return labels, series


def by_category(
    figures: Figures,
    categories: Sequence[str],
    value: Callable[[str, int], float | None],
    *,
    split: bool,
) -> list[Series]:
    """One series (or one per version when ``split``) of ``value(category, version)``."""
    versions = figures.versions if split else [ALL]
    # Every version, the empty ones too: a version keeps its colour from chart to chart.
    return [Series(version_name(v), [value(c, v) for c in categories]) for v in versions]


@dataclass(frozen=True, slots=True)
class Pricing:
    """What the console prices calls with: the configured model's token price (``None``
    for the flow brain, which asks no model) and telephony not billed by Retell."""

    price: TokenPrice | None
    telephony_cents_per_minute: Decimal
    budget_ms: int


@dataclass(slots=True)
class Page:
    name: str
    window: Window
    charts: list[Chart]
    headline: list[tuple[str, str]] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)


def window_end(window: Window) -> datetime:
    return window.start_of(window.buckets()[-1]) + timedelta(hours=window.bucket_hours)


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def fmt_pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"
