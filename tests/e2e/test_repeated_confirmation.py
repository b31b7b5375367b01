"""A caller who confirms twice ("yes", then "yes please" before the reply is spoken) hears
the booking confirmed, over real sockets, whichever of the two turns made the booking: the
runner-level test (``tests/agent/test_unheard.py``) pins the case where the first made it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from tests.conftest import run_server
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import RetellPeer


def caller(call_id: str) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": "+12125550100",
        "to_number": "+12125550142",
    }


async def test_a_confirmation_said_twice_is_confirmed_once_and_heard(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> None:
    async with run_server(make_settings(brain="flow"), profile=profile) as server:
        times = ["10am", "10:30am", "11am", "11:30am"]
        for attempt, when in enumerate(times):
            call_id = f"twice_{attempt}"
            async with RetellPeer(server.url(call_id), call=caller(call_id)) as peer:
                await peer.wait_begin()
                await peer.turn(f"I'd like a haircut tomorrow at {when}")
                read_back = await peer.turn("It's Dana")
                assert "Shall I book it?" in read_back.text, read_back.text
                await peer.user_says("yes")
                second = await peer.user_says("yes please")
                reply = await peer.wait(second)
                async with server.runtime.db.engine.connect() as conn:
                    rows = (
                        await conn.execute(
                            text("SELECT status FROM bookings WHERE call_id = :c"), {"c": call_id}
                        )
                    ).all()
                assert len(rows) == 1, rows
                assert "booked" in reply.text or "all set" in reply.text, reply.text
