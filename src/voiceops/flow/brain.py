"""``FlowBrain``: the embedded, offline brain, and the fallback when the LLM fails.

It implements :class:`~voiceops.core.events.Brain` by driving the sans-I/O
:class:`~voiceops.flow.dialogue.Dialogue`: it loads the call's
:class:`~voiceops.flow.state.FlowState` from ``ctx.state.flow``, asks the dialogue for the
turn's steps, runs each tool call through ``ctx.tools`` (yielding ``ToolStarted`` before and
``ToolFinished`` after, ids ``flow_{response_id}_{n}``), feeds outcomes back to the
dialogue's continuations, and streams the words as ``TextChunk`` values.

The state is written back to ``ctx.state.flow`` only when the turn finishes while still
current, so a superseded turn (the caller kept talking) leaves no half-applied slots behind.
Caller utterances the flow brain never saw (answered by the LLM before it failed, or with
the state lost) are replayed into the slots first, so a fallback continues the conversation
instead of restarting it.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from voiceops.agent.prompts import caller_name_from
from voiceops.core.caller import caller_number
from voiceops.core.events import AgentEvent, TextChunk, ToolFinished, ToolStarted, TurnContext
from voiceops.core.ports import ToolStatus
from voiceops.flow.dialogue import Dialogue
from voiceops.flow.state import FlowState
from voiceops.flow.steps import Call, Finish, Say, Step
from voiceops.flow.when import warm_up
from voiceops.logs import CallLogger

if TYPE_CHECKING:
    from voiceops.core.transcript import TranscriptEntry, Utterance

log = logging.getLogger("voiceops.flow")

MAX_REPLAYED_UTTERANCES = 8
"""At most this many unseen caller utterances are replayed into the slots."""
_SIDE_EFFECTS = frozenset(
    {"book_appointment", "reschedule_appointment", "cancel_appointment", "request_callback"}
)
_DONE = frozenset({ToolStatus.CONFIRMED, ToolStatus.CANCELLED, ToolStatus.RECORDED})


class FlowBrain:
    """The deterministic booking and FAQ brain (``name = "flow"``). Stateless itself: all
    per-call state lives in ``ctx.state.flow``, so one instance serves every call."""

    name = "flow"

    def __init__(self) -> None:
        # dateparser loads its language data on first use (a few hundred ms): pay it at
        # start-up, not on a caller's first turn.
        warm_up()

    async def stream(self, ctx: TurnContext) -> AsyncIterator[AgentEvent]:
        """Yield one turn's events; see the module docstring for the contract."""
        logger = CallLogger(log, ctx.call_id, ctx.response_id)
        state = FlowState.load(ctx.state.flow, logger)
        dialogue = Dialogue(
            ctx.profile,
            ctx.clock,
            state,
            caller_name=caller_name_from(ctx.call),
            caller_phone=_caller_phone(ctx),
            escalation=ctx.escalation if ctx.kind == "response" else None,
            logger=logger,
        )
        if ctx.fallback_reason is not None:
            logger.info("answering as fallback (%s)", ctx.fallback_reason)
        steps: deque[Step] = deque(_plan(ctx, state, dialogue))
        calls = 0
        spoken = False
        said: list[str] = []
        while steps:
            step = steps.popleft()
            if isinstance(step, Say):
                if step.text:
                    yield TextChunk(f" {step.text}" if spoken else step.text)
                    spoken = True
                    said.append(step.text)
            elif isinstance(step, Call):
                if not ctx.is_current():
                    return
                calls += 1
                call_id = f"flow_{ctx.response_id}_{calls}"
                arguments = json.dumps(step.arguments, separators=(",", ":"), ensure_ascii=False)
                yield ToolStarted(call_id, step.name, arguments)
                outcome = await ctx.tools.run(step.name, arguments)
                following = step.then(outcome)
                committed = outcome.result.committed()
                if committed is not None:
                    # It happened, whether or not the caller hears this turn out: the
                    # dialogue's state must say so even if a newer request supersedes it.
                    ctx.state.flow = state.dump()
                content = outcome.result.model_dump_json()
                yield ToolFinished(call_id, step.name, content, outcome.successful, committed)
                if not outcome.successful:
                    logger.info("tool %s did not succeed", step.name)
                steps.extendleft(reversed(following))
            elif isinstance(step, Finish):
                _commit(ctx, state, said)
                yield step.action
                return
        _commit(ctx, state, said)


def _commit(ctx: TurnContext, state: FlowState, said: list[str]) -> None:
    if ctx.is_current():
        if said:
            state.last_said = " ".join(said)
        ctx.state.flow = state.dump()


def _caller_phone(ctx: TurnContext) -> str | None:
    return caller_number(ctx.call) if ctx.call is not None else None


def _plan(ctx: TurnContext, state: FlowState, dialogue: Dialogue) -> list[Step]:
    """The dialogue's steps for this turn, after catching up on unseen utterances."""
    if ctx.kind == "reminder":
        return dialogue.remind()
    transcript: Sequence[Utterance] = ctx.transcript
    users = [i for i, u in enumerate(transcript) if u.role == "user"]
    if not users:
        return dialogue.greet(already_greeted=ctx.state.greeted or state.greeted)
    if state.user_turns > len(users):
        # The transcript is shorter than what we have seen: not the call we remember.
        state.user_turns = len(users) - 1
    seen, state.user_turns = state.user_turns, len(users)
    if seen == len(users):
        return dialogue.nudge()
    newest = users[-1]
    replay = range(max(seen, len(users) - 1 - MAX_REPLAYED_UTTERANCES), len(users) - 1)
    settled = _settled_after(ctx.transcript_with_tool_calls) if replay else frozenset()
    for position in replay:
        index = users[position]
        dialogue.absorb(transcript[index].content, _agent_line_before(transcript, index))
        if position in settled:
            dialogue.settle()
    said = _agent_line_before(transcript, newest)
    if said is not None and replay:
        # Another brain asked the last question: read the reply as an answer to it.
        state.awaiting = Dialogue.infer_awaiting(said)
    return dialogue.respond(transcript[newest].content, said)


def _settled_after(woven: Sequence[TranscriptEntry] | None) -> frozenset[int]:
    """Caller utterances (numbered among the caller's lines) after which another brain
    completed a side effect: a booking, move, cancellation or callback request that the
    replay must not offer to make again. Read from the woven transcript's tool results."""
    if not woven:
        return frozenset()
    done: set[int] = set()
    user_lines = -1
    invoked: dict[str, str] = {}
    for entry in woven:
        if entry.role == "user":
            user_lines += 1
        elif entry.role == "tool_call_invocation" and entry.tool_call_id and entry.name:
            invoked[entry.tool_call_id] = entry.name
        elif entry.role == "tool_call_result" and entry.tool_call_id in invoked:
            if invoked[entry.tool_call_id] in _SIDE_EFFECTS and _status(entry.content) in _DONE:
                done.add(user_lines)
    return frozenset(done)


def _status(content: str | None) -> str | None:
    try:
        parsed = json.loads(content or "")
    except json.JSONDecodeError:
        return None
    status = parsed.get("status") if isinstance(parsed, dict) else None
    return status if isinstance(status, str) else None


def _agent_line_before(transcript: Sequence[Utterance], index: int) -> str | None:
    """The agent utterance just before ``transcript[index]``, if the previous line is one."""
    for utterance in reversed(transcript[:index]):
        if utterance.role == "agent":
            return utterance.content
        if utterance.role == "user":
            return None
    return None
