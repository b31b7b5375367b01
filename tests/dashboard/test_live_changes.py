"""The Live page's poll on SQLite and PostgreSQL, through the real app: a call by the fake
Retell peer opens, its turns come past the page's cursor as text, its end comes as a
close, the page itself lists it with its transcript escaped, and without a session the
poll answers 401."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RunningServer, run_server
from tests.dashboard.support import caller, csrf_of, settle, signed_in
from tests.pgutil import fresh_pg_database
from voiceops.config import Settings
from voiceops.evals.peer import RetellPeer

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def server(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[RunningServer]:
    if request.param == "sqlite":
        async with run_server(make_settings()) as srv:
            yield srv
        return
    async with (
        fresh_pg_database() as url,
        run_server(make_settings(database_url=url)) as srv,
    ):
        yield srv


def cursor_of(html: str) -> int:
    match = re.search(r'id="live" data-after="(\d+)"', html)
    assert match, "no cursor on the Live page"
    return int(match.group(1))


async def poll(client: httpx.AsyncClient, after: int, shown: str = "") -> dict[str, Any]:
    r = await client.get(f"/dashboard/live/changes?after={after}&shown={shown}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_a_call_opens_speaks_and_closes_past_the_cursor(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.http_base) as anonymous:
        refused = await anonymous.get("/dashboard/live/changes?after=0")
        assert refused.status_code == 401 and refused.json() == {"error": "sign in first"}
    async with signed_in(server, "desk@salon.test", "editor") as client:
        page = await client.get("/dashboard/live")
        assert "No call is live." in page.text and 'src="/dashboard/static/live.js"' in page.text
        cursor = cursor_of(page.text)
        async with RetellPeer(server.url("call_live"), call=caller("call_live")) as peer:
            await peer.wait_begin()
            await peer.turn(f"Hi {XSS} can I book a haircut?")
            await settle(server)
            got = await poll(client, cursor)
            kinds = [(e["call_id"], e["kind"]) for e in got["events"]]
            assert kinds[0] == ("call_live", "open") and ("call_live", "close") not in kinds
            card = got["calls"]["call_live"]
            assert card["from"] != "+12125550142" and card["from"].endswith("0142")
            assert card["version"] == 1 and not card["test"]
            turns = [e for e in got["events"] if e["kind"] == "turn"]
            assert [t["who"] for t in turns[:2]] == ["Caller", "Agent"]
            assert turns[0]["text"] == f"Hi {XSS} can I book a haircut?"  # raw: the page sets text
            assert turns[1]["text"] and turns[1]["type"] == "turn_completed"
            assert got["cursor"] == max(e["id"] for e in got["events"]) and not got["more"]

            listed = await client.get("/dashboard/live")
            assert 'id="live-call_live"' in listed.text and XSS not in listed.text
            assert "Hi &lt;img src=x onerror=alert(1)&gt; can I book a haircut?" in listed.text
            assert cursor_of(listed.text) >= got["cursor"]
            said = await client.post(
                "/dashboard/calls/call_live/say",
                data={"text": "One moment", "back": "live", "csrf_token": csrf_of(listed.text)},
            )
            assert said.status_code == 303
            assert said.headers["location"] == "/dashboard/live#live-call_live"

            await peer.turn("Tomorrow at 3pm please")
            await settle(server)
            more = await poll(client, got["cursor"], "call_live")
            fresh = [e for e in more["events"] if e["id"] > got["cursor"]]
            said_turns = [(e["who"], e["text"]) for e in fresh if e["kind"] == "turn"]
            assert said_turns[:2] == [
                ("Operator", "One moment"),
                ("Caller", "Tomorrow at 3pm please"),
            ]
            assert more["ended"] == []
        await settle(server)
        last = await poll(client, more["cursor"], "call_live")
        assert [e["kind"] for e in last["events"] if e["id"] > more["cursor"]] == ["close"]
        assert "No call is live." in (await client.get("/dashboard/live")).text
