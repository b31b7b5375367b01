"""Dead letters: rows the database refused for their content, kept for an operator.

The event writer and the state store set such a row aside here instead of retrying it
forever (see ``store/refusals.py``). Each is kept once per kind and key (an event id, a
call id) with the driver's reason and the row itself as JSON text, every non-ASCII
character escaped so that any content at all fits; a row refused again (a call's state on
its next turn) updates its entry and counts the refusal. Each setting-aside is counted in
``voiceops_dead_lettered_total{kind}`` and logged, once per call and kind.

An operator reads them with SQL, e.g.
``SELECT updated_at, kind, call_id, refusals, reason, body FROM dead_letters
ORDER BY updated_at DESC``; ``voiceops db purge`` ages them out with the rest.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
from typing import Any, Literal

from voiceops.core.clock import Clock
from voiceops.metrics import Metrics
from voiceops.store.db import Database
from voiceops.store.refusals import printable, reason, refused_for_content
from voiceops.store.tables import dead_letters

log = logging.getLogger(__name__)

Kind = Literal["call_event", "call_state"]

_CALL_ID_CHARS = 255
_REPORTED_CALLS = 1024


class DeadLetters:
    """Writes ``dead_letters`` rows; shared by whoever sets refused rows aside."""

    def __init__(self, db: Database, *, clock: Clock, metrics: Metrics | None = None) -> None:
        self._db = db
        self._clock = clock
        self._metrics = metrics
        self._reported: collections.OrderedDict[tuple[Kind, str], None] = collections.OrderedDict()
        self.kept = 0
        """Rows set aside since start."""

    async def keep(self, kind: Kind, *, key: str, call_id: str, why: str, body: Any) -> None:
        """Keep the refused row ``body`` (anything JSON can encode; what it cannot is kept
        as its string form) of ``kind``, identified by ``key``.

        Raises :class:`StorageError` when the database is away (the caller retries). Never
        raises for content: should even this row be refused, it is logged whole and
        dropped, so that one row can never stop the writes of every other.
        """
        now = self._clock.now()
        shown = printable(call_id, _CALL_ID_CHARS)
        text = json.dumps(body, ensure_ascii=True, default=str, separators=(",", ":"))
        insert = self._db.insert(dead_letters).values(
            kind=kind,
            key_sha256=hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest(),
            call_id=shown,
            reason=why,
            body=text,
            refusals=1,
            created_at=now,
            updated_at=now,
        )
        stmt = insert.on_conflict_do_update(
            index_elements=["kind", "key_sha256"],
            set_={
                "reason": insert.excluded.reason,
                "body": insert.excluded.body,
                "refusals": dead_letters.c.refusals + 1,
                "updated_at": insert.excluded.updated_at,
            },
        )
        try:
            async with self._db.transaction(f"keep a refused {kind}") as conn:
                await conn.execute(stmt)
        except Exception as exc:
            if not refused_for_content(exc):
                raise
            log.error(
                "a refused %s could not be kept either (%s), dropped: %s",
                kind,
                reason(exc),
                text[:4000],
                extra={"call_id": shown},
            )
            return
        self.kept += 1
        if self._metrics is not None:
            self._metrics.dead_lettered.labels(kind).inc()
        self._report(kind, shown, why)

    def _report(self, kind: Kind, call_id: str, why: str) -> None:
        """Log the first refusal of each call and kind; later ones only at debug level."""
        first = (kind, call_id) not in self._reported
        self._reported[(kind, call_id)] = None
        self._reported.move_to_end((kind, call_id))
        while len(self._reported) > _REPORTED_CALLS:
            self._reported.popitem(last=False)
        log.log(
            logging.ERROR if first else logging.DEBUG,
            "%s refused by the database (%s); kept in dead_letters%s",
            kind.replace("_", " "),
            why,
            "" if first else " (again)",
            extra={"call_id": call_id},
        )
