"""The tool set one turn may use: OpenAI function specs and their validated, idempotent runs.

A :class:`Toolbox` is built per turn (call id, response id, caller clock, repository). Both
brains call it: the LLM brain through ``specs()`` and JSON arguments, the flow brain with the
same JSON. Contracts every tool keeps:

* arguments are validated (pydantic) before anything else; a bad argument, an unknown tool
  or broken JSON is a failed :class:`ToolOutcome` whose ``error`` tells the model what to fix.
  ``run`` never raises for anything the model or the caller can send;
* dates and times in arguments are CALLER-local (``clock.zone``), strictly ``YYYY-MM-DD``,
  ``HH:MM`` and ``YYYY-MM-DDTHH:MM``; the rules themselves are judged in business time
  (``tools/booking.py``); every slot and booking carries a ``spoken`` phrase in the caller's
  time (with the business's time too when the clocks differ);
* side effects (book, reschedule, cancel, callback) carry an idempotency key, the sha256 of
  call id, tool name and the normalised arguments, so a repeated call changes nothing and
  returns the stored row; and they commit only while ``is_current()`` holds, else the
  outcome is ``superseded``;
* every run is recorded as a ``tool_run`` event, and bookings, callback requests and
  escalations as their own events; phone numbers in events are masked.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import phonenumbers
from phonenumbers import NumberParseException
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from voiceops.core.actions import EndCall, Transfer
from voiceops.core.callevents import CallEvent
from voiceops.core.clock import Clock, SystemClock
from voiceops.core.errors import StorageError
from voiceops.core.ports import Booking, CallbackRequest, ToolOutcome
from voiceops.core.profile import WEEKDAYS
from voiceops.masking import mask_phone
from voiceops.tools.booking import (
    Slot,
    check_instant,
    find_slots,
    is_open_at,
    next_opening,
    slot_view,
    spoken_hours_on,
    spoken_hours_week,
)
from voiceops.tools.handoff import callback_line, plan_transfer, why_no_transfer
from voiceops.tools.timefmt import (
    NonexistentLocalTime,
    iso_local,
    iso_utc,
    localize,
    parse_date,
    parse_start,
    parse_time,
    spoken_datetime,
    spoken_duration,
    spoken_price,
    zone_place,
)
from voiceops.tracing import OFF, Tracer

if TYPE_CHECKING:
    from voiceops.core.caller import CallerClock
    from voiceops.core.callevents import EventSink
    from voiceops.core.ports import BookingRepo
    from voiceops.core.profile import AgentProfile, Service

log = logging.getLogger(__name__)

TOOL_NAMES = (
    "check_availability",
    "book_appointment",
    "find_booking",
    "reschedule_appointment",
    "cancel_appointment",
    "get_service_info",
    "get_opening_hours",
    "request_callback",
    "escalate",
    "end_call",
)
MAX_ARGUMENT_CHARS = 8_000
"""Arguments longer than this are refused unread (no tool needs more than a few hundred)."""
MAX_FIND_RESULTS = 5
_MAX_REBOOKINGS = 5
"""Book, cancel, book the same slot again (or move a booking back and forth): how many
rounds of the same request one call may go."""
_PHONE_RUN = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_BOOKING_ID = re.compile(r"B([A-Z2-7]{8})")

Priority = Literal["low", "medium", "high"]


# --------------------------------------------------------------------------------------
# argument models


class _Args(BaseModel):
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


class CheckAvailabilityArgs(_Args):
    service: Annotated[str, Field(min_length=1, max_length=80)]
    date: str | None = None
    time: str | None = None
    days: int = Field(default=1, ge=1, le=14)
    exclude_booking_id: Annotated[str, Field(max_length=40)] | None = None
    """The booking being moved: its own time does not count as taken."""

    _d = field_validator("date")(_date_ok)
    _t = field_validator("time")(_time_ok)


class BookAppointmentArgs(_Args):
    service: Annotated[str, Field(min_length=1, max_length=80)]
    start: str
    customer_name: Name
    customer_phone: Annotated[str, Field(max_length=32)] | None = None

    _s = field_validator("start")(_start_ok)


class FindBookingArgs(_Args):
    customer_name: Annotated[str, Field(max_length=100)] | None = None
    customer_phone: Annotated[str, Field(max_length=32)] | None = None


class RescheduleArgs(_Args):
    booking_id: Annotated[str, Field(min_length=1, max_length=40)]
    new_start: str

    _s = field_validator("new_start")(_start_ok)


class CancelArgs(_Args):
    booking_id: Annotated[str, Field(min_length=1, max_length=40)]


class ServiceInfoArgs(_Args):
    service: Annotated[str, Field(max_length=80)] | None = None


class OpeningHoursArgs(_Args):
    date: str | None = None

    _d = field_validator("date")(_date_ok)


class RequestCallbackArgs(_Args):
    name: Name
    phone: Annotated[str, Field(max_length=32)] | None = None
    reason: Text
    priority: Priority = "medium"


class EscalateArgs(_Args):
    reason: Text
    priority: Priority = "medium"


class EndCallArgs(_Args):
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


# --------------------------------------------------------------------------------------
# helpers


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


def _canonical_id(value: str) -> str:
    """``b-zwa3 sila`` -> ``B-ZWA3SILA``: a booking id as a caller spells it back, when it
    has the shape :func:`_short_id` gives; anything else is looked up as it is."""
    match = _BOOKING_ID.fullmatch(re.sub(r"[\s-]", "", value).upper())
    return f"B-{match.group(1)}" if match else value


def _short_id(prefix: str, key: str) -> str:
    """A speakable id derived from the idempotency key, so a retry yields the same id."""
    digest = base64.b32encode(bytes.fromhex(key)[:10]).decode("ascii")
    return f"{prefix}-{digest[:8]}"


def _masked(phone: str | None) -> str | None:
    """A phone number fit for the event log (``None`` stays ``None``)."""
    return mask_phone(phone) if phone else None


def _mask_text(text: str) -> str:
    """Mask anything in free text that looks like a phone number (7+ digits), not dates."""

    def mask(match: re.Match[str]) -> str:
        run = match.group(0)
        if _ISO_DATE.fullmatch(run) or sum(ch.isdigit() for ch in run) < 7:
            return run
        return mask_phone(run)

    return _PHONE_RUN.sub(mask, text)


def _validation_message(exc: ValidationError) -> str:
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


@dataclass(slots=True)
class _Result:
    """What one tool handler decided (internal)."""

    data: dict[str, Any]
    successful: bool = True
    action: Transfer | EndCall | None = None


def _invalid(error: str, **extra: Any) -> _Result:
    return _Result({"status": "invalid", "error": error, **extra}, successful=False)


_SUPERSEDED = {"status": "superseded", "error": "this turn was replaced by a newer one"}
_SYSTEM_CLOCK = SystemClock()


# --------------------------------------------------------------------------------------
# the toolbox


class Toolbox:
    """The ten tools for one turn of one call. Implements :class:`~voiceops.core.ports.ToolBox`.

    ``caller_phone`` is the caller's number (the default for bookings and callbacks);
    ``is_current`` says whether the turn is still the newest (checked right before any
    commit); ``events`` receives one ``tool_run`` event per run plus ``booking``,
    ``callback_request`` and ``escalation`` events for what the tools did.

    ``clock`` is the caller's clock of the turn (its ``now_utc`` is the turn's start, against
    which every rule is judged); ``app_clock`` is the app's one :class:`Clock`, read at the
    moment of each commit for ``created_at`` and for tool durations. The turn's start would
    not do for ``created_at``: it decides which of two racing bookings keeps the slot, and a
    turn that started first may commit last.
    """

    def __init__(
        self,
        *,
        call_id: str,
        response_id: int,
        profile: AgentProfile,
        clock: CallerClock,
        repo: BookingRepo,
        caller_phone: str | None,
        is_current: Callable[[], bool],
        events: EventSink,
        tracer: Tracer = OFF,
        app_clock: Clock = _SYSTEM_CLOCK,
    ) -> None:
        self._call_id = call_id
        self._response_id = response_id
        self._profile = profile
        self._clock = clock
        self._repo = repo
        self._caller_phone = caller_phone or None
        self._is_current = is_current
        self._events = events
        self._tracer = tracer
        self._app_clock = app_clock
        self._log = logging.LoggerAdapter(log, {"call_id": call_id, "response_id": response_id})

    # Tool name -> (arguments model, method name). Looked up per call rather than kept as a
    # dict of bound methods: those would tie every turn's tool box into a reference cycle
    # that only the cyclic collector could free.
    _HANDLERS: ClassVar[dict[str, tuple[type[_Args], str]]] = {
        "check_availability": (CheckAvailabilityArgs, "_check_availability"),
        "book_appointment": (BookAppointmentArgs, "_book_appointment"),
        "find_booking": (FindBookingArgs, "_find_booking"),
        "reschedule_appointment": (RescheduleArgs, "_reschedule"),
        "cancel_appointment": (CancelArgs, "_cancel"),
        "get_service_info": (ServiceInfoArgs, "_service_info"),
        "get_opening_hours": (OpeningHoursArgs, "_opening_hours"),
        "request_callback": (RequestCallbackArgs, "_request_callback"),
        "escalate": (EscalateArgs, "_escalate"),
        "end_call": (EndCallArgs, "_end_call"),
    }

    # -- ToolBox protocol ------------------------------------------------------------------

    def specs(self) -> list[dict[str, Any]]:
        """OpenAI ``tools`` entries with strict JSON schemas.

        Built once per profile: the list is new on every call, the entries are shared
        and must be treated as read-only (this runs on every turn; a deep copy would cost
        more than the rest of the toolbox set-up)."""
        return list(_specs_for(self._profile))

    async def run(self, name: str, arguments: str) -> ToolOutcome:
        """Validate ``arguments`` (JSON text) and run tool ``name``; never raises for bad input."""
        with self._tracer.current("voiceops.tool", tool__name=name[:80]) as span:
            outcome = await self._run(name, arguments)
            span.set(tool__successful=outcome.successful)
            return outcome

    async def _run(self, name: str, arguments: str) -> ToolOutcome:
        started = self._app_clock.monotonic()
        parsed: dict[str, Any] | None = None
        handler = self._HANDLERS.get(name)
        if handler is None:
            result = _invalid(
                f"unknown tool {name[:80]!r}; available tools: {', '.join(TOOL_NAMES)}"
            )
        else:
            model, method = handler
            run: Callable[[Any], Awaitable[_Result]] = getattr(self, method)
            parsed, problem = self._parse(arguments)
            if problem is not None:
                result = _invalid(problem)
            else:
                try:
                    args = model.model_validate(parsed)
                except ValidationError as exc:
                    result = _invalid(_validation_message(exc))
                else:
                    result = await self._guarded(name, run, args)
        duration_ms = round((self._app_clock.monotonic() - started) * 1000, 3)
        self._emit(
            "tool_run",
            {
                "name": name[:80],
                "arguments": self._safe_arguments(parsed, arguments),
                "status": result.data.get("status"),
                "successful": result.successful,
                "duration_ms": duration_ms,
            },
            latency_ms=round(duration_ms),
        )
        content = json.dumps(result.data, separators=(",", ":"), ensure_ascii=False)
        return ToolOutcome(
            content=content, successful=result.successful, action=result.action, data=result.data
        )

    # -- plumbing --------------------------------------------------------------------------

    @staticmethod
    def _parse(arguments: str) -> tuple[dict[str, Any] | None, str | None]:
        if len(arguments) > MAX_ARGUMENT_CHARS:
            return None, f"arguments are too long ({len(arguments)} characters)"
        if not arguments.strip():
            return {}, None
        try:
            value = json.loads(arguments)
        except json.JSONDecodeError as exc:
            return None, f"arguments are not valid JSON ({exc.msg} at character {exc.pos})"
        if not isinstance(value, dict):
            return None, "arguments must be a JSON object"
        return value, None

    async def _guarded(
        self, name: str, run: Callable[[Any], Awaitable[_Result]], args: _Args
    ) -> _Result:
        try:
            return await run(args)
        except StorageError as exc:
            self._log.warning("tool %s: storage unavailable: %s", name, exc)
            return _Result(
                {
                    "status": "unavailable",
                    "error": "the booking system is not reachable right now; apologise and"
                    " offer a callback",
                },
                successful=False,
            )
        except Exception:
            # A tool bug must not end the call: the model gets a failed result and moves on.
            self._log.exception("tool %s failed", name)
            return _Result(
                {"status": "error", "error": "the tool failed; do not retry it, offer a callback"},
                successful=False,
            )

    def _emit(
        self, event_type: str, payload: dict[str, Any], latency_ms: int | None = None
    ) -> None:
        self._events.emit(
            CallEvent(
                call_id=self._call_id,
                event_type=event_type,
                response_id=self._response_id,
                latency_ms=latency_ms,
                payload=payload,
                created_at=self._clock.now_utc,
            )
        )

    @staticmethod
    def _safe_arguments(parsed: dict[str, Any] | None, raw: str) -> dict[str, Any] | str:
        if parsed is None:
            return _mask_text(raw[:200])
        safe: dict[str, Any] = {}
        for key, value in list(parsed.items())[:12]:
            if isinstance(value, str) and "phone" in str(key).lower():
                value = _masked(value[:40])
            elif isinstance(value, str):
                value = _mask_text(value[:200])
            elif not isinstance(value, (int, float, bool)) and value is not None:
                value = "<" + type(value).__name__ + ">"
            safe[str(key)[:40]] = value
        return safe

    @property
    def _now(self) -> datetime:
        return self._clock.now_utc

    def _service(self, name: str) -> Service | None:
        return self._profile.service(name)

    def _unknown_service(self, name: str) -> str:
        offered = ", ".join(s.name for s in self._profile.services) or "none"
        return f"unknown service {name!r}; services offered: {offered}"

    def _phone(self, value: str | None) -> tuple[str | None, str | None]:
        """(E.164 phone, error): ``value`` or the caller's number, normalised."""
        raw = value if value else self._caller_phone
        if not raw:
            return None, None
        region = _region_of(self._profile.business_phone)
        try:
            parsed = phonenumbers.parse(raw, region)
        except NumberParseException:
            return None, f"{raw!r} is not a phone number; ask for it with the country code"
        if not phonenumbers.is_possible_number(parsed):
            return None, f"{raw!r} is not a possible phone number; ask the caller to repeat it"
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None

    def _caller_instant(self, wall: datetime) -> tuple[datetime | None, str | None]:
        try:
            return localize(wall, self._clock.zone).astimezone(UTC), None
        except NonexistentLocalTime as exc:
            return None, str(exc)

    def _booking_view(self, booking: Booking) -> dict[str, Any]:
        service = self._service(booking.service)
        price = booking.price or (str(service.price) if service else "")
        view: dict[str, Any] = {
            "booking_id": booking.booking_id,
            "service": booking.service,
            "start_local": iso_local(booking.start_utc, self._clock.zone),
            "start_utc": iso_utc(booking.start_utc),
            "zone": self._clock.zone.key,
            "customer_name": booking.customer_name,
            "spoken": spoken_datetime(booking.start_utc, self._clock),
            "price": price,
        }
        try:
            view["price_spoken"] = spoken_price(Decimal(price)) if price else ""
        except (InvalidOperation, ValueError):
            # A price stored by an older catalogue in a free-text form: leave it unspoken.
            view["price_spoken"] = ""
        return view

    async def _alternatives(
        self, service: Service, target: datetime, exclude: str | None = None
    ) -> list[dict[str, Any]]:
        slots = await find_slots(
            self._profile,
            service,
            self._repo,
            self._now,
            target=target,
            exclude_booking_id=exclude,
        )
        return [slot_view(s, self._clock) for s in slots]

    async def _slot_conflict(
        self, slot: Slot, *, same: Callable[[Booking], bool], exclude: str | None = None
    ) -> tuple[Booking | None, bool]:
        """(the confirmed booking that already is this request, whether any other booking
        overlaps ``slot``); ``exclude`` names a booking to ignore (the one being moved)."""
        overlapping = await self._repo.bookings_between(slot.start_utc, slot.end_utc)
        mine = next((b for b in overlapping if same(b)), None)
        others = any(
            b is not mine and b.booking_id != exclude and b.status == "confirmed"
            for b in overlapping
        )
        return mine, others

    async def _lost_race(self, booking: Booking) -> bool:
        """After a commit: True when an earlier booking overlaps ours (two calls raced for the
        slot); the earlier one wins, deterministically, on every instance."""
        overlapping = await self._repo.bookings_between(booking.start_utc, booking.end_utc)
        return any(
            b.booking_id != booking.booking_id
            and b.status == "confirmed"
            and (b.created_at, b.booking_id) < (booking.created_at, booking.booking_id)
            for b in overlapping
        )

    # -- tools -----------------------------------------------------------------------------

    async def _check_availability(self, args: CheckAvailabilityArgs) -> _Result:
        service = self._service(args.service)
        zone = self._clock.zone

        def reply(
            slots: list[Slot], requested_free: bool | None = None, note: str | None = None
        ) -> _Result:
            data: dict[str, Any] = {
                "status": "ok",
                "service": service.name if service else args.service,
                "zone": zone.key,
                "requested_free": requested_free,
                "slots": [slot_view(s, self._clock) for s in slots],
            }
            if note:
                data["note"] = note
            return _Result(data)

        def refuse(error: str) -> _Result:
            result = reply([])
            result.data.update(status="invalid", error=error)
            result.successful = False
            return result

        if service is None:
            return refuse(self._unknown_service(args.service))
        today = self._clock.now_local.date()
        day = parse_date(args.date) if args.date else None
        at = parse_time(args.time) if args.time else None
        if day is not None and day < today:
            return refuse(
                f"{args.date} is in the past; today is {today.isoformat()} for the caller"
            )
        exclude = _canonical_id(args.exclude_booking_id) if args.exclude_booking_id else None
        if day is None:
            if at is None:
                return reply(
                    await find_slots(
                        self._profile, service, self._repo, self._now, exclude_booking_id=exclude
                    )
                )
            # Only a time: its next occurrence on the caller's clock.
            passed = datetime.combine(today, at) <= self._clock.now_local.replace(tzinfo=None)
            day = today + timedelta(days=1) if passed else today

        # The caller's calendar days [day, day + days), as instants.
        window_start = datetime.combine(day, datetime.min.time()).replace(tzinfo=zone)
        window_end = (window_start.replace(tzinfo=None) + timedelta(days=args.days)).replace(
            tzinfo=zone
        )
        target: datetime | None = None
        requested_free: bool | None = None
        note: str | None = None
        if at is not None:
            target, problem = self._caller_instant(datetime.combine(day, at))
            if target is None:
                return refuse(problem or "that time does not exist")
            refused = check_instant(self._profile, service, target, self._now)
            if refused is not None:
                requested_free, note = False, refused.message
            else:
                end = target + timedelta(minutes=service.duration_min)
                requested_free = not any(
                    b.booking_id != exclude for b in await self._repo.bookings_between(target, end)
                )
                note = None if requested_free else "the requested time is already booked"
        slots = await find_slots(
            self._profile,
            service,
            self._repo,
            self._now,
            window_start=window_start,
            window_end=window_end,
            target=target,
            exclude_booking_id=exclude,
        )
        if slots:
            return reply(slots, requested_free, note)
        # Nothing in the window: offer the nearest free times around it instead.
        nearest = await find_slots(
            self._profile,
            service,
            self._repo,
            self._now,
            target=target or window_start,
            exclude_booking_id=exclude,
        )
        gap = f"nothing is free on {day.isoformat()}"
        if args.days > 1:
            gap = f"nothing is free from {day.isoformat()} for {args.days} days"
        horizon = self._profile.booking.horizon_days
        if window_start >= self._now + timedelta(days=horizon):
            gap = f"bookings open only {horizon} days ahead"
        if nearest:
            gap += "; these are the nearest free times"
        return reply(nearest, requested_free, f"{note}; {gap}" if note else gap)

    async def _book_appointment(self, args: BookAppointmentArgs) -> _Result:
        service = self._service(args.service)
        if service is None:
            return _invalid(self._unknown_service(args.service), alternatives=[])
        instant, problem = self._caller_instant(parse_start(args.start))
        if instant is None:
            return _invalid(problem or "", alternatives=[])
        phone, phone_problem = self._phone(args.customer_phone)
        if phone_problem is not None:
            return _invalid(phone_problem, alternatives=[])
        refused = check_instant(self._profile, service, instant, self._now)
        if refused is not None:
            return _invalid(
                refused.message, alternatives=await self._alternatives(service, instant)
            )
        request = {
            "service": service.name,
            "start": iso_utc(instant),
            "customer_name": args.customer_name,
            "customer_phone": phone,
        }
        key = idempotency_key(self._call_id, "book_appointment", request)
        slot = Slot(instant, instant + timedelta(minutes=service.duration_min))

        def same(b: Booking) -> bool:
            # The request itself, made earlier in this call (perhaps under an older key).
            return b.idempotency_key == key or (
                b.call_id == self._call_id
                and b.service == service.name
                and b.start_utc == instant
                and b.customer_name.strip().casefold() == args.customer_name.casefold()
                and b.customer_phone == phone
            )

        mine, taken = await self._slot_conflict(slot, same=same)
        if mine is not None:
            return _Result(
                {"status": "confirmed", "booking": self._booking_view(mine), "alternatives": []}
            )
        if taken:
            return await self._slot_taken(service, instant)
        if not self._is_current():
            return _Result(dict(_SUPERSEDED), successful=False)
        booking = await self._create_booking(service, slot, args.customer_name, phone, key)
        for _ in range(_MAX_REBOOKINGS):
            if booking.status == "confirmed":
                break
            # This call booked the very same thing before and has cancelled it since: book
            # anew under a key naming the cancelled booking, so retries stay idempotent.
            key = idempotency_key(
                self._call_id, "book_appointment", {**request, "after": booking.booking_id}
            )
            booking = await self._create_booking(service, slot, args.customer_name, phone, key)
        if booking.status != "confirmed":
            return _invalid("this booking was made and cancelled too often in one call")
        if await self._lost_race(booking):
            await self._repo.update_booking(
                dataclasses.replace(booking, status="cancelled", notes="lost a race for the slot"),
                idempotency_key=f"{key}:race",
            )
            return await self._slot_taken(service, instant)
        self._emit("booking", self._booking_event("created", booking))
        return _Result(
            {"status": "confirmed", "booking": self._booking_view(booking), "alternatives": []}
        )

    async def _create_booking(
        self, service: Service, slot: Slot, name: str, phone: str | None, key: str
    ) -> Booking:
        return await self._repo.create_booking(
            Booking(
                booking_id=_short_id("B", key),
                call_id=self._call_id,
                service=service.name,
                customer_name=name,
                customer_phone=phone,
                start_utc=slot.start_utc,
                end_utc=slot.end_utc,
                caller_zone=self._clock.zone.key,
                local_start=iso_local(slot.start_utc, self._clock.zone),
                status="confirmed",
                idempotency_key=key,
                created_at=self._app_clock.now(),
                price=str(service.price),
            )
        )

    async def _slot_taken(
        self, service: Service, instant: datetime, exclude: str | None = None
    ) -> _Result:
        return _Result(
            {
                "status": "slot_taken",
                "error": "that time is taken; offer the alternatives",
                "alternatives": await self._alternatives(service, instant, exclude),
            },
            successful=False,
        )

    def _booking_event(self, action: str, booking: Booking, **extra: Any) -> dict[str, Any]:
        return {
            "action": action,
            "booking_id": booking.booking_id,
            "service": booking.service,
            "start_utc": iso_utc(booking.start_utc),
            "local_start": booking.local_start,
            "caller_zone": booking.caller_zone,
            "customer_name": booking.customer_name,
            "customer_phone": _masked(booking.customer_phone),
            **extra,
        }

    async def _find_booking(self, args: FindBookingArgs) -> _Result:
        name = args.customer_name or None
        phone: str | None = None
        if args.customer_phone or name is None:
            phone, problem = self._phone(args.customer_phone)
            if problem is not None:
                return _invalid(problem, bookings=[])
        if name is None and phone is None:
            return _invalid(
                "no name or phone to search by; ask the caller for the name on the booking",
                bookings=[],
            )
        found = await self._repo.find_bookings(phone=phone, name=name)
        now = self._now
        upcoming = sorted((b for b in found if b.end_utc > now), key=lambda b: b.start_utc)
        past = sorted((b for b in found if b.end_utc <= now), key=lambda b: b.start_utc)
        ordered = (upcoming + past[::-1])[:MAX_FIND_RESULTS]
        views = []
        for booking in ordered:
            view = self._booking_view(booking)
            view["upcoming"] = booking.end_utc > now
            views.append(view)
        return _Result({"status": "ok", "bookings": views})

    async def _reschedule(self, args: RescheduleArgs) -> _Result:
        booking = await self._repo.get_booking(_canonical_id(args.booking_id))
        if booking is None:
            return _Result(
                {
                    "status": "not_found",
                    "error": f"no booking {args.booking_id!r}; use find_booking",
                    "alternatives": [],
                },
                successful=False,
            )
        if booking.status != "confirmed":
            return _invalid("that booking was cancelled; book a new appointment", alternatives=[])
        if booking.start_utc <= self._now:
            return _invalid("that appointment has already started or passed", alternatives=[])
        service = self._service(booking.service)
        if service is None:
            return _invalid(
                f"the service {booking.service!r} is no longer offered; cancel and book anew",
                alternatives=[],
            )
        instant, problem = self._caller_instant(parse_start(args.new_start))
        if instant is None:
            return _invalid(problem or "", alternatives=[])
        if instant == booking.start_utc:
            return _Result(
                {"status": "confirmed", "booking": self._booking_view(booking), "alternatives": []}
            )
        refused = check_instant(self._profile, service, instant, self._now)
        if refused is not None:
            return _invalid(
                refused.message,
                alternatives=await self._alternatives(service, instant, booking.booking_id),
            )
        slot = Slot(instant, instant + timedelta(minutes=service.duration_min))
        _, taken = await self._slot_conflict(slot, same=lambda b: False, exclude=booking.booking_id)
        if taken:
            return await self._slot_taken(service, instant, booking.booking_id)
        if not self._is_current():
            return _Result(dict(_SUPERSEDED), successful=False)
        change = dataclasses.replace(
            booking,
            start_utc=instant,
            end_utc=slot.end_utc,
            caller_zone=self._clock.zone.key,
            local_start=iso_local(instant, self._clock.zone),
        )
        request = {"booking_id": booking.booking_id, "new_start": iso_utc(instant)}
        moved = booking
        for attempt in range(_MAX_REBOOKINGS):
            # A key seen before returns the row unchanged: when this call moved the booking
            # here, away and back again, the next round's key makes the move happen.
            round_request = request if attempt == 0 else {**request, "round": attempt}
            key = idempotency_key(self._call_id, "reschedule_appointment", round_request)
            moved = await self._repo.update_booking(change, idempotency_key=key)
            if moved.start_utc == instant:
                break
        else:
            return _invalid("this booking was moved back and forth too often in one call")
        self._emit(
            "booking",
            self._booking_event(
                "rescheduled", moved, previous_start_utc=iso_utc(booking.start_utc)
            ),
        )
        return _Result(
            {"status": "confirmed", "booking": self._booking_view(moved), "alternatives": []}
        )

    async def _cancel(self, args: CancelArgs) -> _Result:
        booking = await self._repo.get_booking(_canonical_id(args.booking_id))
        if booking is None:
            return _Result(
                {
                    "status": "not_found",
                    "error": f"no booking {args.booking_id!r}; use find_booking",
                },
                successful=False,
            )
        if booking.status == "cancelled":
            return _Result({"status": "cancelled", "booking": self._booking_view(booking)})
        if booking.start_utc <= self._now:
            return _invalid("that appointment has already started or passed")
        if not self._is_current():
            return _Result(dict(_SUPERSEDED), successful=False)
        key = idempotency_key(
            self._call_id, "cancel_appointment", {"booking_id": booking.booking_id}
        )
        cancelled = await self._repo.update_booking(
            dataclasses.replace(booking, status="cancelled"), idempotency_key=key
        )
        self._emit("booking", self._booking_event("cancelled", cancelled))
        return _Result({"status": "cancelled", "booking": self._booking_view(cancelled)})

    async def _service_info(self, args: ServiceInfoArgs) -> _Result:
        def view(service: Service) -> dict[str, Any]:
            article = "An" if service.name[:1].lower() in "aeiou" else "A"
            cost = "is free" if service.price == 0 else f"costs {spoken_price(service.price)}"
            return {
                "name": service.name,
                "duration_min": service.duration_min,
                "price": str(service.price),
                "spoken": f"{article} {service.name} takes"
                f" {spoken_duration(service.duration_min)} and {cost}.",
            }

        everything = [view(s) for s in self._profile.services]
        if not args.service:
            return _Result({"status": "ok", "services": everything})
        service = self._service(args.service)
        if service is None:
            return _Result(
                {
                    "status": "unknown_service",
                    "error": self._unknown_service(args.service),
                    "services": everything,
                },
                successful=False,
            )
        return _Result({"status": "ok", "services": [view(service)]})

    async def _opening_hours(self, args: OpeningHoursArgs) -> _Result:
        profile = self._profile
        days = {
            key: [[iv.start.strftime("%H:%M"), iv.end.strftime("%H:%M")] for iv in intervals]
            for key, intervals in ((k, profile.opening_hours.get(k, [])) for k in WEEKDAYS)
        }
        open_now = is_open_at(profile, self._now)
        zone_note = (
            f" That's {zone_place(self._clock.business_zone)} time."
            if self._clock.zones_differ
            else ""
        )
        reopens = None if open_now else next_opening(profile, self._now)
        if args.date:
            # The caller names a calendar day; the business keeps the hours of that same day.
            spoken = spoken_hours_on(profile, parse_date(args.date)) + zone_note
        elif open_now:
            spoken = spoken_hours_week(profile) + zone_note + " We're open right now."
        else:
            spoken = spoken_hours_week(profile) + zone_note + " We're closed right now."
            if reopens is not None:
                spoken += f" We open again on {spoken_datetime(reopens, self._clock)}."
        today_business = self._clock.now_business.date()
        closed = sorted(d.isoformat() for d in profile.closed_dates if d >= today_business)
        return _Result(
            {
                "status": "ok",
                "open_now": open_now,
                "spoken": spoken,
                "days": days,
                "closed_dates": closed,
            }
        )

    async def _request_callback(self, args: RequestCallbackArgs) -> _Result:
        phone, problem = self._phone(args.phone)
        if problem is not None:
            return _invalid(problem)
        if phone is None:
            return _invalid("no number to call back; ask the caller for the best number")
        key = idempotency_key(
            self._call_id,
            "request_callback",
            {"name": args.name, "phone": phone, "reason": args.reason, "priority": args.priority},
        )
        if not self._is_current():
            return _Result(dict(_SUPERSEDED), successful=False)
        stored = await self._repo.create_callback(
            CallbackRequest(
                request_id=_short_id("CB", key),
                call_id=self._call_id,
                name=args.name,
                phone=phone,
                reason=args.reason,
                priority=args.priority,
                idempotency_key=key,
                created_at=self._app_clock.now(),
            )
        )
        self._emit(
            "callback_request",
            {
                "request_id": stored.request_id,
                "name": stored.name,
                "phone": _masked(stored.phone),
                "reason": stored.reason[:200],
                "priority": stored.priority,
            },
        )
        return _Result({"status": "recorded", "request_id": stored.request_id})

    async def _escalate(self, args: EscalateArgs) -> _Result:
        transfer = plan_transfer(self._profile, self._clock, args.reason, args.priority, "model")
        if transfer is not None:
            self._emit(
                "escalation",
                {
                    "outcome": "transfer",
                    "trigger": "model",
                    "reason": args.reason[:200],
                    "priority": args.priority,
                    "number": transfer.number,
                },
            )
            return _Result({"status": "transferring"}, action=transfer)
        why = why_no_transfer(self._profile, self._clock, args.reason) or "after_hours"
        self._emit(
            "escalation",
            {
                "outcome": "callback_required",
                "trigger": "model",
                "reason": args.reason[:200],
                "priority": args.priority,
                "why": why,
            },
        )
        return _Result(
            {
                "status": "callback_required",
                "why": why,
                "say": callback_line(self._profile, self._clock, why),
                "next": "Tell the caller nobody can take the call right now, then collect their"
                " name, best number and reason, confirm them, and call request_callback.",
            }
        )

    async def _end_call(self, args: EndCallArgs) -> _Result:
        return _Result({"status": "ending"}, action=EndCall(args.message))


_SPEC_CACHE: dict[int, tuple[AgentProfile, list[dict[str, Any]]]] = {}


def _specs_for(profile: AgentProfile) -> list[dict[str, Any]]:
    # Profiles are frozen; the specs of one profile object are built once.
    cached = _SPEC_CACHE.get(id(profile))
    if cached is not None and cached[0] is profile:
        return cached[1]
    specs = _build_specs(profile)
    if len(_SPEC_CACHE) > 32:
        _SPEC_CACHE.clear()
    _SPEC_CACHE[id(profile)] = (profile, specs)
    return specs


def _region_of(number: str | None) -> str | None:
    if not number:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None))
    except NumberParseException:
        return None
