"""Logging set-up: one line per record, every line carries the call id and response id.

Records logged without a call context get ``-`` for both, so a single format string serves
the whole process. Long values are never logged whole: callers truncate with :func:`clip`.

Every record that reaches the process's handler is sanitised first (:class:`Sanitise`):

* **one line per record**: line breaks, NUL and the other control characters in the
  message, the call id and the response id are written as escapes (``\\n``, ``\\x00``), so
  caller-controlled text cannot forge a log line; a traceback still follows on lines of
  its own;
* **no secrets**: whatever a path or query shows as the WebSocket secret, right or wrong,
  is masked: the path segments before the call id (``/llm-websocket/***/call_…``) and
  ``secret=***``; and the configured secret itself (registered with :func:`mask_value`)
  wherever it appears. The server's access lines (uvicorn's ``"WebSocket
  /llm-websocket/…" [accepted]``) carry the full path, so the filter also sits on
  uvicorn's loggers, where it applies to every handler.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import unquote_plus

FORMAT = "%(asctime)s %(levelname)s %(name)s call=%(call_id)s rid=%(response_id)s %(message)s"
SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")
"""Loggers whose lines carry request paths (the WebSocket secret may be in them)."""
MASK = "***"

# Every segment between /llm-websocket/ and the last one (the call id) is a secret.
_WS_PATH_SECRET = re.compile(r"(/llm-websocket/)((?:[^/?#\s\"']+/)+)")
_QUERY_PAIR = re.compile(r"([?&])([^=&#\s\"']+)=([^&#\s\"']*)")
_ESCAPES = {
    **{code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, 0x85)},
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def printable(text: str) -> str:
    """``text`` with line breaks, NUL and other control characters written as escapes."""
    return text if text.isprintable() else text.translate(_ESCAPES)


_VALUES: set[str] = set()


def mask_value(value: str) -> None:
    """Mask ``value`` (a secret) wherever a log line would show it, from now on."""
    if value:
        _VALUES.add(value)


def _mask_query_pair(match: re.Match[str]) -> str:
    if unquote_plus(match.group(2)).strip().lower() == "secret":
        return f"{match.group(1)}{match.group(2)}={MASK}"
    return match.group(0)


def mask_secrets(text: str) -> str:
    """``text`` with the WebSocket secret masked in any path or query it shows, and every
    value given to :func:`mask_value` masked wherever it is."""
    for value in _VALUES:
        if value in text:
            text = text.replace(value, MASK)
    if "llm-websocket/" in text:
        text = _WS_PATH_SECRET.sub(rf"\g<1>{MASK}/", text)
    if "=" in text and ("?" in text or "&" in text):
        text = _QUERY_PAIR.sub(_mask_query_pair, text)
    return text


class Sanitise(logging.Filter):
    """Masks secrets, escapes control characters and fills in the call context of a record
    (see the module docstring). The record's message is formatted once, here."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = printable(mask_secrets(message))
        record.args = None
        record.call_id = printable(str(getattr(record, "call_id", "-")))
        record.response_id = printable(str(getattr(record, "response_id", "-")))
        return True


def setup_logging(level: str = "info") -> None:
    sanitise = Sanitise()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(sanitise)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, Sanitise) for f in logger.filters):
            logger.addFilter(sanitise)


class CallLogger(logging.LoggerAdapter[logging.Logger]):
    """The one way to log about a call: stamps ``call_id`` and, within a turn,
    ``response_id`` on every record of ``logger``."""

    def __init__(
        self, logger: logging.Logger, call_id: str, response_id: int | None = None
    ) -> None:
        super().__init__(
            logger, {"call_id": call_id, "response_id": "-" if response_id is None else response_id}
        )

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        extra = dict(self.extra or {})
        extra.update(kwargs.get("extra") or {})
        kwargs["extra"] = extra
        return msg, kwargs


def clip(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, for log lines."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
