"""The benchmark's database: a fresh one per run, counted while the server runs, dropped after.

SQLite is a file in the run's work directory. PostgreSQL is a new database
``voiceops_bench_<run id>`` created through an administrative connection (by default
``postgresql://postgres@127.0.0.1:5432/test``) and dropped at the end, also when the run is
interrupted. The server runs the migrations itself at start. Counting reads ``call_events``
directly, so the benchmark's loss figure does not rest on the writer's own counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_NAME = re.compile(r"^[a-z0-9_]{1,50}$")
_COUNT_SQL = text(
    "SELECT event_type, count(*) FROM call_events WHERE call_id LIKE :p GROUP BY event_type"
)
_TURN_IDS_SQL = text(
    "SELECT event_id FROM call_events WHERE call_id LIKE :p "
    "AND event_type IN ('turn_completed', 'turn_superseded')"
)
_OVERHEAD_SQL = text(
    "SELECT call_id, response_id, payload FROM call_events "
    "WHERE call_id LIKE :p AND event_type = 'turn_completed'"
)


class BenchDatabase:
    """One database the server writes to and the benchmark counts in."""

    def __init__(self, kind: str, server_url: str) -> None:
        self.kind = kind
        self.server_url = server_url
        """What the server gets as ``VOICEOPS_DATABASE_URL`` (an async-driver URL)."""

    async def _rows(self, sql: TextClause, call_prefix: str) -> list[tuple[object, ...]]:
        # A short-lived engine of our own: the server's connections are its business.
        engine = create_async_engine(self.server_url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                result = await conn.execute(sql, {"p": call_prefix + "%"})
                return [tuple(row) for row in result.all()]
        finally:
            await engine.dispose()

    async def event_counts(self, call_prefix: str) -> dict[str, int]:
        """Rows in ``call_events`` by event type, for calls whose id starts with the prefix."""
        rows = await self._rows(_COUNT_SQL, call_prefix)
        return {str(kind): int(str(count)) for kind, count in rows}

    async def server_overheads(self, call_prefix: str) -> list[tuple[str, int, float]]:
        """The server's own measure of each turn's share (``overhead_ms`` of its
        ``turn_completed`` events: first speakable chunk sent minus request received,
        minus its wait on the model for the text that made it), where it recorded one, as (call id,
        response id, milliseconds)."""
        values: list[tuple[str, int, float]] = []
        for call_id, response_id, payload in await self._rows(_OVERHEAD_SQL, call_prefix):
            data = json.loads(payload) if isinstance(payload, str) else payload
            if (
                isinstance(data, dict)
                and isinstance(data.get("overhead_ms"), int | float)
                and isinstance(response_id, int)
            ):
                values.append((str(call_id), response_id, float(data["overhead_ms"])))
        return values

    async def turn_event_ids(self, call_prefix: str) -> set[str]:
        """``event_id`` of every turn row of those calls."""
        return {str(row[0]) for row in await self._rows(_TURN_IDS_SQL, call_prefix)}


def check_loopback(dsn: str) -> str:
    """Refuse a PostgreSQL address that is not on this machine; returns ``dsn``."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgresql", "postgres") or parts.hostname not in LOOPBACK:
        raise ValueError(f"the benchmark only uses a local PostgreSQL, not {parts.hostname!r}")
    return dsn


def _asyncpg_url(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{database}"))


async def _admin(admin_url: str, statement: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def bench_database(
    kind: str, *, workdir: Path, run_id: str, pg_admin_dsn: str
) -> AsyncIterator[BenchDatabase]:
    """A fresh database of ``kind`` (``sqlite`` or ``postgres``), removed on exit."""
    if not _NAME.match(run_id):
        raise ValueError(f"bad run id {run_id!r}")
    if kind == "sqlite":
        path = workdir / f"bench-{run_id}.db"
        try:
            yield BenchDatabase("sqlite", f"sqlite+aiosqlite:///{path}")
        finally:
            _remove_sqlite_files(path)
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    name = f"voiceops_bench_{run_id}"
    dsn = check_loopback(pg_admin_dsn)
    admin_url = _asyncpg_url(dsn, urlsplit(dsn).path.lstrip("/") or "postgres")
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield BenchDatabase("postgres", _asyncpg_url(dsn, name))
    finally:
        # Shielded: an interrupted run must still drop what it created.
        await asyncio.shield(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
