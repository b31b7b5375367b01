"""What a run reads and writes outside its calls: the evidence a call left in the
runner's own server's database, the run stored in the operator's database, the profile's
version there, and what a running server (``--url``) says about itself on ``/healthz``."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from dataclasses import dataclass

from voiceops.config import Settings
from voiceops.core.clock import Clock
from voiceops.core.profile import AgentProfile
from voiceops.evals.outcome import EvalOptions, RunResult, percentile
from voiceops.evals.results import Evidence
from voiceops.store.db import Database
from voiceops.store.evals import (
    EvalResultRecord,
    EvalRunRecord,
    EvalRunRepo,
    read_bookings,
    read_call,
    read_callbacks,
    read_events,
)


async def read_evidence(db_url: str, call_id: str) -> Evidence:
    db = await Database.open(db_url)
    try:
        return Evidence(
            bookings=await read_bookings(db),
            callbacks=await read_callbacks(db),
            events=await read_events(db, call_id),
            call_row=await read_call(db, call_id),
        )
    finally:
        await db.close()


async def store_run(settings: Settings, run: RunResult, options: EvalOptions) -> None:
    """Record the run in the operator's database."""
    db = await Database.open(settings.database_url)
    try:
        status = "passed" if run.exit_code(strict_xfail=options.strict_xfail) == 0 else "failed"
        latencies = run.latencies
        record = EvalRunRecord(
            run_id=run.run_id,
            started_at=run.started_at,
            finished_at=run.finished_at,
            status=status,
            brain=run.brain,
            target=run.target,
            code_version=run.code_version,
            scenarios=len({r.name for r in run.results}),
            passed=run.count("passed"),
            failed=run.count("failed") + run.count("error"),
            xfailed=run.count("xfailed"),
            xpassed=run.count("xpassed"),
            skipped=run.count("skipped"),
            flaky=len(run.flaky),
            duration_ms=int(run.duration_s * 1000),
            profile_version=run.profile_version,
            profile_sha256=run.profile_sha256,
            first_frame_p50_ms=percentile(latencies, 50),
            first_frame_p95_ms=percentile(latencies, 95),
            options={
                "paths": [str(p) for p in options.paths],
                "repeat": options.repeat,
                "tags": options.tags,
                "select": options.select,
                "judge": options.judge,
            },
        )
        results = [
            EvalResultRecord(
                scenario=r.name,
                path=str(r.loaded.path),
                attempt=r.attempt,
                status=r.status,
                reason=r.reason,
                turns=len(r.loaded.scenario.turns),
                duration_ms=int(r.duration_s * 1000),
                first_frame_p50_ms=percentile(r.turn_latencies, 50),
                first_frame_p95_ms=percentile(r.turn_latencies, 95),
                failures=[
                    {"where": c.where, "check": c.name, "detail": c.detail} for c in r.failures
                ],
            )
            for r in run.results
        ]
        await EvalRunRepo(db).record(record, results)
    finally:
        await db.close()


async def profile_version(
    settings: Settings, profile: AgentProfile, clock: Clock
) -> tuple[int | None, str]:
    """The version the operator's database gives ``profile`` (saving it, as ``serve``
    does at start), and its content hash."""
    from voiceops.store.profiles import ProfileRepo, profile_digest

    digest, _ = profile_digest(profile)
    db = await Database.open(settings.database_url)
    try:
        return await ProfileRepo(db, clock=clock).save(profile), digest
    finally:
        await db.close()


def _healthz(ws_url: str) -> dict[str, object]:
    parts = urllib.parse.urlsplit(ws_url)
    scheme = "https" if parts.scheme in ("wss", "https") else "http"
    url = f"{scheme}://{parts.netloc}/healthz"
    with urllib.request.urlopen(url, timeout=3) as response:
        body = json.loads(response.read())
    return body if isinstance(body, dict) else {}


@dataclass(frozen=True, slots=True)
class RemoteServer:
    """What a running server says about itself on ``/healthz``."""

    brain: str | None = None
    profile_version: int | None = None
    code_version: str | None = None


async def remote_server(ws_url: str) -> RemoteServer:
    try:
        info = await asyncio.to_thread(_healthz, ws_url)
    except (OSError, ValueError):
        return RemoteServer()
    brain, version, code = info.get("brain"), info.get("profile_version"), info.get("version")
    return RemoteServer(
        brain=str(brain) if brain is not None else None,
        profile_version=version if isinstance(version, int) else None,
        code_version=str(code) if code is not None else None,
    )
