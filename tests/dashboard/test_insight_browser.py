"""The Insight pages in a real headless browser (Debian's chromium driven by Playwright),
on a desktop and a phone, over calls seeded by ``benchmarks/seed.py``; and their CSV.

Screenshots go to ``$VOICEOPS_SCREENSHOTS`` (default: the test's tmp dir).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from benchmarks.seed import seed

from tests.conftest import FIXED_NOW, RunningServer, run_server
from tests.dashboard.support import PASSWORD, add_user, sign_in
from voiceops.config import Settings
from voiceops.insight.pages import PAGES

if TYPE_CHECKING:
    from playwright.async_api import Response

RANGE = "since=2026-10-03&until=2026-12-01"


async def test_insight_pages_in_a_browser(
    browser: object,
    shots: Path,
    make_settings: Callable[..., Settings],
) -> None:
    from playwright.async_api import Browser

    assert isinstance(browser, Browser)
    settings = make_settings()
    async with run_server(settings) as server:
        await seed(settings.database_url, 1500, now=FIXED_NOW)
        await _built(server)
        await add_user(server, "owner@salon.test", "viewer")
        base = server.http_base
        for name, viewport in (("desktop", (1280, 900)), ("phone", (390, 844))):
            context = await browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]}
            )
            page = await context.new_page()
            errors: list[str] = []
            page.on("response", _failures_into(errors))
            await page.goto(f"{base}/dashboard/login")
            await page.fill("#email", "owner@salon.test")
            await page.fill("#password", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/dashboard/calls")
            await page.click("nav >> text=Insight")
            await page.wait_for_url("**/dashboard/insight/latency")
            for slug in PAGES:
                for split in ("", "&split=1"):
                    await page.goto(f"{base}/dashboard/insight/{slug}?{RANGE}&g=week{split}")
                    charts = page.locator("svg.chart")
                    assert await charts.count() >= 2, slug
                    # Every chart drew something: lines, bars or points.
                    for i in range(await charts.count()):
                        drawn = charts.nth(i).locator("polyline, rect[fill^='#0'], circle")
                        assert await drawn.count() >= 1, f"{slug}: chart {i} is empty"
                    box = await charts.first.bounding_box()
                    assert box is not None and box["width"] <= viewport[0]
                    tag = "-split" if split else ""
                    await page.screenshot(
                        path=shots / f"insight-{slug}{tag}-{name}.png", full_page=True
                    )
                    if name == "phone":  # each chart alone, at the size a phone shows it
                        blocks = page.locator("section.chart-block")
                        for i in range(await blocks.count()):
                            await blocks.nth(i).screenshot(
                                path=shots / f"chart-{slug}{tag}-{i}-phone.png"
                            )
            await page.goto(f"{base}/dashboard/insight/latency?{RANGE}&g=day")
            await page.click("text=Table (ms)")
            first_table = page.locator("table.figures-table").first
            assert await first_table.is_visible()
            assert await first_table.locator("text=2026-11-30").count() == 1
            assert not errors, errors
            await context.close()


async def _built(server: RunningServer) -> None:
    """Wait for the background builder to roll up what was just seeded."""
    assert server.runtime.rollup is not None
    await server.runtime.rollup.build_all()


def _failures_into(errors: list[str]) -> Callable[[Response], None]:
    """A response listener that notes every failed request but the favicon's."""

    def note(response: Response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"{response.status} {response.url}")

    return note


async def test_insight_csv_and_access(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    async with run_server(settings) as server:
        await seed(settings.database_url, 300, now=FIXED_NOW)
        async with httpx.AsyncClient(base_url=server.http_base) as client:
            anonymous = await client.get("/dashboard/insight/calls")
            assert anonymous.status_code in (302, 303, 307)
            await add_user(server, "viewer@salon.test", "viewer")
            assert (await sign_in(client, "viewer@salon.test")).status_code == 303
            await _built(server)
            got = await client.get(f"/dashboard/insight/calls.csv?{RANGE}&g=week&chart=calls")
            assert got.status_code == 200
            assert got.headers["content-type"].startswith("text/csv")
            rows = list(csv.reader(io.StringIO(got.text)))
            assert rows[0] == ["bucket", "all"]
            assert sum(float(r[1]) for r in rows[1:]) > 0
            await _built(server)
            page = await client.get(f"/dashboard/insight/calls?{RANGE}&g=week")
            assert "still being computed" not in page.text
            # The page's headline count is the CSV's sum.
            assert f"<dd>{sum(int(float(r[1])) for r in rows[1:])}</dd>" in page.text
            svg = await client.get(f"/dashboard/insight/cost.svg?{RANGE}&chart=per_call")
            assert svg.headers["content-type"].startswith("image/svg+xml")
            assert svg.text.startswith("<svg")
            missing = await client.get(f"/dashboard/insight/cost.csv?{RANGE}&chart=nope")
            assert missing.status_code == 404
            assert (await client.get("/dashboard/insight/nope")).status_code == 404
