"""LoopWatch: loop lag and collector pauses become metrics, warnings and /healthz figures."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import weakref

import pytest

from voiceops.loopwatch import NEVER, FullCollections, LoopWatch
from voiceops.metrics import Metrics


def _sample(metrics: Metrics, name: str, labels: dict[str, str] | None = None) -> float:
    value = metrics.registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


async def test_a_blocked_loop_is_measured_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    watch = LoopWatch(metrics, interval_s=0.01, warn_s=0.05)
    watch.start()
    try:
        await asyncio.sleep(0.03)
        with caplog.at_level(logging.WARNING, logger="voiceops.loop"):
            time.sleep(0.12)  # noqa: ASYNC251 - a synchronous step holding every call, on purpose
            await asyncio.sleep(0.03)
    finally:
        watch.stop()
    assert watch.max_lag_s >= 0.08
    assert _sample(metrics, "voiceops_event_loop_lag_seconds_count") >= 2
    assert _sample(metrics, "voiceops_event_loop_lag_seconds_bucket", {"le": "0.05"}) < _sample(
        metrics, "voiceops_event_loop_lag_seconds_count"
    )
    assert any("event loop blocked" in r.getMessage() for r in caplog.records)
    assert watch.stats()["max_lag_ms"] >= 80


async def test_collections_are_timed_by_generation() -> None:
    metrics = Metrics()
    watch = LoopWatch(metrics)
    watch.start()
    try:
        gc.collect(0)
        gc.collect(2)
    finally:
        watch.stop()
    assert watch.gc_collections[0] >= 1 and watch.gc_collections[2] >= 1
    assert _sample(metrics, "voiceops_gc_pause_seconds_count", {"generation": "2"}) >= 1
    assert watch.max_gc_pause_s > 0


async def test_stop_detaches_everything() -> None:
    metrics = Metrics()
    watch = LoopWatch(metrics, interval_s=0.01)
    watch.start()
    with pytest.raises(RuntimeError):
        watch.start()
    watch.stop()
    assert not watch.running
    assert watch._on_gc not in gc.callbacks
    before = _sample(metrics, "voiceops_event_loop_lag_seconds_count")
    collections = list(watch.gc_collections)
    gc.collect(0)
    await asyncio.sleep(0.05)
    assert _sample(metrics, "voiceops_event_loop_lag_seconds_count") == before
    assert watch.gc_collections == collections


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LoopWatch(Metrics(), interval_s=0)


async def test_full_collections_run_on_schedule_and_not_by_count() -> None:
    before = gc.get_threshold()
    collections = FullCollections(0.05)
    collections.start()
    try:
        assert gc.get_threshold() == (before[0], before[1], NEVER)
        with pytest.raises(RuntimeError):
            collections.start()
        for _ in range(100):  # a full pass of a big test process takes a while
            if collections.passes >= 2:
                break
            await asyncio.sleep(0.05)
        assert collections.passes >= 2
    finally:
        collections.stop()
    assert gc.get_threshold() == before
    passes = collections.passes
    await asyncio.sleep(0.15)
    assert collections.passes == passes, "no pass after stop"


async def test_a_scheduled_pass_frees_cycles_young_passes_cannot() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    node = Node()
    ref = weakref.ref(node)
    gc.collect(1)
    gc.collect(1)  # the live cycle is in the oldest generation now
    collections = FullCollections(0.1)
    collections.start()
    try:
        del node
        gc.collect(1)
        assert ref() is not None, "young passes do not reach the oldest generation"
        for _ in range(100):
            if ref() is None:
                break
            await asyncio.sleep(0.05)
        assert ref() is None, "the scheduled full pass freed it"
    finally:
        collections.stop()


def test_full_collection_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        FullCollections(0)
