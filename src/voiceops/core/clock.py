"""The one source of time: wall time, monotonic time, timers and deadlines.

The app factory builds one :class:`Clock` and passes it down to every reader of time: the
turn (filler timer, fallback deadline), the LLM brain (first-token and turn deadlines), the
tools (a booking's ``created_at`` decides which of two racing bookings wins), the store, call
events, the reconnect window and the webhook timestamp window. Nothing else in voiceops
reads the system clock.

* :class:`SystemClock` is the real thing.
* :class:`PinnedClock` starts at a given wall time and runs forward in real time from
  there: ``voiceops serve --clock`` for evaluations and demos, so that "tomorrow at 3" falls
  on the same weekday on every run.
* :class:`ManualClock` (tests) stands still until :meth:`ManualClock.advance` moves it;
  timers and deadlines fire as it passes them, so a test of a 600 ms filler takes no
  600 ms.

Monotonic time is in seconds on the clock's own scale; only differences and the deadlines
given back to the same clock mean anything.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current wall time, aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for durations and deadlines)."""
        ...

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` on the running event loop ``delay_s`` seconds from now."""
        ...

    async def sleep(self, seconds: float) -> None: ...


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def utc_now_ms(clock: Clock) -> int:
    """The clock's wall time in epoch milliseconds (Retell's timestamps are in these)."""
    return (clock.now() - _EPOCH) // _MS


class SystemClock:
    """The machine's clocks and the running event loop's timers."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(max(0.0, delay_s), callback)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class PinnedClock(SystemClock):
    """Wall time that starts at ``start`` when built and then runs forward in real time."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a pinned clock needs an aware start time (with an offset)")
        self._start = start.astimezone(UTC)
        self._mono0 = time.monotonic()

    @property
    def start(self) -> datetime:
        return self._start

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._mono0)


class _ManualHandle:
    __slots__ = ("callback", "cancelled", "due")

    def __init__(self, due: float, callback: Callable[[], None]) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that moves only when told to (tests).

    :meth:`advance` moves wall and monotonic time together and runs, in order of their due
    time, every timer that falls due, each at its own due time; :meth:`sleep` and
    :meth:`timeout_at` are timers too. After each timer it yields to the event loop so
    the tasks it woke can run before the next one fires.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a manual clock needs an aware start time (with an offset)")
        self._wall0 = start.astimezone(UTC)
        self._mono = 0.0
        self._timers: list[tuple[float, int, _ManualHandle]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self._wall0 + timedelta(seconds=self._mono)

    def monotonic(self) -> float:
        return self._mono

    def set_now(self, when: datetime) -> None:
        """Jump wall time to ``when`` (monotonic time does not move; no timer fires)."""
        self._wall0 = when.astimezone(UTC) - timedelta(seconds=self._mono)

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> TimerHandle:
        handle = _ManualHandle(self._mono + max(0.0, delay_s), callback)
        heapq.heappush(self._timers, (handle.due, next(self._order), handle))
        return handle

    @property
    def pending(self) -> int:
        """Timers not yet fired or cancelled."""
        return sum(1 for _, _, h in self._timers if not h.cancelled)

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, firing every timer due on the way."""
        if seconds < 0:
            raise ValueError("time does not go back")
        target = self._mono + seconds
        await _yield_loop()
        while self._timers and self._timers[0][0] <= target:
            due, _, handle = heapq.heappop(self._timers)
            if handle.cancelled:
                continue
            self._mono = max(self._mono, due)
            handle.callback()
            await _yield_loop()
        self._mono = target
        await _yield_loop()

    async def sleep(self, seconds: float) -> None:
        done = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not done.done():
                done.set_result(None)

        handle = self.call_later(seconds, wake)
        try:
            await done
        finally:
            handle.cancel()


async def _yield_loop() -> None:
    # A few passes, so that a task woken by a timer can wake the next one in turn.
    for _ in range(5):
        await asyncio.sleep(0)


class Deadline:
    """An ``async with`` block cancelled (raising ``TimeoutError``) once the clock's
    monotonic time reaches ``when``; ``None`` never expires.

    Like :func:`asyncio.timeout_at`, but on a :class:`Clock`'s scale, so a
    :class:`ManualClock` fires it; it can be rescheduled from inside the block.
    """

    __slots__ = ("_clock", "_handle", "_inner", "_when")

    def __init__(self, clock: Clock, when: float | None) -> None:
        self._clock = clock
        self._when = when
        self._inner = asyncio.timeout(None)
        self._handle: TimerHandle | None = None

    @classmethod
    def after(cls, clock: Clock, seconds: float | None) -> Deadline:
        """A deadline ``seconds`` from now (``None``: none)."""
        return cls(clock, None if seconds is None else clock.monotonic() + seconds)

    async def __aenter__(self) -> Deadline:
        await self._inner.__aenter__()
        self.reschedule(self._when)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        await self._inner.__aexit__(exc_type, exc_val, exc_tb)

    def when(self) -> float | None:
        return self._when

    def expired(self) -> bool:
        return self._inner.expired()

    def reschedule(self, when: float | None) -> None:
        self._when = when
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if when is not None:
            self._handle = self._clock.call_later(when - self._clock.monotonic(), self._expire)

    def _expire(self) -> None:
        self._handle = None
        self._inner.reschedule(asyncio.get_running_loop().time())
