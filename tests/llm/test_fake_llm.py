"""The fake provider itself: what other test suites and the benchmark rely on."""

from __future__ import annotations

import asyncio
import json
import sys

import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes.fake_llm import FakeLLM, Script, ToolCallScript, first_word_end, model_tokens


async def test_records_requests_and_streams_openai_chunks(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    fake_llm.enqueue(
        Script(
            text=("Hi",),
            tool_calls=(ToolCallScript("escalate", '{"reason": "billing"}', id="t1"),),
            usage=(11, 3),
        )
    )
    stream = await client.chat.completions.create(
        model="gpt-x",
        messages=[{"role": "user", "content": "hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == "Hi"
    arguments = "".join(
        call.function.arguments or ""
        for chunk in chunks
        if chunk.choices
        for call in chunk.choices[0].delta.tool_calls or ()
        if call.function is not None
    )
    assert arguments == '{"reason": "billing"}'
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 14

    (request,) = await fake_llm.wait_requests(1)
    await request.wait_finished()
    assert request.model == "gpt-x"
    assert request.messages == [{"role": "user", "content": "hello"}]
    assert "authorization" not in request.headers
    assert request.completed and not request.closed_by_client
    assert request.first_token_at is not None and request.finished_at is not None


async def test_responder_chooses_scripts_after_the_queue(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    fake_llm.enqueue(Script.say("queued"))
    fake_llm.responder = lambda request: Script.say(f"echo {request.messages[-1]['content']}")

    async def ask(text: str) -> str:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": text}], stream=True
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert await ask("one") == "queued"
    assert await ask("two") == "echo two"


@pytest.mark.slow
async def test_hundreds_of_concurrent_streams(fake_llm: FakeLLM) -> None:
    fake_llm.default = Script.say("Sure, what day works for you?", first_token_ms=50, token_ms=5)
    client = openai.AsyncOpenAI(base_url=fake_llm.base_url, api_key="k", max_retries=0)

    async def one() -> str:
        stream = await client.chat.completions.create(model="m", messages=[], stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    async with client:
        answers = await asyncio.gather(*(one() for _ in range(200)))
    assert set(answers) == {"Sure, what day works for you?"}
    assert fake_llm.stats.requests == 200
    assert fake_llm.stats.completed == 200
    assert fake_llm.stats.active == 0


@pytest.mark.slow
async def test_standalone_process_serves_and_reports_stats() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.fake_llm",
        "--port",
        "0",
        "--first-token-ms",
        "1",
        "--token-ms",
        "1",
        "--text",
        "Hello from the fake.",
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(20):
            banner = (await process.stdout.readline()).decode()
        assert banner.startswith("fake-llm listening on http://127.0.0.1:")
        base_url = banner.split()[-1]
        async with openai.AsyncOpenAI(base_url=base_url, api_key="k", max_retries=0) as client:
            stream = await client.chat.completions.create(model="m", messages=[], stream=True)
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            assert text == "Hello from the fake."
            stats_url = base_url.removesuffix("/v1") + "/_stats"
            stats = await client.get(stats_url, cast_to=object)
            assert isinstance(stats, dict) and stats["completed"] == 1
    finally:
        process.terminate()
        async with asyncio.timeout(20):
            out, _ = await process.communicate()
    assert process.returncode == 0
    final = json.loads(out.decode().strip().removeprefix("fake-llm stats "))
    assert final["requests"] == 1


async def test_close_ends_idle_and_stalled_connections() -> None:
    server = FakeLLM()
    await server.start()
    server.enqueue(Script.say("done"), Script.failing("stall"))
    idle_client = openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    stall_client = openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    async with idle_client, stall_client:
        finished = await idle_client.chat.completions.create(model="m", messages=[], stream=True)
        assert [c async for c in finished]  # its connection now idles in the pool
        stalled = await stall_client.chat.completions.create(model="m", messages=[], stream=True)
        async with asyncio.timeout(5):
            await server.close()
        await stalled.close()
    done, stall = server.requests
    assert done.completed
    assert stall.finished and not stall.completed
    assert server.stats.active == 0


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Sure, I can help.", ("Sure", ",", " I", " can", " help", ".")),
        ("Of course. Thursday?", ("Of", " course", ".", " Thursday", "?")),
        (
            "I'm in at 9:30, it's $1,200!",
            (
                "I",
                "'m",
                " in",
                " at",
                " ",
                "9",
                ":",
                "30",
                ",",
                " it",
                "'s",
                " $",
                "1",
                ",",
                "200",
                "!",
            ),
        ),
        ("Hi\n\n- **one**", ("Hi", "\n\n", "-", " **", "one", "**")),
        ("12345 snake_case", ("123", "45", " snake", "_", "case")),
    ],
)
def test_model_tokens_are_cut_as_a_model_streams(text: str, tokens: tuple[str, ...]) -> None:
    assert model_tokens(text) == tokens


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_model_tokens_add_up_to_the_text(text: str) -> None:
    tokens = model_tokens(text)
    assert "".join(tokens) == text
    assert all(tokens)


@pytest.mark.parametrize(
    ("pieces", "end"),
    [
        (("Sure", ",", " I"), 1),
        (("Of", " course", "."), 1),
        (("Sure, ", "I "), 0),
        (("I", "'m", " here"), 2),
        (("well", "-known", " fact"), 2),
        ((" Hi", "!"), 1),
        (("Hello",), None),
        ((), None),
    ],
)
def test_first_word_end_is_the_piece_after_which_a_word_has_ended(
    pieces: tuple[str, ...], end: int | None
) -> None:
    assert first_word_end(pieces) == end


async def test_records_when_the_token_ending_the_first_word_was_sent(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    fake_llm.enqueue(Script.tokens("Sure, I can.", token_ms=5), Script.say("Sure, I can."))
    for _ in range(2):
        stream = await client.chat.completions.create(model="m", messages=[], stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == "Sure, I can."
    by_tokens, by_words = await fake_llm.wait_requests(2)
    await by_tokens.wait_finished()
    await by_words.wait_finished()
    assert by_tokens.script is not None and by_tokens.script.text[:2] == ("Sure", ",")
    assert by_tokens.first_token_at is not None and by_tokens.first_word_at is not None
    assert by_tokens.first_token_at < by_tokens.first_word_at
    # "Sure, " ends its word by itself: the first token is the one that ends the first word.
    assert by_words.first_word_at == by_words.first_token_at is not None
