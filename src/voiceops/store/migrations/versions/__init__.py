"""Alembic revision scripts, applied in order by ``voiceops.store.migrate.upgrade``."""
