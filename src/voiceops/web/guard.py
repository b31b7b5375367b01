"""What the edge lets in: call ids and operator requests.

* **Call ids** (:func:`call_id_refusal`): 1 to 128 characters of ``[A-Za-z0-9_-]``
  (``retell.messages.is_valid_call_id``). Anything else is refused where it arrives: the
  socket is closed with 1008, an HTTP route answers 400. It is never cut or escaped.
* **Operator speech** (:class:`OperatorSpeech`): the body of ``POST
  /calls/{call_id}/interrupt``, strictly typed: 400 when it is not JSON, 422 when it is
  not that object.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from voiceops.logs import clip, printable
from voiceops.retell.messages import CALL_ID_MAX_CHARS, is_valid_call_id


def call_id_refusal(call_id: str) -> str | None:
    """Why ``call_id`` is refused (safe to log: escaped and clipped), or ``None``."""
    if is_valid_call_id(call_id):
        return None
    if not call_id:
        return "no call id"
    return (
        f"call id is not 1-{CALL_ID_MAX_CHARS} characters of A-Z a-z 0-9 _ - "
        f"({len(call_id)} characters: {clip(printable(call_id), 40)})"
    )


class OperatorSpeech(BaseModel):
    """``POST /calls/{call_id}/interrupt``: ``{"text": "...", "end_call": false}``.

    Strict: ``end_call`` is a JSON boolean (the string ``"false"`` is refused, not read as
    true), ``text`` a non-blank string, and no other member is allowed (a misspelt
    ``end_call`` is refused rather than ignored).
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    end_call: bool = False


class RequestRefused(Exception):
    """An HTTP request the edge refuses: answer ``status`` with ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def read_operator_speech(body: bytes) -> OperatorSpeech:
    """The operator's request; raises :class:`RequestRefused`: 400 when the body is not
    JSON, 422 when it is not :class:`OperatorSpeech` (the message names the first field
    at fault, never its value)."""
    try:
        return OperatorSpeech.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        if first["type"] == "json_invalid":
            raise RequestRefused(400, 'expected {"text": "...", "end_call": false}') from None
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise RequestRefused(422, f"{where}: {first['msg']}") from None
