"""Call records: :class:`CallRepo` keeps one row per call, filled from ``call_details`` on
the socket and from Retell's webhooks, in whatever order they arrive.

Every method runs in its own transaction (or the caller's, for the ``*_in`` methods) and
raises :class:`StorageError` when the database refuses or is away.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Column, Integer, String, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.core.callevents import CallEvent
from voiceops.core.clock import Clock, SystemClock
from voiceops.core.transcript import CallObject
from voiceops.store.db import Database, first_row
from voiceops.store.tables import call_events, calls

# Columns a webhook or ``call_details`` may set, and the call-object field each comes from.
_FROM_CALL_OBJECT: dict[str, str] = {
    "agent_id": "agent_id",
    "agent_version": "agent_version",
    "call_type": "call_type",
    "direction": "direction",
    "from_number": "from_number",
    "to_number": "to_number",
    "call_status": "call_status",
    "started_at": "start_timestamp",
    "ended_at": "end_timestamp",
    "duration_ms": "duration_ms",
    "disconnection_reason": "disconnection_reason",
    "transfer_destination": "transfer_destination",
    "call_analysis": "call_analysis",
    "latency": "latency",
    "call_cost": "call_cost",
    "call_metadata": "metadata",
    "dynamic_variables": "retell_llm_dynamic_variables",
    "transcript": "transcript",
    "recording_url": "recording_url",
    "public_log_url": "public_log_url",
}
_TRANSCRIPT_COLUMNS = ("transcript_entries", "transcript_size")
_HEAVY_COLUMNS = frozenset({"transcript", "transcript_entries"})
_TRANSFER_EVENTS = {
    "transfer_started": "started",
    "transfer_bridged": "bridged",
    "transfer_cancelled": "cancelled",
    "transfer_ended": "ended",
}

Merge = Literal["fill", "overwrite"]


def _coerce(column: Column[Any], value: Any) -> Any:
    """``value`` if it fits ``column``, else ``None``: payloads are signed but typed loosely,
    and one odd field must not make a whole webhook unprocessable."""
    if value is None:
        return None
    if column.name in ("started_at", "ended_at"):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return datetime.fromtimestamp(value / 1000, UTC)
        return None
    if isinstance(column.type, String):
        if isinstance(value, dict):
            # e.g. a transfer destination given as {"type": "predefined", "number": ...}
            value = value.get("number") or json.dumps(value, sort_keys=True)
        if not isinstance(value, str):
            return None
        length = column.type.length
        return value[:length] if length else value
    if isinstance(column.type, Integer):  # BigInteger is an Integer too
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    return value


def call_values(call: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for the ``calls`` row from a Retell call object (absent -> omitted)."""
    values: dict[str, Any] = {}
    for column_name, field in _FROM_CALL_OBJECT.items():
        value = _coerce(calls.c[column_name], call.get(field))
        if value is not None:
            values[column_name] = value
    entries = call.get("transcript_with_tool_calls")
    if not isinstance(entries, list):
        entries = call.get("transcript_object")
    if isinstance(entries, list):
        values["transcript_entries"] = entries
        values["transcript_size"] = len(entries)
    return values


class CallRepo:
    """One row per call, merged from every source that knows something about it.

    Sources arrive in any order (a retried ``call_started`` after ``call_ended``, the
    socket's ``call_details`` after a webhook), so merges are per column: ``fill`` sets
    only what is still empty, ``overwrite`` replaces with whatever the newer source says.
    The transcript is a snapshot; a longer (newer) one always wins over a shorter one.
    """

    def __init__(self, db: Database, *, clock: Clock | None = None) -> None:
        self._db = db
        self._clock: Clock = SystemClock() if clock is None else clock

    async def upsert_from_details(
        self, call: CallObject, *, caller_zone: str | None, profile_version: int | None
    ) -> None:
        """Record the call as the socket first sees it (``call_details``)."""
        if not call.call_id:
            raise ValueError("call_details without a call_id")
        ours: dict[str, Any] = {}
        if caller_zone is not None:
            ours["caller_zone"] = caller_zone
        if profile_version is not None:
            ours["profile_version"] = profile_version
        async with self._db.transaction("record call details") as conn:
            await self._merge(
                conn,
                call.call_id,
                call_values(call.model_dump(exclude_none=True)),
                "fill",
                overwrite=ours,
            )

    async def apply_webhook(
        self, event: str, call: Mapping[str, Any], *, transfer_destination: Any = None
    ) -> None:
        """Merge one webhook's call object into the call's row (see :meth:`apply_in`)."""
        async with self._db.transaction(f"apply {event} webhook") as conn:
            await self.apply_in(conn, event, call, transfer_destination=transfer_destination)

    async def apply_in(
        self,
        conn: AsyncConnection,
        event: str,
        call: Mapping[str, Any],
        *,
        transfer_destination: Any = None,
    ) -> None:
        """Like :meth:`apply_webhook`, inside the caller's transaction.

        ``call_started`` (and unknown events) only fill empty columns, so a late retry never
        turns an ended call back into an ongoing one; ``call_ended``/``call_analyzed``
        overwrite; ``transcript_updated`` contributes its transcript snapshot; transfer
        events record their destination and ``transfer_status``. Idempotent.
        """
        call_id = call.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            raise ValueError(f"{event} webhook without a call_id")
        values = call_values(call)
        overwrite: dict[str, Any] = {}
        mode: Merge = "fill"
        if event in ("call_ended", "call_analyzed"):
            mode = "overwrite"
        elif event in _TRANSFER_EVENTS:
            overwrite["transfer_status"] = _TRANSFER_EVENTS[event]
            destination = _coerce(calls.c.transfer_destination, transfer_destination)
            if destination is not None:
                overwrite["transfer_destination"] = destination
        await self._merge(conn, call_id, values, mode, overwrite=overwrite)

    async def set_outcome(
        self, call_id: str, outcome: str, transfer_destination: str | None = None
    ) -> None:
        """Record how the call ended from the agent's side (``booked``, ``transferred``...)."""
        overwrite: dict[str, Any] = {"outcome": _coerce(calls.c.outcome, outcome)}
        if transfer_destination is not None:
            overwrite["transfer_destination"] = transfer_destination
        async with self._db.transaction("set call outcome") as conn:
            await self._merge(conn, call_id, {}, "fill", overwrite=overwrite)

    async def get(self, call_id: str) -> dict[str, Any] | None:
        """Every column of the call's row, or ``None``."""
        async with self._db.transaction("read call") as conn:
            row = await first_row(conn, select(calls).where(calls.c.call_id == call_id))
        return None if row is None else dict(row)

    async def list_calls(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Calls, newest first, without the transcript columns (use :meth:`get`)."""
        columns = [c for c in calls.c if c.name not in _HEAVY_COLUMNS]
        stmt = (
            select(*columns)
            .order_by(calls.c.created_at.desc(), calls.c.call_id)
            .limit(limit)
            .offset(offset)
        )
        async with self._db.transaction("list calls") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [dict(row) for row in rows]

    async def record_event_in(self, conn: AsyncConnection, event: CallEvent) -> None:
        """Insert one ``call_events`` row inside the caller's transaction (idempotent on
        ``event_id``). The hot path uses the event writer instead."""
        stmt = (
            self._db.insert(call_events)
            .values(
                event_id=event.event_id,
                call_id=event.call_id,
                event_type=event.event_type,
                turn_index=event.turn_index,
                response_id=event.response_id,
                role=event.role,
                content=event.content,
                tokens_in=event.tokens_in,
                tokens_out=event.tokens_out,
                latency_ms=event.latency_ms,
                payload=event.payload,
                created_at=event.created_at,
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        await conn.execute(stmt)

    async def _merge(
        self,
        conn: AsyncConnection,
        call_id: str,
        values: dict[str, Any],
        mode: Merge,
        *,
        overwrite: Mapping[str, Any],
    ) -> None:
        now = self._clock.now()
        row = {**values, **overwrite, "call_id": call_id, "created_at": now, "updated_at": now}
        stmt = self._db.insert(calls).values(**row)
        new = stmt.excluded
        sets: dict[str, Any] = {"updated_at": new.updated_at}
        for name in values:
            if name in _TRANSCRIPT_COLUMNS or name == "transcript":
                continue
            column = calls.c[name]
            if mode == "fill":
                sets[name] = func.coalesce(column, new[name])
            else:
                sets[name] = func.coalesce(new[name], column)
        if "transcript_size" in values:
            newer = new.transcript_size >= calls.c.transcript_size
            sets["transcript_entries"] = case(
                (newer, new.transcript_entries), else_=calls.c.transcript_entries
            )
            sets["transcript_size"] = case(
                (newer, new.transcript_size), else_=calls.c.transcript_size
            )
        if "transcript" in values:
            # The plain-text transcript only comes with the final call object.
            sets["transcript"] = func.coalesce(new.transcript, calls.c.transcript)
        for name in overwrite:
            sets[name] = new[name]
        await conn.execute(stmt.on_conflict_do_update(index_elements=["call_id"], set_=sets))
