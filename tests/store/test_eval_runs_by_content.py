"""Evaluation runs found by a profile's content or version (the console's publish gate
and the agent page), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voiceops.config import DEFAULT_PROFILE
from voiceops.core.profile import load_profile
from voiceops.store.db import Database
from voiceops.store.evals import EvalRunRecord, EvalRunRepo
from voiceops.store.profiles import ProfileRepo, profile_digest

T0 = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)


def a_run(
    run_id: str, minutes: int, status: str, *, version: int | None, sha: str | None
) -> EvalRunRecord:
    at = T0 + timedelta(minutes=minutes)
    return EvalRunRecord(
        run_id=run_id,
        started_at=at,
        finished_at=at + timedelta(seconds=30),
        status=status,
        brain="flow",
        target="own server",
        code_version="0.1.0",
        scenarios=3,
        passed=3 if status == "passed" else 2,
        failed=0 if status == "passed" else 1,
        xfailed=0,
        xpassed=0,
        skipped=0,
        flaky=0,
        duration_ms=30_000,
        profile_version=version,
        profile_sha256=sha,
    )


async def test_runs_are_found_by_content_or_by_the_version_holding_it(db: Database) -> None:
    profiles = ProfileRepo(db)
    first = load_profile(DEFAULT_PROFILE)
    second = first.model_copy(update={"greeting": "Hello there! How can I help?"})
    v1, v2 = await profiles.save(first), await profiles.save(second)
    sha1, sha2 = profile_digest(first)[0], profile_digest(second)[0]
    draft_sha = "d" * 64  # content never saved as a version
    repo = EvalRunRepo(db)
    assert await repo.latest_for_content(sha1) is None
    assert await repo.latest_by_version() == {}

    await repo.record(a_run("old_pass", 0, "passed", version=v1, sha=sha1), [])
    await repo.record(a_run("remote_fail", 5, "failed", version=v1, sha=None), [])
    await repo.record(a_run("v2_fail", 7, "failed", version=v2, sha=sha2), [])
    await repo.record(a_run("draft_pass", 9, "passed", version=None, sha=draft_sha), [])

    newest = await repo.latest_for_content(sha1)
    assert newest is not None and newest.run_id == "remote_fail"  # matched by version
    passing = await repo.latest_for_content(sha1, passed=True)
    assert passing is not None and passing.run_id == "old_pass"
    assert await repo.latest_for_content(sha2, passed=True) is None
    draft = await repo.latest_for_content(draft_sha, passed=True)
    assert draft is not None and draft.run_id == "draft_pass"

    by_version = await repo.latest_by_version()
    assert {v: r.run_id for v, r in by_version.items()} == {v1: "remote_fail", v2: "v2_fail"}
    await repo.record(a_run("v2_pass", 11, "passed", version=None, sha=sha2), [])
    assert (await repo.latest_by_version())[v2].run_id == "v2_pass"  # matched by content
