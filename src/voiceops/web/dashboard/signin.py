"""Signing in and out."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from voiceops.store.users import Session, check_password, dummy_hash
from voiceops.web.dashboard.auth import (
    LOGIN_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    FormTooLarge,
    client_address,
    read_form,
    set_cookie,
)
from voiceops.web.dashboard.base import Console
from voiceops.web.dashboard.testcall import slot_of


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
    await console.test_calls.hang_up(slot_of(session.csrf_token))
    await console.audit.record(
        session.user.email, "logout", address=client_address(request, console.settings)
    )
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response
