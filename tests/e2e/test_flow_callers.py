"""Callers who do not follow the script, over the fake Retell peer against the real server
(``flow`` brain, no LLM), checked against the database: endings, closed days, names,
corrections, questions the profile does not answer, two services, silence."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.conftest import RunningServer
from tests.e2e.test_flow_calls import call, server
from voiceops.evals.peer import RetellPeer

__all__ = ["server"]  # the fixture, shared with the scripted flow calls


async def bookings(server: RunningServer, call_id: str) -> list[Any]:
    async with server.runtime.db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT * FROM bookings WHERE call_id = :c ORDER BY local_start"), {"c": call_id}
        )
        return list(rows.mappings().all())


async def test_goodbye_mid_booking_ends_the_call_and_books_nothing(server: RunningServer) -> None:
    async with RetellPeer(server.url("cq_bye"), call=call("cq_bye")) as peer:
        await peer.wait_begin()
        await peer.turn("I'd like a haircut tomorrow at 2")
        bye = await peer.turn("That's it, thanks")
        assert bye.end_call and "Thanks for calling Maple Street Hair" in bye.text
        assert [t.name for t in bye.tool_calls] == ["end_call"]
    assert await bookings(server, "cq_bye") == []


async def test_closed_day_correction_and_a_name_given_in_passing(server: RunningServer) -> None:
    async with RetellPeer(server.url("cq_closed"), call=call("cq_closed")) as peer:
        await peer.wait_begin()
        closed = await peer.turn("Hi it's Priya Shah, can I get a colour on Monday at 10?")
        assert "closed on Sundays and Mondays" in closed.text
        assert "Would 10 AM work?" in closed.text
        confirm = await peer.turn("yes")
        assert "Tuesday, December 8th at 10 AM for Priya Shah" in confirm.text
        moved = await peer.turn("actually, make it 11")
        assert "11 AM for Priya Shah" in moved.text
        await peer.turn("yes")
    (booked,) = await bookings(server, "cq_closed")
    assert booked["customer_name"] == "Priya Shah" and booked["service"] == "colour"
    assert booked["local_start"].startswith("2026-12-08T11:00")


async def test_a_caller_who_will_not_give_a_name(server: RunningServer) -> None:
    async with RetellPeer(server.url("cq_anon"), call=call("cq_anon")) as peer:
        await peer.wait_begin()
        await peer.turn("a beard trim on Friday at 3")
        again = await peer.turn("I'd rather not say")
        assert "first name" in again.text and not again.transfer_number
        confirm = await peer.turn("no, I don't want to give a name")
        assert "under the number you're calling from" in confirm.text
        await peer.turn("yes")
    (booked,) = await bookings(server, "cq_anon")
    assert booked["customer_name"] == "+12125550100"


async def test_questions_by_intent(server: RunningServer) -> None:
    async with RetellPeer(server.url("cq_faq"), call=call("cq_faq")) as peer:
        await peer.wait_begin()
        hours = await peer.turn("are you open?")
        assert hours.text.startswith("Yes, we're open today until 5 PM.")
        assert "Saturday" not in hours.text
        gift = await peer.turn("do you do gift vouchers?")
        assert "gift cards" in gift.text and "cash" not in gift.text
        nails = await peer.turn("can I get my nails done?")
        assert nails.text.startswith("Sorry, we don't do nails; we do haircut, colour")
        dog = await peer.turn("can I bring my dog?")
        assert dog.text.startswith("I don't have that information")
        callback = await peer.turn("yes please")
        assert "name" in callback.text
        await peer.turn("Dana")
        done = await peer.turn("yes, this number is fine")
        assert [t.name for t in done.tool_calls] == ["request_callback"]
        assert not done.transfer_number


async def test_two_services_back_to_back(server: RunningServer) -> None:
    async with RetellPeer(server.url("cq_two"), call=call("cq_two")) as peer:
        await peer.wait_begin()
        await peer.turn("I'd like a haircut and a beard trim on Thursday at 2pm")
        confirm = await peer.turn("It's Omar")
        assert "then a beard trim at 2:30 PM" in confirm.text
        await peer.turn("yes, book them")
    rows = await bookings(server, "cq_two")
    assert [(r["service"], r["local_start"][11:16]) for r in rows] == [
        ("haircut", "14:00"),
        ("beard trim", "14:30"),
    ]


async def test_long_silence_ends_the_call(server: RunningServer) -> None:
    async with RetellPeer(server.url("cq_quiet"), call=call("cq_quiet")) as peer:
        await peer.wait_begin()
        first = await peer.wait(await peer.silence())
        assert first.text.startswith("Are you still there?") and not first.end_call
        second = await peer.wait(await peer.silence())
        assert not second.end_call
        third = await peer.wait(await peer.silence())
        assert third.end_call
