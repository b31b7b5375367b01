"""The console's alert pages: the rules (list, add, edit, delete), the incident history
with each notification's delivery, and a button that sends a test notification.

Viewers read; editors add and change rules and send a test; admins delete. Every change
is in the audit log, in the same transaction as the change. The channels' settings
(webhook URL, SMTP) come from the environment and are never shown: the pages say only
whether each channel is configured.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from voiceops.core.errors import StorageError
from voiceops.insight.alerts import (
    CHANNELS,
    KINDS,
    SEVERITIES,
    FieldError,
    rule_from_form,
)
from voiceops.insight.evaluator import AlertService
from voiceops.insight.notify import channels_configured
from voiceops.store.alerts import AlertStore, Rule, RuleNameTaken
from voiceops.store.users import Session
from voiceops.web.dashboard.auth import PREFIX, client_address
from voiceops.web.dashboard.base import Console, form_of, route


def alert_routes(console: Console) -> list[Route]:
    """The alert pages' routes, each guarded by its role (and CSRF for a form)."""
    return [
        route(console, "/alerts", rules_page),
        route(console, "/alerts/incidents", incidents_page),
        route(console, "/alerts/test", send_test, "editor", ["POST"]),
        route(console, "/alerts/new", edit_page, "editor"),
        route(console, "/alerts/new", save_rule, "editor", ["POST"]),
        route(console, "/alerts/{rule_id:int}", edit_page, "editor"),
        route(console, "/alerts/{rule_id:int}", save_rule, "editor", ["POST"]),
        route(console, "/alerts/{rule_id:int}/delete", delete_rule, "admin", ["POST"]),
    ]


def _service(console: Console) -> AlertService:
    return AlertService(
        console.db,
        console.settings,
        clock=console.clock,
        profile=lambda: console.endpoint.current,
        backlog=lambda: 0,
    )


def _store(console: Console) -> AlertStore:
    return AlertStore(console.db, clock=console.clock)


def _minutes(seconds: int) -> str:
    return f"{seconds / 60:g}"


def duration(seconds: float) -> str:
    """``300`` -> ``5 min``, ``86400`` -> ``24 h``, ``90`` -> ``1.5 min``."""
    if seconds >= 7200 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds < 60:
        return f"{seconds:g} s"
    return f"{seconds / 60:g} min"


def _values_of(rule: Rule) -> dict[str, str]:
    values = {
        "name": rule.name,
        "kind": rule.kind,
        "threshold": f"{rule.threshold:g}",
        "window_min": _minutes(rule.window_s),
        "cooldown_min": _minutes(rule.cooldown_s),
        "min_count": str(rule.min_count),
        "severity": rule.severity,
        "enabled": "1" if rule.enabled else "",
    }
    for channel in CHANNELS:
        values[f"channel_{channel}"] = "1" if channel in rule.channels else ""
    return values


async def rules_page(console: Console, request: Request, session: Session) -> Response:
    store = _store(console)
    rules = await store.rules()
    firing = {i.rule_id for i in await store.incidents(limit=200) if i.status == "firing"}
    notice = {"tested": "Test notification sent; see its deliveries below."}.get(
        request.query_params.get("done", ""), ""
    )
    return console.render(
        request,
        "alerts.html",
        session,
        rules=rules,
        firing=firing,
        kinds=KINDS,
        configured=channels_configured(console.settings),
        deliveries=await store.recent_deliveries(10),
        interval=console.settings.alert_interval_s,
        duration=duration,
        notice=notice,
    )


async def incidents_page(console: Console, request: Request, session: Session) -> Response:
    store = _store(console)
    before = request.query_params.get("before", "")
    incidents = await store.incidents(100, int(before) if before.isdigit() else None)
    deliveries = await store.deliveries_of([i.id for i in incidents])
    return console.render(
        request,
        "alerts_incidents.html",
        session,
        incidents=incidents,
        deliveries=deliveries,
        kinds=KINDS,
    )


def _render_form(
    console: Console,
    request: Request,
    session: Session,
    rule_id: int,
    values: dict[str, str],
    error: FieldError | None = None,
    status: int = 200,
) -> Response:
    return console.render(
        request,
        "alerts_edit.html",
        session,
        status,
        rule_id=rule_id,
        values=values,
        error=error,
        kinds=KINDS,
        severities=SEVERITIES,
        channels=CHANNELS,
        configured=channels_configured(console.settings),
    )


async def edit_page(console: Console, request: Request, session: Session) -> Response:
    rule_id = int(request.path_params.get("rule_id", 0))
    if rule_id == 0:
        values = {
            "kind": "turn_latency_p95",
            "threshold": str(console.settings.slow_turn_ms),
            "window_min": "5",
            "cooldown_min": "30",
            "min_count": "5",
            "severity": "warning",
            "enabled": "1",
        } | {f"channel_{c}": "1" for c in CHANNELS}
        return _render_form(console, request, session, 0, values)
    rule = await _store(console).rule(rule_id)
    if rule is None:
        return _missing(console, request, session)
    return _render_form(console, request, session, rule_id, _values_of(rule))


def _missing(console: Console, request: Request, session: Session) -> Response:
    return console.render(request, "error.html", session, 404, message="No such alert rule.")


async def save_rule(console: Console, request: Request, session: Session) -> Response:
    rule_id = int(request.path_params.get("rule_id", 0))
    form = form_of(request)
    values = {k: v[:200] for k, v in form.items() if k != "csrf_token"}
    store = _store(console)
    before = None
    if rule_id:
        before = await store.rule(rule_id)
        if before is None:
            return _missing(console, request, session)
    try:
        rule = rule_from_form(form, rule_id)
    except FieldError as exc:
        return _render_form(console, request, session, rule_id, values, exc, 422)
    try:
        async with console.db.transaction("save alert rule") as conn:
            saved = await store.save(rule, by=session.user.email, conn=conn)
            await console.audit.record(
                session.user.email,
                "alert_rule_changed" if rule_id else "alert_rule_added",
                rule.name,
                _changes(before, rule, saved),
                address=client_address(request, console.settings),
                conn=conn,
            )
    except RuleNameTaken:
        error = FieldError("name", "another rule has this name")
        return _render_form(console, request, session, rule_id, values, error, 409)
    return RedirectResponse(f"{PREFIX}/alerts", status_code=303)


def _changes(before: Rule | None, after: Rule, rule_id: int) -> dict[str, Any]:
    new = after.values()
    if before is None:
        return {"id": rule_id} | new
    old = before.values()
    return {"id": rule_id} | {k: [old[k], new[k]] for k in new if old[k] != new[k]}


async def delete_rule(console: Console, request: Request, session: Session) -> Response:
    store = _store(console)
    rule = await store.rule(int(request.path_params["rule_id"]))
    if rule is None:
        return _missing(console, request, session)
    async with console.db.transaction("delete alert rule") as conn:
        await store.delete(rule.id, conn=conn)
        await console.audit.record(
            session.user.email,
            "alert_rule_deleted",
            rule.name,
            {"id": rule.id} | rule.values(),
            address=client_address(request, console.settings),
            conn=conn,
        )
    return RedirectResponse(f"{PREFIX}/alerts", status_code=303)


async def send_test(console: Console, request: Request, session: Session) -> Response:
    if not channels_configured(console.settings):
        return console.render(
            request,
            "error.html",
            session,
            422,
            message="No channel is configured: set VOICEOPS_ALERT_WEBHOOK_URL or the "
            "VOICEOPS_ALERT_SMTP_* settings (see docs/operations.md).",
        )
    try:
        channels = await _service(console).send_test(session.user.email)
    except StorageError:
        return console.render(
            request, "error.html", session, 503, message="The database is away; try again."
        )
    await console.audit.record(
        session.user.email,
        "alert_test_sent",
        ",".join(channels),
        address=client_address(request, console.settings),
    )
    return RedirectResponse(f"{PREFIX}/alerts?done=tested", status_code=303)
