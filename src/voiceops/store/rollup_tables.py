"""The tables of the console's metrics (``store/insight.py``): the hourly and daily
rollups, their marks, and the indexes that find what changed since the last rollup. They
are defined on :data:`voiceops.store.tables.metadata`, which imports this module, so the
schema stays one; migration 0008 creates them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from voiceops.store.tables import UTCDateTime, callback_requests, calls, metadata

# Hourly rollup of calls, turns, escalations, cost and analysis, recomputed whole per hour
# from the tables above by ``store.insight``: ``hour`` counts hours since the Unix epoch
# (UTC), ``version`` is the call's profile version (0 when unknown), ``metric`` and ``key``
# name the figure (``outcome``/``booked``, ``first_frame``/``600`` …), ``n`` counts and
# ``total`` sums (ms, millicents or tokens, as the metric says).
insight_hours = Table(
    "insight_hours",
    metadata,
    Column("metric", String(32), primary_key=True),
    Column("hour", BigInteger, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False, server_default="0"),
)

# The same, summed per local day: ``day`` counts days of 24 hours from the epoch shifted
# by ``shift`` hours (a zone's UTC offset), one set of rows per offset the console has read.
insight_days = Table(
    "insight_days",
    metadata,
    Column("metric", String(32), primary_key=True),
    Column("shift", Integer, primary_key=True),
    Column("day", BigInteger, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False, server_default="0"),
)

insight_marks = Table(
    "insight_marks",
    metadata,
    # ``events``: the highest ``call_events.id`` rolled up; ``calls``: the newest
    # ``calls.updated_at`` (epoch ms); ``callbacks``: the newest callback's ``created_at``;
    # ``days:<shift>``: the day rollup for that shift exists; ``dirty:<hour>`` (value: the
    # hour): that hour is queued to be recomputed.
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

Index("ix_calls_updated_at", calls.c.updated_at)
Index("ix_calls_disconnection_reason", calls.c.disconnection_reason)
# Outbound calls by the number they rang: is a callback request still open?
Index(
    "ix_calls_outbound_to_number",
    calls.c.to_number,
    postgresql_where=calls.c.direction == "outbound",
    sqlite_where=calls.c.direction == "outbound",
)
Index("ix_callback_requests_created_at", callback_requests.c.created_at)
