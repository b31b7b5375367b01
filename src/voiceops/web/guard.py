"""What the edge lets in: call ids.

* **Call ids** (:func:`call_id_refusal`): 1 to 128 characters of ``[A-Za-z0-9_-]``
  (``retell.messages.is_valid_call_id``). Anything else is refused where it arrives: the
  socket is closed with 1008, an HTTP route answers 400. It is never cut or escaped.
"""

from __future__ import annotations

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
