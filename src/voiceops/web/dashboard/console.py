"""The console's routes. Handlers read forms and query strings, call the store, and
render a template; SQL lives in ``store/``, presentation in ``templates/``."""

from __future__ import annotations

import asyncio
import csv
import difflib
import io
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voiceops.config import Settings
from voiceops.core.clock import Clock
from voiceops.masking import mask_phone
from voiceops.store.audit import AuditLog
from voiceops.store.calllist import CallFilter, CallList, Cursor
from voiceops.store.db import Database
from voiceops.store.users import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    LoginThrottle,
    Role,
    Session,
    SessionRepo,
    UserExists,
    UserRepo,
    check_password,
    dummy_hash,
    hash_password,
)
from voiceops.store.versions import VersionRepo
from voiceops.web.dashboard import timeline
from voiceops.web.dashboard.auth import (
    LOGIN_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    Auth,
    FormTooLarge,
    Signer,
    client_address,
    login_redirect,
    read_form,
    set_cookie,
)
from voiceops.web.dashboard.profileform import (
    SECTIONS,
    FieldError,
    apply_section,
    form_values,
    validate,
)
from voiceops.web.dashboard.routing import INTERRUPT, PUBLISHED, Bus, VersionedEndpoint

log = logging.getLogger("voiceops.console")
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


def _form(request: Request) -> dict[str, str]:
    form: dict[str, str] = request.scope.get("voiceops.form") or {}
    return form


# --- sign-in ------------------------------------------------------------------------------


async def login_page(
    console: Console, request: Request, error: str = "", status: int = 200
) -> Response:
    cookie, token = console.auth.new_login_token()
    nxt = request.query_params.get("next", "")
    response = console.render(
        request, "login.html", None, status, login_token=token, error=error, next=nxt
    )
    set_cookie(response, request, console.settings, LOGIN_COOKIE, cookie, max_age=3600)
    return response


def _safe_next(value: str) -> str:
    if value.startswith(f"{PREFIX}/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{PREFIX}/calls"


async def login(request: Request) -> Response:
    console: Console = request.app.state.console
    if request.method == "GET":
        if await console.auth.session(request) is not None:
            return RedirectResponse(f"{PREFIX}/calls", status_code=303)
        return await login_page(console, request)
    try:
        form = await read_form(request)
    except FormTooLarge:
        return PlainTextResponse("form too large", status_code=413)
    if not console.auth.login_token_ok(request, form):
        return await login_page(console, request, "The form expired; try again.", 403)
    email = form.get("email", "").strip().lower()[:255]
    password = form.get("password", "")
    address = client_address(request, console.settings)
    s = console.settings
    account_key, address_key = f"account:{email}", f"address:{address}"
    if (
        await console.throttle.failures(account_key) >= s.login_max_failures_account
        or await console.throttle.failures(address_key) >= s.login_max_failures_address
    ):
        await console.audit.record(email or "-", "login_throttled", address=address)
        return await login_page(
            console, request, "Too many failed sign-ins; wait a few minutes and try again.", 429
        )
    user = await console.users.by_email(email) if email else None
    ok = await asyncio.to_thread(
        check_password, user.password_hash if user else dummy_hash(), password
    )
    if user is None or not ok or user.disabled:
        await console.throttle.fail(account_key)
        await console.throttle.fail(address_key)
        await console.audit.record(email or "-", "login_failed", address=address)
        return await login_page(console, request, "Wrong e-mail or password.", 401)
    await console.throttle.clear(account_key)
    token, _ = await console.auth.sessions.create(user, address)
    await console.audit.record(user.email, "login", address=address)
    response = RedirectResponse(_safe_next(form.get("next", "")), status_code=303)
    set_cookie(
        response,
        request,
        console.settings,
        SESSION_COOKIE,
        console.auth.signer.sign(token),
        max_age=int(console.settings.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


async def logout(console: Console, request: Request, session: Session) -> Response:
    raw = request.cookies.get(SESSION_COOKIE, "")
    token = console.auth.signer.unsign(raw)
    if token:
        await console.auth.sessions.delete(token)
    await console.audit.record(
        session.user.email, "logout", address=client_address(request, console.settings)
    )
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


# --- calls ---------------------------------------------------------------------------------


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_filter(request: Request, console: Console) -> CallFilter:
    q = request.query_params
    zone = console.endpoint.current.zone
    since, until = _date(q.get("since")), _date(q.get("until"))
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
        slow_ms=_int(q.get("slow_ms")),
        version=_int(q.get("version")),
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
        headers={"content-disposition": f'attachment; filename="call-{_safe_name(call_id)}.json"'},
    )


def _safe_name(value: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in value)[:80]


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
            "content-disposition": f'attachment; filename="scenario-{_safe_name(call_id)}.yaml"'
        },
    )


# --- the agent's versions -----------------------------------------------------------------


async def _working_body(console: Console) -> tuple[dict[str, Any], int | None, bool]:
    """(the draft's body or the published one's, the version it is based on, is a draft)."""
    draft = await console.versions.draft()
    if draft is not None:
        return draft.body, draft.base_version, True
    profile = console.endpoint.current
    return profile.model_dump(mode="json", exclude={"version"}), profile.version, False


async def agent_page(console: Console, request: Request, session: Session) -> Response:
    _body, base, _is_draft = await _working_body(console)
    return console.render(
        request,
        "agent.html",
        session,
        versions=await console.versions.versions(),
        draft=await console.versions.draft(),
        base=base,
    )


async def agent_edit(
    console: Console,
    request: Request,
    session: Session,
    errors: list[FieldError] | None = None,
    values: dict[str, str] | None = None,
    section: str = "",
    status: int = 200,
) -> Response:
    body, base, is_draft = await _working_body(console)
    return console.render(
        request,
        "edit.html",
        session,
        status,
        values=values or form_values(body),
        errors=errors or [],
        error_fields={e.field.split(".")[0] for e in errors or []},
        section=section or request.query_params.get("section", "voice"),
        sections=SECTIONS,
        is_draft=is_draft,
        base=base,
    )


async def agent_save(console: Console, request: Request, session: Session) -> Response:
    form = _form(request)
    section = form.get("section", "")
    body, base, _ = await _working_body(console)
    new_body, errors = apply_section(body, section, form)
    profile = None
    if not errors:
        profile, errors = validate(new_body)
    if errors or profile is None:
        values = {
            **form_values(body),
            **{k: v for k, v in form.items() if k not in ("csrf_token", "section")},
        }
        return await agent_edit(console, request, session, errors, values, section, 422)
    await console.versions.save_draft(profile, base_version=base, by=session.user.email)
    await console.audit.record(
        session.user.email,
        "save_draft",
        section,
        {"base_version": base},
        address=client_address(request, console.settings),
    )
    return RedirectResponse(
        f"{PREFIX}/agent/diff?b=draft&a={base or ''}&saved={section}", status_code=303
    )


def _yaml(body: dict[str, Any]) -> list[str]:
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100).splitlines()


async def _body_of(console: Console, which: str) -> tuple[str, dict[str, Any] | None]:
    if which == "draft":
        draft = await console.versions.draft()
        return "draft", None if draft is None else draft.body
    version = _int(which)
    if version is None:
        return which, None
    profile = await console.versions.profiles.get(version)
    return f"v{version}", None if profile is None else profile.model_dump(
        mode="json", exclude={"version"}
    )


def side_by_side(left: list[str], right: list[str]) -> list[tuple[str, str, str]]:
    """Rows of (tag, left line, right line): ``equal``, ``replace``, ``delete``, ``insert``."""
    rows: list[tuple[str, str, str]] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(("equal", left[i], right[j1 + k]) for k, i in enumerate(range(i1, i2)))
            continue
        a, b = left[i1:i2], right[j1:j2]
        for k in range(max(len(a), len(b))):
            la = a[k] if k < len(a) else ""
            lb = b[k] if k < len(b) else ""
            rows.append((tag if la and lb else ("delete" if la else "insert"), la, lb))
    return rows


def with_context(rows: list[tuple[str, str, str]], n: int) -> list[tuple[str, str, str]]:
    """Only the changed rows and ``n`` rows around each; a ``gap`` row stands for the rest."""
    near = {
        j
        for i, row in enumerate(rows)
        if row[0] != "equal"
        for j in range(max(0, i - n), min(len(rows), i + n + 1))
    }
    out: list[tuple[str, str, str]] = []
    for i, row in enumerate(rows):
        if i in near:
            out.append(row)
        elif not out or out[-1][0] != "gap":
            out.append(("gap", "", ""))
    return out


async def agent_diff(console: Console, request: Request, session: Session) -> Response:
    q = request.query_params
    a = q.get("a") or str(console.endpoint.current.version)
    b = q.get("b") or "draft"
    name_a, body_a = await _body_of(console, a)
    name_b, body_b = await _body_of(console, b)
    rows = side_by_side(_yaml(body_a) if body_a else [], _yaml(body_b) if body_b else [])
    changed = [r for r in rows if r[0] != "equal"]
    if q.get("full") != "1":
        rows = with_context(rows, 3)
    return console.render(
        request,
        "diff.html",
        session,
        a=a,
        b=b,
        name_a=name_a,
        name_b=name_b,
        missing=[n for n, body in ((name_a, body_a), (name_b, body_b)) if body is None],
        rows=rows,
        changed=len(changed),
        versions=await console.versions.versions(),
        has_draft=await console.versions.draft() is not None,
        saved=q.get("saved", ""),
    )


async def agent_publish(console: Console, request: Request, session: Session) -> Response:
    form = _form(request)
    draft = await console.versions.draft()
    if draft is None:
        return console.render(
            request, "error.html", session, 409, message="There is no draft to publish."
        )
    profile, errors = validate(draft.body)
    if profile is None:
        return console.render(
            request,
            "error.html",
            session,
            422,
            message="The draft does not validate: "
            + "; ".join(f"{e.field}: {e.message}" for e in errors),
        )
    note = form.get("note", "").strip()[:2000]
    version = await console.versions.publish_draft(profile, by=session.user.email, note=note)
    await console.audit.record(
        session.user.email,
        "publish",
        f"v{version}",
        {"note": note},
        address=client_address(request, console.settings),
    )
    await console.bus.send(PUBLISHED, {"version": version})
    return RedirectResponse(f"{PREFIX}/agent?published={version}", status_code=303)


async def agent_restore(console: Console, request: Request, session: Session) -> Response:
    version = _int(request.path_params["version"])
    profile = await console.versions.profiles.get(version) if version is not None else None
    if profile is None:
        return console.render(request, "error.html", session, 404, message="No such version.")
    await console.versions.save_draft(profile, base_version=version, by=session.user.email)
    await console.audit.record(
        session.user.email,
        "restore",
        f"v{version}",
        address=client_address(request, console.settings),
    )
    return RedirectResponse(
        f"{PREFIX}/agent/diff?a={console.endpoint.current.version}&b=draft", status_code=303
    )


async def agent_discard(console: Console, request: Request, session: Session) -> Response:
    await console.versions.discard_draft()
    await console.audit.record(
        session.user.email, "discard_draft", address=client_address(request, console.settings)
    )
    return RedirectResponse(f"{PREFIX}/agent", status_code=303)


# --- users and the audit log --------------------------------------------------------------


async def users_page(
    console: Console, request: Request, session: Session, error: str = "", status: int = 200
) -> Response:
    return console.render(
        request,
        "users.html",
        session,
        status,
        users=await console.users.all(),
        roles=ROLES,
        error=error,
    )


async def users_add(console: Console, request: Request, session: Session) -> Response:
    form = _form(request)
    email, role, password = (
        form.get("email", "").strip().lower(),
        form.get("role", ""),
        form.get("password", ""),
    )
    if "@" not in email or role not in ROLES:
        return await users_page(
            console, request, session, "Give an e-mail address and a role.", 422
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        return await users_page(
            console, request, session, f"password: at least {MIN_PASSWORD_LENGTH} characters.", 422
        )
    try:
        await console.users.add(email, role, await asyncio.to_thread(hash_password, password))
    except UserExists as exc:
        return await users_page(console, request, session, str(exc), 409)
    await console.audit.record(
        session.user.email,
        "add_user",
        email,
        {"role": role},
        address=client_address(request, console.settings),
    )
    return RedirectResponse(f"{PREFIX}/users", status_code=303)


async def users_change(console: Console, request: Request, session: Session) -> Response:
    form = _form(request)
    user_id = _int(request.path_params["user_id"])
    role = form.get("role") or None
    disabled = {"1": True, "0": False}.get(form.get("disabled", ""))
    if user_id is None or (role is not None and role not in ROLES):
        return await users_page(console, request, session, "Unknown user or role.", 422)
    if user_id == session.user.id and (disabled or (role and role != "admin")):
        return await users_page(console, request, session, "You cannot lock yourself out.", 422)
    await console.users.update(user_id, role=role, disabled=disabled)
    await console.audit.record(
        session.user.email,
        "change_user",
        str(user_id),
        {"role": role, "disabled": disabled},
        address=client_address(request, console.settings),
    )
    return RedirectResponse(f"{PREFIX}/users", status_code=303)


async def audit_page(console: Console, request: Request, session: Session) -> Response:
    before = _int(request.query_params.get("before"))
    entries = await console.audit.recent(100, before)
    return console.render(request, "audit.html", session, entries=entries)


# --- live calls ---------------------------------------------------------------------------


async def live_page(console: Console, request: Request, session: Session) -> Response:
    page = await console.calls.page(CallFilter(live=True), limit=100)
    return console.render(request, "live.html", session, page=page, mask=mask_phone)


async def call_events_json(console: Console, request: Request, session: Session) -> Response:
    after = _int(request.query_params.get("after")) or 0
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
    form = _form(request)
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


def _route(
    console: Console,
    path: str,
    handler: Handler,
    needed: Role = "viewer",
    methods: list[str] | None = None,
    json_api: bool = False,
) -> Route:
    return Route(
        path, _guard(console, handler, needed, json_api=json_api), methods=methods or ["GET"]
    )


async def _index(request: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/calls", status_code=303)


def build(
    *,
    settings: Settings,
    db: Database,
    clock: Clock,
    endpoint: VersionedEndpoint,
    bus: Bus,
    session_secret: bytes,
) -> Console:
    """The console for the app's resources; mount ``console.app`` at ``/dashboard``."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = lambda v: (
        v.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(v, datetime)
        else ("" if v is None else str(v))
    )
    sessions = SessionRepo(db, clock=clock, lifetime=timedelta(hours=settings.session_hours))
    console = Console(
        settings=settings,
        db=db,
        clock=clock,
        auth=Auth(settings, sessions, Signer(session_secret)),
        users=UserRepo(db, clock=clock),
        throttle=LoginThrottle(db, clock=clock, window=timedelta(seconds=settings.login_window_s)),
        audit=AuditLog(db, clock=clock),
        calls=CallList(db, clock=clock),
        versions=VersionRepo(db, clock=clock),
        endpoint=endpoint,
        bus=bus,
        env=env,
    )
    c = console
    routes = [
        Route("/", _index),
        Route("/login", login, methods=["GET", "POST"]),
        _route(c, "/logout", logout, methods=["POST"]),
        _route(c, "/calls", calls_page),
        _route(c, "/calls.{fmt:str}", calls_export),
        _route(c, "/calls/{call_id:str}.json", call_raw),
        _route(c, "/calls/{call_id:str}/scenario.yaml", call_scenario),
        _route(c, "/calls/{call_id:str}/events", call_events_json, json_api=True),
        _route(c, "/calls/{call_id:str}/say", live_say, "editor", ["POST"]),
        _route(c, "/calls/{call_id:str}", call_page),
        _route(c, "/live", live_page),
        _route(c, "/agent", agent_page),
        _route(c, "/agent/edit", agent_edit),
        _route(c, "/agent/draft", agent_save, "editor", ["POST"]),
        _route(c, "/agent/diff", agent_diff),
        _route(c, "/agent/publish", agent_publish, "admin", ["POST"]),
        _route(c, "/agent/discard", agent_discard, "editor", ["POST"]),
        _route(c, "/agent/restore/{version:str}", agent_restore, "editor", ["POST"]),
        _route(c, "/users", users_page, "admin"),
        _route(c, "/users", users_add, "admin", ["POST"]),
        _route(c, "/users/{user_id:str}", users_change, "admin", ["POST"]),
        _route(c, "/audit", audit_page, "admin"),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
    app.state.console = console
    console.app = app
    return console


def new_secret() -> bytes:
    return secrets.token_bytes(32)
