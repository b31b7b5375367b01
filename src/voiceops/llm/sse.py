"""Reading a streamed chat completion: server-sent events split on raw bytes.

:class:`ChunkStream` is an SDK stream whose items are the decoded JSON chunks, read with a
byte-level SSE reader instead of the SDK's line-by-line one (one ``bytes.split`` per network
read instead of a Python loop over every character of every line).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator

import httpx2
import openai


class ChunkStream(openai.AsyncStream[object]):
    """An SDK stream whose items are the decoded JSON chunks, untouched.

    It keeps the SDK's contract for a chat-completions stream (``data:`` events decoded as
    JSON, ``[DONE]`` ends it and the rest of the body is drained so the connection is
    reused, an ``error`` object inside the stream raises :class:`openai.APIError`,
    transport failures raise :class:`openai.APITimeoutError` or
    :class:`openai.APIConnectionError`, the response is closed whatever happens) but
    splits events on raw bytes: one ``bytes.split`` per network read instead of a Python
    loop over every character of every line.
    """

    async def __stream__(self) -> AsyncIterator[object]:
        response = self.response
        body = _guarded(response)
        events = _sse_data(body)
        try:
            async for data in events:
                if data.startswith(b"[DONE]"):
                    if response.http_version == "HTTP/1.1":
                        async for _ in body:  # drain: the connection is then reused
                            pass
                    return
                chunk = json.loads(data)
                if isinstance(chunk, dict) and chunk.get("error"):
                    error = chunk["error"]
                    message = error.get("message") if isinstance(error, dict) else None
                    raise openai.APIError(
                        message=message
                        if isinstance(message, str) and message
                        else "An error occurred during streaming",
                        request=response.request,
                        body=error,
                    )
                yield chunk
        finally:
            await events.aclose()
            await body.aclose()
            await response.aclose()


async def _guarded(response: httpx2.Response) -> AsyncGenerator[bytes, None]:
    """The response body, with transport failures raised as the SDK's own errors."""
    try:
        async for data in response.aiter_bytes():
            yield data
    except httpx2.TimeoutException as exc:
        raise openai.APITimeoutError(request=response.request) from exc
    except httpx2.TransportError as exc:
        raise openai.APIConnectionError(request=response.request) from exc


async def _sse_data(body: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    """The ``data`` of each server-sent event in ``body`` (WHATWG SSE framing: lines end in
    LF, CRLF or CR; an empty line ends an event; several ``data`` lines join with LF;
    comments, ``event``, ``id`` and ``retry`` fields carry nothing a completion needs)."""
    pending = b""
    lines: list[bytes] = []
    async for piece in body:
        pending += piece
        if b"\r" in pending:
            # A CR at the very end may be the first half of a CRLF: keep it for later.
            held = pending.endswith(b"\r")
            pending = pending[:-1] if held else pending
            pending = pending.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            pending += b"\r" if held else b""
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if not line:
                if lines:
                    yield b"\n".join(lines)
                    lines = []
            elif line.startswith(b"data:"):
                value = line[5:]
                lines.append(value[1:] if value.startswith(b" ") else value)
    if pending.startswith(b"data:"):
        value = pending[5:]
        lines.append(value[1:] if value.startswith(b" ") else value)
    if lines:
        yield b"\n".join(lines)
