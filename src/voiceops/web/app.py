"""The ASGI application factory and its lifespan.

The lifespan owns every shared resource: the database, the event writer, the state
persister, the webhook processor, the LLM HTTP client and the brains. Routes reach them
through ``app.state.runtime``. Tests inject fakes through :func:`create_app`'s parameters
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
from voiceops.agent.deps import TurnDeps
from voiceops.agent.prompts import check_profile_templates
from voiceops.agent.turn import TurnRunner
from voiceops.calls import LiveCalls, StatePersister
from voiceops.config import Settings
from voiceops.core.caller import resolve_caller_clock, zone_for_number
from voiceops.core.clock import Clock, SystemClock
from voiceops.core.events import Brain
from voiceops.core.profile import AgentProfile, load_profile
from voiceops.core.state import CallState
from voiceops.core.transcript import CallObject
from voiceops.flow.brain import FlowBrain
from voiceops.llm.brain import LLMBrain
from voiceops.llm.client import make_client
from voiceops.loopwatch import FullCollections, LoopWatch
from voiceops.metrics import Metrics
from voiceops.retell.schedule import scheduled_sync
from voiceops.store.bookings import SqlBookingRepo
from voiceops.store.calls import CallRepo
from voiceops.store.db import Database
from voiceops.store.migrate import upgrade
from voiceops.store.profiles import ProfileRepo
from voiceops.store.states import StateStore
from voiceops.store.writer import EventWriter
from voiceops.tracing import Tracer, make_tracer
from voiceops.web.dashboard import Console
from voiceops.web.dashboard.mount import open_console
from voiceops.web.drain import Drain
from voiceops.web.guard import RequestRefused, call_id_refusal, read_operator_speech
from voiceops.web.webhook import webhook_routes
from voiceops.web.ws import RetellEndpoint

log = logging.getLogger("voiceops.app")


@dataclass(slots=True)
class Runtime:
    """What the lifespan built; reachable from routes as ``request.app.state.runtime``."""

    settings: Settings
    profile: AgentProfile
    metrics: Metrics
    db: Database
    writer: EventWriter
    persister: StatePersister
    live: LiveCalls
    endpoint: RetellEndpoint
    brain: Brain
    started_at: float
    loop: LoopWatch
    console: Console | None = None
    """The operator console; its endpoint picks each new call's agent version."""


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

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        active_profile = profile or load_profile(settings.profile_path)
        check_profile_templates(active_profile)
        # phonenumbers loads its zone data lazily (tens of ms): pay it now, not in a turn.
        zone_for_number("+12125550100", active_profile.zone)
        if settings.migrate_on_start:
            await upgrade(settings.database_url)
        db = await Database.open(settings.database_url)
        stack = contextlib.AsyncExitStack()
        watch = LoopWatch(metrics, warn_s=settings.loop_warn_ms / 1000)
        try:
            watch.start()
            stack.callback(watch.stop)
            if settings.gc_full_interval_s > 0:
                collections = FullCollections(settings.gc_full_interval_s)
                collections.start()
                stack.callback(collections.stop)
            stack.push_async_callback(db.close)
            version = await ProfileRepo(db, clock=clock).save(active_profile)
            active_profile = active_profile.model_copy(update={"version": version})

            writer = EventWriter(
                db,
                queue_size=settings.event_queue_size,
                batch_size=settings.event_batch_size,
                flush_interval_ms=settings.event_flush_interval_ms,
                journal_path=settings.journal_path,
                metrics=metrics,
                clock=clock,
            )
            await writer.start()
            stack.push_async_callback(writer.stop)

            persister = StatePersister(StateStore(db, clock=clock, metrics=metrics), clock=clock)
            await persister.start()
            stack.push_async_callback(persister.stop)

            routes, processor = webhook_routes(
                db=db, settings=settings, metrics=metrics, profile=active_profile, clock=clock
            )
            await processor.start()
            stack.push_async_callback(processor.stop)
            app.router.routes.extend(routes)
            # Makes up for webhooks that never arrived: Retell's records of recent calls.
            await stack.enter_async_context(scheduled_sync(settings, db=db, clock=clock))

            spans = tracer or make_tracer(settings.otel_traces)
            flow = FlowBrain()
            brain: Brain = flow
            fallback: Brain | None = None
            if settings.effective_brain == "llm":
                client = llm_client or make_client(settings)
                if llm_client is None:
                    stack.push_async_callback(client.close)
                brain = LLMBrain(
                    client,
                    model=settings.llm_model or active_profile.llm.model,
                    temperature=active_profile.llm.temperature,
                    max_tokens=active_profile.llm.max_tokens,
                    parallel_tool_calls=active_profile.llm.parallel_tool_calls,
                    service_tier=active_profile.llm.service_tier,
                    first_token_timeout_s=settings.llm_first_token_timeout_s,
                    turn_timeout_s=settings.llm_turn_timeout_s,
                    max_tool_rounds=settings.llm_max_tool_rounds,
                    metrics=metrics,
                    tracer=spans,
                    clock=clock,
                )
                fallback = flow

            deps = TurnDeps(
                brain=brain,
                fallback=fallback,
                profile=active_profile,
                settings=settings,
                repo=SqlBookingRepo(db, clock=clock),
                events=writer,
                metrics=metrics,
                rng=rng or random.Random(),
                tracer=spans,
                clock=clock,
                save_state=persister.save_now,
            )
            calls = CallRepo(db, clock=clock)

            def on_outcome(call_id: str, outcome: str, number: str | None) -> None:
                persister.submit(
                    f"call outcome {call_id}",
                    lambda: calls.set_outcome(call_id, outcome, transfer_destination=number),
                )

            deps.on_outcome = on_outcome

            def on_details(call_id: str, call: CallObject, state: CallState) -> None:
                # The caller's zone is known from the details alone; record it with the call.
                zone = resolve_caller_clock(call, active_profile, clock.now()).zone.key
                state.caller_zone = zone
                persister.submit(
                    f"call record {call_id}",
                    lambda: calls.upsert_from_details(
                        call, caller_zone=zone, profile_version=state.profile_version
                    ),
                )

            live = LiveCalls()
            endpoint = RetellEndpoint(
                settings=settings,
                profile=active_profile,
                runner=TurnRunner(deps),
                live=live,
                persister=persister,
                events=writer,
                metrics=metrics,
                on_call_details=on_details,
                clock=clock,
                drain=drain,
            )
            drain.bind(live=live, persister=persister, events=writer)
            console = await open_console(
                stack, app, settings=settings, db=db, clock=clock, endpoint=endpoint, events=writer
            )
            app.state.runtime = Runtime(
                settings=settings,
                profile=active_profile,
                metrics=metrics,
                db=db,
                writer=writer,
                persister=persister,
                live=live,
                endpoint=endpoint,
                brain=brain,
                started_at=clock.monotonic(),
                loop=watch,
                console=console,
            )
            log.info(
                "voiceops %s ready: brain=%s profile=%s v%d db=%s",
                __version__,
                brain.name,
                active_profile.business_name,
                active_profile.version,
                db.dialect,
            )
            yield
        finally:
            await stack.aclose()

    async def llm_socket(websocket: WebSocket) -> None:
        runtime: Runtime = websocket.app.state.runtime
        await (runtime.console.endpoint if runtime.console else runtime.endpoint)(websocket)

    async def healthz(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        # Draining: the load balancer takes this instance out while its calls finish.
        return JSONResponse(
            {
                "status": "draining" if drain.draining else "ok",
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
                "uptime_s": round(clock.monotonic() - runtime.started_at, 1),
            },
            status_code=503 if drain.draining else 200,
        )

    async def metrics_route(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def interrupt(request: Request) -> Response:
        """Operator speech: ``{"text": "...", "end_call": false}`` (strictly typed, see
        ``web/guard.py``) spoken at once on a call live on this instance, as an
        ``agent_interrupt``. 400 for an invalid call id or a body that is not JSON, 422
        for one that is not that object."""
        runtime: Runtime = request.app.state.runtime
        token = settings.admin_token
        given = request.headers.get("authorization", "")
        if token is None:
            return JSONResponse({"error": "operator endpoints are disabled"}, status_code=404)
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        call_id = request.path_params["call_id"]
        if call_id_refusal(call_id) is not None:
            return JSONResponse({"error": "invalid call id"}, status_code=400)
        body = await request.body()
        if len(body) > 16_384:
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            speech = read_operator_speech(body)
        except RequestRefused as refused:
            return JSONResponse({"error": refused.message}, status_code=refused.status)
        conn = runtime.live.connections.get(call_id)
        if conn is None or not await conn.interrupt(speech.text, end_call=speech.end_call):
            return JSONResponse({"error": "call is not live on this instance"}, status_code=404)
        return JSONResponse({"status": "spoken"})

    sockets = [
        WebSocketRoute("/llm-websocket/{call_id}", llm_socket),
        WebSocketRoute("/llm-websocket/{secret}/{call_id}", llm_socket),
    ]
    routes: list[BaseRoute] = [
        *sockets,
        Route("/healthz", healthz),
        Route("/metrics", metrics_route),
        Route("/calls/{call_id}/interrupt", interrupt, methods=["POST"]),
    ]
    return _VoiceApp(sockets, routes=routes, lifespan=lifespan)


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
