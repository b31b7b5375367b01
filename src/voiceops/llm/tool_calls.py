"""Assembling streamed tool calls from ``delta.tool_calls`` fragments.

OpenAI streams each call as a first fragment carrying ``index``, ``id``, ``type`` and the
function ``name``, then fragments carrying only ``index`` and a piece of ``arguments``.
Several calls in one response are told apart by ``index``. Some compatible servers deviate:
they omit ``index`` (then a fragment with a new ``id`` starts a call and anything else
continues the latest one), resend the ``id`` on every fragment, or send the whole call at
once. All of these assemble to the same result. Arguments are kept verbatim, even when they
are not valid JSON: the tool box reports that back to the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall


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

    def add(self, fragments: list[ChoiceDeltaToolCall]) -> None:
        for fragment in fragments:
            key = self._key(fragment)
            partial = self._partials.setdefault(key, _Partial())
            self._latest = key
            if fragment.id and not partial.id:
                partial.id = fragment.id
            function = fragment.function
            if function is None:
                continue
            if function.name and not partial.name:
                # Some servers resend the name on every fragment: keep the first.
                partial.name = function.name
            if function.arguments:
                partial.arguments.append(function.arguments)

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

    def _key(self, fragment: ChoiceDeltaToolCall) -> int:
        # Declared as int by the SDK, but chunks are not validated and some servers omit it.
        index: int | None = getattr(fragment, "index", None)
        if index is not None:
            return index
        if fragment.id and self._latest is not None:
            if self._partials[self._latest].id not in ("", fragment.id):
                return max(self._partials) + 1
        if self._latest is not None:
            return self._latest
        return 0
