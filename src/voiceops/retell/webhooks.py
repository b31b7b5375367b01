"""Retell's HTTP webhooks: the signature check, typed payloads and retry dedupe keys.

Implements sections 8 (events and delivery contract) and 9 (``x-retell-signature``) of
``reference/retell-protocol.md``. Pure functions only; the route lives in
``web/webhook.py`` and the storage in ``store/webhooks.py`` and ``store/calls.py``.

Signature (section 9): ``x-retell-signature: v=<ms>,d=<64 lowercase hex>`` where the digest
is HMAC-SHA256, keyed by the Retell API key, over the raw body bytes immediately followed
by the timestamp digits. The timestamp must be within ``tolerance_ms`` of now, in either
direction. Verification always runs on the raw bytes, never on re-serialised JSON.

Payloads are parsed only after the signature holds, and then bounded like every inbound
value: JSON nested deeper than :data:`MAX_DEPTH` levels, a call id that is not 1 to 128
characters of ``[A-Za-z0-9_-]``, and a stored number out of its range
(``retell.messages.call_object_problem``) are refused as :class:`PayloadError` (the route
answers 400).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pydantic_core
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from voiceops.core.caller import zone_for_number
from voiceops.core.errors import PayloadError, SignatureError
from voiceops.core.profile import AgentProfile
from voiceops.retell.messages import call_object_problem

SIGNATURE_HEADER = "x-retell-signature"
DEFAULT_TOLERANCE_MS = 300_000
# Python SDK >= 5.57.2: a full match, lowercase hex only (section 9, check 1). The digit
# count is bounded so that a hostile header cannot make us parse a huge integer.
_SIGNATURE = re.compile(r"v=(\d{1,16}),d=([0-9a-f]{64})")

LIFECYCLE_EVENTS = frozenset({"call_started", "call_ended", "call_analyzed"})
TRANSFER_EVENTS = frozenset(
    {"transfer_started", "transfer_bridged", "transfer_cancelled", "transfer_ended"}
)
TRANSCRIPT_EVENT = "transcript_updated"
CALL_EVENTS = LIFECYCLE_EVENTS | TRANSFER_EVENTS | {TRANSCRIPT_EVENT}
_MAX_KEY = 512
MAX_DEPTH = 64
"""Deepest nesting of a webhook body, counting the body object as level 1. Retell's call
objects nest a handful of levels (the free-form ``metadata`` a few more)."""


def _digest(raw_body: bytes, api_key: str, timestamp: str) -> str:
    mac = hmac.new(api_key.encode("utf-8"), raw_body + timestamp.encode("ascii"), hashlib.sha256)
    return mac.hexdigest()


def sign(raw_body: bytes, api_key: str, timestamp_ms: int) -> str:
    """The ``x-retell-signature`` value Retell would send for ``raw_body`` at that time."""
    if timestamp_ms < 0:
        raise ValueError("timestamp must not be negative")
    timestamp = str(timestamp_ms)
    return f"v={timestamp},d={_digest(raw_body, api_key, timestamp)}"


class Signature(NamedTuple):
    timestamp: str
    """The digits after ``v=`` exactly as sent (they are part of the signed message)."""
    digest: str

    @property
    def timestamp_ms(self) -> int:
        return int(self.timestamp)


def parse_signature(header: str | None) -> Signature:
    """The parts of a well-formed header; raises :class:`SignatureError` otherwise."""
    if header is None or not header:
        raise SignatureError("missing x-retell-signature header")
    match = _SIGNATURE.fullmatch(header)
    if match is None:
        raise SignatureError("malformed x-retell-signature (expected v=<ms>,d=<64 hex>)")
    return Signature(match.group(1), match.group(2))


def verify_signature(
    raw_body: bytes,
    header: str | None,
    api_key: str,
    *,
    now_ms: int,
    tolerance_ms: int = DEFAULT_TOLERANCE_MS,
) -> None:
    """Check ``header`` against ``raw_body`` signed with ``api_key``.

    Raises :class:`SignatureError` when the header is missing or malformed, its timestamp
    is outside ``now_ms`` +- ``tolerance_ms``, or the digest does not match (compared in
    constant time). The message says which, and never contains the key or the body.
    """
    signature = parse_signature(header)
    if abs(now_ms - signature.timestamp_ms) > tolerance_ms:
        raise SignatureError("stale x-retell-signature: timestamp outside the window")
    expected = _digest(raw_body, api_key, signature.timestamp)
    if not hmac.compare_digest(expected, signature.digest):
        raise SignatureError("x-retell-signature does not match the body")


# --------------------------------------------------------------------------------------
# payloads (section 8.2)


class WebhookPayload(BaseModel):
    """A call webhook: ``{"event": ..., "call": {...}}`` plus, for transfer events, the
    top-level ``transfer_destination`` and ``transfer_option``. Unknown fields are kept."""

    model_config = ConfigDict(extra="allow", frozen=True)

    event: str
    call: dict[str, Any]
    transfer_destination: str | dict[str, Any] | None = None
    transfer_option: dict[str, Any] | None = None
    event_timestamp: int | None = None

    @field_validator("call")
    @classmethod
    def _has_call_id(cls, value: dict[str, Any]) -> dict[str, Any]:
        call_id = value.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            raise ValueError("call object without a call_id")
        problem = call_object_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @property
    def call_id(self) -> str:
        return str(self.call["call_id"])

    @property
    def snapshot_size(self) -> int:
        """Entries in the call's transcript (``transcript_updated`` ordering: newer
        snapshots of one call are never shorter than older ones)."""
        for field in ("transcript_with_tool_calls", "transcript_object"):
            entries = self.call.get(field)
            if isinstance(entries, list):
                return len(entries)
        return 0


class InboundCall(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    from_number: str | None = None
    to_number: str | None = None
    agent_id: str | None = None
    agent_version: int | None = None


class InboundPayload(BaseModel):
    """The inbound-call webhook (section 8.4): no call object yet, no call id."""

    model_config = ConfigDict(extra="allow", frozen=True)

    event: str
    call_inbound: InboundCall


def _json_object(raw_body: bytes) -> dict[str, Any]:
    """The body as a JSON object no deeper than :data:`MAX_DEPTH`.

    The parser (pydantic-core's) stops by itself a few hundred levels down, where the
    standard library's would raise ``RecursionError`` near a thousand; the depth is then
    checked without recursion.
    """
    try:
        data = pydantic_core.from_json(raw_body)
    except ValueError:
        raise PayloadError("body is not JSON (or is nested too deep)") from None
    if not isinstance(data, dict):
        raise PayloadError("body is not a JSON object")
    if _depth_exceeds(data, MAX_DEPTH):
        raise PayloadError(f"body is nested deeper than {MAX_DEPTH} levels")
    return data


def _depth_exceeds(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """Whether the containers in ``value`` nest more than ``limit`` levels (``value``
    itself being level 1): one pass over the containers, no recursion."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _first_error(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where or 'body'}: {first['msg']}"


def parse_payload(raw_body: bytes) -> WebhookPayload:
    """Parse a call webhook; raises :class:`PayloadError` (short message, no body)."""
    try:
        return WebhookPayload.model_validate(_json_object(raw_body))
    except ValidationError as exc:
        raise PayloadError(f"not a call webhook: {_first_error(exc)}") from None


def parse_inbound(raw_body: bytes) -> InboundPayload:
    """Parse the inbound-call webhook; raises :class:`PayloadError`."""
    try:
        payload = InboundPayload.model_validate(_json_object(raw_body))
    except ValidationError as exc:
        raise PayloadError(f"not an inbound-call webhook: {_first_error(exc)}") from None
    if payload.event != "call_inbound":
        raise PayloadError(f"unexpected event {payload.event!r} on the inbound-call webhook")
    return payload


def _destination(value: object) -> str:
    if isinstance(value, Mapping):
        number = value.get("number")
        return number if isinstance(number, str) else json.dumps(value, sort_keys=True)
    return "" if value is None else str(value)


def dedupe_key(payload: WebhookPayload) -> str:
    """The identity of a delivery, shared by all of its retries (section 8.2).

    Lifecycle events (and unknown ones): ``event:call_id``. Transfer events:
    ``event:call_id:start_timestamp:destination``. ``transcript_updated``: one key per call;
    the store keeps the largest snapshot under it (latest wins).
    """
    parts = [payload.event, payload.call_id]
    if payload.event in TRANSFER_EVENTS:
        parts.append(str(payload.call.get("start_timestamp", "")))
        parts.append(_destination(payload.transfer_destination))
    key = ":".join(parts)
    if len(key) <= _MAX_KEY:
        return key
    # Absurdly long ids still get a stable, unique, bounded key.
    return f"{payload.event}:sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


# --------------------------------------------------------------------------------------
# the inbound-call answer (section 8.4)


def caller_zone(from_number: str | None, profile: AgentProfile) -> str:
    """The caller's IANA zone from their number, by the same rule as every turn's caller
    clock (:func:`~voiceops.core.caller.zone_for_number`), else the business zone."""
    zone = zone_for_number(from_number, profile.zone)
    return zone.key if zone is not None else profile.business_zone


def inbound_dynamic_variables(
    profile: AgentProfile, payload: InboundPayload, now_utc: datetime
) -> dict[str, str]:
    """Dynamic variables for the agent's prompt, all strings (Retell's type)."""
    zone_name = caller_zone(payload.call_inbound.from_number, profile)
    local = now_utc.astimezone(ZoneInfo(zone_name))
    variables = {
        "business_name": profile.business_name,
        "agent_name": profile.agent_name,
        "business_timezone": profile.business_zone,
        "caller_timezone": zone_name,
        "caller_local_time": local.strftime("%H:%M"),
        "caller_local_date": local.date().isoformat(),
        "caller_local_weekday": local.strftime("%A"),
    }
    if profile.business_phone:
        variables["business_phone"] = profile.business_phone
    if profile.address:
        variables["business_address"] = profile.address
    return variables


def inbound_response(
    profile: AgentProfile, payload: InboundPayload, now_utc: datetime
) -> dict[str, Any]:
    """The body of our answer to ``call_inbound``."""
    return {
        "call_inbound": {"dynamic_variables": inbound_dynamic_variables(profile, payload, now_utc)}
    }
