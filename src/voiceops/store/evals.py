"""What the evaluation suite keeps and reads: runs and their results, and a call's evidence.

:class:`EvalRunRepo` stores one row per ``voiceops eval`` run (which brain, profile version
and code version it tested, how many scenarios passed) and one per scenario attempt, so the
console can list runs and refuse to publish a profile version without a passing run.

The other functions serve the runner's own server: it seeds the diary before a call
(:func:`seed_booking`) and reads back what the call left (bookings, callback requests, call
events, the call's row) to check a scenario's expectations, and ``voiceops eval
--from-call`` reads a stored call to turn it into a scenario.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import RowMapping

from voiceops.core.names import name_key
from voiceops.core.phone import phone_digits
from voiceops.store.db import Database
from voiceops.store.tables import (
    agent_profiles,
    bookings,
    call_events,
    callback_requests,
    calls,
    eval_results,
    eval_runs,
)

# --------------------------------------------------------------------------------------
# runs


@dataclass(frozen=True, slots=True)
class EvalResultRecord:
    """One scenario attempt of a run."""

    scenario: str
    path: str
    attempt: int
    status: str
    """``passed``, ``failed``, ``xfailed``, ``xpassed``, ``skipped`` or ``error``."""
    turns: int
    duration_ms: int
    reason: str = ""
    first_frame_p50_ms: float | None = None
    first_frame_p95_ms: float | None = None
    failures: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EvalRunRecord:
    run_id: str
    started_at: datetime
    finished_at: datetime
    status: str
    """``passed`` (the run's exit code was 0) or ``failed``."""
    brain: str
    target: str
    """``own server`` or the URL the run played against."""
    code_version: str
    scenarios: int
    passed: int
    failed: int
    xfailed: int
    xpassed: int
    skipped: int
    flaky: int
    duration_ms: int
    profile_version: int | None = None
    profile_sha256: str | None = None
    first_frame_p50_ms: float | None = None
    first_frame_p95_ms: float | None = None
    options: dict[str, Any] = field(default_factory=dict)


def _run(row: RowMapping) -> EvalRunRecord:
    return EvalRunRecord(
        run_id=row["run_id"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        status=row["status"],
        brain=row["brain"],
        target=row["target"],
        code_version=row["code_version"],
        scenarios=row["scenarios"],
        passed=row["passed"],
        failed=row["failed"],
        xfailed=row["xfailed"],
        xpassed=row["xpassed"],
        skipped=row["skipped"],
        flaky=row["flaky"],
        duration_ms=row["duration_ms"],
        profile_version=row["profile_version"],
        profile_sha256=row["profile_sha256"],
        first_frame_p50_ms=row["first_frame_p50_ms"],
        first_frame_p95_ms=row["first_frame_p95_ms"],
        options=dict(row["options"] or {}),
    )


def _result(row: RowMapping) -> EvalResultRecord:
    return EvalResultRecord(
        scenario=row["scenario"],
        path=row["path"],
        attempt=row["attempt"],
        status=row["status"],
        turns=row["turns"],
        duration_ms=row["duration_ms"],
        reason=row["reason"],
        first_frame_p50_ms=row["first_frame_p50_ms"],
        first_frame_p95_ms=row["first_frame_p95_ms"],
        failures=list(row["failures"] or []),
    )


class EvalRunRepo:
    """Evaluation runs, newest first."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, run: EvalRunRecord, results: Sequence[EvalResultRecord]) -> None:
        """Store a finished run and its results in one transaction."""
        async with self._db.transaction("record evaluation run") as conn:
            await conn.execute(
                eval_runs.insert().values(
                    run_id=run.run_id,
                    started_at=run.started_at,
                    finished_at=run.finished_at,
                    status=run.status,
                    brain=run.brain[:32],
                    target=run.target[:255],
                    profile_version=run.profile_version,
                    profile_sha256=run.profile_sha256,
                    code_version=run.code_version[:64],
                    scenarios=run.scenarios,
                    passed=run.passed,
                    failed=run.failed,
                    xfailed=run.xfailed,
                    xpassed=run.xpassed,
                    skipped=run.skipped,
                    flaky=run.flaky,
                    first_frame_p50_ms=run.first_frame_p50_ms,
                    first_frame_p95_ms=run.first_frame_p95_ms,
                    duration_ms=run.duration_ms,
                    options=run.options,
                )
            )
            if results:
                await conn.execute(
                    eval_results.insert(),
                    [
                        {
                            "run_id": run.run_id,
                            "scenario": r.scenario[:255],
                            "path": r.path,
                            "attempt": r.attempt,
                            "status": r.status,
                            "reason": r.reason,
                            "turns": r.turns,
                            "duration_ms": r.duration_ms,
                            "first_frame_p50_ms": r.first_frame_p50_ms,
                            "first_frame_p95_ms": r.first_frame_p95_ms,
                            "failures": r.failures,
                        }
                        for r in results
                    ],
                )

    async def list_runs(self, *, limit: int = 50, offset: int = 0) -> list[EvalRunRecord]:
        stmt = (
            select(eval_runs)
            .order_by(eval_runs.c.started_at.desc(), eval_runs.c.run_id)
            .limit(limit)
            .offset(offset)
        )
        async with self._db.transaction("list evaluation runs") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_run(row) for row in rows]

    async def get(self, run_id: str) -> EvalRunRecord | None:
        stmt = select(eval_runs).where(eval_runs.c.run_id == run_id)
        async with self._db.transaction("read evaluation run") as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else _run(row)

    async def results(self, run_id: str) -> list[EvalResultRecord]:
        stmt = (
            select(eval_results)
            .where(eval_results.c.run_id == run_id)
            .order_by(eval_results.c.scenario, eval_results.c.attempt)
        )
        async with self._db.transaction("read evaluation results") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_result(row) for row in rows]

    async def latest_passing(self, profile_version: int) -> EvalRunRecord | None:
        """The newest passing run of ``profile_version`` (what a publish gate asks)."""
        stmt = (
            select(eval_runs)
            .where(
                eval_runs.c.profile_version == profile_version,
                eval_runs.c.status == "passed",
            )
            .order_by(eval_runs.c.started_at.desc())
            .limit(1)
        )
        async with self._db.transaction("read evaluation runs") as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else _run(row)

    async def latest_for_content(
        self, profile_sha256: str, *, passed: bool = False
    ) -> EvalRunRecord | None:
        """The newest run (with ``passed``, the newest passing one) of a profile's content:
        a run that recorded that content hash, or that played against the version holding
        that content (a run against a running server records the version alone)."""
        same_version = select(agent_profiles.c.version).where(
            agent_profiles.c.content_sha256 == profile_sha256
        )
        stmt = select(eval_runs).where(
            or_(
                eval_runs.c.profile_sha256 == profile_sha256,
                eval_runs.c.profile_version.in_(same_version.scalar_subquery()),
            )
        )
        if passed:
            stmt = stmt.where(eval_runs.c.status == "passed")
        stmt = stmt.order_by(eval_runs.c.started_at.desc(), eval_runs.c.run_id).limit(1)
        async with self._db.transaction("read evaluation runs") as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else _run(row)

    async def latest_by_version(self, *, scan: int = 2000) -> dict[int, EvalRunRecord]:
        """The newest run of each profile version, matched by version or by content,
        among the newest ``scan`` runs."""
        stmt = (
            select(agent_profiles.c.version.label("of_version"), eval_runs)
            .select_from(
                eval_runs.join(
                    agent_profiles,
                    or_(
                        eval_runs.c.profile_version == agent_profiles.c.version,
                        eval_runs.c.profile_sha256 == agent_profiles.c.content_sha256,
                    ),
                )
            )
            .order_by(eval_runs.c.started_at.desc(), eval_runs.c.run_id)
            .limit(scan)
        )
        async with self._db.transaction("read evaluation runs") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        latest: dict[int, EvalRunRecord] = {}
        for row in rows:
            latest.setdefault(int(row["of_version"]), _run(row))
        return latest


# --------------------------------------------------------------------------------------
# a call's evidence


@dataclass(frozen=True, slots=True)
class StoredBooking:
    booking_id: str
    call_id: str
    service: str
    customer_name: str
    customer_phone: str | None
    local_start: str
    """ISO-8601 caller-local start with its offset."""
    caller_zone: str
    status: str


@dataclass(frozen=True, slots=True)
class StoredCallback:
    call_id: str
    name: str
    phone: str
    reason: str
    priority: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event_type: str
    response_id: int | None
    turn_index: int | None
    role: str | None
    content: str | None
    payload: dict[str, Any]
    created_at: datetime


async def read_bookings(db: Database) -> list[StoredBooking]:
    """Every booking in the diary, in order of creation."""
    stmt = select(bookings).order_by(bookings.c.created_at, bookings.c.booking_id)
    async with db.transaction("read bookings") as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    return [
        StoredBooking(
            booking_id=row["booking_id"],
            call_id=row["call_id"],
            service=row["service"],
            customer_name=row["customer_name"],
            customer_phone=row["customer_phone"],
            local_start=row["local_start"],
            caller_zone=row["caller_zone"],
            status=row["status"],
        )
        for row in rows
    ]


async def read_callbacks(db: Database) -> list[StoredCallback]:
    """Every callback request, in order of creation."""
    stmt = select(callback_requests).order_by(
        callback_requests.c.created_at, callback_requests.c.request_id
    )
    async with db.transaction("read callback requests") as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    return [
        StoredCallback(
            call_id=row["call_id"],
            name=row["name"],
            phone=row["phone"],
            reason=row["reason"],
            priority=row["priority"],
        )
        for row in rows
    ]


async def read_events(db: Database, call_id: str) -> list[StoredEvent]:
    """The call's events in the order they were written."""
    stmt = (
        select(call_events)
        .where(call_events.c.call_id == call_id)
        .order_by(call_events.c.created_at, call_events.c.id)
    )
    async with db.transaction("read call events") as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    return [
        StoredEvent(
            event_type=row["event_type"],
            response_id=row["response_id"],
            turn_index=row["turn_index"],
            role=row["role"],
            content=row["content"],
            payload=dict(row["payload"] or {}),
            created_at=row["created_at"],
        )
        for row in rows
    ]


async def read_call(db: Database, call_id: str) -> dict[str, Any] | None:
    """The call's row (every column), or ``None``."""
    stmt = select(calls).where(calls.c.call_id == call_id)
    async with db.transaction("read call") as conn:
        row = (await conn.execute(stmt)).mappings().first()
    return None if row is None else dict(row)


async def seed_booking(
    db: Database,
    *,
    booking_id: str,
    service: str,
    customer_name: str,
    customer_phone: str | None,
    start_utc: datetime,
    end_utc: datetime,
    caller_zone: str,
    local_start: str,
    status: str,
    price: str,
    created_at: datetime,
) -> None:
    """Put a booking in the diary as if an earlier call had made it (evaluation set-up).

    Keyed for lookups as the booking repository keys them: the phone by its digits, the
    name stripped and case-folded.
    """
    digits = phone_digits(customer_phone)
    async with db.transaction("seed booking") as conn:
        await conn.execute(
            bookings.insert().values(
                booking_id=booking_id,
                call_id="seed",
                service=service,
                customer_name=customer_name,
                customer_phone=customer_phone,
                phone_key=digits,
                name_key=name_key(customer_name)[:255],
                start_utc=start_utc,
                end_utc=end_utc,
                caller_zone=caller_zone,
                local_start=local_start,
                status=status,
                idempotency_key=f"seed:{booking_id}",
                price=price,
                notes="",
                created_at=created_at,
                updated_at=created_at,
            )
        )
