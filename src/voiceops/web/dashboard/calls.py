"""The calls: the filtered list and its export, one call's page, its raw JSON and the
evaluation scenario made from it."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from voiceops.masking import mask_phone
from voiceops.store.calllist import CallFilter, Cursor
from voiceops.store.users import Session
from voiceops.web.dashboard import timeline
from voiceops.web.dashboard.base import PAGE_SIZE, Console, date_param, int_param, safe_name


def parse_filter(request: Request, console: Console) -> CallFilter:
    q = request.query_params
    zone = console.endpoint.current.zone
    since, until = date_param(q.get("since")), date_param(q.get("until"))
    return CallFilter(
        since=datetime.combine(since, datetime.min.time(), zone) if since else None,
        until=datetime.combine(until + timedelta(days=1), datetime.min.time(), zone)
        if until
        else None,
        outcome=q.get("outcome") or None,
        escalated=q.get("escalated") or None,
        reason=(q.get("reason") or "").strip()[:100] or None,
        transferred=q.get("transferred") == "1",
        fallback=q.get("fallback") == "1",
        filler=q.get("filler") == "1",
        slow_ms=int_param(q.get("slow_ms")),
        version=int_param(q.get("version")),
        disconnection=q.get("disconnection") or None,
        from_number=(q.get("from") or "").strip()[:32] or None,
        query=(q.get("q") or "").strip()[:200] or None,
    )


EXPORT_COLUMNS = [
    "call_id",
    "created_at",
    "started_at",
    "ended_at",
    "duration_ms",
    "from_number",
    "to_number",
    "direction",
    "outcome",
    "transfer_status",
    "transfer_destination",
    "disconnection_reason",
    "profile_version",
    "caller_zone",
    "call_status",
    "recording_url",
    "public_log_url",
]


async def calls_page(console: Console, request: Request, session: Session) -> Response:
    f = parse_filter(request, console)
    if f.query:
        await console.calls.indexer.catch_up()
    after = Cursor.decode(request.query_params.get("after", ""))
    page = await console.calls.page(f, limit=PAGE_SIZE, after=after)
    params = {k: v for k, v in request.query_params.items() if k != "after" and v}
    return console.render(
        request,
        "calls.html",
        session,
        page=page,
        params=params,
        filters=request.query_params,
        versions=await console.calls.versions_in_use(),
        outcomes=await console.calls.distinct_values("outcome"),
        reasons=await console.calls.distinct_values("disconnection_reason"),
        slow_default=console.settings.slow_turn_ms,
        mask=mask_phone,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def calls_export(console: Console, request: Request, session: Session) -> Response:
    f = parse_filter(request, console)
    if f.query:
        await console.calls.indexer.catch_up()
    rows = await console.calls.export(f)
    await console.audit.record(
        session.user.email,
        "export_calls",
        detail={"rows": len(rows), "format": request.path_params["fmt"]},
    )
    if request.path_params["fmt"] == "json":
        body = json.dumps(
            [{k: _plain(r.get(k)) for k in EXPORT_COLUMNS} for r in rows], ensure_ascii=False
        )
        return Response(
            body,
            media_type="application/json",
            headers={"content-disposition": 'attachment; filename="calls.json"'},
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for r in rows:
        writer.writerow([_csv_cell(_plain(r.get(k))) for k in EXPORT_COLUMNS])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="calls.csv"'},
    )


def _csv_cell(value: Any) -> Any:
    # A cell a spreadsheet would run as a formula is quoted as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not value[1:2].isdigit():
        return "'" + value
    return "" if value is None else value


async def call_page(console: Console, request: Request, session: Session) -> Response:
    detail = await console.calls.detail(request.path_params["call_id"])
    if detail is None:
        return console.render(request, "error.html", session, 404, message="No such call.")
    rows = timeline.build(detail.call, detail.events, slow_ms=console.settings.slow_turn_ms)
    return console.render(
        request,
        "call.html",
        session,
        call=detail.call,
        rows=rows,
        problems=timeline.problem_anchors(rows),
        bookings=detail.bookings,
        callbacks=detail.callbacks,
        slow_ms=console.settings.slow_turn_ms,
        mask=mask_phone,
        retell_transcript=detail.call.get("transcript_entries") or [],
        live=_is_live(detail.events) and detail.call.get("ended_at") is None,
        pretty=lambda v: json.dumps(v, indent=2, ensure_ascii=False, default=str),
    )


def _is_live(events: list[dict[str, Any]]) -> bool:
    """Whether the call's socket is open: connected, and not disconnected since."""
    live = False
    for e in events:
        if e["event_type"] in ("call_connected", "call_resumed"):
            live = True
        elif e["event_type"] == "call_disconnected":
            live = False
    return live


async def call_raw(console: Console, request: Request, session: Session) -> Response:
    call_id = request.path_params["call_id"]
    detail = await console.calls.detail(call_id)
    if detail is None:
        return JSONResponse({"error": "no such call"}, status_code=404)
    body = json.dumps(
        {
            "call": detail.call,
            "events": detail.events,
            "bookings": detail.bookings,
            "callbacks": detail.callbacks,
        },
        default=str,
        ensure_ascii=False,
        indent=2,
    )
    return Response(
        body,
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="call-{safe_name(call_id)}.json"'},
    )


async def call_scenario(console: Console, request: Request, session: Session) -> Response:
    call_id = request.path_params["call_id"]
    detail = await console.calls.detail(call_id)
    if detail is None:
        return PlainTextResponse("no such call", status_code=404)
    turns: list[dict[str, Any]] = []
    for e in detail.events:
        if e["event_type"] == "user_turn":
            turns.append(
                {"user": e.get("content") or ""} if e.get("content") else {"silence": True}
            )
        elif e["event_type"] == "tool_call" and turns:
            payload = e.get("payload") or {}
            try:
                args = json.loads(payload.get("arguments") or "{}")
            except ValueError:
                args = {}
            turns[-1].setdefault("expect", []).append(
                {"calls": [{"name": payload.get("name"), "args": args}]}
            )
    scenario = {
        "name": f"from call {call_id}",
        "source_call": call_id,
        "profile_version": detail.call.get("profile_version"),
        "turns": turns,
    }
    body = yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True)
    return Response(
        body,
        media_type="application/yaml",
        headers={
            "content-disposition": f'attachment; filename="scenario-{safe_name(call_id)}.yaml"'
        },
    )
