"""What a turn says: one response id's frames, cleaned for speech, in order.

:class:`Speaker` sends a turn's text through the call session's gate (which refuses frames
for a superseded ``response_id``), passing every chunk through the speech filter. The first
speakable text leaves at once; after that, text is coalesced into whole sentences (Retell
voices a sentence once it is complete), which cuts frames per reply several-fold without
delaying speech. A filler being sent is always heard before any later text of the turn.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from voiceops.core.state import CallState
from voiceops.metrics import Metrics
from voiceops.retell.session import CallSession
from voiceops.speech import SpeechFilter, clean, is_speakable


class CallLink(Protocol):
    """What a turn needs of its connection (implemented by ``web/ws.py``)."""

    call_id: str
    session: CallSession
    state: CallState

    async def send(self, text: str) -> None: ...


@dataclass(slots=True)
class Speaker:
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
    brain_text_at: float | None = None
    """When the brain's text that made its first speakable chunk arrived (the server's own
    share of a turn ends this much earlier than that chunk's send)."""
    brain_chunk_at: float | None = None
    """When the brain's first speakable chunk was sent (a preface or filler may precede it)."""
    brain_spoke: bool = False
    filler_spoken: bool = False
    last_spoke_at: float = 0.0
    closed: bool = False
    before_close: Callable[[], Awaitable[object]] | None = None
    """Awaited once before the closing frame is sent (the call's state is saved there)."""
    committed: list[tuple[str, str]] = field(default_factory=list)
    """What this turn's tools changed for the caller, as (sentence, detail) pairs: carried
    to the next reply if this one is cut off."""
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
        arrived = self.monotonic()
        cleaned = self.filter.feed(raw)
        if not cleaned:
            return
        if not self.brain_spoke:
            self.brain_spoke = is_speakable(cleaned)
            await self._send(cleaned, complete=False)
            if self.brain_spoke:
                self.brain_text_at = arrived
                self.brain_chunk_at = self.last_spoke_at
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

    async def preface(self, text: str) -> None:
        """Say ``text`` before the brain's reply (what a cut-off turn did), without counting
        it as the brain's speech."""
        await self._send(clean(text) + " ", complete=False)

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
        if self.before_close is not None:
            before, self.before_close = self.before_close, None
            await before()
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
