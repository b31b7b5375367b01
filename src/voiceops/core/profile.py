"""The agent profile: everything that describes one business's phone agent.

A profile is a typed, serialisable value (pydantic). It is loaded from YAML for ``serve``;
the database keeps its versions. Templates in it (greeting, voice prompt) use ``{{ var }}``
placeholders rendered by the sandboxed Jinja2 environment in ``agent/prompts.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Self, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from voiceops.core.errors import ConfigError

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


_T = TypeVar("_T")


class _Model(BaseModel):
    """A frozen part of a profile that also keeps what other parts compile from it.

    Templates, matchers, compiled hours and tool schemas depend only on the profile, so
    each is built once per profile object (:meth:`derived`) and kept with it, dropped with
    it, and never carried over to a changed copy.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    _derived: dict[str, Any] = PrivateAttr(default_factory=dict)

    def derived(self, key: str, build: Callable[[Self], _T]) -> _T:
        """``build(self)``, computed on first use and kept under ``key`` (one key per use,
        e.g. ``"prompts"``, ``"escalation.matchers"``)."""
        try:
            return cast(_T, self._derived[key])
        except KeyError:
            value = self._derived[key] = build(self)
            return value

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copied = super().model_copy(update=update, deep=deep)
        copied._derived = {}  # a changed copy compiles afresh
        return copied


class Interval(_Model):
    """An opening interval in the business's local time, ``start`` < ``end``."""

    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.start >= self.end:
            raise ValueError(f"interval start {self.start} is not before end {self.end}")
        return self


class Service(_Model):
    name: str
    aliases: list[str] = Field(default_factory=list)
    """Other words callers use for it ("trim", "cut"); matched case-insensitively."""
    duration_min: int = Field(gt=0, le=24 * 60)
    price: Decimal = Field(ge=0)
    description: str = ""


class FaqEntry(_Model):
    keywords: list[str]
    """Any of these words or phrases in the caller's words selects this answer."""
    answer: str


class TransferConfig(_Model):
    default: str | None = None
    """E.164 number of the front desk; ``None`` means escalations become callback requests."""
    by_reason: dict[str, str] = Field(default_factory=dict)
    """Reason keyword (e.g. ``billing``) to E.164 number."""
    show_transferee_as_caller: bool = False

    @field_validator("default")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is not None and not _E164.match(value):
            raise ValueError(f"transfer number {value!r} is not E.164 (+countrycode...)")
        return value

    @field_validator("by_reason")
    @classmethod
    def _e164_map(cls, value: dict[str, str]) -> dict[str, str]:
        for reason, number in value.items():
            if not _E164.match(number):
                raise ValueError(f"transfer number for {reason!r} is not E.164: {number!r}")
        return value

    def number_for(self, reason: str) -> str | None:
        lowered = reason.lower()
        for key, number in self.by_reason.items():
            if key.lower() in lowered:
                return number
        return self.default


class EscalationRules(_Model):
    trigger_phrases: list[str] = Field(
        default_factory=lambda: [
            "manager",
            "human",
            "real person",
            "representative",
            "operator",
            "someone else",
            "speak to a person",
            "talk to a person",
            "supervisor",
        ]
    )
    frustration_phrases: list[str] = Field(
        default_factory=lambda: [
            "this is ridiculous",
            "useless",
            "you're not listening",
            "you are not listening",
            "not helpful",
            "stupid",
            "waste of time",
            "fed up",
        ]
    )
    frustration_threshold: int = Field(default=3, ge=1)
    """Frustration score (negations, anger words, profanity) that triggers a handoff."""
    loop_turns: int = Field(default=3, ge=2)
    """The agent saying the same thing this many turns running counts as a loop."""
    default_priority: Literal["low", "medium", "high"] = "medium"


class BookingPolicy(_Model):
    slot_step_min: int = Field(default=30, gt=0)
    horizon_days: int = Field(default=60, gt=0)
    min_notice_min: int = Field(default=60, ge=0)
    max_offers: int = Field(default=3, gt=0)
    max_per_call: int = Field(default=3, gt=0, le=20)
    """Bookings one call may make (the tools refuse more, whatever the caller or the model
    says)."""


class LLMSettings(_Model):
    """What the model is asked with. On a phone line: a low temperature keeps answers on
    the facts, a small ``max_tokens`` keeps them short, ``parallel_tool_calls`` off keeps a
    read-back before every booking, and ``service_tier`` (where the provider has it, e.g.
    OpenAI's ``priority``) buys a faster first token."""

    model: str = Field(default="gpt-4o-mini", min_length=1)
    temperature: float = Field(default=0.4, ge=0, le=2)
    max_tokens: int = Field(default=300, gt=0, le=4096)
    parallel_tool_calls: bool | None = False
    """``None`` leaves it to the provider (some refuse the parameter)."""
    service_tier: Literal["auto", "default", "flex", "priority"] | None = None


RetellWebhookEvent = Literal[
    "call_started",
    "call_ended",
    "call_analyzed",
    "transcript_updated",
    "transfer_started",
    "transfer_bridged",
    "transfer_cancelled",
    "transfer_ended",
]

DEFAULT_WEBHOOK_EVENTS: tuple[RetellWebhookEvent, ...] = (
    "call_started",
    "call_ended",
    "call_analyzed",
    "transfer_started",
    "transfer_bridged",
    "transfer_cancelled",
    "transfer_ended",
)


class AnalysisField(_Model):
    """One custom field of Retell's post-call analysis (``post_call_analysis_data``)."""

    name: str = Field(min_length=1)
    type: Literal["string", "enum", "boolean", "number"]
    description: str = Field(min_length=1)
    choices: list[str] | None = None
    """The values of an ``enum`` field (and only of one)."""

    @model_validator(mode="after")
    def _choices(self) -> AnalysisField:
        if (self.type == "enum") != bool(self.choices):
            raise ValueError(f"analysis field {self.name!r}: choices are for enum fields only")
        return self


class RetellAgentConfig(_Model):
    """How ``voiceops retell setup`` configures the business's agent on Retell."""

    agent_name: str | None = None
    """The agent's name on Retell; ``None``: the business name followed by ``(voiceops)``."""
    voice_id: str | None = None
    """``None`` keeps the agent's voice (a new agent gets ``11labs-Adrian``)."""
    webhook_events: list[RetellWebhookEvent] = Field(
        default_factory=lambda: list(DEFAULT_WEBHOOK_EVENTS)
    )
    """Every event but the noisy ``transcript_updated`` by default."""
    webhook_timeout_ms: int = Field(default=10_000, ge=1_000, le=60_000)
    reminder_trigger_ms: int = Field(default=10_000, gt=0)
    """Caller silence after which Retell asks for a reminder turn."""
    reminder_max_count: int = Field(default=1, ge=0)
    end_call_after_silence_ms: int = Field(default=600_000, ge=10_000)
    post_call_analysis: list[AnalysisField] = Field(default_factory=list)
    """Custom fields Retell extracts after the call (summary, success and sentiment always)."""


class AgentProfile(_Model):
    """One business's agent. ``version`` is assigned by the store when a profile is saved."""

    version: int = 1
    business_name: str
    agent_name: str
    business_zone: str
    business_phone: str | None = None
    address: str | None = None
    opening_hours: dict[Weekday, list[Interval]]
    closed_dates: list[date] = Field(default_factory=list)
    services: list[Service]
    transfer: TransferConfig = Field(default_factory=TransferConfig)
    escalation: EscalationRules = Field(default_factory=EscalationRules)
    booking: BookingPolicy = Field(default_factory=BookingPolicy)
    fillers: list[str] = Field(
        default_factory=lambda: [
            "One moment, let me check.",
            "Let me look that up for you.",
            "Just a second.",
            "Bear with me a moment.",
        ]
    )
    faq: list[FaqEntry] = Field(default_factory=list)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    retell: RetellAgentConfig = Field(default_factory=RetellAgentConfig)
    greeting: str = (
        "Thanks for calling {{ business_name }}, this is {{ agent_name }}. How can I help?"
    )
    greeting_named: str = (
        "Hi {{ caller_name }}, thanks for calling {{ business_name }}, this is {{ agent_name }}."
        " How can I help?"
    )
    prompt_template: str | None = None
    """Voice prompt (only profile facts; the same on every turn); ``None`` uses the default
    in ``agent/prompts.py``."""
    turn_note_template: str | None = None
    """The note on this moment sent after the conversation (caller's clock, name, notes);
    ``None`` uses the default in ``agent/prompts.py``."""

    @field_validator("business_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("opening_hours", mode="before")
    @classmethod
    def _parse_hours(cls, value: object) -> object:
        """Accept ``mon: ["09:00-17:00"]`` as well as explicit interval objects."""
        if not isinstance(value, dict):
            return value
        parsed: dict[str, object] = {}
        for day, intervals in value.items():
            items = intervals if isinstance(intervals, list) else [intervals]
            out: list[object] = []
            for item in items:
                if isinstance(item, str):
                    match = _INTERVAL.match(item.strip())
                    if not match:
                        raise ValueError(f"opening hours {item!r} must look like 09:00-17:30")
                    h1, m1, h2, m2 = (int(g) for g in match.groups())
                    out.append({"start": time(h1, m1), "end": time(h2, m2)})
                else:
                    out.append(item)
            parsed[str(day).lower()[:3]] = out
        return parsed

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.business_zone)

    def service(self, name: str) -> Service | None:
        """The service called ``name`` or one of its aliases (case-insensitive)."""
        wanted = name.strip().lower()
        for service in self.services:
            if wanted == service.name.lower() or wanted in (a.lower() for a in service.aliases):
                return service
        return None


def load_profile(path: Path) -> AgentProfile:
    """Read and validate a profile YAML file; errors name the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read profile {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"profile {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"profile {path} must be a mapping at the top level")
    try:
        return AgentProfile.model_validate(raw)
    except ValueError as exc:
        raise ConfigError(f"profile {path} is invalid: {exc}") from exc
