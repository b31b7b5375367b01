"""The fake LLM's benchmark hooks: per-request first-token delay, text cycling, timings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.fakes.fake_llm import BenchResponder, FakeLLM

TEXTS = ("Alpha one.", "Beta two.", "Gamma three.")


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    responder = BenchResponder(TEXTS, first_token_ms=0, token_ms=0, tags=True)
    async with FakeLLM() as server:
        server.responder = responder
        server.on_finish = responder.on_finish
        server.reports["/_timings"] = responder.drain_timings
        yield server


def _body(*user_lines: str) -> dict[str, Any]:
    messages: list[dict[str, str]] = [{"role": "system", "content": "Be brief."}]
    for line in user_lines:
        messages += [{"role": "user", "content": line}, {"role": "assistant", "content": "Ok."}]
    return {"model": "fake-model", "stream": True, "messages": messages[:-1]}


async def _say(client: httpx.AsyncClient, llm: FakeLLM, *user_lines: str) -> str:
    text = ""
    url = f"{llm.base_url}/chat/completions"
    async with client.stream("POST", url, json=_body(*user_lines)) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: {"):
                for choice in json.loads(line[6:])["choices"]:
                    text += choice["delta"].get("content") or ""
    return text


async def test_texts_cycle_by_the_number_of_caller_messages(llm: FakeLLM) -> None:
    async with httpx.AsyncClient() as client:
        first = await _say(client, llm, "hello")
        second = await _say(client, llm, "hello", "and then")
        fourth = await _say(client, llm, "a", "b", "c", "d")
    assert (first, second, fourth) == ("Beta two.", "Gamma three.", "Beta two.")


async def test_markers_set_the_first_token_delay_and_keep_timings(llm: FakeLLM) -> None:
    async with httpx.AsyncClient() as client:
        await _say(client, llm, "earlier #bench:c1r1 #ft:900", "now #bench:c1r2 #ft:5")
        await _say(client, llm, "untagged line")
        timings = (await client.get(f"{llm.base_url[:-3]}/_timings")).json()["timings"]
        again = (await client.get(f"{llm.base_url[:-3]}/_timings")).json()["timings"]
    assert [r.script.first_token_ms for r in llm.requests if r.script] == [5.0, 0.0]
    assert len(timings) == 1 and again == []
    (timing,) = timings
    assert timing["tag"] == "c1r2" and timing["completed"] and not timing["closed_by_client"]
    assert timing["received_at"] <= timing["first_token_at"] <= timing["finished_at"]
    assert timing["first_token_at"] <= timing["first_word_at"] <= timing["finished_at"]


async def test_texts_stream_as_model_tokens_and_time_the_end_of_the_first_word(
    llm: FakeLLM,
) -> None:
    async with httpx.AsyncClient() as client:
        assert await _say(client, llm, "hi #bench:c3r1") == "Beta two."
        (timing,) = (await client.get(f"{llm.base_url[:-3]}/_timings")).json()["timings"]
    (request,) = llm.requests
    assert request.script is not None and request.script.text == ("Beta", " two", ".")
    assert timing["first_token"] == "Beta"
    # "Beta" ends when " two" is sent: the second token, not the first.
    assert timing["first_word_at"] is not None
    assert timing["first_token_at"] < timing["first_word_at"]


async def test_a_stream_the_client_drops_is_reported_closed_by_client(llm: FakeLLM) -> None:
    responder = BenchResponder(
        ("one two three four five six",), first_token_ms=0, token_ms=200, tags=True
    )
    llm.responder = responder
    llm.on_finish = responder.on_finish
    async with httpx.AsyncClient() as client:
        url = f"{llm.base_url}/chat/completions"
        async with client.stream("POST", url, json=_body("hi #bench:c2r1")) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    break  # hang up after the first token, as a superseded turn does
        (request,) = await llm.wait_requests(1)
        await request.wait_finished()
    (timing,) = responder.drain_timings()["timings"]
    assert timing["closed_by_client"] and not timing["completed"]
    assert timing["client_closed_at"] is not None


def test_responder_needs_a_text() -> None:
    with pytest.raises(ValueError):
        BenchResponder((), first_token_ms=0, token_ms=0, tags=False)
