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
caller who says ``yes`` say ``True``); the models below parse them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from voiceops.core.errors import ConfigError
from voiceops.core.profile import AgentProfile, load_profile

Brain = Literal["flow", "llm"]
Match = Literal["partial", "exact"]
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SLUG = re.compile(r"[^a-z0-9_]+")


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


# --------------------------------------------------------------------------------------
# loading


@dataclass(frozen=True, slots=True)
class LoadedScenario:
    """A validated scenario with what it was loaded from."""

    path: Path
    name: str
    scenario: Scenario
    profile: AgentProfile
    """The profile the runner's own server uses for it (overrides applied)."""

    @property
    def slug(self) -> str:
        return _SLUG.sub("_", self.name.lower()).strip("_")[:40] or "scenario"


@dataclass(frozen=True, slots=True)
class ScenarioProblem:
    """One error in one file: where it is and what is wrong."""

    path: Path
    message: str
    line: int | None = None
    turn: str | None = None
    """``turn 3``, ``greeting``, or ``None`` for the scenario's other parts."""
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        parts = [where]
        if self.turn is not None:
            parts.append(self.turn)
        if self.field:
            parts.append(self.field)
        return ": ".join([*parts, self.message])


class ScenarioError(Exception):
    """One or more scenario files are invalid; :attr:`problems` says where and why."""

    def __init__(self, problems: Sequence[ScenarioProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class _Loader(yaml.SafeLoader):
    """The safe loader, with date-times and ``HH:MM`` kept as strings."""


def _plain_string(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)  # type: ignore[arg-type]


def _int_or_clock(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    if isinstance(value, str) and ":" in value:
        return value  # YAML 1.1 would read 15:00 as 900 (base 60)
    return yaml.SafeLoader.construct_yaml_int(loader, node)  # type: ignore[arg-type]


def _bool_or_word(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value  # "caller: yes" is the word yes (the models read yes/no where they mean it)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _plain_string)
_Loader.add_constructor("tag:yaml.org,2002:bool", _bool_or_word)
_Loader.add_constructor("tag:yaml.org,2002:int", _int_or_clock)


def read_yaml(text: str) -> Any:
    """A scenario file's YAML as the runner reads it (date-times and ``HH:MM`` as strings,
    ``yes``/``no`` as words)."""
    return yaml.load(text, Loader=_Loader)


def _line_of(root: yaml.Node | None, loc: Sequence[int | str]) -> tuple[int | None, list[str]]:
    """The 1-based line of the value at ``loc`` in the YAML tree (as deep as it can follow),
    and the parts of ``loc`` that name keys and indexes in the file (pydantic adds the
    names of union members, which are not in the file)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    kept: list[str] = []
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if child is None:
                if part.isidentifier():
                    kept.append(part)
                continue
            node = child
            kept.append(part)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                continue
            node = node.value[part]
            kept.append(str(part))
        else:
            if isinstance(part, str) and part.isidentifier() and node is None:
                kept.append(part)
            continue
        line = node.start_mark.line + 1
    return line, kept


def _problem(
    path: Path, root: yaml.Node | None, loc: Sequence[int | str], msg: str
) -> ScenarioProblem:
    line, parts = _line_of(root, loc)
    turn: str | None = None
    if len(parts) >= 2 and parts[0] == "turns" and parts[1].isdigit():
        turn = f"turn {int(parts[1]) + 1}"
        parts = parts[2:]
    elif parts and parts[0] == "greeting":
        turn = "greeting"
        parts = parts[1:]
    return ScenarioProblem(path, msg, line=line, turn=turn, field=".".join(parts) or None)


def _merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = _merge(current, value)
        else:
            merged[key] = value
    return merged


def profile_for(
    scenario: Scenario, path: Path, base: AgentProfile
) -> tuple[AgentProfile | None, list[tuple[list[int | str], str]]]:
    """The profile ``scenario`` runs with, or the errors (location, message) why not."""
    if scenario.profile is None:
        return base, []
    setup = scenario.profile
    profile = base
    if setup.path is not None:
        try:
            profile = load_profile((path.parent / setup.path).resolve())
        except ConfigError as exc:
            return None, [(["profile", "path"], str(exc))]
    if not setup.overrides:
        return profile, []
    body = _merge(profile.model_dump(mode="json"), setup.overrides)
    try:
        return AgentProfile.model_validate(body), []
    except ValidationError as exc:
        return None, [(["profile", "overrides", *err["loc"]], err["msg"]) for err in exc.errors()]


def load_scenario(path: Path, base_profile: AgentProfile) -> LoadedScenario:
    """Read and validate one scenario file; raises :class:`ScenarioError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([ScenarioProblem(path, f"cannot read: {exc.strerror}")]) from None
    try:
        root = yaml.compose(text, Loader=_Loader)
        raw = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(
            [ScenarioProblem(path, f"not valid YAML: {reason}", line=line)]
        ) from None
    if not isinstance(raw, dict):
        raise ScenarioError([ScenarioProblem(path, "a scenario is a mapping (name:, turns: ...)")])
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(
            [_problem(path, root, err["loc"], err["msg"]) for err in exc.errors()]
        ) from None
    profile, errors = profile_for(scenario, path, base_profile)
    if profile is None:
        raise ScenarioError([_problem(path, root, loc, msg) for loc, msg in errors])
    problems = _check_services(scenario, profile, path, root)
    if problems:
        raise ScenarioError(problems)
    return LoadedScenario(path, scenario.name or path.stem, scenario, profile)


def _check_services(
    scenario: Scenario, profile: AgentProfile, path: Path, root: yaml.Node | None
) -> list[ScenarioProblem]:
    """Seeded bookings must name services the profile offers (a typo would be a silent
    mismatch later)."""
    problems = []
    for i, booking in enumerate(scenario.setup.bookings):
        if profile.service(booking.service) is None:
            problems.append(
                _problem(
                    path,
                    root,
                    ["setup", "bookings", i, "service"],
                    f"the profile offers no service {booking.service!r}",
                )
            )
    return problems


def scenario_files(paths: Sequence[Path]) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files under ``paths`` (files as given), sorted, no repeats."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for child in sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")]):
                found.setdefault(child, None)
        else:
            found.setdefault(path, None)
    return list(found)


def load_all(paths: Sequence[Path], base_profile: AgentProfile) -> list[LoadedScenario]:
    """Load every scenario under ``paths``; all problems of all files in one error."""
    problems: list[ScenarioProblem] = []
    loaded: list[LoadedScenario] = []
    files = scenario_files(paths)
    if not files:
        raise ScenarioError(
            [ScenarioProblem(Path(", ".join(map(str, paths)) or "."), "no scenario files found")]
        )
    for path in files:
        if not path.exists():
            problems.append(ScenarioProblem(path, "no such file"))
            continue
        try:
            loaded.append(load_scenario(path, base_profile))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    names: dict[str, Path] = {}
    for item in loaded:
        other = names.setdefault(item.name, item.path)
        if other != item.path:
            problems.append(
                ScenarioProblem(item.path, f"name {item.name!r} is used by {other} too")
            )
    if problems:
        raise ScenarioError(problems)
    return loaded


def json_schema() -> dict[str, Any]:
    """The JSON schema of a scenario file (for editors and other tools)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "voiceops evaluation scenario"
    return schema
