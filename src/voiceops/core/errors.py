"""The exception tree of voiceops.

::

    VoiceOpsError
    ├── ConfigError              settings or profile that cannot run
    ├── ProtocolError            a Retell frame we cannot accept
    │   ├── FrameTooLarge
    │   ├── MalformedFrame       not JSON, not an object, wrong field types
    │   └── InvalidState         an illegal call-state transition (names expected vs actual)
    ├── BrainError               a brain could not produce a reply
    │   ├── LLMError             provider failure; ``kind`` says which (timeout, http_5xx, ...)
    │   └── BrainStalled         nothing speakable before the hard deadline
    ├── ToolError                bad tool arguments or a refused side effect (told to the model)
    ├── WebhookError
    │   ├── SignatureError       missing, malformed, stale or wrong ``x-retell-signature``
    │   └── PayloadError         body not JSON / not a webhook
    ├── RetellApiError           a request to Retell's HTTP API failed (``status`` if any)
    └── StorageError             the database refused or is away
        └── SlotTaken            a booking overlaps a confirmed one (refused atomically)

Errors are mapped to the wire only at the edge: close codes in ``web/ws.py``, HTTP statuses
in the routes. The caller never hears an exception text.
"""

from __future__ import annotations


class VoiceOpsError(Exception):
    """Base of every error raised on purpose by voiceops."""


class ConfigError(VoiceOpsError):
    pass


class ProtocolError(VoiceOpsError):
    pass


class FrameTooLarge(ProtocolError):
    pass


class MalformedFrame(ProtocolError):
    pass


class InvalidState(ProtocolError):
    def __init__(self, action: str, expected: object, actual: object) -> None:
        super().__init__(f"cannot {action}: expected state {expected}, got {actual}")
        self.expected = expected
        self.actual = actual


class BrainError(VoiceOpsError):
    pass


class LLMError(BrainError):
    """A provider failure. ``kind`` is a short label used in metrics and events."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


class BrainStalled(BrainError):
    pass


class ToolError(VoiceOpsError):
    pass


class WebhookError(VoiceOpsError):
    pass


class SignatureError(WebhookError):
    pass


class PayloadError(WebhookError):
    pass


class RetellApiError(VoiceOpsError):
    """A request to Retell's HTTP API failed; ``status`` is the HTTP status when there was
    one. The message names what was being done and never carries the API key."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class StorageError(VoiceOpsError):
    pass


class SlotTaken(StorageError):
    """The booking repository refused a confirmed booking whose time overlaps another
    confirmed one: two callers raced for one slot and this one lost."""
