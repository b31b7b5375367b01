"""The Toolbox over the real SQL repository: the same contracts on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.pgutil import fresh_pg_database
from tests.tools.support import LONDON, TUE_0900_NY, TickingClock, build_toolbox
from voiceops.store.bookings import SqlBookingRepo
from voiceops.store.db import Database
from voiceops.store.migrate import upgrade
from voiceops.tools.toolbox import Toolbox


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def repo(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlBookingRepo]:
    async def open_repo(url: str) -> AsyncIterator[SqlBookingRepo]:
        await upgrade(url)
        database = await Database.open(url)
        try:
            yield SqlBookingRepo(database)
        finally:
            await database.close()

    if request.param == "sqlite":
        async for sql_repo in open_repo(f"sqlite+aiosqlite:///{tmp_path / 'voiceops.db'}"):
            yield sql_repo
        return
    async with fresh_pg_database() as url:
        async for sql_repo in open_repo(url):
            yield sql_repo


async def call(toolbox: Toolbox, tool: str, /, **arguments: Any) -> dict[str, Any]:
    outcome = await toolbox.run(tool, json.dumps(arguments))
    result: dict[str, Any] = json.loads(outcome.result.model_dump_json())
    return result


async def test_booking_lifecycle_in_the_callers_zone(repo: SqlBookingRepo) -> None:
    toolbox, sink = build_toolbox(repo, caller_zone=LONDON)
    booked = await call(
        toolbox,
        "book_appointment",
        service="haircut",
        start="2026-12-02T15:00",
        customer_name="Ann",
    )
    assert booked["status"] == "confirmed"
    again = await call(
        toolbox, "book_appointment", service="cut", start="2026-12-02T15:00", customer_name="ANN"
    )
    assert again["booking"]["booking_id"] == booked["booking"]["booking_id"]

    stored = await repo.get_booking(booked["booking"]["booking_id"])
    assert stored is not None
    assert stored.start_utc == datetime(2026, 12, 2, 15, tzinfo=UTC)
    assert stored.caller_zone == LONDON
    assert stored.local_start == "2026-12-02T15:00:00+00:00"

    check = await call(
        toolbox, "check_availability", service="haircut", date="2026-12-02", time="15:00"
    )
    assert check["requested_free"] is False
    assert "2026-12-02T15:00:00Z" not in [s["start_utc"] for s in check["slots"]]

    moved = await call(
        toolbox,
        "reschedule_appointment",
        booking_id=stored.booking_id,
        new_start="2026-12-03T16:00",
    )
    assert moved["booking"]["start_utc"] == "2026-12-03T16:00:00Z"
    found = await call(toolbox, "find_booking")
    assert [b["booking_id"] for b in found["bookings"]] == [stored.booking_id]
    cancelled = await call(toolbox, "cancel_appointment", booking_id=stored.booking_id)
    assert cancelled["status"] == "cancelled"
    assert (await call(toolbox, "find_booking"))["bookings"] == []
    assert [
        e.payload["action"] for e in sink.events if e.event_type == "booking" and e.payload
    ] == [
        "created",
        "rescheduled",
        "cancelled",
    ]


async def test_two_calls_racing_on_sql_get_one_booking(repo: SqlBookingRepo) -> None:
    # One app clock for both, as in one process; it must move, for the race is decided by
    # the order of the commits' created_at.
    app_clock = TickingClock(TUE_0900_NY)
    a, _ = build_toolbox(repo, call_id="call-a", app_clock=app_clock)
    b, _ = build_toolbox(repo, call_id="call-b", caller_phone="+12125550199", app_clock=app_clock)
    results = await asyncio.gather(
        call(a, "book_appointment", service="haircut", start="2026-12-02T14:00", customer_name="A"),
        call(b, "book_appointment", service="haircut", start="2026-12-02T14:00", customer_name="B"),
    )
    assert sorted(r["status"] for r in results) == ["confirmed", "slot_taken"]
    live = await repo.bookings_between(
        datetime(2026, 12, 2, 19, tzinfo=UTC), datetime(2026, 12, 2, 19, 30, tzinfo=UTC)
    )
    assert len(live) == 1


async def test_callbacks_are_recorded_once(repo: SqlBookingRepo) -> None:
    toolbox, _ = build_toolbox(repo)
    first = await call(toolbox, "request_callback", name="Ann", reason="billing", priority="high")
    second = await call(toolbox, "request_callback", name="ann", reason="Billing", priority="high")
    assert first["status"] == "recorded"
    assert second["request_id"] == first["request_id"]
    assert [r.request_id for r in await repo.list_callbacks()] == [first["request_id"]]
