"""The tools' argument models, and the OpenAI function specs generated from them.

Arguments are validated by these pydantic models before a tool runs; a bad argument never
reaches the tool. The specs the model sees are generated from the same models
(``openai.pydantic_function_tool``, strict mode: every property required, optional ones
nullable), so their types, nullability, enums and numeric bounds are what validation
enforces. What strict mode cannot say stays in validation only: string lengths (strict mode
refuses ``minLength``/``maxLength``; the limits are guard rails far above any real value)
and the date and time formats, which the descriptions spell out. ``tests/tools/
test_schemas.py`` holds the two to that. The ``service`` argument of availability and
booking lists the profile's catalogue; validation also takes the catalogue's aliases.

Specs are built once per profile and shared by every turn (read-only).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

import openai
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


_SERVICE = "The service, by its catalogue name."
_DATE = "Caller-local date as YYYY-MM-DD."
_START = "Caller-local start as YYYY-MM-DDTHH:MM (24-hour clock)."
_BOOKING_ID = "The booking's id."
_PRIORITY = "How urgent: high for an upset caller or an urgent matter, else medium."

ServiceName = Annotated[str, Field(min_length=1, max_length=80, description=_SERVICE)]
BookingId = Annotated[str, Field(min_length=1, max_length=40, description=_BOOKING_ID)]
Phone = Annotated[str, Field(max_length=32)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
Urgency = Annotated[Priority, Field(description=_PRIORITY)]


class CheckAvailabilityArgs(ToolArgs):
    service: ServiceName
    date: str | None = Field(
        default=None,
        description=f"{_DATE} Null to search from now on; with only a time, the next"
        " occurrence of that time is used.",
    )
    time: str | None = Field(
        default=None, description="Caller-local time as HH:MM (24-hour), or null."
    )
    days: int = Field(
        default=1,
        ge=1,
        le=14,
        description="How many days to search from the date, 1 to 14. Usually 1.",
    )
    exclude_booking_id: Annotated[str, Field(max_length=40)] | None = Field(
        default=None,
        description="When rescheduling: the booking_id being moved, so its current time"
        " does not count as taken. Otherwise null.",
    )

    _d = field_validator("date")(_date_ok)
    _t = field_validator("time")(_time_ok)


class BookAppointmentArgs(ToolArgs):
    service: ServiceName
    start: str = Field(description=_START)
    customer_name: str = Field(
        min_length=1,
        max_length=100,
        description="The name the booking is under, as the caller gave it.",
    )
    customer_phone: Phone | None = Field(
        default=None,
        description="A callback number if the caller gave one; null uses the number they are"
        " calling from.",
    )

    _s = field_validator("start")(_start_ok)


class FindBookingArgs(ToolArgs):
    customer_name: Annotated[str, Field(max_length=100)] | None = Field(
        default=None, description="Name the booking is under, or null."
    )
    customer_phone: Phone | None = Field(
        default=None, description="Phone number the booking is under, or null."
    )


class RescheduleArgs(ToolArgs):
    booking_id: BookingId
    new_start: str = Field(description=_START)

    _s = field_validator("new_start")(_start_ok)


class CancelArgs(ToolArgs):
    booking_id: BookingId


class ServiceInfoArgs(ToolArgs):
    service: Annotated[str, Field(max_length=80)] | None = Field(
        default=None, description="A service name, or null for the whole list."
    )


class OpeningHoursArgs(ToolArgs):
    date: str | None = Field(default=None, description=f"{_DATE} Null for the weekly hours.")

    _d = field_validator("date")(_date_ok)


class RequestCallbackArgs(ToolArgs):
    name: str = Field(min_length=1, max_length=100, description="The caller's name.")
    phone: Phone | None = Field(
        default=None,
        description="Best number to call back; null uses the number they are calling from.",
    )
    reason: Reason = Field(description="What the callback is about, in a short phrase.")
    priority: Urgency = "medium"


class EscalateArgs(ToolArgs):
    reason: Reason = Field(description="Why, in a short phrase, e.g. 'billing question'.")
    priority: Urgency = "medium"


class EndCallArgs(ToolArgs):
    message: str = Field(
        min_length=1, max_length=300, description="The short goodbye to say before hanging up."
    )


# --------------------------------------------------------------------------------------
# the specs


@dataclass(frozen=True, slots=True)
class ToolSchema:
    name: str
    args: type[ToolArgs]
    description: str
    """What the tool is for and when to call it, for the model."""


SCHEMAS = (
    ToolSchema(
        "check_availability",
        CheckAvailabilityArgs,
        "Find free appointment slots for a service. Call this before offering any time; never"
        " invent availability. Give the caller's requested date (and time, if they named one)"
        " in the caller's own time zone. The result lists up to a few slots, nearest to the"
        " request first, each with a 'spoken' phrase to read out as is; 'requested_free' says"
        " whether the exact requested time is free.",
    ),
    ToolSchema(
        "book_appointment",
        BookAppointmentArgs,
        "Book a slot after the caller has confirmed service, day and time. Use a start from"
        " check_availability. Returns status 'confirmed' with the booking, or 'slot_taken'"
        " with alternatives to offer, or 'invalid' with what to fix.",
    ),
    ToolSchema(
        "find_booking",
        FindBookingArgs,
        "Look up the caller's confirmed bookings, upcoming first, by name and/or phone. With"
        " both null, the number they are calling from is used.",
    ),
    ToolSchema(
        "reschedule_appointment",
        RescheduleArgs,
        "Move an existing booking (booking_id from find_booking or book_appointment) to a new"
        " start, after the caller has confirmed it. Check availability first.",
    ),
    ToolSchema(
        "cancel_appointment",
        CancelArgs,
        "Cancel a booking after the caller has confirmed which one.",
    ),
    ToolSchema(
        "get_service_info",
        ServiceInfoArgs,
        "Durations and prices from the catalogue. Use it for any question about price or"
        " length; never guess a price.",
    ),
    ToolSchema(
        "get_opening_hours",
        OpeningHoursArgs,
        "Opening hours, whether the business is open now, and the hours of one date.",
    ),
    ToolSchema(
        "request_callback",
        RequestCallbackArgs,
        "Record a request for a person to call the caller back: when nobody can take a"
        " transfer, or the caller prefers a callback. Confirm name and number first.",
    ),
    ToolSchema(
        "escalate",
        EscalateArgs,
        "Hand the caller to a person: when they ask for a human, are upset, or you cannot"
        " help. Either transfers the call now, or says nobody is available and you should"
        " offer a callback (then use request_callback).",
    ),
    ToolSchema(
        "end_call",
        EndCallArgs,
        "Hang up after saying goodbye, once the caller has nothing more.",
    ),
)
_CATALOGUE_TOOLS = frozenset({"check_availability", "book_appointment"})
"""Tools whose ``service`` argument lists the profile's catalogue as an enum."""

VALIDATION_ONLY = frozenset({"minLength", "maxLength"})
"""Keywords strict mode refuses: kept by validation, left out of the specs."""
_LEFT_OUT = VALIDATION_ONLY | {"title", "default"}
"""Also left out: pydantic's titles (noise) and defaults (refused by strict mode; a
strict-mode model sends every argument anyway)."""


def _strict_subset(node: Any) -> Any:
    """``node`` without the keywords strict mode refuses, and with ``anyOf`` of plain types
    (``str | None``) folded into one ``type`` list, as the API documents nullable fields."""
    if isinstance(node, list):
        return [_strict_subset(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict_subset(value) for key, value in node.items() if key not in _LEFT_OUT}
    variants = out.get("anyOf")
    if isinstance(variants, list) and all(
        isinstance(v, dict) and set(v) == {"type"} and isinstance(v["type"], str) for v in variants
    ):
        del out["anyOf"]
        out = {"type": [v["type"] for v in variants], **out}
    return out


def function_spec(schema: ToolSchema) -> dict[str, Any]:
    """The strict OpenAI function spec of one tool, from its argument model."""
    tool = openai.pydantic_function_tool(
        schema.args, name=schema.name, description=schema.description
    )
    function = dict(tool["function"])
    function["parameters"] = _strict_subset(function["parameters"])
    return {"type": "function", "function": function}


@cache
def _model_specs() -> tuple[dict[str, Any], ...]:
    # Generated once per process: pydantic's schema generation costs milliseconds.
    return tuple(function_spec(schema) for schema in SCHEMAS)


def _build_specs(profile: AgentProfile) -> list[dict[str, Any]]:
    specs = copy.deepcopy(list(_model_specs()))
    names = [s.name for s in profile.services]
    for spec in specs:
        function = spec["function"]
        if names and function["name"] in _CATALOGUE_TOOLS:
            function["parameters"]["properties"]["service"]["enum"] = names
    return specs


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


def specs_for(profile: AgentProfile) -> list[dict[str, Any]]:
    """The specs of ``profile``'s tools, built on first use and kept with the profile."""
    return profile.derived("tools.specs", _build_specs)
