"""The chat-completions request body, encoded once and spliced.

The settings head is encoded when the brain is built, the conversation on every request,
and the tool schemas (most of a request's bytes, the same on every turn) once per set of
schema objects, then spliced in as bytes.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from voiceops.llm.messages import Message


def request_head(
    *,
    model: str,
    temperature: float,
    max_tokens: int,
    usage: bool,
    service_tier: str | None = None,
) -> bytes:
    """The settings part of every request, encoded (a JSON object without its ``}``)."""
    head: dict[str, Any] = {
        "model": model,
        "stream": True,
        "temperature": temperature,
        "max_tokens": max_tokens,
    }
    if usage:
        head["stream_options"] = {"include_usage": True}
    if service_tier is not None:
        head["service_tier"] = service_tier
    return _dumps(head)[:-1]


def request_body(
    head: bytes,
    messages: list[Message],
    tools: bytes | None,
    *,
    final: bool,
    parallel_tool_calls: bool | None = None,
) -> bytes:
    """The request as JSON bytes: ``head``, the conversation encoded now, and the tool
    schemas spliced in already encoded. The last round of a turn forbids tools."""
    body = head
    if tools is not None and final:
        body += b',"tool_choice":"none"'
    body += b',"messages":' + _dumps(messages)
    if tools is not None:
        body += b',"tools":' + tools
        if parallel_tool_calls is not None:
            body += b',"parallel_tool_calls":' + _dumps(parallel_tool_calls)
    return body + b"}"


def _dumps(value: object) -> bytes:
    """Compact JSON as the SDK would send it (UTF-8, no NaN)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class ToolsJson:
    """The encoded ``tools`` array of a turn, reused while the tool box hands out the same
    schema objects (the real one builds them once per profile and shares them)."""

    KEPT = 8

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[int, ...], tuple[list[dict[str, Any]], bytes]] = (
            OrderedDict()
        )

    def encode(self, specs: list[dict[str, Any]]) -> bytes | None:
        """``None`` for no tools, else the JSON of ``specs``."""
        if not specs:
            return None
        key = tuple(id(spec) for spec in specs)
        hit = self._cache.get(key)
        # The kept list holds the schema objects alive, so their ids cannot be reused.
        if hit is not None and all(a is b for a, b in zip(hit[0], specs, strict=True)):
            self._cache.move_to_end(key)
            return hit[1]
        encoded = _dumps(specs)
        self._cache[key] = (list(specs), encoded)
        while len(self._cache) > self.KEPT:
            self._cache.popitem(last=False)
        return encoded
