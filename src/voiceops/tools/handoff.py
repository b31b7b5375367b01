"""Whether a human can take the call now, the transfer to them, or the callback offer instead;
and the tools that hand the caller on: ``escalate``, ``request_callback`` and ``end_call``.

:func:`plan_transfer` turns an escalation (by the model's ``escalate`` tool, by a rule in
``agent/escalation.py`` or by the flow dialogue) into a :class:`~voiceops.core.events.Transfer`
when the business is open (its own zone) and a number is configured; otherwise the caller is
offered a callback with :func:`callback_line`. The reason picks the number
(:func:`transfer_number`): a billing dispute goes to the ``billing`` line, not the desk.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from voiceops.core.actions import EndCall, Transfer
from voiceops.core.caller import CallerClock
from voiceops.core.ports import CallbackRequest, ToolOutcome, ToolStatus
from voiceops.core.profile import AgentProfile
from voiceops.tools.booking import is_open_at, next_opening
from voiceops.tools.results import (
    SUPERSEDED,
    CallbackRecorded,
    Ending,
    Escalated,
    NoTransferWhy,
    ToolFailure,
)
from voiceops.tools.scope import idempotency_key, masked, short_id
from voiceops.tools.timefmt import spoken_datetime

if TYPE_CHECKING:
    from voiceops.tools.schemas import EndCallArgs, EscalateArgs, RequestCallbackArgs
    from voiceops.tools.scope import ToolScope

_PRIORITIES: dict[str, Literal["low", "medium", "high"]] = {
    "low": "low",
    "medium": "medium",
    "high": "high",
}


_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ing", "ed", "es", "s")
_STEM_MIN = 4
_KINDRED = (
    frozenset(
        """
        bill bills billed billing invoice invoices charge charges charged overcharge
        overcharged refund refunds refunded payment payments receipt receipts accounts
        accounting
        """.split()
    ),
)
"""Words that name one subject: a reason with any of them goes to a team named by another
("a refund" to ``billing``)."""


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _STEM_MIN:
            return word[: -len(suffix)]
    return word


_KINDRED_STEMS = tuple(frozenset(_stem(word) for word in words) for words in _KINDRED)


def _mentions(key: str, words: list[str], stems: frozenset[str]) -> bool:
    """Whether a reason (its ``words`` and their ``stems``) names the team ``key``: the key
    itself as whole words, another form of it ("bill" for ``billing``), or a word of the
    same subject ("refund" for ``billing``)."""
    key_words = _WORD.findall(key.lower())
    if not key_words:
        return False
    if len(key_words) > 1:
        return f" {' '.join(key_words)} " in f" {' '.join(words)} "
    stem = _stem(key_words[0])
    if stem in stems:
        return True
    return any(stem in kindred and not kindred.isdisjoint(stems) for kindred in _KINDRED_STEMS)


def _team_of(profile: AgentProfile, reason: str) -> tuple[str, str] | None:
    """The ``transfer.by_reason`` entry (key, number) the reason names, the first one."""
    words = _WORD.findall(reason.lower())
    stems = frozenset(_stem(word) for word in words)
    for key, number in profile.transfer.by_reason.items():
        if _mentions(key, words, stems):
            return key, number
    return None


def transfer_number(profile: AgentProfile, reason: str) -> str | None:
    """The number for an escalation's ``reason``: the ``transfer.by_reason`` team it names
    (a billing dispute, a refund: the billing line), else the default desk; ``None`` when
    neither is configured."""
    team = _team_of(profile, reason)
    return team[1] if team is not None else profile.transfer.default


def why_no_transfer(profile: AgentProfile, clock: CallerClock, reason: str) -> NoTransferWhy | None:
    """Why nobody can take a transfer right now, or ``None`` when someone can."""
    if transfer_number(profile, reason) is None:
        return "no_number"
    if not is_open_at(profile, clock.now_utc):
        return "after_hours"
    return None


def _team_for(profile: AgentProfile, reason: str) -> str:
    team = _team_of(profile, reason)
    return f"our {team[0].lower()} team" if team is not None else "the front desk"


def plan_transfer(
    profile: AgentProfile, clock: CallerClock, reason: str, priority: str, trigger: str
) -> Transfer | None:
    """A cold transfer to the number for ``reason`` (:func:`transfer_number`), or ``None``
    when no human can take the call now: outside opening hours in the business zone, on a
    closed date, or with no number configured. ``priority`` outside low/medium/high
    becomes ``medium``."""
    number = transfer_number(profile, reason)
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


# --------------------------------------------------------------------------------------
# the tools

_NEXT_AFTER_NO_TRANSFER = (
    "Tell the caller nobody can take the call right now, then collect their name, best number"
    " and reason, confirm them, and call request_callback."
)


async def escalate(scope: ToolScope, args: EscalateArgs) -> ToolOutcome:
    """A transfer when someone can take the call now, else the callback to offer.

    A transfer is recorded where it is carried out, by the turn runner when it sends the
    transfer (``agent/turn.py``), once, with its ``transfer_number``; here only the
    callback the caller is offered instead."""
    transfer = plan_transfer(scope.profile, scope.clock, args.reason, args.priority, "model")
    if transfer is not None:
        return ToolOutcome(Escalated(status=ToolStatus.TRANSFERRING), action=transfer)
    why = why_no_transfer(scope.profile, scope.clock, args.reason) or "after_hours"
    scope.emit(
        "escalation",
        {
            "outcome": "callback_required",
            "trigger": "model",
            "reason": args.reason[:200],
            "priority": args.priority,
            "why": why,
        },
    )
    return ToolOutcome(
        Escalated(
            status=ToolStatus.CALLBACK_REQUIRED,
            why=why,
            say=callback_line(scope.profile, scope.clock, why),
            next=_NEXT_AFTER_NO_TRANSFER,
        )
    )


async def request_callback(
    scope: ToolScope, args: RequestCallbackArgs
) -> CallbackRecorded | ToolFailure:
    """Record that a person should call the caller back (once per call and request)."""
    phone, problem = scope.phone(args.phone)
    if problem is not None or phone is None:
        return CallbackRecorded(
            status=ToolStatus.INVALID,
            error=problem or "no number to call back; ask the caller for the best number",
            phone_refused=True,
        )
    key = idempotency_key(
        scope.call_id,
        "request_callback",
        {"name": args.name, "phone": phone, "reason": args.reason, "priority": args.priority},
    )
    if not scope.is_current():
        return SUPERSEDED
    stored = await scope.repo.create_callback(
        CallbackRequest(
            request_id=short_id("CB", key),
            call_id=scope.call_id,
            name=args.name,
            phone=phone,
            reason=args.reason,
            priority=args.priority,
            idempotency_key=key,
            created_at=scope.app_clock.now(),
        )
    )
    scope.emit(
        "callback_request",
        {
            "request_id": stored.request_id,
            "name": stored.name,
            "phone": masked(stored.phone),
            "reason": stored.reason[:200],
            "priority": stored.priority,
        },
    )
    return CallbackRecorded(status=ToolStatus.RECORDED, request_id=stored.request_id)


async def end_call(scope: ToolScope, args: EndCallArgs) -> ToolOutcome:
    return ToolOutcome(Ending(status=ToolStatus.ENDING), action=EndCall(args.message))
