"""Charts as SVG drawn on the server: lines, bars, stacked bars and horizontal bars.

The SVG scales to its container (``viewBox``, no fixed width), so it reads on a phone; it
carries its own colours as presentation attributes (the console's CSP allows no inline
styles) and a ``<title>`` and ``<desc>`` for screen readers. Every label is escaped.
"""

from __future__ import annotations

import math
from html import escape

from voiceops.insight.charts import Chart

WIDTH, HEIGHT = 480, 280
PER_ROW = 2
"""Legend entries per row."""
LINE = 24
LEFT, RIGHT, TOP, BOTTOM = 50, 10, 24, 46
# Okabe and Ito's palette: told apart with every common colour blindness.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
FONT = 'font-family="system-ui, sans-serif"'


def nice_step(value: float) -> float:
    """A tick step of 1, 2 or 5 times a power of ten that cuts ``value`` into at most
    five steps."""
    if value <= 0:
        return 1.0
    raw = value / 5
    power = 10.0 ** math.floor(math.log10(raw))
    for step in (1.0, 2.0, 5.0, 10.0):
        if raw <= step * power:
            return step * power
    return 10.0 * power  # pragma: no cover


def nice_max(value: float) -> tuple[float, int]:
    """The axis top for ``value`` and the number of tick steps up to it."""
    step = nice_step(value)
    steps = max(1, math.ceil(value / step - 1e-9))
    return step * steps, steps


def _num(value: float, unit: str) -> str:
    if unit == "USD":
        return f"{value:.2f}" if value >= 1 else f"{value:.3f}".rstrip("0").rstrip(".") or "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def render(chart: Chart) -> str:
    """The chart as an ``<svg>`` element."""
    if chart.kind == "hbars":
        body, height = _hbars(chart)
    else:
        body, height = _over_time(chart), HEIGHT + LINE * _legend_rows(chart)
    title = escape(f"{chart.title} ({chart.unit})")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'class="chart" aria-labelledby="t-{chart.slug}"><title id="t-{chart.slug}">{title}'
        f"</title><desc>The same figures are in the table below the chart.</desc>"
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>{body}</svg>'
    )


def _legend_rows(chart: Chart) -> int:
    return math.ceil(len(chart.series) / PER_ROW) + (1 if chart.budget is not None else 0)


def _top_of(chart: Chart) -> float:
    if chart.kind == "stacked":
        sums = [sum(s.values[i] or 0 for s in chart.series) for i in range(len(chart.labels))]
        top = max(sums, default=0.0)
    else:
        top = max((v for s in chart.series for v in s.values if v is not None), default=0.0)
    if chart.budget is not None:
        top = max(top, chart.budget * 1.1)
    return nice_max(top * 1.05)[0]


def _axes(chart: Chart, top: float) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    out = []
    steps = nice_max(top)[1]
    for i in range(steps + 1):
        value = top * i / steps
        y = TOP + plot_h - plot_h * i / steps
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#d0d7de" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="13" '
            f'{FONT} fill="#57606a">{escape(_num(value, chart.unit))}</text>'
        )
    out.append(
        f'<text x="4" y="12" font-size="13" {FONT} fill="#57606a">{escape(chart.unit)}</text>'
    )
    n = len(chart.labels)
    every = max(1, math.ceil(n / 6))
    for i in range(0, n, every):
        x = LEFT + plot_w * (i + 0.5) / n
        out.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
            f'font-size="13" {FONT} fill="#57606a">{escape(_short(chart.labels[i]))}'
            "</text>"
        )
    return out


def _short(label: str) -> str:
    """``2026-03-09`` → ``03-09``; ``2026-03-09 14:00`` → ``09 14h``."""
    if len(label) == 10:
        return label[5:]
    if len(label) == 16:
        return f"{label[8:10]} {label[11:13]}h"
    return label


def _over_time(chart: Chart) -> str:
    top = _top_of(chart)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(1, len(chart.labels))
    out = _axes(chart, top)

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * min(value, top) / top

    if chart.kind == "line":
        for k, series in enumerate(chart.series):
            colour = COLOURS[k % len(COLOURS)]
            out += _polyline(series.values, n, plot_w, y, colour)
    else:
        slot = plot_w / n
        stacked = chart.kind == "stacked"
        width = slot * 0.8 / (1 if stacked else max(1, len(chart.series)))
        base = [0.0] * n
        for k, series in enumerate(chart.series):
            colour = COLOURS[k % len(COLOURS)]
            for i, value in enumerate(series.values):
                if not value:
                    continue
                x = LEFT + slot * i + slot * 0.1 + (0 if stacked else width * k)
                y0, y1 = y(base[i]), y(base[i] + value)
                out.append(
                    f'<rect x="{x:.1f}" y="{y1:.1f}" width="{max(width, 0.5):.1f}" '
                    f'height="{max(y0 - y1, 0):.1f}" fill="{colour}"/>'
                )
                if stacked:
                    base[i] += value
    if chart.budget is not None:
        by = y(chart.budget)
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{by:.1f}" y2="{by:.1f}" '
            'stroke="#a4161a" stroke-width="2" stroke-dasharray="6 4"/>'
        )
    out += _legend(chart, HEIGHT)
    return "".join(out)


def _polyline(
    values: list[float | None], n: int, plot_w: float, y: object, colour: str
) -> list[str]:
    """Runs of known values as polylines (a gap where a bucket has no figure), and a dot
    on every point so that a lone value shows."""
    assert callable(y)
    out, run = [], []
    for i, value in enumerate([*values, None]):
        if value is not None:
            x = LEFT + plot_w * (i + 0.5) / n
            run.append(f"{x:.1f},{y(value):.1f}")
            if n <= 60:
                out.append(f'<circle cx="{x:.1f}" cy="{y(value):.1f}" r="2.5" fill="{colour}"/>')
        elif run:
            out.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                'stroke-width="2.5" stroke-linejoin="round"/>'
            )
            run = []
    return out


def _legend(chart: Chart, y0: int) -> list[str]:
    out = []
    for k, series in enumerate(chart.series):
        x = 8 + (k % PER_ROW) * (WIDTH // PER_ROW)
        y = y0 + LINE * (k // PER_ROW)
        out.append(
            f'<rect x="{x}" y="{y - 10}" width="14" height="10" '
            f'fill="{COLOURS[k % len(COLOURS)]}"/>'
        )
        out.append(
            f'<text x="{x + 20}" y="{y}" font-size="15" {FONT} fill="#1b1f24">'
            f"{escape(series.name[:26])}</text>"
        )
    if chart.budget is not None:
        y = y0 + LINE * math.ceil(len(chart.series) / PER_ROW)
        out.append(
            f'<line x1="8" x2="22" y1="{y - 5}" y2="{y - 5}" '
            'stroke="#a4161a" stroke-width="2" stroke-dasharray="4 2"/>'
        )
        out.append(
            f'<text x="28" y="{y}" font-size="15" {FONT} fill="#1b1f24">'
            f"{escape(chart.budget_label)}</text>"
        )
    return out


def _hbars(chart: Chart) -> tuple[str, int]:
    """A category's name above its bars, one bar per series; the value at the bar's end.
    Names get the whole width, so long ones (Retell's disconnection reasons) stay whole."""
    bar_h, name_h, gap = 18, 20, 10
    groups = max(1, len(chart.series))
    row_h = name_h + groups * bar_h + gap
    legend = LINE * math.ceil(groups / PER_ROW) if groups > 1 else 0
    height = TOP + row_h * max(1, len(chart.labels)) + legend + 8
    top = _top_of(chart)
    plot_w = WIDTH - 8 - 70
    out = []
    for i, label in enumerate(chart.labels):
        y = TOP + row_h * i
        out.append(
            f'<text x="8" y="{y + 14}" font-size="15" {FONT} fill="#1b1f24">'
            f"{escape(label[:56])}</text>"
        )
        for k, series in enumerate(chart.series):
            value = series.values[i] or 0.0
            w = plot_w * min(value, top) / top
            yy = y + name_h + k * bar_h
            out.append(
                f'<rect x="8" y="{yy}" width="{max(w, 0.5):.1f}" height="{bar_h - 3}" '
                f'fill="{COLOURS[k % len(COLOURS)]}"/>'
            )
            shown = f"{value:.{chart.digits}f}"
            out.append(
                f'<text x="{8 + w + 4:.1f}" y="{yy + bar_h - 5}" font-size="14" '
                f'{FONT} fill="#1b1f24">{escape(shown)}</text>'
            )
    if not chart.labels:
        out.append(
            f'<text x="8" y="{TOP + 14}" font-size="15" {FONT} fill="#57606a">'
            "nothing in this range</text>"
        )
    if groups > 1:
        out += _legend(chart, height - legend + 12)
    return "".join(out), height
