"""What the edge lets in: call ids, operator requests, and bad frames per socket.

* **Call ids** (:func:`call_id_refusal`): 1 to 128 characters of ``[A-Za-z0-9_-]``
  (``retell.messages.is_valid_call_id``). Anything else is refused where it arrives: the
  socket is closed with 1008, an HTTP route answers 400. It is never cut or escaped.
* **Operator speech** (:class:`OperatorSpeech`): the body of ``POST
  /calls/{call_id}/interrupt``, strictly typed: 400 when it is not JSON, 422 when it is
  not that object.
* **Bad frames** (:class:`FrameGuard`, one per socket): a frame that is not the protocol
  (not JSON, binary, ill-typed or out of bounds, over the size bound, a request id that
  went back) is counted in the metrics every time, but logged and recorded as a call event
  only for the first :data:`REPORT_FIRST` of a socket and then at most once per window,
  with the number held back since. More than ``limit`` of them within ``window_s`` seconds
  (``VOICEOPS_WS_BAD_FRAME_LIMIT`` / ``_WINDOW_S``, 50 in 10 s by default) and the socket is
  closed with 1008. An unknown ``interaction_type`` is reported the same way but never
  closes a call: Retell may add frame types.
* **Fair reading**: the read loop yields to the event loop every :data:`YIELD_EVERY`
  frames. Frames that arrived together are handed over without the loop running anything
  else in between, so without this one socket's burst holds every other call.

Time comes from the injected :class:`~voiceops.core.clock.Clock`.
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from voiceops.core.clock import Clock
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


REPORT_FIRST = 5
"""Bad frames of a socket logged and recorded one by one before reports are rate-limited."""
YIELD_EVERY = 32
"""Inbound frames a socket's reader handles before it lets the event loop run others."""
UNCOUNTED = frozenset({"unknown_interaction_type"})
"""Kinds of bad frame that are reported but do not count against the budget."""


@dataclass(frozen=True, slots=True)
class Report:
    """Log and record this bad frame; ``held_back`` more came since the last report."""

    held_back: int


class FrameGuard:
    """One socket's account of its inbound frames (see the module docstring)."""

    def __init__(
        self,
        clock: Clock,
        *,
        limit: int,
        window_s: float,
        report_first: int = REPORT_FIRST,
    ) -> None:
        if limit < 0 or window_s <= 0:
            raise ValueError("a bad-frame budget needs limit >= 0 and window_s > 0")
        self._clock = clock
        self.limit = limit
        self.window_s = window_s
        self._report_first = report_first
        # The times of the newest limit + 1 counted bad frames: the budget is exceeded when
        # the oldest of them is within the window.
        self._recent: collections.deque[float] = collections.deque(maxlen=limit + 1)
        self._reported = 0
        self._held_back = 0
        self._last_report_at = -math.inf
        self._unyielded = 0
        self.kinds: collections.Counter[str] = collections.Counter()
        self.exceeded = False

    @property
    def bad(self) -> int:
        """Bad frames of this socket so far."""
        return sum(self.kinds.values())

    def received(self) -> bool:
        """Count one inbound frame; ``True`` every :data:`YIELD_EVERY` frames, when the
        reader should yield to the event loop."""
        self._unyielded += 1
        if self._unyielded < YIELD_EVERY:
            return False
        self._unyielded = 0
        return True

    def bad_frame(self, kind: str) -> Report | None:
        """Account for one bad frame; a :class:`Report` when it is to be logged and
        recorded, ``None`` when it is only counted. Sets :attr:`exceeded` once the budget
        is spent."""
        now = self._clock.monotonic()
        self.kinds[kind] += 1
        if kind not in UNCOUNTED:
            self._recent.append(now)
            if len(self._recent) > self.limit and now - self._recent[0] <= self.window_s:
                self.exceeded = True
        if self._reported >= self._report_first and now - self._last_report_at < self.window_s:
            self._held_back += 1
            return None
        report = Report(self._held_back)
        self._reported += 1
        self._held_back = 0
        self._last_report_at = now
        return report

    def summary(self) -> str:
        """The bad frames so far by kind, for the closing log line."""
        kinds = ", ".join(f"{kind} {n}" for kind, n in self.kinds.most_common())
        return f"{self.bad} bad frames ({kinds})"
