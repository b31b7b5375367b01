"""Alembic migrations of the voiceops schema (run through ``voiceops.store.migrate``)."""
