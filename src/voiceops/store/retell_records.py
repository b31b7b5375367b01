"""Every call's Retell record: what Retell knows about a call that the socket never sees.

Retell reports a call's disconnection reason, status, start, end and duration, recording and
public log, post-call analysis, per-turn latency, transfer destination and cost in its
``call_ended``, ``call_analyzed`` and ``transfer_*`` webhooks and in its list-calls API.
Both sources land in one ``retell_calls`` row per call:

* :func:`record_from_call` keeps the fields voiceops uses from a Retell call object,
  normalised: epoch milliseconds become UTC datetimes, the duration is derived from start
  and end when Retell leaves it out, and every amount of ``call_cost`` becomes a decimal
  string (cents; unit prices in cents per second), so that no float reaches the arithmetic.
* :class:`RetellRecordRepo` merges a record into the row **field by field, the newest
  observation winning**: ``field_times`` keeps, per field, the epoch ms of the observation
  that set it (a webhook's signature time, a sync's fetch time). A field a source does not
  carry never clears one it did (``call_ended`` has no analysis yet), and a call that
  ended never goes back to ``ongoing``. A webhook and a sync of the same call therefore
  merge into one row, never two, whatever their order.

Every method raises :class:`StorageError` when the database refuses or is away.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy import bindparam, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.core.clock import Clock, utc_now_ms
from voiceops.store.db import Database
from voiceops.store.tables import retell_calls, webhook_deliveries

# The fields of a record, in the order of the table's columns.
FIELDS: tuple[str, ...] = (
    "agent_id",
    "agent_version",
    "call_type",
    "direction",
    "call_status",
    "disconnection_reason",
    "started_at",
    "ended_at",
    "duration_ms",
    "recording_url",
    "public_log_url",
    "transfer_destination",
    "call_analysis",
    "latency",
    "call_cost",
)
_STRINGS = {
    "agent_id": 255,
    "call_type": 32,
    "direction": 16,
    "call_status": 32,
    "disconnection_reason": 64,
    "recording_url": None,
    "public_log_url": None,
}
_TERMINAL = frozenset({"ended", "error", "not_connected"})
_ANALYSIS_KEYS = (
    "call_summary",
    "call_successful",
    "user_sentiment",
    "in_voicemail",
    "custom_analysis_data",
)
_LATENCY_KEYS = ("p50", "p90", "p95", "p99", "min", "max", "num", "values")
_MAX_LATENCY_VALUES = 10_000

# The webhooks that carry a call's record (``call_started`` and ``transcript_updated`` come
# while the call is live and carry none of it).
WEBHOOK_EVENTS = frozenset(
    {
        "call_ended",
        "call_analyzed",
        "transfer_started",
        "transfer_bridged",
        "transfer_cancelled",
        "transfer_ended",
    }
)

Source = Literal["webhook", "sync"]
Outcome = Literal["new", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class RetellRecord:
    """The fields of one call's Retell record that one source carried (others absent)."""

    call_id: str
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A ``retell_calls`` row."""

    call_id: str
    agent_id: str | None
    agent_version: int | None
    call_type: str | None
    direction: str | None
    call_status: str | None
    disconnection_reason: str | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_ms: int | None
    recording_url: str | None
    public_log_url: str | None
    transfer_destination: str | None
    call_analysis: dict[str, Any] | None
    latency: dict[str, Any] | None
    call_cost: dict[str, Any] | None
    field_times: dict[str, int]
    webhook_at: datetime | None
    synced_at: datetime | None


# --------------------------------------------------------------------------------------
# from a Retell call object


def _epoch_ms(value: object) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    return None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def decimal_text(value: object) -> str | None:
    """A JSON number as a plain decimal string (``6.5`` -> ``"6.5"``, never ``1E-5``);
    ``None`` for anything that is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return format(number, "f")


def _destination(value: object) -> str | None:
    if isinstance(value, Mapping):
        number = value.get("number")
        value = number if isinstance(number, str) else json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value:
        return value[:255]
    return None


def _analysis(value: object) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    kept = {key: value[key] for key in _ANALYSIS_KEYS if value.get(key) is not None}
    return kept or None


def _latency(value: object) -> dict[str, Any] | None:
    """Each component (``e2e``, ``llm``, ``llm_websocket_network_rtt``, ``tts`` ...) with
    its percentiles and the per-turn ``values``."""
    if not isinstance(value, Mapping):
        return None
    kept: dict[str, Any] = {}
    for component, figures in value.items():
        if not isinstance(component, str) or not isinstance(figures, Mapping):
            continue
        entry: dict[str, Any] = {}
        for key in _LATENCY_KEYS:
            figure = figures.get(key)
            if key == "values":
                if isinstance(figure, list):
                    entry[key] = [
                        v
                        for v in figure[:_MAX_LATENCY_VALUES]
                        if isinstance(v, int | float) and not isinstance(v, bool)
                    ]
            elif isinstance(figure, int | float) and not isinstance(figure, bool):
                entry[key] = figure
        if entry:
            kept[component] = entry
    return kept or None


def _call_cost(value: object) -> dict[str, Any] | None:
    """Retell's ``call_cost`` with every amount as a decimal string: ``cost`` and
    ``combined_cost`` in cents, ``unit_price`` and ``total_duration_unit_price`` in cents
    per second, ``total_duration_seconds`` in seconds."""
    if not isinstance(value, Mapping):
        return None
    combined = decimal_text(value.get("combined_cost"))
    if combined is None:
        return None
    cost: dict[str, Any] = {"combined_cost": combined, "product_costs": []}
    for key in ("total_duration_seconds", "total_duration_unit_price"):
        text = decimal_text(value.get(key))
        if text is not None:
            cost[key] = text
    products = value.get("product_costs")
    for item in products if isinstance(products, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("product"), str):
            continue
        amount = decimal_text(item.get("cost"))
        if amount is None:
            continue
        product: dict[str, Any] = {"product": item["product"], "cost": amount}
        unit_price = decimal_text(item.get("unit_price"))
        if unit_price is not None:
            product["unit_price"] = unit_price
        if item.get("is_transfer_leg_cost") is True:
            product["is_transfer_leg_cost"] = True
        cost["product_costs"].append(product)
    return cost


def record_from_call(
    call: Mapping[str, Any], *, transfer_destination: object = None
) -> RetellRecord:
    """The record fields a Retell call object carries (a webhook's ``call``, an item of
    list-calls, get-call). ``transfer_destination`` is a transfer webhook's top-level field,
    which wins over the call object's. Raises ``ValueError`` without a ``call_id``."""
    call_id = call.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        raise ValueError("a Retell call object without a call_id")
    values: dict[str, Any] = {}
    for name, limit in _STRINGS.items():
        text = call.get(name)
        if isinstance(text, str) and text:
            values[name] = text if limit is None else text[:limit]
    version = _int(call.get("agent_version"))
    if version is not None:
        values["agent_version"] = version
    started = _epoch_ms(call.get("start_timestamp"))
    ended = _epoch_ms(call.get("end_timestamp"))
    duration = _int(call.get("duration_ms"))
    if duration is None and started is not None and ended is not None and ended >= started:
        duration = int((ended - started).total_seconds() * 1000)
    for name, value in (
        ("started_at", started),
        ("ended_at", ended),
        ("duration_ms", duration),
        ("transfer_destination", _destination(transfer_destination)),
        ("call_analysis", _analysis(call.get("call_analysis"))),
        ("latency", _latency(call.get("latency"))),
        ("call_cost", _call_cost(call.get("call_cost"))),
    ):
        if value is not None:
            values[name] = value
    if "transfer_destination" not in values:
        destination = _destination(call.get("transfer_destination"))
        if destination is not None:
            values["transfer_destination"] = destination
    return RetellRecord(call_id=call_id[:255], values=values)


# --------------------------------------------------------------------------------------
# the merge


def merge_values(
    current: Mapping[str, Any],
    times: Mapping[str, int],
    record: RetellRecord,
    as_of_ms: int,
) -> tuple[dict[str, Any], dict[str, int]]:
    """The fields of ``record`` that win over ``current`` (a field wins unless ``current``
    holds it from a strictly newer observation; a terminal status never goes back) and the
    new ``field_times``. Pure: the repository applies the result."""
    changed: dict[str, Any] = {}
    new_times = dict(times)
    for name, value in record.values.items():
        if value is None or name not in FIELDS:
            continue
        seen = times.get(name)
        if seen is not None and as_of_ms < seen:
            continue
        if (
            name == "call_status"
            and current.get("call_status") in _TERMINAL
            and value not in _TERMINAL
        ):
            continue
        new_times[name] = as_of_ms
        if current.get(name) != value:
            changed[name] = value
    return changed, new_times


def _stored(row: RowMapping) -> StoredRecord:
    return StoredRecord(
        call_id=row["call_id"],
        agent_id=row["agent_id"],
        agent_version=row["agent_version"],
        call_type=row["call_type"],
        direction=row["direction"],
        call_status=row["call_status"],
        disconnection_reason=row["disconnection_reason"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_ms=row["duration_ms"],
        recording_url=row["recording_url"],
        public_log_url=row["public_log_url"],
        transfer_destination=row["transfer_destination"],
        call_analysis=row["call_analysis"],
        latency=row["latency"],
        call_cost=row["call_cost"],
        field_times={str(k): int(v) for k, v in (row["field_times"] or {}).items()},
        webhook_at=row["webhook_at"],
        synced_at=row["synced_at"],
    )


class RetellRecordRepo:
    """The ``retell_calls`` rows: one per call, merged from webhooks and syncs."""

    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def merge(
        self, record: RetellRecord, *, source: Source, as_of_ms: int | None = None
    ) -> Outcome:
        """Merge one record in its own transaction (``as_of_ms``: now by default)."""
        async with self._db.transaction("merge Retell record") as conn:
            return await self.merge_in(conn, record, source=source, as_of_ms=as_of_ms)

    async def merge_many(
        self, records: Sequence[RetellRecord], *, source: Source, as_of_ms: int | None = None
    ) -> list[Outcome]:
        """Merge several records (a page of a sync) in one transaction."""
        async with self._db.transaction("merge Retell records") as conn:
            return await self.merge_all_in(conn, records, source=source, as_of_ms=as_of_ms)

    async def merge_webhook_in(
        self,
        conn: AsyncConnection,
        event: str,
        call: Mapping[str, Any],
        *,
        transfer_destination: object,
        delivery_id: int,
    ) -> Outcome | None:
        """Merge the call object of a :data:`WEBHOOK_EVENTS` webhook inside the webhook
        processor's transaction, as of the time Retell signed the delivery (the
        processing time if it is unknown); other events are left alone (``None``)."""
        if event not in WEBHOOK_EVENTS:
            return None
        signed = (
            await conn.execute(
                select(webhook_deliveries.c.signed_at_ms).where(
                    webhook_deliveries.c.id == delivery_id
                )
            )
        ).scalar_one_or_none()
        record = record_from_call(call, transfer_destination=transfer_destination)
        as_of = int(signed) if signed is not None else None
        return await self.merge_in(conn, record, source="webhook", as_of_ms=as_of)

    async def merge_in(
        self,
        conn: AsyncConnection,
        record: RetellRecord,
        *,
        source: Source,
        as_of_ms: int | None = None,
    ) -> Outcome:
        """Merge ``record`` inside the caller's transaction; says whether the row is new,
        changed or already said the same."""
        (outcome,) = await self.merge_all_in(conn, [record], source=source, as_of_ms=as_of_ms)
        return outcome

    async def merge_all_in(
        self,
        conn: AsyncConnection,
        records: Sequence[RetellRecord],
        *,
        source: Source,
        as_of_ms: int | None = None,
    ) -> list[Outcome]:
        """Merge ``records`` inside the caller's transaction, in three statements whatever
        their number: create the missing rows, read and lock them all, write them back."""
        if not records:
            return []
        now = self._clock.now()
        as_of = utc_now_ms(self._clock) if as_of_ms is None else as_of_ms
        ids = sorted({record.call_id for record in records})
        # Create what is missing, then lock every row: a webhook and a sync of the same
        # call may merge at the same moment, and each must see the other's fields.
        inserted = await conn.execute(
            self._db.insert(retell_calls)
            .values(
                [
                    {"call_id": i, "field_times": {}, "created_at": now, "updated_at": now}
                    for i in ids
                ]
            )
            .on_conflict_do_nothing(index_elements=["call_id"])
            .returning(retell_calls.c.call_id)
        )
        created = set(inserted.scalars().all())
        query = select(retell_calls).where(retell_calls.c.call_id.in_(ids))
        if self._db.dialect == "postgresql":
            query = query.order_by(retell_calls.c.call_id).with_for_update()
        rows = {row["call_id"]: dict(row) for row in (await conn.execute(query)).mappings()}
        outcomes: list[Outcome] = []
        for record in records:
            row = rows[record.call_id]
            fresh = record.call_id in created
            created.discard(record.call_id)
            changed, row["field_times"] = merge_values(row, row["field_times"] or {}, record, as_of)
            row.update(changed)
            outcomes.append("new" if fresh else "updated" if changed else "unchanged")
        stamp = "webhook_at" if source == "webhook" else "synced_at"
        columns = [*FIELDS, "field_times"]
        statement = (
            retell_calls.update()
            .where(retell_calls.c.call_id == bindparam("key"))
            .values(
                {name: bindparam(f"v_{name}") for name in columns} | {"updated_at": now, stamp: now}
            )
        )
        await conn.execute(
            statement,
            [
                {"key": call_id} | {f"v_{name}": row[name] for name in columns}
                for call_id, row in rows.items()
            ],
        )
        return outcomes

    async def get(self, call_id: str) -> StoredRecord | None:
        query = select(retell_calls).where(retell_calls.c.call_id == call_id)
        async with self._db.transaction("read Retell record") as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _stored(row)

    async def started_between(self, start: datetime, end: datetime) -> list[StoredRecord]:
        """Records of the calls that started in ``[start, end)``, oldest first."""
        query = (
            select(retell_calls)
            .where(retell_calls.c.started_at >= start, retell_calls.c.started_at < end)
            .order_by(retell_calls.c.started_at, retell_calls.c.call_id)
        )
        async with self._db.transaction("list Retell records") as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_stored(row) for row in rows]
