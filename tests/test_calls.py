"""The state persister: off the hot path, and never the reason a call cannot start."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from voiceops.calls import StatePersister
from voiceops.core.clock import SystemClock
from voiceops.core.errors import StorageError
from voiceops.core.state import CallState, StateSnapshot


class AwayStore:
    """A state store whose database is away (an injected fault), then comes back."""

    def __init__(self) -> None:
        self.away = True
        self.saved: dict[str, CallState] = {}

    async def load(self, call_id: str) -> CallState | None:
        if self.away:
            raise StorageError("database unavailable")
        return self.saved.get(call_id)

    async def save_many(self, snapshots: Sequence[StateSnapshot]) -> None:
        if self.away:
            raise StorageError("database unavailable")
        for snapshot in snapshots:
            self.saved[snapshot.call_id] = snapshot.restore()


async def test_a_database_that_is_away_starts_the_call_fresh_and_loses_no_state() -> None:
    store = AwayStore()
    persister = StatePersister(store, clock=SystemClock(), retry_initial_s=0.01, retry_max_s=0.02)
    await persister.start()
    try:
        assert await persister.load("c1") is None  # no exception: the call starts fresh
        state = CallState(call_id="c1", turns=3)
        persister.mark(state)
        state.turns = 4  # later changes do not leak into the queued snapshot
        await asyncio.sleep(0.05)
        assert persister.pending == 1 and store.saved == {}
        store.away = False
        for _ in range(100):
            if store.saved:
                break
            await asyncio.sleep(0.01)
        assert store.saved["c1"].turns == 3
        assert persister.pending == 0
    finally:
        await persister.stop()


async def test_an_unsaved_snapshot_loads_as_an_independent_state() -> None:
    store = AwayStore()
    persister = StatePersister(
        store, clock=SystemClock()
    )  # not started: the snapshot stays unsaved
    state = CallState(call_id="c1", turns=2, flow={"slots": {"service": "Haircut"}})
    persister.mark(state)
    state.flow["slots"]["service"] = "Colour"  # the live state moves on

    first = await persister.load("c1")
    assert first is not None and first.flow == {"slots": {"service": "Haircut"}}
    assert first.updated_at_ms == state.updated_at_ms > 0
    first.turns = 99
    first.flow["slots"]["service"] = "Beard trim"
    second = await persister.load("c1")
    assert second is not None and second is not first
    assert (second.turns, second.flow) == (2, {"slots": {"service": "Haircut"}})


class Opaque:
    def __str__(self) -> str:
        return "opaque"


async def test_a_value_json_does_not_know_is_kept_as_its_string_form() -> None:
    persister = StatePersister(AwayStore(), clock=SystemClock())
    persister.mark(CallState(call_id="c1", call={"metadata": {"crm": Opaque()}}))
    loaded = await persister.load("c1")
    assert loaded is not None and loaded.call == {"metadata": {"crm": "opaque"}}
