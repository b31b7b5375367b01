"""``voiceops eval``: play the scenarios against the agent and say what passed.

:func:`run_suite` loads and validates every scenario first (an invalid file stops the run
before any call), then plays them, several at a time, each against a server of the
runner's own (real app, free port, pinned clock, a fresh SQLite copy; see ``harness.py``) or
against a running server (``--url``: scenarios that need a pinned clock, seeded bookings,
their own profile or settings are skipped, and the report says so). Each call is checked
(``checks.py``), judged when a judge is configured (``judge.py``), reported as it finishes
and in a summary (``report.py``), and the run is stored in the database (``store/evals.py``).

Brains: ``flow`` (offline), or ``llm``: a configured provider, or without a key the fake
model of ``fakellm.py``, against which only protocol-level checks apply.

A scenario's outcome is ``passed``, ``failed``, ``error`` (it could not be played),
``skipped`` (with the reason), or for one marked ``xfail``, ``xfailed`` (it failed as
expected) or ``xpassed`` (it passed: remove the mark). With ``--repeat N`` each scenario is
played N times and one with mixed outcomes is reported as flaky. The exit code is 0 only
when nothing failed, errored or was flaky (and, with ``--strict-xfail``, nothing xpassed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Literal

import openai

from voiceops.config import Settings
from voiceops.core.clock import Clock, SystemClock
from voiceops.core.profile import AgentProfile
from voiceops.evals import harness
from voiceops.evals.checks import check_call, judge_criteria
from voiceops.evals.fakellm import Answer, FakeModel, ToolCall
from voiceops.evals.judge import Judge
from voiceops.evals.loading import LoadedScenario, load_all
from voiceops.evals.outcome import (
    EvalOptions,
    RunResult,
    ScenarioResult,
    Status,
    code_version,
)
from voiceops.evals.play import CallRecord, FakeScript, TurnRecord, play
from voiceops.evals.records import profile_version, read_evidence, remote_server, store_run
from voiceops.evals.results import Applicability, CheckResult, Evidence
from voiceops.evals.scenario import FakeStep

log = logging.getLogger("voiceops.evals")

FAKE_MODEL_NOTE = "not applied: the fake model says what it is told (protocol checks only)"
URL_DATABASE_NOTE = "not applied: needs the runner's own server (its database)"


def select(loaded: Sequence[LoadedScenario], options: EvalOptions) -> list[LoadedScenario]:
    chosen = list(loaded)
    if options.tags:
        chosen = [s for s in chosen if set(options.tags) & set(s.scenario.tags)]
    if options.select:
        needle = options.select.lower()
        chosen = [s for s in chosen if needle in s.name.lower()]
    return chosen


def _fake_answers(steps: Sequence[FakeStep]) -> list[Answer]:
    return [
        Answer(
            text=step.says or "",
            tool_calls=(ToolCall(step.tool.name, dict(step.tool.args)),) if step.tool else (),
            first_token_ms=step.first_token_ms,
        )
        for step in steps
    ]


def _transcript_text(record: CallRecord, upto: TurnRecord) -> str:
    lines = []
    for turn in record.turns:
        if turn.index > upto.index:
            break
        if turn.kind == "caller":
            lines.append(f"Caller: {turn.caller}")
            if turn.barge_in:
                lines.append(f"Caller (talking over the agent): {turn.barge_in}")
        elif turn.kind == "silence":
            lines.append("Caller: (silence)")
        for tool in turn.tools:
            lines.append(f"[agent calls {tool.name} {tool.arguments}]")
        lines.append(f"Agent: {turn.heard or turn.text}")
        if turn.transfer_number:
            lines.append(f"[agent transfers the call to {turn.transfer_number}]")
        if turn.end_call:
            lines.append("[agent hangs up]")
    return "\n".join(lines)


class Runner:
    """One run: its options, settings, base profile and workspace."""

    def __init__(
        self,
        options: EvalOptions,
        settings: Settings,
        profile: AgentProfile,
        *,
        on_result: Callable[[ScenarioResult], None] | None = None,
        judge: Judge | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        """The runner's own time (durations, the run's timestamps); servers have theirs."""
        self.options = options
        self.settings = settings
        self.profile = profile
        self.on_result = on_result
        self.judge = judge
        choice = options.brain
        effective = settings.effective_brain if choice == "auto" else choice
        self.brain: Literal["flow", "llm"] = "llm" if effective == "llm" else "flow"
        self.fake_model = self.brain == "llm" and not settings.llm_configured
        self.workspace: harness.Workspace | None = None

    @property
    def brain_label(self) -> str:
        if self.brain == "llm" and self.fake_model:
            return "llm (fake model)"
        return self.brain

    def scope(self) -> Applicability:
        return Applicability(
            content=not self.fake_model,
            content_note=FAKE_MODEL_NOTE if self.fake_model else "",
            database=self.options.url is None,
            database_note=URL_DATABASE_NOTE if self.options.url is not None else "",
        )

    async def run(self, scenarios: Sequence[LoadedScenario]) -> list[ScenarioResult]:
        jobs = [(s, attempt) for attempt in range(1, self.options.repeat + 1) for s in scenarios]
        together = [j for j in jobs if j[0].scenario.parallel]
        alone = [j for j in jobs if not j[0].scenario.parallel]
        results: list[ScenarioResult] = []
        with tempfile.TemporaryDirectory(prefix="voiceops-eval-") as tmp:
            self.workspace = harness.Workspace(Path(tmp))
            gate = asyncio.Semaphore(max(1, self.options.jobs))

            async def one(item: tuple[LoadedScenario, int]) -> None:
                async with gate:
                    result = await self.run_one(*item)
                results.append(result)
                if self.on_result is not None:
                    self.on_result(result)

            await asyncio.gather(*(one(j) for j in together))
            for item in alone:
                await one(item)
        order = {id(s): i for i, s in enumerate(scenarios)}
        results.sort(key=lambda r: (order.get(id(r.loaded), 0), r.attempt))
        return results

    async def run_one(self, loaded: LoadedScenario, attempt: int) -> ScenarioResult:
        started = self.clock.monotonic()
        xfail = loaded.scenario.xfail_for(self.brain)
        if self.options.url is not None and loaded.scenario.needs_own_server:
            needs = ", ".join(loaded.scenario.needs_own_server)
            return ScenarioResult(
                loaded,
                attempt,
                "skipped",
                self.brain_label,
                reason=f"needs {needs}: only the runner's own server has that (run without --url)",
            )
        try:
            record, evidence = await self._play(loaded)
        except Exception as exc:  # a scenario that cannot be played must not stop the run
            log.exception("scenario %s could not be played", loaded.name)
            return ScenarioResult(
                loaded,
                attempt,
                "error",
                self.brain_label,
                reason=f"{type(exc).__name__}: {exc}",
                duration_s=self.clock.monotonic() - started,
            )
        checks = check_call(loaded, record, evidence, self.scope())
        checks.extend(await self._judged(loaded, record))
        failures = [c for c in checks if c.failed]
        status: Status
        if xfail is not None:
            status = "xfailed" if failures else "xpassed"
            reason = xfail
        else:
            status = "failed" if failures else "passed"
            reason = ""
        if failures and not reason:
            first = failures[0]
            reason = f"{first.where}: {first.name}: {first.detail}"
        return ScenarioResult(
            loaded,
            attempt,
            status,
            self.brain_label,
            reason=reason,
            checks=checks,
            record=record,
            duration_s=self.clock.monotonic() - started,
        )

    async def _judged(self, loaded: LoadedScenario, record: CallRecord) -> list[CheckResult]:
        out = []
        for turn, criterion in judge_criteria(loaded, record):
            if self.judge is None:
                out.append(
                    CheckResult(
                        turn.label,
                        "judge",
                        False,
                        criterion,
                        level="judge",
                        applied=False,
                        note="not judged (run with --judge to ask an LLM)",
                    )
                )
                continue
            verdict = await self.judge.verdict(criterion, _transcript_text(record, turn))
            out.append(
                CheckResult(
                    turn.label,
                    "judge",
                    verdict.verdict != "fail",
                    f"{criterion}: {verdict.verdict}",
                    level="judge",
                    note=verdict.reason + (" (cached)" if verdict.cached else ""),
                )
            )
        return out

    async def _play(self, loaded: LoadedScenario) -> tuple[CallRecord, Evidence | None]:
        timeout = self.options.turn_timeout_s
        if self.options.url is not None:
            return await play(loaded, self.options.url, turn_timeout_s=timeout), None
        assert self.workspace is not None
        db_path = await self.workspace.fresh_database(loaded.slug)
        settings = harness.server_settings(self.settings, loaded, db_path, brain=self.brain)
        clock = harness.clock_for(loaded)
        await harness.seed(settings.database_url, loaded, clock)
        async with self._model() as (client, fake):
            script = FakeScript(lambda steps: fake.load(_fake_answers(steps))) if fake else None
            async with harness.own_server(
                settings, loaded.profile, clock, llm_client=client
            ) as server:
                record = await play(loaded, server.ws_base, turn_timeout_s=timeout, fake=script)
        return record, await read_evidence(settings.database_url, record.call_id)

    @contextlib.asynccontextmanager
    async def _model(self) -> AsyncIterator[tuple[openai.AsyncOpenAI | None, FakeModel | None]]:
        """The LLM the scenario's server talks to: none or the configured one (the app
        builds its own client), or a fake model of its own on a free port."""
        if not self.fake_model:
            yield None, None
            return
        fake = FakeModel()
        async with harness.serve_app(fake.app) as port:
            client = openai.AsyncOpenAI(
                base_url=f"http://127.0.0.1:{port}/v1", api_key="fake", max_retries=0
            )
            try:
                yield client, fake
            finally:
                await client.close()


async def run_suite(
    options: EvalOptions,
    settings: Settings,
    profile: AgentProfile,
    *,
    on_result: Callable[[ScenarioResult], None] | None = None,
    judge: Judge | None = None,
    clock: Clock | None = None,
) -> RunResult:
    """Load, play, check and (unless ``options.store`` is off) store one run.

    Raises :class:`~voiceops.evals.loading.ScenarioError` before playing anything when a
    scenario file is invalid.
    """
    loaded = select(load_all(options.paths, profile), options)
    clock = clock or SystemClock()
    runner = Runner(options, settings, profile, on_result=on_result, judge=judge, clock=clock)
    remote = await remote_server(options.url) if options.url is not None else None
    if remote is not None and remote.brain in ("flow", "llm"):
        runner.brain = "llm" if remote.brain == "llm" else "flow"
        runner.fake_model = False
    started_at = clock.now()
    t0 = clock.monotonic()
    results = await runner.run(loaded)
    run = RunResult(
        run_id=f"eval_{started_at:%Y%m%d_%H%M%S}_{uuid.uuid4().hex[:6]}",
        started_at=started_at,
        finished_at=clock.now(),
        brain=runner.brain_label,
        target=options.url or "own server",
        code_version=(remote.code_version if remote else None) or code_version(),
        results=results,
        duration_s=clock.monotonic() - t0,
        content_checks=not runner.fake_model,
    )
    if options.store:
        try:
            if settings.migrate_on_start:
                # The operator's database, migrated as ``serve`` does at start.
                from voiceops.store.migrate import upgrade

                await upgrade(settings.database_url)
            if remote is None:
                run.profile_version, run.profile_sha256 = await profile_version(
                    settings, profile, clock
                )
            else:
                run.profile_version = remote.profile_version
            await store_run(settings, run, options)
            run.stored = True
        except Exception as exc:  # the run's outcome stands even if it cannot be kept
            sys.stderr.write(f"the run could not be stored: {type(exc).__name__}: {exc}\n")
    return run
