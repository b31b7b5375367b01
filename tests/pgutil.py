"""Throw-away PostgreSQL databases for tests.

Tests run in parallel (pytest-xdist) and several suites use PostgreSQL, so no test shares
tables: :func:`fresh_pg_database` creates a uniquely named database through the admin URL
(``VOICEOPS_TEST_PG_URL``, default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``)
and drops it afterwards. When PostgreSQL cannot be reached, :func:`require_pg` skips the
test, except under ``CI=true``, where a missing PostgreSQL fails the run.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator
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


@asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """Create an empty database ``voiceops_t_<random>``, yield its SQLAlchemy URL, drop it."""
    require_pg()
    admin = admin_url()
    name = f"voiceops_t_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(_dsn(admin))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(_dsn(admin))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
