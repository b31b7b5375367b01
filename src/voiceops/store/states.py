"""Per-call state: :class:`StateStore` persists :class:`CallState` so a re-dialled call can
resume on any process, many calls per statement, and never moves a call's row back to an
older state. A state the database refuses for its content is kept in ``dead_letters``
(``store/deadletters.py``) and the others are written: one call can never stop the saving
of every call's state."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from sqlalchemy import Text, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB

from voiceops.core.clock import Clock, SystemClock
from voiceops.core.state import CallState, StateSnapshot
from voiceops.metrics import Metrics
from voiceops.store.db import Database
from voiceops.store.deadletters import DeadLetters
from voiceops.store.refusals import write_isolating
from voiceops.store.tables import call_states


class StateStore:
    """Persisted :class:`CallState`, one row per call (crash-safe, cross-process resume).

    A row only ever moves forward: a write carrying an older ``updated_at_ms`` than the
    stored one is ignored, so a slow process (or a retried batch) cannot overwrite the state
    a newer write left.
    """

    def __init__(
        self, db: Database, *, clock: Clock | None = None, metrics: Metrics | None = None
    ) -> None:
        self._db = db
        self._clock: Clock = SystemClock() if clock is None else clock
        self._dead_letters = DeadLetters(db, clock=self._clock, metrics=metrics)
        self._upsert = self._upsert_statement()

    async def load(self, call_id: str) -> CallState | None:
        stmt = select(call_states.c.state).where(call_states.c.call_id == call_id)
        async with self._db.transaction("load call state") as conn:
            state = (await conn.execute(stmt)).scalar_one_or_none()
        return None if state is None else CallState.model_validate(state)

    async def save(self, state: CallState) -> None:
        """Upsert ``state`` as it is now (see :meth:`save_many`)."""
        await self.save_many([state.snapshot()])

    @property
    def refused(self) -> int:
        """States refused for their content and kept in ``dead_letters`` since start."""
        return self._dead_letters.kept

    async def save_many(self, snapshots: Sequence[StateSnapshot]) -> None:
        """Upsert every snapshot in one transaction and one statement (an executemany).

        Per call, the snapshot with the newest ``updated_at_ms`` (stored or given) wins. The
        caller bounds the batch: it is one transaction, holding its row locks until it
        commits. Should the database refuse the batch for what is in it, the batch is split
        until the refused snapshots stand alone; they go to ``dead_letters`` and the others
        are written. Raises :class:`StorageError` when the database is away: then some, all
        or none of the batch may be written, and writing it again is safe.
        """
        if not snapshots:
            return
        # Rows in call-id order, so two processes writing overlapping batches lock them in
        # the same order and cannot deadlock.
        ordered = sorted(snapshots, key=lambda snap: snap.call_id)
        await write_isolating(self._db, ordered, self._write, self._set_aside)

    async def _write(self, snapshots: Sequence[StateSnapshot]) -> None:
        now = self._clock.now()
        jsonb = self._db.dialect == "postgresql"
        params = [
            {
                "s_call_id": snap.call_id,
                "s_json": _jsonb_safe(snap.json) if jsonb else snap.json,
                "s_ms": snap.updated_at_ms,
                "s_at": now,
            }
            for snap in snapshots
        ]
        async with self._db.transaction(f"save {len(params)} call states") as conn:
            await conn.execute(self._upsert, params)

    async def _set_aside(self, snapshot: StateSnapshot, why: str) -> None:
        await self._dead_letters.keep(
            "call_state",
            key=snapshot.call_id,
            call_id=snapshot.call_id,
            why=why,
            body=json.loads(snapshot.json),
        )

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
