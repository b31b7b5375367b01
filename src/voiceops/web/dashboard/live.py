"""Live calls: the list of calls in progress with their transcripts, what changed since a
page's cursor (``static/live.js`` polls it), a call's new events, and saying something
into a live call or ending it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from voiceops.masking import mask_phone
from voiceops.store.livefeed import CLOSES, OPENS, LiveFeed
from voiceops.store.users import Session
from voiceops.web.dashboard.auth import PREFIX, client_address
from voiceops.web.dashboard.base import Console, form_of, int_param
from voiceops.web.dashboard.routing import INTERRUPT

WHO = {
    "user_turn": "Caller",
    "turn_completed": "Agent",
    "filler": "Agent (filler)",
    "operator_said": "Operator",
}


def _feed(console: Console) -> LiveFeed:
    return LiveFeed(console.db, clock=console.clock)


async def live_page(console: Console, request: Request, session: Session) -> Response:
    feed = _feed(console)
    cursor = await feed.newest_event_id()  # before the rows: the page may see an event twice
    rows = await console.calls.live(limit=100)
    turns = await feed.transcripts([r["call_id"] for r in rows])
    return console.render(
        request,
        "live.html",
        session,
        rows=rows,
        turns=turns,
        who=WHO,
        cursor=cursor,
        mask=mask_phone,
    )


def _card(call_id: str, row: dict[str, Any] | None, opened: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of a call it did not list: as the server renders it."""
    meta = (row or {}).get("call_metadata")
    payload = opened["payload"] if isinstance(opened.get("payload"), dict) else {}
    number = (row or {}).get("from_number")
    since = (row or {}).get("created_at") or opened["created_at"]
    return {
        "call_id": call_id,
        "from": mask_phone(number) if number else "unknown number",
        "version": (row or {}).get("profile_version") or payload.get("profile_version"),
        "since": since.strftime("%Y-%m-%d %H:%M:%S"),
        "test": bool(isinstance(meta, dict) and meta.get("voiceops_test_call")),
    }


async def live_changes_json(console: Console, request: Request, session: Session) -> Response:
    """Since ``after`` (an event id): new turns of every call, calls opened and closed,
    and which of the ``shown`` calls a webhook ended."""
    after = max(int_param(request.query_params.get("after")) or 0, 0)
    shown = [c for c in request.query_params.get("shown", "").split(",") if c][:100]
    changes = await _feed(console).changes(after, shown)
    events: list[dict[str, Any]] = []
    cards: dict[str, dict[str, Any]] = {}
    for e in changes.events:
        kind = e["event_type"]
        item: dict[str, Any] = {"id": e["id"], "call_id": e["call_id"]}
        if kind in OPENS:
            item["kind"] = "open"
            cards[e["call_id"]] = _card(e["call_id"], changes.calls.get(e["call_id"]), e)
        elif kind in CLOSES:
            item["kind"] = "close"
        else:
            item |= {"kind": "turn", "who": WHO[kind], "type": kind, "text": e["content"] or ""}
            if kind == "turn_completed" and e["latency_ms"] is not None:
                item["latency_ms"] = e["latency_ms"]
        events.append(item)
    return JSONResponse(
        {
            "cursor": changes.cursor,
            "more": changes.more,
            "events": events,
            "calls": cards,
            "ended": changes.ended,
        }
    )


async def call_events_json(console: Console, request: Request, session: Session) -> Response:
    after = int_param(request.query_params.get("after")) or 0
    events = await console.calls.events_since(request.path_params["call_id"], after)
    return JSONResponse(
        [
            {
                "id": e["id"],
                "type": e["event_type"],
                "content": e.get("content") or "",
                "latency_ms": e.get("latency_ms"),
                "response_id": e.get("response_id"),
            }
            for e in events
        ]
    )


async def live_say(console: Console, request: Request, session: Session) -> Response:
    form = form_of(request)
    call_id = request.path_params["call_id"]
    text = form.get("text", "").strip()[:1000]
    end_call = form.get("end_call") == "1"
    if not text and not end_call:
        return console.render(
            request, "error.html", session, 422, message="Say something, or end the call."
        )
    await console.bus.send(
        INTERRUPT,
        {
            "call_id": call_id,
            "text": text or "Goodbye.",
            "end_call": end_call,
            "by": session.user.email,
        },
    )
    await console.audit.record(
        session.user.email,
        "end_call" if end_call else "say_into_call",
        call_id,
        {"text": text},
        address=client_address(request, console.settings),
    )
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"status": "sent"})
    if form.get("back") == "live":
        return RedirectResponse(f"{PREFIX}/live#live-{quote(call_id)}", status_code=303)
    return RedirectResponse(f"{PREFIX}/calls/{call_id}#end", status_code=303)
