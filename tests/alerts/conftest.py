"""The storage fixtures (``db`` on SQLite and PostgreSQL) for the alert tests."""

from tests.store.conftest import db, migrated_pg, pg_url

__all__ = ["db", "migrated_pg", "pg_url"]
