"""A standing guard: random and mutated frames against a live server, with a well-behaved
call alongside.

The frames start from the protocol reference's sample frames (``tests/fixtures``) and are
mutated: members replaced by values of the wrong type, extreme numbers, odd Unicode, huge
strings and deep nesting, members removed, frames cut short; plus random JSON, random
text and binary frames. After each example the fuzzing socket must answer a ping or have
been closed with 1008 (its bad-frame budget); it is dialled again when closed. Throughout,
the good call pings every 50 ms; at the end every ping has been answered, the good call
still takes a turn, its events are in the database, and every call state is saved.

Hypothesis runs derandomized (the same examples on every run) and without its example
database, in a worker thread; each example is sent from the server's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.conftest import RunningServer, run_server
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import RetellPeer

SAMPLES_FILE = Path(__file__).parents[1] / "fixtures" / "retell-samples.jsonl"
SAMPLES: list[dict[str, Any]] = [
    record["message"]
    for record in map(json.loads, SAMPLES_FILE.read_text(encoding="utf-8").splitlines())
    if record["channel"] == "llm-websocket" and record["direction"] == "retell->server"
]
EXAMPLES = 150
PING_EVERY_S = 0.05

# --- frames ---------------------------------------------------------------------------------

EXTREME_NUMBERS = st.sampled_from(
    [0, -1, 2**31 - 1, 2**31, 2**53 + 1, 2**63, 2**64, -(2**63) - 1, 10**30, 10**400]
) | st.sampled_from([0.5, -0.0, 1e308, float("inf"), float("-inf"), float("nan")])
ODD_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)) | st.sampled_from("\x00\n\r\u2028\ufeff"),
    max_size=24,
)
HUGE_TEXT = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["x", "é", "😀", "\x00", "\n", '"', "\\"]),
    st.sampled_from([1_000, 100_000, 1_100_000]),
)
LEAVES = st.none() | st.booleans() | st.integers() | EXTREME_NUMBERS | ODD_TEXT
JSON_VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3),
    max_leaves=8,
)
NESTING = st.sampled_from([2, 50, 199, 200, 1_000, 50_000])


def slots(value: Any) -> list[tuple[dict[str, Any] | list[Any], Any]]:
    """Every (container, key or index) in ``value``."""
    found: list[tuple[dict[str, Any] | list[Any], Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        keys = list(item) if isinstance(item, dict) else range(len(item))
        for key in keys:
            found.append((item, key))
            if isinstance(item[key], dict | list):
                stack.append(item[key])
    return found


@st.composite
def mutated(draw: st.DrawFn) -> str:
    message = copy.deepcopy(draw(st.sampled_from(SAMPLES)))
    # Deep nesting is spliced into the encoded text: the encoder itself recurses.
    deep: dict[str, str] = {}
    for _ in range(draw(st.integers(1, 3))):
        container, key = draw(st.sampled_from(slots(message)))
        how = draw(st.sampled_from(["wrong type", "number", "odd text", "huge", "deep", "drop"]))
        if how == "drop" and isinstance(container, dict):
            del container[key]
        elif how == "number":
            container[key] = draw(EXTREME_NUMBERS)
        elif how == "odd text":
            container[key] = draw(ODD_TEXT)
        elif how == "huge":
            container[key] = draw(HUGE_TEXT)
        elif how == "deep":
            levels = draw(NESTING)
            token = f"deep-{len(deep)}-levels"
            deep[json.dumps(token)] = "[" * levels + json.dumps(container[key]) + "]" * levels
            container[key] = token
        else:
            container[key] = draw(JSON_VALUES)
    encoded = json.dumps(message, ensure_ascii=draw(st.booleans()))
    for token, nested in deep.items():
        encoded = encoded.replace(token, nested)
    return encoded


@st.composite
def cut_short(draw: st.DrawFn) -> str:
    whole = json.dumps(draw(st.sampled_from(SAMPLES)))
    return whole[: draw(st.integers(0, len(whole) - 1))]


FRAMES: st.SearchStrategy[str | bytes] = st.one_of(
    mutated(),
    mutated(),
    st.sampled_from(SAMPLES).map(json.dumps),
    cut_short(),
    JSON_VALUES.map(json.dumps),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=64),
    st.binary(max_size=64),
)

# --- the calls ------------------------------------------------------------------------------


@pytest.fixture
async def server(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(), profile=profile) as srv:
        yield srv


class Fuzzer:
    """The fuzzing call: sends an example's frames, then checks the socket still answers a
    ping (or was closed with 1008, and dials again)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.peer: RetellPeer | None = None
        self.stamp = 0
        self.policy_closes = 0

    async def exercise(self, frames: list[str | bytes]) -> None:
        if self.peer is None or self.peer.closed.is_set():
            self.peer = RetellPeer(self.url, call={"call_id": "call_fuzz"})
            await self.peer.connect()
        peer = self.peer
        with contextlib.suppress(websockets.ConnectionClosed):
            for frame in frames:
                if isinstance(frame, bytes):
                    await peer.send_raw_bytes(frame)
                else:
                    await peer.send(frame)
            self.stamp += 1
            await peer.ping(self.stamp)
        for _ in range(5000):
            if self.stamp in peer.pongs:
                return
            if peer.closed.is_set():
                assert peer.close_code == 1008, f"fuzzing socket closed with {peer.close_code}"
                self.policy_closes += 1
                return
            await asyncio.sleep(0.002)
        raise AssertionError("the fuzzing socket neither answered a ping nor was closed")

    async def close(self) -> None:
        if self.peer is not None:
            await self.peer.close()


async def keep_pinging(peer: RetellPeer, stop: asyncio.Event, sent: list[int]) -> None:
    while not stop.is_set():
        sent.append(len(sent) + 1)
        await peer.ping(sent[-1])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PING_EVERY_S)


async def test_random_and_mutated_frames_leave_the_server_and_a_good_call_well(
    server: RunningServer,
) -> None:
    loop = asyncio.get_running_loop()
    fuzzer = Fuzzer(server.url("call_fuzz"))

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(FRAMES, min_size=1, max_size=4))
    def example(frames: list[str | bytes]) -> None:
        asyncio.run_coroutine_threadsafe(fuzzer.exercise(frames), loop).result(30)

    stop = asyncio.Event()
    sent: list[int] = []
    async with RetellPeer(server.url("call_good"), call={"call_id": "call_good"}) as good:
        await good.wait_begin()
        pinging = asyncio.create_task(keep_pinging(good, stop, sent))
        try:
            await asyncio.to_thread(example)
        finally:
            stop.set()
            await pinging
            await fuzzer.close()
        for _ in range(500):
            if all(stamp in good.pongs for stamp in sent):
                break
            await asyncio.sleep(0.01)
        assert [stamp for stamp in sent if stamp not in good.pongs] == []
        assert len(sent) > 10
        reply = await good.turn("When are you open?")
        assert reply.complete and reply.text
    for _ in range(200):
        async with server.runtime.db.engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT event_type FROM call_events WHERE call_id = 'call_good'")
            )
            types = {row[0] for row in rows}
        if "call_disconnected" in types:
            break
        await asyncio.sleep(0.05)
    assert {"call_connected", "turn_completed", "call_disconnected"} <= types
    # Nothing a frame carried keeps the call states from being saved.
    await server.runtime.persister.stop()
    assert server.runtime.persister.pending == 0
    async with server.runtime.db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT call_id FROM call_states"))
        assert {"call_good", "call_fuzz"} <= {row[0] for row in rows}
    assert fuzzer.policy_closes >= 1, "the fuzz should have spent at least one budget"
