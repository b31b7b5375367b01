"""Transcript lines and the call object: what Retell tells us about a call, as domain types.

They arrive on the wire (``retell/messages.py`` parses them, sections 3.0 and 3.2 of
``reference/retell-protocol.md``) and in webhooks, and every layer above reads them: the
turn, both brains, the store. They live here so that none of those needs the wire module.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.dataclasses import dataclass as pydantic_dataclass

_LINE = ConfigDict(extra="ignore")


@pydantic_dataclass(frozen=True, slots=True, config=_LINE)
class Utterance:
    """One transcript line. ``role`` is ``agent`` or ``user`` (anything else: not agent).

    Retell also sends per-word timings (``words``). voiceops never uses them, and they are
    most of a frame's bytes, so they are not declared: the JSON parser skips them without
    building a Python object for each word (a 20-line transcript parses about 10 times
    faster, and the garbage collector has nothing to sweep).

    Lines are slotted dataclasses, not models: a turn request of a long call holds hundreds
    of them, alive while the turn runs, and a model is two objects for the collector to
    walk (itself and its ``__dict__``) where a slotted instance is one.
    """

    role: str
    content: str


@pydantic_dataclass(frozen=True, slots=True, config=_LINE)
class TranscriptEntry:
    """An entry of ``transcript_with_tool_calls``; a union on ``role`` kept as one loose type.

    Utterances carry ``content``; ``tool_call_invocation`` carries ``tool_call_id``, ``name``
    and ``arguments`` (a JSON string); ``tool_call_result`` carries ``tool_call_id``,
    ``content`` and maybe ``successful``; ``dtmf`` carries ``digit``. Word timings and
    other fields are skipped unparsed, as for :class:`Utterance`.
    """

    role: str
    content: str | None = None
    tool_call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    successful: bool | None = None
    digit: str | None = None


class CallObject(BaseModel):
    """The call object of ``call_details`` (section 3.2) and webhooks (section 8.3).

    Only the fields voiceops reads are typed; the rest is kept as extra.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    call_id: str | None = None
    agent_id: str | None = None
    agent_version: int | None = None
    call_type: str | None = None
    call_status: str | None = None
    direction: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    metadata: dict[str, Any] | None = None
    retell_llm_dynamic_variables: dict[str, Any] | None = None
