"""Live calls of this process, and the off-hot-path persister of per-call state.

:class:`LiveCalls` knows which calls have an open socket here (a re-dial for the same call
closes the older socket) and keeps recent call states so a reconnect to the same process
resumes without touching the database.

:class:`StatePersister` saves call states and call records in the background: a turn only
marks its call's state dirty (a JSON snapshot by pydantic-core and a dict assignment); one
worker writes the newest snapshot of every dirty call, up to ``batch_size`` calls per
transaction, retrying with backoff while the database is away. Snapshots are taken at mark
time, so later mutations of the live state never race the writer.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from voiceops.core.clock import Clock, Deadline, utc_now_ms
from voiceops.core.errors import StorageError
from voiceops.core.state import CallState, StateSnapshot
from voiceops.logs import CallLogger

log = logging.getLogger("voiceops.calls")


SAVE_NOW_TIMEOUT_S = 0.25
"""The longest a greeting or a turn's closing frame waits for its state to be written."""


class StateStore(Protocol):
    """Where call states are kept (``store.states.StateStore``)."""

    async def load(self, call_id: str) -> CallState | None: ...

    async def save_many(self, snapshots: Sequence[StateSnapshot]) -> None:
        """Write ``snapshots``; a snapshot older than the stored state of its call is
        ignored, one the database refuses for its content is set aside. Raises when the
        database is away (writing them all again is then safe)."""
        ...


class LiveConnection(Protocol):
    """What the registry needs of an open call socket (``web/ws.py``'s ``Connection``)."""

    @property
    def state(self) -> CallState: ...

    async def close_superseded(self) -> None: ...

    async def interrupt(self, content: str, *, end_call: bool = False) -> bool: ...


class LiveCalls:
    """Open connections and recently seen call states, by call id."""

    def __init__(self, *, recent_limit: int = 5000) -> None:
        self.connections: dict[str, LiveConnection] = {}
        self._recent: collections.OrderedDict[str, CallState] = collections.OrderedDict()
        self._recent_limit = recent_limit

    def attach(self, call_id: str, conn: LiveConnection) -> LiveConnection | None:
        """Register ``conn``; returns the connection it replaces, if any."""
        previous = self.connections.get(call_id)
        self.connections[call_id] = conn
        return previous

    def detach(self, call_id: str, conn: LiveConnection, state: CallState) -> None:
        if self.connections.get(call_id) is conn:
            del self.connections[call_id]
        self._recent[call_id] = state
        self._recent.move_to_end(call_id)
        while len(self._recent) > self._recent_limit:
            self._recent.popitem(last=False)

    def recent(self, call_id: str) -> CallState | None:
        return self._recent.get(call_id)

    def __len__(self) -> int:
        return len(self.connections)


Job = Callable[[], Awaitable[None]]
MAX_JOB_ATTEMPTS = 20
STATE_BATCH_SIZE = 200
"""Call states per transaction: one round of a busy server in one write, while a backlog
after an outage still goes out in transactions that hold their row locks briefly."""


class StatePersister:
    """Background writer for call states (latest wins) and call-record jobs (in order).

    A round starts ``linger_s`` after the first mark or job that found it idle, so the
    turns of many calls that end close together share a transaction (a state reaches the
    database that much later; :meth:`flush` and stopping skip the wait). Each round first
    runs the waiting jobs, one at a time in order, then writes the dirty states in batches
    of at most ``batch_size``, each batch in one transaction. A failed job or batch keeps
    everything queued and the round is retried after a backoff
    (``retry_initial_s`` doubling up to ``retry_max_s``); a job is given up (and logged)
    after :data:`MAX_JOB_ATTEMPTS`, a state never.
    """

    def __init__(
        self,
        store: StateStore | None,
        *,
        clock: Clock,
        max_jobs: int = 10_000,
        batch_size: int = STATE_BATCH_SIZE,
        linger_s: float = 0.2,
        retry_initial_s: float = 0.2,
        retry_max_s: float = 5.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._store = store
        self._clock = clock
        self._dirty: dict[str, StateSnapshot] = {}
        self._batch_size = batch_size
        self._jobs: collections.deque[tuple[str, Job]] = collections.deque(maxlen=max_jobs)
        self._job_attempts = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._retry_initial = retry_initial_s
        self._retry_max = retry_max_s
        self._linger = linger_s
        self._stopping = asyncio.Event()
        self._hurry = asyncio.Event()
        """Set by :meth:`flush` and :meth:`stop`: write without lingering."""
        self._idle = asyncio.Event()
        """Set by the worker whenever nothing is pending; cleared by every mark and job."""

    def mark(self, state: CallState) -> None:
        """Schedule a save of ``state`` as it is now (stamping its ``updated_at_ms``); it
        replaces any unsaved snapshot of the same call. Never blocks."""
        if self._store is None:
            return
        state.updated_at_ms = utc_now_ms(self._clock)
        self._dirty[state.call_id] = state.snapshot()
        self._idle.clear()
        self._wake.set()

    def submit(self, label: str, job: Job) -> None:
        """Schedule a call-record write. Never blocks; the oldest job is dropped (and
        logged) only if ``max_jobs`` are already waiting."""
        if self._jobs.maxlen is not None and len(self._jobs) == self._jobs.maxlen:
            dropped, _ = self._jobs[0]
            log.error("persister queue full; dropping oldest job %s", dropped)
        self._jobs.append((label, job))
        self._idle.clear()
        self._wake.set()

    async def load(self, call_id: str, timeout_s: float = 1.0) -> CallState | None:
        """The saved state of ``call_id`` (unsaved snapshot first), or ``None``. Always a
        new object: changing it changes no snapshot."""
        snapshot = self._dirty.get(call_id)
        if snapshot is not None:
            return snapshot.restore()
        if self._store is None:
            return None
        try:
            return await asyncio.wait_for(self._store.load(call_id), timeout_s)
        except (TimeoutError, OSError, StorageError) as exc:
            CallLogger(log, call_id).warning(
                "cannot load call state (%s); starting fresh", type(exc).__name__
            )
            return None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="voiceops-state-persister")

    async def flush(self, timeout_s: float = 5.0) -> bool:
        """Write what is pending now, without the linger. ``True`` once nothing is pending
        (the last check has no await after it, so a caller that acts on ``True`` at once
        acts with everything written); ``False`` if ``timeout_s`` passed first or the
        worker is not running."""
        if not self.pending:
            return True
        if self._task is None or self._task.done():
            return False
        self._hurry.set()
        self._wake.set()
        try:
            async with Deadline.after(self._clock, timeout_s):
                while self.pending:
                    await self._idle.wait()
        except TimeoutError:
            return False
        finally:
            if not self._stopping.is_set():
                self._hurry.clear()
        return True

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Write what is pending (bounded by ``timeout_s``), then stop."""
        self._stopping.set()
        self._hurry.set()
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
        except TimeoutError:
            log.error(
                "state persister did not drain in %.1fs; %d states and %d jobs unsaved",
                timeout_s,
                len(self._dirty),
                len(self._jobs),
            )
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def save_now(self, state: CallState, timeout_s: float = SAVE_NOW_TIMEOUT_S) -> bool:
        """Mark ``state`` and write it at once instead of after the linger, waiting at most
        ``timeout_s``; True when it reached the database.

        For the moments a crash right after would otherwise change the call's course: the
        greeting (a re-dial to another instance must not greet again) and a turn's outcome
        before its closing frame. When the database is slow or away the snapshot simply
        stays queued for the background writer.
        """
        self.mark(state)
        if self._store is None:
            return False
        snapshot = self._dirty[state.call_id]
        try:
            async with Deadline.after(self._clock, timeout_s):
                await self._store.save_many([snapshot])
        except (TimeoutError, OSError, StorageError) as exc:
            CallLogger(log, state.call_id).debug(
                "state not saved at once (%s); it stays queued", type(exc).__name__
            )
            return False
        if self._dirty.get(state.call_id) is snapshot:
            del self._dirty[state.call_id]
        return True

    @property
    def pending(self) -> int:
        return len(self._dirty) + len(self._jobs)

    async def _run(self) -> None:
        delay = self._retry_initial
        while True:
            if not self._dirty and not self._jobs:
                self._idle.set()
                if self._stopping.is_set():
                    return
                self._wake.clear()
                await self._wake.wait()
                await self._linger_unless_hurried()
                continue
            try:
                await self._drain()
                delay = self._retry_initial
            except Exception as exc:  # the database is away or refused: retry, keep data
                log.warning(
                    "persisting call state failed (%s); retrying in %.1fs",
                    type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)

    async def _linger_unless_hurried(self) -> None:
        if self._linger > 0 and not self._hurry.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._linger):
                    await self._hurry.wait()

    async def _drain(self) -> None:
        while self._jobs:
            label, job = self._jobs[0]
            self._job_attempts += 1
            try:
                await job()
            except Exception:
                if self._job_attempts < MAX_JOB_ATTEMPTS:
                    raise
                log.exception("giving up on %s after %d attempts", label, self._job_attempts)
            self._jobs.popleft()
            self._job_attempts = 0
        while self._dirty and self._store is not None:
            batch = list(itertools.islice(self._dirty.values(), self._batch_size))
            await self._store.save_many(batch)
            for snapshot in batch:
                # Only forget it if no newer snapshot arrived while saving.
                if self._dirty.get(snapshot.call_id) is snapshot:
                    del self._dirty[snapshot.call_id]
