"""The OpenAI-compatible streaming brain.

:class:`LLMBrain` answers one turn by streaming chat completions (official ``openai`` SDK,
any base URL) with the turn's tools. Text deltas are yielded as they arrive, never buffered.
When the model stops to call tools, the calls are assembled from their fragments, run one by
one through ``ctx.tools`` (each between a :class:`ToolStarted` and a :class:`ToolFinished`),
their results appended to the conversation, and the model is asked again, at most
``max_tool_rounds`` times; the last round forbids tools so the model has to speak. A tool
outcome carrying an action (transfer, end call) is yielded and ends the turn.

Failures become :class:`~voiceops.core.errors.LLMError` with a ``kind`` (see ``llm/errors.py``),
counted in ``metrics.llm_errors``; the turn runner decides about the fallback. Deadlines:
the first token of every request within ``first_token_timeout_s``, the whole turn (all
rounds and tools) within ``turn_timeout_s``. Each deadline wraps a single await, never a
``yield``, so it can only ever cancel this brain's own work.

Cancellation is a product guarantee: when the consuming task is cancelled or the generator
is closed (a superseded turn), the ``finally`` around every request closes the HTTP response
at once, so the provider sees the client go away and stops generating.

The SDK does the HTTP, authentication, error statuses and stream lifecycle, but the request
goes through its generic ``post`` with a JSON body encoded here and the chunks come back as
plain dicts. The typed ``chat.completions.create`` path spends most of its time walking
type annotations: with the ten booking tools and a dozen messages, measured on this code,
about 6.5 ms of CPU to transform each request and 0.23 ms to build each chunk model, roughly
17 ms per turn against 5 ms this way. At hundreds of concurrent calls that is the difference
between a core and a third of one. Two more savings: the tool schemas (most of a request's
bytes, the same on every turn) are encoded once per profile, and :class:`ChunkStream`
reads the event stream with a byte-level SSE reader instead of the SDK's line-by-line one.
With both, this brain's share of the server's CPU samples at 500 benchmark calls went from
28 % to 18 %.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import openai

from voiceops.agent.prompts import render_system_prompt
from voiceops.core.actions import EndCall, Transfer
from voiceops.core.clock import Clock, Deadline, SystemClock
from voiceops.core.errors import LLMError
from voiceops.core.events import AgentEvent, TextChunk, ToolFinished, ToolStarted, TurnContext
from voiceops.core.ports import ToolOutcome
from voiceops.llm.errors import from_provider
from voiceops.llm.messages import Message, conversation
from voiceops.llm.request import ToolsJson, request_body, request_head
from voiceops.llm.sse import ChunkStream
from voiceops.llm.tool_calls import ToolCall, ToolCallAssembler
from voiceops.logs import CallLogger
from voiceops.metrics import Metrics
from voiceops.tracing import OFF, Span, Tracer

log = logging.getLogger("voiceops.llm")


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens of one turn, summed over its rounds (as reported by the provider)."""

    tokens_in: int
    tokens_out: int
    tokens_cached: int = 0
    """Of ``tokens_in``, those the provider served from its prompt cache
    (``prompt_tokens_details.cached_tokens``), billed at the cached-input price."""

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.tokens_in + other.tokens_in,
            self.tokens_out + other.tokens_out,
            self.tokens_cached + other.tokens_cached,
        )


@dataclass(slots=True)
class _Round:
    """What one streamed request produced."""

    text: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None


class LLMBrain:
    """The ``llm`` brain. One instance serves every call of the process and holds no
    per-call state; what a turn cost is written to its ``ctx.stats``."""

    name = "llm"

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        *,
        model: str,
        temperature: float,
        max_tokens: int,
        first_token_timeout_s: float,
        turn_timeout_s: float,
        max_tool_rounds: int,
        metrics: Metrics | None = None,
        include_usage: bool = True,
        parallel_tool_calls: bool | None = None,
        service_tier: str | None = None,
        tracer: Tracer = OFF,
        clock: Clock | None = None,
    ) -> None:
        """``include_usage`` asks for the usage chunk (``stream_options``); turn it off for
        the rare compatible server that refuses the option."""
        if max_tool_rounds < 0:
            raise ValueError("max_tool_rounds must be >= 0")
        self._client = client
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.first_token_timeout_s = first_token_timeout_s
        self.turn_timeout_s = turn_timeout_s
        self.max_tool_rounds = max_tool_rounds
        self._metrics = metrics
        self._head = request_head(
            model=model,
            temperature=temperature,
            max_tokens=max_tokens,
            usage=include_usage,
            service_tier=service_tier,
        )
        self._parallel_tool_calls = parallel_tool_calls
        self._tracer = tracer
        self._clock: Clock = clock or SystemClock()
        self._tools_json = ToolsJson()

    async def stream(self, ctx: TurnContext) -> AsyncGenerator[AgentEvent, None]:
        """Yield the events of one turn; raises :class:`LLMError` on provider failure."""
        ctx.stats.waits_on_model = True
        turn_deadline = self._clock.monotonic() + self.turn_timeout_s
        prompt = render_system_prompt(ctx)
        # The voice prompt first and the turn note last: everything before the note is the
        # same from turn to turn, so the provider's prompt cache serves it.
        messages: list[Message] = [
            {"role": "system", "content": prompt.static},
            *conversation(
                ctx.transcript, ctx.transcript_with_tool_calls, reminder=ctx.kind == "reminder"
            ),
            {"role": "system", "content": prompt.turn},
        ]
        ctx.stats.model_messages = messages  # what the console shows (a reference, no copy)
        tools = self._tools_json.encode(ctx.tools.specs())
        usage: Usage | None = None
        try:
            for round_no in range(self.max_tool_rounds + 1):
                final = round_no == self.max_tool_rounds
                result = _Round()
                request = self._request(
                    ctx, messages, tools, final, round_no, turn_deadline, result
                )
                try:
                    # aclosing: if this generator is closed while suspended at the yield
                    # below, the request generator (and its HTTP response) closes now, not
                    # whenever it is garbage-collected.
                    async with contextlib.aclosing(request) as chunks:
                        async for chunk in chunks:
                            yield TextChunk(chunk)
                finally:
                    if result.usage is not None:
                        usage = result.usage if usage is None else usage + result.usage
                if not result.calls:
                    return
                if final:
                    if result.text:
                        return  # it spoke; calls it was told not to make are ignored
                    raise LLMError(
                        "tool_rounds", f"still calling tools after {self.max_tool_rounds} rounds"
                    )
                async for event in self._tool_round(ctx, result, messages, turn_deadline):
                    yield event
                    if isinstance(event, Transfer | EndCall):
                        return
        except LLMError as exc:
            if self._metrics is not None:
                self._metrics.llm_errors.labels(kind=exc.kind).inc()
            CallLogger(log, ctx.call_id, ctx.response_id).info("llm turn failed: %s", exc)
            raise
        finally:
            if usage is not None:
                ctx.stats.tokens_in = usage.tokens_in
                ctx.stats.tokens_out = usage.tokens_out
                ctx.stats.tokens_cached = usage.tokens_cached

    async def _tool_round(
        self, ctx: TurnContext, result: _Round, messages: list[Message], turn_deadline: float
    ) -> AsyncGenerator[AgentEvent, None]:
        """Run the round's tool calls in order, appending them and their results to
        ``messages``; a tool's action (transfer, end call) is yielded last and ends it."""
        messages.append(
            {
                "role": "assistant",
                "content": "".join(result.text) or None,
                "tool_calls": [call.as_message_part() for call in result.calls],
            }
        )
        for call in result.calls:
            yield ToolStarted(call.id, call.name, call.arguments)
            outcome = await self._run_tool(ctx, call, turn_deadline)
            content = outcome.result.model_dump_json()
            yield ToolFinished(
                call.id, call.name, content, outcome.successful, outcome.result.committed()
            )
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
            if outcome.action is not None:
                yield outcome.action
                return

    async def _request(
        self,
        ctx: TurnContext,
        messages: list[Message],
        tools: bytes | None,
        final: bool,
        round_no: int,
        turn_deadline: float,
        result: _Round,
    ) -> AsyncGenerator[str, None]:
        """Stream one completion: yields text deltas, fills ``result`` with the assembled
        tool calls and the usage. The response is closed whatever happens."""
        started = self._clock.monotonic()
        if round_no == 0:
            ctx.stats.model_request_at = started
        first_deadline = min(started + self.first_token_timeout_s, turn_deadline)
        assembler = ToolCallAssembler(f"call_{ctx.response_id}_{round_no}")
        # Not made current: this generator yields to its consumer while the span is open.
        span = self._tracer.start(
            "voiceops.llm.request", gen_ai__request__model=self.model, llm__round=round_no
        )
        try:
            stream = await self._open(messages, tools, final, first_deadline, turn_deadline)
        except BaseException as exc:  # failed or cancelled: the span ends either way
            if isinstance(exc, LLMError):
                span.fail(exc.kind)
            span.end()
            raise
        try:
            first_seen = False
            finish: str | None = None
            while True:
                chunk = await self._next_chunk(
                    stream, turn_deadline if first_seen else first_deadline, turn_deadline
                )
                if chunk is None:
                    break
                content, output, finish_reason = _absorb(chunk, result, assembler)
                if not first_seen and output:
                    first_seen = True
                    self._first_token(ctx, span, self._clock.monotonic() - started, round_no)
                if finish_reason:
                    finish = finish_reason
                if content:
                    result.text.append(content)
                    yield content
            _finish(result, assembler, finish, first_seen)
        except LLMError as exc:
            span.fail(exc.kind)
            raise
        finally:
            span.end()
            # Runs on success, error, cancellation and generator close alike: the provider
            # must see the connection go away when a turn is abandoned.
            await stream.close()

    def _first_token(self, ctx: TurnContext, span: Span, waited: float, round_no: int) -> None:
        """Record the wait for the first token: on the span, in the metrics, and for the
        turn's own figures when it is the turn's first request."""
        span.set(llm__first_token_ms=round(waited * 1000, 2))
        if self._metrics is not None:
            self._metrics.llm_first_token.observe(waited)
        if round_no == 0:
            ctx.stats.model_first_token_s = waited

    async def _open(
        self,
        messages: list[Message],
        tools: bytes | None,
        final: bool,
        first_deadline: float,
        turn_deadline: float,
    ) -> ChunkStream:
        try:
            async with Deadline(self._clock, first_deadline):
                return await self._client.post(
                    "/chat/completions",
                    content=request_body(
                        self._head,
                        messages,
                        tools,
                        final=final,
                        parallel_tool_calls=self._parallel_tool_calls,
                    ),
                    cast_to=object,
                    stream=True,
                    stream_cls=ChunkStream,
                )
        except openai.OpenAIError as exc:
            raise from_provider(exc, streaming=False) from exc
        except TimeoutError:
            raise _deadline_error(first_deadline, turn_deadline) from None

    async def _next_chunk(
        self, stream: ChunkStream, deadline: float, turn_deadline: float
    ) -> dict[str, Any] | None:
        """The next chunk, or ``None`` at the end of the stream."""
        try:
            async with Deadline(self._clock, deadline):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return None
        except (openai.OpenAIError, ValueError) as exc:
            raise from_provider(exc, streaming=True) from exc
        except TimeoutError:
            raise _deadline_error(deadline, turn_deadline) from None
        if not isinstance(chunk, dict):
            raise LLMError("malformed_stream", "a streamed chunk is not a JSON object")
        return chunk

    async def _run_tool(
        self, ctx: TurnContext, call: ToolCall, turn_deadline: float
    ) -> ToolOutcome:
        try:
            async with Deadline(self._clock, turn_deadline):
                return await ctx.tools.run(call.name, call.arguments)
        except TimeoutError:
            raise LLMError("turn_timeout", f"tool {call.name} ran past the turn budget") from None


def _absorb(
    chunk: dict[str, Any], result: _Round, assembler: ToolCallAssembler
) -> tuple[str | None, bool, str | None]:
    """Take one chunk's usage and tool-call fragments into ``result`` and ``assembler``;
    returns (its text, whether it carried any output, its finish reason)."""
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        details = usage.get("prompt_tokens_details")
        result.usage = Usage(
            _count(usage.get("prompt_tokens")),
            _count(usage.get("completion_tokens")),
            _count(details.get("cached_tokens")) if isinstance(details, dict) else 0,
        )
    delta, finish_reason = _first_choice(chunk)
    content = delta.get("content")
    fragments = delta.get("tool_calls")
    if not isinstance(content, str):
        content = None
    if isinstance(fragments, list):
        assembler.add(fragments)
    return content, bool(content or fragments or finish_reason), finish_reason


def _first_choice(chunk: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``(delta, finish_reason)`` of choice 0; empty for a chunk without it (the usage
    chunk). ``n=1`` is requested, so other choices are ignored."""
    choices = chunk.get("choices")
    if isinstance(choices, list):
        for choice in choices:
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                delta = choice.get("delta")
                finish = choice.get("finish_reason")
                return (
                    delta if isinstance(delta, dict) else {},
                    finish if isinstance(finish, str) and finish else None,
                )
    return {}, None


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0


def _deadline_error(deadline: float, turn_deadline: float) -> LLMError:
    if deadline >= turn_deadline:
        return LLMError("turn_timeout", "the turn ran past its time budget")
    return LLMError("first_token_timeout", "no token before the first-token deadline")


def _finish(
    result: _Round, assembler: ToolCallAssembler, finish: str | None, first_seen: bool
) -> None:
    """Close a stream that ended: its tool calls assembled, or the error it ended in."""
    if finish is None:
        if not first_seen:
            raise LLMError("empty", "the stream ended without any output")
        raise LLMError("malformed_stream", "the stream ended without a finish reason")
    result.calls = assembler.calls()
    if not result.text and not result.calls:
        raise LLMError("empty", f"the model finished ({finish}) without text or tools")
