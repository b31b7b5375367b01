"""The evaluation run repository, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.pgutil import fresh_pg_database
from voiceops.store.db import Database
from voiceops.store.evals import EvalResultRecord, EvalRunRecord, EvalRunRepo
from voiceops.store.migrate import upgrade

T0 = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'voiceops.db'}"
        await upgrade(url)
        database = await Database.open(url)
        try:
            yield database
        finally:
            await database.close()
        return
    async with fresh_pg_database() as url:
        await upgrade(url)
        database = await Database.open(url)
        try:
            yield database
        finally:
            await database.close()


def a_run(run_id: str, at: datetime, status: str, version: int) -> EvalRunRecord:
    return EvalRunRecord(
        run_id=run_id,
        started_at=at,
        finished_at=at + timedelta(seconds=30),
        status=status,
        brain="flow",
        target="own server",
        code_version="0.1.0+abc",
        scenarios=2,
        passed=1 if status == "failed" else 2,
        failed=1 if status == "failed" else 0,
        xfailed=0,
        xpassed=0,
        skipped=0,
        flaky=0,
        duration_ms=30_000,
        profile_version=version,
        profile_sha256="f" * 64,
        first_frame_p50_ms=12.5,
        first_frame_p95_ms=40.0,
        options={"repeat": 1},
    )


async def test_runs_and_results_round_trip(db: Database) -> None:
    repo = EvalRunRepo(db)
    failures = [{"where": "turn 2", "check": "says", "detail": "missing ['3 PM']"}]
    await repo.record(
        a_run("r1", T0, "failed", 3),
        [
            EvalResultRecord("a", "evals/a.yaml", 1, "passed", 4, 300, first_frame_p50_ms=10.0),
            EvalResultRecord("b", "evals/b.yaml", 1, "failed", 2, 200, "turn 2", failures=failures),
        ],
    )
    await repo.record(a_run("r2", T0 + timedelta(hours=1), "passed", 3), [])
    await repo.record(a_run("r3", T0 + timedelta(hours=2), "passed", 4), [])
    assert [r.run_id for r in await repo.list_runs()] == ["r3", "r2", "r1"]
    stored = await repo.get("r1")
    assert stored is not None and stored.started_at == T0 and stored.options == {"repeat": 1}
    results = await repo.results("r1")
    assert [(r.scenario, r.status) for r in results] == [("a", "passed"), ("b", "failed")]
    assert results[1].failures == failures
    latest = await repo.latest_passing(3)
    assert latest is not None and latest.run_id == "r2"
    assert await repo.latest_passing(5) is None
    assert await repo.get("nope") is None
