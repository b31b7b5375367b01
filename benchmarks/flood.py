"""``python -m benchmarks.flood``: one socket's junk flood against a well-behaved call.

Starts ``voiceops serve`` (default settings, offline ``flow`` brain, a fresh SQLite file,
info-level log to a file), opens one well-behaved call that sends a ``ping_pong`` every
``--ping-ms``, and after ``--settle-s`` of quiet opens ``--sockets`` flooding sockets that
send junk frames as fast as the connection takes them (text that is not JSON, binary
frames, unknown and ill-typed frames, in turn) for ``--duration`` seconds, from a process
of their own. A flooding socket the server closes is dialled again at once, as an
attacker would; with ``--deaf`` the flooder never reads, so it ignores the server's close
frame and keeps sending until the server drops the connection; with ``--secret`` the
server requires a WebSocket secret that only the good call knows, so every flooding
socket is refused on arrival. Then it waits, up to ``--drain-s``, for the pings still
unanswered.

It prints the good call's ping round trips (p50 / p99 / max, before and during the flood),
the pings still unanswered, how long after the flood the last ping sent during it was
answered and ``/healthz`` answered, and what the flood cost: frames sent, connections and
their close codes, server CPU, bytes of server log, and call events written and journaled
(from ``/healthz``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets
from websockets.frames import Frame, Opcode

from benchmarks.procs import PYTHON, Child, free_port, wait_http
from benchmarks.run import _clean_env
from voiceops.evals.peer import RetellPeer

JUNK: tuple[str | bytes, ...] = (
    "this is not json",
    b"\x00\x01binary",
    json.dumps({"interaction_type": "mystery", "x": 1}),
    json.dumps({"interaction_type": "response_required", "response_id": "7", "transcript": []}),
    json.dumps({"interaction_type": "ping_pong", "timestamp": "soon"}),
    "[1, 2, 3]",
)


@dataclass(slots=True)
class Pinger:
    """The good call: a ping every ``interval_s``, each round trip recorded."""

    peer: RetellPeer
    interval_s: float
    sent: dict[int, float] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        seq = 0
        while not self.stop.is_set():
            seq += 1
            self.sent[seq] = time.monotonic()
            try:
                await self.peer.ping(seq)
            except websockets.ConnectionClosed:
                return  # counted as unanswered
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.interval_s)

    def rtts_ms(self, since: float, until: float) -> list[float]:
        """Round trips of the pings sent in [since, until); unanswered ones are left out."""
        return [
            (self.peer.pongs[seq] - at) * 1000
            for seq, at in self.sent.items()
            if since <= at < until and seq in self.peer.pongs
        ]

    def unanswered(self) -> list[int]:
        return [seq for seq in self.sent if seq not in self.peer.pongs]

    async def answered(self, timeout_s: float) -> None:
        """Return once every ping sent has its pong, or after ``timeout_s``."""
        for _ in range(max(1, round(timeout_s / 0.05))):
            if not self.unanswered():
                return
            await asyncio.sleep(0.05)


@dataclass(slots=True)
class Flood:
    frames: int = 0
    connections: int = 0
    closes: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    ended: float = 0.0


async def flood_one(url: str, until: float, flood: Flood) -> None:
    """Send junk on ``url`` until ``until``, dialling again whenever the server closes."""
    turn = 0
    while time.monotonic() < until:
        flood.connections += 1
        try:
            ws = await websockets.connect(url, max_size=None, compression=None)
        except OSError as exc:
            flood.closes[type(exc).__name__] += 1
            await asyncio.sleep(0.01)
            continue
        try:
            async with asyncio.timeout(until - time.monotonic()):
                while True:
                    await ws.send(JUNK[turn % len(JUNK)])
                    turn += 1
                    flood.frames += 1
                    if turn % 64 == 0:
                        await asyncio.sleep(0)  # let the reader of close frames run
        except TimeoutError:
            # No closing handshake: it would queue behind the junk the server has not read.
            ws.transport.abort()
            flood.closes["aborted by the flooder at the end"] += 1
            return
        except websockets.ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            flood.closes[str(code)] += 1


def _junk_blob(frames: int = 4096) -> bytes:
    """Client frames (masked, as the protocol requires), encoded once."""
    encoded = []
    for turn in range(frames):
        junk = JUNK[turn % len(JUNK)]
        if isinstance(junk, bytes):
            frame = Frame(Opcode.BINARY, junk)
        else:
            frame = Frame(Opcode.TEXT, junk.encode())
        encoded.append(frame.serialize(mask=True, extensions=[]))
    return b"".join(encoded)


async def flood_deaf(url: str, until: float, flood: Flood) -> None:
    """Like :func:`flood_one`, but never reads: junk goes straight onto the transport, and
    the server's close frame is ignored until the server drops the connection."""
    blob = _junk_blob()
    per_blob = 4096
    while time.monotonic() < until:
        flood.connections += 1
        try:
            ws = await websockets.connect(url, max_size=None, compression=None)
        except OSError as exc:
            flood.closes[type(exc).__name__] += 1
            await asyncio.sleep(0.01)
            continue
        transport = ws.transport
        while time.monotonic() < until and not transport.is_closing():
            if transport.get_write_buffer_size() < 1_000_000:
                transport.write(blob)
                flood.frames += per_blob
            await asyncio.sleep(0.001)
        flood.closes["dropped by the server" if transport.is_closing() else "aborted"] += 1
        transport.abort()


def figures(values: list[float]) -> str:
    if not values:
        return "none answered"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"p50 {statistics.median(ordered):.1f} / p99 {p99:.1f} / max {ordered[-1]:.1f} ms "
        f"({len(ordered)} pings)"
    )


async def run_flooders(opts: argparse.Namespace, ws_base: str, workdir: Path) -> Flood:
    """The flood, from a process of its own: the measuring call's process stays idle."""
    argv = [PYTHON, "-m", "benchmarks.flood", "--flood-only", ws_base]
    argv += ["--duration", str(opts.duration), "--sockets", str(opts.sockets)]
    if opts.deaf:
        argv.append("--deaf")
    child = await Child.start("flooder", argv, env=_clean_env(), log_dir=workdir, stdout_pipe=True)
    assert child.proc.stdout is not None
    output = await child.proc.stdout.read()
    await child.stop()
    try:
        result = json.loads(output)
    except ValueError:
        raise RuntimeError(f"flooder failed:\n{child.tail()}") from None
    return Flood(
        result["frames"],
        result["connections"],
        Counter(result["closes"]),
        result["started"],
        result["ended"],
    )


async def flood_only(opts: argparse.Namespace) -> None:
    """``--flood-only WS_BASE``: flood for ``--duration`` and print what was sent (JSON)."""
    # time.monotonic() is the system's CLOCK_MONOTONIC: the parent compares these times.
    started = time.monotonic()
    until = started + opts.duration
    flood = Flood(started=started)
    flooder = flood_deaf if opts.deaf else flood_one
    await asyncio.gather(
        *(flooder(f"{opts.flood_only}/call_flood_{n}", until, flood) for n in range(opts.sockets))
    )
    result = {
        "frames": flood.frames,
        "connections": flood.connections,
        "closes": flood.closes,
        "started": started,
        "ended": time.monotonic(),
    }
    sys.stdout.write(json.dumps(result) + "\n")


async def healthz(base: str) -> dict[str, object]:
    async with httpx.AsyncClient(timeout=60.0) as client:
        data: dict[str, object] = (await client.get(f"{base}/healthz")).json()
        return data


async def main(opts: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="voiceops-flood-"))
    port = free_port()
    env = _clean_env()
    env.update(
        VOICEOPS_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'voiceops.db'}",
        VOICEOPS_BRAIN="flow",
        VOICEOPS_JOURNAL_PATH=str(workdir / "journal.jsonl"),
    )
    good_base = ws_base = f"ws://127.0.0.1:{port}/llm-websocket"
    if opts.secret:
        # Only the good call knows it: every flooding socket is refused at once.
        env["VOICEOPS_WS_SECRET"] = "flood-benchmark-secret"
        good_base = f"{ws_base}/flood-benchmark-secret"
    voiceops = Path(PYTHON).parent / "voiceops"
    argv = [str(voiceops), "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = await Child.start("server", argv, env=env, log_dir=workdir)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_http(server, f"{base}/healthz", 30.0)
        async with RetellPeer(f"{good_base}/call_good", call={"call_id": "call_good"}) as peer:
            await peer.wait_begin()
            pinger = Pinger(peer, opts.ping_ms / 1000)
            pinging = asyncio.create_task(pinger.run())
            await asyncio.sleep(opts.settle_s)
            log_before = server.log_path.stat().st_size
            cpu_before = server.sample()
            flood = await run_flooders(opts, ws_base, workdir)
            start, end = flood.started, flood.ended
            health_start = time.monotonic()
            await healthz(base)
            health_s = time.monotonic() - health_start
            pinger.stop.set()
            await pinging
            await pinger.answered(opts.drain_s)
            health = await healthz(base)
            cpu_after = server.sample()
            log_bytes = server.log_path.stat().st_size - log_before
            during = [s for s, at in pinger.sent.items() if start <= at < end]
            answered_at = [peer.pongs[s] for s in during if s in peer.pongs]
            last_pong = max(answered_at) - end if answered_at else float("nan")
    finally:
        await server.stop()

    cpu = (
        cpu_after.cpu_s - cpu_before.cpu_s
        if cpu_before is not None and cpu_after is not None
        else float("nan")
    )
    closes = ", ".join(f"{code}: {n}" for code, n in sorted(flood.closes.items())) or "none"
    lines = [
        f"flood: {opts.sockets} {'deaf ' if opts.deaf else ''}socket(s) for "
        f"{end - start:.1f} s{' without the secret' if opts.secret else ''}, "
        f"good call pinging every {opts.ping_ms} ms",
        f"good call's pings before the flood: {figures(pinger.rtts_ms(0, start))}",
        f"good call's pings during the flood: {figures(pinger.rtts_ms(start, end))}",
        f"pings unanswered {opts.drain_s:.0f} s after the flood: {len(pinger.unanswered())}",
        f"the last answer to a ping sent during the flood came {last_pong:.2f} s after it ended",
        f"/healthz right after the flood answered in {health_s:.2f} s",
        f"junk frames sent: {flood.frames}; connections: {flood.connections} (closes {closes})",
        f"server CPU during flood and drain: {cpu:.1f} s; log written: {log_bytes / 1e6:.2f} MB",
        f"call events (healthz): {json.dumps(health.get('events'))}",
        f"work directory: {workdir}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of flood")
    parser.add_argument("--sockets", type=int, default=1, help="flooding sockets")
    parser.add_argument("--ping-ms", type=int, default=50, help="the good call's ping interval")
    parser.add_argument("--settle-s", type=float, default=2.0, help="quiet pings before")
    parser.add_argument(
        "--secret",
        action="store_true",
        help="the server requires a WebSocket secret that only the good call presents",
    )
    parser.add_argument(
        "--deaf",
        action="store_true",
        help="the flooder never reads: it ignores the server's close frame and keeps sending",
    )
    parser.add_argument("--flood-only", metavar="WS_BASE", help=argparse.SUPPRESS)
    parser.add_argument("--drain-s", type=float, default=120.0, help="wait for late pongs")
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args()
    asyncio.run(flood_only(options) if options.flood_only else main(options))
