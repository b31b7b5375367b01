"""A Retell stand-in: plays Retell's side of the LLM WebSocket against a live server.

Used by ``voiceops call`` (a terminal phone), the evaluation runner, the benchmark and the
end-to-end tests. It speaks the protocol frame for frame (``reference/retell-protocol.md``
sections 3-5): it sends ``call_details`` after our ``config``, keeps the full transcript
and sends it with every request, numbers requests with one growing counter, answers
nothing itself, and records every frame the server sends with its arrival time.

Like Retell it accepts a response's content only for the newest request and only until
that response is complete; frames that Retell would drop are kept in :attr:`stale` so tests
and the benchmark can count them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from voiceops.core.clock import Clock, SystemClock, utc_now_ms
from voiceops.retell.messages import (
    AgentInterruptOut,
    ConfigOut,
    Outbound,
    PingPongOut,
    ResponseOut,
    ToolCallInvocationOut,
    ToolCallResultOut,
    parse_outbound,
)


@dataclass(slots=True)
class Reply:
    """Everything the server sent for one response id."""

    response_id: int
    requested_at: float
    chunks: list[str] = field(default_factory=list)
    chunk_times: list[float] = field(default_factory=list)
    complete: bool = False
    completed_at: float | None = None
    end_call: bool = False
    transfer_number: str | None = None
    no_interruption_allowed: bool = False
    tool_calls: list[ToolCallInvocationOut] = field(default_factory=list)
    tool_results: list[ToolCallResultOut] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def text(self) -> str:
        return "".join(self.chunks).strip()

    @property
    def first_chunk_s(self) -> float | None:
        """Seconds from the request to the first non-empty chunk."""
        for chunk, at in zip(self.chunks, self.chunk_times, strict=True):
            if chunk.strip():
                return at - self.requested_at
        return None


class RetellPeer:
    """One simulated call. Use as ``async with RetellPeer(url) as peer:``."""

    def __init__(
        self,
        url: str,
        *,
        call: dict[str, Any] | None = None,
        send_call_details: bool = True,
        open_timeout_s: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        self.url = url
        self.clock: Clock = clock or SystemClock()
        """Times replies and pings (the caller's side: real time unless a test says)."""
        self.call = call if call is not None else {}
        self.send_call_details = send_call_details
        self.open_timeout_s = open_timeout_s
        self.ws: ClientConnection | None = None
        self.frames: list[tuple[float, Outbound]] = []
        self.config: ConfigOut | None = None
        self.begin: Reply = Reply(0, self.clock.monotonic())
        self.replies: dict[int, Reply] = {0: self.begin}
        self.transcript: list[dict[str, Any]] = []
        self.latest_id = 0
        self.stale: list[ResponseOut] = []
        self.pongs: dict[int, float] = {}
        self.interrupts: list[AgentInterruptOut] = []
        self.bad: list[str] = []
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self._reader: asyncio.Task[None] | None = None
        self._begin_appended = False

    async def __aenter__(self) -> RetellPeer:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        self.ws = await websockets.connect(
            self.url, open_timeout=self.open_timeout_s, max_size=None, compression=None
        )
        self.begin.requested_at = self.clock.monotonic()
        self._reader = asyncio.create_task(self._read(), name="retell-peer-reader")

    async def close(self, code: int = 1000) -> None:
        if self.ws is not None:
            await self.ws.close(code)
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def abort(self) -> None:
        """Drop the TCP connection without a close handshake (Retell sees 1006)."""
        if self.ws is not None:
            self.ws.transport.abort()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    # --- sending ------------------------------------------------------------------------

    async def send(self, frame: dict[str, Any] | str) -> None:
        assert self.ws is not None, "not connected"
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def send_raw_bytes(self, data: bytes) -> None:
        assert self.ws is not None, "not connected"
        await self.ws.send(data)

    async def ping(self, timestamp: int | None = None) -> int:
        ts = timestamp if timestamp is not None else utc_now_ms(self.clock)
        await self.send({"interaction_type": "ping_pong", "timestamp": ts})
        return ts

    def _append_begin(self) -> None:
        if not self._begin_appended and self.begin.complete and self.begin.text:
            self.transcript.insert(0, {"role": "agent", "content": self.begin.text, "words": []})
            self._begin_appended = True

    def _settle_agent_turns(self) -> None:
        """Put the agent's completed replies into the transcript, as Retell does."""
        self._append_begin()

    async def user_says(self, text: str, *, kind: str = "response_required") -> int:
        """The caller says ``text``: an ``update_only`` then a request. Returns its id."""
        self._settle_agent_turns()
        self.transcript.append({"role": "user", "content": text, "words": []})
        await self.send(
            {
                "interaction_type": "update_only",
                "transcript": self.transcript,
                "turntaking": "user_turn",
            }
        )
        return await self.request(kind)

    async def request(self, kind: str = "response_required") -> int:
        self.latest_id += 1
        rid = self.latest_id
        self.replies[rid] = Reply(rid, self.clock.monotonic())
        await self.send(
            {"interaction_type": kind, "response_id": rid, "transcript": self.transcript}
        )
        return rid

    async def silence(self) -> int:
        """The caller stays quiet: a ``reminder_required``."""
        self._settle_agent_turns()
        return await self.request("reminder_required")

    async def turn(self, text: str, timeout_s: float = 10.0) -> Reply:
        """Say ``text`` and wait for the complete reply, which joins the transcript."""
        rid = await self.user_says(text)
        return await self.wait(rid, timeout_s)

    async def wait(self, response_id: int, timeout_s: float = 10.0, *, join: bool = True) -> Reply:
        """Wait for the reply to ``response_id``; with ``join`` its text joins the
        transcript (the caller heard it all)."""
        reply = self.replies[response_id]
        await asyncio.wait_for(reply.done.wait(), timeout_s)
        if join and reply.text:
            self.transcript.append({"role": "agent", "content": reply.text, "words": []})
        return reply

    def agent_said(self, text: str) -> None:
        """Put an agent utterance into the transcript (what the caller actually heard)."""
        self._settle_agent_turns()
        if text:
            self.transcript.append({"role": "agent", "content": text, "words": []})

    def cut_last_agent(self, words: int) -> str:
        """The caller talked over the agent's last line after ``words`` words: keep only
        those in the transcript, as Retell reports an interrupted utterance. Returns what
        is kept."""
        for index in range(len(self.transcript) - 1, -1, -1):
            entry = self.transcript[index]
            if entry["role"] == "user":
                break
            if entry["role"] == "agent":
                kept = " ".join(str(entry["content"]).split()[:words])
                if kept:
                    entry["content"] = kept
                else:
                    del self.transcript[index]
                return kept
        return ""

    async def send_update(self, turntaking: str | None = None) -> None:
        """An ``update_only`` with the transcript as it stands (protocol 3.3)."""
        frame: dict[str, Any] = {"interaction_type": "update_only", "transcript": self.transcript}
        if turntaking is not None:
            frame["turntaking"] = turntaking
        await self.send(frame)

    async def wait_begin(self, timeout_s: float = 5.0) -> Reply:
        await asyncio.wait_for(self.begin.done.wait(), timeout_s)
        self._append_begin()
        return self.begin

    # --- receiving ----------------------------------------------------------------------

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                now = self.clock.monotonic()
                if isinstance(raw, bytes):
                    self.bad.append("binary frame")
                    continue
                try:
                    frame = parse_outbound(raw)
                except ValueError as exc:
                    self.bad.append(f"{exc.__class__.__name__}: {raw[:200]}")
                    continue
                self.frames.append((now, frame))
                await self._on_frame(frame, now)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.closed.set()
            for reply in self.replies.values():
                reply.done.set()

    async def _on_frame(self, frame: Outbound, now: float) -> None:
        if isinstance(frame, ConfigOut):
            self.config = frame
            if self.send_call_details and frame.config.call_details:
                await self.send({"interaction_type": "call_details", "call": self.call})
        elif isinstance(frame, PingPongOut):
            self.pongs[frame.timestamp] = now
        elif isinstance(frame, ResponseOut):
            reply = self.replies.get(frame.response_id)
            if reply is None or reply.complete or frame.response_id != self.latest_id:
                # Retell drops these silently (protocol 4.3 rule 2).
                self.stale.append(frame)
                return
            reply.chunks.append(frame.content)
            reply.chunk_times.append(now)
            reply.end_call = reply.end_call or bool(frame.end_call)
            if frame.transfer_number:
                reply.transfer_number = frame.transfer_number
            reply.no_interruption_allowed = reply.no_interruption_allowed or bool(
                frame.no_interruption_allowed
            )
            if frame.content_complete:
                reply.complete = True
                reply.completed_at = now
                reply.done.set()
        elif isinstance(frame, ToolCallInvocationOut):
            self.replies[self.latest_id].tool_calls.append(frame)
        elif isinstance(frame, ToolCallResultOut):
            self.replies[self.latest_id].tool_results.append(frame)
        elif isinstance(frame, AgentInterruptOut):
            self.interrupts.append(frame)
