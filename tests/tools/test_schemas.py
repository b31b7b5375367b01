"""The specs the model sees say what validation enforces, tool by tool.

For every tool, values are generated from its spec (each type, null where the spec allows
it, every enum member and one outside, each numeric bound and one past it) and validated
by the tool's argument model: validation must accept exactly what the spec allows. What
strict mode cannot say (string lengths, the calendar behind a date's format) is checked
against the argument model's full JSON schema instead, so it cannot drift either.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from tests.tools.support import make_profile
from voiceops.tools.schemas import (
    SCHEMAS,
    VALIDATION_ONLY,
    ToolSchema,
    specs_for,
)
from voiceops.tools.toolbox import TOOL_NAMES

PROFILE = make_profile()
SPECS = {spec["function"]["name"]: spec["function"] for spec in specs_for(PROFILE)}
STRICT_KEYWORDS = {"type", "description", "enum", "minimum", "maximum"}
"""The keywords a property may use: what strict mode accepts and these tools need."""
FORMATS = (
    # (what the description names, a value of that format, one that looks close but is not)
    ("YYYY-MM-DDTHH:MM", "2026-12-02T14:30", "2026-12-02 2:30pm"),
    ("YYYY-MM-DD", "2026-12-02", "next Thursday"),
    ("HH:MM", "14:30", "2:30pm"),
)
NOT_A_REAL_ONE = {
    "YYYY-MM-DDTHH:MM": "2026-02-30T14:30",
    "YYYY-MM-DD": "2026-02-30",
    "HH:MM": "24:30",
}

CASES = [pytest.param(schema, id=schema.name) for schema in SCHEMAS]


def accepts(schema: ToolSchema, arguments: dict[str, Any]) -> bool:
    try:
        schema.args.model_validate(arguments)
    except ValidationError:
        return False
    return True


def types_of(prop: dict[str, Any]) -> list[str]:
    kind = prop["type"]
    return kind if isinstance(kind, list) else [kind]


def fmt(prop: dict[str, Any]) -> str | None:
    """The date or time format a string property's description names, if any."""
    return next((name for name, _, _ in FORMATS if name in prop["description"]), None)


def sample(prop: dict[str, Any]) -> Any:
    """A value the spec allows, not null."""
    if "enum" in prop:
        return prop["enum"][0]
    if "integer" in types_of(prop):
        return prop.get("minimum", 1)
    named = fmt(prop)
    return next(good for name, good, _ in FORMATS if name == named) if named else "Ann"


def baseline(spec: dict[str, Any]) -> dict[str, Any]:
    """Every argument, each with a value its spec allows."""
    return {name: sample(prop) for name, prop in spec["parameters"]["properties"].items()}


def with_value(spec: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    return {**baseline(spec), name: value}


def properties(schema: ToolSchema) -> list[tuple[str, dict[str, Any]]]:
    return list(SPECS[schema.name]["parameters"]["properties"].items())


# -- the shape strict mode needs -------------------------------------------------------------


def test_one_spec_per_tool_in_dispatch_order() -> None:
    assert [schema.name for schema in SCHEMAS] == list(TOOL_NAMES) == list(SPECS)


@pytest.mark.parametrize("schema", CASES)
def test_specs_are_in_strict_modes_subset(schema: ToolSchema) -> None:
    spec = SPECS[schema.name]
    assert spec["strict"] is True
    params = spec["parameters"]
    assert params["additionalProperties"] is False
    assert params["required"] == list(params["properties"]) == list(schema.args.model_fields)
    for name, prop in properties(schema):
        assert set(prop) <= STRICT_KEYWORDS, (name, prop)
        assert prop["description"]
    json.dumps(spec)  # plain JSON, as sent


def constraints(prop: dict[str, Any]) -> dict[str, Any]:
    """A property's keywords, its ``anyOf`` variants' included, bar type, title and default."""
    merged: dict[str, Any] = {}
    for part in [*prop.get("anyOf", []), prop]:
        merged.update({k: v for k, v in part.items() if k not in ("anyOf", "type")})
    return {k: v for k, v in merged.items() if k not in ("title", "default")}


@pytest.mark.parametrize("schema", CASES)
def test_the_spec_keeps_every_constraint_but_those_strict_mode_refuses(
    schema: ToolSchema,
) -> None:
    full = schema.args.model_json_schema()["properties"]
    for name, prop in properties(schema):
        for keyword, value in constraints(full[name]).items():
            if keyword in VALIDATION_ONLY:
                assert keyword not in prop, (name, keyword)
            else:
                assert prop[keyword] == value, (name, keyword)


# -- validation accepts exactly what the spec allows ----------------------------------------


@pytest.mark.parametrize("schema", CASES)
def test_every_value_the_spec_allows_validates(schema: ToolSchema) -> None:
    spec = SPECS[schema.name]
    assert accepts(schema, baseline(spec))
    for name, prop in properties(schema):
        for value in prop.get("enum", []):
            assert accepts(schema, with_value(spec, name, value)), (name, value)
        if "null" in types_of(prop):
            assert accepts(schema, with_value(spec, name, None)), name


@pytest.mark.parametrize("schema", CASES)
def test_every_value_the_spec_refuses_is_refused(schema: ToolSchema) -> None:
    spec = SPECS[schema.name]
    assert not accepts(schema, {**baseline(spec), "unexpected": 1})
    for name, prop in properties(schema):
        kinds = types_of(prop)
        if "null" not in kinds:
            assert not accepts(schema, with_value(spec, name, None)), name
        if "string" in kinds:
            assert not accepts(schema, with_value(spec, name, 5)), name
        if "integer" in kinds:
            assert not accepts(schema, with_value(spec, name, "a few")), name
            assert not accepts(schema, with_value(spec, name, 1.5)), name
        if "enum" in prop and name != "service":
            # The catalogue's service names are an enum for the model, and validation takes
            # their aliases too (the tool resolves them); other enums are exact.
            assert not accepts(schema, with_value(spec, name, "urgent")), name


@pytest.mark.parametrize("schema", CASES)
def test_numeric_bounds_are_the_same_on_both_sides(schema: ToolSchema) -> None:
    spec = SPECS[schema.name]
    for name, prop in properties(schema):
        if "minimum" in prop:
            assert accepts(schema, with_value(spec, name, prop["minimum"]))
            assert not accepts(schema, with_value(spec, name, prop["minimum"] - 1))
        if "maximum" in prop:
            assert accepts(schema, with_value(spec, name, prop["maximum"]))
            assert not accepts(schema, with_value(spec, name, prop["maximum"] + 1))


def test_days_is_bounded_where_the_model_can_see_it() -> None:
    days = SPECS["check_availability"]["parameters"]["properties"]["days"]
    assert (days["minimum"], days["maximum"]) == (1, 14)


@pytest.mark.parametrize("schema", CASES)
def test_arguments_the_model_may_leave_out(schema: ToolSchema) -> None:
    # Strict mode makes the model send every argument; other callers (the flow brain, a
    # provider that ignores strict) may leave out exactly those with a default.
    spec = SPECS[schema.name]
    for name, field in schema.args.model_fields.items():
        arguments = baseline(spec)
        del arguments[name]
        assert accepts(schema, arguments) == (not field.is_required()), name


# -- what only validation can say --------------------------------------------------------


@pytest.mark.parametrize("schema", CASES)
def test_formats_named_in_descriptions_are_enforced(schema: ToolSchema) -> None:
    spec = SPECS[schema.name]
    for name, prop in properties(schema):
        named = fmt(prop) if "string" in types_of(prop) and "enum" not in prop else None
        if named is None:
            continue
        _, good, bad = next(f for f in FORMATS if f[0] == named)
        assert accepts(schema, with_value(spec, name, good)), name
        assert not accepts(schema, with_value(spec, name, bad)), name
        assert not accepts(schema, with_value(spec, name, NOT_A_REAL_ONE[named])), name


@pytest.mark.parametrize("schema", CASES)
def test_string_lengths_are_guard_rails_of_validation(schema: ToolSchema) -> None:
    spec = SPECS[schema.name]
    full = schema.args.model_json_schema()["properties"]
    for name, prop in properties(schema):
        if "string" not in types_of(prop) or "enum" in prop or fmt(prop):
            continue
        limits = next((v for v in full[name].get("anyOf", [full[name]]) if "type" in v), {})
        if "maxLength" in limits:
            longest = "x" * limits["maxLength"]
            assert accepts(schema, with_value(spec, name, longest)), name
            assert not accepts(schema, with_value(spec, name, longest + "x")), name
        if limits.get("minLength") == 1:
            assert not accepts(schema, with_value(spec, name, "   ")), name


def test_specs_are_generated_once_per_profile() -> None:
    assert specs_for(PROFILE) is specs_for(PROFILE)
    other = make_profile(services=[{"name": "massage", "duration_min": 60, "price": "80"}])
    book = next(s for s in specs_for(other) if s["function"]["name"] == "book_appointment")
    assert book["function"]["parameters"]["properties"]["service"]["enum"] == ["massage"]
    assert SPECS["book_appointment"]["parameters"]["properties"]["service"]["enum"] == [
        "haircut",
        "colour",
        "consultation",
    ]
