"""The chunk stream's SSE reader: WHATWG framing on raw bytes, the SDK's stream contract."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator

import httpx2
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceops.llm.request import ToolsJson
from voiceops.llm.sse import ChunkStream, _sse_data


async def _pieces(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def events(*parts: bytes) -> list[bytes]:
    return [data async for data in _sse_data(_pieces(*parts))]


async def test_events_split_on_blank_lines_in_every_line_ending() -> None:
    body = b'data: {"a":1}\n\ndata: {"b":2}\r\n\r\ndata: {"c":3}\r\rdata:{"d":4}\n\n'
    assert await events(body) == [b'{"a":1}', b'{"b":2}', b'{"c":3}', b'{"d":4}']


async def test_comments_and_other_fields_are_skipped_and_data_lines_join() -> None:
    body = b": keep-alive\n\nevent: message\nid: 7\nretry: 10\ndata: one\ndata: two\n\n"
    assert await events(body) == [b"one\ntwo"]


async def test_a_crlf_split_between_reads_is_one_line_end() -> None:
    assert await events(b"data: x\r", b"\ndata: y\r", b"\n\r", b"\n") == [b"x\ny"]


async def test_a_last_event_without_its_blank_line_still_counts() -> None:
    assert await events(b"data: [DONE]") == [b"[DONE]"]


_BODY = (
    b'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\r\n\r\n'
    b": ping\n\n"
    b'data: {"choices":[{"index":0,"delta":{"content":"lo \xc3\xa9"}}]}\n\n'
    b"data: [DONE]\n\n"
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(_BODY)), max_size=12))
async def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(_BODY)]
    parts = [_BODY[a:b] for a, b in itertools.pairwise(bounds)]
    assert await events(*parts) == await events(_BODY)
    assert len(await events(_BODY)) == 3


def _stream(body: bytes) -> ChunkStream:
    client = openai.AsyncOpenAI(api_key="test", base_url="http://127.0.0.1:9/v1")
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    response = httpx2.Response(200, content=body, request=request)
    return ChunkStream(cast_to=object, response=response, client=client)


async def test_chunks_come_back_as_dicts_until_done() -> None:
    stream = _stream(_BODY + b'data: {"after":"done"}\n\n')
    chunks = [chunk async for chunk in stream]
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["Hel", "lo é"]  # type: ignore[index]
    assert stream.response.is_closed


async def test_an_error_object_in_the_stream_raises_the_sdk_error() -> None:
    stream = _stream(b'data: {"choices":[]}\n\ndata: {"error":{"message":"overloaded"}}\n\n')
    with pytest.raises(openai.APIError, match="overloaded") as caught:
        [chunk async for chunk in stream]
    assert not isinstance(caught.value, openai.APIStatusError)
    assert stream.response.is_closed


async def test_a_chunk_that_is_not_json_raises_value_error() -> None:
    with pytest.raises(ValueError):
        [chunk async for chunk in _stream(b"data: {not json\n\n")]


def test_tool_schemas_are_encoded_once_while_shared() -> None:
    specs = [{"type": "function", "function": {"name": "a"}}, {"type": "function"}]
    cache = ToolsJson()
    first = cache.encode(list(specs))
    assert first is not None and json.loads(first) == specs
    assert cache.encode(list(specs)) is first, "same schema objects: reused"
    copies = [dict(spec) for spec in specs]
    again = cache.encode(copies)
    assert again == first and again is not first, "new objects: encoded again"
    assert cache.encode([]) is None
