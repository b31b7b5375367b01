"""A slot is booked once, however many callers confirm it at the same moment.

The availability check and the insert used to be separate steps, so two callers confirming
the same slot could both pass the check before either inserted: SQLite double-booked in 5
of 16 two-caller races. The repository now checks and writes in one step under one lock
(SQLite's write lock, a PostgreSQL advisory lock) and refuses the losers with
:class:`SlotTaken`. Each racer here has its own engine and connections, as separate
processes would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.store.test_bookings import HOUR, NOON, booking
from voiceops.core.errors import SlotTaken
from voiceops.core.ports import Booking
from voiceops.store.bookings import SqlBookingRepo
from voiceops.store.db import Database

RACERS = 10
ROUNDS = 3


@pytest.fixture
async def repos(db: Database) -> AsyncIterator[list[SqlBookingRepo]]:
    """``RACERS`` repositories on the test database, each with an engine of its own."""
    url = db.engine.url.render_as_string(hide_password=False)
    engines = [await Database.open(url) for _ in range(RACERS)]
    try:
        yield [SqlBookingRepo(engine) for engine in engines]
    finally:
        for engine in engines:
            await engine.close()


async def race(repos: list[SqlBookingRepo], wanted: list[Booking]) -> list[Booking | None]:
    """Every repository creates its booking at once; ``None`` for each refused one."""

    async def attempt(repo: SqlBookingRepo, b: Booking) -> Booking | None:
        try:
            return await repo.create_booking(b)
        except SlotTaken:
            return None

    return await asyncio.gather(*(attempt(r, b) for r, b in zip(repos, wanted, strict=True)))


async def test_ten_callers_confirming_one_slot_get_one_booking(
    db: Database, repos: list[SqlBookingRepo]
) -> None:
    for round_ in range(ROUNDS):
        start = NOON + round_ * timedelta(days=1)
        # The same half hour, and half hours ten minutes either side: each overlaps all.
        starts = [start + timedelta(minutes=10 * (n % 3 - 1)) for n in range(RACERS)]
        wanted = [
            booking(100 * round_ + n, start=at, call_id=f"call_{round_}_{n}")
            for n, at in enumerate(starts)
        ]
        results = await race(repos, wanted)
        won = [b for b in results if b is not None]
        assert len(won) == 1, f"round {round_}: {len(won)} bookings for one slot"
        live = await repos[0].bookings_between(start - HOUR, start + HOUR)
        assert live == won


async def test_a_retried_confirmation_gets_its_own_booking_back(
    repos: list[SqlBookingRepo],
) -> None:
    mine = booking(1)
    results = await race(repos, [mine] * RACERS)  # one request, retried on every racer
    assert results == [mine] * RACERS


async def test_what_does_not_hold_the_slot_does_not_block_it(repos: list[SqlBookingRepo]) -> None:
    repo = repos[0]
    await repo.create_booking(booking(1, status="cancelled"))
    await repo.create_booking(booking(2, start=NOON - timedelta(minutes=30)))  # ends at NOON
    await repo.create_booking(booking(3, start=NOON + timedelta(minutes=30)))  # starts at end
    assert await repo.create_booking(booking(4)) == booking(4)
    with pytest.raises(SlotTaken):
        await repo.create_booking(booking(5, start=NOON + timedelta(minutes=29)))


async def test_a_move_onto_a_taken_slot_is_refused(repos: list[SqlBookingRepo]) -> None:
    repo = repos[0]
    await repo.create_booking(booking(1))
    later = await repo.create_booking(booking(2, start=NOON + HOUR))
    with pytest.raises(SlotTaken):
        await repo.update_booking(replace(later, start_utc=NOON), idempotency_key="move-2")
    assert await repo.get_booking("bk_2") == later
    # Cancelling, and changes that keep the booking where it is, are never refused.
    cancelled = await repo.update_booking(
        replace(booking(1), status="cancelled"), idempotency_key="cancel-1"
    )
    assert cancelled.status == "cancelled"
    moved = await repo.update_booking(replace(later, start_utc=NOON), idempotency_key="move-2")
    assert moved.start_utc == NOON


async def test_moves_and_bookings_racing_for_one_slot_leave_one(
    repos: list[SqlBookingRepo],
) -> None:
    elsewhere = [
        await repos[0].create_booking(booking(n, start=NOON + (n + 1) * HOUR))
        for n in range(RACERS // 2)
    ]

    async def move(repo: SqlBookingRepo, b: Booking) -> Booking | None:
        try:
            return await repo.update_booking(
                replace(b, start_utc=NOON, end_utc=NOON + timedelta(minutes=30)),
                idempotency_key=f"move-{b.booking_id}",
            )
        except SlotTaken:
            return None

    async def create(repo: SqlBookingRepo, n: int) -> Booking | None:
        try:
            return await repo.create_booking(booking(50 + n))
        except SlotTaken:
            return None

    half = RACERS // 2
    results = await asyncio.gather(
        *(move(repo, b) for repo, b in zip(repos[:half], elsewhere, strict=True)),
        *(create(repo, n) for n, repo in enumerate(repos[half:])),
    )
    assert sum(r is not None for r in results) == 1
    assert len(await repos[0].bookings_between(NOON, NOON + timedelta(minutes=30))) == 1
