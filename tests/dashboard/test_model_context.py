""" "The context the model saw" on a call page: the messages the LLM brain sent for a
turn, masked, and nothing for a turn the flow brain answered."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import openai

from tests.conftest import run_server
from tests.dashboard.support import PASSWORD, add_user, caller, settle, signed_in
from tests.fakes.fake_llm import FakeLLM, Script
from voiceops.config import Settings
from voiceops.evals.peer import RetellPeer
from voiceops.store.db import Database
from voiceops.store.evals import read_events


async def test_the_call_page_shows_what_the_model_was_sent_with_numbers_masked(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(brain="llm", llm_base_url=fake_llm.base_url, llm_api_key="sk-x")
    fake_llm.default = Script.say("Happy to help with that.")
    async with run_server(settings, llm_client=client) as server:
        async with RetellPeer(server.url("call_ctx"), call=caller("call_ctx")) as peer:
            await peer.wait_begin()
            await peer.turn("Hello there")
            await peer.turn("Please call me back on 212 555 0199 about a perm")
        await settle(server)
        sent = fake_llm.requests[-1].messages
        assert any("212 555 0199" in str(m.get("content")) for m in sent)
        async with signed_in(server, "owner@salon.test", "viewer") as http:
            page = (await http.get("/dashboard/calls/call_ctx")).text
    contexts = re.findall(r"The context the model saw \((\d+) messages", page)
    assert contexts and int(contexts[-1]) == len(sent)
    shown = page[page.rindex('<details class="context">') :]
    shown = shown[: shown.index("</details>")]
    assert "about a perm" in shown
    assert "212 555 0199" not in shown and "Please call me back on ********0199" in shown
    assert '<span class="who">system</span>' in shown
    # The voice prompt is stored once per call and shown again for each turn.
    prompt = str(sent[0]["content"])[:60]
    assert page.count(prompt) == len(contexts) == 2
    assert "(as sent for request 1; kept once per call)" in shown
    async with server_db(settings) as db:
        stored = await read_contexts(db, "call_ctx")
    assert stored[0]["messages"][0]["content"].startswith(prompt)
    assert stored[1]["messages"][0] == {"role": "system", "content": "", "same_as": 1}


@asynccontextmanager
async def server_db(settings: Settings) -> AsyncIterator[Database]:
    db = await Database.open(settings.database_url)
    try:
        yield db
    finally:
        await db.close()


async def read_contexts(db: Database, call_id: str) -> list[dict[str, Any]]:
    return [e.payload for e in await read_events(db, call_id) if e.event_type == "model_context"]


async def test_no_context_is_shown_for_the_flow_brain(
    make_settings: Callable[..., Settings],
) -> None:
    async with run_server(make_settings()) as server:
        async with RetellPeer(server.url("call_flow"), call=caller("call_flow")) as peer:
            await peer.wait_begin()
            await peer.turn("What are your hours?")
        await settle(server)
        async with signed_in(server, "owner@salon.test", "viewer") as http:
            page = (await http.get("/dashboard/calls/call_flow")).text
    assert "What are your hours?" in page
    assert "The context the model saw" not in page


async def test_the_context_opens_on_the_call_page_in_a_browser(
    browser: object,
    shots: Path,
    fake_llm: FakeLLM,
    client: openai.AsyncOpenAI,
    make_settings: Callable[..., Settings],
) -> None:
    from playwright.async_api import Browser

    assert isinstance(browser, Browser)
    settings = make_settings(brain="llm", llm_base_url=fake_llm.base_url, llm_api_key="sk-x")
    fake_llm.default = Script.say("Of course. What time suits you on Friday?")
    async with run_server(settings, llm_client=client) as server:
        await add_user(server, "owner@salon.test", "viewer")
        async with RetellPeer(server.url("call_seen"), call=caller("call_seen")) as peer:
            await peer.wait_begin()
            await peer.turn("Can I move my booking to Friday? I'm on 212 555 0199.")
        await settle(server)
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        base = server.http_base
        await page.goto(f"{base}/dashboard/login?next=/dashboard/calls/call_seen")
        await page.fill("#email", "owner@salon.test")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/dashboard/calls/call_seen")
        summary = page.locator("details.context summary").last
        await summary.click()
        shown = page.locator("details.context").last
        assert await shown.locator("li.msg-user").last.inner_text() == (
            "user\nCan I move my booking to Friday? I'm on ********0199."
        )
        await shown.scroll_into_view_if_needed()
        await page.screenshot(path=shots / "call-model-context.png", full_page=True)
        await context.close()
