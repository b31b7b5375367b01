"""What every tool of one turn shares: the call, the clocks, the repository, the event log.

:class:`ToolScope` is built once per turn by the :class:`~voiceops.tools.toolbox.Toolbox` and
handed to each tool function (``tools/appointments.py``, ``tools/info.py``,
``tools/handoff.py``). Tool functions are plain module functions over it, so a turn's tool
box holds no bound methods and frees without the cyclic collector. The helpers below are the
rules several tools keep alike: idempotency keys, speakable ids, phone numbers in E.164,
caller wall times as instants, and masking for the event log.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from voiceops.core.callevents import CallEvent
from voiceops.core.phone import read_phone, region_of
from voiceops.logs import CallLogger
from voiceops.masking import mask_phone
from voiceops.tools.timefmt import NonexistentLocalTime, localize

if TYPE_CHECKING:
    from voiceops.core.caller import CallerClock
    from voiceops.core.callevents import EventSink
    from voiceops.core.clock import Clock
    from voiceops.core.ports import BookingRepo
    from voiceops.core.profile import AgentProfile, Service

_PHONE_RUN = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_BOOKING_ID = re.compile(r"B([A-Z2-7]{8})")


@dataclass(frozen=True, slots=True)
class ToolScope:
    """One turn of one call, as its tools see it.

    ``clock`` is the caller's clock (its ``now_utc`` is the turn's start, against which
    every rule is judged); ``app_clock`` is the app's one clock, read at each commit.
    ``is_current`` is checked right before any commit.
    """

    call_id: str
    response_id: int
    profile: AgentProfile
    clock: CallerClock
    app_clock: Clock
    repo: BookingRepo
    caller_phone: str | None
    is_current: Callable[[], bool]
    events: EventSink
    log: CallLogger

    @property
    def now(self) -> datetime:
        """The turn's start (UTC): the instant every rule is judged at."""
        return self.clock.now_utc

    def emit(self, event_type: str, payload: dict[str, Any], latency_ms: int | None = None) -> None:
        self.events.emit(
            CallEvent(
                call_id=self.call_id,
                event_type=event_type,
                response_id=self.response_id,
                latency_ms=latency_ms,
                payload=payload,
                created_at=self.app_clock.now(),
            )
        )

    def service(self, name: str) -> Service | None:
        return self.profile.service(name)

    def unknown_service(self, name: str) -> str:
        offered = ", ".join(s.name for s in self.profile.services) or "none"
        return f"unknown service {name!r}; services offered: {offered}"

    def phone(self, value: str | None) -> tuple[str | None, str | None]:
        """(E.164 phone, error): ``value`` or the caller's number, normalised."""
        raw = value if value else self.caller_phone
        if not raw:
            return None, None
        phone = read_phone(raw, region_of(self.profile.business_phone))
        if phone is None:
            return None, f"{raw!r} is not a phone number; ask for it with the country code"
        if not phone.possible:
            return None, f"{raw!r} is not a possible phone number; ask the caller to repeat it"
        return phone.e164, None

    def caller_instant(self, wall: datetime) -> tuple[datetime | None, str | None]:
        """(instant in UTC, error): a caller-local wall time; DST-skipped times are errors."""
        try:
            return localize(wall, self.clock.zone).astimezone(UTC), None
        except NonexistentLocalTime as exc:
            return None, str(exc)


def idempotency_key(call_id: str, tool: str, arguments: Mapping[str, Any]) -> str:
    """sha256 of call id, tool name and the normalised arguments (sorted keys, strings
    trimmed and case-folded). Callers pass canonical values (UTC start, E.164 phone)."""

    def norm(value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().casefold()
        if isinstance(value, Mapping):
            return {str(k): norm(v) for k, v in value.items()}
        return value

    body = json.dumps(norm(arguments), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{call_id}\x1f{tool}\x1f{body}".encode()).hexdigest()


def canonical_id(value: str) -> str:
    """``b-zwa3 sila`` -> ``B-ZWA3SILA``: a booking id as a caller spells it back, when it
    has the shape :func:`short_id` gives; anything else is looked up as it is."""
    match = _BOOKING_ID.fullmatch(re.sub(r"[\s-]", "", value).upper())
    return f"B-{match.group(1)}" if match else value


def short_id(prefix: str, key: str) -> str:
    """A speakable id derived from the idempotency key, so a retry yields the same id."""
    digest = base64.b32encode(bytes.fromhex(key)[:10]).decode("ascii")
    return f"{prefix}-{digest[:8]}"


def masked(phone: str | None) -> str | None:
    """A phone number fit for the event log (``None`` stays ``None``)."""
    return mask_phone(phone) if phone else None


def mask_text(text: str) -> str:
    """Mask anything in free text that looks like a phone number (7+ digits), not dates."""

    def mask(match: re.Match[str]) -> str:
        run = match.group(0)
        if _ISO_DATE.fullmatch(run) or sum(ch.isdigit() for ch in run) < 7:
            return run
        return mask_phone(run)

    return _PHONE_RUN.sub(mask, text)
