"""The caller-local clock of a turn: which IANA zone the caller is in, and what time it is there.

Zone resolution order (DESIGN.md, "Time is the caller's"): call metadata or dynamic
variables (``caller_timezone`` / ``timezone`` / ``time_zone``), else the region of the
caller's phone number (``phonenumbers``), else the business zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from phonenumbers import timezone as tz_for_number

from voiceops.core.phone import MAX_PHONE_CHARS, possible_phone, read_phone
from voiceops.core.profile import AgentProfile
from voiceops.core.transcript import CallObject

ZoneSource = Literal["metadata", "dynamic_variables", "phone_number", "business"]


@dataclass(frozen=True, slots=True)
class CallerClock:
    zone: ZoneInfo
    source: ZoneSource
    now_utc: datetime
    business_zone: ZoneInfo

    @property
    def now_local(self) -> datetime:
        return self.now_utc.astimezone(self.zone)

    @property
    def now_business(self) -> datetime:
        return self.now_utc.astimezone(self.business_zone)

    @property
    def zones_differ(self) -> bool:
        """True when the caller's wall clock differs from the business's right now."""
        return self.now_local.utcoffset() != self.now_business.utcoffset()


_ZONE_KEYS = ("caller_timezone", "timezone", "time_zone")
_MAX_ZONE_LEN = 64
"""Longer than any IANA name; anything longer is garbage and is not even looked up."""


_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}")
"""The shape of IANA names (``UTC``, ``Europe/London``, ``America/Argentina/Buenos_Aires``);
it also keeps paths (``..``, absolute) and data files (``zone.tab``) away from ``ZoneInfo``."""
_NOT_IANA = frozenset({"localtime", "posixrules", "Factory"})
"""Files a system zone directory may hold that name no place (``localtime`` is the host's)."""
_NOT_IANA_DIRS = ("posix/", "right/")


@lru_cache(maxsize=512)
def _zone_by_name(name: str) -> ZoneInfo | None:
    # Cached, misses included: a bad value in call metadata comes back on every turn.
    if name in _NOT_IANA or name.startswith(_NOT_IANA_DIRS):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _zone_named(value: object) -> ZoneInfo | None:
    """``value`` as a zone when it is a valid IANA name, else ``None`` (never raises)."""
    if not isinstance(value, str):
        return None
    name = value.strip()
    if len(name) > _MAX_ZONE_LEN or not _ZONE_NAME.fullmatch(name):
        return None
    return _zone_by_name(name)


def _zone_from_mapping(mapping: Mapping[str, Any] | None) -> ZoneInfo | None:
    if not isinstance(mapping, Mapping):
        return None
    for key in _ZONE_KEYS:
        zone = _zone_named(mapping.get(key))
        if zone is not None:
            return zone
    return None


def caller_number(call: CallObject) -> str | None:
    """The caller's side of the call: ``to_number`` when we dialled out, else ``from_number``.

    ``None`` when that is not a possible phone number: a withheld caller ID arrives as
    ``anonymous``, a web call has none, and neither may be booked under or called back.
    """
    raw = call.to_number if (call.direction or "").lower() == "outbound" else call.from_number
    return raw if possible_phone(raw) is not None else None


def zone_for_number(number: str | None, business_zone: ZoneInfo) -> ZoneInfo | None:
    """The zone of a phone number's region, or ``None`` when it tells nothing.

    One zone: that zone. Several (a country-wide mobile or toll-free range): the business
    zone when it is among them, since such a caller is most likely local; otherwise the
    first in ``phonenumbers``' order, which is sorted and fixed per library release, so a
    caller keeps the same zone across turns, reconnects and processes instead of a choice
    that could vary. Unparseable or invalid numbers give ``None``.
    """
    if not number or len(number) > MAX_PHONE_CHARS:
        return None
    return _zone_for_number(number, business_zone)


@lru_cache(maxsize=4096)
def _zone_for_number(number: str, business_zone: ZoneInfo) -> ZoneInfo | None:
    # Cached: reading the number and the prefix lookup cost hundreds of microseconds,
    # and a call asks again on every turn.
    phone = read_phone(number)
    if phone is None or not phone.valid:
        return None
    names = [n for n in tz_for_number.time_zones_for_number(phone.number) if n != "Etc/Unknown"]
    zones = [z for z in (_zone_named(n) for n in names) if z is not None]
    if not zones:
        return None
    if len(zones) == 1:
        return zones[0]
    if any(z.key == business_zone.key for z in zones):
        return business_zone
    return zones[0]


def resolve_caller_clock(
    call: CallObject | None, profile: AgentProfile, now_utc: datetime
) -> CallerClock:
    """The caller-local clock for a turn at ``now_utc`` (aware; naive raises ValueError).

    Order: ``call.metadata`` keys ``caller_timezone`` / ``timezone`` / ``time_zone``, then
    the same keys in ``retell_llm_dynamic_variables``, then the caller's phone number
    (:func:`zone_for_number`), then the business zone. Invalid or unknown values fall
    through to the next source; nothing the call carries can make this raise.
    """
    if now_utc.tzinfo is None:
        raise ValueError("resolve_caller_clock needs an aware now_utc")
    now_utc = now_utc.astimezone(UTC)
    business = profile.zone

    def clock(zone: ZoneInfo, source: ZoneSource) -> CallerClock:
        return CallerClock(zone=zone, source=source, now_utc=now_utc, business_zone=business)

    if call is None:
        return clock(business, "business")
    zone = _zone_from_mapping(call.metadata)
    if zone is not None:
        return clock(zone, "metadata")
    zone = _zone_from_mapping(call.retell_llm_dynamic_variables)
    if zone is not None:
        return clock(zone, "dynamic_variables")
    number = caller_number(call)
    zone = zone_for_number(number if isinstance(number, str) else None, business)
    if zone is not None:
        return clock(zone, "phone_number")
    return clock(business, "business")
