"""The offline ``flow`` brain end to end: whole phone conversations over the fake Retell
peer against the real server (no LLM configured), checked against the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import RunningServer, run_server
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import RetellPeer


def call(call_id: str, number: str = "+12125550100", zone: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": number,
        "to_number": "+12125550142",
    }
    if zone:
        obj["metadata"] = {"caller_timezone": zone}
    return obj


@pytest.fixture
async def server(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(brain="flow"), profile=profile) as srv:
        yield srv


async def bookings(server: RunningServer, call_id: str) -> list[Any]:
    async with server.runtime.db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT * FROM bookings WHERE call_id = :c ORDER BY created_at"), {"c": call_id}
        )
        return list(rows.mappings().all())


async def test_book_then_reschedule_then_cancel(server: RunningServer) -> None:
    async with RetellPeer(server.url("flow_full"), call=call("flow_full")) as peer:
        assert "Maple Street Hair" in (await peer.wait_begin()).text
        await peer.turn("Hi, I'd like to book a haircut")
        await peer.turn("tomorrow at 2pm")
        confirm = await peer.turn("It's Dana")
        assert "haircut" in confirm.text and "2 PM" in confirm.text
        assert await bookings(server, "flow_full") == [], "nothing is booked before the yes"
        done = await peer.turn("yes")
        assert [t.name for t in done.tool_calls] == ["book_appointment"]
        (booked,) = await bookings(server, "flow_full")
        assert booked["status"] == "confirmed" and booked["customer_name"] == "Dana"
        assert booked["local_start"].startswith("2026-12-02T14:00")

        moved = await peer.turn("can I move it to Friday at 11?")
        assert "Friday" in moved.text
        await peer.turn("yes")
        (row,) = await bookings(server, "flow_full")
        assert row["local_start"].startswith("2026-12-04T11:00")

        await peer.turn("actually, cancel my booking")
        await peer.turn("yes")
        (row,) = await bookings(server, "flow_full")
        assert row["status"] == "cancelled"

        bye = await peer.turn("thanks, bye")
        assert bye.end_call and bye.text


async def test_correction_and_taken_slot_offers_alternatives(server: RunningServer) -> None:
    async with RetellPeer(server.url("flow_a"), call=call("flow_a")) as peer:
        await peer.wait_begin()
        first = await peer.turn("I need a haircut tomorrow at 2pm, my name is Sam")
        assert "Wednesday" in first.text
        corrected = await peer.turn("no, Thursday")
        assert "Thursday" in corrected.text and "2 PM" in corrected.text
        await peer.turn("yes")
    assert len(await bookings(server, "flow_a")) == 1
    async with RetellPeer(server.url("flow_b"), call=call("flow_b", "+12125550111")) as peer:
        await peer.wait_begin()
        taken = await peer.turn("Can I get a colour on Thursday at 2pm? I'm Lee.")
        assert "isn't available" in taken.text or "not available" in taken.text
        assert "PM" in taken.text  # nearest free slots are offered
        assert await bookings(server, "flow_b") == []


async def test_caller_in_another_time_zone_hears_both_times(server: RunningServer) -> None:
    london = call("flow_london", "+442079460123", zone="Europe/London")
    async with RetellPeer(server.url("flow_london"), call=london) as peer:
        await peer.wait_begin()
        confirm = await peer.turn("I need a haircut tomorrow at 2pm, my name is Sam")
        assert "2 PM your time" in confirm.text and "9 AM" in confirm.text
        await peer.turn("yes")
    (row,) = await bookings(server, "flow_london")
    assert row["caller_zone"] == "Europe/London"
    assert row["local_start"].startswith("2026-12-02T14:00")
    record = await server.runtime.db.engine.connect()
    try:
        for _ in range(100):
            zone = (
                await record.execute(
                    text("SELECT caller_zone FROM calls WHERE call_id = 'flow_london'")
                )
            ).scalar_one_or_none()
            if zone is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        await record.close()
    assert zone == "Europe/London", "the call record carries the caller's zone"


async def test_silence_noise_and_off_topic(server: RunningServer) -> None:
    async with RetellPeer(server.url("flow_misc"), call=call("flow_misc")) as peer:
        await peer.wait_begin()
        nudge = await peer.wait(await peer.silence())
        assert nudge.text
        noise = await peer.turn("(unintelligible audio)")
        assert noise.text and not noise.transfer_number
        off = await peer.turn("what's the weather like?")
        assert off.text and not off.tool_calls
        price = await peer.turn("how much is a beard trim?")
        assert "20 dollars" in price.text


async def test_human_request_transfers(server: RunningServer) -> None:
    async with RetellPeer(server.url("flow_human"), call=call("flow_human")) as peer:
        await peer.wait_begin()
        reply = await peer.turn("I want to speak to a real person")
        assert reply.transfer_number == server.runtime.profile.transfer.default
