"""The terminal actions of a turn: hand the caller to a human, or hang up.

A brain yields them as agent events and a tool returns them in its outcome; the turn runner
turns them into Retell's ``transfer_number`` / ``end_call`` frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Transfer:
    """Cold-transfer the caller to ``number`` after speaking ``message``."""

    number: str
    message: str
    reason: str
    priority: Literal["low", "medium", "high"] = "medium"
    trigger: str = "model"
    """What decided it: ``model`` (the escalate tool), ``phrase``, ``frustration``, ``loop``."""


@dataclass(frozen=True, slots=True)
class EndCall:
    """Hang up after speaking ``message`` (a goodbye; never empty)."""

    message: str
