"""A scripted OpenAI-compatible model for ``voiceops eval --brain llm`` without a key.

``POST /v1/chat/completions`` answers as the real API does: with ``stream: true`` a
``text/event-stream`` of ``chat.completion.chunk`` objects (``data: {...}`` lines, the text
word by word in ``delta.content``, tool calls in ``delta.tool_calls``, a ``finish_reason``,
``data: [DONE]``); without, one ``chat.completion`` object (the judge's forced tool call).

What it says is scripted per turn by the runner (:meth:`FakeModel.load`, from a scenario's
``fake_llm`` steps); past the script it answers with :data:`BAIT`, replies a careless model
might give a voice agent (markdown, emoji, links, symbols), so that the server's speech
hygiene is exercised on every turn. Only protocol-level expectations apply against it: the
words are the script's, not an agent's.

The test suite has a fuller fake (``tests/fakes/fake_llm.py``, with injected faults and
timings for the benchmark); this one is small, and part of the package so the runner needs
nothing from the tests.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import uuid
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

BAIT: tuple[str, ...] = (
    "**Sure!** I can help with that \U0001f60a. Our prices are at "
    "https://maple.example/prices, a haircut is $45.",
    "Here's what I can do:\n- book a time\n- answer questions\n\nJust let me know! \U0001f44d",
    "# Great news\nThat works for us & we'd *love* to see you. "
    "Call us on (212) 555-0142 or email book@maple.example.",
)
"""What the fake model says when the script has nothing for a request."""
_WORD = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Answer:
    """One response: text, then tool calls, after ``first_token_ms``."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    first_token_ms: int = 0


@dataclass(slots=True)
class Seen:
    """A request the fake answered."""

    body: dict[str, Any]
    answer: Answer


@dataclass(slots=True)
class FakeModel:
    """The fake's script and its record of requests."""

    bait: Sequence[str] = BAIT
    requests: list[Seen] = field(default_factory=list)
    _queue: deque[Answer] = field(default_factory=deque)
    _bait: itertools.cycle[str] | None = None

    def load(self, answers: Sequence[Answer]) -> None:
        """Answers for the next requests, in order (replacing what was left)."""
        self._queue = deque(answers)

    def next_answer(self) -> Answer:
        if self._queue:
            return self._queue.popleft()
        if self._bait is None:
            self._bait = itertools.cycle(self.bait)
        return Answer(text=next(self._bait))

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])

    async def _complete(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse(
                {"error": {"message": "body is not a JSON object", "type": "invalid_json"}},
                status_code=400,
            )
        answer = self.next_answer()
        self.requests.append(Seen(body, answer))
        model = str(body.get("model") or "fake")
        if body.get("stream") is True:
            return StreamingResponse(_stream(answer, model), media_type="text/event-stream")
        if answer.first_token_ms:
            await asyncio.sleep(answer.first_token_ms / 1000)
        return JSONResponse(_completion(answer, model))


def _completion(answer: Answer, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer.text or None}
    if answer.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in answer.tool_calls
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if answer.tool_calls else "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


async def _stream(answer: Answer, model: str) -> AsyncIterator[bytes]:
    cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
    if answer.first_token_ms:
        await asyncio.sleep(answer.first_token_ms / 1000)
    yield _chunk(cid, model, {"role": "assistant", "content": ""})
    for word in _WORD.findall(answer.text):
        yield _chunk(cid, model, {"content": word})
    for index, call in enumerate(answer.tool_calls):
        yield _chunk(
            cid,
            model,
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": f"call_{uuid.uuid4().hex[:12]}",
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            },
        )
        yield _chunk(
            cid,
            model,
            {
                "tool_calls": [
                    {"index": index, "function": {"arguments": json.dumps(call.arguments)}}
                ]
            },
        )
    yield _chunk(cid, model, {}, "tool_calls" if answer.tool_calls else "stop")
    usage = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }
    yield b"data: " + json.dumps(usage).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"
