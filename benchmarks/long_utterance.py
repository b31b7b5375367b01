"""``python -m benchmarks.long_utterance``: one enormous caller turn beside a live call.

A phone caller never says 100 KB in one turn, but a frame can carry that much, and every
call of the process shares one event loop: whatever a turn costs on the loop, every other
live call waits for. This starts ``voiceops serve`` (offline ``flow`` brain, SQLite in a
temporary directory, the frame bound raised so the turn is accepted) and two players:

* call **A** (this process) says one utterance of ``--bytes`` bytes of caller-like text
  (dates, times, refusals, a name, digits and junk) in a single ``response_required``,
  ``--repeat`` times per size, each time on a new call;
* call **B** (a child process of its own, so that building and sending A's frames here
  never delays B's pings or their timestamps) sends a ``ping_pong`` every ``--ping-ms``
  for the whole run and reports each round trip.

Per size it prints the server's event-loop time for A's turn (p50 and max): the CPU time
of the server's main thread, which runs the loop, from ``/proc/<pid>/task/<pid>/schedstat``,
over the window from A's request to A's ``content_complete``, less the cost of B's pings
measured over a quiet window. It includes receiving and decoding the frame. Then A's
answer time, and the round trips of B's pings that were waiting during A's turns (p50,
max, and how many never came back). The smallest size is a baseline.

``--timeout-s`` bounds each turn, so a server that blocks for minutes is reported as such
instead of hanging the run; later sizes are then skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import websockets

from benchmarks.procs import PYTHON, Child, free_port, wait_http
from voiceops.evals.peer import RetellPeer

T = TypeVar("T")

DEFAULT_BYTES = (1_000, 100_000, 1_000_000, 4_000_000)
SERVER_READY_S = 60.0
QUIET_MAX_S = 2.0
"""The longest quiet window measured for the cost of call B's pings alone."""
SETTLE_S = 0.5
"""How long after a window its last pings get to answer; one without an answer by then
counts as lost."""
PHRASES = (
    "Hi, I'd like to book a haircut for tomorrow at 3pm if you have anything.",
    "Not Friday, Friday doesn't work for me, maybe the 3rd at half past two?",
    "Actually next week on Wednesday in the morning, or the twenty first of December.",
    "my name is Dana Smith and my number is 212 555 0188,",
    "uh um so yeah, I can't make it at 4, is quarter to five on Saturday ok?",
    "in two weeks, or a week from Friday, whenever really, as soon as possible.",
    "I don't need a manager, no no, just the appointment please.",
    "qwe-rty ### zx@@cv 1234 5678 (unintelligible audio) ...",
)


def caller_text(size: int, seed: int = 7) -> str:
    """``size`` characters of what a rambling caller (and a noisy line) might produce."""
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        phrase = rng.choice(PHRASES)
        parts.append(phrase)
        total += len(phrase) + 1
    return " ".join(parts)[:size]


def _call(call_id: str) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": "+12125550100",
        "to_number": "+12125550142",
    }


def loop_cpu_ns(pid: int) -> int:
    """CPU time of ``pid``'s main thread (the one running the event loop), in ns."""
    return int(Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[0])


def _write(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# --- call B: the pinger (a child process) -----------------------------------------------------


async def pinger_main(url: str, interval_s: float) -> int:
    """Call B: ping every ``interval_s`` until stopped, writing ``s <stamp> <time>`` when a
    ping is sent and ``a <stamp> <time>`` when its answer arrived, in ``time.monotonic()``
    seconds (the clock is the same in every process). Ends when the server drops the call."""
    peer = RetellPeer(url, call=_call("bench_long_b"))
    await peer.connect()
    await peer.wait_begin(SERVER_READY_S)
    _write("ready")
    waiting: set[int] = set()
    for stamp in itertools.count(1):
        for answered in [s for s in waiting if s in peer.pongs]:
            _write(f"a {answered} {peer.pongs[answered]}")
            waiting.discard(answered)
        if peer.closed.is_set():
            break
        waiting.add(stamp)
        _write(f"s {stamp} {time.monotonic()}")
        with contextlib.suppress(websockets.ConnectionClosed):
            await peer.ping(stamp)
        await asyncio.sleep(interval_s)
    return 0


@dataclass(slots=True)
class Pings:
    """Call B's pings as its process reports them."""

    child: Child
    sent: dict[int, float] = field(default_factory=dict)
    answered: dict[int, float] = field(default_factory=dict)

    async def follow(self) -> None:
        stdout = self.child.proc.stdout
        assert stdout is not None
        while line := await stdout.readline():
            kind, stamp, at = line.decode().split()
            (self.sent if kind == "s" else self.answered)[int(stamp)] = float(at)

    def during(self, t0: float, t1: float) -> tuple[list[float], int]:
        """Round trips (ms) of the pings that waited during ``[t0, t1]`` (sent before its
        end and answered after its start, or not yet), and how many have no answer."""
        trips: list[float] = []
        unanswered = 0
        for stamp, sent in self.sent.items():
            answered = self.answered.get(stamp)
            if sent > t1 or (answered is not None and answered < t0):
                continue
            if answered is None:
                unanswered += 1
            else:
                trips.append((answered - sent) * 1000)
        return trips, unanswered


# --- call A and the figures -------------------------------------------------------------------


@dataclass(slots=True)
class Sample:
    """One turn of call A: its loop time and answer time, and B's round trips meanwhile."""

    loop_ms: float
    answer_ms: float
    answered: bool
    trips_ms: list[float]
    lost: int


@dataclass(slots=True)
class Figure:
    """All turns of one size."""

    size: int
    turns: int
    answered: int
    loop_p50_ms: float | None
    loop_max_ms: float | None
    answer_p50_ms: float | None
    pings: int
    ping_p50_ms: float | None
    ping_max_ms: float | None
    pings_lost: int

    @classmethod
    def of(cls, size: int, samples: list[Sample]) -> Figure:
        done = [s for s in samples if s.answered]
        loops = [s.loop_ms for s in done]
        trips = [t for s in samples for t in s.trips_ms]
        lost = sum(s.lost for s in samples)
        return cls(
            size=size,
            turns=len(samples),
            answered=len(done),
            loop_p50_ms=statistics.median(loops) if loops else None,
            loop_max_ms=max(loops) if loops else None,
            answer_p50_ms=statistics.median(s.answer_ms for s in done) if done else None,
            pings=len(trips) + lost,
            ping_p50_ms=statistics.median(trips) if trips else None,
            ping_max_ms=max(trips) if trips else None,
            pings_lost=lost,
        )


async def _window(pid: int, body: Callable[[], Awaitable[T]]) -> tuple[int, float, float, T]:
    """Run ``body``; returns the server loop's CPU ns over it, its start and end, and what
    ``body`` returned."""
    cpu0, t0 = loop_cpu_ns(pid), time.monotonic()
    result = await body()
    cpu1, t1 = loop_cpu_ns(pid), time.monotonic()
    return cpu1 - cpu0, t0, t1, result


async def _one_turn(
    url: str, pings: Pings, pid: int, call_id: str, text: str, timeout_s: float
) -> Sample:
    a = RetellPeer(f"{url}/{call_id}", call=_call(call_id))
    await a.connect()
    answered = False
    try:
        await a.wait_begin()
        await a.turn("Hi, I'd like to book a haircut")  # warm the code paths

        async def turn() -> bool:
            # One response_required carrying the utterance, as Retell sends it.
            a.transcript.append({"role": "user", "content": text, "words": []})
            rid = await a.request()
            try:
                reply = await a.wait(rid, timeout_s)
            except TimeoutError:
                return False
            return reply.complete and bool(reply.text)

        ns, t0, t1, answered = await _window(pid, turn)
        # B's pings alone over a quiet window: their own cost on the loop, per second.
        quiet_ns, q0, q1, _ = await _window(pid, lambda: asyncio.sleep(min(t1 - t0, QUIET_MAX_S)))
        background_ns = quiet_ns * (t1 - t0) / (q1 - q0)
    finally:
        with contextlib.suppress(TimeoutError, websockets.ConnectionClosed):
            await (a.close() if answered else a.abort())
    await asyncio.sleep(SETTLE_S)
    trips, lost = pings.during(t0, t1)
    return Sample(
        loop_ms=max(0.0, (ns - background_ns) / 1e6),
        answer_ms=(t1 - t0) * 1000,
        answered=answered,
        trips_ms=trips,
        lost=lost,
    )


async def measure(
    url: str, pings: Pings, pid: int, sizes: list[int], repeat: int, timeout_s: float
) -> list[Figure]:
    figures: list[Figure] = []
    calls = itertools.count()
    for size in sizes:
        text = caller_text(size)
        samples: list[Sample] = []
        for _ in range(repeat):
            call_id = f"bench_long_a{next(calls)}"
            samples.append(await _one_turn(url, pings, pid, call_id, text, timeout_s))
            if not samples[-1].answered:
                break  # the server is still busy with that turn: nothing more to learn
        figures.append(Figure.of(size, samples))
        _write(_row(figures[-1]))
        if figures[-1].answered < len(samples):
            break
    return figures


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _row(f: Figure) -> str:
    answered = f"{f.answered}/{f.turns}"
    return (
        f"| {f.size:>9,} | {answered:>8} | {_ms(f.loop_p50_ms):>7} | {_ms(f.loop_max_ms):>7} "
        f"| {_ms(f.answer_p50_ms):>8} | {f.pings:>5} | {_ms(f.ping_p50_ms):>7} "
        f"| {_ms(f.ping_max_ms):>7} | {f.pings_lost:>4} |"
    )


HEADER = (
    "| utterance | answered | loop ms         | answer   | pings of call B                |\n"
    "|     bytes |          |     p50 |     max | p50 ms   |     n | p50 ms  | max ms  | lost |\n"
    "|----------:|---------:|--------:|--------:|---------:|------:|--------:|--------:|-----:|"
)


def _server_env(workdir: Path, max_frame: int) -> dict[str, str]:
    drop = ("DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEOPS_") and k not in drop}
    env.update(
        VOICEOPS_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
        VOICEOPS_JOURNAL_PATH=str(workdir / "journal.jsonl"),
        VOICEOPS_BRAIN="flow",
        VOICEOPS_MAX_FRAME_BYTES=str(max_frame),
        VOICEOPS_LOG_LEVEL="warning",
    )
    return env


async def _start_pinger(url: str, ping_ms: float, workdir: Path) -> tuple[Child, Pings]:
    argv = [PYTHON, "-m", "benchmarks.long_utterance", "--pinger", url, "--ping-ms", str(ping_ms)]
    child = await Child.start(
        "pinger", argv, env=dict(os.environ), log_dir=workdir, stdout_pipe=True
    )
    stdout = child.proc.stdout
    assert stdout is not None
    ready = await asyncio.wait_for(stdout.readline(), SERVER_READY_S)
    if ready.strip() != b"ready":
        raise RuntimeError(f"call B did not start:\n{child.tail()}")
    return child, Pings(child)


async def main_async(opts: argparse.Namespace) -> int:
    sizes: list[int] = opts.bytes or list(DEFAULT_BYTES)
    # The frame carries the transcript as JSON: room for the greeting, the warm-up turn and
    # any escaping on top of the utterance itself.
    max_frame = 2 * max(sizes) + 65_536
    with tempfile.TemporaryDirectory(prefix="voiceops-long-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        voiceops = Path(PYTHON).parent / "voiceops"
        argv = [str(voiceops), "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = await Child.start(
            "server", argv, env=_server_env(workdir, max_frame), log_dir=workdir
        )
        pinger: Child | None = None
        try:
            await wait_http(server, f"http://127.0.0.1:{port}/healthz", SERVER_READY_S)
            url = f"ws://127.0.0.1:{port}/llm-websocket"
            pinger, pings = await _start_pinger(f"{url}/bench_long_b", opts.ping_ms, workdir)
            following = asyncio.create_task(pings.follow())
            _write(
                f"server pid {server.pid}: flow brain, frame bound {max_frame:,} bytes; "
                f"{opts.repeat} turns per size, each on a new call A; call B (pid "
                f"{pinger.pid}) pings every {opts.ping_ms:g} ms\n"
            )
            _write(HEADER)
            figures = await measure(url, pings, server.pid, sizes, opts.repeat, opts.timeout_s)
            if opts.json:
                _write(json.dumps([asdict(f) for f in figures]))
            following.cancel()
        finally:
            if pinger is not None:
                await pinger.stop()
            await server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--bytes", type=int, action="append", help="utterance size (repeatable)")
    parser.add_argument("--repeat", type=int, default=5, help="turns per size")
    parser.add_argument("--ping-ms", type=float, default=5.0, help="call B's ping interval")
    parser.add_argument("--timeout-s", type=float, default=60.0, help="longest wait per turn")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--pinger", metavar="URL", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.pinger:
        return asyncio.run(pinger_main(opts.pinger, opts.ping_ms / 1000))
    return asyncio.run(main_async(opts))


if __name__ == "__main__":
    sys.exit(main())
