"""Assembling streamed tool calls from ``delta.tool_calls`` fragments.

OpenAI streams each call as a first fragment carrying ``index``, ``id``, ``type`` and the
function ``name``, then fragments carrying only ``index`` and a piece of ``arguments``.
Several calls in one response are told apart by ``index``. Some compatible servers deviate:
they omit ``index`` (then a fragment with a new ``id`` starts a call and anything else
continues the latest one), resend the ``id`` on every fragment, send the whole call at
once, or send the arguments as an object. All of these assemble to the same result.
Arguments are otherwise kept verbatim, even when they are not valid JSON: the tool box
reports that back to the model. Fragments are plain decoded JSON (see ``brain.py`` for why
the stream is not turned into SDK models), so every field is read defensively.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str

    def as_message_part(self) -> dict[str, object]:
        """The entry of an assistant message's ``tool_calls``."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(slots=True)
class _Partial:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ToolCallAssembler:
    """Feed every ``delta.tool_calls`` list to :meth:`add`; read :meth:`calls` at the end."""

    def __init__(self, id_prefix: str) -> None:
        self._id_prefix = id_prefix
        self._partials: dict[int, _Partial] = {}
        self._latest: int | None = None

    def __bool__(self) -> bool:
        return bool(self._partials)

    def add(self, fragments: list[Any]) -> None:
        """Take one ``delta.tool_calls`` list as decoded from JSON (fields may be missing)."""
        for fragment in fragments:
            if not isinstance(fragment, dict):
                continue
            call_id = _text(fragment.get("id"))
            key = self._key(fragment.get("index"), call_id)
            partial = self._partials.setdefault(key, _Partial())
            self._latest = key
            if call_id and not partial.id:
                partial.id = call_id
            function = fragment.get("function")
            if not isinstance(function, dict):
                continue
            name = _text(function.get("name"))
            if name and not partial.name:
                # Some servers resend the name on every fragment: keep the first.
                partial.name = name
            arguments = function.get("arguments")
            if isinstance(arguments, str) and arguments:
                partial.arguments.append(arguments)
            elif isinstance(arguments, dict):
                # A server that sends the arguments already decoded: re-encode them.
                partial.arguments.append(json.dumps(arguments))

    def calls(self) -> list[ToolCall]:
        """The assembled calls in index order; a missing id is made up, stable per turn."""
        out: list[ToolCall] = []
        for position, key in enumerate(sorted(self._partials)):
            partial = self._partials[key]
            arguments = "".join(partial.arguments)
            if not arguments.strip():
                arguments = "{}"  # a call without arguments; the API wants a JSON object
            call_id = partial.id or f"{self._id_prefix}_{position}"
            out.append(ToolCall(call_id, partial.name, arguments))
        return out

    def _key(self, index: object, call_id: str) -> int:
        if isinstance(index, int):
            return index
        if self._latest is None:
            return 0
        if call_id and self._partials[self._latest].id not in ("", call_id):
            return max(self._partials) + 1
        return self._latest


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
