"""Holding lines ("One moment, let me check.") and when a turn may speak one.

The turn runner arms a timer at ``filler_deadline_ms`` after a turn starts and again when
a tool starts; this module decides whether a filler may be spoken at that moment and which
one. Rules: never the same line twice in a row, at most ``max_per_call`` per call, at most
one per turn, never for a turn that was superseded, never once the real reply has begun
(unless a tool is still running and nothing was said since it started).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from voiceops.core.state import CallState


class FillerPicker:
    def __init__(self, lines: Sequence[str], *, max_per_call: int, rng: random.Random) -> None:
        self._lines = [line for line in lines if line.strip()]
        self._max = max_per_call
        self._rng = rng

    def may_speak(self, state: CallState) -> bool:
        """Whether the call may hear another filler (lines exist, cap not reached). The
        per-turn rules (one per turn, not once the reply began, not for a superseded turn)
        are the turn runner's timer's."""
        return bool(self._lines) and state.filler_count < self._max

    def pick(self, state: CallState) -> str:
        """Choose a line different from the last one and record it in ``state``."""
        choices = [i for i in range(len(self._lines)) if i != state.last_filler] or [0]
        index = self._rng.choice(choices)
        state.last_filler = index
        state.filler_count += 1
        return self._lines[index]
