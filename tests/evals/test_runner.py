"""The runner against real servers: outcomes, xfail and XPASS, repeats, --url, storage,
the fake model, the judge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import openai
import pytest

from tests.conftest import run_server
from tests.evals.support import PROFILE, write
from voiceops.config import Settings
from voiceops.evals.fakellm import Answer, FakeModel, ToolCall
from voiceops.evals.harness import serve_app
from voiceops.evals.judge import Judge, JudgeCache
from voiceops.evals.loading import load_scenario
from voiceops.evals.outcome import EvalOptions, RunResult, ScenarioResult, percentile
from voiceops.evals.runner import run_suite
from voiceops.store.db import Database
from voiceops.store.evals import EvalRunRepo

BOOKING = """
call:
  now: 2026-12-08T11:00
turns:
  - caller: Hi, can I book a haircut for tomorrow at 3pm?
  - caller: It's Dana
    expect:
      says: [Wednesday, 3 PM]
  - caller: Yes, please.
    expect:
      calls: [{name: book_appointment, args: {start: "2026-12-09T15:00"}}]
after_call:
  bookings:
    - {service: haircut, date: 2026-12-09, time: "15:00", name: Dana}
"""


def options(*paths: Path, **kw: object) -> EvalOptions:
    opts = EvalOptions(paths=list(paths), store=False, jobs=2)
    for key, value in kw.items():
        setattr(opts, key, value)
    return opts


async def test_a_booking_call_passes_and_its_database_is_checked(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    path = write(tmp_path, "book.yaml", BOOKING)
    run = await run_suite(options(path), make_settings(), PROFILE)
    (result,) = run.results
    assert result.status == "passed", result.reason
    assert run.exit_code() == 0
    names = {(c.where, c.name) for c in result.checks}
    assert ("call", "bookings") in names and ("turn 3", "calls") in names
    assert ("call", "keepalive") in names and ("call", "stale_frames") in names
    assert len(result.turn_latencies) == 3


async def test_a_failing_expectation_fails_the_run_and_says_where(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    path = write(
        tmp_path,
        "pizza.yaml",
        """
        call: {now: 2026-12-08T11:00}
        turns:
          - caller: Do you do pizza?
            expect: {says: [pepperoni]}
        """,
    )
    run = await run_suite(options(path), make_settings(), PROFILE)
    (result,) = run.results
    assert result.status == "failed"
    assert result.reason.startswith("turn 1: says: missing ['pepperoni']")
    assert run.exit_code() == 1


async def test_xfail_is_reported_as_xfailed_or_xpassed_never_skipped(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    write(
        tmp_path,
        "still_failing.yaml",
        """
        xfail: the agent does not make pizza
        call: {now: 2026-12-08T11:00}
        turns:
          - caller: Do you do pizza?
            expect: {says: [pepperoni]}
        """,
    )
    write(
        tmp_path,
        "fixed.yaml",
        """
        xfail: {flow: "it used to fail"}
        call: {now: 2026-12-08T11:00}
        turns:
          - caller: Is there parking near you?
            expect: {says: [parking]}
        """,
    )
    run = await run_suite(options(tmp_path), make_settings(), PROFILE)
    status = {r.name: r.status for r in run.results}
    assert status == {"fixed": "xpassed", "still_failing": "xfailed"}
    assert {r.name: r.reason for r in run.results}["fixed"] == "it used to fail"
    assert run.exit_code() == 0
    assert run.exit_code(strict_xfail=True) == 1


async def test_repeat_plays_each_scenario_n_times(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    path = write(tmp_path, "book.yaml", BOOKING)
    run = await run_suite(options(path, repeat=2), make_settings(), PROFILE)
    assert [(r.name, r.attempt, r.status) for r in run.results] == [
        ("book", 1, "passed"),
        ("book", 2, "passed"),
    ]
    assert run.flaky == [] and run.exit_code() == 0


def test_mixed_outcomes_over_the_repeats_are_flaky(tmp_path: Path) -> None:
    loaded = load_scenario(write(tmp_path, "a.yaml", "turns: [{caller: hi}]\n"), PROFILE)
    results = [
        ScenarioResult(loaded, 1, "passed", "flow"),
        ScenarioResult(loaded, 2, "failed", "flow"),
    ]
    at = datetime(2026, 12, 8, tzinfo=UTC)
    run = RunResult("r", at, at, "flow", "own server", "x", results=results, duration_s=1.0)
    assert run.flaky == ["a"] and run.exit_code() == 1


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 95) == 95.0


async def test_against_a_running_server_what_needs_our_own_is_skipped_and_said(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    write(tmp_path, "pinned.yaml", BOOKING)
    write(
        tmp_path,
        "any_day.yaml",
        """
        turns:
          - caller: (unintelligible audio)
            expect: {says_any: [catch, again], transfer: false}
        after_call:
          bookings: []
        """,
    )
    async with run_server(make_settings()) as server:
        run = await run_suite(options(tmp_path, url=server.ws_base), make_settings(), PROFILE)
    by_name = {r.name: r for r in run.results}
    assert by_name["pinned"].status == "skipped"
    assert "a pinned clock" in by_name["pinned"].reason and "--url" in by_name["pinned"].reason
    played = by_name["any_day"]
    assert played.status == "passed", played.reason
    bookings = next(c for c in played.checks if c.name == "bookings")
    assert not bookings.applied and "own server" in bookings.note
    assert run.target == server.ws_base and run.brain == "flow"


async def test_the_run_is_stored_with_its_results(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    write(tmp_path, "book.yaml", BOOKING)
    write(
        tmp_path,
        "fails.yaml",
        "call: {now: 2026-12-08T11:00}\nturns: [{caller: hi, expect: {says: nope}}]\n",
    )
    settings = make_settings()
    run = await run_suite(options(tmp_path, store=True), settings, PROFILE)
    assert run.stored and run.profile_version == 1
    db = await Database.open(settings.database_url)
    try:
        repo = EvalRunRepo(db)
        (stored,) = await repo.list_runs()
        assert stored.run_id == run.run_id and stored.status == "failed"
        assert (stored.passed, stored.failed, stored.scenarios) == (1, 1, 2)
        assert stored.brain == "flow" and stored.code_version.startswith("0.1.0")
        assert stored.first_frame_p50_ms is not None
        results = {r.scenario: r for r in await repo.results(run.run_id)}
        assert results["fails"].failures[0]["check"] == "says"
        assert results["book"].status == "passed" and results["book"].turns == 3
        assert await repo.latest_passing(1) is None, "a failed run does not open the gate"
    finally:
        await db.close()


async def test_the_fake_model_applies_protocol_checks_only(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    path = write(
        tmp_path,
        "slow.yaml",
        """
        call: {now: 2026-12-08T11:00}
        turns:
          - caller: Can I book a haircut?
            fake_llm: {says: "Sure, which day?", first_token_ms: 900}
            expect:
              filler: true
              first_frame_ms: 800
              says: [this is not checked]
          - caller: What do you offer?
            expect:
              filler: false
              transfer: false
        """,
    )
    settings = make_settings(brain="auto")
    run = await run_suite(options(path, brain="llm"), settings, PROFILE)
    (result,) = run.results
    assert run.brain == "llm (fake model)" and not run.content_checks
    assert result.status == "passed", [c.detail for c in result.failures]
    says = next(c for c in result.checks if c.name == "says")
    assert not says.applied and "fake model" in says.note
    assert result.record is not None
    first, second = result.record.turns[1:]
    assert first.filler is not None and "which day" in first.text
    hygiene = [c for c in result.checks if c.name == "hygiene"]
    assert hygiene and all(c.passed for c in hygiene), "the bait reply reached the caller clean"
    assert second.text


async def test_the_judge_gives_verdicts_and_caches_them(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    path = write(
        tmp_path,
        "judged.yaml",
        """
        call: {now: 2026-12-08T11:00}
        turns:
          - caller: Is there parking near you?
            expect:
              judge: answers where to park
        """,
    )
    model = FakeModel()
    async with serve_app(model.app) as port:
        client = openai.AsyncOpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0
        )
        try:
            cache = JudgeCache(tmp_path / "cache.json")
            judge = Judge(client, "judge-model", cache)
            verdict = {"verdict": "fail", "reason": "it talks about the weather"}
            model.load([Answer(tool_calls=(ToolCall("verdict", verdict),))])
            run = await run_suite(options(path), make_settings(), PROFILE, judge=judge)
            (result,) = run.results
            judged = next(c for c in result.checks if c.name == "judge")
            assert result.status == "failed" and judged.failed
            assert judged.note == "it talks about the weather"
            request = model.requests[0].body
            assert request["temperature"] == 0
            assert request["tool_choice"]["function"]["name"] == "verdict"
            assert "Caller: Is there parking near you?" in request["messages"][1]["content"]
            cache.save()

            again = Judge(client, "judge-model", JudgeCache(tmp_path / "cache.json"))
            rerun = await run_suite(options(path), make_settings(), PROFILE, judge=again)
            (second,) = rerun.results
            cached = next(c for c in second.checks if c.name == "judge")
            assert cached.note.endswith("(cached)") and again.asked == 0
            assert len(model.requests) == 1, "a cached verdict asks nothing"
        finally:
            await client.close()


async def test_without_a_judge_criteria_are_listed_as_not_judged(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    path = write(
        tmp_path,
        "judged.yaml",
        "call: {now: 2026-12-08T11:00}\nturns: [{caller: hi, expect: {judge: is polite}}]\n",
    )
    run = await run_suite(options(path), make_settings(), PROFILE)
    (result,) = run.results
    judged = next(c for c in result.checks if c.name == "judge")
    assert not judged.applied and "--judge" in judged.note
    assert result.status == "passed"


@pytest.mark.parametrize("verdict", ["pass", "unsure"])
async def test_pass_and_unsure_verdicts_do_not_fail(
    tmp_path: Path, make_settings: Callable[..., Settings], verdict: str
) -> None:
    path = write(
        tmp_path,
        "judged.yaml",
        "call: {now: 2026-12-08T11:00}\nturns: [{caller: hi, expect: {judge: is polite}}]\n",
    )
    model = FakeModel()
    async with serve_app(model.app) as port:
        client = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x")
        try:
            model.load(
                [Answer(tool_calls=(ToolCall("verdict", {"verdict": verdict, "reason": "r"}),))]
            )
            judge = Judge(client, "m", JudgeCache(tmp_path / "c.json"))
            run = await run_suite(options(path), make_settings(), PROFILE, judge=judge)
        finally:
            await client.close()
    (result,) = run.results
    assert result.status == "passed"
    assert next(c for c in result.checks if c.name == "judge").detail.endswith(verdict)
