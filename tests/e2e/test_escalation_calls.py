"""Escalation end to end, over real sockets against the real server: a person word is not a
request, a request reaches the number its reason names, "are you a real person?" is
answered, progress is never a loop, and every escalation is recorded once. The flow brain
(no LLM) and the LLM brain on the fake OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import openai
import pytest
from sqlalchemy import text

from tests.conftest import RunningServer, run_server
from tests.fakes.fake_llm import FakeLLM, Script
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import RetellPeer

BILLING = "+12125550144"
FRONT_DESK = "+12125550143"


def call(call_id: str) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": "+12125550100",
        "to_number": "+12125550142",
    }


@pytest.fixture
async def flow(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(brain="flow"), profile=profile) as srv:
        yield srv


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with FakeLLM() as fake:
        yield fake


@pytest.fixture
async def with_llm(
    llm: FakeLLM, make_settings: Callable[..., Settings], profile: AgentProfile
) -> AsyncIterator[RunningServer]:
    settings = make_settings(brain="llm", llm_base_url=llm.base_url, llm_api_key="test-key")
    client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="test-key", max_retries=0)
    async with run_server(settings, profile=profile, llm_client=client) as srv:
        yield srv
    await client.close()


async def events(server: RunningServer, call_id: str, turns: int) -> list[dict[str, Any]]:
    """The call's events as (type, payload) dicts, once the writer has flushed ``turns``
    completed turns (events are written in order, so all before them are in too)."""
    rows: list[Any] = []
    for _ in range(100):
        async with server.runtime.db.engine.connect() as conn:
            rows = list(
                (
                    await conn.execute(
                        text("SELECT * FROM call_events WHERE call_id = :c ORDER BY id"),
                        {"c": call_id},
                    )
                )
                .mappings()
                .all()
            )
        if sum(1 for r in rows if r["event_type"] == "turn_completed") >= turns:
            break
        await asyncio.sleep(0.05)
    out = []
    for row in rows:
        payload = row["payload"]
        out.append(
            {
                "type": row["event_type"],
                "payload": json.loads(payload) if isinstance(payload, str) else payload,
            }
        )
    return out


def escalations(recorded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["payload"] for e in recorded if e["type"] == "escalation"]


async def bookings(server: RunningServer, call_id: str) -> list[Any]:
    async with server.runtime.db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT * FROM bookings WHERE call_id = :c"), {"c": call_id})
        return list(rows.mappings().all())


# -- the flow brain -----------------------------------------------------------------------------


async def test_my_manager_asked_me_to_book_a_haircut_books_a_haircut(
    flow: RunningServer,
) -> None:
    async with RetellPeer(flow.url("esc_manager"), call=call("esc_manager")) as peer:
        await peer.wait_begin()
        first = await peer.turn("Hi, my manager asked me to book a haircut for tomorrow at 2pm.")
        assert first.transfer_number is None
        confirm = await peer.turn("It's Dana")
        assert "haircut" in confirm.text and "2 PM" in confirm.text
        done = await peer.turn("yes")
        assert [t.name for t in done.tool_calls] == ["book_appointment"]
    (booked,) = await bookings(flow, "esc_manager")
    assert (booked["service"], booked["status"]) == ("haircut", "confirmed")
    assert escalations(await events(flow, "esc_manager", 3)) == []


async def test_put_me_through_to_billing_transfers_to_the_billing_number(
    flow: RunningServer,
) -> None:
    async with RetellPeer(flow.url("esc_billing"), call=call("esc_billing")) as peer:
        await peer.wait_begin()
        reply = await peer.turn("Put me through to billing, please.")
        assert reply.transfer_number == BILLING
        assert reply.text == "Connecting you with our billing team now."
    (recorded,) = escalations(await events(flow, "esc_billing", 1))
    assert recorded == {
        "reason": "caller asked for billing",
        "trigger": "phrase",
        "priority": "medium",
        "outcome": "transfer",
        "transfer_number": BILLING,
    }


async def test_an_indirect_request_goes_through_the_escalate_tool_and_is_recorded_once(
    flow: RunningServer,
) -> None:
    async with RetellPeer(flow.url("esc_bill"), call=call("esc_bill")) as peer:
        await peer.wait_begin()
        reply = await peer.turn("Is there someone I can talk to about my bill?")
        assert [t.name for t in reply.tool_calls] == ["escalate"]
        assert reply.transfer_number == BILLING
    (recorded,) = escalations(await events(flow, "esc_bill", 1))
    assert recorded["trigger"] == "model"
    assert recorded["transfer_number"] == BILLING
    assert "number" not in recorded


async def test_are_you_a_real_person_is_answered_not_transferred(flow: RunningServer) -> None:
    async with RetellPeer(flow.url("esc_robot"), call=call("esc_robot")) as peer:
        await peer.wait_begin()
        reply = await peer.turn("Are you a real person?")
        assert reply.transfer_number is None
        assert "virtual assistant" in reply.text and "put you through" in reply.text
        through = await peer.turn("Okay, then let me talk to a real person.")
        assert through.transfer_number == FRONT_DESK


async def test_the_same_question_with_progress_then_a_yes_books(flow: RunningServer) -> None:
    # Three agent turns in a row end in "Which would suit you?", with new times each time;
    # the caller's pick and "yes" that follow must book, not transfer.
    async with RetellPeer(flow.url("esc_loop"), call=call("esc_loop")) as peer:
        await peer.wait_begin()
        said = (
            "I'd like a haircut on Thursday.",
            "Anything in the afternoon?",
            "What about Friday morning?",
            "The first one.",
            "Sam",
            "yes",
        )
        replies = [await peer.turn(line) for line in said]
        assert all(r.transfer_number is None for r in replies)
        assert [r.text.endswith("Which would suit you?") for r in replies[:3]] == [True] * 3
        assert [t.name for t in replies[-1].tool_calls] == ["book_appointment"]
    assert len(await bookings(flow, "esc_loop")) == 1
    assert escalations(await events(flow, "esc_loop", len(said))) == []


# -- the LLM brain ------------------------------------------------------------------------------


async def test_a_model_escalation_is_recorded_once_with_its_transfer_number(
    with_llm: RunningServer, llm: FakeLLM
) -> None:
    llm.enqueue(Script.call("escalate", {"reason": "billing dispute", "priority": "high"}))
    async with RetellPeer(with_llm.url("esc_model"), call=call("esc_model")) as peer:
        await peer.wait_begin()
        reply = await peer.turn("There's a charge on my card I don't recognise.")
        assert reply.transfer_number == BILLING
    (recorded,) = escalations(await events(with_llm, "esc_model", 1))
    assert recorded == {
        "reason": "billing dispute",
        "trigger": "model",
        "priority": "high",
        "outcome": "transfer",
        "transfer_number": BILLING,
    }


@pytest.mark.parametrize(
    "said",
    ["Are you a real person?", "I'm only human, I forgot my appointment time."],
)
async def test_person_words_are_left_to_the_model(
    with_llm: RunningServer, llm: FakeLLM, said: str
) -> None:
    llm.default = Script.say("I'm Ava, the salon's virtual assistant. How can I help?")
    async with RetellPeer(with_llm.url("esc_words"), call=call("esc_words")) as peer:
        await peer.wait_begin()
        reply = await peer.turn(said)
        assert reply.transfer_number is None
        assert reply.text == "I'm Ava, the salon's virtual assistant. How can I help?"
    assert len(llm.requests) == 1, "the model answered: no rule took the turn"


async def test_a_clear_request_transfers_even_if_the_model_does_not(
    with_llm: RunningServer, llm: FakeLLM
) -> None:
    llm.default = Script.say("I can help you with that myself!")
    async with RetellPeer(with_llm.url("esc_net"), call=call("esc_net")) as peer:
        await peer.wait_begin()
        reply = await peer.turn("Can I speak to someone in billing?")
        assert reply.transfer_number == BILLING
    assert llm.requests == [], "the safety net answered before the model"
