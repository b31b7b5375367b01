"""A process that emits call events on command, for ``test_writer_kill``.

Usage: ``python -m tests.store.kill_child <database url> <journal path>``. It prints
``ready`` once the writer runs; each line ``emit <first> <count>`` on stdin emits that many
events (ids ``call_kill:<n>``) and prints ``emitted``. It never stops the writer: the test
kills it.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from voiceops.core.callevents import CallEvent
from voiceops.store.db import Database
from voiceops.store.writer import EventWriter

AT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


async def main(url: str, journal: Path) -> None:
    db = await Database.open(url)
    writer = EventWriter(
        db,
        queue_size=20_000,
        batch_size=200,
        flush_interval_ms=20,
        journal_path=journal,
        retry_initial_s=0.05,
        retry_max_s=0.2,
    )
    await writer.start()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        _, first, count = line.split()
        for n in range(int(first), int(first) + int(count)):
            writer.emit(
                CallEvent(
                    call_id="call_kill",
                    event_type="turn_completed",
                    turn_index=n,
                    content=f"reply {n}",
                    event_id=f"call_kill:{n}",
                    created_at=AT,
                )
            )
        print("emitted", flush=True)
    await asyncio.Event().wait()  # stdin closed: wait for the kill


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
