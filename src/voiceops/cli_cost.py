"""``voiceops cost``: what the calls of the last days cost, by part, and what a month will.

Reads the Retell records (``retell_calls``: duration, Retell's ``call_cost``) of the calls
that started in the window, the LLM tokens of their turns (``call_events``: input, cached
input, output), the price of the configured model (``insight.cost.DEFAULT_PRICES`` and
``VOICEOPS_LLM_PRICES``) and ``VOICEOPS_TELEPHONY_CENTS_PER_MINUTE``, and prints calls,
minutes, the average cost per call and per minute of each part and a monthly projection
at the window's daily volume (or at ``--calls-per-day`` and ``--minutes-per-call``).
``--json`` prints the same as JSON.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

import typer

from voiceops.cli_retell import load_agent_profile, load_settings, require_schema, run
from voiceops.config import Settings
from voiceops.core.clock import SystemClock
from voiceops.insight.cost import (
    CENTS_PER_USD,
    PART_LABELS,
    PARTS,
    CostReport,
    PriceTable,
    TokenPrice,
    build_report,
    record_costs,
    usd,
)
from voiceops.store.db import Database
from voiceops.store.retell_records import RetellRecordRepo
from voiceops.store.usage import calls_without_record, token_usage

TURN_SLACK = timedelta(hours=3)
"""Turns are looked up from a little before the window: a call's turns come after its start."""


def cost(
    days: Annotated[int, typer.Option(min=1, help="The window: the last N days.")] = 30,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    calls_per_day: Annotated[
        float | None, typer.Option(help="Project at this volume instead of the window's.")
    ] = None,
    minutes_per_call: Annotated[
        float | None,
        typer.Option(help="Project at this call length, from the window's cost per minute."),
    ] = None,
) -> None:
    """What calls cost: per call and per minute by part, and a month ahead.

    Calls and minutes of the window, the average cost of each part (Retell, our LLM,
    telephony) per call and per minute, and a month at the window's daily volume."""
    settings = load_settings()
    profile = load_agent_profile(settings)
    model = settings.llm_model or profile.llm.model
    try:
        prices = PriceTable.with_overrides(settings.llm_prices)
    except (ValueError, ArithmeticError) as exc:
        typer.echo(f"VOICEOPS_LLM_PRICES: {exc}", err=True)
        raise typer.Exit(2) from None
    price = prices.price_for(model) if settings.effective_brain == "llm" else None
    until = SystemClock().now()
    since = until - timedelta(days=days)
    report, unsynced = run(
        _report(
            settings,
            since=since,
            until=until,
            days=days,
            price=price,
            calls_per_day=None if calls_per_day is None else Decimal(str(calls_per_day)),
            minutes_per_call=None if minutes_per_call is None else Decimal(str(minutes_per_call)),
        )
    )
    context = {
        "since": since.isoformat(timespec="seconds"),
        "until": until.isoformat(timespec="seconds"),
        "brain": settings.effective_brain,
        "model": model,
        "price_usd_per_million_tokens": None if price is None else _price(price),
        "telephony_cents_per_minute": str(settings.telephony_cents_per_minute),
        "calls_without_retell_record": unsynced,
    }
    if json_output:
        typer.echo(json.dumps(context | report.as_dict(), indent=2))
        return
    for line in render(report, context):
        typer.echo(line)


async def _report(
    settings: Settings,
    *,
    since: datetime,
    until: datetime,
    days: int,
    price: TokenPrice | None,
    calls_per_day: Decimal | None,
    minutes_per_call: Decimal | None,
) -> tuple[CostReport, int]:
    await require_schema(settings.database_url)
    db = await Database.open(settings.database_url)
    try:
        records = await RetellRecordRepo(db, clock=SystemClock()).started_between(since, until)
        tokens = await token_usage(
            db, since=since - TURN_SLACK, call_ids=[r.call_id for r in records]
        )
        unsynced = await calls_without_record(db, start=since, end=until)
    finally:
        await db.close()
    costs = record_costs(
        records,
        tokens,
        price=price,
        telephony_cents_per_minute=settings.telephony_cents_per_minute,
    )
    report = build_report(
        costs, days=days, calls_per_day=calls_per_day, minutes_per_call=minutes_per_call
    )
    return report, unsynced


def _price(price: TokenPrice) -> dict[str, str]:
    return {
        "input": str(price.input),
        "cached_input": str(price.cached_input),
        "output": str(price.output),
    }


def _usd4(cents: Decimal) -> str:
    return str((cents / CENTS_PER_USD).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def render(report: CostReport, context: dict[str, Any]) -> list[str]:
    """The text report."""
    average = report.minutes / report.calls if report.calls else Decimal(0)
    lines = [
        f"calls started {context['since']} to {context['until']} ({report.days} days): "
        f"{report.calls} calls, {report.minutes:.1f} minutes ({average:.2f} a call), "
        f"{report.calls_per_day:.2f} calls a day",
    ]
    price = context["price_usd_per_million_tokens"]
    if price is not None:
        lines.append(
            f"LLM {context['model']}: USD {price['input']} / {price['cached_input']} / "
            f"{price['output']} per million tokens (input / cached input / output); "
            f"{report.tokens.input:,} input ({report.tokens.cached_input:,} of them cached) "
            f"and {report.tokens.output:,} output tokens"
        )
    elif context["brain"] == "llm":
        lines.append(
            f"LLM {context['model']}: no price known, its part counts as 0 "
            "(set VOICEOPS_LLM_PRICES)"
        )
    lines.append("")
    lines.append(f"{'part':<36}{'per call':>14}{'per minute':>14}{'a month':>14}")
    projection = report.projection
    for part in PARTS:
        lines.append(
            f"{PART_LABELS[part]:<36}{'USD ' + _usd4(report.per_call(part)):>14}"
            f"{'USD ' + _usd4(report.per_minute(part)):>14}"
            f"{'USD ' + usd(projection.cents_per_month[part]):>14}"
        )
    lines.append(
        f"{'total':<36}{'USD ' + _usd4(report.per_call()):>14}"
        f"{'USD ' + _usd4(report.per_minute()):>14}"
        f"{'USD ' + usd(projection.total_cents):>14}"
    )
    lines.append("")
    lines.append(
        f"a month = 30 days of {projection.calls_per_day:.2f} calls a day "
        f"of {projection.minutes_per_call:.2f} minutes"
    )
    if report.products:
        products = ", ".join(
            f"{name} USD {usd(cents)}" for name, cents in sorted(report.products.items())
        )
        lines.append(f"Retell's products over the window: {products}")
    if report.without_retell_cost:
        lines.append(
            f"calls Retell has not costed yet: {report.without_retell_cost} (counted as 0; "
            "run voiceops retell calls sync later)"
        )
    if context["calls_without_retell_record"]:
        lines.append(
            f"calls without a Retell record: {context['calls_without_retell_record']} "
            "(left out; run voiceops retell calls sync)"
        )
    return lines
