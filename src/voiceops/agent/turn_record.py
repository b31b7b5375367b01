"""The record of a finished turn: metrics, the call's outcome and its ``turn_completed``
event (what was said, by which brain, how fast, for how many tokens), and, when a model
was asked, a ``model_context`` event: the messages it was sent, masked and bounded."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from voiceops.agent.deps import TurnDeps
from voiceops.agent.speaker import CallLink, Speaker
from voiceops.core.callevents import CallEvent
from voiceops.core.events import TurnStats
from voiceops.logs import mask_secrets
from voiceops.masking import mask_numbers

MAX_LOGGED_CONTENT = 2000
MAX_CONTEXT_MESSAGE_CHARS = 8000
"""A message's text kept in ``model_context`` (the rest is cut, and marked as cut)."""
MAX_CONTEXT_CHARS = 32000
"""All the text of one ``model_context``; messages past it are counted, not kept."""
_CALL_OUTCOMES = {
    "transfer": "transferred",
    "transfer_reasserted": "transferred",
    "end_call": "ended_by_agent",
}


def record_turn(
    deps: TurnDeps,
    link: CallLink,
    out: Speaker,
    rid: int,
    turn_index: int,
    kind: str,
    brain: str,
    outcome: str,
    stats: TurnStats,
) -> float | None:
    """Count the turn and write its ``turn_completed`` (or ``turn_superseded``) event;
    returns the server's own overhead in ms, if known.

    The server's own share of a turn is its time to the first speakable chunk minus the
    wait for the model's first token (a brain that asks no model has no such wait). It is
    only known for a turn the primary brain answered without a filler.
    """
    now = deps.clock.monotonic()
    if outcome != "superseded":
        deps.metrics.turn_seconds.observe(now - out.started)
    overhead_ms = _overhead_ms(deps, out, brain, stats)
    wait = stats.model_first_token_s
    content = out.text_spoken
    _report_outcome(deps, link, outcome)
    deps.events.emit(
        CallEvent(
            link.call_id,
            "turn_superseded" if outcome == "superseded" else "turn_completed",
            created_at=deps.clock.now(),
            turn_index=turn_index,
            response_id=rid,
            role="agent",
            content=content[:MAX_LOGGED_CONTENT],
            tokens_in=stats.tokens_in,
            tokens_out=stats.tokens_out,
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
                "tokens_cached": stats.tokens_cached,
                "outcome": outcome,
                "chunks": out.chunks,
                "filler": out.filler_spoken,
                "total_ms": int((now - out.started) * 1000),
            },
            event_id=f"{link.call_id}:{rid}:turn",
        )
    )
    if stats.model_messages is not None:
        _record_context(deps, link, rid, turn_index, stats.model_messages)
    return overhead_ms


def _report_outcome(deps: TurnDeps, link: CallLink, outcome: str) -> None:
    """Tell the call's record how the call ends, when this turn ended or transferred it."""
    if deps.on_outcome is not None and outcome in _CALL_OUTCOMES:
        pending = link.state.pending_transfer
        deps.on_outcome(
            link.call_id,
            _CALL_OUTCOMES[outcome],
            pending.number if pending is not None and outcome != "end_call" else None,
        )


def _record_context(
    deps: TurnDeps, link: CallLink, rid: int, turn_index: int, messages: list[dict[str, Any]]
) -> None:
    """The ``model_context`` event: what the model was sent for this turn. The voice
    prompt (the first message, most of the text, the same turn after turn) is written
    whole once per call and referred to by response id while it stays the same."""
    same_as = None
    first = messages[0].get("content") if messages and messages[0].get("role") == "system" else None
    if isinstance(first, str):
        digest = hashlib.sha256(first.encode()).hexdigest()
        known = link.state.context_prompt
        if known is not None and known[0] == digest:
            same_as = known[1]
        else:
            link.state.context_prompt = (digest, rid)
    deps.events.emit(
        CallEvent(
            link.call_id,
            "model_context",
            created_at=deps.clock.now(),
            turn_index=turn_index,
            response_id=rid,
            payload=model_context(messages, prompt_same_as=same_as),
            event_id=f"{link.call_id}:{rid}:context",
        )
    )


def _masked(text: str, limit: int) -> tuple[str, bool]:
    return _mask(text[:limit]), len(text) > limit


@functools.lru_cache(maxsize=1024)
def _mask(text: str) -> str:
    # Cached: the voice prompt (most of the text) is the same string turn after turn.
    return mask_numbers(mask_secrets(text))


def model_context(
    messages: list[dict[str, Any]], *, prompt_same_as: int | None = None
) -> dict[str, Any]:
    """What a model was sent, as the console shows it: each message's role, text, tool
    calls and tool-call id, with secrets and phone-like numbers masked, each text cut at
    :data:`MAX_CONTEXT_MESSAGE_CHARS` and the whole at :data:`MAX_CONTEXT_CHARS`. With
    ``prompt_same_as``, the first message (the voice prompt) is not kept but refers to the
    ``model_context`` of that response id, which holds the same text."""
    kept: list[dict[str, Any]] = []
    budget = MAX_CONTEXT_CHARS
    clipped = False
    for n, message in enumerate(messages):
        if budget <= 0:
            clipped = True
            break
        if n == 0 and prompt_same_as is not None:
            kept.append({"role": "system", "content": "", "same_as": prompt_same_as})
            continue
        content = message.get("content")
        text, cut = _masked(
            content if isinstance(content, str) else "", min(budget, MAX_CONTEXT_MESSAGE_CHARS)
        )
        budget -= len(text)
        entry: dict[str, Any] = {"role": str(message.get("role", "")), "content": text}
        if cut:
            entry["cut"] = True
            clipped = True
        if message.get("tool_call_id"):
            entry["tool_call_id"] = str(message["tool_call_id"])[:100]
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            entry["tool_calls"] = [_call_part(call) for call in calls[:16]]
            budget -= sum(len(c["arguments"]) for c in entry["tool_calls"])
        kept.append(entry)
    return {"messages": kept, "total": len(messages), "clipped": clipped}


def _call_part(call: Any) -> dict[str, str]:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict):
        return {"name": "", "arguments": ""}
    arguments = function.get("arguments")
    text, _ = _masked(arguments if isinstance(arguments, str) else "", 2000)
    return {"name": str(function.get("name", ""))[:100], "arguments": text}


def _overhead_ms(deps: TurnDeps, out: Speaker, brain: str, stats: TurnStats) -> float | None:
    """The server's own share of the turn in ms (observed in the metrics), if known.

    From the request to the brain's first speakable chunk, less the time the brain waited
    on its model for the text that made that chunk: from handing the first request to the
    model to that text's arrival. A word is only speakable once it has ended, so that wait
    runs to the token that ends the first word, not to the first token.
    """
    chunk_at, text_at = out.brain_chunk_at, out.brain_text_at
    if chunk_at is None or text_at is None or out.filler_spoken or brain != deps.brain.name:
        return None
    waited = 0.0
    if stats.waits_on_model:
        if stats.model_request_at is None:
            return None
        waited = max(0.0, text_at - stats.model_request_at)
    overhead = max(0.0, chunk_at - out.started - waited)
    deps.metrics.turn_overhead.observe(overhead)
    return round(overhead * 1000, 2)
