"""What the app's lifespan opens, in order, and owns until shutdown.

:func:`open_runtime` builds the process's shared resources on an exit stack, so they close
in reverse order: the loop watch and the collector schedule, the database (migrated first
when asked), the saved profile version, the event writer, the state persister, the webhook
processor and its routes, Retell's call-record sync, the brains (the LLM client when one is
configured), the turn runner and the call endpoint, the drain, the console and the alert
evaluator.
"""

from __future__ import annotations

import contextlib
import logging
import random
from dataclasses import dataclass

import openai
from starlette.applications import Starlette

from voiceops import __version__
from voiceops.agent.deps import TurnDeps
from voiceops.agent.prompts import check_profile_templates
from voiceops.agent.turn import TurnRunner
from voiceops.calls import LiveCalls, StatePersister
from voiceops.config import Settings
from voiceops.core.caller import resolve_caller_clock, zone_for_number
from voiceops.core.clock import Clock
from voiceops.core.events import Brain
from voiceops.core.profile import AgentProfile, load_profile
from voiceops.core.state import CallState
from voiceops.core.transcript import CallObject
from voiceops.flow.brain import FlowBrain
from voiceops.insight.builder import RollupBuilder, open_rollup_builder
from voiceops.insight.evaluator import AlertService, open_alerts
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
from voiceops.web.webhook import webhook_routes
from voiceops.web.ws import RetellEndpoint

log = logging.getLogger("voiceops.app")


@dataclass(slots=True)
class Parts:
    """What :func:`~voiceops.web.app.create_app` was given (or made) for the lifespan."""

    settings: Settings
    metrics: Metrics
    clock: Clock
    drain: Drain
    profile: AgentProfile | None
    llm_client: openai.AsyncOpenAI | None
    rng: random.Random | None
    tracer: Tracer | None


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
    alerts: AlertService | None = None
    """Alert rules, their evaluator and notifications (``insight/evaluator.py``)."""
    rollup: RollupBuilder | None = None
    """The Insight rollup's background builder (``insight/builder.py``)."""


async def open_runtime(app: Starlette, stack: contextlib.AsyncExitStack, parts: Parts) -> Runtime:
    """Open everything, registering each close on ``stack``; returns the runtime."""
    settings, clock = parts.settings, parts.clock
    profile = parts.profile or load_profile(settings.profile_path)
    check_profile_templates(profile)
    # phonenumbers loads its zone data lazily (tens of ms): pay it now, not in a turn.
    zone_for_number("+12125550100", profile.zone)
    db, watch = await _open_database(stack, parts)
    version = await ProfileRepo(db, clock=clock).save(profile)
    profile = profile.model_copy(update={"version": version})
    writer, persister = await _open_writers(stack, parts, db)
    await _open_webhooks(stack, app, parts, db, profile)

    spans = parts.tracer or make_tracer(settings.otel_traces)
    brain, fallback = _brains(stack, parts, profile, spans)
    deps = TurnDeps(
        brain=brain,
        fallback=fallback,
        profile=profile,
        settings=settings,
        repo=SqlBookingRepo(db, clock=clock),
        events=writer,
        metrics=parts.metrics,
        rng=parts.rng or random.Random(),
        tracer=spans,
        clock=clock,
        save_state=persister.save_now,
    )
    live = LiveCalls()
    endpoint = _endpoint(parts, db, deps, live, persister, writer)
    parts.drain.bind(live=live, persister=persister, events=writer)
    console = await open_console(
        stack, app, settings=settings, db=db, clock=clock, endpoint=endpoint, events=writer
    )
    alerts = await _open_alerts(stack, parts, db, console, writer)
    rollup = await open_rollup_builder(stack, db=db, clock=clock)
    log.info(
        "voiceops %s ready: brain=%s profile=%s v%d db=%s",
        __version__,
        brain.name,
        profile.business_name,
        profile.version,
        db.dialect,
    )
    return Runtime(
        settings=settings,
        profile=profile,
        metrics=parts.metrics,
        db=db,
        writer=writer,
        persister=persister,
        live=live,
        endpoint=endpoint,
        brain=brain,
        started_at=clock.monotonic(),
        loop=watch,
        console=console,
        alerts=alerts,
        rollup=rollup,
    )


async def _open_database(
    stack: contextlib.AsyncExitStack, parts: Parts
) -> tuple[Database, LoopWatch]:
    """The database (migrated first when asked), the loop watch and the collector."""
    settings = parts.settings
    if settings.migrate_on_start:
        await upgrade(settings.database_url)
    db = await Database.open(settings.database_url)
    stack.push_async_callback(db.close)
    watch = LoopWatch(parts.metrics, warn_s=settings.loop_warn_ms / 1000)
    watch.start()
    stack.callback(watch.stop)
    if settings.gc_full_interval_s > 0:
        collections = FullCollections(settings.gc_full_interval_s)
        collections.start()
        stack.callback(collections.stop)
    return db, watch


async def _open_writers(
    stack: contextlib.AsyncExitStack, parts: Parts, db: Database
) -> tuple[EventWriter, StatePersister]:
    """The batched event writer and the call-state persister, both started."""
    settings, clock = parts.settings, parts.clock
    writer = EventWriter(
        db,
        queue_size=settings.event_queue_size,
        batch_size=settings.event_batch_size,
        flush_interval_ms=settings.event_flush_interval_ms,
        journal_path=settings.journal_path,
        metrics=parts.metrics,
        clock=clock,
    )
    await writer.start()
    stack.push_async_callback(writer.stop)
    persister = StatePersister(StateStore(db, clock=clock, metrics=parts.metrics), clock=clock)
    await persister.start()
    stack.push_async_callback(persister.stop)
    return writer, persister


async def _open_webhooks(
    stack: contextlib.AsyncExitStack,
    app: Starlette,
    parts: Parts,
    db: Database,
    profile: AgentProfile,
) -> None:
    """The webhook processor and its routes, and Retell's call-record sync."""
    settings, clock = parts.settings, parts.clock
    routes, processor = webhook_routes(
        db=db, settings=settings, metrics=parts.metrics, profile=profile, clock=clock
    )
    await processor.start()
    stack.push_async_callback(processor.stop)
    app.router.routes.extend(routes)
    # Makes up for webhooks that never arrived: Retell's records of recent calls.
    await stack.enter_async_context(scheduled_sync(settings, db=db, clock=clock))


async def _open_alerts(
    stack: contextlib.AsyncExitStack,
    parts: Parts,
    db: Database,
    console: Console,
    writer: EventWriter,
) -> AlertService:
    """The alert evaluator, judging the published profile's hours and this instance's
    event backlog."""

    def backlog() -> int:
        # Queued, or journaled and not yet replayed (an estimate after a restart, when the
        # journal's count is not known).
        stats = writer.stats()
        return stats["queued"] + max(0, stats["journaled"] - stats["replayed"])

    return await open_alerts(
        stack,
        db=db,
        settings=parts.settings,
        clock=parts.clock,
        profile=lambda: console.endpoint.current,
        backlog=backlog,
        metrics=parts.metrics,
    )


def _brains(
    stack: contextlib.AsyncExitStack, parts: Parts, profile: AgentProfile, spans: Tracer
) -> tuple[Brain, Brain | None]:
    """The brain that answers and its fallback: ``flow`` alone, or ``llm`` backed by it."""
    settings = parts.settings
    flow = FlowBrain()
    if settings.effective_brain != "llm":
        return flow, None
    client = parts.llm_client or make_client(settings)
    if parts.llm_client is None:
        stack.push_async_callback(client.close)
    llm = LLMBrain(
        client,
        model=settings.llm_model or profile.llm.model,
        temperature=profile.llm.temperature,
        max_tokens=profile.llm.max_tokens,
        parallel_tool_calls=profile.llm.parallel_tool_calls,
        service_tier=profile.llm.service_tier,
        first_token_timeout_s=settings.llm_first_token_timeout_s,
        turn_timeout_s=settings.llm_turn_timeout_s,
        max_tool_rounds=settings.llm_max_tool_rounds,
        metrics=parts.metrics,
        tracer=spans,
        clock=parts.clock,
    )
    return llm, flow


def _endpoint(
    parts: Parts,
    db: Database,
    deps: TurnDeps,
    live: LiveCalls,
    persister: StatePersister,
    writer: EventWriter,
) -> RetellEndpoint:
    """The call endpoint, recording each call's outcome and caller zone with the call."""
    calls = CallRepo(db, clock=parts.clock)
    profile = deps.profile

    def on_outcome(call_id: str, outcome: str, number: str | None) -> None:
        persister.submit(
            f"call outcome {call_id}",
            lambda: calls.set_outcome(call_id, outcome, transfer_destination=number),
        )

    deps.on_outcome = on_outcome

    def on_details(call_id: str, call: CallObject, state: CallState) -> None:
        # The caller's zone is known from the details alone; record it with the call.
        zone = resolve_caller_clock(call, profile, parts.clock.now()).zone.key
        state.caller_zone = zone
        persister.submit(
            f"call record {call_id}",
            lambda: calls.upsert_from_details(
                call, caller_zone=zone, profile_version=state.profile_version
            ),
        )

    return RetellEndpoint(
        settings=parts.settings,
        profile=profile,
        runner=TurnRunner(deps),
        live=live,
        persister=persister,
        events=writer,
        metrics=parts.metrics,
        on_call_details=on_details,
        clock=parts.clock,
        drain=parts.drain,
    )
