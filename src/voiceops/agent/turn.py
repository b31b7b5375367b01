"""One turn: from a ``response_required``/``reminder_required`` to its closing frame.

The runner builds the :class:`TurnContext` (call details, caller-local clock, profile,
per-call state, tools), applies the rules that hold for every brain, and turns the brain's
events into ``response`` frames:

* a pending transfer is re-asserted when the caller barged in before it happened;
* rule-based escalation (trigger phrases, frustration, loops) runs before any brain;
* every chunk passes speech hygiene (``speech/``) before it is sent;
* a filler is spoken when nothing speakable exists at the filler deadline, or when a tool
  is still running at the deadline;
* with an LLM brain, an LLM error or no speakable text by the hard deadline hands the turn
  to the flow brain (``fallback``); repeated failures keep the call on the flow brain;
* every live turn ends with exactly one ``content_complete: true`` frame, sent from a
  ``finally`` path, even when the brain fails. Frames go through
  :meth:`CallSession.response_frame`, which refuses superseded ids.

All waits are bounded; cancellation (a superseded turn) propagates into the brain, which
closes its upstream stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine

from voiceops.agent.cadence import after_turn, due_read_back, observe_tool_call, observe_tool_result
from voiceops.agent.deps import TurnDeps
from voiceops.agent.filler import FillerPicker, FillerTimer
from voiceops.agent.handover import Handover
from voiceops.agent.speaker import CallLink, Speaker
from voiceops.agent.turn_record import record_turn
from voiceops.core.actions import EndCall, Transfer
from voiceops.core.caller import CallerClock, caller_number, resolve_caller_clock
from voiceops.core.callevents import CallEvent
from voiceops.core.clock import Deadline
from voiceops.core.errors import BrainError, BrainStalled, LLMError
from voiceops.core.events import (
    AgentEvent,
    Brain,
    EscalationTrigger,
    TextChunk,
    ToolFinished,
    ToolStarted,
    TurnContext,
    TurnStats,
)
from voiceops.core.transcript import CallObject
from voiceops.logs import CallLogger
from voiceops.retell.messages import ReminderRequired, ResponseRequired
from voiceops.tools.toolbox import Toolbox

log = logging.getLogger("voiceops.turn")

APOLOGY = "Sorry, I didn't quite catch that. Could you say it again?"


class TurnRunner:
    """Runs turns for every call of one process; stateless apart from its dependencies."""

    def __init__(self, deps: TurnDeps) -> None:
        self.deps = deps
        self.handover = Handover(deps)
        self.fillers = FillerPicker(
            deps.profile.fillers,
            max_per_call=deps.settings.filler_max_per_call,
            rng=deps.rng,
        )

    # --- entry point --------------------------------------------------------------------

    async def run(
        self,
        link: CallLink,
        request: ResponseRequired | ReminderRequired,
        received_at: float,
    ) -> None:
        deps = self.deps
        rid = request.response_id
        kind = "reminder" if isinstance(request, ReminderRequired) else "response"
        state = link.state
        state.turns += 1
        state.last_response_id = rid
        deps.metrics.turns.labels(kind=kind).inc()
        out = Speaker(link, rid, received_at, deps.clock.monotonic, deps.metrics)
        save = deps.save_state
        if save is not None:
            # The turn's outcome is written before its closing frame: a crash right after
            # the turn must not lose it (or greet the caller again on the re-dial).
            out.before_close = lambda: save(state)
        with deps.tracer.current(
            "voiceops.turn", call_id=link.call_id, response_id=rid, turn__kind=kind
        ) as span:
            try:
                brain_name, outcome, overhead_ms = await self._run(link, request, kind, out)
            except asyncio.CancelledError:
                span.set(turn__outcome="superseded")
                raise
            first = out.first_chunk_at
            first_ms = None if first is None else round((first - out.started) * 1000, 2)
            span.set(
                brain=brain_name,
                turn__outcome=outcome,
                turn__overhead_ms=overhead_ms,
                turn__first_chunk_ms=first_ms,
            )
            if outcome == "error":
                span.fail("turn_error")

    async def _run(
        self,
        link: CallLink,
        request: ResponseRequired | ReminderRequired,
        kind: str,
        out: Speaker,
    ) -> tuple[str, str, float | None]:
        """The turn with its guarantees; returns (brain, outcome, server overhead in ms)."""
        deps = self.deps
        rid = request.response_id
        turn_index = link.state.turns
        outcome = "completed"
        brain_name = ""
        stats = TurnStats()
        overhead_ms: float | None = None
        try:
            brain_name, outcome = await self._turn(link, request, kind, out, stats)
        except asyncio.CancelledError:
            outcome = "superseded"
            out.before_close = None  # nothing to save before a frame Retell will drop
            deps.metrics.turns_superseded.inc()
            # The caller talked over this reply: what its tools did is said in the next.
            since = len(request.transcript)
            link.state.unheard.extend((say, detail, since) for say, detail in out.committed)
            raise
        except Exception as exc:
            # The caller must never hear silence or a stack trace: apologise and log.
            outcome = "error"
            CallLogger(log, link.call_id, rid).exception("turn failed")
            deps.events.emit(
                CallEvent(
                    link.call_id,
                    "error",
                    created_at=self.deps.clock.now(),
                    turn_index=turn_index,
                    response_id=rid,
                    payload={"where": "turn", "error": type(exc).__name__},
                )
            )
            if not out.closed and out.current:
                await out.finish(APOLOGY if not out.brain_spoke else "")
        finally:
            if not out.closed and out.current:
                # Exactly one closing frame for every live turn (protocol 4.3 rule 3).
                await out.finish()
            overhead_ms = record_turn(
                deps, link, out, rid, turn_index, kind, brain_name, outcome, stats
            )
        return brain_name, outcome, overhead_ms

    # --- the turn proper ----------------------------------------------------------------

    async def _turn(
        self,
        link: CallLink,
        request: ResponseRequired | ReminderRequired,
        kind: str,
        out: Speaker,
        stats: TurnStats,
    ) -> tuple[str, str]:
        """The rules that hold for every brain, then the brain (or its fallback); returns
        (what answered, outcome)."""
        deps = self.deps
        call = link.session.call
        clock = resolve_caller_clock(call, deps.profile, deps.clock.now())
        link.state.caller_zone = clock.zone.key

        told = await self._say_unheard(link, request, out) if link.state.unheard else ""
        rules = await self.handover.rules(link, request, kind, out, clock)
        if isinstance(rules, str):
            return "rules", rules
        ctx = self._context(link, request, kind, call, clock, rules, stats)
        ctx.told = told
        cadence = deps.fallback is not None and not link.state.on_fallback and kind == "response"
        if cadence:
            ctx.read_back = due_read_back(link.state, deps.profile)
            if ctx.read_back:
                await out.preface(ctx.read_back)
        answered = await self._answer(link, ctx, out)
        if cadence and answered[0] == deps.brain.name:
            after_turn(
                link.state, deps.profile, out.text_spoken, read_back_said=bool(ctx.read_back)
            )
        return answered

    async def _say_unheard(
        self, link: CallLink, request: ResponseRequired | ReminderRequired, out: Speaker
    ) -> str:
        """Tell the caller what a turn they talked over did (a booking made, say), unless
        what the agent said since that turn's request, as the transcript has it, shows they
        heard it."""
        transcript = request.transcript
        lines = []
        for say, detail, since in link.state.unheard:
            said = " ".join(u.content for u in transcript[since:] if u.role == "agent")
            if detail not in said:
                lines.append(say)
        link.state.unheard = []
        told = " ".join(lines)
        if told:
            await out.preface(told)
        return told

    async def _answer(self, link: CallLink, ctx: TurnContext, out: Speaker) -> tuple[str, str]:
        """Run the primary brain (or the fallback, once the call sticks to it); an LLM
        failure or stall hands the turn to the fallback."""
        deps = self.deps
        state = link.state
        primary = deps.brain
        if state.on_fallback and deps.fallback is not None:
            primary = deps.fallback
            ctx.fallback_reason = "llm_unavailable"
        hard_deadline = (
            deps.settings.fallback_deadline_ms / 1000
            if deps.fallback is not None and primary is not deps.fallback
            else None
        )
        try:
            outcome = await self._pump(primary, ctx, out, link, hard_deadline)
        except (BrainError, OSError, ValueError) as exc:
            if deps.fallback is None or primary is deps.fallback:
                raise
            reason = exc.kind if isinstance(exc, LLMError) else type(exc).__name__
            if isinstance(exc, BrainStalled):
                reason = "stalled"
            return deps.fallback.name, await self._fall_back(link, ctx, out, reason)
        if primary is deps.brain:
            state.llm_failures = 0
        return primary.name, outcome

    async def _fall_back(self, link: CallLink, ctx: TurnContext, out: Speaker, reason: str) -> str:
        deps = self.deps
        assert deps.fallback is not None
        state = link.state
        state.llm_failures += 1
        state.fallbacks += 1
        if state.llm_failures >= 2:
            state.on_fallback = True
        deps.metrics.fallbacks.labels(reason=reason).inc()
        deps.events.emit(
            CallEvent(
                link.call_id,
                "fallback",
                created_at=self.deps.clock.now(),
                turn_index=state.turns,
                response_id=out.response_id,
                payload={"reason": reason, "sticky": state.on_fallback},
            )
        )
        CallLogger(log, link.call_id, out.response_id).warning(
            "llm failed (%s); flow brain answers", reason
        )
        ctx.fallback_reason = reason
        # A stalled LLM may have left half a word in the filter; drop nothing, just go on.
        return await self._pump(deps.fallback, ctx, out, link, None)

    def _context(
        self,
        link: CallLink,
        request: ResponseRequired | ReminderRequired,
        kind: str,
        call: CallObject | None,
        clock: CallerClock,
        trigger: EscalationTrigger | None,
        stats: TurnStats,
    ) -> TurnContext:
        deps = self.deps
        rid = request.response_id
        session = link.session

        def is_current() -> bool:
            return session.is_current(rid)

        tools = Toolbox(
            call_id=link.call_id,
            response_id=rid,
            profile=deps.profile,
            clock=clock,
            repo=deps.repo,
            caller_phone=caller_number(call) if call is not None else None,
            is_current=is_current,
            events=deps.events,
            tracer=deps.tracer,
            app_clock=deps.clock,
        )
        return TurnContext(
            call_id=link.call_id,
            response_id=rid,
            kind="reminder" if kind == "reminder" else "response",
            transcript=request.transcript,
            transcript_with_tool_calls=request.transcript_with_tool_calls,
            call=call,
            profile=deps.profile,
            clock=clock,
            state=link.state,
            tools=tools,
            is_current=is_current,
            escalation=trigger,
            stats=stats,
        )

    # --- pumping a brain ----------------------------------------------------------------

    async def _pump(
        self,
        brain: Brain,
        ctx: TurnContext,
        out: Speaker,
        link: CallLink,
        hard_deadline_s: float | None,
    ) -> str:
        """Feed ``brain``'s events to the caller with the filler and fallback timers armed.

        The brain is awaited directly (one loop hop per event); the filler is a loop timer
        and the hard deadline a timeout around the iteration, so neither costs anything
        until it fires. Raises :class:`BrainStalled` when ``hard_deadline_s`` passes with
        nothing speakable from this brain. Returns a short outcome label.
        """
        deps = self.deps
        events: AsyncIterator[AgentEvent] = brain.stream(ctx)
        fillers = FillerTimer(
            deps.clock, out, deps.settings.filler_deadline_ms / 1000, self._filler_for(ctx, out)
        )
        fillers.arm_first()
        stall_at = None
        if hard_deadline_s is not None and not out.brain_spoke:
            stall_at = out.started + hard_deadline_s
        guard = Deadline(deps.clock, stall_at)
        try:
            async with guard:
                async for event in events:
                    if isinstance(event, TextChunk):
                        await out.text(event.text)
                        if out.brain_spoke and guard.when() is not None:
                            guard.reschedule(None)
                    elif isinstance(event, ToolStarted | ToolFinished):
                        await self._tool_event(event, out, link, fillers)
                    elif isinstance(event, Transfer):
                        await self.handover.apply_transfer(link, out, event)
                        return "transfer"
                    elif isinstance(event, EndCall):
                        link.state.ended = True
                        await out.finish(event.message, end_call=True)
                        return "end_call"
        except TimeoutError:
            if not guard.expired():
                raise
            raise BrainStalled(f"nothing speakable after {hard_deadline_s:.2f}s") from None
        finally:
            await fillers.stop()
            await _aclose(events)
        if not out.brain_spoke and not out.filler_spoken and hard_deadline_s is not None:
            # The LLM ended without a single speakable word: that is a failure too.
            raise LLMError("empty", "the model produced nothing speakable")
        return "completed"

    async def _tool_event(
        self,
        event: ToolStarted | ToolFinished,
        out: Speaker,
        link: CallLink,
        fillers: FillerTimer,
    ) -> None:
        """Tell Retell a tool started or finished (it weaves them into the transcript) and
        keep the filler timer informed."""
        state, profile = link.state, self.deps.profile
        if isinstance(event, ToolStarted):
            observe_tool_call(state, profile, event.name, event.arguments)
            await out.flush_pending()
            fillers.tool_started()
            frame = link.session.tool_invocation_frame(
                out.response_id, event.tool_call_id, event.name, event.arguments
            )
        else:
            observe_tool_result(state, event.name, event.committed is not None)
            if event.committed is not None:
                out.committed.append((event.committed.say, event.committed.detail))
            started = fillers.tool_finished()
            if started is not None:
                self.deps.metrics.tool_seconds.labels(tool=event.name).observe(
                    self.deps.clock.monotonic() - started
                )
            frame = link.session.tool_result_frame(
                out.response_id, event.tool_call_id, event.content, event.successful
            )
        if frame is not None:
            await link.send(frame)

    def _filler_for(
        self, ctx: TurnContext, out: Speaker
    ) -> Callable[[], Coroutine[None, None, None] | None]:
        def speak() -> Coroutine[None, None, None] | None:
            if not self.fillers.may_speak(ctx.state):
                return None
            return self._speak_filler(ctx, out, self.fillers.pick(ctx.state))

        return speak

    async def _speak_filler(self, ctx: TurnContext, out: Speaker, line: str) -> None:
        if await out.filler(line):
            self.deps.metrics.fillers.inc()
            self.deps.events.emit(
                CallEvent(
                    ctx.call_id,
                    "filler",
                    created_at=self.deps.clock.now(),
                    turn_index=ctx.state.turns,
                    response_id=out.response_id,
                    role="agent",
                    content=line,
                    latency_ms=int((self.deps.clock.monotonic() - out.started) * 1000),
                )
            )


async def _aclose(events: AsyncIterator[AgentEvent]) -> None:
    aclose: Callable[[], Awaitable[None]] | None = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()
