"""A process that loads the event writer until SIGTERM, for ``test_writer_sigterm``.

Usage: ``python -m tests.store.sigterm_child <database url> <journal path>``. It prints
``ready`` once the writer runs, emits events in bursts until SIGTERM arrives, stops the
writer as the app lifespan would, and prints one JSON line with how many events it emitted
and the writer's stats.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from voiceops.core.callevents import CallEvent
from voiceops.store.db import Database
from voiceops.store.writer import EventWriter

BURST = 50


AT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


async def main(url: str, journal: Path) -> None:
    db = await Database.open(url)
    writer = EventWriter(
        db, queue_size=2000, batch_size=200, flush_interval_ms=20, journal_path=journal
    )
    await writer.start()
    terminated = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminated.set)
    print("ready", flush=True)
    emitted = 0
    while not terminated.is_set():
        for _ in range(BURST):
            writer.emit(
                CallEvent(
                    call_id="call_sigterm",
                    event_type="turn_completed",
                    turn_index=emitted,
                    content=f"reply {emitted}",
                    event_id=f"call_sigterm:{emitted}",
                    created_at=AT,
                )
            )
            emitted += 1
        await asyncio.sleep(0.001)
    await writer.stop(timeout_s=10.0)
    await db.close()
    print(json.dumps({"emitted": emitted, **writer.stats()}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
