"""Holding lines ("One moment, let me check.") and when a turn may speak one.

The turn runner arms a timer at ``filler_deadline_ms`` after a turn starts and again when
a tool starts; this module decides whether a filler may be spoken at that moment and which
one. Rules: never the same line twice in a row, at most ``max_per_call`` per call, at most
one per turn, never for a turn that was superseded, never once the real reply has begun
(unless a tool is still running and nothing was said since it started).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Coroutine, Sequence

from voiceops.agent.speaker import Speaker
from voiceops.core.clock import Clock, TimerHandle
from voiceops.core.state import CallState


class FillerPicker:
    def __init__(self, lines: Sequence[str], *, max_per_call: int, rng: random.Random) -> None:
        self._lines = [line for line in lines if line.strip()]
        self._max = max_per_call
        self._rng = rng

    def may_speak(self, state: CallState) -> bool:
        """Whether the call may hear another filler (lines exist, cap not reached). The
        per-turn rules (one per turn, not once the reply began, not for a superseded turn)
        are the turn runner's timer's."""
        return bool(self._lines) and state.filler_count < self._max

    def pick(self, state: CallState) -> str:
        """Choose a line different from the last one and record it in ``state``."""
        choices = [i for i in range(len(self._lines)) if i != state.last_filler] or [0]
        index = self._rng.choice(choices)
        state.last_filler = index
        state.filler_count += 1
        return self._lines[index]


class FillerTimer:
    """The holding-line timer of one brain run: a loop timer, not a waiting task.

    Armed at the filler deadline after the turn started (if nothing speakable was sent by
    then) and again when a tool starts (if nothing is said within the deadline while it
    runs). When it fires it picks a line and speaks it from a small owned task; the
    speaker sends that line before any later brain text, so the order never inverts.
    """

    def __init__(
        self,
        clock: Clock,
        out: Speaker,
        after_s: float,
        speak: Callable[[], Coroutine[None, None, None] | None],
    ) -> None:
        """``speak`` is called when the timer fires and a filler is due: it returns the
        coroutine that speaks one (a line picked for the call), or ``None`` when the call
        may hear no more fillers."""
        self._clock = clock
        self._speak = speak
        self._out = out
        self._after = after_s
        self._handle: TimerHandle | None = None
        self._tool_started: float | None = None
        self._task: asyncio.Task[None] | None = None

    def _arm(self, at_monotonic: float) -> None:
        clock = self._clock
        self._handle = clock.call_later(at_monotonic - clock.monotonic(), self._fire)

    def arm_first(self) -> None:
        if not self._out.brain_spoke and not self._out.filler_spoken:
            self._arm(self._out.started + self._after)

    def tool_started(self) -> None:
        self._tool_started = self._clock.monotonic()
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
            if self._clock.monotonic() < due:
                self._arm(due)  # the reply began; wait the full deadline into the tool
                return
        out.filler_spoken = True  # one per turn, whatever happens next
        speaking = self._speak()
        if speaking is None:
            return
        self._task = asyncio.get_running_loop().create_task(speaking)
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
