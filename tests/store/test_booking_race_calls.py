"""Ten callers say "yes" to the same slot at the same moment: one is booked, nine are
offered another time. Played over real sockets against the real server and its ``flow``
brain, as Retell would, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import RunningServer, run_server
from tests.pgutil import fresh_pg_database
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import Reply, RetellPeer

pytestmark = pytest.mark.slow

NAMES = ["Sam", "Lee", "Dana", "Alex", "Maria", "John", "Priya", "Omar", "Emma", "Noah"]


@contextlib.asynccontextmanager
async def database(dialect: str, tmp_path: Path) -> AsyncIterator[str]:
    if dialect == "postgresql":
        async with fresh_pg_database() as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'voiceops.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def server(
    request: pytest.FixtureRequest,
    make_settings: Callable[..., Settings],
    profile: AgentProfile,
    tmp_path: Path,
) -> AsyncIterator[RunningServer]:
    async with database(request.param, tmp_path) as url:
        settings = make_settings(brain="flow", database_url=url)
        async with run_server(settings, profile=profile) as srv:
            yield srv


async def caller(server: RunningServer, n: int, all_asked: asyncio.Barrier) -> Reply:
    call_id = f"race_{n}"
    call = {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": f"+1212555{n:04d}",
        "to_number": "+12125550142",
    }
    async with RetellPeer(server.url(call_id), call=call) as peer:
        await peer.wait_begin()
        asked = await peer.turn(f"I need a haircut tomorrow at 2pm, my name is {NAMES[n]}")
        assert "Shall I book it" in asked.text, asked.text
        await all_asked.wait()  # every caller has heard the slot is free: now all say yes
        return await peer.turn("yes")


async def test_ten_callers_confirm_one_slot_and_one_gets_it(server: RunningServer) -> None:
    all_asked = asyncio.Barrier(len(NAMES))
    replies = await asyncio.gather(*(caller(server, n, all_asked) for n in range(len(NAMES))))
    booked = [r for r in replies if "You're all set" in r.text]
    offered = [r for r in replies if "just been taken" in r.text]
    assert len(booked) == 1, [r.text for r in replies]
    assert len(offered) == len(NAMES) - 1, [r.text for r in replies]
    assert all("PM" in r.text or "AM" in r.text for r in offered), "other times are offered"
    async with server.runtime.db.engine.connect() as conn:
        confirmed = (
            await conn.execute(text("SELECT count(*) FROM bookings WHERE status = 'confirmed'"))
        ).scalar_one()
    assert confirmed == 1
