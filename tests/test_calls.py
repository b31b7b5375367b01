"""The state persister: off the hot path, and never the reason a call cannot start."""

from __future__ import annotations

import asyncio

from voiceops.agent.state import CallState
from voiceops.calls import StatePersister
from voiceops.errors import StorageError


class AwayStore:
    """A state store whose database is away (an injected fault), then comes back."""

    def __init__(self) -> None:
        self.away = True
        self.saved: dict[str, CallState] = {}

    async def load(self, call_id: str) -> CallState | None:
        if self.away:
            raise StorageError("database unavailable")
        return self.saved.get(call_id)

    async def save(self, state: CallState) -> None:
        if self.away:
            raise StorageError("database unavailable")
        self.saved[state.call_id] = state


async def test_a_database_that_is_away_starts_the_call_fresh_and_loses_no_state() -> None:
    store = AwayStore()
    persister = StatePersister(store, retry_initial_s=0.01, retry_max_s=0.02)
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
