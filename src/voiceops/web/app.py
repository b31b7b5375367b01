"""The ASGI application factory: routes, and a lifespan that opens the runtime.

The lifespan owns every shared resource (``web/runtime.py`` opens them in order: the
database, the event writer, the state persister, the webhook processor, the LLM HTTP
client and the brains, the call endpoint, the console). Routes reach them through
``app.state.runtime``. Tests inject fakes through :func:`create_app`'s parameters
(a profile, an LLM client, a clock, a random source, a tracer), never by monkeypatching.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import openai
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from voiceops import __version__
from voiceops.config import Settings
from voiceops.core.clock import Clock, SystemClock
from voiceops.core.profile import AgentProfile
from voiceops.metrics import Metrics
from voiceops.tracing import Tracer
from voiceops.web.drain import Drain
from voiceops.web.guard import RequestRefused, call_id_refusal, read_operator_speech
from voiceops.web.runtime import Parts, Runtime, open_runtime

log = logging.getLogger("voiceops.app")


def create_app(
    settings: Settings,
    *,
    profile: AgentProfile | None = None,
    llm_client: openai.AsyncOpenAI | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    tracer: Tracer | None = None,
    drain: Drain | None = None,
) -> Starlette:
    """Build the app. Nothing is opened until the lifespan starts.

    ``clock`` is the one source of time for everything the app runs (default: the system
    clock; ``voiceops serve --clock`` passes a pinned one, tests a manual one). ``drain``
    is the process's drain (``web/drain.py``), which ``serve`` runs on SIGTERM (default: a
    drain of ``settings.drain_timeout_s`` that nothing starts).
    """
    metrics = Metrics()
    clock = clock or SystemClock()
    drain = drain or Drain(timeout_s=settings.drain_timeout_s, clock=clock)
    parts = Parts(settings, metrics, clock, drain, profile, llm_client, rng, tracer)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            app.state.runtime = await open_runtime(app, stack, parts)
            yield

    handlers = _Handlers(settings, metrics, clock, drain)
    sockets = [
        WebSocketRoute("/llm-websocket/{call_id}", handlers.llm_socket),
        WebSocketRoute("/llm-websocket/{secret}/{call_id}", handlers.llm_socket),
    ]
    routes: list[BaseRoute] = [
        *sockets,
        Route("/healthz", handlers.healthz),
        Route("/metrics", handlers.metrics_route),
        Route("/calls/{call_id}/interrupt", handlers.interrupt, methods=["POST"]),
    ]
    return _VoiceApp(sockets, routes=routes, lifespan=lifespan)


@dataclass(frozen=True, slots=True)
class _Handlers:
    """The app's own routes; each reaches the lifespan's resources through
    ``app.state.runtime``."""

    settings: Settings
    metrics: Metrics
    clock: Clock
    drain: Drain

    async def llm_socket(self, websocket: WebSocket) -> None:
        runtime: Runtime = websocket.app.state.runtime
        await (runtime.console.endpoint if runtime.console else runtime.endpoint)(websocket)

    async def healthz(self, request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        draining = self.drain.draining
        # Draining: the load balancer takes this instance out while its calls finish.
        return JSONResponse(
            {
                "status": "draining" if draining else "ok",
                "version": __version__,
                "brain": runtime.brain.name,
                "profile_version": (
                    runtime.console.endpoint.current.version
                    if runtime.console
                    else runtime.profile.version
                ),
                "live_calls": len(runtime.live),
                "events": runtime.writer.stats(),
                "pending_state_writes": runtime.persister.pending,
                "loop": runtime.loop.stats(),
                "uptime_s": round(self.clock.monotonic() - runtime.started_at, 1),
            },
            status_code=503 if draining else 200,
        )

    async def metrics_route(self, request: Request) -> Response:
        return Response(
            self.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    async def interrupt(self, request: Request) -> Response:
        """Operator speech: ``{"text": "...", "end_call": false}`` (strictly typed, see
        ``web/guard.py``) spoken at once on a call live on this instance, as an
        ``agent_interrupt``. 400 for an invalid call id or a body that is not JSON, 422
        for one that is not that object."""
        refused = self._operator_refusal(request)
        if refused is not None:
            return refused
        call_id = request.path_params["call_id"]
        if call_id_refusal(call_id) is not None:
            return JSONResponse({"error": "invalid call id"}, status_code=400)
        body = await request.body()
        if len(body) > 16_384:
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            speech = read_operator_speech(body)
        except RequestRefused as refused_body:
            return JSONResponse({"error": refused_body.message}, status_code=refused_body.status)
        runtime: Runtime = request.app.state.runtime
        conn = runtime.live.connections.get(call_id)
        if conn is None or not await conn.interrupt(speech.text, end_call=speech.end_call):
            return JSONResponse({"error": "call is not live on this instance"}, status_code=404)
        return JSONResponse({"status": "spoken"})

    def _operator_refusal(self, request: Request) -> Response | None:
        """404 while operator endpoints are disabled, 401 without the admin bearer token."""
        token = self.settings.admin_token
        if token is None:
            return JSONResponse({"error": "operator endpoints are disabled"}, status_code=404)
        given = request.headers.get("authorization", "")
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return None


class _VoiceApp(Starlette):
    """Starlette, with Retell's call sockets taken straight to their endpoint.

    A call socket lives for minutes and carries a frame every few hundred milliseconds. The
    middleware stack does nothing for a WebSocket but wrap its ``send`` twice, which costs
    CPU on every frame and a dozen coroutine frames per live call for the collector to
    walk; so a socket whose path matches one of ``sockets`` goes to that route's endpoint
    directly (with the same scope: ``app``, ``path_params``). Everything else goes through
    Starlette.
    """

    def __init__(self, sockets: list[WebSocketRoute], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sockets = sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            for route in self._sockets:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope["app"] = self
                    scope.update(child)
                    await route.endpoint(WebSocket(scope, receive=receive, send=send))
                    return
        await super().__call__(scope, receive, send)
