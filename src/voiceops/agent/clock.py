"""The caller-local clock of a turn: which IANA zone the caller is in, and what time it is there.

Zone resolution order (DESIGN.md, "Time is the caller's"): call metadata or dynamic
variables (``caller_timezone`` / ``timezone`` / ``time_zone``), else the region of the
caller's phone number (``phonenumbers``), else the business zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

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
