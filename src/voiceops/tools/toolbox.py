"""The tool set one turn may use: OpenAI function specs and their validated, idempotent runs.

A :class:`Toolbox` is built per turn (call id, response id, caller clock, repository). Both
brains call it: the LLM brain through ``specs()`` and JSON arguments, the flow brain with the
same JSON. It parses and validates the arguments and dispatches to the tool functions, which
live by subject: ``tools/availability.py`` and ``tools/appointments.py`` (slots, bookings),
``tools/info.py`` (prices, hours), ``tools/handoff.py`` (escalate, callback, end call); the
argument models and specs are in ``tools/schemas.py``, the results in ``tools/results.py``.
Contracts every tool keeps:

* arguments are validated (pydantic) before anything else; a bad argument, an unknown tool
  or broken JSON is a failed :class:`ToolOutcome` whose ``error`` tells the model what to fix.
  ``run`` never raises for anything the model or the caller can send;
* every tool answers with a typed result (``tools/results.py``) whose ``status`` says what
  happened;
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

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import ValidationError

from voiceops.core.clock import Clock
from voiceops.core.errors import StorageError
from voiceops.core.ports import ToolOutcome, ToolResult, ToolStatus
from voiceops.logs import CallLogger
from voiceops.tools import appointments, handoff, info
from voiceops.tools.availability import check_availability
from voiceops.tools.results import ToolFailure
from voiceops.tools.schemas import (
    BookAppointmentArgs,
    CancelArgs,
    CheckAvailabilityArgs,
    EndCallArgs,
    EscalateArgs,
    FindBookingArgs,
    OpeningHoursArgs,
    RequestCallbackArgs,
    RescheduleArgs,
    ServiceInfoArgs,
    ToolArgs,
    specs_for,
    validation_message,
)
from voiceops.tools.scope import ToolScope, idempotency_key, mask_text, masked
from voiceops.tracing import OFF, Tracer

if TYPE_CHECKING:
    from voiceops.core.caller import CallerClock
    from voiceops.core.callevents import EventSink
    from voiceops.core.ports import BookingRepo
    from voiceops.core.profile import AgentProfile

__all__ = ["MAX_ARGUMENT_CHARS", "TOOL_NAMES", "Toolbox", "idempotency_key"]

log = logging.getLogger(__name__)

MAX_ARGUMENT_CHARS = 8_000
"""Arguments longer than this are refused unread (no tool needs more than a few hundred)."""

_A = TypeVar("_A", bound=ToolArgs)


@dataclass(frozen=True, slots=True)
class _Tool(Generic[_A]):
    args: type[_A]
    run: Callable[[ToolScope, _A], Awaitable[ToolResult | ToolOutcome]]
    """A result, or an outcome when the tool also asks for an action (escalate, end_call)."""


_TOOLS: dict[str, _Tool[Any]] = {
    "check_availability": _Tool(CheckAvailabilityArgs, check_availability),
    "book_appointment": _Tool(BookAppointmentArgs, appointments.book_appointment),
    "find_booking": _Tool(FindBookingArgs, appointments.find_booking),
    "reschedule_appointment": _Tool(RescheduleArgs, appointments.reschedule_appointment),
    "cancel_appointment": _Tool(CancelArgs, appointments.cancel_appointment),
    "get_service_info": _Tool(ServiceInfoArgs, info.get_service_info),
    "get_opening_hours": _Tool(OpeningHoursArgs, info.get_opening_hours),
    "request_callback": _Tool(RequestCallbackArgs, handoff.request_callback),
    "escalate": _Tool(EscalateArgs, handoff.escalate),
    "end_call": _Tool(EndCallArgs, handoff.end_call),
}
TOOL_NAMES = tuple(_TOOLS)


def _invalid(error: str, arguments: tuple[str, ...] = ()) -> ToolFailure:
    return ToolFailure(status=ToolStatus.INVALID, error=error, arguments=arguments)


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
    turn that started first may commit last. Events are stamped by ``app_clock`` too.
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
        app_clock: Clock,
    ) -> None:
        self._scope = ToolScope(
            call_id=call_id,
            response_id=response_id,
            profile=profile,
            clock=clock,
            app_clock=app_clock,
            repo=repo,
            caller_phone=caller_phone or None,
            is_current=is_current,
            events=events,
            log=CallLogger(log, call_id, response_id),
        )
        self._tracer = tracer

    def specs(self) -> list[dict[str, Any]]:
        """OpenAI ``tools`` entries with strict JSON schemas.

        Built once per profile: the list is new on every call, the entries are shared
        and must be treated as read-only (this runs on every turn; a deep copy would cost
        more than the rest of the toolbox set-up)."""
        return list(specs_for(self._scope.profile))

    async def run(self, name: str, arguments: str) -> ToolOutcome:
        """Validate ``arguments`` (JSON text) and run tool ``name``; never raises for bad input."""
        with self._tracer.current("voiceops.tool", tool__name=name[:80]) as span:
            outcome = await self._run(name, arguments)
            span.set(tool__successful=outcome.successful)
            return outcome

    async def _run(self, name: str, arguments: str) -> ToolOutcome:
        scope = self._scope
        started = scope.app_clock.monotonic()
        parsed: dict[str, Any] | None = None
        tool = _TOOLS.get(name)
        if tool is None:
            outcome = ToolOutcome(
                _invalid(f"unknown tool {name[:80]!r}; available tools: {', '.join(TOOL_NAMES)}")
            )
        else:
            parsed, problem = _parse(arguments)
            if problem is not None:
                outcome = ToolOutcome(_invalid(problem))
            else:
                try:
                    args = tool.args.model_validate(parsed)
                except ValidationError as exc:
                    outcome = ToolOutcome(_invalid(validation_message(exc), _fields(exc)))
                else:
                    outcome = await _guarded(scope, name, tool, args)
        duration_ms = round((scope.app_clock.monotonic() - started) * 1000, 3)
        scope.emit(
            "tool_run",
            {
                "name": name[:80],
                "arguments": _safe_arguments(parsed, arguments),
                "status": outcome.result.status.value,
                "successful": outcome.successful,
                "duration_ms": duration_ms,
            },
            latency_ms=round(duration_ms),
        )
        return outcome


async def _guarded(scope: ToolScope, name: str, tool: _Tool[Any], args: ToolArgs) -> ToolOutcome:
    try:
        answer = await tool.run(scope, args)
    except StorageError as exc:
        scope.log.warning("tool %s: storage unavailable: %s", name, exc)
        return ToolOutcome(
            ToolFailure(
                status=ToolStatus.UNAVAILABLE,
                error="the booking system is not reachable right now; apologise and offer a"
                " callback",
            )
        )
    except Exception:
        # A tool bug must not end the call: the model gets a failed result and moves on.
        scope.log.exception("tool %s failed", name)
        return ToolOutcome(
            ToolFailure(
                status=ToolStatus.ERROR,
                error="the tool failed; do not retry it, offer a callback",
            )
        )
    return answer if isinstance(answer, ToolOutcome) else ToolOutcome(answer)


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


def _fields(exc: ValidationError) -> tuple[str, ...]:
    """The top-level arguments a validation error names."""
    names = (str(error["loc"][0]) for error in exc.errors() if error["loc"])
    return tuple(dict.fromkeys(names))


def _safe_arguments(parsed: dict[str, Any] | None, raw: str) -> dict[str, Any] | str:
    if parsed is None:
        return mask_text(raw[:200])
    safe: dict[str, Any] = {}
    for key, value in list(parsed.items())[:12]:
        if isinstance(value, str) and "phone" in str(key).lower():
            value = masked(value[:40])
        elif isinstance(value, str):
            value = mask_text(value[:200])
        elif not isinstance(value, (int, float, bool)) and value is not None:
            value = "<" + type(value).__name__ + ">"
        safe[str(key)[:40]] = value
    return safe
