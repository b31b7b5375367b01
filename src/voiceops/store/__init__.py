"""Storage: SQLAlchemy tables and Alembic migrations (SQLite or PostgreSQL), repositories,
and the batched event writer. Nothing here knows about HTTP or the Retell socket."""
