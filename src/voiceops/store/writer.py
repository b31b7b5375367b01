"""The event writer: call events off the hot path, into ``call_events`` in batches.

``emit`` appends to a bounded in-memory buffer and returns; one background task takes
batches of up to ``batch_size`` events (waiting at most ``flush_interval_ms`` for a batch
to fill) and inserts them with ``ON CONFLICT (event_id) DO NOTHING``. Guarantees:

* **Nothing lost.** When a write fails because the database is away, the batch in hand
  and every queued event go to the local journal (``store/journal.py``) and are fsynced
  before the first retry wait; until writes succeed again ``emit`` appends straight to the
  journal too, so a process killed during an outage has lost nothing it emitted. The task
  retries by replaying the journal, with capped, jittered exponential backoff; a journal
  left over is replayed at the next start. Events that do not fit the buffer go to the
  journal as well. :meth:`EventWriter.stop` writes what it can within its timeout and
  journals the rest.
* **Nothing written twice.** Every insert (first try, replay) is keyed on the event's
  unique ``event_id``, so a batch whose commit outcome was unknown, journaled all the
  same, is written once.
* **Never blocks the caller.** ``emit`` does no awaiting and never raises; when it goes to
  the journal it does one ``write(2)`` of a line (the page cache, which survives the
  process being killed; the ``fsync`` for a power loss happens in a worker thread, once per
  batch and before every retry wait).

A batch the database refuses for its *content* (a number out of its column's range, a NUL
character on PostgreSQL) is split until the refused events stand alone; the others are
written and those are kept in the ``dead_letters`` table (``store/deadletters.py``) rather
than retried forever, and so is such an event met while replaying the journal. Every other
failure is treated as the database being away and retried (``store/refusals.py`` tells
the two apart).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from voiceops.core.callevents import CallEvent
from voiceops.core.clock import Clock, Deadline, SystemClock
from voiceops.metrics import Metrics
from voiceops.store.db import Database
from voiceops.store.deadletters import DeadLetters
from voiceops.store.journal import Journal, JournalReader, event_record
from voiceops.store.refusals import write_isolating
from voiceops.store.tables import call_events

log = logging.getLogger(__name__)

RETRY_INITIAL_S = 0.1
RETRY_MAX_S = 5.0
WRITE_TIMEOUT_S = 30.0
HOUSEKEEPING_S = 1.0
"""How often an idle writer fsyncs the journal and looks for something to replay."""


class _State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


class EventWriter:
    """Batched, retrying, journaled writer of :class:`CallEvent` rows (an ``EventSink``).

    Owned by the app lifespan: ``await start()`` once, ``emit`` from anywhere on the event
    loop thread, ``await stop()`` once at shutdown. Events emitted before ``start`` wait in
    the buffer; events emitted after ``stop`` go to the journal for the next run.
    """

    def __init__(
        self,
        db: Database,
        *,
        queue_size: int,
        batch_size: int,
        flush_interval_ms: int,
        journal_path: Path,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
        retry_initial_s: float = RETRY_INITIAL_S,
        retry_max_s: float = RETRY_MAX_S,
    ) -> None:
        if queue_size < 1 or batch_size < 1 or flush_interval_ms < 0:
            raise ValueError("queue_size and batch_size must be positive, the interval >= 0")
        self._db = db
        self._capacity = queue_size
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_ms / 1000
        self._metrics = metrics
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._clock: Clock = SystemClock() if clock is None else clock
        self._journal = Journal(journal_path)
        self._dead_letters = DeadLetters(db, clock=self._clock, metrics=metrics)
        self._buffer: deque[CallEvent] = deque()
        self._inflight: list[CallEvent] = []
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._state = _State.NEW
        self._db_down = False
        self._retry_delay_s = retry_initial_s
        self._written = 0
        self._duplicates = 0
        self._journaled = 0
        self._replayed = 0
        self._errors = 0
        self._rejected = 0
        self._lost = 0

    # -- the producer side ---------------------------------------------------------------

    def emit(self, event: CallEvent) -> None:
        """Queue ``event``; never blocks, never raises (see the module docstring)."""
        if (
            self._state in (_State.NEW, _State.RUNNING)
            and not self._db_down
            and len(self._buffer) < self._capacity
        ):
            self._buffer.append(event)
            self._wakeup.set()
            return
        self._journal_now([event])

    def _journal_now(self, events: list[CallEvent]) -> None:
        if not events:
            return
        try:
            self._journal.append(events)
        except (OSError, ValueError) as exc:
            # The disk refused too (full, read-only, locked by another process): there is
            # nowhere left to keep these events. Say so loudly and count them.
            self._lost += len(events)
            self._errors += 1
            log.error("lost %d call events: the journal refused them (%s)", len(events), exc)
            return
        except Exception as exc:  # emit must never raise into a call's hot path
            self._lost += len(events)
            self._errors += 1
            log.exception("lost %d call events: %s", len(events), type(exc).__name__)
            return
        self._journaled += len(events)
        self._wakeup.set()

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the journal and start the background task (which first replays whatever a
        previous run left in the journal). Raises :class:`StorageError` if the journal is
        held by another process."""
        if self._state is not _State.NEW:
            raise RuntimeError(f"cannot start an event writer in state {self._state.value}")
        self._journal.open()
        self._state = _State.RUNNING
        self._task = asyncio.create_task(self._run(), name="voiceops-event-writer")

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Write everything buffered within ``timeout_s``; journal (and fsync) the rest.

        After ``stop`` returns, every event ever emitted is either in the database or in
        the journal on disk. Idempotent.
        """
        if self._state is _State.STOPPED:
            return
        if self._state is _State.NEW:
            self._journal_now(list(self._buffer))
            self._buffer.clear()
        self._state = _State.STOPPING
        self._stopping.set()
        self._wakeup.set()
        task = self._task
        if task is not None:
            try:
                async with Deadline.after(self._clock, timeout_s):
                    await asyncio.shield(task)
            except TimeoutError:
                log.warning(
                    "event writer did not flush within %.1fs; journaling the rest", timeout_s
                )
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        # A batch cut off mid-write may or may not have committed: journal it anyway, the
        # replay's ON CONFLICT makes the second write of the committed part a no-op.
        leftover = [*self._inflight, *self._buffer]
        self._inflight = []
        self._buffer.clear()
        self._journal_now(leftover)
        self._state = _State.STOPPED
        await asyncio.to_thread(self._journal.close)
        self._update_gauges()
        if leftover:
            log.warning("%d call events journaled at shutdown for the next start", len(leftover))

    def stats(self) -> dict[str, int]:
        """Counters since start: ``written`` (rows inserted), ``duplicates`` (already
        there), ``queued`` (in memory now), ``journaled``, ``replayed``, ``errors``
        (failed writes), ``rejected`` (refused for content, kept in ``dead_letters``),
        ``lost`` (journal refused)."""
        return {
            "written": self._written,
            "duplicates": self._duplicates,
            "queued": len(self._buffer) + len(self._inflight),
            "journaled": self._journaled,
            "replayed": self._replayed,
            "errors": self._errors,
            "rejected": self._rejected,
            "lost": self._lost,
        }

    # -- the background task -------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._replay()
            while True:
                if self._db_down:
                    await self._journal_backlog()
                    if self._stopping.is_set():
                        return  # everything is in the journal for the next start
                    await self._recover()
                    continue
                if not self._buffer:
                    if self._stopping.is_set():
                        return
                    await self._idle()
                    continue
                if len(self._buffer) < self._batch_size and not self._stopping.is_set():
                    # Let a batch fill up a little instead of writing event by event.
                    await self._wait_stopping(self._flush_interval_s)
                count = min(self._batch_size, len(self._buffer))
                self._inflight = [self._buffer.popleft() for _ in range(count)]
                if await self._deliver(self._inflight):
                    self._inflight = []
                    await self._housekeeping()
                else:
                    # It may have committed all the same: the replay's ON CONFLICT skips it.
                    self._journal_now(self._inflight)
                    self._inflight = []
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug, not an outage. Keep the events: journal them and route new ones to the
            # journal too, so the next start replays everything.
            log.exception("event writer crashed; events now go to the journal")
            self._state = _State.STOPPING
            leftover = [*self._inflight, *self._buffer]
            self._inflight = []
            self._buffer.clear()
            self._journal_now(leftover)

    async def _journal_backlog(self) -> None:
        """The database is away: move the queue to the journal and make it durable."""
        backlog = list(self._buffer)
        self._buffer.clear()
        self._journal_now(backlog)
        await asyncio.to_thread(self._journal.sync)
        self._update_gauges()

    async def _recover(self) -> None:
        """Wait a backoff (full jitter keeps many workers from hammering a recovering
        database in step), then try the journal: writes succeed again once it replays."""
        await self._wait_stopping(random.uniform(0, self._retry_delay_s))
        self._retry_delay_s = min(self._retry_delay_s * 2, self._retry_max_s)
        if self._stopping.is_set():
            return
        if await self._replay():
            self._back_up()

    async def _idle(self) -> None:
        self._wakeup.clear()
        if not self._buffer and not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with Deadline.after(self._clock, HOUSEKEEPING_S):
                    await self._wakeup.wait()
        await self._housekeeping()

    async def _housekeeping(self) -> None:
        await asyncio.to_thread(self._journal.sync)
        if not self._stopping.is_set() and not self._db_down and self._journal.pending():
            await self._replay()
        self._update_gauges()

    async def _wait_stopping(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with Deadline.after(self._clock, seconds):
                await self._stopping.wait()

    async def _replay(self) -> bool:
        """Write the journal's events into the database, oldest file first; ``True`` when
        nothing is left of it.

        Shutdown does not interrupt it (only ``stop``'s timeout does). It gives up when the
        database is away, leaving the file for later. A file is deleted only after all of
        it was written.
        """
        while True:
            await asyncio.to_thread(self._journal.sync)
            path = self._journal.rotate()
            if path is None:
                return True
            await asyncio.to_thread(self._journal.sync_dir)
            log.info("replaying journaled call events from %s", path)
            reader = await asyncio.to_thread(JournalReader, path)
            try:
                while True:
                    batch = await asyncio.to_thread(reader.read, self._batch_size)
                    if not batch:
                        break
                    if not await self._deliver(batch):
                        return False
                    self._replayed += len(batch)
            finally:
                reader.close()
                self._errors += reader.bad_lines
            await asyncio.to_thread(self._journal.finish, path)
            self._update_gauges()

    async def _deliver(self, batch: list[CallEvent]) -> bool:
        """Write ``batch`` (setting aside what the database refuses for its content);
        ``False`` when the database is away."""
        try:
            await write_isolating(self._db, batch, self._write, self._set_aside)
        except Exception as exc:
            # SQLAlchemy errors, OSError and TimeoutError are the usual face of a database
            # that went away, but drivers raise their own types during connection set-up
            # too. Anything else than refused content is treated as an outage: journaled
            # and retried. Never dropped.
            self._errors += 1
            if self._metrics is not None:
                self._metrics.event_write_errors.inc()
            if not self._db_down:
                self._db_down = True
                known = isinstance(exc, SQLAlchemyError | OSError | TimeoutError)
                log.warning(
                    "call event writes failing (%s); journaling events until they succeed",
                    type(exc).__name__,
                    exc_info=None if known else exc,
                )
            return False
        self._back_up()
        return True

    def _back_up(self) -> None:
        self._retry_delay_s = self._retry_initial_s
        if self._db_down:
            self._db_down = False
            log.info("call event writes succeed again")

    async def _write(self, batch: Sequence[CallEvent]) -> None:
        rows = [_row(event) for event in batch]
        stmt = (
            self._db.insert(call_events)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(call_events.c.id)
        )
        async with Deadline.after(self._clock, WRITE_TIMEOUT_S), self._db.engine.begin() as conn:
            inserted = len((await conn.execute(stmt, rows)).all())
        self._written += inserted
        self._duplicates += len(batch) - inserted
        if self._metrics is not None:
            self._metrics.events_written.inc(inserted)

    async def _set_aside(self, event: CallEvent, why: str) -> None:
        await self._dead_letters.keep(
            "call_event",
            key=str(event.event_id),
            call_id=str(event.call_id),
            why=why,
            body=event_record(event),
        )
        self._rejected += 1

    def _update_gauges(self) -> None:
        if self._metrics is None:
            return
        self._metrics.event_queue_depth.set(len(self._buffer) + len(self._inflight))
        self._metrics.event_journal_bytes.set(self._journal.size())


def _clean(value: Any) -> Any:
    """PostgreSQL refuses NUL characters in text and JSON; callers' words may contain one."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _row(event: CallEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "call_id": _clean(event.call_id),
        "event_type": _clean(event.event_type),
        "turn_index": event.turn_index,
        "response_id": event.response_id,
        "role": _clean(event.role),
        "content": _clean(event.content),
        "tokens_in": event.tokens_in,
        "tokens_out": event.tokens_out,
        "latency_ms": event.latency_ms,
        "payload": _clean(event.payload),
        "created_at": event.created_at,
    }
