"""The console's app: its resources and its one route list. Handlers live by page in
``signin``, ``calls``, ``agentviews``, ``users`` and ``live``; what they share in ``base``.
Handlers read forms and query strings, call the store, and render a template; SQL lives in
``store/``, presentation in ``templates/``."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from voiceops.config import Settings
from voiceops.core.clock import Clock
from voiceops.store.audit import AuditLog
from voiceops.store.calllist import CallList
from voiceops.store.db import Database
from voiceops.store.users import LoginThrottle, SessionRepo, UserRepo
from voiceops.store.versions import VersionRepo
from voiceops.web.dashboard import insight
from voiceops.web.dashboard.agentviews import (
    agent_diff,
    agent_discard,
    agent_draft_yaml,
    agent_edit,
    agent_page,
    agent_publish,
    agent_restore,
    agent_save,
)
from voiceops.web.dashboard.alerts import alert_routes
from voiceops.web.dashboard.auth import PREFIX, Auth, Signer
from voiceops.web.dashboard.base import HERE, Console, SecurityHeaders
from voiceops.web.dashboard.base import route as _route
from voiceops.web.dashboard.calls import (
    call_page,
    call_raw,
    call_scenario,
    calls_export,
    calls_page,
)
from voiceops.web.dashboard.live import (
    call_events_json,
    live_changes_json,
    live_page,
    live_say,
)
from voiceops.web.dashboard.routing import Bus, VersionedEndpoint
from voiceops.web.dashboard.signin import login, logout
from voiceops.web.dashboard.testcall import TestCalls
from voiceops.web.dashboard.testcallviews import (
    test_call_hang_up,
    test_call_page,
    test_call_say,
    test_call_start,
)
from voiceops.web.dashboard.users import audit_page, users_add, users_change, users_page

__all__ = ["Console", "build", "new_secret"]


async def _index(request: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/calls", status_code=303)


def _environment() -> Environment:
    """The pages' templates: autoescaped, with a ``when`` filter for timestamps."""
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
    return env


def _console(
    settings: Settings,
    db: Database,
    clock: Clock,
    endpoint: VersionedEndpoint,
    bus: Bus,
    session_secret: bytes,
) -> Console:
    """The console's resources, before its routes."""
    env = _environment()
    sessions = SessionRepo(db, clock=clock, lifetime=timedelta(hours=settings.session_hours))
    return Console(
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
        test_calls=TestCalls(clock),
    )


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
    console = _console(settings, db, clock, endpoint, bus, session_secret)
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
        _route(c, "/live/changes", live_changes_json, json_api=True),
        _route(c, "/test-call", test_call_page, "editor"),
        _route(c, "/test-call/start", test_call_start, "editor", ["POST"]),
        _route(c, "/test-call/say", test_call_say, "editor", ["POST"]),
        _route(c, "/test-call/hang-up", test_call_hang_up, "editor", ["POST"]),
        _route(c, "/agent", agent_page),
        _route(c, "/agent/edit", agent_edit),
        _route(c, "/agent/draft", agent_save, "editor", ["POST"]),
        _route(c, "/agent/draft.yaml", agent_draft_yaml),
        _route(c, "/agent/diff", agent_diff),
        _route(c, "/agent/publish", agent_publish, "admin", ["POST"]),
        _route(c, "/agent/discard", agent_discard, "editor", ["POST"]),
        _route(c, "/agent/restore/{version:str}", agent_restore, "editor", ["POST"]),
        _route(c, "/users", users_page, "admin"),
        _route(c, "/users", users_add, "admin", ["POST"]),
        _route(c, "/users/{user_id:str}", users_change, "admin", ["POST"]),
        _route(c, "/audit", audit_page, "admin"),
        *alert_routes(c),
        *insight.routes(c),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
    app.state.console = console
    console.app = app
    return console


def new_secret() -> bytes:
    return secrets.token_bytes(32)
