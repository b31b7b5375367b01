"""Alert rules: the kinds there are, what each measures, the defaults, and validation.

A rule has a kind (what is measured), a threshold, a window (how far back it looks), a
minimum count (fewer turns or calls than this in the window and the rule says nothing,
so that one slow turn at night pages no one), a severity, a cool-down (after an incident
resolves, the rule opens no new one for this long) and the channels it notifies. A rule
fires when its value is at or above the threshold (``no_calls``: below it).

:func:`measure` computes a rule's value from the raw tables (``store/alertsignals.py``),
the event writer of this instance and the published profile's opening hours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from voiceops.config import Settings
from voiceops.core.clock import Clock
from voiceops.core.profile import AgentProfile
from voiceops.insight.cost import PriceTable, record_costs
from voiceops.store.alerts import Rule
from voiceops.store.alertsignals import Signals
from voiceops.store.db import Database
from voiceops.store.retell_records import RetellRecordRepo
from voiceops.store.usage import token_usage
from voiceops.tools.booking import intervals_on

SEVERITIES = ("critical", "warning", "info")
CHANNELS = ("webhook", "email")
ERROR_DISCONNECTION_PREFIX = "error_llm_websocket_"
MIN_WINDOW_S = 60
MAX_WINDOW_S = 7 * 86_400
MAX_COOLDOWN_S = 7 * 86_400
TURN_SLACK = timedelta(hours=3)
"""How long before a call's start its turns may be recorded (the cost's token sum)."""


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    label: str
    unit: str
    direction: Literal["above", "below"]
    counts: str
    """What ``min_count`` counts for this kind ("" when it has no such count)."""
    help: str
    percent: bool = False


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "turn_latency_p95",
            "Turn latency p95",
            "ms",
            "above",
            "turns",
            "95th percentile of the time to each turn's first speakable frame.",
        ),
        Kind(
            "fallback_rate",
            "Fallback rate",
            "%",
            "above",
            "turns",
            "Share of turns the flow brain answered because the LLM failed or stalled.",
            percent=True,
        ),
        Kind(
            "transfer_failures",
            "Transfer failures",
            "transfers",
            "above",
            "",
            "Transfers Retell reported cancelled (transfer_cancelled webhooks).",
        ),
        Kind(
            "escalation_rate",
            "Escalation rate",
            "%",
            "above",
            "calls",
            "Share of connected calls that escalated (transfer or callback request).",
            percent=True,
        ),
        Kind(
            "error_disconnections",
            "Error disconnections",
            "calls",
            "above",
            "",
            "Calls Retell ended with an error_llm_websocket_* disconnection reason.",
        ),
        Kind(
            "daily_cost",
            "Cost per day",
            "USD/day",
            "above",
            "",
            "Cost of the calls started in the window (Retell, LLM, telephony), per day.",
        ),
        Kind(
            "event_backlog",
            "Event-writer backlog",
            "events",
            "above",
            "",
            "Call events this instance holds in memory or in its journal, not yet written.",
        ),
        Kind(
            "dead_letters",
            "Dead letters",
            "rows",
            "above",
            "",
            "Rows the database refused for their content and set aside.",
        ),
        Kind(
            "no_calls",
            "No calls in opening hours",
            "calls",
            "below",
            "",
            "Calls in the window, judged only when the business was open all of it.",
        ),
    )
}


def default_rules(settings: Settings) -> list[Rule]:
    """Rules a new database starts with (editable in the console)."""

    def rule(
        name: str,
        kind: str,
        threshold: float,
        window_s: int,
        *,
        min_count: int = 1,
        severity: str = "warning",
        cooldown_s: int = 1800,
        enabled: bool = True,
    ) -> Rule:
        return Rule(
            id=0,
            name=name,
            kind=kind,
            threshold=threshold,
            window_s=window_s,
            min_count=min_count,
            severity=severity,
            cooldown_s=cooldown_s,
            enabled=enabled,
            channels=CHANNELS,
        )

    return [
        rule("Slow turns", "turn_latency_p95", settings.slow_turn_ms, 300, min_count=5),
        rule("LLM fallbacks", "fallback_rate", 10, 900, min_count=10),
        rule("Transfers failing", "transfer_failures", 3, 3600, severity="critical"),
        rule("Many escalations", "escalation_rate", 40, 3600, min_count=10),
        rule("LLM socket errors", "error_disconnections", 3, 900, severity="critical"),
        rule("Daily spend", "daily_cost", 100, 86_400, cooldown_s=43_200),
        rule("Event backlog", "event_backlog", 1000, 60, severity="critical"),
        rule("Dead letters", "dead_letters", 1, 3600),
        rule("No calls", "no_calls", 1, 3 * 3600, enabled=False),
    ]


class FieldError(ValueError):
    """A rule form's field is wrong; ``field`` names it for the form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _plain(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:g}"


def _number(form: Mapping[str, str], field: str, low: float, high: float) -> float:
    raw = form.get(field, "").strip()
    try:
        value = float(raw)
    except ValueError:
        raise FieldError(field, f"{raw or 'nothing'} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise FieldError(field, f"must be between {_plain(low)} and {_plain(high)}")
    return value


def rule_from_form(form: Mapping[str, str], rule_id: int = 0) -> Rule:
    """A rule from the console's form; raises :class:`FieldError` naming the bad field.

    Windows and cool-downs are given in minutes."""
    name = " ".join(form.get("name", "").split())
    if not name or len(name) > 100:
        raise FieldError("name", "give a name of 1 to 100 characters")
    kind = form.get("kind", "")
    if kind not in KINDS:
        raise FieldError("kind", f"unknown kind {kind[:40]!r}")
    high = 100.0 if KINDS[kind].percent else 1e9
    threshold = _number(form, "threshold", 0, high)
    window_min = _number(form, "window_min", MIN_WINDOW_S / 60, MAX_WINDOW_S / 60)
    cooldown_min = _number(form, "cooldown_min", 0, MAX_COOLDOWN_S / 60)
    min_count = _number(form, "min_count", 0, 1_000_000)
    if min_count != int(min_count):
        raise FieldError("min_count", "must be a whole number")
    severity = form.get("severity", "")
    if severity not in SEVERITIES:
        raise FieldError("severity", f"one of {', '.join(SEVERITIES)}")
    channels = tuple(c for c in CHANNELS if form.get(f"channel_{c}") == "1")
    return Rule(
        id=rule_id,
        name=name,
        kind=kind,
        threshold=threshold,
        window_s=round(window_min * 60),
        min_count=int(min_count),
        severity=severity,
        cooldown_s=round(cooldown_min * 60),
        enabled=form.get("enabled") == "1",
        channels=channels,
    )


@dataclass(frozen=True, slots=True)
class Reading:
    """A rule's value over its window now; ``value`` is ``None`` when there was too
    little to judge (fewer than ``min_count``, or closed hours for ``no_calls``)."""

    value: float | None
    count: int

    def breaching(self, rule: Rule) -> bool | None:
        """Whether the rule fires; ``None`` when there is nothing to judge."""
        if self.value is None:
            return None
        if KINDS[rule.kind].direction == "below":
            return self.value < rule.threshold
        return self.value >= rule.threshold


@dataclass(slots=True)
class Context:
    """What :func:`measure` reads besides the database."""

    settings: Settings
    clock: Clock
    profile: Callable[[], AgentProfile]
    backlog: Callable[[], int]
    prices: PriceTable


def _rate(part: int, whole: int, min_count: int) -> Reading:
    if whole == 0 or whole < min_count:
        return Reading(None, whole)
    return Reading(100.0 * part / whole, whole)


async def measure(db: Database, ctx: Context, rule: Rule, now: datetime) -> Reading:
    """The value of ``rule`` over the window that ends ``now``."""
    since = now - timedelta(seconds=rule.window_s)
    signals = Signals(db)
    kind = rule.kind
    if kind == "turn_latency_p95":
        value, turns = await signals.latency_percentile(0.95, since, now)
        return Reading(value if turns >= max(1, rule.min_count) else None, turns)
    if kind == "fallback_rate":
        turns = await signals.events("turn_completed", since, now)
        return _rate(await signals.events("fallback", since, now), turns, rule.min_count)
    if kind == "escalation_rate":
        connected = await signals.calls_connected(since, now)
        escalated = await signals.calls_with("escalation", since, now)
        return _rate(escalated, connected, rule.min_count)
    if kind == "transfer_failures":
        return _count(await signals.webhooks("transfer_cancelled", since, now))
    if kind == "error_disconnections":
        return _count(await signals.disconnections(ERROR_DISCONNECTION_PREFIX, since, now))
    if kind == "dead_letters":
        return _count(await signals.dead_letters(since, now))
    if kind == "event_backlog":
        return _count(ctx.backlog())
    if kind == "daily_cost":
        return await _daily_cost(db, ctx, since, now)
    if kind == "no_calls":
        if open_seconds(ctx.profile(), since, now) < rule.window_s:
            return Reading(None, 0)
        return _count(await signals.calls_seen(since, now))
    raise ValueError(f"unknown alert kind {kind!r}")


def _count(n: int) -> Reading:
    return Reading(float(n), n)


async def _daily_cost(db: Database, ctx: Context, since: datetime, now: datetime) -> Reading:
    """USD per day spent on the calls started in the window (Retell's cost as its records
    have it, our LLM's tokens at the configured price, telephony)."""
    settings = ctx.settings
    model = settings.llm_model or ctx.profile().llm.model
    price = ctx.prices.price_for(model) if settings.effective_brain == "llm" else None
    records = await RetellRecordRepo(db, clock=ctx.clock).started_between(since, now)
    tokens = await token_usage(db, since=since - TURN_SLACK, call_ids=[r.call_id for r in records])
    costs = record_costs(
        records,
        tokens,
        price=price,
        telephony_cents_per_minute=settings.telephony_cents_per_minute,
    )
    cents = sum((cost.total for cost in costs), Decimal(0))
    window_days = Decimal((now - since).total_seconds()) / Decimal(86_400)
    return Reading(float(cents / 100 / window_days), len(records))


def open_seconds(profile: AgentProfile, since: datetime, until: datetime) -> float:
    """Seconds of ``[since, until)`` inside the profile's opening hours."""
    zone = profile.zone
    total = 0.0
    day = since.astimezone(zone).date() - timedelta(days=1)
    last = until.astimezone(zone).date()
    while day <= last:
        for iv in intervals_on(profile, day):
            start = datetime.combine(day, iv.start, zone)
            end = datetime.combine(day, iv.end, zone)
            overlap = (min(end, until) - max(start, since)).total_seconds()
            total += max(0.0, overlap)
        day += timedelta(days=1)
    return total
