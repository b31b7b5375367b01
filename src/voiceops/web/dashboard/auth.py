"""Sessions, CSRF and roles for the console.

The session cookie carries a random token and its HMAC under the session secret
(``VOICEOPS_SESSION_SECRET``); the database keeps the token's digest, the user and the
session's CSRF token (``store.users``). Every state-changing request carries that CSRF
token (a hidden form field, or ``X-CSRF-Token`` from script) and, when the browser sends
one, an ``Origin`` of this host. The login form, which has no session yet, uses a signed
double-submit cookie instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from voiceops.config import Settings
from voiceops.store.users import Role, Session, SessionRepo

SESSION_COOKIE = "voiceops_session"
LOGIN_COOKIE = "voiceops_login"
MAX_FORM_BYTES = 512 * 1024
PREFIX = "/dashboard"


class FormTooLarge(Exception):
    pass


@dataclass(slots=True)
class Signer:
    key: bytes

    def sign(self, value: str) -> str:
        mac = hmac.new(self.key, value.encode(), hashlib.sha256).digest()
        return f"{value}.{base64.urlsafe_b64encode(mac[:24]).decode().rstrip('=')}"

    def unsign(self, signed: str) -> str | None:
        value, _, _mac = signed.rpartition(".")
        if not value:
            return None
        return value if hmac.compare_digest(self.sign(value), signed) else None


def client_address(request: Request, settings: Settings) -> str:
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return request.client.host if request.client else "-"


def is_https(request: Request, settings: Settings) -> bool:
    if settings.cookie_secure == "always":
        return True
    if settings.cookie_secure == "never":
        return False
    if request.url.scheme == "https":
        return True
    return (
        settings.trust_forwarded_for
        and request.headers.get("x-forwarded-proto", "").lower() == "https"
    )


def set_cookie(
    response: Response, request: Request, settings: Settings, name: str, value: str, **kw: object
) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
        path=PREFIX,
        **kw,  # type: ignore[arg-type]
    )


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the only kind the console posts),
    last value per name; a body over :data:`MAX_FORM_BYTES` raises :class:`FormTooLarge`."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


class Auth:
    def __init__(self, settings: Settings, sessions: SessionRepo, signer: Signer) -> None:
        self.settings = settings
        self.sessions = sessions
        self.signer = signer

    async def session(self, request: Request) -> Session | None:
        cached = request.scope.get("voiceops.session")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        raw = request.cookies.get(SESSION_COOKIE)
        token = self.signer.unsign(raw) if raw else None
        session = await self.sessions.get(token) if token else None
        request.scope["voiceops.session"] = session
        return session

    def csrf_ok(self, request: Request, session: Session, form: dict[str, str] | None) -> bool:
        given = request.headers.get("x-csrf-token") or (form or {}).get("csrf_token", "")
        return same_origin(request) and hmac.compare_digest(
            given.encode(), session.csrf_token.encode()
        )

    def new_login_token(self) -> tuple[str, str]:
        """(cookie value, form value) for the login form's double-submit check."""
        token = secrets.token_urlsafe(24)
        return self.signer.sign(token), token

    def login_token_ok(self, request: Request, form: dict[str, str]) -> bool:
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        token = self.signer.unsign(cookie) if cookie else None
        given = form.get("csrf_token", "")
        return (
            token is not None
            and same_origin(request)
            and hmac.compare_digest(token.encode(), given.encode())
        )


Handler = Callable[[Request, Session], Awaitable[Response]]


def login_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(f"{PREFIX}/login?next={_quote(target)}", status_code=303)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def forbidden(request: Request, json: bool, needed: Role) -> Response:
    message = f"this needs the {needed} role"
    if json:
        return JSONResponse({"error": message}, status_code=403)
    return Response(message, status_code=403, media_type="text/plain")
