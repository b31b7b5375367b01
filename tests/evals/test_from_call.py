"""``voiceops eval --from-call``: a stored call becomes a scenario and is replayed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import update

from tests.evals.support import PROFILE
from voiceops.config import Settings
from voiceops.evals import command
from voiceops.evals.fromcall import _entries, _turns
from voiceops.evals.loading import load_scenario
from voiceops.evals.outcome import EvalOptions
from voiceops.store.db import Database
from voiceops.store.evals import seed_booking
from voiceops.store.migrate import upgrade
from voiceops.store.tables import bookings, calls

START = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)  # 11 AM in New York
CONFIRM = "Just to confirm, a haircut on Wednesday, December 9th at 3 PM for Dana. Shall I book it?"


def tool(call_id: str, name: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "role": "tool_call_invocation",
            "tool_call_id": call_id,
            "name": name,
            "arguments": json.dumps(args),
        },
        {"role": "tool_call_result", "tool_call_id": call_id, "content": '{"status":"ok"}'},
    ]


def woven(booked: bool) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = [
        {"role": "agent", "content": "Thanks for calling Maple Street Hair, this is Ava."},
        {"role": "user", "content": "Hi, can I book a haircut for tomorrow at 3pm?"},
        *tool("t1", "check_availability", {"service": "haircut", "date": "2026-12-09"}),
        {"role": "agent", "content": "Good news, that time is free. What name should I use?"},
        {"role": "user", "content": "It's Dana"},
        {"role": "agent", "content": CONFIRM},
        {"role": "user", "content": "Yes"},
    ]
    if booked:
        args = {"service": "haircut", "start": "2026-12-09T15:00", "customer_name": "Dana"}
        entries += tool("t2", "book_appointment", {**args, "booking_id": "B-XYZ"})
        entries.append({"role": "agent", "content": "You're all set."})
    else:
        entries.append({"role": "agent", "content": "Sorry, something went wrong."})
    return entries


async def store_call(url: str, call_id: str, entries: list[dict[str, Any]] | None) -> None:
    await upgrade(url)
    db = await Database.open(url)
    try:
        async with db.transaction("test call") as conn:
            await conn.execute(
                calls.insert().values(
                    call_id=call_id,
                    from_number="+12125550100",
                    to_number="+12125550142",
                    direction="inbound",
                    started_at=START,
                    transcript_entries=entries,
                    transcript_size=len(entries or []),
                    created_at=START,
                    updated_at=START,
                )
            )
        if entries and any(e.get("name") == "book_appointment" for e in entries):
            await seed_booking(
                db,
                booking_id="B-XYZ",
                service="haircut",
                customer_name="Dana",
                customer_phone="+12125550100",
                start_utc=datetime(2026, 12, 9, 20, 0, tzinfo=UTC),
                end_utc=datetime(2026, 12, 9, 20, 30, tzinfo=UTC),
                caller_zone="America/New_York",
                local_start="2026-12-09T15:00:00-05:00",
                status="confirmed",
                price="45",
                created_at=START,
            )
            async with db.transaction("own the booking") as conn:
                await conn.execute(
                    update(bookings).where(bookings.c.booking_id == "B-XYZ").values(call_id=call_id)
                )
    finally:
        await db.close()


def options() -> EvalOptions:
    return EvalOptions(store=False)


def test_a_good_call_becomes_a_scenario_that_todays_agent_passes(
    tmp_path: Path, make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    asyncio.run(store_call(settings.database_url, "call_good", woven(booked=True)))
    out = tmp_path / "recorded.yaml"
    code = command.from_call("call_good", options(), settings, out=out)
    printed = capsys.readouterr().out
    assert code == 0, printed
    data = yaml.safe_load(out.read_text())
    assert (
        data["call"]["now"] == "2026-12-08T11:00" and data["call"]["from_number"] == "+12125550100"
    )
    turns = data["turns"]
    assert [t["caller"] for t in turns] == [
        "Hi, can I book a haircut for tomorrow at 3pm?",
        "It's Dana",
        "Yes",
    ]
    assert turns[1]["expect"] == {"no_calls": True}
    (booking,) = turns[2]["expect"]["calls"]
    assert booking == {
        "name": "book_appointment",
        "args": {"service": "haircut", "start": "2026-12-09T15:00", "customer_name": "Dana"},
    }, "ids are left out: they differ on every run"
    assert turns[2]["note"] == "then: You're all set."
    assert data["after_call"]["bookings"][0]["time"] == "15:00"
    assert load_scenario(out, PROFILE).scenario.turns[2].expect.calls is not None
    assert "replaying it against today's agent" in printed


def test_yesterdays_bad_call_shows_where_today_differs(
    tmp_path: Path, make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    asyncio.run(store_call(settings.database_url, "call_bad", woven(booked=False)))
    code = command.from_call("call_bad", options(), settings, out=tmp_path / "bad.yaml")
    printed = capsys.readouterr().out
    assert code == 1
    assert "turn 3  caller: Yes" in printed
    assert "then:  Sorry, something went wrong." in printed
    assert "book_appointment" in printed, "today's agent books where the recorded one did not"


def test_a_call_without_a_transcript_cannot_be_replayed(
    tmp_path: Path, make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    asyncio.run(store_call(settings.database_url, "call_empty", None))
    assert command.from_call("call_empty", options(), settings, out=tmp_path / "x.yaml") == 2
    assert "call_ended webhook" in capsys.readouterr().err
    assert command.from_call("call_missing", options(), settings, out=tmp_path / "y.yaml") == 2
    assert "no call 'call_missing'" in capsys.readouterr().err


def test_the_plain_text_transcript_is_used_when_there_is_no_woven_one() -> None:
    entries = _entries({"transcript": "Agent: Hello\nUser: Is there parking?\nAgent: Yes.\n"})
    greeting, turns, _ = _turns(entries)
    assert greeting == ["Hello"] and turns[0].caller == "Is there parking?"
    assert turns[0].agent == ["Yes."]


def test_bookings_the_agent_found_are_seeded_as_they_were_before_the_call(
    tmp_path: Path, make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    found = {
        "status": "ok",
        "bookings": [
            {
                "booking_id": "B-1",
                "service": "colour",
                "start_local": "2026-12-11T10:00:00-05:00",
                "start_utc": "2026-12-11T15:00:00Z",
                "customer_name": "Dana Park",
            }
        ],
    }
    entries: list[dict[str, Any]] = [
        {"role": "agent", "content": "Thanks for calling Maple Street Hair, this is Ava."},
        {"role": "user", "content": "I'd like to cancel my appointment."},
        {
            "role": "tool_call_invocation",
            "tool_call_id": "f",
            "name": "find_booking",
            "arguments": "{}",
        },
        {"role": "tool_call_result", "tool_call_id": "f", "content": json.dumps(found)},
        {"role": "agent", "content": "I see your colour on Friday at 10 AM. Shall I cancel it?"},
        {"role": "user", "content": "Yes please."},
        *tool("c", "cancel_appointment", {"booking_id": "B-1"}),
        {"role": "agent", "content": "Done, it's cancelled."},
    ]
    settings = make_settings()
    asyncio.run(store_call(settings.database_url, "call_cancel", entries))
    asyncio.run(cancelled_booking(settings.database_url))
    out = tmp_path / "cancel.yaml"
    code = command.from_call("call_cancel", options(), settings, out=out)
    printed = capsys.readouterr().out
    data = yaml.safe_load(out.read_text())
    assert data["setup"]["bookings"] == [
        {
            "service": "colour",
            "start": "2026-12-11T10:00",
            "name": "Dana Park",
            "phone": "+12125550100",
        }
    ]
    assert data["turns"][1]["expect"]["calls"] == [{"name": "cancel_appointment"}]
    assert data["after_call"]["bookings"] == [
        {
            "service": "colour",
            "date": "2026-12-11",
            "time": "10:00",
            "name": "Dana Park",
            "status": "cancelled",
        }
    ]
    assert code == 0, printed


async def cancelled_booking(url: str) -> None:
    """The booking as the call left it: cancelled (made by an earlier call)."""
    db = await Database.open(url)
    try:
        await seed_booking(
            db,
            booking_id="B-1",
            service="colour",
            customer_name="Dana Park",
            customer_phone="+12125550100",
            start_utc=datetime(2026, 12, 11, 15, 0, tzinfo=UTC),
            end_utc=datetime(2026, 12, 11, 16, 30, tzinfo=UTC),
            caller_zone="America/New_York",
            local_start="2026-12-11T10:00:00-05:00",
            status="cancelled",
            price="120",
            created_at=START,
        )
    finally:
        await db.close()
