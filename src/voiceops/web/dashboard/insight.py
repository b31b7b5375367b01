"""The console's metrics pages (``/insight/…``): latency, calls, escalations, cost and
quality over a date range, by hour, day or week, optionally split by agent version; each
chart as SVG, its figures as a table and as CSV.

Each request first brings the newest hours of the rollup up to date (nothing to do, and
no lock taken, when nothing changed since the last one; at most a few hours, and only when
few rows changed: history is built in the background, ``insight/builder.py``), then reads
the range from it, saying plainly what is still being computed.
"""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from voiceops.insight import rollup
from voiceops.insight.builder import PAGE_HOURS, PAGE_SCAN_LIMIT
from voiceops.insight.charts import Page, Pricing
from voiceops.insight.cost import PriceTable
from voiceops.insight.pages import PAGES, build
from voiceops.insight.series import GRANULARITIES, Granularity, Window
from voiceops.store.db import LockBusy
from voiceops.store.insight import Backlog, InsightStore, hour_start
from voiceops.store.users import Session
from voiceops.web.dashboard import svg
from voiceops.web.dashboard.auth import PREFIX
from voiceops.web.dashboard.base import Console, route

DEFAULT_DAYS = 30
MAX_DAYS = 400
TITLES = {
    "latency": "Latency",
    "calls": "Calls",
    "escalations": "Escalations",
    "cost": "Cost",
    "quality": "Quality",
}


class InsightPages:
    """The handlers, with the rollup store they share."""

    def __init__(self, console: Console) -> None:
        self.store = InsightStore(console.db, clock=console.clock)

    def pricing(self, console: Console) -> Pricing:
        settings = console.settings
        model = settings.llm_model or console.endpoint.current.llm.model
        price = None
        if settings.effective_brain == "llm":
            try:
                price = PriceTable.with_overrides(settings.llm_prices).price_for(model)
            except (ValueError, ArithmeticError):
                price = None
        return Pricing(price, settings.telephony_cents_per_minute, settings.filler_deadline_ms)

    def window(self, console: Console, request: Request) -> tuple[Window, bool]:
        q = request.query_params
        zone = console.endpoint.current.zone
        today = console.clock.now().astimezone(zone).date()
        until = _date(q.get("until")) or today
        since = _date(q.get("since")) or until - timedelta(days=DEFAULT_DAYS - 1)
        if abs((until - since).days) >= MAX_DAYS:
            since = until - timedelta(days=MAX_DAYS - 1)
        granularity: Granularity = next((g for g in GRANULARITIES if g == q.get("g")), "day")
        return Window.of(since, until, granularity, zone), q.get("split") == "1"

    async def _page(
        self, console: Console, request: Request, name: str
    ) -> tuple[Page, bool, str | None]:
        with contextlib.suppress(LockBusy):
            # Another refresh (the builder's, another page's) is under way: the page shows
            # what is there rather than wait for it, and says what is still queued.
            await self.store.refresh(
                rollup.compute, max_hours=PAGE_HOURS, scan_limit=PAGE_SCAN_LIMIT, wait=False
            )
        backlog = await self.store.backlog()
        window, split = self.window(console, request)
        page = await build(self.store, name, window, split=split, pricing=self.pricing(console))
        return page, split, pending_note(backlog, window)

    async def index(self, console: Console, request: Request, session: Session) -> Response:
        return RedirectResponse(f"{PREFIX}/insight/latency", status_code=303)

    async def page(self, console: Console, request: Request, session: Session) -> Response:
        name = request.path_params["page"]
        if name not in PAGES:
            return console.render(request, "error.html", session, 404, message="No such page.")
        page, split, pending = await self._page(console, request, name)
        query = _query(page.window, split)
        charts = [(c, svg.render(c)) for c in page.charts]
        return console.render(
            request,
            "insight.html",
            session,
            page=page,
            pages=[(p, TITLES[p]) for p in PAGES],
            title=TITLES[name],
            charts=charts,
            query=query,
            split=split,
            granularities=GRANULARITIES,
            pending=pending,
        )

    async def export(self, console: Console, request: Request, session: Session) -> Response:
        name, fmt = request.path_params["page"], request.path_params["fmt"]
        if name not in PAGES or fmt not in ("csv", "svg"):
            return console.render(request, "error.html", session, 404, message="No such page.")
        page, _, _ = await self._page(console, request, name)
        wanted = request.query_params.get("chart", "")
        chart = next((c for c in page.charts if c.slug == wanted), None)
        if chart is None:
            return console.render(request, "error.html", session, 404, message="No such chart.")
        if fmt == "svg":
            return Response(svg.render(chart), media_type="image/svg+xml")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(chart.header())
        writer.writerows([_safe_cell(v) for v in row] for row in chart.rows())
        filename = f"voiceops-{name}-{chart.slug}-{page.window.since}-{page.window.until}.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{filename}"'},
        )


def pending_note(backlog: Backlog, window: Window) -> str | None:
    """What the page says while the rollup is still being built: nothing when every hour
    of the range is up to date."""
    fills = "this page fills in as they are."
    if backlog.newest is not None and backlog.newest >= window.first_hour:
        edge = hour_start(backlog.newest + 1).astimezone(window.zone)
        when = f"{edge.day} {edge:%b}"
        if edge.year != window.until.year:
            when += f" {edge.year}"
        if (edge.hour, edge.minute) != (0, 0):
            when += f" {edge:%H:%M}"
        return f"Figures before {when} are still being computed; {fills}"
    if backlog.changed:
        return f"The latest figures are still being computed; {fills}"
    return None


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (reasons and products are free text)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") and not _number(value) else value


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _query(window: Window, split: bool) -> dict[str, Any]:
    query: dict[str, Any] = {
        "since": window.since.isoformat(),
        "until": window.until.isoformat(),
        "g": window.granularity,
    }
    if split:
        query["split"] = "1"
    return query


def routes(console: Console) -> list[Route]:
    """The Insight pages' routes, for any signed-in user."""
    pages = InsightPages(console)
    return [
        route(console, "/insight", pages.index),
        route(console, "/insight/{page:str}.{fmt:str}", pages.export),
        route(console, "/insight/{page:str}", pages.page),
    ]
