"""The information tools: prices and durations from the catalogue, and the opening hours.

Both answer with a ``spoken`` sentence ready to say, in the caller's time, so neither brain
ever composes a price or an hour itself. (Questions the profile's FAQ answers need no tool:
the flow brain reads the FAQ directly, and the LLM has it in its prompt.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voiceops.core.ports import ToolStatus
from voiceops.core.profile import WEEKDAYS
from voiceops.tools.booking import is_open_at, next_opening, spoken_hours_on, spoken_hours_week
from voiceops.tools.results import OpeningHours, ServiceInfo, ServiceView
from voiceops.tools.timefmt import (
    parse_date,
    spoken_datetime,
    spoken_duration,
    spoken_price,
    zone_place,
)

if TYPE_CHECKING:
    from voiceops.core.profile import Service
    from voiceops.tools.schemas import OpeningHoursArgs, ServiceInfoArgs
    from voiceops.tools.scope import ToolScope


def _service_view(service: Service) -> ServiceView:
    article = "An" if service.name[:1].lower() in "aeiou" else "A"
    cost = "is free" if service.price == 0 else f"costs {spoken_price(service.price)}"
    return ServiceView(
        name=service.name,
        duration_min=service.duration_min,
        price=str(service.price),
        spoken=f"{article} {service.name} takes {spoken_duration(service.duration_min)}"
        f" and {cost}.",
    )


async def get_service_info(scope: ToolScope, args: ServiceInfoArgs) -> ServiceInfo:
    everything = [_service_view(s) for s in scope.profile.services]
    if not args.service:
        return ServiceInfo(status=ToolStatus.OK, services=everything)
    service = scope.service(args.service)
    if service is None:
        return ServiceInfo(
            status=ToolStatus.UNKNOWN_SERVICE,
            error=scope.unknown_service(args.service),
            services=everything,
        )
    return ServiceInfo(status=ToolStatus.OK, services=[_service_view(service)])


async def get_opening_hours(scope: ToolScope, args: OpeningHoursArgs) -> OpeningHours:
    profile, clock, now = scope.profile, scope.clock, scope.now
    days = {
        key: [(iv.start.strftime("%H:%M"), iv.end.strftime("%H:%M")) for iv in intervals]
        for key, intervals in ((k, profile.opening_hours.get(k, [])) for k in WEEKDAYS)
    }
    open_now = is_open_at(profile, now)
    zone_note = f" That's {zone_place(clock.business_zone)} time." if clock.zones_differ else ""
    reopens = None if open_now else next_opening(profile, now)
    if args.date:
        # The caller names a calendar day; the business keeps the hours of that same day.
        spoken = spoken_hours_on(profile, parse_date(args.date)) + zone_note
    elif open_now:
        spoken = spoken_hours_week(profile) + zone_note + " We're open right now."
    else:
        spoken = spoken_hours_week(profile) + zone_note + " We're closed right now."
        if reopens is not None:
            spoken += f" We open again on {spoken_datetime(reopens, clock)}."
    today_business = clock.now_business.date()
    return OpeningHours(
        status=ToolStatus.OK,
        open_now=open_now,
        spoken=spoken,
        days=days,
        closed_dates=sorted(d for d in profile.closed_dates if d >= today_business),
    )
