"""The event writer's local journal: append-only JSON lines on disk.

Events that cannot wait in memory (the database is away, the queue is full, the process
is stopping) are appended here and replayed into ``call_events`` later. Replay never edits
the file in place: the active file is renamed to ``<name>.replay`` and a fresh one is
opened, the renamed file is read back and deleted only once every line of it is in the
database. A process that dies mid-replay finds the ``.replay`` file at its next start and
replays it again; the unique ``event_id`` makes the second pass a no-op for what was
already written.

One process owns a journal at a time (an exclusive ``flock`` on ``<name>.lock``); each
process of a deployment must be given its own path.

Threading: :meth:`Journal.append` and :meth:`Journal.rotate` run on the event loop thread;
:meth:`Journal.sync` and the :class:`JournalReader` methods may run in a worker thread. A
lock keeps a worker's ``fsync`` from racing a close of the same descriptor.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from voiceops.core.callevents import CallEvent
from voiceops.core.errors import StorageError

log = logging.getLogger(__name__)


def event_record(event: CallEvent) -> dict[str, Any]:
    """``event`` as a JSON-ready dict (what a journal line and a dead letter hold)."""
    data = asdict(event)
    data["created_at"] = event.created_at.isoformat()
    return data


def encode_event(event: CallEvent) -> bytes:
    """One journal line (with its newline) for ``event``."""
    text = json.dumps(event_record(event), default=str, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def decode_event(line: bytes) -> CallEvent:
    """The event of one journal line; raises ``ValueError`` for a line that is not one."""
    data: Any = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("journal line is not an object")
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    try:
        return CallEvent(**data)
    except TypeError as exc:
        raise ValueError(f"journal line does not describe an event: {exc}") from None


class Journal:
    """An append-only file of events plus the rotation that makes replay safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.replay_path = path.with_name(path.name + ".replay")
        self.lock_path = path.with_name(path.name + ".lock")
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self._unsynced = False
        self._fd_lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def open(self) -> None:
        """Take the journal's lock and open the active file for appending (idempotent).

        Raises :class:`StorageError` when another process holds the journal or the
        directory is not writable.
        """
        if self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_fd = os.open(self.lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        except OSError as exc:
            raise StorageError(f"cannot open the event journal at {self.path}: {exc}") from exc
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise StorageError(
                f"event journal {self.path} is in use by another process; "
                "give each process its own journal path"
            ) from None
        self._lock_fd = lock_fd
        self._fd = self._open_active()

    def _open_active(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def append(self, events: list[CallEvent]) -> int:
        """Append ``events`` with one ``write(2)`` (no fsync: see :meth:`sync`); returns
        the bytes written. Raises ``OSError`` when the disk refuses."""
        if self._fd is None:
            self.open()
        assert self._fd is not None
        data = b"".join(encode_event(event) for event in events)
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._unsynced = True
        return len(data)

    def sync(self) -> None:
        """``fsync`` what was appended since the last call (safe from a worker thread)."""
        with self._fd_lock:
            if self._fd is not None and self._unsynced:
                self._unsynced = False
                os.fsync(self._fd)

    def pending(self) -> bool:
        """True when something is waiting to be replayed."""
        if self.replay_path.exists():
            return True
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def size(self) -> int:
        """Bytes waiting on disk (active file plus any file being replayed)."""
        total = 0
        for path in (self.path, self.replay_path):
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                continue
        return total

    def rotate(self) -> Path | None:
        """The file to replay next, or ``None`` when there is nothing to replay.

        An existing ``.replay`` file (left by an interrupted replay) comes first. Otherwise
        a non-empty active file is renamed to ``.replay`` and appends go to a fresh file.
        Runs on the event loop thread, where appends happen, so no append can hit the old
        descriptor after it is closed. Call :meth:`sync` in a worker thread first so that the
        fsync here only covers the few lines appended since.
        """
        if self.replay_path.exists():
            return self.replay_path
        if not self.pending():
            return None
        self.open()
        with self._fd_lock:
            old = self._fd
            assert old is not None
            # Sync before the rename so a power loss cannot leave a .replay file whose tail
            # never reached the disk while the active file is already empty.
            if self._unsynced:
                os.fsync(old)
            os.rename(self.path, self.replay_path)
            self._fd = self._open_active()
            self._unsynced = False
            os.close(old)
        return self.replay_path

    def sync_dir(self) -> None:
        """Make a rotation durable (call after :meth:`rotate`, from a worker thread)."""
        _fsync_dir(self.path.parent)

    def finish(self, replayed: Path) -> None:
        """Delete a fully replayed file."""
        replayed.unlink(missing_ok=True)
        _fsync_dir(replayed.parent)

    def close(self) -> None:
        """Sync and close the active file and release the lock (idempotent)."""
        with self._fd_lock:
            fd, self._fd = self._fd, None
            if fd is not None:
                try:
                    if self._unsynced:
                        os.fsync(fd)
                finally:
                    os.close(fd)
            self._unsynced = False
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None


class JournalReader:
    """Reads a journal file back in batches. Undecodable lines (a torn last line after a
    crash) are skipped and counted in :attr:`bad_lines`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] = path.open("rb")
        self.bad_lines = 0

    def read(self, limit: int) -> list[CallEvent]:
        """Up to ``limit`` events; an empty list at the end of the file."""
        events: list[CallEvent] = []
        while len(events) < limit:
            line = self._file.readline()
            if not line:
                break
            if not line.strip():
                continue
            try:
                events.append(decode_event(line))
            except (ValueError, KeyError) as exc:
                self.bad_lines += 1
                log.error("skipping an unreadable line of %s: %s", self.path, exc)
        return events

    def close(self) -> None:
        self._file.close()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
