"""Running the packaged Alembic migrations from code (``voiceops db upgrade``, ``serve``).

No ini file is needed: the Alembic config is built in memory, pointed at the scripts in
``store/migrations``, and given an already-open connection. On PostgreSQL the upgrade runs
under a transaction-scoped advisory lock, so several workers starting at once migrate
once and the others wait, then find nothing to do.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from voiceops.core.errors import StorageError
from voiceops.store.db import Database, safe_url

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Arbitrary but fixed: every voiceops process contends for the same lock id.
_ADVISORY_LOCK_ID = 0x766F6963656F7073 & 0x7FFFFFFFFFFFFFFF


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    """The newest revision shipped with this version of voiceops."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (default: the newest).

    Idempotent. Raises :class:`StorageError` when the database cannot be reached or a
    migration fails (nothing of a failed migration stays: DDL runs in one transaction on
    PostgreSQL and SQLite).
    """
    await _run(url, "upgrade", revision)


async def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` back to ``revision`` (``base`` drops everything)."""
    await _run(url, "downgrade", revision)


async def current(url: str) -> str | None:
    """The revision the database at ``url`` is at, or ``None`` before the first upgrade."""
    db = await Database.open(url)
    try:
        async with db.engine.connect() as conn:
            return await conn.run_sync(_current_revision)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        raise StorageError(f"cannot read the schema revision: {type(exc).__name__}") from exc
    finally:
        await db.close()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _run(url: str, action: str, revision: str) -> None:
    db = await Database.open(url)
    try:
        async with db.engine.begin() as conn:
            if db.dialect == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID}
                )
            await conn.run_sync(_run_alembic, action, revision)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        raise StorageError(f"migration {action} to {revision} failed: {exc}") from exc
    finally:
        await db.close()
    log.info("database %s: %s to %s done", safe_url(url), action, revision)


def _run_alembic(connection: Connection, action: str, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(cfg, revision)
    else:
        command.downgrade(cfg, revision)
