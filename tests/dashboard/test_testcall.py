"""The test-call page over HTTP on a real server: a call through the Retell socket code,
silence, a draft, hanging up, the per-session slot and its bounds."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpx

from tests.conftest import FIXED_NOW, run_server
from tests.dashboard.support import csrf_of, settle, signed_in
from voiceops.config import Settings
from voiceops.core.clock import ManualClock
from voiceops.store.evals import read_bookings
from voiceops.web.dashboard.testcall import TestCalls, TooManyTestCalls


def _said(html: str) -> list[str]:
    """The agent's lines on the page, in order."""
    return [
        re.sub(r"<[^>]+>", "", m)
        for m in re.findall(
            r'<span class="who">Agent</span> <span class="said">(.*?)</span>', html, re.S
        )
    ]


async def _say(client: httpx.AsyncClient, text: str) -> str:
    page = await client.get("/dashboard/test-call")
    answer = await client.post(
        "/dashboard/test-call/say", data={"text": text, "csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 303, answer.text
    return (await client.get("/dashboard/test-call")).text


async def _start(client: httpx.AsyncClient, version: str = "published") -> httpx.Response:
    page = await client.get("/dashboard/test-call")
    assert page.status_code == 200
    return await client.post(
        "/dashboard/test-call/start", data={"version": version, "csrf_token": csrf_of(page.text)}
    )


async def test_a_test_call_books_an_appointment_through_the_socket_path(
    make_settings: Callable[..., Settings],
) -> None:
    async with run_server(make_settings()) as server:
        async with signed_in(server, "editor@salon.test", "editor") as client:
            started = await _start(client)
            assert started.status_code == 303
            page = (await client.get("/dashboard/test-call")).text
            greeting = _said(page)
            assert len(greeting) == 1 and greeting[0]
            call_id = re.search(r'class="mono">(test_[0-9a-f]{16})<', page)
            assert call_id, page
            await _say(client, "Hi, can I book a haircut for tomorrow at 3pm?")
            await _say(client, "Priya")
            page = await _say(client, "yes")
            said = _said(page)
            assert len(said) == 4
            assert "first words" in page and "complete" in page
            assert '<span class="badge">book_appointment</span>' in page
            page = await _say(client, "")
            assert "(silence: reminder)" in page
            assert len(_said(page)) == 5 and _said(page)[-1]
            await settle(server)
            bookings = await read_bookings(server.runtime.db)
            assert [(b.call_id, b.customer_name) for b in bookings] == [(call_id.group(1), "Priya")]
            record = await client.get(f"/dashboard/calls/{call_id.group(1)}")
            assert record.status_code == 200 and "Priya" in record.text
            assert "test call by editor@salon.test" in record.text
            listed = (await client.get("/dashboard/calls")).text
            assert '<span class="badge">test call</span>' in listed
            assert f"v{server.runtime.profile.version}" in page  # the published version's label
            csrf = csrf_of(page)
            hung = await client.post("/dashboard/test-call/hang-up", data={"csrf_token": csrf})
            assert hung.status_code == 303
            page = (await client.get("/dashboard/test-call")).text
            assert "The call is over: you hung up." in page
            assert 'id="say-form"' not in page
            late = await client.post(
                "/dashboard/test-call/say", data={"text": "hello?", "csrf_token": csrf}
            )
            assert late.status_code == 303  # nothing more is said into an ended call
            assert len(_said((await client.get("/dashboard/test-call")).text)) == 5
            assert (await _start(client)).status_code == 303
            assert len(server.runtime.live) == 1
            page = (await client.get("/dashboard/test-call")).text
            out = await client.post("/dashboard/logout", data={"csrf_token": csrf_of(page)})
            assert out.status_code == 303
            assert len(server.runtime.live) == 0  # signing out hangs up the test call


async def test_the_draft_can_be_called_and_viewers_cannot_call(
    make_settings: Callable[..., Settings],
) -> None:
    async with run_server(make_settings()) as server:
        async with signed_in(server, "editor@salon.test", "editor") as client:
            edit = await client.get("/dashboard/agent/edit?section=voice")
            saved = await client.post(
                "/dashboard/agent/draft",
                data={
                    "csrf_token": csrf_of(edit.text),
                    "section": "voice",
                    "greeting": "Hello from the draft! How can I help?",
                    "greeting_named": "Hello {{ caller_name }}, from the draft!",
                    "prompt_template": "",
                    "turn_note_template": "",
                },
            )
            assert saved.status_code == 303, saved.text
            assert (await _start(client, "draft")).status_code == 303
            page = (await client.get("/dashboard/test-call")).text
            assert "Hello from the draft!" in _said(page)[0]
            assert "the draft (its content is v" in page
            assert (await _start(client, "999")).status_code == 422
        async with signed_in(server, "viewer@salon.test", "viewer") as viewer:
            assert (await viewer.get("/dashboard/test-call")).status_code == 403
            assert "/dashboard/test-call" not in (await viewer.get("/dashboard/calls")).text


async def test_test_calls_are_bounded_and_idle_ones_are_hung_up(
    make_settings: Callable[..., Settings],
) -> None:
    async with run_server(make_settings()) as server:
        assert server.runtime.console is not None
        endpoint = await server.runtime.console.endpoint.console_endpoint(
            server.runtime.profile.version
        )
        assert endpoint is not None
        clock = ManualClock(FIXED_NOW)
        calls = TestCalls(clock, limit=2, idle_s=60)
        first = await calls.start("a", endpoint, label="v1", by="x@y.z")
        await calls.start("b", endpoint, label="v1", by="x@y.z")
        try:
            await calls.start("c", endpoint, label="v1", by="x@y.z")
            raise AssertionError("a third test call was let in")
        except TooManyTestCalls:
            pass
        again = await calls.start("a", endpoint, label="v1", by="x@y.z")  # replaces a's
        assert again.call_id != first.call_id and first.side.closed.is_set()
        assert len(calls) == 2
        await clock.advance(61)
        await calls.sweep()
        assert len(calls) == 0 and again.side.closed.is_set()
        await calls.close()


async def test_a_draining_instance_hangs_up_test_calls_and_takes_no_new_one(
    make_settings: Callable[..., Settings],
) -> None:
    async with run_server(make_settings()) as server:
        async with signed_in(server, "editor@salon.test", "editor") as client:
            assert (await _start(client)).status_code == 303
            live = server.runtime.live
            assert len(live) == 1
            assert server.runtime.console is not None
            drain = server.runtime.console.endpoint.base.drain
            assert drain is not None
            drain.begin()
            for _ in range(150):  # the housekeeping runs every 5 s
                if not len(live):
                    break
                await asyncio.sleep(0.1)
            assert len(live) == 0
            page = (await client.get("/dashboard/test-call")).text
            assert 'id="say-form"' not in page
            refused = await _start(client)
            assert refused.status_code == 503
            assert "shutting down" in refused.text
