"""Live calls: the list of calls in progress, a call's new events, and saying something
into a live call or ending it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from voiceops.masking import mask_phone
from voiceops.store.users import Session
from voiceops.web.dashboard.auth import PREFIX, client_address
from voiceops.web.dashboard.base import Console, form_of, int_param
from voiceops.web.dashboard.routing import INTERRUPT


async def live_page(console: Console, request: Request, session: Session) -> Response:
    rows = await console.calls.live(limit=100)
    return console.render(request, "live.html", session, rows=rows, mask=mask_phone)


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
    return RedirectResponse(f"{PREFIX}/calls/{call_id}#end", status_code=303)
