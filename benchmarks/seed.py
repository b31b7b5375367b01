"""Seed a database with N realistic calls over the last ~90 days, for the console's page
timings (``benchmarks/pages.py``) and for looking at the insight pages by hand.

Three agent versions follow one another (v1, then v2, then v3, with overlap); each call has
its turns (``user_turn`` and ``turn_completed`` with the first speakable frame, fillers and
the odd fallback), some escalate (model, phrase, frustration, loop) and some of those are
transferred (``transfer_status`` as Retell's ``transfer_*`` webhooks leave it) or leave a
callback request; most carry Retell's latency, cost and post-call analysis. A few outbound
calls close earlier callbacks. Evaluation runs are recorded per version.

    .venv/bin/python -m benchmarks.seed --calls 100000 --db sqlite+aiosqlite:///seed.db
    .venv/bin/python -m benchmarks.seed --calls 100000 \
        --db postgresql+asyncpg://postgres@127.0.0.1:5432/voiceops_pages

The database is migrated first; seeded rows are added to what is there. Random but
repeatable (``--seed``).
"""

from __future__ import annotations

import argparse
import asyncio
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from voiceops.core.clock import SystemClock
from voiceops.store.db import Database
from voiceops.store.migrate import upgrade
from voiceops.store.tables import call_events, callback_requests, calls, eval_runs

DAYS = 90
WORDS = (
    "haircut friday colour appointment price cancel tomorrow morning beard trim wash "
    "blow dry saturday afternoon student discount parking open hours booking"
).split()
REASONS = (
    "caller asked for a person",
    "billing question",
    "complaint about a visit",
    "caller is frustrated",
    "conversation is going in circles",
    "group booking",
)
OUTCOMES = ("booked", "answered", "transferred", "callback", "abandoned")
DISCONNECTS = (
    "user_hangup",
    "agent_hangup",
    "call_transfer",
    "inactivity",
    "error_llm_websocket_lost_connection",
)


def _version(day: float, rng: random.Random) -> int:
    """v1 for the first third, v2 the second, v3 the last; a week of overlap each time."""
    if day < 30:
        return 1 if day < 23 or rng.random() < 0.5 else 2
    if day < 60:
        return 2 if day < 53 or rng.random() < 0.5 else 3
    return 3


def _latency(rng: random.Random, turns: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part, mean in (("e2e", 1100), ("asr", 180), ("llm", 520), ("tts", 260)):
        values = [max(20, int(rng.gauss(mean, mean * 0.25))) for _ in range(turns)]
        ordered = sorted(values)
        out[part] = {
            "p50": ordered[len(ordered) // 2],
            "p90": ordered[int(len(ordered) * 0.9)],
            "min": ordered[0],
            "max": ordered[-1],
            "num": len(values),
            "values": values,
        }
    return out


def _cost(rng: random.Random, seconds: float) -> dict[str, Any]:
    platform, voice = round(0.117 * seconds, 4), round(0.0117 * seconds * 6, 4)
    products = [
        {"product": "retell_platform", "cost": platform, "unit_price": 0.117},
        {"product": "elevenlabs_tts", "cost": voice, "unit_price": 0.0702},
    ]
    if rng.random() < 0.7:
        products.append({"product": "retell_twilio", "cost": round(0.025 * seconds, 4)})
    return {
        "product_costs": products,
        "combined_cost": round(sum(p["cost"] for p in products), 4),
        "total_duration_seconds": round(seconds),
        "total_duration_unit_price": 0.2,
    }


def one_call(i: int, now: datetime, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """The rows of one call: ``calls``, ``call_events``, ``callback_requests``."""
    day = rng.random() * DAYS
    hour = rng.choice((8, 9, 9, 10, 10, 11, 11, 12, 13, 14, 14, 15, 15, 16, 17, 18))
    start = (now - timedelta(days=DAYS) + timedelta(days=int(day), hours=hour)).replace(
        minute=rng.randrange(60), second=rng.randrange(60), microsecond=0
    )
    version = _version(day, rng)
    call_id = f"call_seed_{i:07d}"
    turns = rng.randint(2, 12)
    seconds = turns * rng.uniform(8, 16)
    outcome = rng.choices(OUTCOMES, (45, 30, 10, 8, 7))[0]
    events: list[dict[str, Any]] = []
    slow = 1.0 + (0.15 if version == 2 else 0.0)
    for t in range(turns):
        at = start + timedelta(seconds=t * seconds / turns)
        said = " ".join(rng.sample(WORDS, 4))
        events.append(_event(call_id, "user_turn", t, at, role="user", content=said))
        first = int(rng.lognormvariate(6.0, 0.35) * slow)
        filler = first > 600
        fallback = rng.random() < 0.02
        if fallback:
            events.append(_event(call_id, "fallback", t, at, payload={"reason": "stalled"}))
        events.append(
            _event(
                call_id,
                "turn_completed",
                t,
                at,
                role="agent",
                content=said,
                latency_ms=first,
                tokens_in=rng.randint(800, 1600),
                tokens_out=rng.randint(20, 80),
                payload={
                    "brain": "flow" if fallback else "llm",
                    "filler": filler,
                    "tokens_cached": rng.randint(0, 700),
                    "outcome": "completed",
                },
            )
        )
    row: dict[str, Any] = {
        "call_id": call_id,
        "agent_id": "agent_seed",
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": f"+1212555{i % 10000:04d}",
        "to_number": "+12125550100",
        "call_status": "ended",
        "started_at": start,
        "ended_at": start + timedelta(seconds=seconds),
        "duration_ms": int(seconds * 1000),
        "disconnection_reason": "call_transfer"
        if outcome == "transferred"
        else rng.choice(DISCONNECTS),
        "outcome": outcome,
        "profile_version": version,
        "transcript_size": turns * 2,
        "created_at": start,
        "updated_at": start + timedelta(seconds=seconds + 30),
    }
    if rng.random() < 0.9:
        row["latency"] = _latency(rng, turns)
        row["call_cost"] = _cost(rng, seconds)
        row["call_analysis"] = {
            "call_successful": rng.random() < (0.8 if version == 3 else 0.7),
            "user_sentiment": rng.choice(("Positive", "Positive", "Neutral", "Negative")),
        }
    callbacks: list[dict[str, Any]] = []
    if outcome in ("transferred", "callback") or rng.random() < 0.05:
        trigger = rng.choice(("model", "phrase", "frustration", "loop"))
        esc = "transfer" if outcome == "transferred" else "callback_required"
        at = start + timedelta(seconds=seconds * 0.8)
        events.append(
            _event(
                call_id,
                "escalation",
                turns,
                at,
                payload={
                    "reason": rng.choice(REASONS),
                    "trigger": trigger,
                    "outcome": esc,
                    "priority": "medium",
                },
            )
        )
        if outcome == "transferred":
            row["transfer_status"] = rng.choices(("ended", "bridged", "cancelled"), (70, 20, 10))[0]
        else:
            callbacks.append(
                {
                    "request_id": f"cb_{call_id}",
                    "call_id": call_id,
                    "name": "Sam",
                    "phone": row["from_number"],
                    "reason": rng.choice(REASONS),
                    "priority": "medium",
                    "idempotency_key": f"cb:{call_id}",
                    "created_at": at,
                }
            )
    return {"calls": [row], "events": events, "callbacks": callbacks}


def _event(call_id: str, kind: str, turn: int, at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"{call_id}:{turn}:{kind}",
        "call_id": call_id,
        "event_type": kind,
        "turn_index": turn,
        "response_id": turn,
        "created_at": at,
        "role": None,
        "content": None,
        "latency_ms": None,
        "tokens_in": None,
        "tokens_out": None,
        "payload": None,
    } | extra


def _outbound(i: int, callback: dict[str, Any], version: int, rng: random.Random) -> dict[str, Any]:
    """The agent calling back a caller who asked for it, a few hours later."""
    start = callback["created_at"] + timedelta(hours=rng.randint(1, 30))
    return {
        "call_id": f"call_seed_out_{i:07d}",
        "call_type": "phone_call",
        "direction": "outbound",
        "from_number": "+12125550100",
        "to_number": callback["phone"],
        "call_status": "ended",
        "started_at": start,
        "ended_at": start + timedelta(minutes=2),
        "duration_ms": 120_000,
        "disconnection_reason": "agent_hangup",
        "outcome": "answered",
        "profile_version": version,
        "transcript_size": 0,
        "created_at": start,
        "updated_at": start,
    }


async def seed(url: str, n: int, *, now: datetime, seed_value: int = 7) -> None:
    await upgrade(url)
    db = await Database.open(url)
    rng = random.Random(seed_value)
    try:
        batch: dict[str, list[dict[str, Any]]] = {"calls": [], "events": [], "callbacks": []}
        outbound = 0
        for i in range(n):
            rows = one_call(i, now, rng)
            for key, more in rows.items():
                batch[key].extend(more)
            version = rows["calls"][0]["profile_version"]
            for cb in rows["callbacks"]:
                if rng.random() < 0.6:
                    batch["calls"].append(_outbound(outbound, cb, version, rng))
                    outbound += 1
            if len(batch["calls"]) >= 2000 or i == n - 1:
                await _write(db, batch)
                batch = {"calls": [], "events": [], "callbacks": []}
        await _evals(db, now, rng)
        if db.dialect == "postgresql":  # as autovacuum would after such an import
            async with db.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("ANALYZE")
    finally:
        await db.close()


async def _write(db: Database, batch: dict[str, list[dict[str, Any]]]) -> None:
    async with db.transaction("seed calls") as conn:
        await conn.execute(insert(calls), _same_keys(batch["calls"]))
        await conn.execute(insert(call_events), batch["events"])
        if batch["callbacks"]:
            await conn.execute(insert(callback_requests), batch["callbacks"])


def _same_keys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = {k for r in rows for k in r}
    return [{k: r.get(k) for k in keys} for r in rows]


async def _evals(db: Database, now: datetime, rng: random.Random) -> None:
    rows = []
    for k in range(36):
        version = 1 + k // 12
        started = now - timedelta(days=DAYS - 2.5 * k)
        failed = rng.randint(0, 4 - version)
        rows.append(
            {
                "run_id": f"run_seed_{k:03d}",
                "started_at": started,
                "finished_at": started + timedelta(minutes=3),
                "status": "failed" if failed else "passed",
                "brain": "llm",
                "target": "local",
                "profile_version": version,
                "code_version": "seed",
                "scenarios": 40,
                "passed": 40 - failed,
                "failed": failed,
                "xfailed": 0,
                "xpassed": 0,
                "skipped": 0,
                "flaky": 0,
                "duration_ms": 180_000,
            }
        )
    async with db.transaction("seed evaluation runs") as conn:
        await conn.execute(insert(eval_runs), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--db", required=True, help="a SQLAlchemy URL (sqlite+aiosqlite://…)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    now = SystemClock().now().replace(minute=0, second=0, microsecond=0)
    asyncio.run(seed(args.db, args.calls, now=now, seed_value=args.seed))


if __name__ == "__main__":
    main()
