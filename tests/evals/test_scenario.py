"""The scenario format: what loads, and errors that name the file, line, turn and field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from tests.evals.support import PROFILE, scenario, write
from voiceops.evals.loading import (
    ScenarioError,
    json_schema,
    load_all,
    load_scenario,
    read_yaml,
    scenario_files,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "evals" / "scenarios"


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        scenario(tmp_path, text)
    return [str(p) for p in caught.value.problems]


def test_a_minimal_scenario_loads_with_defaults(tmp_path: Path) -> None:
    loaded = scenario(
        tmp_path,
        """
        call:
          now: 2026-12-08T11:00
        turns:
          - caller: hi
            expect:
              says: hello
        """,
        name="my_call.yaml",
    )
    assert loaded.name == "my_call"
    s = loaded.scenario
    assert s.turns[0].expect.says == ["hello"], "one phrase is a list of one"
    assert s.turns[0].expect.hygiene is True
    start = s.call.pinned_start(PROFILE.business_zone)
    assert start is not None and start.astimezone(UTC) == datetime(2026, 12, 8, 16, 0, tzinfo=UTC)
    assert s.after_call.read_back_before_booking is True


def test_times_and_date_times_stay_strings_for_the_models(tmp_path: Path) -> None:
    loaded = scenario(
        tmp_path,
        """
        call:
          now: 2026-12-08T11:00:00-05:00
        turns:
          - caller: hi
        after_call:
          bookings:
            - {service: haircut, time: 15:00, date: 2026-12-09}
        """,
    )
    (booking,) = loaded.scenario.after_call.bookings or []
    assert booking.time == time(15, 0), "YAML 1.1 would have made 900 of 15:00"
    assert loaded.scenario.call.now is not None and loaded.scenario.call.now.utcoffset() is not None


def test_an_unknown_key_names_file_line_turn_and_field(tmp_path: Path) -> None:
    (message,) = problems(
        tmp_path,
        """
        turns:
          - caller: hi
          - caller: again
            expect:
              sayz: hello
        """,
    )
    assert message.startswith(f"{tmp_path / 's.yaml'}:5: turn 2: expect.sayz:")
    assert "Extra inputs" in message


def test_a_turn_is_words_or_silence_not_both(tmp_path: Path) -> None:
    (message,) = problems(
        tmp_path,
        """
        turns:
          - caller: hi
            silence: true
        """,
    )
    assert ": turn 1:" in message and "either" in message


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("turns:\n  - caller: hi\n    expect: {matches: '(unclosed'}", "expect.matches", "regular"),
        ("call: {caller_zone: Mars/Base}\nturns:\n  - caller: hi", "call.caller_zone", "zone"),
        ("call: {from_number: '555'}\nturns:\n  - caller: hi", "call.from_number", "E.164"),
        ("turns:\n  - caller: hi\n    expect: {max_words: 0}", "expect.max_words", "greater"),
        ("turns: []", "turns", "at least 1"),
        (
            "turns:\n  - caller: hi\nafter_call:\n  bookings:\n    - {time: '3pm'}",
            "after_call.bookings.0.time",
            "15:00",
        ),
    ],
)
def test_field_errors(tmp_path: Path, body: str, field: str, words: str) -> None:
    (message,) = problems(tmp_path, body)
    where = f": turn 1: {field}:" if field.startswith("expect.") else f": {field}:"
    assert where in message, message
    assert words in message


def test_profile_overrides_are_validated_as_a_profile(tmp_path: Path) -> None:
    (message,) = problems(
        tmp_path,
        """
        profile:
          overrides:
            booking: {max_offers: 0}
        turns:
          - caller: hi
        """,
    )
    assert "profile.overrides.booking.max_offers" in message


def test_profile_overrides_merge_into_the_base_profile(tmp_path: Path) -> None:
    loaded = scenario(
        tmp_path,
        """
        profile:
          overrides:
            business_name: Oak Lane Barbers
            transfer: {default: "+12125550999"}
        turns:
          - caller: hi
        """,
    )
    assert loaded.profile.business_name == "Oak Lane Barbers"
    assert loaded.profile.transfer.default == "+12125550999"
    assert loaded.profile.transfer.by_reason == PROFILE.transfer.by_reason, "merged, not replaced"


def test_a_seeded_booking_must_name_a_service_the_profile_offers(tmp_path: Path) -> None:
    (message,) = problems(
        tmp_path,
        """
        setup:
          bookings:
            - {service: manicure, start: 2026-12-10T14:00, name: Dana}
        turns:
          - caller: hi
        """,
    )
    assert "setup.bookings.0.service" in message and "manicure" in message


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    (message,) = problems(tmp_path, "turns:\n  - caller: [unclosed\n")
    assert message.startswith(f"{tmp_path / 's.yaml'}:") and "not valid YAML" in message


def test_load_all_reports_every_problem_of_every_file_before_running(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "turns:\n  - caller: hi\n    expect: {nope: 1}\n")
    write(tmp_path, "b.yaml", "turns:\n  - silence: maybe\n")
    write(tmp_path, "c.yaml", "name: a\nturns:\n  - caller: hi\n")
    write(tmp_path, "d.yaml", "name: a\nturns:\n  - caller: hi\n")
    with pytest.raises(ScenarioError) as caught:
        load_all([tmp_path], PROFILE)
    text = str(caught.value)
    assert "a.yaml" in text and "b.yaml" in text and "is used by" in text


def test_no_scenarios_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_all([tmp_path], PROFILE)


def test_scenario_files_are_sorted_and_unique(tmp_path: Path) -> None:
    b = write(tmp_path, "b.yaml", "turns: [{caller: hi}]\n")
    a = write(tmp_path, "a.yml", "turns: [{caller: hi}]\n")
    assert scenario_files([tmp_path, b]) == [a, b]


def test_the_shipped_schema_file_is_the_models_schema() -> None:
    shipped = json.loads((ROOT / "evals" / "scenario.schema.json").read_text())
    assert shipped == json_schema(), (
        "regenerate with: voiceops eval --schema > evals/scenario.schema.json"
    )


def test_the_shipped_scenarios_validate_against_the_schema_file() -> None:
    import jsonschema

    schema = json.loads((ROOT / "evals" / "scenario.schema.json").read_text())
    for path in scenario_files([SHIPPED]):
        jsonschema.validate(read_yaml(path.read_text()), schema)


def test_fifty_scenarios_are_shipped_and_all_load() -> None:
    loaded = load_all([SHIPPED], PROFILE)
    assert len(loaded) >= 50
    for item in loaded:
        assert item.scenario.call.now is not None, f"{item.name}: no test may depend on the day"
        assert item.scenario.description, f"{item.name}: say what a good receptionist does"


def test_load_scenario_reads_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "turns: [{silence: true}]\n")
    assert load_scenario(path, PROFILE).scenario.turns[0].silence


def test_a_caller_who_says_yes_says_the_word_not_true(tmp_path: Path) -> None:
    loaded = scenario(tmp_path, "turns:\n  - caller: yes\n  - silence: true\n  - caller: no\n")
    assert [t.caller for t in loaded.scenario.turns] == ["yes", None, "no"]
    assert loaded.scenario.turns[1].silence is True
