"""Playing one scenario's call: Retell's side of the socket, frame for frame.

:func:`play` drives a :class:`~voiceops.evals.peer.RetellPeer` through the scenario's turns
the way Retell would (``reference/retell-protocol.md`` sections 3 and 5): it opens the
call's socket, answers ``config`` with ``call_details``, keeps the woven transcript, sends an
``update_only`` when the floor changes and a ``response_required`` (or, for silence,
``reminder_required``) per caller turn, sends keepalives every two seconds, lets a barge-in
supersede a reply with a newer request, and cuts an interrupted reply short in the
transcript. It records what the agent did in each turn and checks nothing itself: the
checks (``checks.py``) read the :class:`CallRecord` afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from voiceops.core.clock import utc_now_ms
from voiceops.evals.loading import LoadedScenario
from voiceops.evals.peer import Reply, RetellPeer
from voiceops.evals.scenario import FakeStep, Turn

KEEPALIVE_S = 2.0
"""Retell sends ``ping_pong`` about every two seconds (protocol 3.1)."""
LAST_PONG_WAIT_S = 2.0
_PONG_POLL_S = 0.01

TurnKind = Literal["greeting", "caller", "silence"]
_PUNCT = re.compile(r"[^\w\s]")


@dataclass(frozen=True, slots=True)
class ToolSeen:
    """A tool call woven into the reply (``tool_call_invocation`` and its result)."""

    name: str
    arguments: dict[str, Any] | str
    """Parsed JSON arguments, or the raw string when they are not a JSON object."""
    result: str | None = None
    successful: bool | None = None


@dataclass(slots=True)
class TurnRecord:
    """What happened in one turn (the greeting is turn 0)."""

    index: int
    kind: TurnKind
    caller: str | None = None
    barge_in: str | None = None
    response_id: int = 0
    superseded_id: int | None = None
    """The request a barge-in superseded."""
    text: str = ""
    """Everything the agent sent for the answered request."""
    heard: str = ""
    """What stayed in the transcript (less than ``text`` when the reply was cut short)."""
    previous_agent: str | None = None
    """The agent's line the caller was answering."""
    first_frame_ms: float | None = None
    complete_ms: float | None = None
    tools: list[ToolSeen] = field(default_factory=list)
    transfer_number: str | None = None
    end_call: bool = False
    no_interruption_allowed: bool = False
    filler: str | None = None
    """The holding line the reply opened with, if it did."""
    complete: bool = False
    timed_out: bool = False
    note: str | None = None

    @property
    def label(self) -> str:
        return "greeting" if self.index == 0 else f"turn {self.index}"


@dataclass(slots=True)
class CallRecord:
    call_id: str
    turns: list[TurnRecord] = field(default_factory=list)
    scripted_turns: int = 0
    ended_at: int | None = None
    """The turn whose reply transferred or hung up."""
    stale_frames: int = 0
    """Response frames for an id that was already complete or older than the newest
    request, except those racing a barge-in (sent before the server saw the new request)."""
    raced_frames: int = 0
    bad_frames: list[str] = field(default_factory=list)
    pings: list[int] = field(default_factory=list)
    unanswered_pings: list[int] = field(default_factory=list)
    error: str | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)

    @property
    def played(self) -> int:
        return sum(1 for t in self.turns if t.index > 0)


class FakeScript:
    """What the runner tells the fake model to say next (``--brain llm`` without a key)."""

    def __init__(self, load: Callable[[Sequence[FakeStep]], None]) -> None:
        self._load = load

    def next_turn(self, steps: Sequence[FakeStep] | None) -> None:
        self._load(list(steps or ()))


def _normal(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def _arguments(raw: str) -> dict[str, Any] | str:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    return value if isinstance(value, dict) else raw


def _record_reply(turn: TurnRecord, reply: Reply, fillers: Sequence[str]) -> None:
    turn.response_id = reply.response_id
    turn.text = reply.text
    turn.heard = reply.text
    first = reply.first_chunk_s
    turn.first_frame_ms = None if first is None else round(first * 1000, 2)
    if reply.completed_at is not None:
        turn.complete_ms = round((reply.completed_at - reply.requested_at) * 1000, 2)
    results = {r.tool_call_id: r for r in reply.tool_results}
    for call in reply.tool_calls:
        result = results.get(call.tool_call_id)
        turn.tools.append(
            ToolSeen(
                name=call.name,
                arguments=_arguments(call.arguments),
                result=result.content if result is not None else None,
                successful=result.successful if result is not None else None,
            )
        )
    turn.transfer_number = reply.transfer_number
    turn.end_call = reply.end_call
    turn.no_interruption_allowed = reply.no_interruption_allowed
    turn.complete = reply.complete
    spoken = [c for c in reply.chunks if c.strip()]
    if spoken and len(spoken) > 1:
        opening = _normal(spoken[0])
        if any(opening == _normal(line) for line in fillers):
            turn.filler = spoken[0].strip()


async def _keepalive(peer: RetellPeer, record: CallRecord) -> None:
    while True:
        await asyncio.sleep(KEEPALIVE_S)
        if peer.closed.is_set():
            return
        # Timestamps key the answers: keep them distinct even within one millisecond.
        record.pings.append(await peer.ping(utc_now_ms(peer.clock) + len(record.pings)))


def _last_agent_line(transcript: Sequence[dict[str, Any]]) -> str | None:
    for entry in reversed(transcript):
        if entry.get("role") == "user":
            return None
        if entry.get("role") == "agent":
            return str(entry.get("content", ""))
    return None


async def play(
    loaded: LoadedScenario,
    ws_base: str,
    *,
    turn_timeout_s: float = 10.0,
    fake: FakeScript | None = None,
    call_id: str | None = None,
) -> CallRecord:
    """Play ``loaded``'s call against the server at ``ws_base`` and record it."""
    scenario = loaded.scenario
    call_id = call_id or f"eval_{loaded.slug}_{uuid.uuid4().hex[:8]}"
    record = CallRecord(call_id=call_id, scripted_turns=len(scenario.turns))
    fillers = loaded.profile.fillers
    peer = RetellPeer(f"{ws_base.rstrip('/')}/{call_id}", call=scenario.call.call_object(call_id))
    superseded: set[int] = set()
    try:
        await peer.connect()
    except (OSError, TimeoutError) as exc:
        record.error = f"cannot open the call's socket: {exc}"
        return record
    pinger = asyncio.create_task(_keepalive(peer, record), name=f"keepalive-{call_id}")
    try:
        greeting = TurnRecord(index=0, kind="greeting")
        record.turns.append(greeting)
        try:
            begin = await peer.wait_begin(turn_timeout_s)
        except TimeoutError:
            greeting.timed_out = True
            record.error = "no begin message"
            return record
        _record_reply(greeting, begin, fillers)
        record.pings.append(await peer.ping())
        for index, turn in enumerate(scenario.turns, start=1):
            if record.ended_at is not None or peer.closed.is_set():
                break
            done = await _play_turn(
                peer, record, index, turn, fake, turn_timeout_s, superseded, fillers
            )
            if not done:
                break
        if not peer.closed.is_set():
            record.pings.append(await peer.ping())
            await _wait_pongs(peer, record)
    except (OSError, ConnectionError) as exc:
        record.error = f"the socket failed: {exc}"
    finally:
        pinger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pinger
        await peer.close()
        record.transcript = list(peer.transcript)
        record.bad_frames = list(peer.bad)
        for frame in peer.stale:
            if frame.response_id in superseded:
                record.raced_frames += 1
            else:
                record.stale_frames += 1
        record.unanswered_pings = [ts for ts in record.pings if ts not in peer.pongs]
    return record


async def _play_turn(
    peer: RetellPeer,
    record: CallRecord,
    index: int,
    turn: Turn,
    fake: FakeScript | None,
    timeout_s: float,
    superseded: set[int],
    fillers: Sequence[str],
) -> bool:
    """One caller turn; False when the call cannot go on (no answer)."""
    if turn.pause_ms:
        await asyncio.sleep(turn.pause_ms / 1000)
    if fake is not None:
        fake.next_turn(turn.fake_steps)
    entry = TurnRecord(
        index=index,
        kind="silence" if turn.silence else "caller",
        caller=turn.caller,
        previous_agent=_last_agent_line(peer.transcript),
        note=turn.note,
    )
    record.turns.append(entry)
    rid = await (peer.silence() if turn.silence else peer.user_says(turn.said))
    if turn.barge_in is not None:
        await asyncio.sleep(turn.barge_in.after_ms / 1000)
        first = peer.replies[rid]
        if first.complete and turn.barge_in.spoken_words:
            peer.agent_said(" ".join(first.text.split()[: turn.barge_in.spoken_words]))
        entry.superseded_id = rid
        entry.barge_in = turn.barge_in.caller
        superseded.add(rid)
        rid = await peer.user_says(turn.barge_in.caller)
    try:
        reply = await peer.wait(rid, timeout_s)
    except TimeoutError:
        entry.timed_out = True
        entry.response_id = rid
        return False
    _record_reply(entry, reply, fillers)
    if turn.cut_short is not None:
        entry.heard = peer.cut_last_agent(turn.cut_short)
    if reply.end_call or reply.transfer_number:
        record.ended_at = index
        return True
    if not peer.closed.is_set():
        await peer.send_update("user_turn")
    return True


async def _wait_pongs(peer: RetellPeer, record: CallRecord) -> None:
    # The peer keeps pongs in a dict and signals none: look a few times, briefly.
    for _ in range(int(LAST_PONG_WAIT_S / _PONG_POLL_S)):
        if all(ts in peer.pongs for ts in record.pings) or peer.closed.is_set():
            return
        await asyncio.sleep(_PONG_POLL_S)
