"""The tools' argument models and the OpenAI function specs the model sees.

Arguments are validated by these pydantic models before a tool runs; a bad argument never
reaches the tool. The specs are built once per profile (the ``service`` argument lists the
profile's catalogue) and shared by every turn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from voiceops.tools.timefmt import parse_date, parse_start, parse_time

if TYPE_CHECKING:
    from voiceops.core.profile import AgentProfile

Priority = Literal["low", "medium", "high"]


# --------------------------------------------------------------------------------------
# argument models


class ToolArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _date_ok(value: str | None) -> str | None:
    if value is not None:
        parse_date(value)
    return value


def _time_ok(value: str | None) -> str | None:
    if value is not None:
        parse_time(value)
    return value


def _start_ok(value: str) -> str:
    parse_start(value)
    return value


Name = Annotated[str, Field(min_length=1, max_length=100)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class CheckAvailabilityArgs(ToolArgs):
    service: Annotated[str, Field(min_length=1, max_length=80)]
    date: str | None = None
    time: str | None = None
    days: int = Field(default=1, ge=1, le=14)
    exclude_booking_id: Annotated[str, Field(max_length=40)] | None = None
    """The booking being moved: its own time does not count as taken."""

    _d = field_validator("date")(_date_ok)
    _t = field_validator("time")(_time_ok)


class BookAppointmentArgs(ToolArgs):
    service: Annotated[str, Field(min_length=1, max_length=80)]
    start: str
    customer_name: Name
    customer_phone: Annotated[str, Field(max_length=32)] | None = None

    _s = field_validator("start")(_start_ok)


class FindBookingArgs(ToolArgs):
    customer_name: Annotated[str, Field(max_length=100)] | None = None
    customer_phone: Annotated[str, Field(max_length=32)] | None = None


class RescheduleArgs(ToolArgs):
    booking_id: Annotated[str, Field(min_length=1, max_length=40)]
    new_start: str

    _s = field_validator("new_start")(_start_ok)


class CancelArgs(ToolArgs):
    booking_id: Annotated[str, Field(min_length=1, max_length=40)]


class ServiceInfoArgs(ToolArgs):
    service: Annotated[str, Field(max_length=80)] | None = None


class OpeningHoursArgs(ToolArgs):
    date: str | None = None

    _d = field_validator("date")(_date_ok)


class RequestCallbackArgs(ToolArgs):
    name: Name
    phone: Annotated[str, Field(max_length=32)] | None = None
    reason: Text
    priority: Priority = "medium"


class EscalateArgs(ToolArgs):
    reason: Text
    priority: Priority = "medium"


class EndCallArgs(ToolArgs):
    message: Annotated[str, Field(min_length=1, max_length=300)]


# --------------------------------------------------------------------------------------
# OpenAI function specs (strict mode: every property required, optional ones nullable)


def _fn(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "strict": True,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
        },
    }


def _s(description: str, *, nullable: bool = False) -> dict[str, Any]:
    return {"type": ["string", "null"] if nullable else "string", "description": description}


def _priority() -> dict[str, Any]:
    return {
        "type": "string",
        "enum": ["low", "medium", "high"],
        "description": "How urgent: high for an upset caller or an urgent matter, else medium.",
    }


def _build_specs(profile: AgentProfile) -> list[dict[str, Any]]:
    names = [s.name for s in profile.services]
    service: dict[str, Any] = _s("The service, by its catalogue name.")
    if names:
        service["enum"] = names
    date_note = "Caller-local date as YYYY-MM-DD."
    start_note = "Caller-local start as YYYY-MM-DDTHH:MM (24-hour clock)."
    return [
        _fn(
            "check_availability",
            "Find free appointment slots for a service. Call this before offering any time;"
            " never invent availability. Give the caller's requested date (and time, if they"
            " named one) in the caller's own time zone. The result lists up to a few slots,"
            " nearest to the request first, each with a 'spoken' phrase to read out as is;"
            " 'requested_free' says whether the exact requested time is free.",
            {
                "service": service,
                "date": _s(
                    f"{date_note} Null to search from now on; with only a time, the next"
                    " occurrence of that time is used.",
                    nullable=True,
                ),
                "time": _s("Caller-local time as HH:MM (24-hour), or null.", nullable=True),
                "days": {
                    "type": "integer",
                    "description": "How many days to search from the date, 1 to 14. Usually 1.",
                },
                "exclude_booking_id": _s(
                    "When rescheduling: the booking_id being moved, so its current time"
                    " does not count as taken. Otherwise null.",
                    nullable=True,
                ),
            },
        ),
        _fn(
            "book_appointment",
            "Book a slot after the caller has confirmed service, day and time. Use a start"
            " from check_availability. Returns status 'confirmed' with the booking, or"
            " 'slot_taken' with alternatives to offer, or 'invalid' with what to fix.",
            {
                "service": service,
                "start": _s(start_note),
                "customer_name": _s("The name the booking is under, as the caller gave it."),
                "customer_phone": _s(
                    "A callback number if the caller gave one; null uses the number they are"
                    " calling from.",
                    nullable=True,
                ),
            },
        ),
        _fn(
            "find_booking",
            "Look up the caller's confirmed bookings, upcoming first, by name and/or phone."
            " With both null, the number they are calling from is used.",
            {
                "customer_name": _s("Name the booking is under, or null.", nullable=True),
                "customer_phone": _s("Phone number the booking is under, or null.", nullable=True),
            },
        ),
        _fn(
            "reschedule_appointment",
            "Move an existing booking (booking_id from find_booking or book_appointment) to a new"
            " start, after the caller has confirmed it. Check availability first.",
            {"booking_id": _s("The booking's id."), "new_start": _s(start_note)},
        ),
        _fn(
            "cancel_appointment",
            "Cancel a booking after the caller has confirmed which one.",
            {"booking_id": _s("The booking's id.")},
        ),
        _fn(
            "get_service_info",
            "Durations and prices from the catalogue. Use it for any question about price or"
            " length; never guess a price.",
            {"service": _s("A service name, or null for the whole list.", nullable=True)},
        ),
        _fn(
            "get_opening_hours",
            "Opening hours, whether the business is open now, and the hours of one date.",
            {"date": _s(f"{date_note} Null for the weekly hours.", nullable=True)},
        ),
        _fn(
            "request_callback",
            "Record a request for a person to call the caller back: when nobody can take a"
            " transfer, or the caller prefers a callback. Confirm name and number first.",
            {
                "name": _s("The caller's name."),
                "phone": _s(
                    "Best number to call back; null uses the number they are calling from.",
                    nullable=True,
                ),
                "reason": _s("What the callback is about, in a short phrase."),
                "priority": _priority(),
            },
        ),
        _fn(
            "escalate",
            "Hand the caller to a person: when they ask for a human, are upset, or you cannot"
            " help. Either transfers the call now, or says nobody is available and you should"
            " offer a callback (then use request_callback).",
            {
                "reason": _s("Why, in a short phrase, e.g. 'billing question'."),
                "priority": _priority(),
            },
        ),
        _fn(
            "end_call",
            "Hang up after saying goodbye, once the caller has nothing more.",
            {"message": _s("The short goodbye to say before hanging up.")},
        ),
    ]


def validation_message(exc: ValidationError) -> str:
    parts: list[str] = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not an argument of this tool"
        elif error["type"] == "missing":
            message = "is required"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


_SPEC_CACHE: dict[int, tuple[AgentProfile, list[dict[str, Any]]]] = {}


def specs_for(profile: AgentProfile) -> list[dict[str, Any]]:
    # Profiles are frozen; the specs of one profile object are built once.
    cached = _SPEC_CACHE.get(id(profile))
    if cached is not None and cached[0] is profile:
        return cached[1]
    specs = _build_specs(profile)
    if len(_SPEC_CACHE) > 32:
        _SPEC_CACHE.clear()
    _SPEC_CACHE[id(profile)] = (profile, specs)
    return specs
