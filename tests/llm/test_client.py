"""The shared client built from settings, used for real against the fake provider."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from tests.fakes.fake_llm import FakeLLM, Script
from tests.llm.support import collect, make_ctx
from voiceops.config import Settings
from voiceops.core.errors import LLMError
from voiceops.core.events import TextChunk
from voiceops.llm import LLMBrain, make_client
from voiceops.llm.client import NO_KEY


def test_client_has_explicit_timeouts_and_no_retries() -> None:
    settings = Settings(
        llm_base_url="http://127.0.0.1:9/v1",
        llm_api_key=SecretStr("sk-secret"),
        llm_connect_timeout_s=1.5,
        llm_first_token_timeout_s=3.0,
    )
    client = make_client(settings)
    assert client.max_retries == 0
    assert str(client.base_url) == "http://127.0.0.1:9/v1/"
    assert client.api_key == "sk-secret"
    timeout = client.timeout
    assert not isinstance(timeout, float) and timeout is not None
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (1.5, 4.0, 1.5, 1.5)


def test_servers_without_a_key_get_a_placeholder() -> None:
    client = make_client(Settings(llm_base_url="http://127.0.0.1:9/v1"))
    assert client.api_key == NO_KEY


async def test_one_client_streams_many_turns_over_kept_alive_connections() -> None:
    async with FakeLLM(Script.say("Hello there.")) as server:
        client = make_client(Settings(llm_base_url=server.base_url))
        async with client:
            brain = LLMBrain(
                client,
                model="m",
                temperature=0,
                max_tokens=20,
                first_token_timeout_s=5,
                turn_timeout_s=5,
                max_tool_rounds=1,
            )
            for response_id in range(3):
                events = await collect(brain.stream(make_ctx(response_id=response_id)))
                assert events == [TextChunk("Hello "), TextChunk("there.")]
        assert server.stats.requests == 3
        assert server.stats.connections == 1


async def test_read_timeout_of_the_client_bounds_a_stalled_stream() -> None:
    # The brain's own first-token budget is generous here; the client's read timeout
    # (first-token setting + 1 s) is what ends the stall.
    async with FakeLLM(Script.failing("stall")) as server:
        settings = Settings(llm_base_url=server.base_url, llm_first_token_timeout_s=0.1)
        client = make_client(settings)
        async with client:
            brain = LLMBrain(
                client,
                model="m",
                temperature=0,
                max_tokens=20,
                first_token_timeout_s=30,
                turn_timeout_s=30,
                max_tool_rounds=1,
            )
            with pytest.raises(LLMError) as caught:
                await collect(brain.stream(make_ctx()))
        assert caught.value.kind == "timeout"
        request = await server.requests[0].wait_finished()
        assert request.closed_by_client
