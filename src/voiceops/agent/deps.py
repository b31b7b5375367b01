"""What the turn runner is given: the brains, the profile, storage, metrics and the clock.

Built once by the app factory (``web/app.py``) and shared by every call of the process.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from voiceops.config import Settings
from voiceops.core.callevents import EventSink
from voiceops.core.clock import Clock, SystemClock
from voiceops.core.events import Brain
from voiceops.core.ports import BookingRepo
from voiceops.core.profile import AgentProfile
from voiceops.core.state import CallState
from voiceops.metrics import Metrics
from voiceops.tracing import OFF, Tracer


@dataclass(slots=True)
class TurnDeps:
    brain: Brain
    fallback: Brain | None
    profile: AgentProfile
    settings: Settings
    repo: BookingRepo
    events: EventSink
    metrics: Metrics
    on_outcome: Callable[[str, str, str | None], None] | None = None
    """Called with (call id, outcome, transfer number) when a turn transfers or hangs up."""
    clock: Clock = field(default_factory=SystemClock)
    """The process's one clock: wall time for the caller's clock, monotonic time, timers."""
    save_state: Callable[[CallState], Awaitable[object]] | None = None
    """Writes a call's state at once; awaited before each turn's closing frame, so a crash
    right after a turn cannot lose what it did."""
    rng: random.Random = field(default_factory=random.Random)
    tracer: Tracer = OFF
