"""The load generator: plays Retell's side of the LLM WebSocket for N concurrent calls.

It runs in a process of its own (``python -m benchmarks.loadgen``) so that its event loop
neither competes with the parent's sampling nor hides inside the server's figures. Each
simulated call does what Retell does (``reference/retell-protocol.md`` sections 3-5): it
opens ``/llm-websocket/<call_id>``, answers the server's ``config`` with ``call_details``,
waits for the begin message, sends ``ping_pong`` every 2 s (when the config asked for
keepalives), and for each caller turn sends a burst of ``update_only`` frames (the
speech-recognition partials), then a ``response_required`` carrying the full transcript
(and ``transcript_with_tool_calls`` when the config asked for it), and an ``update_only``
with ``turntaking: agent_turn`` when the reply starts. Then the caller *listens*: Retell
speaks the reply at ``speech_s_per_word`` and sends ``update_only`` frames with the agent's
words as they are spoken; only after that, and a think time, does the caller speak again.
So a call makes a turn every ten seconds or so, as real calls do, and a level's load per
call is realistic rather than a flood of back-to-back requests.

Two kinds of turn are special. A *barge-in* waits for the reply's first speakable chunk,
then the caller speaks again and a newer ``response_required`` supersedes the running reply.
A *slow* turn carries ``#ft:<ms>`` so the fake LLM answers later than the filler deadline.
Every caller line carries ``#bench:c<call>r<response_id>``, the key by which the parent
joins these client-side times with the fake LLM's.

Stale frames. Retell drops ``response`` frames for an older ``response_id`` and frames after
``content_complete`` (protocol 4.3 rule 2). Frames for an older id that were already on the
wire when the server read the newer request are harmless: they are counted as ``in_flight``.
Once a frame the server sent *after* reading the newer request has arrived (a frame for the
new id, or the pong to a ping sent after the request; one socket keeps its frames in order),
a frame for an older id proves the server spoke for a superseded turn: a *stale* frame. A
ping sent right behind every superseding request makes that proof come early.

Callers are independent, as on a real phone line: each call's first turn comes a random
share of ``stagger_s`` after its greeting (about one turn cycle, a reply spoken at the given
rate plus think time), so at any moment the calls are at different points of their
conversations. The window opens only once every call is under way (``stagger_s`` after the
last call is ready), so it measures the steady state of N concurrent calls and not the ramp.
With a small ``stagger_s`` every caller speaks within the same moment, a thundering herd
that no population of independent callers produces; ``--stagger 1.5`` reproduces it.

Calls can also start as if they had been going on for a while: ``history_turns`` exchanges
are already in the transcript when a call connects, so every frame carries a long call's
transcript (Retell sends all of it, twice, in every ``update_only`` and every request).

The measurement window lasts ``duration_s``, and longer (up to ``max_window_s``) until
``min_turns`` turns were answered, so that few calls still give a usable sample. The
process prints ``WINDOW_START <t>`` and ``WINDOW_END <t>`` (``time.monotonic()``, one clock
for every process on Linux) so the parent samples the server over exactly that window, and
writes its raw samples as JSON to ``--out``. Every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

USER_LINES = (
    "Hi, I would like to book a haircut for later this week.",
    "Do you have anything on Thursday afternoon?",
    "What does a colour appointment cost at your place?",
    "Could I come in on Friday morning instead?",
    "Is there somewhere to park near the salon?",
    "My name is Jamie Rivera and I prefer the earliest slot.",
    "How long does a blow dry usually take?",
    "Can you tell me your opening hours on Saturday?",
)
HISTORY_AGENT_LINE = (
    "Sure, we have openings on Thursday at ten in the morning and on Friday at two in the "
    "afternoon. Which of those suits you better?"
)
"""The agent's side of the exchanges a call starts with (``history_turns``)."""
BARGE_LINES = (
    "Sorry, one more thing before that.",
    "Actually, wait, let me check my calendar.",
    "Oh, make that next week please.",
)
KEEPALIVE_MISSED_S = 5.0
"""Retell closes and re-dials when a keepalive reply is later than this (protocol 3.1)."""
PARTIAL_GAP_S = 0.12
"""Spacing of the speech-recognition partials sent as ``update_only`` before a request."""
BARGE_DELAY_S = (0.06, 0.16)
"""How long after the reply's first speakable chunk the caller barges in."""
CONNECT_TIMEOUT_S = 10.0
BEGIN_TIMEOUT_S = 10.0
READY_SLACK_S = 20.0
LAG_TICK_S = 0.05

_SPEAKABLE = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """One level of load. Shares are fractions of turns; times are seconds."""

    url: str
    """The server's socket base, e.g. ``ws://127.0.0.1:8080/llm-websocket``."""
    calls: int
    duration_s: float
    ramp_s: float
    stagger_s: float = 10.0
    """Each call's first turn comes after a random share of this (see the module docstring)."""
    think_min_s: float = 0.5
    think_max_s: float = 1.5
    speech_s_per_word: float = 0.3
    """How long Retell takes to speak one word of the reply (about 200 words a minute)."""
    min_turns: int = 12
    max_window_s: float = 0.0
    """Longest window while waiting for ``min_turns``; 0 means four times the duration."""
    barge_in_share: float = 0.2
    slow_share: float = 0.15
    slow_first_token_ms: int = 1000
    max_slow_per_call: int = 3
    """Below the server's filler cap per call, so every slow turn may get its filler."""
    ping_interval_s: float = 2.0
    reply_timeout_s: float = 15.0
    history_turns: int = 0
    """Exchanges (an agent line and a caller line) already in each call's transcript."""
    call_prefix: str = "bench"
    seed: int = 1

    def __post_init__(self) -> None:
        if self.calls < 1 or self.duration_s <= 0 or self.ramp_s < 0 or self.stagger_s < 0:
            raise ValueError("calls must be >= 1, duration > 0, ramp and stagger >= 0")
        if self.slow_share < 0 or self.barge_in_share < 0:
            raise ValueError("shares must not be negative")
        if self.slow_share + self.barge_in_share > 1:
            raise ValueError("slow and barge-in shares add up to more than 1")
        if not 0 < self.think_min_s <= self.think_max_s:
            raise ValueError("think time must satisfy 0 < min <= max")
        if min(self.speech_s_per_word, self.min_turns, self.max_window_s, self.history_turns) < 0:
            raise ValueError(
                "speech rate, minimum turns, window cap and history must not be negative"
            )
        if not self.url.startswith(("ws://127.0.0.1:", "ws://localhost:")):
            raise ValueError("the load generator only talks to 127.0.0.1")

    def call_id(self, index: int) -> str:
        return f"{self.call_prefix}-c{index:04d}"

    @property
    def window_cap_s(self) -> float:
        return max(self.duration_s, self.max_window_s or 4 * self.duration_s)


@dataclass(slots=True)
class Reply:
    """What arrived for one ``response_id``. Times are ``time.monotonic()`` seconds."""

    response_id: int
    tag: str
    kind: str
    """``begin``, ``normal``, ``slow``, ``barge`` (the reply that gets interrupted) or
    ``followup`` (the request that interrupts it)."""
    sent_at: float
    first_at: float | None = None
    """The first speakable chunk."""
    complete_at: float | None = None
    barrier_at: float | None = None
    """The first frame proving the server had read this request."""
    superseded_at: float | None = None
    timed_out: bool = False
    parts: list[str] = field(default_factory=list)
    first: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    def row(self, call_id: str) -> dict[str, Any]:
        return {
            "call_id": call_id,
            "response_id": self.response_id,
            "tag": self.tag,
            "kind": self.kind,
            "sent_at": self.sent_at,
            "first_at": self.first_at,
            "complete_at": self.complete_at,
            "superseded_at": self.superseded_at,
            "barrier_at": self.barrier_at,
            "timed_out": self.timed_out,
            "got_frames": self.barrier_at is not None,
        }


@dataclass(slots=True)
class Window:
    """The measurement window, shared by every call of the process."""

    start: float = 0.0
    end: float = 0.0
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    min_turns: int = 0
    answered: int = 0
    enough: asyncio.Event = field(default_factory=asyncio.Event)

    def count_answer(self, reply: Reply) -> None:
        """A reply completed; the window may close once ``min_turns`` have."""
        if self.opened.is_set() and reply.complete_at is not None and reply.sent_at >= self.start:
            self.answered += 1
            if self.answered >= self.min_turns:
                self.enough.set()

    async def sleep(self, delay_s: float) -> None:
        """Sleep ``delay_s``, or less if the window closes meanwhile."""
        if delay_s > 0 and not self.closed.is_set():
            try:
                async with asyncio.timeout(delay_s):
                    await self.closed.wait()
            except TimeoutError:
                pass


@dataclass(slots=True)
class _Ping:
    sent_at: float
    probe: bool


class CallPlayer:
    """One simulated call, from connect to hang-up."""

    def __init__(self, index: int, spec: LoadSpec, rng: random.Random) -> None:
        self.index = index
        self.spec = spec
        self.call_id = spec.call_id(index)
        self.rng = rng
        self.ws: ClientConnection | None = None
        self.ready = asyncio.Event()
        self.transcript: list[str] = []
        """The call's transcript lines, each already encoded as compact JSON (see _frame)."""
        self.woven = False
        self.latest_id = 0
        self.begin = Reply(0, "", "begin", time.monotonic())
        self.replies: dict[int, Reply] = {0: self.begin}
        self.turns: list[Reply] = []
        self.audio_s = 0.0
        self.turn_no = 0
        for turn in range(spec.history_turns):
            self.transcript.append(self._utterance("agent", HISTORY_AGENT_LINE))
            self.transcript.append(self._utterance("user", USER_LINES[turn % len(USER_LINES)]))
        # keepalives
        self.pending_pings: dict[int, _Ping] = {}
        self.pings_settled = asyncio.Event()
        self.ping_samples: list[tuple[float, float | None]] = []
        self.probes = 0
        self.unexpected_pongs = 0
        self.last_ping_ts = 0
        self.last_ping_at = 0.0
        self._pinger: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        # frame accounting
        self.frames = 0
        self.stale = 0
        self.in_flight = 0
        self.bad = 0
        self.other: Counter[str] = Counter()
        # outcome
        self.connect_error: str | None = None
        self.begin_timeout = False
        self.closed = False
        self.closed_by_us = False
        self.close_code: int | None = None

    # --- the call -------------------------------------------------------------------------

    async def run(self, window: Window, delay_s: float) -> None:
        try:
            await asyncio.sleep(delay_s)
            if not await self._connect():
                return
            try:
                async with asyncio.timeout(BEGIN_TIMEOUT_S):
                    await self.begin.done.wait()
            except TimeoutError:
                self.begin_timeout = True
            self._agent_said(self.begin)
            self.ready.set()
            if not self.closed:
                await self._converse(window)
        finally:
            self.ready.set()
            await self._hang_up()

    async def _connect(self) -> bool:
        try:
            self.ws = await connect(
                f"{self.spec.url}/{self.call_id}",
                open_timeout=CONNECT_TIMEOUT_S,
                close_timeout=2,
                ping_interval=None,  # Retell keeps the socket alive with ping_pong frames
                compression=None,
                max_size=2**22,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            self.connect_error = f"{type(exc).__name__}: {exc}"[:200]
            return False
        self.begin.sent_at = time.monotonic()
        self._reader = asyncio.create_task(self._read(), name=f"read-{self.call_id}")
        return True

    async def _converse(self, window: Window) -> None:
        spec, rng = self.spec, self.rng
        # Independent callers are at different points of their calls (module docstring).
        await window.sleep(rng.uniform(0, max(spec.stagger_s, spec.think_max_s)))
        slow_left = spec.max_slow_per_call
        while not self.closed and not window.closed.is_set():
            roll = rng.random()
            if roll < spec.slow_share:
                kind = "slow" if slow_left > 0 else "normal"
                slow_left -= kind == "slow"
            elif roll < spec.slow_share + spec.barge_in_share:
                kind = "barge"
            else:
                kind = "normal"
            await self._turn(kind, window)
            await window.sleep(rng.uniform(spec.think_min_s, spec.think_max_s))

    async def _turn(self, kind: str, window: Window) -> None:
        line = USER_LINES[(self.index + self.turn_no) % len(USER_LINES)]
        self.turn_no += 1
        await self._speak_partials(line, 2)
        reply = await self._request(line, kind)
        if kind == "barge" and await self._wait(reply, reply.first):
            await asyncio.sleep(self.rng.uniform(*BARGE_DELAY_S))
            if reply.complete_at is None and not self.closed:
                # The caller talks over the reply: Retell keeps what was said so far.
                self._agent_said(reply)
                interruption = BARGE_LINES[self.turn_no % len(BARGE_LINES)]
                await self._speak_partials(interruption, 1, gap_s=0.0)
                reply = await self._request(interruption, "followup", superseding=reply)
                await self._ping(probe=True)
        if await self._wait(reply, reply.first):
            await self._update("agent_turn")
        await self._wait(reply, reply.done)
        window.count_answer(reply)
        await self._listen(reply, window)
        self._agent_said(reply)

    async def _listen(self, reply: Reply, window: Window) -> None:
        """The reply is being spoken: Retell reports the words said so far every ~1.5 s."""
        words = reply.text.split()
        per_word = self.spec.speech_s_per_word
        if not words or per_word <= 0:
            return
        step = max(1, round(1.5 / per_word))
        for said in range(step, len(words), step):
            await window.sleep(step * per_word)
            if self.closed or window.closed.is_set():
                return
            line = self._utterance("agent", " ".join(words[:said]), advance=False)
            await self._send(self._frame('"interaction_type":"update_only"', line))
        await window.sleep((len(words) % step or step) * per_word)

    async def _hang_up(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            await asyncio.gather(self._pinger, return_exceptions=True)
        if self.ws is None:
            return
        if self.pending_pings and not self.closed:
            # Give the last keepalives their full allowance before judging them missed.
            remaining = self.last_ping_at + KEEPALIVE_MISSED_S - time.monotonic()
            if remaining > 0:
                try:
                    async with asyncio.timeout(remaining):
                        await self.pings_settled.wait()
                except TimeoutError:
                    pass
        if not self.closed:
            self.closed_by_us = True
            await self.ws.close()
        if self._reader is not None:
            try:
                async with asyncio.timeout(5):
                    await self._reader
            except TimeoutError:
                self._reader.cancel()
                await asyncio.gather(self._reader, return_exceptions=True)
        now = time.monotonic()
        for ping in self.pending_pings.values():
            if not ping.probe:
                overdue = now - ping.sent_at >= KEEPALIVE_MISSED_S
                self.ping_samples.append((ping.sent_at, None if overdue else -1.0))
        self.pending_pings.clear()

    # --- sending --------------------------------------------------------------------------

    async def _send(self, frame: str) -> None:
        if self.ws is None or self.closed:
            return
        try:
            await self.ws.send(frame)
        except ConnectionClosed:
            self.closed = True

    def _utterance(self, role: str, text: str, *, advance: bool = True) -> str:
        """A transcript line with per-word timings, as Retell sends it, encoded once as
        compact JSON. Partials do not move the call's audio clock; the final line does."""
        at = self.audio_s
        words = []
        for word in text.split():
            words.append({"word": word, "start": round(at, 2), "end": round(at + 0.28, 2)})
            at += 0.32
        if advance:
            self.audio_s = at
        return _compact({"role": role, "content": text, "words": words})

    def _frame(self, head: str, extra: str | None = None) -> str:
        """A frame as Retell's serialiser writes it: compact JSON, ``interaction_type``
        first, the whole transcript (and its woven copy) every time. ``head`` is the
        frame's leading members; ``extra`` a line not yet final (a partial). Lines are
        encoded once when made, so a frame costs a join, not a re-encoding of the call
        (which made JSON encoding most of the generator's CPU at hundreds of calls)."""
        lines = self.transcript if extra is None else [*self.transcript, extra]
        body = ",".join(lines)
        frame = f'{{{head},"transcript":[{body}]'
        if self.woven:
            # No tool calls are reported in this load, so the woven form equals the plain one.
            frame += f',"transcript_with_tool_calls":[{body}]'
        return frame + "}"

    async def _speak_partials(self, line: str, partials: int, gap_s: float = PARTIAL_GAP_S) -> None:
        words = line.split()
        for step in range(1, partials + 1):
            if self.closed:
                return
            cut = max(1, len(words) * step // (partials + 1))
            said = self._utterance("user", " ".join(words[:cut]), advance=False)
            head = '"interaction_type":"update_only"'
            if step == 1:
                head += ',"turntaking":"user_turn"'
            await self._send(self._frame(head, said))
            if gap_s:
                await asyncio.sleep(gap_s)

    async def _update(self, turntaking: str) -> None:
        await self._send(
            self._frame(f'"interaction_type":"update_only","turntaking":{_compact(turntaking)}')
        )

    async def _request(self, line: str, kind: str, superseding: Reply | None = None) -> Reply:
        rid = self.latest_id + 1
        tag = f"c{self.index}r{rid}"
        content = f"{line} #bench:{tag}"
        if kind == "slow":
            content += f" #ft:{self.spec.slow_first_token_ms}"
        self.transcript.append(self._utterance("user", content))
        payload = self._frame(f'"interaction_type":"response_required","response_id":{rid}')
        reply = Reply(rid, tag, kind, time.monotonic())
        self.replies[rid] = reply
        self.turns.append(reply)
        self.latest_id = rid
        if superseding is not None:
            superseding.superseded_at = reply.sent_at
        if self.ws is not None and not self.closed:
            try:
                await self.ws.send(payload)
            except ConnectionClosed:
                self.closed = True
        return reply

    async def _ping(self, *, probe: bool = False) -> None:
        # Unique per call even when two pings fall in the same millisecond.
        ts = max(int(time.time() * 1000), self.last_ping_ts + 1)
        self.last_ping_ts = ts
        now = time.monotonic()
        self.pending_pings[ts] = _Ping(now, probe)
        self.pings_settled.clear()
        if probe:
            self.probes += 1
        else:
            self.last_ping_at = now
        await self._send(f'{{"interaction_type":"ping_pong","timestamp":{ts}}}')

    async def _keepalive(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.spec.ping_interval_s))
        while not self.closed:
            await self._ping()
            await asyncio.sleep(self.spec.ping_interval_s)

    async def _wait(self, reply: Reply, event: asyncio.Event) -> bool:
        """Wait for ``event`` until the reply's deadline; False on timeout or hang-up."""
        remaining = reply.sent_at + self.spec.reply_timeout_s - time.monotonic()
        if not event.is_set() and remaining > 0:
            try:
                async with asyncio.timeout(remaining):
                    await event.wait()
            except TimeoutError:
                pass
        if not event.is_set():
            reply.timed_out = not self.closed
            return False
        return not self.closed

    def _agent_said(self, reply: Reply) -> None:
        text = reply.text
        if text:
            self.transcript.append(self._utterance("agent", text))

    # --- receiving ------------------------------------------------------------------------

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                await self._on_frame(raw)
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            self.close_code = self.ws.close_code
            for reply in self.replies.values():
                reply.first.set()
                reply.done.set()
            self.pings_settled.set()

    async def _on_frame(self, raw: str | bytes) -> None:
        now = time.monotonic()
        self.frames += 1
        if isinstance(raw, bytes):
            self.bad += 1
            return
        try:
            frame = json.loads(raw)
        except ValueError:
            self.bad += 1
            return
        if not isinstance(frame, dict):
            self.bad += 1
            return
        kind = frame.get("response_type")
        if kind == "response":
            self._on_response(frame, now)
        elif kind == "ping_pong":
            self._on_pong(frame, now)
        elif kind == "config":
            config = frame.get("config")
            config = config if isinstance(config, dict) else {}
            self.woven = config.get("transcript_with_tool_calls") is True
            if config.get("auto_reconnect") is True and self._pinger is None:
                self._pinger = asyncio.create_task(self._keepalive(), name=f"ping-{self.call_id}")
            if config.get("call_details") is True:
                await self._send(
                    _compact({"interaction_type": "call_details", "call": self._call_object()})
                )
        else:
            self.other[str(kind)] += 1

    def _on_response(self, frame: dict[str, Any], now: float) -> None:
        rid = frame.get("response_id")
        reply = self.replies.get(rid) if isinstance(rid, int) else None
        if reply is None or reply.complete_at is not None:
            # Never requested, or after content_complete: Retell drops it (4.3 rule 2).
            self.stale += 1
            return
        if reply.response_id != self.latest_id:
            if self.replies[self.latest_id].barrier_at is not None:
                self.stale += 1
            else:
                self.in_flight += 1
            return
        if reply.barrier_at is None:
            reply.barrier_at = now
        content = frame.get("content")
        if isinstance(content, str) and content:
            reply.parts.append(content)
            if reply.first_at is None and _SPEAKABLE.search(content):
                reply.first_at = now
                reply.first.set()
        if frame.get("content_complete") is True:
            reply.complete_at = now
            reply.first.set()
            reply.done.set()

    def _on_pong(self, frame: dict[str, Any], now: float) -> None:
        ts = frame.get("timestamp")
        ping = self.pending_pings.pop(ts, None) if isinstance(ts, int) else None
        if ping is None:
            self.unexpected_pongs += 1
            return
        if not ping.probe:
            self.ping_samples.append((ping.sent_at, now - ping.sent_at))
        latest = self.replies[self.latest_id]
        if latest.barrier_at is None and ping.sent_at >= latest.sent_at:
            latest.barrier_at = now
        if not self.pending_pings:
            self.pings_settled.set()

    def _call_object(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "agent_id": "agent_bench",
            "agent_version": 1,
            "call_type": "phone_call",
            "call_status": "registered",
            "direction": "inbound",
            "from_number": f"+1212555{self.index % 10000:04d}",
            "to_number": "+12125550142",
            "metadata": {},
            "retell_llm_dynamic_variables": {},
        }


def _compact(value: Any) -> str:
    """JSON as Retell's Node.js serialiser writes it: no spaces, non-ASCII as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class LagMonitor:
    """How late this process's event loop wakes up: a loaded generator inflates every
    latency it measures, so its own lag is reported beside them."""

    def __init__(self) -> None:
        self.samples_ms: list[float] = []
        self.recording = False

    async def run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(LAG_TICK_S)
            if self.recording:
                self.samples_ms.append((time.monotonic() - before - LAG_TICK_S) * 1000)


async def run_load(spec: LoadSpec, announce: Callable[[str], None]) -> dict[str, Any]:
    """Play ``spec`` against the server; returns the raw samples (JSON-ready)."""
    window = Window(min_turns=spec.min_turns)
    if spec.min_turns <= 0:
        window.enough.set()
    players = [
        CallPlayer(i, spec, random.Random(spec.seed * 1_000_003 + i)) for i in range(spec.calls)
    ]
    step = spec.ramp_s / spec.calls
    tasks = [
        asyncio.create_task(p.run(window, i * step), name=p.call_id) for i, p in enumerate(players)
    ]
    lag = LagMonitor()
    lag_task = asyncio.create_task(lag.run(), name="lag-monitor")
    try:
        try:
            async with asyncio.timeout(spec.ramp_s + BEGIN_TIMEOUT_S + READY_SLACK_S):
                await asyncio.gather(*(p.ready.wait() for p in players))
        except TimeoutError:
            pass  # the calls that are not ready count as connect failures below
        # Every call has begun to talk by now: the steady state of N concurrent calls.
        await asyncio.sleep(spec.stagger_s)
        window.start = time.monotonic()
        lag.recording = True
        window.opened.set()
        announce(f"WINDOW_START {window.start:.6f}")
        # With no call up there is nothing to measure: close the window at once.
        if any(p.ws is not None for p in players):
            await asyncio.sleep(spec.duration_s)
            try:
                async with asyncio.timeout(spec.window_cap_s - spec.duration_s):
                    await window.enough.wait()
            except TimeoutError:
                pass  # report what there is; the sample count is in the figures
        window.end = time.monotonic()
        window.closed.set()
        lag.recording = False
        announce(f"WINDOW_END {window.end:.6f}")
        grace = spec.reply_timeout_s + KEEPALIVE_MISSED_S + 10
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    finally:
        lag_task.cancel()
        await asyncio.gather(lag_task, return_exceptions=True)
    errors = [
        f"{t.get_name()}: {type(exc).__name__}: {exc}"[:300]
        for t in tasks
        if not t.cancelled() and (exc := t.exception()) is not None
    ]
    return _result(spec, window, players, lag.samples_ms, errors)


def _result(
    spec: LoadSpec,
    window: Window,
    players: Sequence[CallPlayer],
    lag_ms: list[float],
    errors: list[str],
) -> dict[str, Any]:
    in_window = [
        (latency, sent)
        for p in players
        for sent, latency in p.ping_samples
        if window.start <= sent <= window.end
    ]
    close_codes: Counter[str] = Counter(
        str(p.close_code) for p in players if p.ws is not None and not p.closed_by_us
    )
    other: Counter[str] = Counter()
    for p in players:
        other.update(p.other)
    return {
        "spec": asdict(spec),
        "window": {"start": window.start, "end": window.end},
        "calls": {
            "requested": spec.calls,
            "connected": sum(p.ws is not None for p in players),
            "connect_errors": [p.connect_error for p in players if p.connect_error][:10],
            "connect_failures": sum(p.connect_error is not None for p in players),
            "begin_timeouts": sum(p.begin_timeout for p in players),
            "dropped": sum(p.ws is not None and not p.closed_by_us for p in players),
            "drop_close_codes": dict(close_codes),
        },
        "turns": [r.row(p.call_id) for p in players for r in p.turns],
        "begins": [
            {"call_id": p.call_id, "got_frames": p.begin.barrier_at is not None}
            for p in players
            if p.ws is not None
        ],
        "pings": {
            # Missed keepalives are None; a ping still pending when the socket went away
            # before its allowance ran out is -1 (unknown) and counts as neither.
            "latencies_ms": [
                latency * 1000 for latency, _ in in_window if latency is not None and latency >= 0
            ],
            "missed": sum(
                1 for latency, _ in in_window if latency is None or latency >= KEEPALIVE_MISSED_S
            ),
            "unknown": sum(1 for latency, _ in in_window if latency is not None and latency < 0),
            "probes": sum(p.probes for p in players),
            "unexpected_pongs": sum(p.unexpected_pongs for p in players),
        },
        "frames": {
            "received": sum(p.frames for p in players),
            "stale": sum(p.stale for p in players),
            "in_flight": sum(p.in_flight for p in players),
            "bad": sum(p.bad for p in players),
            "other": dict(other),
        },
        "loop_lag_ms": lag_ms,
        "errors": errors,
    }


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.loadgen",
        description="Play Retell for N concurrent calls against a running voiceops server.",
    )
    parser.add_argument("--url", required=True, help="ws://127.0.0.1:<port>/llm-websocket")
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True, help="window length, seconds")
    parser.add_argument("--ramp", type=float, default=1.0, help="seconds to open all calls")
    parser.add_argument(
        "--stagger", type=float, default=10.0, help="first turns spread over this, seconds"
    )
    parser.add_argument("--think-min", type=float, default=0.5)
    parser.add_argument("--think-max", type=float, default=1.5)
    parser.add_argument("--speech-ms-per-word", type=float, default=300.0)
    parser.add_argument("--min-turns", type=int, default=12)
    parser.add_argument("--max-window", type=float, default=0.0, help="0: 4 x duration")
    parser.add_argument("--barge-in-share", type=float, default=0.2)
    parser.add_argument("--slow-share", type=float, default=0.15)
    parser.add_argument("--slow-first-token-ms", type=int, default=1000)
    parser.add_argument("--max-slow-per-call", type=int, default=3)
    parser.add_argument(
        "--history-turns", type=int, default=0, help="exchanges already in each transcript"
    )
    parser.add_argument(
        "--call-prefix",
        default=None,
        help="call ids are <prefix>-c<n>; default: unique per run, so no call resumes",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON")
    return parser.parse_args(argv)


def _announce(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse_args(argv)
    spec = LoadSpec(
        url=args.url.rstrip("/"),
        calls=args.calls,
        duration_s=args.duration,
        ramp_s=args.ramp,
        stagger_s=args.stagger,
        think_min_s=args.think_min,
        think_max_s=args.think_max,
        speech_s_per_word=args.speech_ms_per_word / 1000,
        min_turns=args.min_turns,
        max_window_s=args.max_window,
        barge_in_share=args.barge_in_share,
        slow_share=args.slow_share,
        slow_first_token_ms=args.slow_first_token_ms,
        max_slow_per_call=args.max_slow_per_call,
        history_turns=args.history_turns,
        call_prefix=args.call_prefix or f"bench{int(time.time())}x{os.getpid()}",
        seed=args.seed,
    )
    try:
        import uvloop
    except ImportError:  # the plain loop works, it only costs more per frame
        loop_factory = None
    else:
        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(run_load(spec, _announce))
    args.out.write_text(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
