"""The store reads time only from the clock it is given (``core/clock.py``)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from tests.store.test_bookings import booking
from voiceops.config import DEFAULT_PROFILE
from voiceops.core.clock import ManualClock
from voiceops.core.profile import load_profile
from voiceops.core.state import CallState
from voiceops.store import tables
from voiceops.store.bookings import SqlBookingRepo
from voiceops.store.calls import CallRepo
from voiceops.store.db import Database
from voiceops.store.deadletters import DeadLetters
from voiceops.store.profiles import ProfileRepo
from voiceops.store.retention import purge
from voiceops.store.states import StateStore
from voiceops.store.webhooks import WebhookDeliveryRepo

STORE = Path(__file__).resolve().parents[2] / "src" / "voiceops" / "store"
# A moment far from the machine's clock, so a stamp taken from it could not pass for one.
PINNED = datetime(2041, 6, 7, 8, 9, 10, tzinfo=UTC)

SYSTEM_CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "monotonic_ns"),
    ("time", "perf_counter"),
    ("loop", "time"),
    # Timers on the loop's own clock, which a manual clock cannot move.
    ("asyncio", "sleep"),
    ("asyncio", "timeout"),
    ("asyncio", "timeout_at"),
    ("asyncio", "wait_for"),
}


def _reads(path: Path) -> list[str]:
    """``owner.attr(...)`` calls of ``path`` that read a system clock or wait on one."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else None
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Attribute):
                name = "loop" if "loop" in owner.func.attr else None  # get_running_loop().time()
            if (name, node.func.attr) in SYSTEM_CLOCK_READS:
                found.append(f"{path.name}:{node.lineno} {name}.{node.func.attr}()")
    return found


def test_no_module_of_the_store_reads_or_waits_on_the_system_clock() -> None:
    modules = [p for p in STORE.rglob("*.py") if "migrations" not in p.parts]
    assert len(modules) > 5
    assert [hit for path in modules for hit in _reads(path)] == []


async def test_every_stamp_comes_from_the_injected_clock(db: Database) -> None:
    clock = ManualClock(PINNED)
    await CallRepo(db, clock=clock).set_outcome("call_clock", "ended")
    await StateStore(db, clock=clock).save(CallState(call_id="call_clock"))
    await ProfileRepo(db, clock=clock).save(load_profile(DEFAULT_PROFILE))
    await SqlBookingRepo(db, clock=clock).create_booking(booking(1))
    deliveries = WebhookDeliveryRepo(db, clock=clock)
    delivery_id = await deliveries.record(
        dedupe_key="k",
        event="call_started",
        call_id="call_clock",
        sequence=0,
        signed_at_ms=None,
        raw_body=b"{}",
    )
    assert delivery_id is not None
    delivery = await deliveries.get(delivery_id)
    assert delivery is not None

    async def nothing(_conn: object) -> None:
        return None

    await deliveries.complete(delivery, nothing)
    stamps = [
        tables.calls.c.created_at,
        tables.calls.c.updated_at,
        tables.call_states.c.updated_at,
        tables.agent_profiles.c.created_at,
        tables.bookings.c.updated_at,
        tables.webhook_deliveries.c.received_at,
        tables.webhook_deliveries.c.processed_at,
    ]
    async with db.engine.connect() as conn:
        for column in stamps:
            assert (await conn.execute(select(column))).scalar_one() == PINNED, column


async def test_purge_cuts_off_by_the_injected_clock(db: Database) -> None:
    calls = CallRepo(db, clock=ManualClock(PINNED - timedelta(days=31)))
    await calls.set_outcome("a_month_before", "ended")
    await CallRepo(db, clock=ManualClock(PINNED - timedelta(days=29))).set_outcome(
        "within_the_month", "ended"
    )
    for days, call_id in ((31, "a_month_before"), (29, "within_the_month")):
        letters = DeadLetters(db, clock=ManualClock(PINNED - timedelta(days=days)))
        await letters.keep("call_event", key=call_id, call_id=call_id, why="test", body={})
    counts = await purge(db, timedelta(days=30), clock=ManualClock(PINNED))
    assert counts["calls"] == 1 and counts["dead_letters"] == 1
    assert await calls.get("a_month_before") is None
    assert await calls.get("within_the_month") is not None
