"""``python -m benchmarks.run``: the whole benchmark, from an empty database to the table.

For each database kind (PostgreSQL, then SQLite with ``--db both``) it creates a fresh
database, starts the fake LLM and ``voiceops serve`` (default settings, LLM brain, only
on 127.0.0.1), then runs the load generator once per level. Over each level's measurement
window it samples the server's CPU time and resident memory from ``/proc`` and the event
writer's counters from ``/healthz``; after the window it waits until the writer has
drained, then counts the rows in ``call_events``. At the end the server is stopped
gracefully and the rows are counted once more, so events lost at shutdown show too.

It prints one Markdown table (stdout), writes every figure and the raw settings as JSON
(``--out``), and stops by itself: every wait has a deadline, and children are stopped (and
the PostgreSQL database dropped) also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError

from benchmarks.benchdb import BenchDatabase, bench_database, check_loopback
from benchmarks.figures import (
    Thresholds,
    client_figures,
    expected_turn_ids,
    loop_counters,
    loop_figures,
    per_unit,
    profile_summary,
    summary,
)
from benchmarks.procs import PYTHON, REPO, Child, ChildFailed, free_port, wait_http
from benchmarks.report import check_targets, markdown_table, verdict_lines
from voiceops.config import Settings

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_LEVELS = (1, 50, 200, 500)
FAKE_TEXTS = (
    "Sure, I can help with that. We have openings on Thursday at ten in the morning and on "
    "Friday at two in the afternoon. Which of those suits you better?",
    "Of course. A haircut takes about thirty minutes and includes a wash and a style, and "
    "our stylists are happy to talk it through first. Would you like me to book one?",
    "Thanks for waiting. I have noted your name and number, and the stylist will have "
    "everything ready when you arrive at the salon. Is there anything else I can do today?",
    "Got it. We are on Maple Street in Brooklyn, right next to the bakery, and there is "
    "free street parking nearby most days. Shall I send you a reminder the day before?",
)
"""What the fake LLM says, cycled per turn: the server's loop detector must never fire. It
streams them as a model does: ``"Sure"``, ``","``, ``" I"`` ... (``model_tokens``)."""
SERVER_READY_S = 60.0
DRAIN_S = 60.0
SAMPLE_EVERY_S = 0.5
STOP_SERVER_S = 45.0

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Options:
    """What to run; the command-line flags of the same names set these."""

    levels: tuple[int, ...] = DEFAULT_LEVELS
    duration_s: float = 30.0
    db: str = "both"
    first_token_ms: float = 300.0
    token_ms: float = 15.0
    barge_in_share: float = 0.2
    slow_share: float = 0.15
    slow_first_token_ms: int | None = None
    """Default: the filler deadline plus 400 ms (under the fallback deadline)."""
    think_min_s: float = 0.5
    think_max_s: float = 1.5
    speech_ms_per_word: float = 300.0
    min_turns: int = 12
    """A level's window outlasts the duration (up to four times) until this many replies."""
    ramp_s: float | None = None
    """Default: one second per hundred calls, at least one."""
    history_turns: int = 0
    """Exchanges already in each call's transcript when it connects: a population of
    calls that are that far along (one exchange is about ten seconds of a call)."""
    stagger_s: float = 10.0
    """Callers' first turns are spread over this (about one turn cycle), and the window
    opens after it: independent calls, measured in their steady state."""
    warmup_s: float = 5.0
    """Two calls this long before the first level, not measured: the first requests of a
    process pay for connection set-up and lazy initialisation, which no caller of a
    running server sees."""
    pg_url: str = DEFAULT_PG
    seed: int = 1
    keep_workdir: bool = False
    profile: bool = False
    """Record the server with py-spy over each window (kept in the work directory)."""
    command: tuple[str, ...] = field(default_factory=tuple)

    @property
    def db_kinds(self) -> list[str]:
        return ["postgres", "sqlite"] if self.db == "both" else [self.db]


def _server_defaults() -> tuple[int, int]:
    fields = Settings.model_fields
    deadline = fields["filler_deadline_ms"].default
    fallback = fields["fallback_deadline_ms"].default
    assert isinstance(deadline, int) and isinstance(fallback, int)
    return deadline, fallback


# --- the machine ---------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kib = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def machine_busy_s() -> float:
    """CPU seconds all processes of the machine have used since boot (``/proc/stat``)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- children -------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    """This environment without any voiceops or OpenAI setting: the server runs on defaults."""
    drop = ("DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL")
    return {k: v for k, v in os.environ.items() if not k.startswith("VOICEOPS_") and k not in drop}


async def _start_fake(opts: Options, workdir: Path) -> tuple[Child, str]:
    port = free_port()
    argv = [
        PYTHON,
        "-m",
        "tests.fakes.fake_llm",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--first-token-ms",
        str(opts.first_token_ms),
        "--token-ms",
        str(opts.token_ms),
        "--bench-tags",
    ]
    for text in FAKE_TEXTS:
        argv += ["--text", text]
    child = await Child.start("fake-llm", argv, env=_clean_env(), log_dir=workdir)
    base = f"http://127.0.0.1:{port}"
    await wait_http(child, f"{base}/_stats", 20.0)
    return child, base


async def _start_server(
    db: BenchDatabase, fake_base: str, workdir: Path
) -> tuple[Child, str, Path]:
    port = free_port()
    journal = workdir / f"journal-{db.kind}.jsonl"
    env = _clean_env()
    env.update(
        VOICEOPS_DATABASE_URL=db.server_url,
        VOICEOPS_LLM_BASE_URL=f"{fake_base}/v1",
        VOICEOPS_LLM_API_KEY="bench",
        VOICEOPS_BRAIN="llm",
        VOICEOPS_JOURNAL_PATH=str(journal),
        VOICEOPS_LOG_LEVEL="warning",
    )
    voiceops = Path(PYTHON).parent / "voiceops"
    argv = [str(voiceops), "serve", "--host", "127.0.0.1", "--port", str(port)]
    child = await Child.start(f"server-{db.kind}", argv, env=env, log_dir=workdir)
    base = f"http://127.0.0.1:{port}"
    await wait_http(child, f"{base}/healthz", SERVER_READY_S)
    return child, base, journal


# --- one level ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Snapshot:
    at: float
    server_cpu_s: float
    fake_cpu_s: float
    loadgen_cpu_s: float
    machine_cpu_s: float
    events_written: int
    loop: dict[str, float] = field(default_factory=dict)
    """The server's loop-lag and collector histograms (:func:`loop_counters`)."""


@dataclass(slots=True)
class _Level:
    """Everything measured around one run of the load generator."""

    calls: int
    db: BenchDatabase
    server: Child
    fake: Child
    server_base: str
    fake_base: str
    http: httpx.AsyncClient
    rss_idle: int = 0
    rss_peak: int = 0
    queue_peak: int = 0
    start: _Snapshot | None = None
    end: _Snapshot | None = None
    profile_path: Path | None = None

    async def healthz(self) -> dict[str, Any]:
        response = await self.http.get(f"{self.server_base}/healthz")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    async def snapshot(self, loadgen: Child) -> _Snapshot:
        events = (await self.healthz())["events"]
        scraped = await self.http.get(f"{self.server_base}/metrics")
        scraped.raise_for_status()
        server, fake, load = self.server.sample(), self.fake.sample(), loadgen.sample()
        if server is None or fake is None:
            raise ChildFailed(f"server or fake LLM died:\n{self.server.tail()}")
        return _Snapshot(
            at=time.monotonic(),
            server_cpu_s=server.cpu_s,
            fake_cpu_s=fake.cpu_s,
            loadgen_cpu_s=load.cpu_s if load is not None else 0.0,
            machine_cpu_s=machine_busy_s(),
            events_written=int(events["written"]),
            loop=loop_counters(scraped.text),
        )

    async def watch(self) -> None:
        """Peak RSS and event-queue depth while the window is open (cancelled at its end)."""
        tick = 0
        while True:
            sample = self.server.sample()
            if sample is not None:
                self.rss_peak = max(self.rss_peak, sample.rss_bytes)
            if tick % 2 == 0:
                with contextlib.suppress(httpx.HTTPError):
                    queued = int((await self.healthz())["events"]["queued"])
                    self.queue_peak = max(self.queue_peak, queued)
            tick += 1
            await asyncio.sleep(SAMPLE_EVERY_S)


async def _drain(level: _Level) -> dict[str, Any]:
    """Wait until the writer has nothing queued or journaled and no state write is pending."""
    deadline = time.monotonic() + DRAIN_S
    while True:
        health = await level.healthz()
        events = health["events"]
        pending_journal = int(events["journaled"]) - int(events["replayed"])
        if (
            int(events["queued"]) == 0
            and pending_journal <= 0
            and int(health.get("pending_state_writes", 0)) == 0
            and int(health.get("live_calls", 0)) == 0
        ):
            return health
        if time.monotonic() > deadline:
            return health
        await asyncio.sleep(0.25)


def _loadgen_argv(opts: Options, calls: int, url: str, prefix: str, out: Path) -> list[str]:
    deadline_ms, _ = _server_defaults()
    slow_ms = opts.slow_first_token_ms or deadline_ms + 400
    ramp = opts.ramp_s if opts.ramp_s is not None else max(1.0, calls / 100)
    return [
        PYTHON,
        "-m",
        "benchmarks.loadgen",
        "--url",
        url,
        "--calls",
        str(calls),
        "--duration",
        str(opts.duration_s),
        "--ramp",
        str(ramp),
        "--stagger",
        str(opts.stagger_s),
        "--think-min",
        str(opts.think_min_s),
        "--think-max",
        str(opts.think_max_s),
        "--speech-ms-per-word",
        str(opts.speech_ms_per_word),
        "--min-turns",
        str(opts.min_turns),
        "--barge-in-share",
        str(opts.barge_in_share),
        "--slow-share",
        str(opts.slow_share),
        "--slow-first-token-ms",
        str(slow_ms),
        "--history-turns",
        str(opts.history_turns),
        "--call-prefix",
        prefix,
        "--seed",
        str(opts.seed),
        "--out",
        str(out),
    ]


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
    if not Path(found).exists():
        raise ChildFailed("--profile needs py-spy: .venv/bin/pip install py-spy")
    return found


async def _start_profiler(level: _Level, seconds: float, workdir: Path) -> Child:
    assert level.profile_path is not None
    argv = [
        _py_spy(),
        "record",
        "--pid",
        str(level.server.pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        "100",
        "--gil",  # only samples holding the GIL: the interpreter's CPU, not idle threads
        "--nonblocking",
        "--format",
        "raw",
        "--output",
        str(level.profile_path),
    ]
    return await Child.start(
        f"py-spy-{level.db.kind}-{level.calls}", argv, env=_clean_env(), log_dir=workdir
    )


async def _run_loadgen(level: _Level, argv: list[str], workdir: Path, timeout_s: float) -> None:
    """Start the load generator and take the snapshots when it opens and closes its window."""
    profiler: Child | None = None
    loadgen = await Child.start(
        f"loadgen-{level.db.kind}-{level.calls}",
        argv,
        env=_clean_env(),
        log_dir=workdir,
        stdout_pipe=True,
    )
    watcher: asyncio.Task[None] | None = None
    try:
        stdout = loadgen.proc.stdout
        assert stdout is not None
        async with asyncio.timeout(timeout_s):
            while line := (await stdout.readline()).decode(errors="replace").strip():
                if line.startswith("WINDOW_START"):
                    level.start = await level.snapshot(loadgen)
                    watcher = asyncio.create_task(level.watch(), name="watch-server")
                    if level.profile_path is not None:
                        profiler = await _start_profiler(level, timeout_s, workdir)
                elif line.startswith("WINDOW_END"):
                    level.end = await level.snapshot(loadgen)
                    if watcher is not None:
                        watcher.cancel()
                    if profiler is not None:
                        # SIGINT makes py-spy write what it sampled over the window.
                        await profiler.stop(signal.SIGINT, 30)
            code = await loadgen.proc.wait()
        if code != 0 or level.start is None or level.end is None:
            raise ChildFailed(f"load generator failed ({code}):\n{loadgen.tail()}")
    finally:
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        await loadgen.stop(signal.SIGTERM, 5)
        if profiler is not None:
            await profiler.stop(signal.SIGINT, 30)


async def _measure_level(
    opts: Options,
    level: _Level,
    run_id: str,
    workdir: Path,
    say: Say,
) -> dict[str, Any]:
    calls, db = level.calls, level.db
    prefix = f"b{run_id}-{db.kind[0]}{calls}"
    idle = level.server.sample()
    if idle is None:
        raise ChildFailed(f"the server died:\n{level.server.tail()}")
    level.rss_idle = level.rss_peak = idle.rss_bytes
    before = (await _drain(level))["events"]
    out = workdir / f"load-{db.kind}-{calls}.json"
    url = level.server_base.replace("http://", "ws://") + "/llm-websocket"
    argv = _loadgen_argv(opts, calls, url, prefix, out)
    ramp = float(argv[argv.index("--ramp") + 1])
    say(
        f"  {db.kind}: {calls} calls for {opts.duration_s:.0f}s "
        f"(ramp {ramp:.1f}s, stagger {opts.stagger_s:.1f}s)"
    )
    if opts.profile:
        level.profile_path = workdir / f"profile-{db.kind}-{calls}.txt"
    # The window may run to four times the duration while it waits for --min-turns.
    await _run_loadgen(level, argv, workdir, ramp + opts.stagger_s + 4 * opts.duration_s + 120)
    load = json.loads(out.read_text())
    outcomes = load["calls"]
    if outcomes["connected"] == 0:
        raise ChildFailed(f"no call could connect: {outcomes['connect_errors'][:3]}")
    if outcomes["connect_failures"] or outcomes["dropped"]:
        say(
            f"  warning: {outcomes['connect_failures']} calls failed to connect, "
            f"{outcomes['dropped']} were dropped by the server"
        )
    response = await level.http.get(f"{level.fake_base}/_timings")
    response.raise_for_status()
    timings = response.json()["timings"]
    after_health = await _drain(level)
    after = after_health["events"]
    counts = await db.event_counts(prefix)
    stored_turns = await db.turn_event_ids(prefix)
    recorded = await db.server_overheads(prefix)
    server_overhead = [value for _, _, value in recorded]

    deadline_ms, _ = _server_defaults()
    row: dict[str, Any] = {"db": db.kind, "calls": calls}
    row.update(client_figures(load, timings, Thresholds(opts.first_token_ms, deadline_ms)))
    start, end = level.start, level.end
    assert start is not None and end is not None
    wall = end.at - start.at
    server_cpu = end.server_cpu_s - start.server_cpu_s
    rows = sum(counts.values())
    delta = {k: int(after[k]) - int(before[k]) for k in after}
    # The writer's own view: what it took in and did not put in the database.
    writer_lost = delta["lost"] + delta["rejected"] + max(0, delta["written"] - rows)
    writer_lost += int(after["queued"]) + max(0, int(after["journaled"]) - int(after["replayed"]))
    missing_turns = expected_turn_ids(load) - stored_turns
    connected = load["calls"]["connected"]
    missing_calls = max(0, connected - counts.get("call_connected", 0)) + max(
        0, connected - counts.get("call_disconnected", 0)
    )
    row.update(
        {
            "window_s": round(wall, 2),
            "events_written": end.events_written - start.events_written,
            "events_per_s": round((end.events_written - start.events_written) / wall, 1),
            "event_rows": rows,
            "event_rows_by_type": counts,
            "server_overhead_ms": summary(server_overhead),
            "writer_delta": delta,
            "events_lost_writer_view": writer_lost,
            "turn_rows_missing": len(missing_turns),
            "call_rows_missing": missing_calls,
            "events_lost": max(writer_lost, len(missing_turns) + missing_calls),
            "event_queue_peak": level.queue_peak,
            "cpu_ms_per_turn": _ms(per_unit(server_cpu, row["turns_in_window"])),
            "server_cpu_cores": round(server_cpu / wall, 3),
            "fake_llm_cpu_cores": round((end.fake_cpu_s - start.fake_cpu_s) / wall, 3),
            "loadgen_cpu_cores": round((end.loadgen_cpu_s - start.loadgen_cpu_s) / wall, 3),
            "other_cpu_cores": round(
                (
                    (end.machine_cpu_s - start.machine_cpu_s)
                    - server_cpu
                    - (end.fake_cpu_s - start.fake_cpu_s)
                    - (end.loadgen_cpu_s - start.loadgen_cpu_s)
                )
                / wall,
                3,
            ),
            "rss_idle_mib": round(level.rss_idle / 2**20, 1),
            "rss_peak_mib": round(level.rss_peak / 2**20, 1),
            "rss_kib_per_call": round((level.rss_peak - level.rss_idle) / 1024 / calls, 1),
            "loop": loop_figures(start.loop, end.loop),
        }
    )
    if level.profile_path is not None and level.profile_path.exists():
        with level.profile_path.open() as collapsed:
            row["server_profile"] = profile_summary(collapsed)
    return row


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


async def _warm_up(opts: Options, server_base: str, run_id: str, kind: str, workdir: Path) -> None:
    if opts.warmup_s <= 0:
        return
    url = server_base.replace("http://", "ws://") + "/llm-websocket"
    # Back-to-back turns: the point is to exercise every code path once, not to load.
    warm = replace(
        opts,
        duration_s=opts.warmup_s,
        ramp_s=0.5,
        stagger_s=0.5,
        min_turns=0,
        speech_ms_per_word=0.0,
        think_min_s=0.2,
        think_max_s=0.5,
    )
    out = workdir / f"load-{kind}-warmup.json"
    argv = _loadgen_argv(warm, 2, url, f"w{run_id}-{kind[0]}", out)
    loadgen = await Child.start(f"loadgen-{kind}-warmup", argv, env=_clean_env(), log_dir=workdir)
    try:
        async with asyncio.timeout(opts.warmup_s + 60):
            code = await loadgen.proc.wait()
    finally:
        await loadgen.stop(signal.SIGTERM, 5)
    if code != 0:
        raise ChildFailed(f"warm-up load failed ({code}):\n{loadgen.tail()}")


# --- one database ---------------------------------------------------------------------------


async def _run_db(
    kind: str, opts: Options, run_id: str, workdir: Path, say: Say
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    async with bench_database(kind, workdir=workdir, run_id=run_id, pg_admin_dsn=opts.pg_url) as db:
        fake, fake_base = await _start_fake(opts, workdir)
        server: Child | None = None
        try:
            server, server_base, journal = await _start_server(db, fake_base, workdir)
            say(f"{kind}: server pid {server.pid}, fake LLM pid {fake.pid}; warming up")
            await _warm_up(opts, server_base, run_id, kind, workdir)
            rows: list[dict[str, Any]] = []
            async with httpx.AsyncClient(timeout=10.0) as http:
                for calls in opts.levels:
                    level = _Level(calls, db, server, fake, server_base, fake_base, http)
                    rows.append(await _measure_level(opts, level, run_id, workdir, say))
            stored = sum((await db.event_counts(f"b{run_id}-{kind[0]}")).values())
            code = await server.stop(signal.SIGINT, STOP_SERVER_S)
            after = sum((await db.event_counts(f"b{run_id}-{kind[0]}")).values())
            shutdown = {
                "server_exit_code": code,
                "event_rows_before_stop": stored,
                "event_rows_after_stop": after,
                "journal_bytes_left": journal.stat().st_size if journal.exists() else 0,
            }
            return rows, shutdown
        finally:
            if server is not None:
                await server.stop(signal.SIGINT, STOP_SERVER_S)
            await fake.stop(signal.SIGTERM, 10)


async def run_benchmark(opts: Options, say: Say) -> dict[str, Any]:
    """Run every database kind and level of ``opts``; returns the JSON document."""
    if "postgres" in opts.db_kinds:
        check_loopback(opts.pg_url)
    machine = machine_info()
    run_id = f"{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="voiceops-bench-"))
    deadline_ms, fallback_ms = _server_defaults()
    rows: list[dict[str, Any]] = []
    shutdowns: dict[str, Any] = {}
    finished = False
    try:
        for kind in opts.db_kinds:
            kind_rows, shutdowns[kind] = await _run_db(kind, opts, run_id, workdir, say)
            rows.extend(kind_rows)
        finished = True
    finally:
        if finished and not opts.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"logs and raw samples kept in {workdir}")
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return {
        "run_id": run_id,
        "command": list(opts.command),
        "machine": machine,
        "options": {k: v for k, v in asdict(opts).items() if k not in ("command", "pg_url")},
        "server_settings": {
            "filler_deadline_ms": deadline_ms,
            "fallback_deadline_ms": fallback_ms,
            "note": "defaults; brain=llm against the fake LLM",
        },
        "results": rows,
        "shutdown": shutdowns,
        "targets": check_targets(rows),
    }


# --- command line ---------------------------------------------------------------------------


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of integers: {text}"
        ) from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("levels must be positive")
    return levels


def parse_args(argv: Sequence[str] | None) -> tuple[Options, Path, bool]:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description=(
            "Benchmark voiceops under simulated Retell calls against a fake LLM; prints a "
            "Markdown table and writes every figure as JSON."
        ),
    )
    parser.add_argument("--levels", type=_levels, default=DEFAULT_LEVELS, help="e.g. 1,50,200")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per level")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--first-token-ms", type=float, default=300.0)
    parser.add_argument("--token-ms", type=float, default=15.0)
    parser.add_argument("--barge-in-share", type=float, default=0.2)
    parser.add_argument("--slow-share", type=float, default=0.15, help="turns timing the filler")
    parser.add_argument("--slow-first-token-ms", type=int, default=None)
    parser.add_argument("--think-min-s", type=float, default=0.5)
    parser.add_argument("--think-max-s", type=float, default=1.5)
    parser.add_argument(
        "--speech-ms-per-word", type=float, default=300.0, help="how fast replies are spoken"
    )
    parser.add_argument("--min-turns", type=int, default=12, help="per level, see --duration")
    parser.add_argument("--ramp-s", type=float, default=None, help="default: calls/100, min 1")
    parser.add_argument(
        "--stagger-s", type=float, default=10.0, help="first turns spread over this, then measure"
    )
    parser.add_argument(
        "--history-turns",
        type=int,
        default=0,
        help="exchanges already in each call's transcript (about 10 s of call each)",
    )
    parser.add_argument("--warmup-s", type=float, default=5.0, help="unmeasured, 2 calls")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="admin DSN of a local PostgreSQL")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="bench-results/<time>.json")
    parser.add_argument("--keep-workdir", action="store_true", help="keep logs and raw samples")
    parser.add_argument("--profile", action="store_true", help="py-spy the server over each window")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    opts = Options(
        levels=args.levels,
        duration_s=args.duration,
        db=args.db,
        first_token_ms=args.first_token_ms,
        token_ms=args.token_ms,
        barge_in_share=args.barge_in_share,
        slow_share=args.slow_share,
        slow_first_token_ms=args.slow_first_token_ms,
        think_min_s=args.think_min_s,
        think_max_s=args.think_max_s,
        speech_ms_per_word=args.speech_ms_per_word,
        min_turns=args.min_turns,
        ramp_s=args.ramp_s,
        stagger_s=args.stagger_s,
        history_turns=args.history_turns,
        warmup_s=args.warmup_s,
        pg_url=args.pg_url,
        seed=args.seed,
        keep_workdir=args.keep_workdir or args.profile,
        profile=args.profile,
        command=("scripts/bench", *(argv if argv is not None else sys.argv[1:])),
    )
    out = args.out or REPO / "bench-results" / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    return opts, out, args.check


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def render(document: dict[str, Any]) -> str:
    """The table, the machine line, and the verdicts: what ``main`` prints."""
    machine = document["machine"]
    other = [r["other_cpu_cores"] for r in document["results"]]
    shared = (
        f"; other processes used up to {max(other):.2f} cores during the windows" if other else ""
    )
    lines = [
        markdown_table(document["results"]),
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}; load average at start {machine['load_average_at_start']}"
        + shared,
        f"Command: {' '.join(document['command'])}",
        "",
        *verdict_lines(document["targets"]),
    ]
    return "\n".join(lines) + "\n"


async def _main_async(opts: Options) -> dict[str, Any]:
    # SIGTERM takes the same path as Ctrl-C: cancel, and let every ``finally`` clean up.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await run_benchmark(opts, _say)


def main(argv: Sequence[str] | None = None) -> int:
    opts, out, check = parse_args(argv)
    try:
        document = asyncio.run(_main_async(opts))
    except (ChildFailed, ValueError) as exc:
        _say(f"benchmark failed: {exc}")
        return 1
    except (OSError, SQLAlchemyError) as exc:
        _say(f"benchmark failed: is PostgreSQL up at {opts.pg_url}? ({exc})")
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        _say("benchmark interrupted; children stopped")
        return 130
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n")
    sys.stdout.write(render(document))
    _say(f"JSON written to {out}")
    if check and any(v["met"] is False for v in document["targets"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
