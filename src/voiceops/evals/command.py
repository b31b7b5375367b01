"""``voiceops eval`` behind the command line: the options in, an exit code out.

The ``eval`` command in ``cli.py`` only parses options; this module loads the profile,
prints progress and the summary, writes the report files, and maps outcomes to exit codes:
0 all passed (xfailed and skipped included), 1 a scenario failed, errored or was flaky,
2 the scenarios or options are invalid (nothing was played).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import openai

from voiceops.config import Settings
from voiceops.core.errors import ConfigError, StorageError
from voiceops.core.profile import AgentProfile, load_profile
from voiceops.evals.fromcall import CallNotFound, differences, scenario_from_call
from voiceops.evals.judge import Judge, JudgeCache
from voiceops.evals.loading import ScenarioError, json_schema
from voiceops.evals.outcome import EvalOptions, RunResult, ScenarioResult
from voiceops.evals.report import (
    progress_line,
    summary,
    to_html,
    to_json,
    to_junit,
    transcript,
)
from voiceops.evals.runner import run_suite
from voiceops.store.db import Database

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def print_schema() -> int:
    _out(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def _judge(options: EvalOptions, settings: Settings, profile: AgentProfile) -> Judge | None:
    if not options.judge:
        return None
    if not settings.llm_configured:
        raise ConfigError("--judge needs an LLM: set VOICEOPS_LLM_API_KEY or VOICEOPS_LLM_BASE_URL")
    client = openai.AsyncOpenAI(
        api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else "none",
        base_url=settings.llm_base_url,
        max_retries=1,
        timeout=60,
    )
    model = options.judge_model or settings.llm_model or profile.llm.model
    return Judge(client, model, JudgeCache(options.judge_cache))


def write_reports(run: RunResult, options: EvalOptions) -> None:
    repeated = options.repeat > 1
    files: list[tuple[Path | None, Callable[[], str]]] = [
        (options.json_path, lambda: to_json(run)),
        (options.junit_path, lambda: to_junit(run, repeated=repeated)),
        (options.html_path, lambda: to_html(run, repeated=repeated)),
    ]
    for path, render in files:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(), encoding="utf-8")
            _out(f"wrote {path}")


async def _run(options: EvalOptions, settings: Settings, profile: AgentProfile) -> int:
    judge = _judge(options, settings, profile)
    repeated = options.repeat > 1

    def show(result: ScenarioResult) -> None:
        _out(progress_line(result, repeated=repeated))
        if options.verbose or result.status in ("failed", "error"):
            for check in result.failures:
                _out(f"       \u2717 {check.where}: {check.name}: {check.detail}")
        if options.verbose:
            _out("       " + transcript(result).replace("\n", "\n       "))

    try:
        run = await run_suite(options, settings, profile, on_result=show, judge=judge)
    finally:
        if judge is not None:
            judge.cache.save()
            await judge.client.close()
    _out(summary(run, repeated=repeated))
    write_reports(run, options)
    return run.exit_code(strict_xfail=options.strict_xfail)


def main(options: EvalOptions, settings: Settings, *, profile_path: Path | None = None) -> int:
    """Run ``voiceops eval`` with ``options``; returns the exit code."""
    try:
        profile = load_profile(profile_path or settings.profile_path)
    except ConfigError as exc:
        _err(str(exc))
        return EXIT_INVALID
    if options.repeat < 1 or options.jobs < 1:
        _err("--repeat and --jobs must be at least 1")
        return EXIT_INVALID
    try:
        return asyncio.run(_run(options, settings, profile))
    except ScenarioError as exc:
        _err(f"{len(exc.problems)} problems in the scenarios; nothing was run:")
        for problem in exc.problems:
            _err(f"  {problem}")
        return EXIT_INVALID
    except ConfigError as exc:
        _err(str(exc))
        return EXIT_INVALID


async def _from_call(
    call_id: str, options: EvalOptions, settings: Settings, profile: AgentProfile, out: Path | None
) -> int:
    db = await Database.open(settings.database_url)
    try:
        text, data = await scenario_from_call(db, call_id, profile)
    finally:
        await db.close()
    path = out or Path(f"{data['name']}.yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    _out(f"wrote {path}; replaying it against today's agent")
    replay = replace(options, paths=[path], store=False, repeat=1, tags=[], select=None)
    run = await run_suite(replay, settings, profile)
    (result,) = run.results
    if result.status in ("error", "skipped"):
        _out(f"{result.status}: {result.reason}")
        return EXIT_FAILED
    found = differences(result)
    if not found:
        _out("today's agent does what it did then, turn for turn")
        return EXIT_OK
    for diff in found:
        _out(f"{diff.label}  caller: {diff.caller}")
        _out(f"    then:  {diff.then}")
        _out(
            f"    today: {diff.today}  [{diff.today_tools}]"
            if diff.today_tools
            else f"    today: {diff.today}"
        )
        for failure in diff.failures:
            _out(f"    \u2717 {failure}")
    call_failures = [c for c in result.failures if c.where == "call"]
    for check in call_failures:
        _out(f"call  \u2717 {check.name}: {check.detail}")
    return EXIT_FAILED if result.failures else EXIT_OK


def from_call(call_id: str, options: EvalOptions, settings: Settings, *, out: Path | None) -> int:
    """Write the stored call as a scenario, replay it, show where today's agent differs.

    Exit code 0: today's agent calls the same tools and takes the same actions (its words
    may differ; they are shown); 1: it does something else; 2: the call cannot be read.
    """
    try:
        profile = load_profile(settings.profile_path)
        return asyncio.run(_from_call(call_id, options, settings, profile, out))
    except (CallNotFound, ConfigError, StorageError) as exc:
        _err(str(exc))
        return EXIT_INVALID
    except ScenarioError as exc:
        _err("the recorded scenario does not load (please report this):")
        for problem in exc.problems:
            _err(f"  {problem}")
        return EXIT_INVALID
