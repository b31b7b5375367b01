"""The shipped suite, run as the operator runs it: ``voiceops eval`` must exit 0.

Every scenario in ``evals/scenarios`` against the offline ``flow`` brain, then the
``fake-llm`` subset against the LLM brain and the fake model (protocol-level checks only).
Run as a subprocess, as from a shell, with the run stored in a database of the test's own.
``--strict-xfail``: a scenario that passes while marked xfail fails this test, so the mark
is removed when the agent is fixed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from voiceops.config import Settings
from voiceops.evals import command
from voiceops.evals.outcome import EvalOptions

ROOT = Path(__file__).resolve().parents[2]
_CLEARED = (
    "VOICEOPS_LLM_API_KEY",
    "VOICEOPS_LLM_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "VOICEOPS_PROFILE_PATH",
    "VOICEOPS_CLOCK_START",
)


def voiceops_eval(
    tmp_path: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update(
        VOICEOPS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'operator.db'}",
        VOICEOPS_JOURNAL_PATH=str(tmp_path / "journal.jsonl"),
        VOICEOPS_BRAIN="auto",
    )
    report = tmp_path / "run.json"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from voiceops.cli import main; sys.argv[0] = 'voiceops'; main()",
            "eval",
            "--strict-xfail",
            "--json",
            str(report),
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    body = json.loads(report.read_text()) if report.exists() else {}
    return done, body


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_every_shipped_scenario_passes_on_the_flow_brain(tmp_path: Path) -> None:
    done, body = voiceops_eval(tmp_path, "--brain", "flow")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    counts = body["counts"]
    assert counts["failed"] == 0 and counts["error"] == 0 and counts["skipped"] == 0
    assert counts["passed"] + counts["xfailed"] == len(body["results"]) >= 50
    assert "stored as run" in done.stdout


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_fake_llm_subset_passes_on_the_llm_brain(tmp_path: Path) -> None:
    done, body = voiceops_eval(tmp_path, "--brain", "llm", "--tag", "fake-llm", "--no-store")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert body["brain"] == "llm (fake model)"
    assert len(body["results"]) >= 8
    assert "not applied: the fake model" in done.stdout


def test_an_invalid_scenario_stops_the_run_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("turns:\n  - caller: hi\n    expect: {sayz: x}\n")
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'v.db'}", brain="flow")
    code = command.main(EvalOptions(paths=[bad], store=False), settings)
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.yaml:3: turn 1: expect.sayz" in err and "nothing was run" in err
