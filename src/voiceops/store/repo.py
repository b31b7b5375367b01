"""Repositories: every SQL statement voiceops runs outside the event writer lives here.

* :class:`SqlBookingRepo` implements ``tools.ports.BookingRepo`` (bookings and callback
  requests, idempotent on their keys).
* :class:`CallRepo` keeps one row per call, filled from ``call_details`` on the socket and
  from Retell's webhooks, in whatever order they arrive.
* :class:`StateStore` persists per-call state so a re-dialled call can resume anywhere,
  many calls per statement, and never moves a call's row back to an older state.
* :class:`ProfileRepo` versions agent profiles by content.
* :class:`WebhookDeliveryRepo` keeps every webhook delivery (raw body included) and
  whether it was processed, so a retry is recognised and a crash loses nothing.
* :func:`purge` applies the retention window.

Every method runs in its own transaction and raises :class:`StorageError` when the
database refuses or is away; none of them knows about HTTP.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import (
    Column,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.core.callevents import CallEvent
from voiceops.core.errors import StorageError
from voiceops.core.ports import Booking, BookingStatus, CallbackRequest
from voiceops.core.profile import AgentProfile
from voiceops.core.state import CallState, StateSnapshot
from voiceops.core.transcript import CallObject
from voiceops.store.db import Database
from voiceops.store.tables import (
    agent_profiles,
    booking_changes,
    bookings,
    call_events,
    call_states,
    callback_requests,
    calls,
    webhook_deliveries,
)


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------
# bookings


def _booking(row: RowMapping) -> Booking:
    return Booking(
        booking_id=row["booking_id"],
        call_id=row["call_id"],
        service=row["service"],
        customer_name=row["customer_name"],
        customer_phone=row["customer_phone"],
        start_utc=row["start_utc"],
        end_utc=row["end_utc"],
        caller_zone=row["caller_zone"],
        local_start=row["local_start"],
        status=cast(BookingStatus, row["status"]),
        idempotency_key=row["idempotency_key"],
        created_at=row["created_at"],
        price=row["price"],
        notes=row["notes"],
    )


def _callback(row: RowMapping) -> CallbackRequest:
    return CallbackRequest(
        request_id=row["request_id"],
        call_id=row["call_id"],
        name=row["name"],
        phone=row["phone"],
        reason=row["reason"],
        priority=row["priority"],
        idempotency_key=row["idempotency_key"],
        created_at=row["created_at"],
    )


def phone_key(phone: str | None) -> str | None:
    """Digits only, so ``+1 (212) 555-0142`` and ``+12125550142`` match."""
    if phone is None:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits or None


def name_key(name: str) -> str:
    return name.strip().casefold()


class SqlBookingRepo:
    """``BookingRepo`` on SQL. Idempotency keys are unique columns, so a tool that runs
    twice (speculative turns, retries) inserts once and gets the stored row back."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_booking(self, booking: Booking) -> Booking:
        now = _now()
        stmt = (
            self._db.insert(bookings)
            .values(
                booking_id=booking.booking_id,
                call_id=booking.call_id,
                service=booking.service,
                customer_name=booking.customer_name,
                customer_phone=booking.customer_phone,
                phone_key=phone_key(booking.customer_phone),
                name_key=name_key(booking.customer_name)[:255],
                start_utc=booking.start_utc,
                end_utc=booking.end_utc,
                caller_zone=booking.caller_zone,
                local_start=booking.local_start,
                status=booking.status,
                idempotency_key=booking.idempotency_key,
                price=booking.price,
                notes=booking.notes,
                created_at=booking.created_at,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        async with self._db.transaction("create booking") as conn:
            await conn.execute(stmt)
            row = await _one(
                conn, select(bookings).where(bookings.c.idempotency_key == booking.idempotency_key)
            )
        if row is None:  # pragma: no cover - the row was just inserted or already there
            raise StorageError("booking vanished right after its insert")
        return _booking(row)

    async def get_booking(self, booking_id: str) -> Booking | None:
        async with self._db.transaction("read booking") as conn:
            row = await _one(conn, select(bookings).where(bookings.c.booking_id == booking_id))
        return None if row is None else _booking(row)

    async def bookings_between(self, start_utc: datetime, end_utc: datetime) -> list[Booking]:
        """Confirmed bookings overlapping ``[start_utc, end_utc)``, earliest first."""
        stmt = (
            select(bookings)
            .where(
                bookings.c.status == "confirmed",
                bookings.c.start_utc < end_utc,
                bookings.c.end_utc > start_utc,
            )
            .order_by(bookings.c.start_utc, bookings.c.booking_id)
        )
        async with self._db.transaction("list bookings") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_booking(row) for row in rows]

    async def find_bookings(
        self, *, phone: str | None = None, name: str | None = None, call_id: str | None = None
    ) -> list[Booking]:
        """Confirmed bookings matching any given key (phone by its digits, name
        case-insensitively), newest first (by creation). No key at all finds nothing."""
        keys = []
        wanted_phone = phone_key(phone)
        if wanted_phone:
            keys.append(bookings.c.phone_key == wanted_phone)
        if name and name.strip():
            keys.append(bookings.c.name_key == name_key(name))
        if call_id:
            keys.append(bookings.c.call_id == call_id)
        if not keys:
            return []
        stmt = (
            select(bookings)
            .where(bookings.c.status == "confirmed", or_(*keys))
            .order_by(bookings.c.created_at.desc(), bookings.c.booking_id.desc())
        )
        async with self._db.transaction("find bookings") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_booking(row) for row in rows]

    async def update_booking(self, booking: Booking, *, idempotency_key: str) -> Booking:
        """Replace the booking's time, zone, status and notes with ``booking``'s (its
        identity, customer and service stay as first stored).

        Each change is recorded under its ``idempotency_key`` in ``booking_changes``; a
        repeated key changes nothing and returns the booking as stored. Raises
        :class:`StorageError` for an unknown ``booking_id``.
        """
        now = _now()
        where = bookings.c.booking_id == booking.booking_id
        async with self._db.transaction("update booking") as conn:
            lock = select(bookings.c.booking_id).where(where)
            if self._db.dialect == "postgresql":
                lock = lock.with_for_update()
            if (await conn.execute(lock)).first() is None:
                raise StorageError(f"no booking {booking.booking_id!r} to update")
            change = (
                self._db.insert(booking_changes)
                .values(
                    booking_id=booking.booking_id,
                    idempotency_key=idempotency_key,
                    start_utc=booking.start_utc,
                    end_utc=booking.end_utc,
                    status=booking.status,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(booking_changes.c.id)
            )
            if (await conn.execute(change)).first() is not None:
                await conn.execute(
                    update(bookings)
                    .where(where)
                    .values(
                        start_utc=booking.start_utc,
                        end_utc=booking.end_utc,
                        caller_zone=booking.caller_zone,
                        local_start=booking.local_start,
                        status=booking.status,
                        notes=booking.notes,
                        updated_at=now,
                    )
                )
            row = await _one(conn, select(bookings).where(where))
        if row is None:  # pragma: no cover - locked above
            raise StorageError("booking vanished during its update")
        return _booking(row)

    async def create_callback(self, request: CallbackRequest) -> CallbackRequest:
        stmt = (
            self._db.insert(callback_requests)
            .values(
                request_id=request.request_id,
                call_id=request.call_id,
                name=request.name,
                phone=request.phone,
                reason=request.reason,
                priority=request.priority,
                idempotency_key=request.idempotency_key,
                created_at=request.created_at,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        key = callback_requests.c.idempotency_key == request.idempotency_key
        async with self._db.transaction("create callback request") as conn:
            await conn.execute(stmt)
            row = await _one(conn, select(callback_requests).where(key))
        if row is None:  # pragma: no cover - the row was just inserted or already there
            raise StorageError("callback request vanished right after its insert")
        return _callback(row)

    async def list_callbacks(self, *, limit: int = 50, offset: int = 0) -> list[CallbackRequest]:
        """Callback requests, newest first (for the operator's dashboard)."""
        stmt = (
            select(callback_requests)
            .order_by(callback_requests.c.created_at.desc(), callback_requests.c.request_id)
            .limit(limit)
            .offset(offset)
        )
        async with self._db.transaction("list callback requests") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_callback(row) for row in rows]


# --------------------------------------------------------------------------------------
# calls

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

    def __init__(self, db: Database) -> None:
        self._db = db

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
            row = await _one(conn, select(calls).where(calls.c.call_id == call_id))
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
        now = _now()
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


# --------------------------------------------------------------------------------------
# per-call state


class StateStore:
    """Persisted :class:`CallState`, one row per call (crash-safe, cross-process resume).

    A row only ever moves forward: a write carrying an older ``updated_at_ms`` than the
    stored one is ignored, so a slow process (or a retried batch) cannot overwrite the state
    a newer write left.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._upsert = self._upsert_statement()

    async def load(self, call_id: str) -> CallState | None:
        stmt = select(call_states.c.state).where(call_states.c.call_id == call_id)
        async with self._db.transaction("load call state") as conn:
            state = (await conn.execute(stmt)).scalar_one_or_none()
        return None if state is None else CallState.model_validate(state)

    async def save(self, state: CallState) -> None:
        """Upsert ``state`` as it is now (see :meth:`save_many`)."""
        await self.save_many([state.snapshot()])

    async def save_many(self, snapshots: Sequence[StateSnapshot]) -> None:
        """Upsert every snapshot in one transaction and one statement (an executemany);
        all are written or, on :class:`StorageError`, none.

        Per call, the snapshot with the newest ``updated_at_ms`` (stored or given) wins. The
        caller bounds the batch: it is one transaction, holding its row locks until it
        commits.
        """
        if not snapshots:
            return
        now = _now()
        # Rows in call-id order, so two processes writing overlapping batches lock them in
        # the same order and cannot deadlock.
        jsonb = self._db.dialect == "postgresql"
        params = [
            {
                "s_call_id": snap.call_id,
                "s_json": _jsonb_safe(snap.json) if jsonb else snap.json,
                "s_ms": snap.updated_at_ms,
                "s_at": now,
            }
            for snap in sorted(snapshots, key=lambda snap: snap.call_id)
        ]
        async with self._db.transaction(f"save {len(params)} call states") as conn:
            await conn.execute(self._upsert, params)

    def _upsert_statement(self) -> postgresql.Insert | sqlite.Insert:
        # The snapshot is already JSON text: bind it as text so it is not encoded a second
        # time. PostgreSQL parses it into JSONB on its side; SQLite stores JSON as text.
        text_json = bindparam("s_json", type_=Text())
        state = text_json.cast(JSONB()) if self._db.dialect == "postgresql" else text_json
        stmt = self._db.insert(call_states).values(
            call_id=bindparam("s_call_id", type_=call_states.c.call_id.type),
            state=state,
            updated_at_ms=bindparam("s_ms", type_=call_states.c.updated_at_ms.type),
            updated_at=bindparam("s_at", type_=call_states.c.updated_at.type),
        )
        new = stmt.excluded
        return stmt.on_conflict_do_update(
            index_elements=["call_id"],
            set_={
                "state": new.state,
                "updated_at_ms": new.updated_at_ms,
                "updated_at": new.updated_at,
            },
            where=call_states.c.updated_at_ms <= new.updated_at_ms,
        )


# PostgreSQL's JSONB refuses the NUL character (``\u0000``) in a string. A call state carries
# text from outside (call metadata, what the caller said), and one such state would fail
# its whole batch on every retry, blocking every call's state: NUL becomes U+FFFD instead.
# Only a ``\u0000`` escape preceded by an even number of backslashes is a NUL.
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _jsonb_safe(json_text: str) -> str:
    if "\\u0000" not in json_text:
        return json_text
    return _NUL_ESCAPE.sub(r"\1\\ufffd", json_text)


# --------------------------------------------------------------------------------------
# agent profiles

_PROFILE_SAVE_ATTEMPTS = 5


def profile_digest(profile: AgentProfile) -> tuple[str, dict[str, Any]]:
    """The content hash of ``profile`` (its ``version`` excluded) and its JSON body."""
    body = profile.model_dump(mode="json", exclude={"version"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest(), body


class ProfileRepo:
    """Agent profile versions. The version number is assigned here, by content."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, profile: AgentProfile) -> int:
        """Store ``profile`` and return its version: a new number for new content, the
        existing number when identical content was saved before (``version`` ignored)."""
        digest, body = profile_digest(profile)
        by_digest = select(agent_profiles.c.version).where(
            agent_profiles.c.content_sha256 == digest
        )
        for _ in range(_PROFILE_SAVE_ATTEMPTS):
            try:
                async with self._db.engine.begin() as conn:
                    existing = (await conn.execute(by_digest)).scalar_one_or_none()
                    if existing is not None:
                        return int(existing)
                    top = select(func.coalesce(func.max(agent_profiles.c.version), 0))
                    version = int((await conn.execute(top)).scalar_one()) + 1
                    await conn.execute(
                        agent_profiles.insert().values(
                            version=version,
                            content_sha256=digest,
                            business_name=profile.business_name[:255],
                            body=body,
                            created_at=_now(),
                        )
                    )
                    return version
            except IntegrityError:
                # Another process saved a profile at the same moment: look again.
                continue
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                raise StorageError(f"save profile failed: {type(exc).__name__}") from exc
        raise StorageError(f"save profile failed: {_PROFILE_SAVE_ATTEMPTS} concurrent conflicts")

    async def latest(self) -> AgentProfile | None:
        """The newest saved profile, its ``version`` set, or ``None``."""
        stmt = select(agent_profiles).order_by(agent_profiles.c.version.desc()).limit(1)
        async with self._db.transaction("read latest profile") as conn:
            row = await _one(conn, stmt)
        return None if row is None else _profile(row)

    async def get(self, version: int) -> AgentProfile | None:
        stmt = select(agent_profiles).where(agent_profiles.c.version == version)
        async with self._db.transaction("read profile") as conn:
            row = await _one(conn, stmt)
        return None if row is None else _profile(row)


def _profile(row: RowMapping) -> AgentProfile:
    return AgentProfile.model_validate({**row["body"], "version": row["version"]})


# --------------------------------------------------------------------------------------
# webhook deliveries


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    event: str
    call_id: str | None
    sequence: int
    raw_body: bytes
    attempts: int
    processed: bool


class WebhookDeliveryRepo:
    """Webhook deliveries, stored before they are acknowledged and processed after.

    A delivery is identified by its dedupe key (``retell.webhooks.dedupe_key``). A retry
    with the same key is a duplicate and changes nothing, except that a delivery with a
    larger ``sequence`` (a longer ``transcript_updated`` snapshot) replaces the stored one
    and is processed again: latest snapshot wins.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        *,
        dedupe_key: str,
        event: str,
        call_id: str | None,
        sequence: int,
        signed_at_ms: int | None,
        raw_body: bytes,
    ) -> int | None:
        """Store a delivery; its id when it needs processing, ``None`` for a duplicate."""
        now = _now()
        insert = self._db.insert(webhook_deliveries).values(
            dedupe_key=dedupe_key,
            event=event,
            call_id=call_id,
            sequence=sequence,
            signed_at_ms=signed_at_ms,
            raw_body=raw_body,
            received_at=now,
            attempts=0,
        )
        new = insert.excluded
        stmt = insert.on_conflict_do_update(
            index_elements=["dedupe_key"],
            set_={
                "raw_body": new.raw_body,
                "sequence": new.sequence,
                "signed_at_ms": new.signed_at_ms,
                "received_at": new.received_at,
                "processed_at": None,
                "attempts": 0,
                "last_error": None,
            },
            where=webhook_deliveries.c.sequence < new.sequence,
        ).returning(webhook_deliveries.c.id)
        async with self._db.transaction("record webhook delivery") as conn:
            delivery_id = (await conn.execute(stmt)).scalar_one_or_none()
        return None if delivery_id is None else int(delivery_id)

    async def get(self, delivery_id: int) -> Delivery | None:
        stmt = select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
        async with self._db.transaction("read webhook delivery") as conn:
            row = await _one(conn, stmt)
        if row is None:
            return None
        return Delivery(
            id=int(row["id"]),
            event=row["event"],
            call_id=row["call_id"],
            sequence=int(row["sequence"]),
            raw_body=bytes(row["raw_body"]),
            attempts=int(row["attempts"]),
            processed=row["processed_at"] is not None,
        )

    async def pending_ids(self, *, max_attempts: int, limit: int = 1000) -> list[int]:
        """Unprocessed deliveries that have failed fewer than ``max_attempts`` times,
        oldest first."""
        stmt = (
            select(webhook_deliveries.c.id)
            .where(
                webhook_deliveries.c.processed_at.is_(None),
                webhook_deliveries.c.attempts < max_attempts,
            )
            .order_by(webhook_deliveries.c.id)
            .limit(limit)
        )
        async with self._db.transaction("list pending webhook deliveries") as conn:
            return [int(i) for i in (await conn.execute(stmt)).scalars().all()]

    async def complete(
        self, delivery: Delivery, apply: Callable[[AsyncConnection], Awaitable[None]]
    ) -> bool:
        """Run ``apply`` and mark the delivery processed, in one transaction.

        Returns ``False`` (and still commits ``apply``, which is idempotent) when a newer
        snapshot replaced the delivery meanwhile: that one is processed next.
        """
        stmt = (
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.id == delivery.id,
                webhook_deliveries.c.sequence == delivery.sequence,
            )
            .values(processed_at=_now(), last_error=None)
        )
        async with self._db.transaction("process webhook delivery") as conn:
            await apply(conn)
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def fail(self, delivery_id: int, error: str) -> int:
        """Count a failed processing attempt; returns the attempts so far."""
        stmt = (
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(attempts=webhook_deliveries.c.attempts + 1, last_error=error[:2000])
            .returning(webhook_deliveries.c.attempts)
        )
        async with self._db.transaction("record webhook failure") as conn:
            attempts = (await conn.execute(stmt)).scalar_one_or_none()
        return int(attempts or 0)


# --------------------------------------------------------------------------------------
# retention


async def purge(db: Database, older_than: timedelta) -> dict[str, int]:
    """Delete call data older than ``older_than``; returns rows deleted per table.

    Purged: call events, calls, call states, webhook deliveries and callback requests
    created before the cutoff, and bookings whose appointment *ended* before it (a future
    booking is never purged, however old the call that made it).
    """
    if older_than <= timedelta(0):
        raise ValueError("the retention window must be positive")
    cutoff = _now() - older_than
    statements = {
        "call_events": delete(call_events).where(call_events.c.created_at < cutoff),
        "calls": delete(calls).where(calls.c.created_at < cutoff),
        "call_states": delete(call_states).where(call_states.c.updated_at < cutoff),
        "webhook_deliveries": delete(webhook_deliveries).where(
            webhook_deliveries.c.received_at < cutoff
        ),
        "callback_requests": delete(callback_requests).where(
            callback_requests.c.created_at < cutoff
        ),
        "bookings": delete(bookings).where(
            and_(bookings.c.end_utc < cutoff, bookings.c.created_at < cutoff)
        ),
    }
    counts: dict[str, int] = {}
    async with db.transaction("purge") as conn:
        for table, stmt in statements.items():
            result = await conn.execute(stmt)
            counts[table] = int(result.rowcount or 0)
    return counts


async def _one(conn: AsyncConnection, stmt: Any) -> RowMapping | None:
    return (await conn.execute(stmt)).mappings().first()
