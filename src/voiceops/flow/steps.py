"""What a dialogue turn is made of: things to say, tools to run, and a terminal action.

A :class:`Call` carries its continuation (:attr:`Call.then`): the driver (``flow/brain.py``)
runs the tool and calls it with the :class:`~voiceops.core.ports.ToolOutcome` to get the
steps that follow. :func:`result_of` is how a continuation reads the outcome: as the result
type its tool answers with, or a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from voiceops.core.actions import EndCall, Transfer
from voiceops.core.ports import ToolResult, ToolStatus
from voiceops.tools.results import ToolFailure

if TYPE_CHECKING:
    from voiceops.core.ports import ToolOutcome

_R = TypeVar("_R", bound=ToolResult)


@dataclass(frozen=True, slots=True)
class Say:
    """Speak ``text`` (one or two short sentences)."""

    text: str


@dataclass(frozen=True, slots=True)
class Call:
    """Run tool ``name`` with ``arguments``; ``then`` maps its outcome to the next steps."""

    name: str
    arguments: dict[str, Any]
    then: Callable[[ToolOutcome], list[Step]]


@dataclass(frozen=True, slots=True)
class Finish:
    """End the turn with a terminal action (transfer or hang-up)."""

    action: Transfer | EndCall


Step = Say | Call | Finish


def result_of(outcome: ToolOutcome, kind: type[_R]) -> _R | ToolFailure:
    """The outcome's result when it is a ``kind`` or a failure. Anything else (no tool box
    of ours answers so) counts as a failed tool, and is never read."""
    result = outcome.result
    if isinstance(result, (kind, ToolFailure)):
        return result
    return ToolFailure(
        status=ToolStatus.ERROR, error=f"{type(result).__name__} is not a {kind.__name__}"
    )
