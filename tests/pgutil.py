"""Throw-away PostgreSQL databases for tests.

Tests run in parallel (pytest-xdist) and several suites use PostgreSQL, so no test shares
tables: :func:`fresh_pg_database` creates a uniquely named database through the admin URL
(``VOICEOPS_TEST_PG_URL``, default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``)
and drops it afterwards; :class:`SharedPgDatabase` keeps one prepared database for a
whole session when creating one per test costs too much. When PostgreSQL cannot be
reached, :func:`require_pg` skips the test, except under ``CI=true``, where a missing
PostgreSQL fails the run.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def admin_url() -> URL:
    return make_url(os.environ.get("VOICEOPS_TEST_PG_URL", DEFAULT_PG_URL))


def _dsn(url: URL) -> str:
    """``url`` as a plain libpq DSN for asyncpg."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def pg_available(timeout_s: float = 1.0) -> bool:
    """True when something accepts TCP connections at the test PostgreSQL's address."""
    url = admin_url()
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout_s):
            return True
    except OSError:
        return False


def require_pg() -> None:
    """Skip (or under ``CI=true`` fail) the current test when PostgreSQL is unreachable."""
    if pg_available():
        return
    where = admin_url().render_as_string(hide_password=True)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL at {where} is required in CI but unreachable")
    pytest.skip(f"PostgreSQL at {where} is unreachable (set VOICEOPS_TEST_PG_URL)")


async def create_pg_database() -> str:
    """Create an empty database ``voiceops_t_<random>`` and return its SQLAlchemy URL."""
    require_pg()
    admin = admin_url()
    name = f"voiceops_t_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(_dsn(admin))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(url: str) -> None:
    """Drop the database of ``url`` (made by :func:`create_pg_database`), sessions and all."""
    name = make_url(url).database
    conn = await asyncpg.connect(_dsn(admin_url()))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """Create an empty database ``voiceops_t_<random>``, yield its SQLAlchemy URL, drop it."""
    url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)


class SharedPgDatabase:
    """One database for a whole test session, created on first use from whatever event loop
    asks, prepared once (e.g. migrated), and dropped by :meth:`drop` at session end."""

    def __init__(self, prepare: Callable[[str], Awaitable[None]]) -> None:
        self._prepare = prepare
        self._url: str | None = None

    async def url(self) -> str:
        if self._url is None:
            url = await create_pg_database()
            try:
                await self._prepare(url)
            except BaseException:
                await drop_pg_database(url)
                raise
            self._url = url
        return self._url

    def drop(self) -> None:
        """Drop the database (from sync code: runs on a loop of its own in a thread)."""
        if self._url is None:
            return
        url, self._url = self._url, None
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, drop_pg_database(url)).result()


async def empty_tables(url: str, tables: list[str]) -> None:
    """Delete every row of ``tables`` (children first) in the database at ``url``.

    ``DELETE`` rather than ``TRUNCATE``: on the few rows a test leaves it takes a
    millisecond, where ``TRUNCATE`` swaps files and costs most of a second.
    """
    conn = await asyncpg.connect(_dsn(make_url(url)))
    try:
        async with conn.transaction():
            for table in tables:
                await conn.execute(f'DELETE FROM "{table}"')
    finally:
        await conn.close()
