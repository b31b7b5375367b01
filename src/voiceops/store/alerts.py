"""Alert rules, their incidents and the notifications of each incident, in the database.

A rule (``alert_rules``) is edited in the console; the evaluator (``insight/evaluator.py``)
opens an incident (``alert_incidents``) when the rule's signal crosses its threshold and
resolves it when the signal is back. Each opening and resolution queues one row per
channel in ``alert_deliveries``, which the deliverer claims, sends, and marks sent or
retries later; a delivery is never dropped silently (after its last attempt it stays as
``failed`` with the error, for the console).

Deciding (:class:`EvaluationTx`) happens under :func:`evaluation_lock`: on PostgreSQL a
transaction-scoped ``pg_try_advisory_xact_lock``, which a second instance fails to take
(and skips its tick), on SQLite the database's write lock. The decision re-reads the open
incidents inside that transaction, so however many instances tick, an incident is opened
and queued once. Sending claims a delivery with a conditional ``UPDATE`` (a lease), so it
is sent by one instance even when two deliver at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.core.clock import Clock
from voiceops.core.errors import StorageError
from voiceops.store.db import Database, first_row
from voiceops.store.tables import alert_deliveries, alert_incidents, alert_rules

_LOCK_KEY = int.from_bytes(hashlib.sha256(b"voiceops:alerts").digest()[:8], "big", signed=True)


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    name: str
    kind: str
    threshold: float
    window_s: int
    min_count: int
    severity: str
    cooldown_s: int
    enabled: bool
    channels: tuple[str, ...]
    last_value: float | None = None
    last_checked_at: datetime | None = None
    updated_by: str = ""
    updated_at: datetime | None = None

    def values(self) -> dict[str, Any]:
        """The editable columns, as stored."""
        return {
            "name": self.name,
            "kind": self.kind,
            "threshold": self.threshold,
            "window_s": self.window_s,
            "min_count": self.min_count,
            "severity": self.severity,
            "cooldown_s": self.cooldown_s,
            "enabled": 1 if self.enabled else 0,
            "channels": ",".join(self.channels),
        }


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    rule_id: int
    status: str
    opened_at: datetime
    resolved_at: datetime | None
    value: float
    resolved_value: float | None
    threshold: float
    summary: str
    rule_name: str = ""
    severity: str = ""
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    incident_id: int | None
    channel: str
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    payload: dict[str, Any]
    created_at: datetime
    sent_at: datetime | None


class RuleNameTaken(Exception):
    """Another rule already has this name."""


def _rule(row: Any) -> Rule:
    return Rule(
        id=int(row["id"]),
        name=row["name"],
        kind=row["kind"],
        threshold=float(row["threshold"]),
        window_s=int(row["window_s"]),
        min_count=int(row["min_count"]),
        severity=row["severity"],
        cooldown_s=int(row["cooldown_s"]),
        enabled=bool(row["enabled"]),
        channels=tuple(c for c in str(row["channels"]).split(",") if c),
        last_value=row["last_value"],
        last_checked_at=row["last_checked_at"],
        updated_by=row["updated_by"],
        updated_at=row["updated_at"],
    )


def _incident(row: Any) -> Incident:
    return Incident(
        id=int(row["id"]),
        rule_id=int(row["rule_id"]),
        status=row["status"],
        opened_at=row["opened_at"],
        resolved_at=row["resolved_at"],
        value=float(row["value"]),
        resolved_value=row["resolved_value"],
        threshold=float(row["threshold"]),
        summary=row["summary"],
        rule_name=row.get("name", ""),
        severity=row.get("severity", ""),
        kind=row.get("kind", ""),
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=int(row["id"]),
        incident_id=row["incident_id"],
        channel=row["channel"],
        event=row["event"],
        status=row["status"],
        attempts=int(row["attempts"]),
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        payload=row["payload"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
    )


@asynccontextmanager
async def evaluation_lock(db: Database) -> AsyncIterator[AsyncConnection | None]:
    """A transaction holding the alerts lock, or ``None`` when another instance holds it
    (PostgreSQL: ``pg_try_advisory_xact_lock``, released at commit; SQLite: ``BEGIN
    IMMEDIATE``, waiting up to the busy timeout). Database failures raise
    :class:`StorageError`."""
    try:
        async with db.engine.connect() as conn, conn.begin():
            if db.dialect == "sqlite":
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                got = await conn.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
                )
                if not got:
                    yield None
                    return
            yield conn
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        raise StorageError(f"alert evaluation failed: {type(exc).__name__}") from exc


class AlertStore:
    """Rules, incidents and deliveries. Every method raises :class:`StorageError` when the
    database is away."""

    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    # --- rules --------------------------------------------------------------------------

    async def rules(self) -> list[Rule]:
        async with self._db.transaction("list alert rules") as conn:
            rows = (await conn.execute(select(alert_rules).order_by(alert_rules.c.id))).mappings()
            return [_rule(r) for r in rows.all()]

    async def rule(self, rule_id: int) -> Rule | None:
        async with self._db.transaction("read alert rule") as conn:
            row = await first_row(conn, select(alert_rules).where(alert_rules.c.id == rule_id))
        return None if row is None else _rule(row)

    async def seed(self, defaults: Sequence[Rule]) -> int:
        """Add ``defaults`` when there are no rules at all (a new database); returns how
        many were added. Two instances seeding at once add them once (unique names)."""
        now = self._clock.now()
        async with self._db.transaction("seed alert rules") as conn:
            if await conn.scalar(select(func.count()).select_from(alert_rules)):
                return 0
            stmt = self._db.insert(alert_rules).on_conflict_do_nothing(index_elements=["name"])
            rows = [
                r.values() | {"updated_by": "voiceops", "created_at": now, "updated_at": now}
                for r in defaults
            ]
            result = await conn.execute(stmt, rows)
            return max(0, int(result.rowcount or 0))

    async def save(self, rule: Rule, *, by: str, conn: AsyncConnection) -> int:
        """Insert (``rule.id == 0``) or update the rule in ``conn``'s transaction; returns
        its id. Raises :class:`RuleNameTaken` for a name another rule has."""
        now = self._clock.now()
        values = rule.values() | {"updated_by": by[:255], "updated_at": now}
        taken = await conn.scalar(
            select(func.count())
            .select_from(alert_rules)
            .where(alert_rules.c.name == rule.name, alert_rules.c.id != rule.id)
        )
        if taken:
            raise RuleNameTaken(rule.name)
        if rule.id == 0:
            result = await conn.execute(alert_rules.insert().values(**values, created_at=now))
            key = result.inserted_primary_key
            return int(key[0]) if key is not None else 0
        await conn.execute(update(alert_rules).where(alert_rules.c.id == rule.id).values(**values))
        return rule.id

    async def delete(self, rule_id: int, *, conn: AsyncConnection) -> None:
        await conn.execute(alert_rules.delete().where(alert_rules.c.id == rule_id))

    # --- incidents ----------------------------------------------------------------------

    async def incidents(self, limit: int = 100, before_id: int | None = None) -> list[Incident]:
        """Incidents newest first, with their rule's name, severity and kind."""
        stmt = (
            select(alert_incidents, alert_rules.c.name, alert_rules.c.severity, alert_rules.c.kind)
            .join(alert_rules, alert_rules.c.id == alert_incidents.c.rule_id)
            .order_by(alert_incidents.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            stmt = stmt.where(alert_incidents.c.id < before_id)
        async with self._db.transaction("list alert incidents") as conn:
            return [_incident(r) for r in (await conn.execute(stmt)).mappings().all()]

    async def deliveries_of(self, incident_ids: Sequence[int]) -> dict[int, list[Delivery]]:
        """The deliveries of each of ``incident_ids``, oldest first."""
        if not incident_ids:
            return {}
        stmt = (
            select(alert_deliveries)
            .where(alert_deliveries.c.incident_id.in_(incident_ids))
            .order_by(alert_deliveries.c.id)
        )
        async with self._db.transaction("list alert deliveries") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        found: dict[int, list[Delivery]] = {}
        for row in rows:
            found.setdefault(int(row["incident_id"]), []).append(_delivery(row))
        return found

    async def recent_deliveries(self, limit: int = 20) -> list[Delivery]:
        stmt = select(alert_deliveries).order_by(alert_deliveries.c.id.desc()).limit(limit)
        async with self._db.transaction("list alert deliveries") as conn:
            return [_delivery(r) for r in (await conn.execute(stmt)).mappings().all()]

    # --- deliveries ---------------------------------------------------------------------

    async def queue(
        self, conn: AsyncConnection, incident_id: int | None, event: str, channel: str, payload: Any
    ) -> int:
        """Queue one notification, due now, in ``conn``'s transaction."""
        now = self._clock.now()
        result = await conn.execute(
            alert_deliveries.insert().values(
                incident_id=incident_id,
                channel=channel,
                event=event,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                payload=payload,
                created_at=now,
            )
        )
        key = result.inserted_primary_key
        return int(key[0]) if key is not None else 0

    async def due(self, limit: int = 50) -> list[Delivery]:
        """Deliveries to attempt now: pending ones due, and ``sending`` ones whose claim
        ran out (an instance that died while sending). One waits while an older one of
        the same incident on the same channel is unsent, so that a resolved notice never
        overtakes its incident's firing notification."""
        older = alert_deliveries.alias("older")
        unsent = ("pending", "sending")
        stmt = (
            select(alert_deliveries)
            .where(
                alert_deliveries.c.status.in_(unsent),
                alert_deliveries.c.next_attempt_at <= self._clock.now(),
                ~exists().where(
                    older.c.incident_id == alert_deliveries.c.incident_id,
                    older.c.channel == alert_deliveries.c.channel,
                    older.c.id < alert_deliveries.c.id,
                    older.c.status.in_(unsent),
                ),
            )
            .order_by(alert_deliveries.c.id)
            .limit(limit)
        )
        async with self._db.transaction("list due alert deliveries") as conn:
            return [_delivery(r) for r in (await conn.execute(stmt)).mappings().all()]

    async def claim(self, delivery: Delivery, lease: timedelta) -> bool:
        """Take ``delivery`` for sending until ``lease`` has passed; ``False`` when another
        instance took it first."""
        now = self._clock.now()
        stmt = (
            update(alert_deliveries)
            .where(
                alert_deliveries.c.id == delivery.id,
                alert_deliveries.c.status.in_(("pending", "sending")),
                alert_deliveries.c.next_attempt_at <= now,
                alert_deliveries.c.attempts == delivery.attempts,
            )
            .values(status="sending", next_attempt_at=now + lease, attempts=delivery.attempts + 1)
        )
        async with self._db.transaction("claim an alert delivery") as conn:
            return (await conn.execute(stmt)).rowcount == 1

    async def finish(
        self, delivery_id: int, *, error: str | None, retry_at: datetime | None
    ) -> None:
        """Record an attempt: sent (``error`` is ``None``), to retry at ``retry_at``, or
        failed for good (an error and no ``retry_at``)."""
        values: dict[str, Any]
        if error is None:
            values = {"status": "sent", "sent_at": self._clock.now(), "last_error": None}
        elif retry_at is not None:
            values = {"status": "pending", "next_attempt_at": retry_at, "last_error": error}
        else:
            values = {"status": "failed", "last_error": error}
        stmt = update(alert_deliveries).where(alert_deliveries.c.id == delivery_id)
        async with self._db.transaction("record an alert delivery") as conn:
            await conn.execute(stmt.values(**values))


class EvaluationTx:
    """What the evaluator decides and writes inside :func:`evaluation_lock`."""

    def __init__(self, conn: AsyncConnection, now: datetime) -> None:
        self.conn = conn
        self.now = now

    async def open_incidents(self) -> dict[int, Incident]:
        stmt = select(alert_incidents).where(alert_incidents.c.status == "firing")
        rows = (await self.conn.execute(stmt)).mappings().all()
        return {int(r["rule_id"]): _incident(r) for r in rows}

    async def last_resolved(self) -> dict[int, datetime]:
        """When each rule's most recent incident was resolved."""
        stmt = (
            select(alert_incidents.c.rule_id, func.max(alert_incidents.c.resolved_at))
            .where(alert_incidents.c.status == "resolved")
            .group_by(alert_incidents.c.rule_id)
        )
        rows = (await self.conn.execute(stmt)).all()
        return {int(rule_id): at for rule_id, at in rows if at is not None}

    async def checked(self, rule_id: int, value: float | None) -> None:
        await self.conn.execute(
            update(alert_rules)
            .where(alert_rules.c.id == rule_id)
            .values(last_value=value, last_checked_at=self.now)
        )

    async def open(self, rule: Rule, value: float, summary: str) -> int:
        result = await self.conn.execute(
            alert_incidents.insert().values(
                rule_id=rule.id,
                status="firing",
                opened_at=self.now,
                value=value,
                threshold=rule.threshold,
                summary=summary[:2000],
            )
        )
        key = result.inserted_primary_key
        return int(key[0]) if key is not None else 0

    async def resolve(self, incident: Incident, value: float | None) -> None:
        await self.conn.execute(
            update(alert_incidents)
            .where(alert_incidents.c.id == incident.id)
            .values(status="resolved", resolved_at=self.now, resolved_value=value)
        )
