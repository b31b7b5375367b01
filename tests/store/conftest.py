"""Storage fixtures: the same tests run on a SQLite file and on PostgreSQL.

``db_url`` is an empty database of each dialect (for migration tests); ``db`` is a
migrated, empty one. On PostgreSQL, ``db`` reuses one migrated database per test session
(per xdist worker) and empties its tables before each test: creating and migrating a
database costs a second or two, emptying a few tables a few milliseconds. ``direct`` and
``proxied`` are that PostgreSQL database reached directly and through a :class:`TcpProxy`
that a test can cut to make the database go away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.pgutil import SharedPgDatabase, empty_tables, fresh_pg_database
from tests.store.tcpproxy import TcpProxy
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


@pytest.fixture
async def direct(migrated_pg: SharedPgDatabase) -> AsyncIterator[Database]:
    """The migrated, emptied session PostgreSQL database, connected directly."""
    url = await migrated_pg.url()
    await empty_tables(url, [table.name for table in reversed(metadata.sorted_tables)])
    database = await Database.open(url)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def proxied(direct: Database) -> AsyncIterator[tuple[Database, TcpProxy]]:
    """The same database reached through a :class:`TcpProxy` the test can cut."""
    url = direct.engine.url
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    through = make_url(url.render_as_string(hide_password=False)).set(
        host="127.0.0.1", port=proxy.port
    )
    database = await Database.open(through.render_as_string(hide_password=False))
    try:
        yield database, proxy
    finally:
        await database.close()
        await proxy.close()
