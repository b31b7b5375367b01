"""Database.open: accepted URLs, SQLite connection settings, failures as StorageError."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from voiceops.core.errors import ConfigError, StorageError
from voiceops.store.db import Database, parse_url, safe_url


async def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    db = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'voiceops.db'}")
    try:
        assert db.dialect == "sqlite"
        async with db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
        assert (mode, busy, fks) == ("wal", 5000, 1)
        await db.ping()
    finally:
        await db.close()


async def test_in_memory_sqlite_is_one_shared_database() -> None:
    db = await Database.open("sqlite+aiosqlite:///:memory:")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    finally:
        await db.close()


async def test_ping_on_both_dialects(db: Database) -> None:
    assert db.dialect in ("sqlite", "postgresql")
    await db.ping()


async def test_an_unreachable_database_is_a_storage_error() -> None:
    db = await Database.open("postgresql+asyncpg://voiceops:pw@127.0.0.1:1/none")
    try:
        assert db.dialect == "postgresql"
        with pytest.raises(StorageError, match="unreachable"):
            await db.ping()
        with pytest.raises(StorageError, match="writing"):
            async with db.transaction("writing"):
                pytest.fail("the transaction body must not run")
    finally:
        await db.close()


@pytest.mark.parametrize(
    "url",
    ["mysql+aiomysql://x@h/db", "sqlite:///plain.db", "postgresql://u@h/db", "not a url"],
)
def test_only_async_drivers_are_accepted(url: str) -> None:
    with pytest.raises(ConfigError):
        parse_url(url)


def test_safe_url_hides_the_password() -> None:
    shown = safe_url("postgresql+asyncpg://voiceops:s3cret@db.internal:5432/voiceops")
    assert "s3cret" not in shown and "db.internal" in shown
    assert safe_url("::::") == "<invalid database URL>"
