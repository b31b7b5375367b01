"""Storage fixtures: the same tests run on a SQLite file and on PostgreSQL.

``db_url`` is an empty database of each dialect (for migration tests); ``db`` is a
migrated, empty one. On PostgreSQL, ``db`` reuses one migrated database per test session
(per xdist worker) and empties its tables before each test: creating and migrating a
database costs a second or two, emptying a few tables a few milliseconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.pgutil import SharedPgDatabase, empty_tables, fresh_pg_database
from voiceops.store.db import Database
from voiceops.store.migrate import upgrade
from voiceops.store.tables import metadata


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'voiceops.db'}"


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database of this test's own."""
    async with fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def migrated_pg() -> Iterator[SharedPgDatabase]:
    """One migrated PostgreSQL database per session, made on first use."""
    shared = SharedPgDatabase(upgrade)
    yield shared
    shared.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty (unmigrated) database of each dialect."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'voiceops.db'}"
        return
    async with fresh_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_pg: SharedPgDatabase
) -> AsyncIterator[Database]:
    """A migrated, empty database of each dialect."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'voiceops.db'}"
        await upgrade(url)
    else:
        url = await migrated_pg.url()
        await empty_tables(url, [table.name for table in reversed(metadata.sorted_tables)])
    database = await Database.open(url)
    try:
        yield database
    finally:
        await database.close()
