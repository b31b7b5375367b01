"""What a run of the evaluation suite is asked to do and what came of it: the options,
each scenario's outcome with its checks, the run's figures (counts, flaky scenarios,
first-frame percentiles, exit code) and the code version it ran."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from voiceops import __version__
from voiceops.evals.loading import LoadedScenario
from voiceops.evals.play import CallRecord
from voiceops.evals.results import CheckResult

Status = Literal["passed", "failed", "xfailed", "xpassed", "skipped", "error"]
BrainChoice = Literal["auto", "flow", "llm"]
DEFAULT_SCENARIOS = Path("evals/scenarios")


@dataclass(slots=True)
class EvalOptions:
    paths: list[Path] = field(default_factory=lambda: [DEFAULT_SCENARIOS])
    url: str | None = None
    brain: BrainChoice = "auto"
    jobs: int = 4
    repeat: int = 1
    tags: list[str] = field(default_factory=list)
    select: str | None = None
    turn_timeout_s: float = 10.0
    json_path: Path | None = None
    junit_path: Path | None = None
    html_path: Path | None = None
    judge: bool = False
    judge_model: str | None = None
    judge_cache: Path = Path(".voiceops/judge-cache.json")
    store: bool = True
    strict_xfail: bool = False
    verbose: bool = False


@dataclass(slots=True)
class ScenarioResult:
    loaded: LoadedScenario
    attempt: int
    status: Status
    brain: str
    reason: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    record: CallRecord | None = None
    duration_s: float = 0.0

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.failed]

    @property
    def not_applied(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.applied]

    @property
    def turn_latencies(self) -> list[float]:
        """First speakable frame of every caller turn, in ms (the greeting excluded)."""
        if self.record is None:
            return []
        return [
            t.first_frame_ms
            for t in self.record.turns
            if t.index > 0 and t.first_frame_ms is not None
        ]


@dataclass(slots=True)
class RunResult:
    run_id: str
    started_at: datetime
    finished_at: datetime
    brain: str
    target: str
    code_version: str
    results: list[ScenarioResult]
    duration_s: float
    profile_version: int | None = None
    profile_sha256: str | None = None
    content_checks: bool = True
    stored: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def flaky(self) -> list[str]:
        """Scenarios whose attempts did not all end the same way."""
        outcomes: dict[str, set[Status]] = {}
        for r in self.results:
            outcomes.setdefault(r.name, set()).add(r.status)
        return sorted(n for n, s in outcomes.items() if len(s) > 1)

    def exit_code(self, *, strict_xfail: bool = False) -> int:
        bad = self.count("failed") + self.count("error") + len(self.flaky)
        if strict_xfail:
            bad += self.count("xpassed")
        return 1 if bad else 0

    @property
    def latencies(self) -> list[float]:
        return [ms for r in self.results for ms in r.turn_latencies]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def code_version() -> str:
    """``voiceops`` version, and the git commit when run from a checkout."""
    root = Path(__file__).resolve().parents[3]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    if not head:
        return __version__
    return f"{__version__}+{head}{'.dirty' if dirty else ''}"
