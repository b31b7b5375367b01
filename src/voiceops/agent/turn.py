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
import contextlib
import logging
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from voiceops.agent.escalation import detect_escalation
from voiceops.agent.filler import FillerPicker
from voiceops.config import Settings
from voiceops.core.actions import EndCall, Transfer
from voiceops.core.caller import CallerClock, caller_number, resolve_caller_clock
from voiceops.core.callevents import CallEvent, EventSink
from voiceops.core.clock import Clock, Deadline, SystemClock, TimerHandle
from voiceops.core.errors import BrainError, BrainStalled, LLMError
from voiceops.core.events import (
    AgentEvent,
    Brain,
    EscalationTrigger,
    TextChunk,
    ToolFinished,
    ToolStarted,
    TurnContext,
)
from voiceops.core.ports import BookingRepo
from voiceops.core.profile import AgentProfile
from voiceops.core.state import CallState, PendingTransfer
from voiceops.core.transcript import CallObject
from voiceops.metrics import Metrics
from voiceops.retell.messages import ReminderRequired, ResponseRequired
from voiceops.retell.session import CallSession
from voiceops.speech import SpeechFilter, clean, is_speakable
from voiceops.tools.handoff import plan_transfer
from voiceops.tools.toolbox import Toolbox
from voiceops.tracing import OFF, Tracer

log = logging.getLogger("voiceops.turn")

MAX_TRANSFER_ATTEMPTS = 3
"""How many times a dropped transfer is re-asserted before the agent takes a callback."""
_CALL_OUTCOMES = {
    "transfer": "transferred",
    "transfer_reasserted": "transferred",
    "end_call": "ended_by_agent",
}
APOLOGY = "Sorry, I didn't quite catch that. Could you say it again?"
MAX_LOGGED_CONTENT = 2000


class CallLink(Protocol):
    """What a turn needs of its connection (implemented by ``web/ws.py``)."""

    call_id: str
    session: CallSession
    state: CallState

    async def send(self, text: str) -> None: ...


@dataclass(slots=True)
class TurnDeps:
    brain: Brain
    fallback: Brain | None
    profile: AgentProfile
    settings: Settings
    repo: BookingRepo
    events: EventSink
    metrics: Metrics
    on_outcome: Callable[[str, str, str | None], None] | None = None
    """Called with (call id, outcome, transfer number) when a turn transfers or hangs up."""
    clock: Clock = field(default_factory=SystemClock)
    """The process's one clock: wall time for the caller's clock, monotonic time, timers."""
    rng: random.Random = field(default_factory=random.Random)
    tracer: Tracer = OFF


@dataclass(slots=True)
class _Speaker:
    """Sends one response id's frames through the session gate, cleaning text on the way."""

    link: CallLink
    response_id: int
    started: float
    monotonic: Callable[[], float]
    metrics: Metrics
    filter: SpeechFilter = field(default_factory=SpeechFilter)
    spoken: list[str] = field(default_factory=list)
    chunks: int = 0
    first_chunk_at: float | None = None
    brain_spoke: bool = False
    filler_spoken: bool = False
    last_spoke_at: float = 0.0
    closed: bool = False
    pending: str = ""
    """Clean text held to be sent with the rest of its sentence (after the first chunk)."""
    before_next: asyncio.Task[None] | None = None
    """A filler being sent: later frames wait for it, so it is always heard first."""

    @property
    def current(self) -> bool:
        return self.link.session.is_current(self.response_id)

    async def _send(self, content: str, *, complete: bool, **flags: bool | str | None) -> bool:
        waiting = self.before_next
        if waiting is not None and waiting is not asyncio.current_task():
            self.before_next = None
            if not waiting.done():
                await asyncio.wait((waiting,))
        frame = self.link.session.response_frame(
            self.response_id,
            content,
            complete=complete,
            **flags,  # type: ignore[arg-type]
        )
        if frame is None:
            return False
        if complete:
            self.closed = True
        if content:
            now = self.monotonic()
            if self.first_chunk_at is None and is_speakable(content):
                self.first_chunk_at = now
                self.metrics.turn_first_chunk.observe(now - self.started)
            self.last_spoke_at = now
            self.spoken.append(content)
            self.chunks += 1
        await self.link.send(frame)
        return True

    async def text(self, raw: str) -> None:
        """Clean ``raw`` and send it. The first speakable text goes out at once; after that
        text is coalesced into whole sentences (Retell voices a sentence once it is
        complete), which cuts frames per reply several-fold without delaying any speech."""
        cleaned = self.filter.feed(raw)
        if not cleaned:
            return
        if not self.brain_spoke:
            self.brain_spoke = is_speakable(cleaned)
            await self._send(cleaned, complete=False)
            return
        pending = self.pending + cleaned
        end = _last_sentence_end(pending)
        if end == 0 and (
            len(pending) >= COALESCE_MAX_CHARS
            or self.monotonic() - self.last_spoke_at >= COALESCE_MAX_WAIT_S
        ):
            end = len(pending)
        self.pending = pending[end:]
        if end:
            await self._send(pending[:end], complete=False)

    async def flush_pending(self) -> None:
        """Send held text now (before a tool runs, say)."""
        if self.pending:
            pending, self.pending = self.pending, ""
            await self._send(pending, complete=False)

    async def filler(self, line: str) -> bool:
        return await self._send(line + " ", complete=False)

    async def finish(
        self,
        closing: str = "",
        *,
        end_call: bool = False,
        transfer_number: str | None = None,
        show_transferee_as_caller: bool = False,
    ) -> None:
        """Close the response. A closing line with an action is its own short frame, so
        ``transfer_number`` sits on the first chunk of that line (protocol section 6)."""
        tail = self.pending + self.filter.flush()
        self.pending = ""
        line = clean(closing) if closing else ""
        if end_call or transfer_number:
            if tail:
                await self._send(tail, complete=False)
            await self._send(
                line,
                complete=True,
                end_call=end_call,
                transfer_number=transfer_number,
                show_transferee_as_caller=show_transferee_as_caller,
                no_interruption_allowed=True,
            )
        else:
            await self._send(_join(tail, line), complete=True)

    @property
    def text_spoken(self) -> str:
        return "".join(self.spoken)


COALESCE_MAX_CHARS = 160
COALESCE_MAX_WAIT_S = 0.25
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+")


def _last_sentence_end(text: str) -> int:
    """Index just past the last sentence end (punctuation and its spaces) in ``text``, or 0."""
    end = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
    return end


def _join(a: str, b: str) -> str:
    if a and b and not a.endswith(" "):
        return f"{a} {b}"
    return a + b


class _FillerTimer:
    """The holding-line timer of one brain run: a loop timer, not a waiting task.

    Armed at the filler deadline after the turn started (if nothing speakable was sent by
    then) and again when a tool starts (if nothing is said within the deadline while it
    runs). When it fires it picks a line and speaks it from a small owned task; the
    speaker sends that line before any later brain text, so the order never inverts.
    """

    def __init__(self, runner: TurnRunner, ctx: TurnContext, out: _Speaker, after_s: float):
        self._runner = runner
        self._ctx = ctx
        self._out = out
        self._after = after_s
        self._handle: TimerHandle | None = None
        self._tool_started: float | None = None
        self._task: asyncio.Task[None] | None = None

    def _arm(self, at_monotonic: float) -> None:
        clock = self._runner.deps.clock
        self._handle = clock.call_later(at_monotonic - clock.monotonic(), self._fire)

    def arm_first(self) -> None:
        if not self._out.brain_spoke and not self._out.filler_spoken:
            self._arm(self._out.started + self._after)

    def tool_started(self) -> None:
        self._tool_started = self._runner.deps.clock.monotonic()
        if self._handle is None and not self._out.filler_spoken:
            self._arm(self._tool_started + self._after)

    def tool_finished(self) -> float | None:
        started, self._tool_started = self._tool_started, None
        if self._handle is not None and self._out.brain_spoke:
            self._handle.cancel()
            self._handle = None
        return started

    def _fire(self) -> None:
        self._handle = None
        out = self._out
        tool_waiting = self._tool_started is not None and out.last_spoke_at <= self._tool_started
        if out.filler_spoken or (out.brain_spoke and not tool_waiting) or not out.current:
            return
        if out.brain_spoke and self._tool_started is not None:
            due = self._tool_started + self._after
            if self._runner.deps.clock.monotonic() < due:
                self._arm(due)  # the reply began; wait the full deadline into the tool
                return
        out.filler_spoken = True  # one per turn, whatever happens next
        state = self._ctx.state
        fillers = self._runner.fillers
        if not fillers.may_speak(state):
            return
        line = fillers.pick(state)
        self._task = asyncio.get_running_loop().create_task(
            self._runner._speak_filler(self._ctx, out, line)
        )
        out.before_next = self._task

    async def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class TurnRunner:
    """Runs turns for every call of one process; stateless apart from its dependencies."""

    def __init__(self, deps: TurnDeps) -> None:
        self.deps = deps
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
        out = _Speaker(link, rid, received_at, deps.clock.monotonic, deps.metrics)
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
        out: _Speaker,
    ) -> tuple[str, str, float | None]:
        """The turn with its guarantees; returns (brain, outcome, server overhead in ms)."""
        deps = self.deps
        rid = request.response_id
        turn_index = link.state.turns
        outcome = "completed"
        brain_name = ""
        overhead_ms: float | None = None
        try:
            brain_name, outcome = await self._turn(link, request, kind, out)
        except asyncio.CancelledError:
            outcome = "superseded"
            deps.metrics.turns_superseded.inc()
            raise
        except Exception as exc:
            # The caller must never hear silence or a stack trace: apologise and log.
            outcome = "error"
            log.exception("turn failed", extra={"call_id": link.call_id, "response_id": rid})
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
            overhead_ms = self._record(link, out, rid, turn_index, kind, brain_name, outcome)
        return brain_name, outcome, overhead_ms

    # --- the turn proper ----------------------------------------------------------------

    async def _turn(
        self,
        link: CallLink,
        request: ResponseRequired | ReminderRequired,
        kind: str,
        out: _Speaker,
    ) -> tuple[str, str]:
        deps = self.deps
        state = link.state
        call = link.session.call
        clock = resolve_caller_clock(call, deps.profile, deps.clock.now())
        state.caller_zone = clock.zone.key

        trigger: EscalationTrigger | None = None
        abandoned = False
        if state.pending_transfer is not None:
            pending = state.pending_transfer
            if pending.attempts < MAX_TRANSFER_ATTEMPTS:
                # A new request before the call ended means the caller barged in over the
                # transfer line and Retell dropped the transfer: say it again, re-issue it.
                pending.attempts += 1
                await self._transfer(out, state, pending.number, pending.message)
                self._escalation_event(
                    link, out.response_id, pending.reason, pending.trigger, "reasserted"
                )
                return "rules", "transfer_reasserted"
            # The transfer keeps not happening (a number Retell cannot dial, a caller who
            # keeps talking over it): stop looping and let the brain take a callback.
            state.pending_transfer = None
            abandoned = True
            trigger = EscalationTrigger(
                reason=pending.reason, trigger="model", priority="high", detail="transfer failed"
            )
            self._escalation_event(
                link, out.response_id, pending.reason, pending.trigger, "transfer_abandoned"
            )

        if kind == "response" and trigger is None:
            trigger = detect_escalation(request.transcript, deps.profile.escalation)
        if trigger is not None and not abandoned:
            plan = plan_transfer(
                deps.profile, clock, trigger.reason, trigger.priority, trigger.trigger
            )
            if plan is not None:
                await self._apply_transfer(link, out, plan)
                return "rules", "transfer"
            self._escalation_event(
                link, out.response_id, trigger.reason, trigger.trigger, "callback"
            )

        ctx = self._context(link, request, kind, call, clock, trigger)
        primary = deps.brain
        use_fallback_now = state.on_fallback and deps.fallback is not None
        if use_fallback_now and deps.fallback is not None:
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

    async def _fall_back(self, link: CallLink, ctx: TurnContext, out: _Speaker, reason: str) -> str:
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
        log.warning("llm failed (%s); flow brain answers", reason, extra={"call_id": link.call_id})
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
        )

    # --- pumping a brain ----------------------------------------------------------------

    async def _pump(
        self,
        brain: Brain,
        ctx: TurnContext,
        out: _Speaker,
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
        fillers = _FillerTimer(self, ctx, out, deps.settings.filler_deadline_ms / 1000)
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
                    elif isinstance(event, ToolStarted):
                        await out.flush_pending()
                        fillers.tool_started()
                        frame = link.session.tool_invocation_frame(
                            out.response_id, event.tool_call_id, event.name, event.arguments
                        )
                        if frame is not None:
                            await link.send(frame)
                    elif isinstance(event, ToolFinished):
                        started = fillers.tool_finished()
                        if started is not None:
                            deps.metrics.tool_seconds.labels(tool=event.name).observe(
                                deps.clock.monotonic() - started
                            )
                        frame = link.session.tool_result_frame(
                            out.response_id, event.tool_call_id, event.content, event.successful
                        )
                        if frame is not None:
                            await link.send(frame)
                    elif isinstance(event, Transfer):
                        await self._apply_transfer(link, out, event)
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

    async def _speak_filler(self, ctx: TurnContext, out: _Speaker, line: str) -> None:
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

    # --- transfer -----------------------------------------------------------------------

    async def _apply_transfer(self, link: CallLink, out: _Speaker, transfer: Transfer) -> None:
        state = link.state
        state.pending_transfer = PendingTransfer(
            number=transfer.number,
            message=transfer.message,
            reason=transfer.reason,
            priority=transfer.priority,
            trigger=transfer.trigger,
            response_id=out.response_id,
        )
        state.escalated = True
        await self._transfer(out, state, transfer.number, transfer.message)
        self._escalation_event(
            link,
            out.response_id,
            transfer.reason,
            transfer.trigger,
            "transfer",
            priority=transfer.priority,
            number=transfer.number,
        )

    async def _transfer(self, out: _Speaker, state: CallState, number: str, message: str) -> None:
        await out.finish(
            message,
            transfer_number=number,
            show_transferee_as_caller=self.deps.profile.transfer.show_transferee_as_caller,
        )

    def _escalation_event(
        self,
        link: CallLink,
        response_id: int,
        reason: str,
        trigger: str,
        outcome: str,
        *,
        priority: str = "medium",
        number: str | None = None,
    ) -> None:
        self.deps.metrics.escalations.labels(trigger=trigger, outcome=outcome).inc()
        payload: dict[str, object] = {
            "reason": reason,
            "trigger": trigger,
            "priority": priority,
            "outcome": outcome,
        }
        if number is not None:
            payload["transfer_number"] = number
        self.deps.events.emit(
            CallEvent(
                link.call_id,
                "escalation",
                created_at=self.deps.clock.now(),
                turn_index=link.state.turns,
                response_id=response_id,
                payload=payload,
            )
        )

    # --- bookkeeping --------------------------------------------------------------------

    def _record(
        self,
        link: CallLink,
        out: _Speaker,
        rid: int,
        turn_index: int,
        kind: str,
        brain: str,
        outcome: str,
    ) -> float | None:
        """Count and record the turn; returns the server's own overhead in ms, if known."""
        deps = self.deps
        now = deps.clock.monotonic()
        if outcome != "superseded":
            deps.metrics.turn_seconds.observe(now - out.started)
        usage = None
        pop = getattr(deps.brain, "pop_usage", None)
        if callable(pop):
            usage = pop(link.call_id, rid)
        overhead_ms: float | None = None
        pop_wait = getattr(deps.brain, "pop_first_token_wait", None)
        wait = pop_wait(link.call_id, rid) if callable(pop_wait) else None
        if (
            out.first_chunk_at is not None
            and not out.filler_spoken
            and brain == deps.brain.name
            and (wait is not None or not callable(pop_wait))
        ):
            # The server's own share of the turn: time to the first speakable chunk minus
            # the wait for the LLM's first token (an offline brain has no such wait).
            overhead = max(0.0, out.first_chunk_at - out.started - (wait or 0.0))
            overhead_ms = round(overhead * 1000, 2)
            deps.metrics.turn_overhead.observe(overhead)
        content = out.text_spoken
        if deps.on_outcome is not None and outcome in _CALL_OUTCOMES:
            pending = link.state.pending_transfer
            deps.on_outcome(
                link.call_id,
                _CALL_OUTCOMES[outcome],
                pending.number if pending is not None and outcome != "end_call" else None,
            )
        deps.events.emit(
            CallEvent(
                link.call_id,
                "turn_superseded" if outcome == "superseded" else "turn_completed",
                created_at=self.deps.clock.now(),
                turn_index=turn_index,
                response_id=rid,
                role="agent",
                content=content[:MAX_LOGGED_CONTENT],
                tokens_in=getattr(usage, "tokens_in", None),
                tokens_out=getattr(usage, "tokens_out", None),
                latency_ms=(
                    int((out.first_chunk_at - out.started) * 1000)
                    if out.first_chunk_at is not None
                    else None
                ),
                payload={
                    "kind": kind,
                    "brain": brain,
                    "overhead_ms": overhead_ms,
                    "llm_wait_ms": round(wait * 1000, 2) if wait is not None else None,
                    "outcome": outcome,
                    "chunks": out.chunks,
                    "filler": out.filler_spoken,
                    "total_ms": int((now - out.started) * 1000),
                },
                event_id=f"{link.call_id}:{rid}:turn",
            )
        )
        return overhead_ms


async def _aclose(events: AsyncIterator[AgentEvent]) -> None:
    aclose: Callable[[], Awaitable[None]] | None = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()
