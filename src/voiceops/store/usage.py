"""What the cost report reads besides Retell's records: the LLM tokens of each call's
turns (``call_events``: input, output, and the input the provider's prompt cache served),
and how many calls still wait for their Retell record.

Every function raises :class:`StorageError` when the database refuses or is away.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from voiceops.store.db import Database
from voiceops.store.tables import call_events, calls, retell_calls

# The turn events that carry the tokens of a turn's LLM requests (every tool round summed).
TOKEN_EVENTS = ("turn_completed", "turn_superseded")


@dataclass(frozen=True, slots=True)
class CallTokens:
    tokens_in: int
    tokens_out: int
    turns: int
    tokens_cached: int = 0
    """Of ``tokens_in``, those the provider served from its prompt cache (the turn event's
    ``payload.tokens_cached``)."""


async def token_usage(
    db: Database, *, since: datetime, call_ids: Iterable[str] | None = None
) -> dict[str, CallTokens]:
    """LLM tokens per call, summed over the turns recorded since ``since`` (optionally only
    for ``call_ids``). Calls whose turns asked no model (the ``flow`` brain) have none."""
    cached = call_events.c.payload["tokens_cached"].as_integer()
    query = (
        select(
            call_events.c.call_id,
            func.coalesce(func.sum(call_events.c.tokens_in), 0),
            func.coalesce(func.sum(call_events.c.tokens_out), 0),
            func.count(),
            func.coalesce(func.sum(cached), 0),
        )
        .where(
            call_events.c.event_type.in_(TOKEN_EVENTS),
            call_events.c.created_at >= since,
            (call_events.c.tokens_in.is_not(None)) | (call_events.c.tokens_out.is_not(None)),
        )
        .group_by(call_events.c.call_id)
    )
    wanted = None if call_ids is None else set(call_ids)
    async with db.transaction("sum LLM tokens per call") as conn:
        rows = (await conn.execute(query)).all()
    return {
        str(call_id): CallTokens(int(tokens_in), int(tokens_out), int(turns), int(tokens_cached))
        for call_id, tokens_in, tokens_out, turns, tokens_cached in rows
        if wanted is None or call_id in wanted
    }


async def calls_without_record(db: Database, *, start: datetime, end: datetime) -> int:
    """Calls the socket saw in ``[start, end)`` that have no Retell record yet (a sync or
    a ``call_ended`` webhook would bring it)."""
    seen = func.coalesce(calls.c.started_at, calls.c.created_at)
    query = (
        select(func.count())
        .select_from(calls.outerjoin(retell_calls, retell_calls.c.call_id == calls.c.call_id))
        .where(seen >= start, seen < end, retell_calls.c.call_id.is_(None))
    )
    async with db.transaction("count calls without a Retell record") as conn:
        return int((await conn.execute(query)).scalar_one())
