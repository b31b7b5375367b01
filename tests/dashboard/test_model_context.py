""" "The context the model saw" on a call page: the messages the LLM brain sent for a
turn, masked, and nothing for a turn the flow brain answered."""

from __future__ import annotations

import re
from collections.abc import Callable

import openai

from tests.conftest import run_server
from tests.dashboard.support import caller, settle, signed_in
from tests.fakes.fake_llm import FakeLLM, Script
from voiceops.config import Settings
from voiceops.evals.peer import RetellPeer


async def test_the_call_page_shows_what_the_model_was_sent_with_numbers_masked(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(brain="llm", llm_base_url=fake_llm.base_url, llm_api_key="sk-x")
    fake_llm.default = Script.say("Happy to help with that.")
    async with run_server(settings, llm_client=client) as server:
        async with RetellPeer(server.url("call_ctx"), call=caller("call_ctx")) as peer:
            await peer.wait_begin()
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
