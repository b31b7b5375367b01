"""Logging set-up: one line per record, every line carries the call id and response id.

Records logged without a call context get ``-`` for both, so a single format string serves
the whole process. Long values are never logged whole: callers truncate with :func:`clip`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s call=%(call_id)s rid=%(response_id)s %(message)s"


class _CallDefaults(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "call_id"):
            record.call_id = "-"
        if not hasattr(record, "response_id"):
            record.response_id = "-"
        return True


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(_CallDefaults())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


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
