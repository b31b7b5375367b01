"""The clock: manual time fires timers and deadlines in order, pinned time runs forward."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from voiceops.core.clock import Deadline, ManualClock, PinnedClock, SystemClock, utc_now_ms

START = datetime(2026, 12, 8, 11, 0, tzinfo=UTC)


async def test_manual_clock_fires_timers_in_due_order_at_their_due_time() -> None:
    clock = ManualClock(START)
    fired: list[tuple[str, float]] = []
    clock.call_later(0.6, lambda: fired.append(("filler", clock.monotonic())))
    clock.call_later(0.2, lambda: fired.append(("early", clock.monotonic())))
    cancelled = clock.call_later(0.4, lambda: fired.append(("cancelled", clock.monotonic())))
    cancelled.cancel()
    await clock.advance(0.5)
    assert fired == [("early", 0.2)]
    assert clock.now() == START + timedelta(seconds=0.5)
    await clock.advance(0.5)
    assert fired == [("early", 0.2), ("filler", 0.6)]
    assert clock.pending == 0


async def test_manual_sleep_wakes_only_when_advanced() -> None:
    clock = ManualClock(START)
    task = asyncio.create_task(clock.sleep(2.0))
    await clock.advance(1.9)
    assert not task.done()
    await clock.advance(0.1)
    assert task.done()


async def test_deadline_fires_on_the_manual_clock_and_can_be_lifted() -> None:
    clock = ManualClock(START)
    entered = asyncio.Event()

    async def stalls() -> str:
        async with Deadline.after(clock, 2.5) as guard:
            entered.set()
            await asyncio.Event().wait()
        return "unreachable" if not guard.expired() else "expired"

    task = asyncio.create_task(stalls())
    await entered.wait()
    await clock.advance(2.4)
    assert not task.done()
    await clock.advance(0.1)
    with pytest.raises(TimeoutError):
        await task

    async def lifted() -> bool:
        async with Deadline.after(clock, 1.0) as guard:
            guard.reschedule(None)
            await clock.sleep(5.0)
        return guard.expired()

    waiting = asyncio.create_task(lifted())
    await clock.advance(5.0)
    assert await waiting is False


async def test_deadline_on_the_system_clock() -> None:
    clock = SystemClock()
    with pytest.raises(TimeoutError):
        async with Deadline.after(clock, 0.01):
            await asyncio.sleep(5)
    async with Deadline.after(clock, None) as guard:
        await asyncio.sleep(0)
    assert not guard.expired()


def test_pinned_clock_starts_where_told_and_runs_forward() -> None:
    clock = PinnedClock(datetime.fromisoformat("2026-12-08T11:00:00-05:00"))
    first = clock.now()
    assert first.tzinfo is UTC
    assert abs((first - datetime(2026, 12, 8, 16, 0, tzinfo=UTC)).total_seconds()) < 1
    time.sleep(0.01)
    assert clock.now() > first
    assert utc_now_ms(clock) >= int(first.timestamp() * 1000)


def test_clocks_refuse_naive_start_times() -> None:
    with pytest.raises(ValueError):
        PinnedClock(datetime(2026, 12, 8, 11, 0))
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 12, 8, 11, 0))
