"""The confirmation cadence end to end (fake Retell peer and fake LLM over real sockets):
while booking details are being collected, the caller hears them read back at least every
third agent turn, whether or not the model does it, and never twice in one reply."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import openai
import pytest

from tests.conftest import RunningServer, run_server
from tests.fakes.fake_llm import FakeLLM, Script
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import Reply, RetellPeer

# The server's clock: Tuesday 1 December 2026, 09:00 in New York; Friday is the 4th.
READ_BACK = "So that's a colour on Friday, December 4th at 10 AM."
TOLD = "This reply already begins with a read-back of the booking details"


def call(call_id: str) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": "+12125550100",
        "to_number": "+12125550142",
        "metadata": {"caller_timezone": "America/New_York"},
    }


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with FakeLLM() as fake:
        yield fake


@pytest.fixture
async def server(
    llm: FakeLLM, make_settings: Callable[..., Settings], profile: AgentProfile
) -> AsyncIterator[RunningServer]:
    settings = make_settings(brain="llm", llm_base_url=llm.base_url, llm_api_key="k")
    client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="k", max_retries=0)
    async with run_server(settings, profile=profile, llm_client=client) as srv:
        yield srv
    await client.close()


def availability(**extra: str) -> Script:
    return Script.call("check_availability", {"service": "color", "date": "2026-12-04", **extra})


def turn_note(llm: FakeLLM) -> str:
    """The last system message of the newest request: the turn note."""
    messages = llm.requests[-1].body["messages"]
    notes = [m["content"] for m in messages if m["role"] == "system"]
    return str(notes[-1])


async def play(
    server: RunningServer, llm: FakeLLM, call_id: str, turns: list[tuple[str, list[Script]]]
) -> list[tuple[Reply, str]]:
    """Each caller line with the scripts the model answers it with; every reply with the
    turn note its last request carried."""
    heard: list[tuple[Reply, str]] = []
    async with RetellPeer(server.url(call_id), call=call(call_id)) as peer:
        await peer.wait_begin()
        for line, scripts in turns:
            llm.enqueue(*scripts)
            reply = await peer.turn(line)
            heard.append((reply, turn_note(llm)))
    return heard


async def test_a_model_that_never_confirms_gets_a_read_back_on_the_third_turn(
    server: RunningServer, llm: FakeLLM
) -> None:
    heard = await play(
        server,
        llm,
        "cadence_silent",
        [
            ("A colour on Friday, please.", [availability(), Script.say("We have 10, 11 or 2.")]),
            (
                "10 is good.",
                [availability(time="10:00"), Script.say("That one's free. Your name?")],
            ),
            ("Dana.", [Script.say("Thanks, Dana. Shall I book it?")]),
            ("Hmm, let me think.", [Script.say("Take your time.")]),
        ],
    )
    texts = [reply.text for reply, _ in heard]
    assert not any(READ_BACK in t for t in texts[:2]), texts
    assert texts[2] == f"{READ_BACK} Thanks, Dana. Shall I book it?"
    # The model is told the reply began with it, so it does not say it again.
    assert TOLD in heard[2][1] and READ_BACK in heard[2][1]
    assert TOLD not in heard[1][1] and TOLD not in heard[3][1]
    # The count starts again after it: the next turn has none.
    assert texts[3] == "Take your time."


async def test_a_model_that_confirms_gets_no_second_read_back(
    server: RunningServer, llm: FakeLLM
) -> None:
    heard = await play(
        server,
        llm,
        "cadence_confirms",
        [
            ("A colour on Friday, please.", [availability(), Script.say("We have 10, 11 or 2.")]),
            (
                "10 is good.",
                [
                    availability(time="10:00"),
                    Script.say("So a colour on Friday at 10 AM. What name is it under?"),
                ],
            ),
            ("Dana.", [Script.say("Thanks, Dana. Shall I book it?")]),
            ("Hmm, let me think.", [Script.say("Take your time.")]),
        ],
    )
    texts = [reply.text for reply, _ in heard]
    assert texts[2:] == ["Thanks, Dana. Shall I book it?", "Take your time."]
    assert not any(TOLD in note for _, note in heard)


async def test_a_booking_made_settles_the_details(server: RunningServer, llm: FakeLLM) -> None:
    booking = {
        "service": "colour",
        "start": "2026-12-04T10:00",
        "customer_name": "Dana",
    }
    heard = await play(
        server,
        llm,
        "cadence_booked",
        [
            ("A colour on Friday at 10.", [availability(time="10:00"), Script.say("It's free.")]),
            ("Book it for Dana.", [Script.call("book_appointment", booking), Script.say("Done.")]),
            ("Thanks.", [Script.say("Anything else?")]),
            ("No.", [Script.say("Have a good day.")]),
        ],
    )
    assert json.loads(heard[1][0].tool_results[0].content)["status"] == "confirmed"
    assert [reply.text for reply, _ in heard[2:]] == ["Anything else?", "Have a good day."]
