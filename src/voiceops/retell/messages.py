"""Typed Retell custom-LLM WebSocket frames, both directions.

Implements sections 3 (Retell -> us, discriminated on ``interaction_type``) and 4 (us ->
Retell, discriminated on ``response_type``) of ``reference/retell-protocol.md``.

Every value the server keeps or echoes is bounded here: a ``response_id`` is a
non-negative 32-bit integer (:data:`RESPONSE_ID_MAX`), a ``ping_pong`` timestamp a
non-negative 64-bit one, and a call id (the socket path's last segment, the ``call_id`` of
``call_details`` and of webhooks) is 1 to 128 characters of ``[A-Za-z0-9_-]``
(:func:`is_valid_call_id`); the numbers of a call object that voiceops stores fit their
columns (:func:`call_object_problem`), and no string of ``call_details`` holds a NUL. A
frame outside those bounds is malformed.

Inbound parsing is one pydantic pass over the raw text (for a large turn request, over the
text with its word timings cut out first; see :func:`_turn_request_without_words`), and an
``update_only`` frame is not parsed until read. Unknown extra fields are ignored
(section 2.2); an unknown ``interaction_type`` becomes an explicit :class:`UnknownInbound`
value, never ``None``. Outbound frames always carry ``response_type``, use strict JSON types
and omit absent optional fields instead of sending ``null`` (section 4.3 rule 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, AnyStr, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from voiceops.core.errors import FrameTooLarge, MalformedFrame
from voiceops.core.transcript import CallObject, TranscriptEntry, Utterance

# --------------------------------------------------------------------------------------
# bounds of the values voiceops keeps

RESPONSE_ID_MAX = 2**31 - 1
"""Retell numbers the requests of a call 1, 2, 3...; an id past a 32-bit integer is not
one of its ids (and no database integer column holds it)."""
TIMESTAMP_MAX = 2**63 - 1
CALL_ID_MAX_CHARS = 128
_CALL_ID = re.compile(r"[A-Za-z0-9_-]+")


def is_valid_call_id(value: object) -> bool:
    """Whether ``value`` is a call id voiceops accepts: 1 to :data:`CALL_ID_MAX_CHARS`
    characters of ``A-Z a-z 0-9 _ -``.

    Retell's ids are ``call_`` followed by hex digits. A call id becomes a database key, a
    log field and a URL segment, so anything else (a NUL, a line break, a slash, a
    2,000-character string) is refused where it comes in, never cut or escaped: two long
    ids cut to one length would become one call.
    """
    return (
        isinstance(value, str)
        and 0 < len(value) <= CALL_ID_MAX_CHARS
        and _CALL_ID.fullmatch(value) is not None
    )


LAST_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z in epoch milliseconds: the last instant a datetime holds."""
_CALL_NUMBERS = {
    "agent_version": RESPONSE_ID_MAX,
    "start_timestamp": LAST_MS,
    "end_timestamp": LAST_MS,
    "duration_ms": TIMESTAMP_MAX,
}
"""Integers of a call object that voiceops stores, and their largest value."""


def call_object_problem(call: Mapping[str, object]) -> str | None:
    """What makes a call object (of ``call_details`` or a webhook) unacceptable, or
    ``None``: a ``call_id`` outside :func:`is_valid_call_id`, or an integer voiceops stores
    (``agent_version``, the timestamps, ``duration_ms``) below 0 or past its column. A value
    of another type is left to the store, which skips what does not fit."""
    call_id = call.get("call_id")
    if call_id is not None and not is_valid_call_id(call_id):
        return "call_id is not 1-128 characters of A-Z a-z 0-9 _ -"
    for name, largest in _CALL_NUMBERS.items():
        value = call.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= largest:
            return f"{name} is out of range"
    return None


def _holds_nul(value: object) -> bool:
    """Whether a string (or a key) anywhere in ``value`` holds a NUL; no recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


ResponseId = Annotated[int, Field(strict=True, ge=0, le=RESPONSE_ID_MAX)]

# --------------------------------------------------------------------------------------
# shared sub-objects (section 3.0)


class _Inbound(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --------------------------------------------------------------------------------------
# Retell -> us (section 3)


class PingPongIn(_Inbound):
    interaction_type: Literal["ping_pong"]
    timestamp: Annotated[int, Field(ge=0, le=TIMESTAMP_MAX)]


class CallDetails(_Inbound):
    interaction_type: Literal["call_details"]
    call: CallObject

    @field_validator("call")
    @classmethod
    def _bounded(cls, call: CallObject) -> CallObject:
        fields = {"call_id": call.call_id, "agent_version": call.agent_version}
        problem = call_object_problem({**(call.model_extra or {}), **fields})
        if problem is not None:
            raise ValueError(problem)
        if _holds_nul(call.model_dump()):
            # PostgreSQL stores no NUL in text or JSON: the call's record could not be written.
            raise ValueError("a string of the call object holds a NUL character")
        return call


class UpdateOnlyFrame(_Inbound):
    """The full shape of an ``update_only`` frame (3.3). Its ``transcript_with_tool_calls``
    copy is skipped unparsed: only turn requests need the woven transcript."""

    interaction_type: Literal["update_only"]
    transcript: list[Utterance]
    turntaking: Literal["agent_turn", "user_turn"] | None = None


class UpdateOnly:
    """A transcript snapshot (3.3), parsed only if someone reads it.

    ``update_only`` frames are the most frequent and the largest Retell sends (the whole
    transcript, twice, with word timings, several times per caller sentence), and nothing
    in a turn depends on them: turn requests carry their own transcript. So a frame that
    starts as an ``update_only`` is not parsed on arrival; :attr:`frame` parses it on first
    access and raises :class:`MalformedFrame` then if it is not valid.
    """

    __slots__ = ("_frame", "_raw")
    interaction_type: Literal["update_only"] = "update_only"

    def __init__(self, raw: str | bytes, frame: UpdateOnlyFrame | None = None) -> None:
        self._raw = raw
        self._frame = frame

    @property
    def frame(self) -> UpdateOnlyFrame:
        if self._frame is None:
            try:
                self._frame = UpdateOnlyFrame.model_validate_json(self._raw)
            except ValidationError as exc:
                raise _malformed(exc) from None
        return self._frame

    @property
    def transcript(self) -> list[Utterance]:
        return self.frame.transcript

    @property
    def turntaking(self) -> Literal["agent_turn", "user_turn"] | None:
        return self.frame.turntaking


class ResponseRequired(_Inbound):
    interaction_type: Literal["response_required"]
    response_id: ResponseId
    transcript: list[Utterance]
    transcript_with_tool_calls: list[TranscriptEntry] | None = None


class ReminderRequired(_Inbound):
    interaction_type: Literal["reminder_required"]
    response_id: ResponseId
    transcript: list[Utterance]
    transcript_with_tool_calls: list[TranscriptEntry] | None = None


class UnknownInbound(BaseModel):
    """A frame whose ``interaction_type`` voiceops does not know. Logged and counted."""

    model_config = ConfigDict(extra="allow", frozen=True)

    interaction_type: str | None = None


Known = Annotated[
    PingPongIn | CallDetails | UpdateOnlyFrame | ResponseRequired | ReminderRequired,
    Field(discriminator="interaction_type"),
]
Inbound = (
    PingPongIn | CallDetails | UpdateOnly | ResponseRequired | ReminderRequired | UnknownInbound
)
TurnRequest = ResponseRequired | ReminderRequired

# A string discriminator lets the JSON parser pick the model from the raw text in one pass
# (a callable one would first build the whole frame as Python objects).
_KNOWN: TypeAdapter[Known] = TypeAdapter(Known)
_UNKNOWN_TAG = frozenset({"union_tag_invalid", "union_tag_not_found"})
# The ``interaction_type`` of an object whose first member it is, in any JSON spacing.
# Only the head is scanned; a frame naming its type later is parsed in full.
_HEAD = re.compile(r'\s*\{\s*"interaction_type"\s*:\s*"([a-z_]{1,32})"')
_HEAD_BYTES = re.compile(_HEAD.pattern.encode())
_TURN_TYPES = frozenset({"response_required", "reminder_required"})


def _head_type(data: str | bytes) -> str | None:
    """The frame's type if its first member names it, else ``None``."""
    if isinstance(data, str):
        found = _HEAD.match(data)
        return None if found is None else found.group(1)
    found_bytes = _HEAD_BYTES.match(data)
    return None if found_bytes is None else found_bytes.group(1).decode()


def parse_inbound(data: str | bytes, *, max_bytes: int) -> Inbound:
    """Parse one text frame from Retell.

    Raises :class:`FrameTooLarge` over ``max_bytes`` and :class:`MalformedFrame` for
    anything that is not a JSON object of a known shape. A turn request counts without its
    word timings, which are most of its bytes and never read: a long call's turns are
    answered as long as their text fits. A JSON object whose ``interaction_type`` is
    missing or unknown becomes :class:`UnknownInbound`. A frame that opens with
    ``{"interaction_type":"update_only"`` (any whitespace) becomes a lazily parsed
    :class:`UpdateOnly`. The message of a ``MalformedFrame`` is short and never contains
    the frame itself.
    """
    size = _utf8_size(data)
    head = _head_type(data)
    turn = head in _TURN_TYPES
    if size > max_bytes:
        request = _turn_request_without_words(data, max_bytes=max_bytes) if turn else None
        if request is None:
            raise FrameTooLarge(f"frame of {size} bytes exceeds the {max_bytes}-byte bound")
        return request
    if head == "update_only":
        # The first key of the object names the frame; nothing else needs reading now.
        return UpdateOnly(data)
    if turn and size >= STRIP_WORDS_FROM:
        quick = _turn_request_without_words(data)
        if quick is not None:
            return quick
    try:
        parsed = _KNOWN.validate_json(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        if first.get("type") in _UNKNOWN_TAG and not first.get("loc"):
            try:
                return UnknownInbound.model_validate_json(data)
            except ValidationError:
                pass
        raise _malformed(exc) from None
    if isinstance(parsed, UpdateOnlyFrame):
        return UpdateOnly(data, parsed)
    return parsed


def _malformed(exc: ValidationError) -> MalformedFrame:
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return MalformedFrame(f"{first.get('type')} at {where or 'frame'}: {first['msg']}")


# --------------------------------------------------------------------------------------
# us -> Retell (section 4)


class _Outbound(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def to_json(self) -> str:
        """Compact JSON, absent optional fields omitted (never ``null``)."""
        return self.model_dump_json(exclude_none=True)


class ConfigBody(_Outbound):
    auto_reconnect: bool | None = None
    call_details: bool | None = None
    transcript_with_tool_calls: bool | None = None


class ConfigOut(_Outbound):
    response_type: Literal["config"] = "config"
    config: ConfigBody


class PingPongOut(_Outbound):
    response_type: Literal["ping_pong"] = "ping_pong"
    timestamp: int


class ResponseOut(_Outbound):
    response_type: Literal["response"] = "response"
    response_id: int
    content: str
    content_complete: bool
    end_call: bool | None = None
    transfer_number: str | None = None
    show_transferee_as_caller: bool | None = None
    no_interruption_allowed: bool | None = None
    digit_to_press: str | None = None


class AgentInterruptOut(_Outbound):
    response_type: Literal["agent_interrupt"] = "agent_interrupt"
    interrupt_id: int
    content: str
    content_complete: bool
    no_interruption_allowed: bool | None = None
    end_call: bool | None = None
    transfer_number: str | None = None
    digit_to_press: str | None = None


class AgentConfig(_Outbound):
    responsiveness: float | None = None
    interruption_sensitivity: float | None = None
    reminder_trigger_ms: int | None = None
    reminder_max_count: int | None = None


class UpdateAgentOut(_Outbound):
    response_type: Literal["update_agent"] = "update_agent"
    agent_config: AgentConfig


class ToolCallInvocationOut(_Outbound):
    response_type: Literal["tool_call_invocation"] = "tool_call_invocation"
    tool_call_id: str
    name: str
    arguments: str


class ToolCallResultOut(_Outbound):
    response_type: Literal["tool_call_result"] = "tool_call_result"
    tool_call_id: str
    content: str
    successful: bool | None = None


class MetadataOut(_Outbound):
    response_type: Literal["metadata"] = "metadata"
    metadata: dict[str, Any]


Outbound = (
    ConfigOut
    | PingPongOut
    | ResponseOut
    | AgentInterruptOut
    | UpdateAgentOut
    | ToolCallInvocationOut
    | ToolCallResultOut
    | MetadataOut
)

_OUTBOUND: TypeAdapter[Outbound] = TypeAdapter(
    Annotated[Outbound, Field(discriminator="response_type")]
)


def parse_outbound(data: str | bytes) -> Outbound:
    """Parse a frame we send (used by the fake Retell peer, the evals and the tests)."""
    return _OUTBOUND.validate_json(data)


STRIP_WORDS_FROM = 8192
"""Turn requests from this many bytes on have their word timings cut out before parsing."""
_WORDS_KEY = re.compile(r',\s*"words"\s*:\s*\[')
_WORDS_KEY_BYTES = re.compile(_WORDS_KEY.pattern.encode())


def _utf8_size(data: str | bytes) -> int:
    if isinstance(data, bytes) or data.isascii():  # isascii is a flag read, not a scan
        return len(data)
    return len(data.encode("utf-8"))


def _turn_request_without_words(
    data: str | bytes, *, max_bytes: int | None = None
) -> TurnRequest | None:
    """Parse ``data``, a frame whose head names a turn request, with every ``"words"``
    array cut out first; ``None`` when the cut frame is over ``max_bytes`` or does not
    parse as a turn request.

    A turn request carries the whole call twice with a timing object per word, and
    skipping those in the JSON parser still reads every number (0.65 to 0.94 ms measured
    for the request of a call seven minutes in). Cutting them out (:func:`_cut_words`)
    takes a fraction of that, and what is left parses in a fraction too
    (``scripts/bench --history-turns``).

    Nothing voiceops reads is inside a ``words`` array, and the cut is exact for arrays of
    word objects. A ``]`` inside a word's text ends the match early, and what is left is
    then not JSON: the string the cut leaves open swallows the next key and leaves its name
    bare. On any failure the caller parses the frame as it came, so an unusual frame costs
    time, never a turn. Only turn requests are cut: a call object may carry a ``words`` key
    of its own in its free-form metadata, which is kept.
    """
    if isinstance(data, str):
        stripped: str | bytes = "".join(_cut_words(data, _WORDS_KEY, "]"))
    else:
        stripped = b"".join(_cut_words(data, _WORDS_KEY_BYTES, b"]"))
    if len(stripped) == len(data):
        return None
    if max_bytes is not None and _utf8_size(stripped) > max_bytes:
        return None
    try:
        parsed = _KNOWN.validate_json(stripped)
    except ValidationError:
        return None
    return parsed if isinstance(parsed, ResponseRequired | ReminderRequired) else None


def _cut_words(data: AnyStr, key: re.Pattern[AnyStr], close: AnyStr) -> list[AnyStr]:
    """``data`` in pieces, without each ``"words"`` member: from the comma before its key
    to the first ``]`` after its ``[``.

    One pass: every search starts where the last cut ended, so the work is linear in the
    frame whatever it holds (a single regular expression that scans to the closing bracket
    would rescan the rest of the frame from every unclosed ``"words":[``).
    """
    pieces: list[AnyStr] = []
    at = 0
    while (found := key.search(data, at)) is not None:
        end = data.find(close, found.end())
        if end < 0:
            break
        pieces.append(data[at : found.start()])
        at = end + 1
    pieces.append(data[at:])
    return pieces
