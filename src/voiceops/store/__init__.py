"""Storage: SQLAlchemy tables and Alembic migrations (SQLite or PostgreSQL), a repository
module per table, and the batched event writer. Nothing here knows about HTTP or the
Retell socket.

* ``db.py`` the engine of a process; ``tables.py`` the schema; ``migrate.py`` migrations.
* ``bookings.py`` bookings and callback requests (the tools' ``BookingRepo``).
* ``calls.py`` one row per call; ``states.py`` per-call state; ``profiles.py`` agent
  profile versions; ``webhooks.py`` webhook deliveries; ``retention.py`` the purge.
* ``writer.py`` and ``journal.py`` the event writer and its local journal.

Every repository method runs in its own transaction and raises :class:`StorageError`
when the database refuses or is away. Every time the store stamps or compares comes from
the :class:`~voiceops.core.clock.Clock` it is given (``clock=``; the system clock when none
is), never from the system clock directly.
"""
