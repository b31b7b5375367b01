"""What every console page shares: the console's resources, the session guard, rendering,
security headers and the small parsers of query strings and forms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voiceops.config import Settings
from voiceops.core.clock import Clock
from voiceops.store.audit import AuditLog
from voiceops.store.calllist import CallList
from voiceops.store.db import Database
from voiceops.store.users import LoginThrottle, Role, Session, UserRepo
from voiceops.store.versions import VersionRepo
from voiceops.web.dashboard.auth import PREFIX, Auth, FormTooLarge, login_redirect, read_form
from voiceops.web.dashboard.routing import Bus, VersionedEndpoint
from voiceops.web.dashboard.testcall import TestCalls

HERE = Path(__file__).parent
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
PAGE_SIZE = 50


class SecurityHeaders:
    """CSP without inline scripts, no framing, no sniffing, no caching of pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not scope["path"].startswith(f"{PREFIX}/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


@dataclass(slots=True)
class Console:
    settings: Settings
    db: Database
    clock: Clock
    auth: Auth
    users: UserRepo
    throttle: LoginThrottle
    audit: AuditLog
    calls: CallList
    versions: VersionRepo
    endpoint: VersionedEndpoint
    bus: Bus
    env: Environment
    test_calls: TestCalls
    app: Starlette | None = None

    # --- rendering ----------------------------------------------------------------------

    def render(
        self, request: Request, name: str, session: Session | None, status: int = 200, **ctx: Any
    ) -> Response:
        template = self.env.get_template(name)
        html = template.render(
            request=request,
            session=session,
            user=session.user if session else None,
            csrf=session.csrf_token if session else "",
            prefix=PREFIX,
            published=self.endpoint.current.version,
            **ctx,
        )
        return Response(html, status_code=status, media_type="text/html; charset=utf-8")


Handler = Callable[[Console, Request, Session], Awaitable[Response]]


def _guard(console: Console, handler: Handler, needed: Role, *, json_api: bool = False) -> Any:
    async def endpoint(request: Request) -> Response:
        session = await console.auth.session(request)
        if session is None:
            if json_api:
                return JSONResponse({"error": "sign in first"}, status_code=401)
            return login_redirect(request)
        if request.method == "POST":
            form: dict[str, str] | None = None
            if request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                try:
                    form = await read_form(request)
                except FormTooLarge:
                    return PlainTextResponse("form too large", status_code=413)
                request.scope["voiceops.form"] = form
            if not console.auth.csrf_ok(request, session, form):
                return PlainTextResponse(
                    "refused: the form's CSRF token is missing or wrong (reload the page)",
                    status_code=403,
                )
        if not session.user.can(needed):
            if json_api:
                return JSONResponse({"error": f"needs the {needed} role"}, status_code=403)
            return console.render(
                request, "error.html", session, 403, message=f"This needs the {needed} role."
            )
        return await handler(console, request, session)

    return endpoint


def form_of(request: Request) -> dict[str, str]:
    form: dict[str, str] = request.scope.get("voiceops.form") or {}
    return form


def route(
    console: Console,
    path: str,
    handler: Handler,
    needed: Role = "viewer",
    methods: list[str] | None = None,
    json_api: bool = False,
) -> Route:
    """A console route: ``handler`` behind a session of at least the ``needed`` role
    (and the CSRF check on a POST)."""
    return Route(
        path, _guard(console, handler, needed, json_api=json_api), methods=methods or ["GET"]
    )


def date_param(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def int_param(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def safe_name(value: str) -> str:
    """``value`` as a safe part of a download's file name."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in value)[:80]
