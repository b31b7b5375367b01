"""The database handle: one async engine per process, owned by the app lifespan.

:class:`Database` wraps a SQLAlchemy ``AsyncEngine`` configured for the two supported
back ends. SQLite (aiosqlite, the default) gets WAL journaling, a busy timeout and foreign
keys on every connection; PostgreSQL (asyncpg) gets a bounded, pre-pinged pool and connect
and command timeouts so that a database that went away fails fast instead of hanging.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, RowMapping, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from voiceops.core.errors import ConfigError, StorageError

log = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgresql"]


class LockBusy(StorageError):
    """A named write lock is held by another transaction (``serialized(wait=False)``)."""


SQLITE_BUSY_TIMEOUT_MS = 5_000
PG_POOL_SIZE = 10
PG_MAX_OVERFLOW = 10
PG_CONNECT_TIMEOUT_S = 5.0
PG_COMMAND_TIMEOUT_S = 30.0


def _json_dumps(value: Any) -> str:
    # Payloads come from many producers; a stray datetime or Decimal must not make a
    # batch unwritable, so anything JSON does not know is stored as its string form.
    return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))


def parse_url(url: str) -> tuple[URL, Dialect]:
    """Parse ``url`` and name its dialect; only the async drivers are accepted."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"database URL is not valid: {type(exc).__name__}") from None
    backend = parsed.get_backend_name()
    driver = parsed.get_driver_name()
    if backend == "sqlite" and driver == "aiosqlite":
        return parsed, "sqlite"
    if backend == "postgresql" and driver == "asyncpg":
        return parsed, "postgresql"
    raise ConfigError(
        f"unsupported database URL scheme {backend}+{driver}: use sqlite+aiosqlite:/// "
        "or postgresql+asyncpg://"
    )


def safe_url(url: str) -> str:
    """``url`` with its password hidden, for logs and CLI output."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # An unparseable URL is shown as nothing rather than leaked.
        return "<invalid database URL>"


class Database:
    """An open database: the engine, a session factory and the dialect name.

    Build it with :meth:`open` and :meth:`close` it once (the app lifespan does both).
    Opening connects lazily: a database that is down at start is reported by the first
    statement (migrations, a write), not by ``open``.
    """

    def __init__(self, engine: AsyncEngine, dialect: Dialect) -> None:
        self.engine = engine
        self.dialect: Dialect = dialect
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False
        )

    @classmethod
    async def open(cls, url: str) -> Database:
        parsed, dialect = parse_url(url)
        if dialect == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            engine = create_async_engine(
                parsed,
                pool_size=PG_POOL_SIZE,
                max_overflow=PG_MAX_OVERFLOW,
                pool_pre_ping=True,
                pool_recycle=1800,
                pool_timeout=PG_CONNECT_TIMEOUT_S,
                json_serializer=_json_dumps,
                connect_args={
                    "timeout": PG_CONNECT_TIMEOUT_S,
                    "command_timeout": PG_COMMAND_TIMEOUT_S,
                    "server_settings": {"application_name": "voiceops"},
                },
            )
        log.info("database opened: %s", safe_url(url))
        return cls(engine, dialect)

    @asynccontextmanager
    async def transaction(self, what: str) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed on success and rolled back on error.

        Database failures (refused, away, constraint violations) surface as
        :class:`StorageError` naming ``what`` was being done; other exceptions pass as is.
        """
        try:
            async with self.engine.begin() as conn:
                yield conn
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StorageError(f"{what} failed: {type(exc).__name__}") from exc

    @asynccontextmanager
    async def serialized(
        self, what: str, lock: str, *, wait: bool = True
    ) -> AsyncIterator[AsyncConnection]:
        """Like :meth:`transaction`, holding the write lock named ``lock`` from its first
        statement to its end, so that what it reads cannot change before it writes: two
        such transactions on the same lock run one after the other, on every process.

        SQLite has one write lock per database: the transaction begins ``IMMEDIATE``,
        taking it at once (waiting up to the busy timeout). PostgreSQL takes a
        transaction-level advisory lock on a number derived from ``lock``; in ``READ
        COMMITTED`` every statement after it sees what the previous holder committed.
        With ``wait=False`` a lock another transaction holds raises :class:`LockBusy` at
        once instead of waiting for it.
        """
        try:
            async with self.engine.connect() as conn, conn.begin():
                await self._take(conn, lock, wait=wait)
                yield conn
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StorageError(f"{what} failed: {type(exc).__name__}") from exc

    async def _take(self, conn: AsyncConnection, lock: str, *, wait: bool) -> None:
        if self.dialect == "postgresql":
            verb = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
            taken = await conn.scalar(text(f"SELECT {verb}(:key)"), {"key": _lock_key(lock)})
            if taken is False:
                raise LockBusy(lock)
            return
        # pysqlite opens transactions itself, and only before a write; an explicit BEGIN
        # first makes it take the lock here instead.
        if wait:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        await conn.exec_driver_sql("PRAGMA busy_timeout=0")
        try:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        except OperationalError as exc:
            raise LockBusy(lock) from exc
        finally:
            await conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    def insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """An ``INSERT`` for this dialect, with ``on_conflict_do_nothing/do_update``."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def ping(self) -> None:
        """Run ``SELECT 1``; raises :class:`StorageError` when the database is away."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StorageError(f"database unreachable: {type(exc).__name__}") from exc

    async def close(self) -> None:
        await self.engine.dispose()


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for ``name``, the same on every process."""
    digest = hashlib.sha256(f"voiceops:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def first_row(conn: AsyncConnection, stmt: Any) -> RowMapping | None:
    """The first row ``stmt`` returns, as a mapping, or ``None``."""
    return (await conn.execute(stmt)).mappings().first()


def _sqlite_engine(url: URL) -> AsyncEngine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if in_memory:
        # One shared connection: every new connection to :memory: would be a new database.
        engine = create_async_engine(
            url,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
            json_serializer=_json_dumps,
        )
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            json_serializer=_json_dumps,
        )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas(in_memory))
    return engine


def _sqlite_pragmas(in_memory: bool) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # NORMAL is durable across process crashes in WAL mode; only a power loss
                # can drop the last commits, which the event journal covers anyway.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return on_connect
