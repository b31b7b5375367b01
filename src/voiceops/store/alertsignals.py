"""The raw numbers alert rules are judged on, counted over a window ``[since, until]``.

Every query is one indexed range on both SQLite and PostgreSQL: turns and their
first-speakable-frame latency, fallbacks and escalations from ``call_events`` (the
records ``agent/turn_record.py`` and ``agent/turn.py`` write), connected calls, failed
transfers from the ``transfer_cancelled`` webhooks kept in ``webhook_deliveries``, calls
that ended with a given disconnection reason, calls seen, and dead letters set aside.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Table, func, select
from sqlalchemy.sql import ColumnElement

from voiceops.store.db import Database
from voiceops.store.tables import call_events, calls, dead_letters, webhook_deliveries

LONGEST_CALL = timedelta(hours=2)
"""A call that ended in a window started at most this long before it (Retell ends calls
after an hour by default): bounds the ``started_at`` range of the disconnection count."""


class Signals:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _count(self, what: str, table: Table, *where: ColumnElement[bool]) -> int:
        stmt = select(func.count()).select_from(table).where(*where)
        async with self._db.transaction(f"count {what}") as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def events(self, event_type: str, since: datetime, until: datetime) -> int:
        """``call_events`` of ``event_type`` written in the window."""
        return await self._count(
            f"{event_type} events",
            call_events,
            call_events.c.event_type == event_type,
            call_events.c.created_at >= since,
            call_events.c.created_at <= until,
        )

    async def calls_with(self, event_type: str, since: datetime, until: datetime) -> int:
        """Calls with at least one ``event_type`` event written in the window."""
        stmt = select(func.count(func.distinct(call_events.c.call_id))).where(
            call_events.c.event_type == event_type,
            call_events.c.created_at >= since,
            call_events.c.created_at <= until,
        )
        async with self._db.transaction(f"count calls with {event_type}") as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def latency_percentile(
        self, fraction: float, since: datetime, until: datetime
    ) -> tuple[float | None, int]:
        """The ``fraction`` percentile (nearest rank) of the first-speakable-frame latency
        of the turns completed in the window, in ms, and how many turns had one."""
        where: list[ColumnElement[bool]] = [
            call_events.c.event_type == "turn_completed",
            call_events.c.created_at >= since,
            call_events.c.created_at <= until,
            call_events.c.latency_ms.is_not(None),
        ]
        async with self._db.transaction("turn latency percentile") as conn:
            count = int(
                (
                    await conn.execute(select(func.count()).select_from(call_events).where(*where))
                ).scalar_one()
            )
            if count == 0:
                return None, 0
            rank = max(1, -(-round(fraction * 1000) * count // 1000))
            stmt = (
                select(call_events.c.latency_ms)
                .where(*where)
                .order_by(call_events.c.latency_ms)
                .offset(rank - 1)
                .limit(1)
            )
            value = (await conn.execute(stmt)).scalar_one()
        return float(value), count

    async def calls_connected(self, since: datetime, until: datetime) -> int:
        """Calls whose socket opened in the window (resumed calls not counted again)."""
        return await self.events("call_connected", since, until)

    async def calls_seen(self, since: datetime, until: datetime) -> int:
        """Calls first recorded (by the socket or a webhook) in the window."""
        return await self._count(
            "calls", calls, calls.c.created_at >= since, calls.c.created_at <= until
        )

    async def webhooks(self, event: str, since: datetime, until: datetime) -> int:
        """Retell webhooks of ``event`` received in the window (each delivery once)."""
        return await self._count(
            f"{event} webhooks",
            webhook_deliveries,
            webhook_deliveries.c.event == event,
            webhook_deliveries.c.received_at >= since,
            webhook_deliveries.c.received_at <= until,
        )

    async def disconnections(self, prefix: str, since: datetime, until: datetime) -> int:
        """Calls that ended in the window with a disconnection reason starting with
        ``prefix`` (Retell's ``error_llm_websocket_*``)."""
        return await self._count(
            "disconnections",
            calls,
            calls.c.started_at >= since - LONGEST_CALL,
            calls.c.ended_at >= since,
            calls.c.ended_at <= until,
            calls.c.disconnection_reason.startswith(prefix, autoescape=True),
        )

    async def dead_letters(self, since: datetime, until: datetime) -> int:
        """Rows set aside (or refused again) in the window."""
        return await self._count(
            "dead letters",
            dead_letters,
            dead_letters.c.updated_at >= since,
            dead_letters.c.updated_at <= until,
        )
