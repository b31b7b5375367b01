"""Test calls from the console: the operator plays the caller, the agent answers.

A test call runs through the same socket code as a call from Retell: the app's
:class:`~voiceops.web.ws.RetellEndpoint` for the chosen version reads the frames, and
:class:`RetellSide` plays Retell's side of the protocol frame for frame, as the evaluation
suite's peer does (``call_details`` after ``config``, the growing transcript,
``update_only`` then ``response_required`` with one counter, ``reminder_required`` for
silence, a reply's content accepted only for the newest request and until it is
complete). The socket is in process (an ASGI WebSocket whose client end is
:class:`RetellSide`), so a test call needs no address of its own and does not pass Retell's
secret or allowlist; everything after the socket (turns, tools, bookings, call events, the
call record) is what a real call does.

:class:`TestCalls` keeps at most one test call per console session and a bounded number
in all; a call idle for longer than its idle limit is hung up by :meth:`TestCalls.sweep`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Message
from starlette.websockets import WebSocket

from voiceops.core.clock import Clock
from voiceops.retell.messages import (
    ConfigOut,
    ResponseOut,
    ToolCallInvocationOut,
    parse_outbound,
)
from voiceops.web.ws import RetellEndpoint

log = logging.getLogger("voiceops.console")

MAX_TEST_CALLS = 16
IDLE_S = 300.0
REPLY_TIMEOUT_S = 20.0
BEGIN_TIMEOUT_S = 10.0
MAX_TURNS = 200


@dataclass(slots=True)
class Reply:
    """What the agent sent for one request."""

    requested_at: float
    chunks: list[str] = field(default_factory=list)
    first_at: float | None = None
    completed_at: float | None = None
    tools: list[str] = field(default_factory=list)
    end_call: bool = False
    transfer_number: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def text(self) -> str:
        return "".join(self.chunks).strip()


class RetellSide:
    """Retell's end of one in-process socket to ``endpoint`` (see the module doc)."""

    def __init__(self, endpoint: RetellEndpoint, call: dict[str, Any], clock: Clock) -> None:
        self.call_id = str(call["call_id"])
        self.call = call
        self.clock = clock
        self.transcript: list[dict[str, Any]] = []
        self.replies: dict[int, Reply] = {0: Reply(clock.monotonic())}
        self.latest_id = 0
        self.close_code: int | None = None
        self.closed = asyncio.Event()
        self._endpoint = endpoint
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._served: asyncio.Task[None] | None = None

    def _scope(self) -> dict[str, Any]:
        path = f"/llm-websocket/{self.call_id}"
        return {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"user-agent", b"voiceops-console-test-call")],
            "client": ("127.0.0.1", 0),
            "server": None,
            "subprotocols": [],
            "path_params": {"call_id": self.call_id},
        }

    async def connect(self) -> None:
        self._inbox.put_nowait({"type": "websocket.connect"})
        socket = WebSocket(self._scope(), self._inbox.get, self._on_message)
        self.replies[0].requested_at = self.clock.monotonic()
        self._served = asyncio.create_task(self._endpoint(socket), name=f"test-call-{self.call_id}")

    # --- what the endpoint sends ---------------------------------------------------------

    async def _on_message(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.send" and message.get("text") is not None:
            await self._on_frame(str(message["text"]))
        elif kind in ("websocket.close", "websocket.http.response.start"):
            self._closed(int(message.get("code", 1000)) if kind == "websocket.close" else 1013)

    async def _on_frame(self, text: str) -> None:
        try:
            frame = parse_outbound(text)
        except ValueError:
            log.warning("a test call got a frame it cannot read", extra={"call_id": self.call_id})
            return
        now = self.clock.monotonic()
        if isinstance(frame, ConfigOut):
            if frame.config.call_details:
                await self._send({"interaction_type": "call_details", "call": self.call})
        elif isinstance(frame, ResponseOut):
            reply = self.replies.get(frame.response_id)
            if reply is None or reply.done.is_set() or frame.response_id != self.latest_id:
                return  # Retell drops these too (protocol 4.3 rule 2)
            reply.chunks.append(frame.content)
            if reply.first_at is None and frame.content.strip():
                reply.first_at = now
            reply.end_call = reply.end_call or bool(frame.end_call)
            reply.transfer_number = frame.transfer_number or reply.transfer_number
            if frame.content_complete:
                reply.completed_at = now
                reply.done.set()
        elif isinstance(frame, ToolCallInvocationOut):
            self.replies[self.latest_id].tools.append(frame.name)

    def _closed(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
        self.closed.set()
        for reply in self.replies.values():
            reply.done.set()

    # --- the caller ----------------------------------------------------------------------

    async def _send(self, frame: dict[str, Any]) -> None:
        if not self.closed.is_set():
            self._inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(frame)})

    async def say(self, text: str) -> int:
        """The caller says ``text`` (an ``update_only``, then the request), or stays
        silent when it is empty (a ``reminder_required``); returns the request's id."""
        if text:
            self.transcript.append({"role": "user", "content": text, "words": []})
            await self._send(
                {
                    "interaction_type": "update_only",
                    "transcript": self.transcript,
                    "turntaking": "user_turn",
                }
            )
        self.latest_id += 1
        self.replies[self.latest_id] = Reply(self.clock.monotonic())
        await self._send(
            {
                "interaction_type": "response_required" if text else "reminder_required",
                "response_id": self.latest_id,
                "transcript": self.transcript,
            }
        )
        return self.latest_id

    async def wait(self, response_id: int, timeout_s: float) -> Reply:
        """The complete reply to ``response_id``; its text joins the transcript."""
        reply = self.replies[response_id]
        await asyncio.wait_for(reply.done.wait(), timeout_s)
        if reply.text:
            self.transcript.append({"role": "agent", "content": reply.text, "words": []})
        return reply

    async def close(self, code: int = 1000) -> None:
        if not self.closed.is_set():
            self._inbox.put_nowait({"type": "websocket.disconnect", "code": code})
            self._closed(code)
        if self._served is not None:
            try:
                await asyncio.wait_for(self._served, 5.0)
            except TimeoutError:
                log.warning("a test call's socket did not close in time; cancelled it")
            except Exception:
                log.exception("a test call's socket failed")


@dataclass(slots=True)
class Turn:
    """One exchange as the console shows it."""

    caller: str | None
    """What the operator said as the caller; ``None`` for the greeting, ``""`` for silence."""
    agent: str
    first_ms: int | None
    done_ms: int | None
    tools: list[str] = field(default_factory=list)
    end_call: bool = False
    transfer: str | None = None


@dataclass(slots=True)
class TestCall:
    call_id: str
    version: int
    label: str
    side: RetellSide
    last_used: float
    turns: list[Turn] = field(default_factory=list)
    ended: str = ""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _turn(caller: str | None, reply: Reply) -> Turn:
    def ms(at: float | None) -> int | None:
        return None if at is None else round((at - reply.requested_at) * 1000)

    return Turn(
        caller=caller,
        agent=reply.text,
        first_ms=ms(reply.first_at),
        done_ms=ms(reply.completed_at),
        tools=list(reply.tools),
        end_call=reply.end_call,
        transfer=reply.transfer_number,
    )


def slot_of(csrf_token: str) -> str:
    """A console session's test-call slot, from its CSRF token (one per session, never
    shown to another); hashed, so the registry holds no token."""
    return hashlib.sha256(csrf_token.encode()).hexdigest()


class TooManyTestCalls(Exception):
    """Every test-call slot is taken."""


class TestCalls:
    """The open test calls, one per console session (see the module doc)."""

    __test__ = False  # not a test class, whatever its name

    def __init__(
        self, clock: Clock, *, limit: int = MAX_TEST_CALLS, idle_s: float = IDLE_S
    ) -> None:
        self._clock = clock
        self._limit = limit
        self._idle_s = idle_s
        self._calls: dict[str, TestCall] = {}

    def get(self, key: str) -> TestCall | None:
        return self._calls.get(key)

    def __len__(self) -> int:
        return len(self._calls)

    async def start(self, key: str, endpoint: RetellEndpoint, *, label: str, by: str) -> TestCall:
        """Hang up ``key``'s test call if any, and dial a new one to ``endpoint``."""
        await self.hang_up(key)
        await self.sweep()
        if len(self._calls) >= self._limit:
            for other, held in list(self._calls.items()):
                if held.ended:
                    del self._calls[other]  # its socket is closed already
        if len(self._calls) >= self._limit:
            raise TooManyTestCalls(f"{self._limit} test calls are open; try again in a minute")
        call_id = f"test_{secrets.token_hex(8)}"
        side = RetellSide(
            endpoint,
            {
                "call_id": call_id,
                "call_type": "web_call",
                "direction": "inbound",
                "metadata": {"voiceops_test_call": True, "by": by},
            },
            self._clock,
        )
        call = TestCall(call_id, endpoint.profile.version, label, side, self._clock.monotonic())
        self._calls[key] = call
        async with call.lock:
            await side.connect()
            try:
                begin = await side.wait(0, BEGIN_TIMEOUT_S)
            except TimeoutError:
                return call  # no greeting (the agent waits for the caller)
            if begin.text:
                call.turns.append(_turn(None, begin))
            await self._settle(call, begin)
        return call

    async def say(self, key: str, text: str) -> TestCall | None:
        """The caller says ``text`` (or stays silent when it is empty); waits for the
        agent's whole reply."""
        call = self._calls.get(key)
        if call is None:
            return None
        async with call.lock:
            call.last_used = self._clock.monotonic()
            if call.ended:
                return call
            if len(call.turns) >= MAX_TURNS:
                call.ended = f"a test call ends after {MAX_TURNS} turns"
                await call.side.close()
                return call
            rid = await call.side.say(text)
            try:
                reply = await call.side.wait(rid, REPLY_TIMEOUT_S)
            except TimeoutError:
                call.turns.append(Turn(text, "", None, None))
                call.ended = f"no complete reply within {REPLY_TIMEOUT_S:.0f} s"
                await call.side.close()
                return call
            call.turns.append(_turn(text, reply))
            await self._settle(call, reply)
            call.last_used = self._clock.monotonic()
        return call

    async def _settle(self, call: TestCall, reply: Reply) -> None:
        """After a reply: hang up as Retell would when the agent ended or transferred
        the call, or note that the socket closed."""
        if reply.transfer_number:
            call.ended = f"the agent transferred the call to {reply.transfer_number}"
        elif reply.end_call:
            call.ended = "the agent ended the call"
        elif call.side.closed.is_set():
            call.ended = f"the socket closed ({call.side.close_code})"
        if call.ended:
            await call.side.close()

    async def end(self, key: str) -> None:
        """The operator hangs up: the socket closes, the call stays on show."""
        call = self._calls.get(key)
        if call is None:
            return
        async with call.lock:
            if not call.ended:
                call.ended = "you hung up"
            with contextlib.suppress(Exception):
                await call.side.close()

    async def hang_up(self, key: str) -> None:
        """Close ``key``'s test call and forget it."""
        call = self._calls.pop(key, None)
        if call is not None:
            with contextlib.suppress(Exception):
                await call.side.close()

    async def sweep(self) -> None:
        """Hang up the test calls idle for longer than the idle limit."""
        now = self._clock.monotonic()
        for key, call in list(self._calls.items()):
            if now - call.last_used > self._idle_s and not call.lock.locked():
                await self.hang_up(key)

    async def close(self) -> None:
        for key in list(self._calls):
            await self.hang_up(key)
