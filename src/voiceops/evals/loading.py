"""Loading scenario files: YAML read with the safe loader (date-times, clock times and
``yes``/``no`` kept as strings), validated against the models of ``scenario.py``, every
error named by file, line, turn and field, and the scenario's profile built from the base
profile and its overrides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from voiceops.core.errors import ConfigError
from voiceops.core.profile import AgentProfile, load_profile
from voiceops.evals.scenario import Scenario

_SLUG = re.compile(r"[^a-z0-9_]+")


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
