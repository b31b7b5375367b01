"""Scenario files: one scripted phone conversation and what a good receptionist does in it.

A scenario is a YAML file (the format is documented in ``docs/evals.md``; its JSON schema,
:func:`json_schema`, is shipped as ``evals/scenario.schema.json`` for editors). It says how
the call is set up (the server's pinned clock, the caller's number, zone, metadata and
dynamic variables, the profile, bookings already in the diary), what the caller says turn by
turn (words, ``(unintelligible audio)``, silence that brings a reminder, a barge-in, a reply
cut short), what each turn must and must not do, and what the database must hold after the
call.

Every file is validated before anything runs. An error names the file, the line, the turn
and the field (``evals/scenarios/x.yaml:14: turn 3: expect.says_any: ...``), so a typo is
found in the editor, not half-way through a run: unknown keys are errors too.

YAML is read with the safe loader, except that date-times, ``15:00`` and ``yes``/``no`` stay
strings (YAML 1.1 would turn ``15:00`` into the number 900, guess time zones, and make a
caller who says ``yes`` say ``True``); the models below parse them. Reading, validating
and reporting errors with their lines is ``loading.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

Brain = Literal["flow", "llm"]
Match = Literal["partial", "exact"]
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _as_list(value: object) -> object:
    """``"x"`` is accepted where a list of strings is expected."""
    return [value] if isinstance(value, str) else value


def _clock_time(value: object) -> object:
    """``"15:00"`` to a time."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
        if match is None:
            raise ValueError(f"{value!r} is not a time like 15:00")
        return time(int(match.group(1)), int(match.group(2)))
    return value


Phrases = Annotated[
    list[str],
    BeforeValidator(_as_list),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]
"""One phrase or a list of them."""
ClockTime = Annotated[
    dt.time,
    BeforeValidator(_clock_time),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,2}:\d{2}$"}),
]
LocalDateTime = Annotated[
    datetime,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?$",
        }
    ),
]
"""``2026-12-08T11:00`` (local) or with an offset."""


# --------------------------------------------------------------------------------------
# expectations of one turn


class ToolExpect(_Model):
    """A tool the agent must call in this turn."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    """Arguments to compare; values compare case-insensitively when they are strings."""
    match: Match = "partial"
    """``partial``: the listed arguments must be there with these values (others may be
    too); ``exact``: the arguments are exactly these."""


class TransferExpect(_Model):
    number: str | None = None
    """The E.164 number the call must be transferred to."""
    reason: str | None = None
    """Words the escalation's recorded reason must contain (needs the runner's own
    server, which reads its database)."""


class TurnExpect(_Model):
    """What one agent reply must (and must not) do. Every field is optional."""

    says: Phrases | None = None
    """Each of these must appear in the reply (case-insensitive)."""
    says_any: Phrases | None = None
    """At least one of these must appear in the reply (case-insensitive)."""
    matches: str | None = None
    """A regular expression the reply must match (case-insensitive ``search``)."""
    never_says: Phrases | None = None
    """None of these may appear in the reply (case-insensitive)."""
    never_matches: str | None = None
    """A regular expression the reply must not match (case-insensitive ``search``): for
    whole words (``'\\barr\\b'``) where a phrase would also be found inside others."""
    calls: list[ToolExpect] | None = None
    """Tools the agent must call in this turn (in any order)."""
    no_calls: bool | list[str] | None = None
    """``true``: no tool at all; a list: none of these tools."""
    transfer: bool | TransferExpect | None = None
    """``true`` or a number/reason: the reply transfers the call; ``false``: it does not."""
    ends_call: bool | None = None
    """The reply hangs up (``end_call``), or does not."""
    read_back: bool | None = None
    """A booking made in this turn was read back (service, day and time) in the agent's
    previous reply, and the caller agreed to it."""
    hygiene: bool = True
    """No markdown, emoji, URLs or symbols in what is spoken (on unless switched off)."""
    max_words: int | None = Field(default=None, gt=0)
    max_sentences: int | None = Field(default=None, gt=0)
    first_frame_ms: int | None = Field(default=None, gt=0)
    """Budget from the request to the first speakable frame (a holding line counts)."""
    filler: bool | None = None
    """A holding line ("One moment, let me check.") came first, or did not."""
    judge: str | None = None
    """A free-text criterion for the optional LLM judge (never required for CI)."""

    @field_validator("matches", "never_matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value


# --------------------------------------------------------------------------------------
# the caller's turns


class BargeIn(_Model):
    """The caller starts talking again ``after_ms`` after their words were sent."""

    after_ms: int = Field(ge=0)
    caller: str = Field(min_length=1)
    """What the caller says over the agent (a new request supersedes the reply)."""
    spoken_words: int = Field(default=0, ge=0)
    """If the superseded reply was already complete, how many of its words the caller
    heard before talking over it (they join the transcript, as Retell reports them)."""


class FakeToolCall(_Model):
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class FakeStep(_Model):
    """One answer of the fake OpenAI-compatible model (``--brain llm`` without a key)."""

    says: str | None = None
    tool: FakeToolCall | None = None
    first_token_ms: int = Field(default=0, ge=0)


class Turn(_Model):
    """One caller turn: exactly one of ``caller`` or ``silence``."""

    caller: str | None = None
    """What the caller says; ``(unintelligible audio)`` is how Retell marks noise."""
    silence: bool = False
    """The caller says nothing: Retell sends ``reminder_required``."""
    barge_in: BargeIn | None = None
    cut_short: int | None = Field(default=None, ge=0)
    """The caller talked over this reply after hearing this many of its words: the
    transcript keeps only those (an ``update_only`` with the agent's text cut short)."""
    pause_ms: int = Field(default=0, ge=0)
    """Wait this long before the caller speaks."""
    note: str | None = None
    """Shown in reports next to the turn."""
    expect: TurnExpect = Field(default_factory=TurnExpect)
    fake_llm: list[FakeStep] | FakeStep | None = None
    """What the fake model answers in this turn, one step per request (else a default); a
    single step may be written without the list."""

    @property
    def fake_steps(self) -> list[FakeStep] | None:
        if isinstance(self.fake_llm, FakeStep):
            return [self.fake_llm]
        return self.fake_llm

    @field_validator("fake_llm", mode="before")
    @classmethod
    def _one_step(cls, value: object) -> object:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _one_kind(self) -> Turn:
        if (self.caller is None) == (not self.silence):
            raise ValueError("a turn has either `caller: <words>` or `silence: true`")
        if self.silence and self.barge_in is not None:
            raise ValueError("a silent turn cannot barge in")
        return self

    @property
    def said(self) -> str:
        return self.caller if self.caller is not None else ""


# --------------------------------------------------------------------------------------
# call set-up


class CallSetup(_Model):
    """The call as Retell describes it in ``call_details``, and the server's clock."""

    now: LocalDateTime | None = None
    """The server's wall clock at the start of the call (pinned; it then runs on). A
    local time (``2026-12-08T11:00``) is in ``now_zone``; an offset may be given instead."""
    now_zone: str | None = None
    """Zone of a local ``now``; default: the business's zone."""
    from_number: str = "+12125550100"
    to_number: str = "+12125550142"
    direction: Literal["inbound", "outbound"] = "inbound"
    call_type: Literal["phone_call", "web_call"] = "phone_call"
    caller_zone: str | None = None
    """The caller's IANA zone, sent as ``metadata.caller_timezone``."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    dynamic_variables: dict[str, str] = Field(default_factory=dict)

    @field_validator("now_zone", "caller_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("from_number", "to_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        if not _E164.match(value):
            raise ValueError(f"{value!r} is not an E.164 number (+countrycode...)")
        return value

    def pinned_start(self, business_zone: str) -> datetime | None:
        """``now`` as an aware instant, or ``None`` when the scenario does not pin it."""
        if self.now is None:
            return None
        if self.now.tzinfo is not None:
            return self.now
        return self.now.replace(tzinfo=ZoneInfo(self.now_zone or business_zone))

    def call_object(self, call_id: str) -> dict[str, Any]:
        """The ``call`` of Retell's ``call_details`` frame."""
        metadata = dict(self.metadata)
        if self.caller_zone is not None:
            metadata.setdefault("caller_timezone", self.caller_zone)
        call: dict[str, Any] = {
            "call_id": call_id,
            "call_type": self.call_type,
            "direction": self.direction,
            "call_status": "registered",
            "agent_id": "agent_eval",
        }
        if self.call_type == "phone_call":
            call["from_number"] = self.from_number
            call["to_number"] = self.to_number
        if metadata:
            call["metadata"] = metadata
        if self.dynamic_variables:
            call["retell_llm_dynamic_variables"] = dict(self.dynamic_variables)
        return call


class ProfileSetup(_Model):
    path: str | None = None
    """A profile file, relative to the scenario file (default: the runner's profile)."""
    overrides: dict[str, Any] = Field(default_factory=dict)
    """Merged into the profile key by key (mappings merge, anything else replaces)."""


class ServerSetup(_Model):
    """Server settings this scenario needs (the runner's own server only)."""

    speak_first: bool | None = None
    filler_deadline_ms: int | None = Field(default=None, gt=0)


class SeedBooking(_Model):
    """A booking already in the diary when the call starts."""

    service: str
    start: LocalDateTime
    """Local wall time in the business's zone (or with an offset)."""
    name: str
    phone: str | None = None
    status: Literal["confirmed", "cancelled"] = "confirmed"


class Setup(_Model):
    bookings: list[SeedBooking] = Field(default_factory=list)


class Budgets(_Model):
    first_frame_ms: int = Field(default=2000, gt=0)
    """Every turn's budget for its first speakable frame, unless the turn says otherwise."""


# --------------------------------------------------------------------------------------
# expectations of the whole call


class BookingExpect(_Model):
    """One booking in the diary after the call (fields not given are not compared)."""

    service: str | None = None
    date: dt.date | None = None
    """The caller-local date of the start."""
    time: ClockTime | None = None
    """The caller-local time of the start (``"15:00"``)."""
    name: str | None = None
    status: Literal["confirmed", "cancelled"] | None = None
    zone: str | None = None
    """The caller zone it was booked in."""
    phone: str | None = None


class CallbackExpect(_Model):
    name: str | None = None
    phone: str | None = None
    reason: str | None = None
    """Words the recorded reason must contain (case-insensitive)."""
    priority: Literal["low", "medium", "high"] | None = None


class EscalationExpect(_Model):
    trigger: str | None = None
    """What set it off: ``phrase``, ``frustration``, ``loop`` (rules), ``model``/``flow``
    (the brain decided)."""
    outcome: str | None = None
    """``transfer``, ``callback``, ``reasserted``, ``transfer_abandoned``."""
    reason: str | None = None
    number: str | None = None


class CallExpect(_Model):
    """What must hold after the call; every field is optional."""

    bookings: list[BookingExpect] | None = None
    """Every booking in the diary after the call, seeded ones included (any order)."""
    callbacks: list[CallbackExpect] | None = None
    """Every callback request taken."""
    escalations: list[EscalationExpect] | None = None
    """Every escalation recorded for the call, in order."""
    transfers: int | None = Field(default=None, ge=0)
    """How many replies carried a ``transfer_number``."""
    events: dict[str, int] | list[str] | None = None
    """Call events written: a list of types that must be present, or exact counts."""
    read_back_before_booking: bool = True
    """Every booking, move or cancellation was read back and agreed to first."""


class Scenario(_Model):
    """One scripted call. See ``docs/evals.md``."""

    name: str | None = None
    """Defaults to the file name."""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    xfail: str | dict[Brain, str] | None = None
    """Why the agent is expected to fail this today (per brain, or for all). A failure is
    then reported as XFAIL, a pass as XPASS (remove the mark)."""
    parallel: bool = True
    """False: run alone, after the others (for timing-sensitive calls)."""
    call: CallSetup = Field(default_factory=CallSetup)
    profile: ProfileSetup | None = None
    server: ServerSetup = Field(default_factory=ServerSetup)
    setup: Setup = Field(default_factory=Setup)
    budgets: Budgets = Field(default_factory=Budgets)
    greeting: TurnExpect | None = None
    """Expectations of the begin message."""
    turns: list[Turn] = Field(min_length=1)
    after_call: CallExpect = Field(default_factory=CallExpect)

    def xfail_for(self, brain: Brain) -> str | None:
        if isinstance(self.xfail, str):
            return self.xfail
        if self.xfail is None:
            return None
        return self.xfail.get(brain)

    @property
    def needs_own_server(self) -> list[str]:
        """What in this scenario only the runner's own server can provide."""
        needs = []
        if self.call.now is not None:
            needs.append("a pinned clock")
        if self.setup.bookings:
            needs.append("seeded bookings")
        if self.profile is not None:
            needs.append("its own profile")
        if self.server != ServerSetup():
            needs.append("server settings")
        return needs
