"""What a superseded turn did, the caller still hears: a booking made by a turn whose reply
was cut off by the caller's next words is confirmed in the reply to those words.

The runner, the flow brain, the tools and a call session are real; the socket is a link
that can hold a frame, so the caller's second "yes" arrives exactly between the booking's
commit and the reply that would have confirmed it.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from voiceops.agent.deps import TurnDeps
from voiceops.agent.turn import TurnRunner
from voiceops.config import DEFAULT_PROFILE, Settings
from voiceops.core.callevents import ListSink
from voiceops.core.clock import ManualClock
from voiceops.core.profile import load_profile
from voiceops.core.state import CallState
from voiceops.flow.brain import FlowBrain
from voiceops.metrics import Metrics
from voiceops.retell.messages import parse_inbound
from voiceops.retell.session import CallSession
from voiceops.tools.memory import InMemoryBookingRepo

# Tuesday 1 December 2026, 9 AM in New York: the salon is open, Wednesday is a working day.
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


class HoldingLink:
    """A call link recording frames; it can hold the result frame of one tool."""

    def __init__(self) -> None:
        self.call_id = "call_twice"
        self.session = CallSession(self.call_id, greeting=None)
        self.session.connect()
        self.state = CallState(call_id=self.call_id, greeted=True)
        self.frames: list[dict[str, Any]] = []
        self.hold_tool: str | None = None
        self.held = asyncio.Event()
        self._tool_ids: dict[str, str] = {}

    async def send(self, text: str) -> None:
        frame = json.loads(text)
        self.frames.append(frame)
        if frame["response_type"] == "tool_call_invocation":
            self._tool_ids[frame["tool_call_id"]] = frame["name"]
        if (
            frame["response_type"] == "tool_call_result"
            and self._tool_ids.get(frame["tool_call_id"]) == self.hold_tool
        ):
            self.held.set()
            await asyncio.Event().wait()  # until the turn is cancelled

    def said(self, rid: int) -> str:
        return "".join(
            f["content"]
            for f in self.frames
            if f["response_type"] == "response" and f["response_id"] == rid
        ).strip()


def runner(repo: InMemoryBookingRepo) -> TurnRunner:
    return TurnRunner(
        TurnDeps(
            brain=FlowBrain(),
            fallback=None,
            profile=load_profile(DEFAULT_PROFILE),
            settings=Settings(),
            repo=repo,
            events=ListSink(),
            metrics=Metrics(),
            rng=random.Random(0),
            clock=ManualClock(NOW),
        )
    )


class Caller:
    def __init__(self, link: HoldingLink, turns: TurnRunner) -> None:
        self.link = link
        self.turns = turns
        self.transcript: list[dict[str, str]] = []
        self.rid = 0

    def request(self, text: str) -> Any:
        self.rid += 1
        self.transcript.append({"role": "user", "content": text})
        frame = parse_inbound(
            json.dumps(
                {
                    "interaction_type": "response_required",
                    "response_id": self.rid,
                    "transcript": self.transcript,
                }
            ),
            max_bytes=1 << 20,
        )
        self.link.session.receive(frame)
        return frame

    def start(self, text: str) -> tuple[int, asyncio.Task[None]]:
        frame = self.request(text)
        task = asyncio.create_task(self.turns.run(self.link, frame, 0.0))
        return self.rid, task

    async def say(self, text: str) -> str:
        rid, task = self.start(text)
        await task
        reply = self.link.said(rid)
        self.transcript.append({"role": "agent", "content": reply})
        return reply


@pytest.mark.parametrize(
    "talks_over",
    [
        "after the silence",  # "yes", then "yes please" as a new utterance
        "merged",  # Retell joins the two into one utterance: "Yes. Yes please."
        "over a word",  # the agent got one word out before the caller spoke again
    ],
)
async def test_a_booking_whose_reply_was_cut_off_is_confirmed_in_the_next_reply(
    talks_over: str,
) -> None:
    repo = InMemoryBookingRepo()
    link = HoldingLink()
    caller = Caller(link, runner(repo))
    await caller.say("I'd like a haircut tomorrow at 2pm")
    read_back = await caller.say("It's Dana")
    assert "Shall I book it?" in read_back

    link.hold_tool = "book_appointment"
    _, first = caller.start("yes")
    await link.held.wait()  # booked; its confirmation not yet spoken
    if talks_over == "merged":
        caller.transcript.pop()
        second_frame = caller.request("Yes. Yes please.")
    else:
        if talks_over == "over a word":
            caller.transcript.append({"role": "agent", "content": "You're"})
        second_frame = caller.request("yes please")
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    link.hold_tool = None
    await caller.turns.run(link, second_frame, 0.0)

    reply = link.said(caller.rid)
    assert "booked" in reply and "2 PM" in reply, reply
    assert "Shall I book" not in reply, reply
    assert len(await repo.find_bookings(call_id="call_twice")) == 1
    # Said once: a later turn does not repeat it.
    again = await caller.say("thanks")
    assert "booked" not in again, again


async def test_what_the_caller_heard_is_not_said_again() -> None:
    repo = InMemoryBookingRepo()
    link = HoldingLink()
    caller = Caller(link, runner(repo))
    await caller.say("I'd like a haircut tomorrow at 2pm")
    await caller.say("It's Dana")
    link.hold_tool = "book_appointment"
    _, first = caller.start("yes")
    await link.held.wait()
    # The confirmation was spoken (the transcript carries it) before the caller went on.
    caller.transcript.append(
        {"role": "agent", "content": "You're all set for Wednesday, December 2nd at 2 PM."}
    )
    second_frame = caller.request("great, thanks")
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    link.hold_tool = None
    await caller.turns.run(link, second_frame, 0.0)
    assert "booked:" not in link.said(caller.rid), link.said(caller.rid)
