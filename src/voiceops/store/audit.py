"""The console's audit log: who changed what, and when. Rows are only ever added."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.core.clock import Clock
from voiceops.store.db import Database
from voiceops.store.tables import audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any] | None
    address: str | None


class AuditLog:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def record(
        self,
        actor: str,
        action: str,
        target: str = "",
        detail: dict[str, Any] | None = None,
        *,
        address: str | None = None,
        conn: AsyncConnection | None = None,
    ) -> None:
        """Add one entry, in ``conn``'s transaction when given (so the change and its
        entry commit together)."""
        stmt = audit_log.insert().values(
            at=self._clock.now(),
            actor=actor[:255],
            action=action[:64],
            target=target[:255],
            detail=detail,
            address=(address or "")[:64] or None,
        )
        if conn is not None:
            await conn.execute(stmt)
            return
        async with self._db.transaction("write audit entry") as own:
            await own.execute(stmt)

    async def recent(self, limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
        stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            stmt = stmt.where(audit_log.c.id < before_id)
        async with self._db.transaction("read audit log") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [
            AuditEntry(
                int(r["id"]),
                r["at"],
                r["actor"],
                r["action"],
                r["target"],
                r["detail"],
                r["address"],
            )
            for r in rows
        ]
