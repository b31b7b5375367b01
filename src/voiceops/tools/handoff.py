"""Whether a human can take the call now, the transfer to them, or the callback offer instead.

:func:`plan_transfer` turns an escalation (by the model's ``escalate`` tool, by a rule in
``agent/escalation.py`` or by the flow dialogue) into a :class:`~voiceops.core.events.Transfer`
when the business is open (its own zone) and a number is configured; otherwise the caller is
offered a callback with :func:`callback_line`.
"""

from __future__ import annotations

from typing import Literal

from voiceops.core.actions import Transfer
from voiceops.core.caller import CallerClock
from voiceops.core.profile import AgentProfile
from voiceops.tools.booking import is_open_at, next_opening
from voiceops.tools.timefmt import spoken_datetime

NoTransferWhy = Literal["after_hours", "no_number"]
_PRIORITIES: dict[str, Literal["low", "medium", "high"]] = {
    "low": "low",
    "medium": "medium",
    "high": "high",
}


def why_no_transfer(profile: AgentProfile, clock: CallerClock, reason: str) -> NoTransferWhy | None:
    """Why nobody can take a transfer right now, or ``None`` when someone can."""
    if profile.transfer.number_for(reason) is None:
        return "no_number"
    if not is_open_at(profile, clock.now_utc):
        return "after_hours"
    return None


def _team_for(profile: AgentProfile, reason: str) -> str:
    lowered = reason.lower()
    for key in profile.transfer.by_reason:
        if key.lower() in lowered:
            return f"our {key.lower()} team"
    return "the front desk"


def plan_transfer(
    profile: AgentProfile, clock: CallerClock, reason: str, priority: str, trigger: str
) -> Transfer | None:
    """A cold transfer to the number for ``reason`` (``profile.transfer.number_for``), or
    ``None`` when no human can take the call now: outside opening hours in the business
    zone, on a closed date, or with no number configured. ``priority`` outside
    low/medium/high becomes ``medium``."""
    number = profile.transfer.number_for(reason)
    if number is None or not is_open_at(profile, clock.now_utc):
        return None
    return Transfer(
        number=number,
        message=f"Connecting you with {_team_for(profile, reason)} now.",
        reason=reason,
        priority=_PRIORITIES.get(priority, "medium"),
        trigger=trigger,
    )


def callback_line(profile: AgentProfile, clock: CallerClock, why: str) -> str:
    """What the agent says when it takes a callback request instead of transferring.

    ``why`` is ``after_hours`` (names when the team is back, in the caller's time),
    ``no_number`` or anything else (a neutral offer).
    """
    ask = "Can I take your name, the best number to reach you, and what it's about?"
    if why == "after_hours":
        back = next_opening(profile, clock.now_utc)
        when = f" We're back on {spoken_datetime(back, clock)}." if back is not None else ""
        return f"Our team is away right now, but someone can call you back.{when} {ask}"
    if why == "no_number":
        return (
            f"I can't put you through directly, but someone from the team can call you back. {ask}"
        )
    return f"Nobody from the team is free right now, but someone can call you back. {ask}"
