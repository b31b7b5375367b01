"""Users and the audit log (admins only)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from voiceops.store.users import MIN_PASSWORD_LENGTH, ROLES, Session, UserExists, hash_password
from voiceops.web.dashboard.auth import PREFIX, client_address
from voiceops.web.dashboard.base import Console, form_of, int_param


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
    form = form_of(request)
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
    form = form_of(request)
    user_id = int_param(request.path_params["user_id"])
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
    before = int_param(request.query_params.get("before"))
    entries = await console.audit.recent(100, before)
    return console.render(request, "audit.html", session, entries=entries)
