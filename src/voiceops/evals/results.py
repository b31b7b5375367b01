"""The results of the checks, and the collector that marks a check not applied (content
under the fake model, database checks against a server the runner does not own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from voiceops.store.evals import StoredBooking, StoredCallback, StoredEvent

Level = Literal["protocol", "content", "judge"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    where: str
    """``greeting``, ``turn 3`` or ``call``."""
    name: str
    passed: bool
    detail: str
    """What was expected and what was found."""
    level: Level = "content"
    applied: bool = True
    note: str = ""
    """Why a check was not applied, or a judge's reason."""

    @property
    def failed(self) -> bool:
        return self.applied and not self.passed


@dataclass(slots=True)
class Evidence:
    """What a call left in the runner's own server's database."""

    bookings: list[StoredBooking] = field(default_factory=list)
    callbacks: list[StoredCallback] = field(default_factory=list)
    events: list[StoredEvent] = field(default_factory=list)
    call_row: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Applicability:
    content: bool = True
    content_note: str = ""
    database: bool = True
    database_note: str = ""


class Checks:
    """Collects results for one call."""

    def __init__(self, scope: Applicability) -> None:
        self.scope = scope
        self.results: list[CheckResult] = []

    def add(
        self,
        where: str,
        name: str,
        passed: bool,
        detail: str,
        *,
        level: Level = "content",
        database: bool = False,
    ) -> None:
        applied, note = True, ""
        if level == "content" and not self.scope.content:
            applied, note = False, self.scope.content_note
        elif database and not self.scope.database:
            applied, note = False, self.scope.database_note
        self.results.append(CheckResult(where, name, passed, detail, level, applied, note))
