"""The drain's sequence on a manual clock: wait for the live calls, save the states of those
left, and only then reset their sockets; and the persister's flush it relies on."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

import pytest
import uvicorn
from starlette.applications import Starlette

from voiceops.calls import LiveCalls, StatePersister
from voiceops.core.callevents import ListSink
from voiceops.core.clock import ManualClock
from voiceops.core.errors import StorageError
from voiceops.core.state import CallState, StateSnapshot
from voiceops.web.drain import SAVE_TIMEOUT_S, Drain, DrainingServer, DrainPhase, DrainReport

START = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


class Store:
    """A state store in memory; ``away`` makes every call fail (an injected fault)."""

    def __init__(self) -> None:
        self.away = False
        self.saved: dict[str, CallState] = {}

    async def load(self, call_id: str) -> CallState | None:
        return self.saved.get(call_id)

    async def save_many(self, snapshots: Sequence[StateSnapshot]) -> None:
        if self.away:
            raise StorageError("database unavailable")
        for snapshot in snapshots:
            self.saved[snapshot.call_id] = snapshot.restore()


class Call:
    """A live connection as the registry sees it."""

    def __init__(self, call_id: str, turns: int = 0) -> None:
        self.state = CallState(call_id=call_id, turns=turns)

    async def close_superseded(self) -> None:
        return None

    async def interrupt(self, content: str, *, end_call: bool = False) -> bool:
        return False


class Rig:
    """A drain bound to live calls, a running persister on ``store`` and an event list."""

    def __init__(self, *, timeout_s: float = 10.0, wave_size: int = 20) -> None:
        self.clock = ManualClock(START)
        self.store = Store()
        self.live = LiveCalls()
        self.events = ListSink()
        # A linger of an hour: a state reaches the store in this test only when flushed.
        self.persister = StatePersister(
            self.store, clock=self.clock, linger_s=3600, retry_initial_s=0.01, retry_max_s=0.01
        )
        self.drain = Drain(
            timeout_s=timeout_s, clock=self.clock, wave_size=wave_size, wave_interval_s=1.0
        )
        self.drain.bind(live=self.live, persister=self.persister, events=self.events)
        self.resets: list[tuple[list[str] | None, dict[str, int]]] = []
        """At each reset of sockets: the calls reset (``None``: every socket left), and
        what the store held then (call id -> turns)."""

    def add(self, call_id: str, turns: int = 0) -> Call:
        call = Call(call_id, turns)
        self.live.attach(call_id, call)
        return call

    def end(self, call: Call) -> None:
        self.live.detach(call.state.call_id, call, call.state)
        self.persister.mark(call.state)

    def reset(self, call_ids: Collection[str] | None) -> int:
        saved = {cid: s.turns for cid, s in self.store.saved.items()}
        self.resets.append((None if call_ids is None else sorted(call_ids), saved))
        return 0 if call_ids is None else len(call_ids)

    def start(self) -> asyncio.Task[DrainReport]:
        return asyncio.create_task(self.drain.run(self.reset))


@pytest.fixture
async def rig() -> Rig:
    made = Rig()
    await made.persister.start()
    return made


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_flush_writes_at_once_instead_of_lingering(rig: Rig) -> None:
    rig.persister.mark(CallState(call_id="c1", turns=2))
    await settle()
    assert rig.store.saved == {}, "a mark waits for the linger"
    assert await asyncio.wait_for(rig.persister.flush(), 5)
    assert rig.store.saved["c1"].turns == 2 and rig.persister.pending == 0

    # The hurry lasts one flush: the next mark lingers again.
    rig.persister.mark(CallState(call_id="c2"))
    await settle()
    assert "c2" not in rig.store.saved
    await rig.persister.stop()
    assert "c2" in rig.store.saved


async def test_flush_gives_up_at_its_timeout_while_the_database_is_away(rig: Rig) -> None:
    rig.store.away = True
    rig.persister.mark(CallState(call_id="c1"))
    flushing = asyncio.create_task(rig.persister.flush(timeout_s=2))
    await rig.clock.advance(2)
    assert await asyncio.wait_for(flushing, 5) is False
    assert rig.persister.pending == 1
    rig.store.away = False
    await rig.persister.stop()
    assert "c1" in rig.store.saved


async def test_a_drain_with_no_live_call_ends_at_once(rig: Rig) -> None:
    report = await asyncio.wait_for(rig.drain.run(rig.reset), 5)
    assert report.reason == "no live calls" and report.dropped == ()
    assert rig.resets == [(None, {})] and rig.drain.phase is DrainPhase.DONE
    assert rig.drain.draining, "a drained process takes no call any more"
    await rig.persister.stop()


async def test_calls_that_end_during_the_drain_end_it_before_the_timeout(rig: Rig) -> None:
    first, second = rig.add("c1"), rig.add("c2")
    running = rig.start()
    await rig.clock.advance(1)
    assert rig.drain.draining and not running.done()
    rig.end(first)
    await rig.clock.advance(1)
    assert not running.done()
    rig.end(second)
    await rig.clock.advance(0.2)
    report = await asyncio.wait_for(running, 5)
    assert report.reason == "no live calls"
    assert (report.ended, report.dropped) == (2, ())
    assert report.waited_s < rig.drain.timeout_s
    assert rig.resets == [(None, {})] and rig.events.events == []
    await rig.persister.stop()


async def test_calls_left_at_the_timeout_are_saved_before_their_sockets_are_reset(
    rig: Rig,
) -> None:
    rig.add("c1", turns=3)
    ending = rig.add("c2", turns=1)
    running = rig.start()
    await rig.clock.advance(4)
    rig.end(ending)
    await rig.clock.advance(4)
    assert not running.done()
    assert "c1" not in rig.store.saved, "nothing is written early (the linger is an hour)"
    await rig.clock.advance(2.1)
    report = await asyncio.wait_for(running, 5)
    assert report.reason == "timed out"
    assert report.dropped == ("c1",) and report.ended == 1 and report.states_saved
    # When the sockets were reset, both states were already in the store.
    assert rig.resets == [(["c1"], {"c1": 3, "c2": 1}), (None, {"c1": 3, "c2": 1})]
    [event] = rig.events.events
    assert (event.call_id, event.event_type) == ("c1", "call_drained")
    assert event.payload is not None and event.payload["reason"] == "timed out"
    await rig.persister.stop()


async def test_cut_short_hands_the_calls_over_without_waiting(rig: Rig) -> None:
    rig.add("c1", turns=2)
    running = rig.start()
    await rig.clock.advance(0.3)
    rig.drain.cut_short()
    await rig.clock.advance(0.1)
    report = await asyncio.wait_for(running, 5)
    assert report.reason == "cut short" and report.dropped == ("c1",)
    assert rig.resets[0] == (["c1"], {"c1": 2})
    await rig.persister.stop()


async def test_sockets_are_reset_even_when_states_cannot_be_written() -> None:
    rig = Rig(wave_size=1)
    await rig.persister.start()
    rig.add("c1", turns=2)
    rig.add("c2", turns=3)
    rig.store.away = True
    rig.drain.cut_short()
    running = rig.start()
    # The hand-over waits for the writes SAVE_TIMEOUT_S longer than its two waves' pacing
    # in all, not that long per wave.
    await rig.clock.advance(SAVE_TIMEOUT_S + 2 * 1.0 + 1.0 + 0.1)
    report = await asyncio.wait_for(running, 5)
    assert report.dropped == ("c1", "c2") and not report.states_saved
    assert [saved for _, saved in rig.resets] == [{}, {}, {}]
    rig.store.away = False
    await rig.persister.stop()
    assert rig.store.saved["c1"].turns == 2, "the persister still writes it at exit"


async def test_calls_are_handed_over_in_waves_each_saved_just_before_its_reset() -> None:
    rig = Rig(wave_size=2)
    await rig.persister.start()
    calls = [rig.add(f"c{i}", turns=1) for i in range(5)]
    rig.drain.cut_short()
    running = rig.start()
    await rig.clock.advance(0.5)
    assert [ids for ids, _ in rig.resets] == [["c0", "c1"]]
    # Between waves, a call of a later wave takes a turn and another one ends.
    calls[2].state.turns = 2
    rig.persister.mark(calls[2].state)
    rig.end(calls[3])
    await rig.clock.advance(1)
    assert rig.resets[1] == (["c2"], {"c0": 1, "c1": 1, "c2": 2, "c3": 1})
    await rig.clock.advance(1)
    report = await asyncio.wait_for(running, 5)
    assert [ids for ids, _ in rig.resets] == [["c0", "c1"], ["c2"], ["c4"], None]
    assert report.dropped == ("c0", "c1", "c2", "c4") and report.states_saved
    assert [e.call_id for e in rig.events.events] == ["c0", "c1", "c2", "c4"]
    await rig.persister.stop()


def test_the_first_signal_drains_and_the_second_cuts_the_drain_short() -> None:
    drain = Drain(timeout_s=600, clock=ManualClock(START))
    server = DrainingServer(uvicorn.Config(Starlette()), drain)

    server.handle_exit(signal.SIGTERM, None)
    assert drain.phase is DrainPhase.DRAINING and server.should_exit
    server.handle_exit(signal.SIGTERM, None)
    assert drain.phase is DrainPhase.DRAINING and not server.force_exit
    assert drain._cut_short

    # Once the calls are handed over, a further Ctrl-C is uvicorn's again: force the exit.
    drain.phase = DrainPhase.DONE
    server.handle_exit(signal.SIGINT, None)
    assert server.force_exit


def test_a_negative_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Drain(timeout_s=-1, clock=ManualClock(START))
