"""Watching and guarding the one event loop that carries every call of the process.

Every call shares a single asyncio loop, so anything that holds it (a long synchronous
step, a full pass of the cyclic garbage collector) delays every keepalive and every first
chunk of every call at once. :class:`LoopWatch` makes that visible:

* **loop lag**: a loop timer due every ``interval_s`` measures how late it ran; the lateness
  is what any callback scheduled at that moment waited too
  (``voiceops_event_loop_lag_seconds``);
* **collector pauses**: ``gc.callbacks`` time every collection, by generation
  (``voiceops_gc_pause_seconds``), and count what they freed.

A lag or a pause above ``warn_s`` is logged as a warning, at most once a second so a
saturated process does not also flood its log. The worst figures since start are in
:meth:`LoopWatch.stats` (served on ``/healthz``). The cost is ten timer callbacks a second
and two tiny callbacks per collection.

:class:`FullCollections` is the one guard. A full pass of the collector walks every live
object, and a process carrying hundreds of calls holds a hundred thousand of them: about
170 ms measured at 500 calls, during which no keepalive and no first chunk goes out. Python
starts such a pass on its own whenever enough objects reached the oldest generation (every
8 to 18 s in the 500-call benchmark), and nearly all of them are live per-call objects that
a pass cannot free (call state, sockets, tasks; dead ones are freed by reference counting).
So the automatic full passes are switched off and one runs every ``interval_s`` instead
(five minutes by default), which bounds what reference cycles can hold while keeping the
pause off all but a handful of turns. The young generations are collected as always.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from voiceops.metrics import Metrics

log = logging.getLogger("voiceops.loop")

WARN_EVERY_S = 1.0
NEVER = 2**31 - 1
"""A threshold the oldest generation's counter (young collections since the last full
pass) never reaches: no full pass starts by itself."""


class LoopWatch:
    """Loop-lag sampler and collector timer of one process; :meth:`start` on the loop."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        interval_s: float = 0.1,
        warn_s: float = 0.1,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._metrics = metrics
        self._interval = interval_s
        self._warn = warn_s
        self._clock = clock
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self._gc_started = 0.0
        self._last_warning = -WARN_EVERY_S
        self.max_lag_s = 0.0
        self.max_gc_pause_s = 0.0
        self.gc_collections = [0, 0, 0]

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self) -> None:
        """Begin sampling on the running loop and timing collections."""
        if self._handle is not None:
            raise RuntimeError("LoopWatch already started")
        self._schedule(asyncio.get_running_loop())
        gc.callbacks.append(self._on_gc)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def stats(self) -> dict[str, Any]:
        return {
            "max_lag_ms": round(self.max_lag_s * 1000, 2),
            "max_gc_pause_ms": round(self.max_gc_pause_s * 1000, 2),
            "gc_collections": list(self.gc_collections),
        }

    # --- loop lag -------------------------------------------------------------------------

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self._due = self._clock() + self._interval
        self._handle = loop.call_later(self._interval, self._tick, loop)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        lag = max(0.0, self._clock() - self._due)
        self._metrics.loop_lag.observe(lag)
        if lag > self.max_lag_s:
            self.max_lag_s = lag
        if lag >= self._warn:
            self._warn_once("event loop blocked for %.0f ms", lag * 1000)
        self._schedule(loop)

    # --- collector ------------------------------------------------------------------------

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = self._clock()
            return
        pause = self._clock() - self._gc_started
        generation = info.get("generation", 0)
        if 0 <= generation <= 2:
            self.gc_collections[generation] += 1
            self._metrics.gc_pause.labels(generation=str(generation)).observe(pause)
        if pause > self.max_gc_pause_s:
            self.max_gc_pause_s = pause
        if pause >= self._warn:
            self._warn_once(
                "garbage collection (generation %d) paused the loop for %.0f ms, %d freed",
                generation,
                pause * 1000,
                info.get("collected", 0),
            )

    def _warn_once(self, message: str, *args: object) -> None:
        now = self._clock()
        if now - self._last_warning >= WARN_EVERY_S:
            self._last_warning = now
            log.warning(message, *args)


class FullCollections:
    """Full collector passes on a timer instead of by allocation count (module docstring).

    :meth:`start` raises the oldest generation's threshold out of reach and schedules a
    full pass every ``interval_s`` on the running loop; :meth:`stop` restores the previous
    thresholds. The collector's settings are process-wide, so with several apps in one
    process (tests) start and stop in nested order.
    """

    def __init__(self, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._interval = interval_s
        self._saved: tuple[int, int, int] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self.passes = 0

    def start(self) -> None:
        if self._saved is not None:
            raise RuntimeError("FullCollections already started")
        young, middle, _ = self._saved = gc.get_threshold()
        gc.set_threshold(young, middle, NEVER)
        self._schedule(asyncio.get_running_loop())

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self._handle = loop.call_later(self._interval, self._collect, loop)

    def _collect(self, loop: asyncio.AbstractEventLoop) -> None:
        started = time.perf_counter()
        freed = gc.collect()
        self.passes += 1
        log.info(
            "scheduled full collection: %.0f ms, %d objects freed",
            (time.perf_counter() - started) * 1000,
            freed,
        )
        self._schedule(loop)
