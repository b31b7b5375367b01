"""The storage fixtures for the alert tests: ``db`` (SQLite and PostgreSQL), a fresh
``pg_url``, and ``proxied``, a PostgreSQL database behind a proxy a test can cut."""

from tests.store.conftest import db, direct, migrated_pg, pg_url, proxied

__all__ = ["db", "direct", "migrated_pg", "pg_url", "proxied"]
