"""Migrations: they build exactly the schema of ``store/tables.py``, on both dialects."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from voiceops.store.db import Database
from voiceops.store.migrate import current, downgrade, head_revision, upgrade
from voiceops.store.tables import metadata

TABLES = {
    "calls",
    "call_events",
    "bookings",
    "booking_changes",
    "callback_requests",
    "webhook_deliveries",
    "agent_profiles",
    "call_states",
    "dead_letters",
    "eval_runs",
    "eval_results",
    "retell_calls",
    "alert_rules",
    "alert_incidents",
    "alert_deliveries",
}


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_builds_the_declared_schema(db_url: str) -> None:
    assert await current(db_url) is None
    await upgrade(db_url)
    assert await current(db_url) == head_revision()
    db = await Database.open(db_url)
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            assert TABLES <= await conn.run_sync(_tables)
    finally:
        await db.close()


async def test_upgrade_is_idempotent_and_downgrade_reverses_it(db_url: str) -> None:
    await upgrade(db_url)
    await upgrade(db_url)
    await downgrade(db_url, "base")
    assert await current(db_url) is None
    db = await Database.open(db_url)
    try:
        async with db.engine.connect() as conn:
            assert not TABLES & await conn.run_sync(_tables)
    finally:
        await db.close()
    await upgrade(db_url)
    assert await current(db_url) == head_revision()


async def test_concurrent_upgrades_migrate_once(pg_url: str) -> None:
    # Several workers starting together: the advisory lock serialises them.
    await asyncio.gather(*(upgrade(pg_url) for _ in range(4)))
    assert await current(pg_url) == head_revision()
