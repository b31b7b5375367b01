"""The SVG charts: axes on round numbers, every label escaped, gaps where a bucket has no
figure, and the table and CSV rows beside them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from voiceops.insight.charts import Chart, Series
from voiceops.web.dashboard.svg import nice_max, render

NS = "{http://www.w3.org/2000/svg}"


def test_axis_tops_are_round() -> None:
    assert nice_max(0) == (1.0, 1)
    assert nice_max(7.3) == (8.0, 4)  # steps of 2
    assert nice_max(812) == (1000.0, 5)  # steps of 200
    top, steps = nice_max(0.146)  # steps of 0.05
    assert (round(top, 9), steps) == (0.15, 3)


def test_labels_are_escaped_and_the_svg_is_well_formed() -> None:
    chart = Chart(
        "reason",
        "Reasons <b>",
        "hbars",
        "calls",
        ["<script>alert(1)</script>", "billing & co"],
        [Series("v1", [3.0, 1.0]), Series("v2 <i>", [2.0, None])],
    )
    text = render(chart)
    assert "<script>" not in text and "&lt;script&gt;" in text
    root = ET.fromstring(text)  # well-formed XML, or this raises
    assert root.find(f"{NS}title") is not None
    shown = [t.text for t in root.iter(f"{NS}text")]
    assert "<script>alert(1)</script>" in shown and "billing & co" in shown


def test_a_line_breaks_where_a_bucket_has_no_figure() -> None:
    chart = Chart(
        "p",
        "p95",
        "line",
        "ms",
        ["a", "b", "c", "d"],
        [Series("p95", [1.0, None, 3.0, 4.0])],
        budget=2.0,
        budget_label="budget 2 ms",
    )
    root = ET.fromstring(render(chart))
    lines = list(root.iter(f"{NS}polyline"))
    assert [len(p.get("points", "").split()) for p in lines] == [1, 2]
    assert chart.rows() == [["a", "1"], ["b", ""], ["c", "3"], ["d", "4"]]
    assert chart.header() == ["bucket", "p95"]
