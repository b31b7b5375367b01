"""Cost arithmetic in cents and cents per second, the price table, the monthly projection,
and ``voiceops cost`` on a real database."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fakes.fake_retell_api import phone_call
from voiceops.cli import app
from voiceops.config import DEFAULT_PROFILE
from voiceops.core.callevents import CallEvent
from voiceops.core.clock import SystemClock
from voiceops.insight.cost import (
    DEFAULT_PRICES,
    CallCost,
    PriceTable,
    ProductCost,
    RetellCost,
    TokenUsage,
    build_report,
    call_cost,
    cents_per_minute,
    llm_cost_cents,
    product_cost_cents,
)
from voiceops.store.calls import CallRepo
from voiceops.store.db import Database
from voiceops.store.migrate import upgrade
from voiceops.store.retell_records import RetellRecordRepo, record_from_call

MINI = DEFAULT_PRICES["gpt-4o-mini"]


def test_llm_tokens_cost_cents_at_prices_per_million() -> None:
    assert llm_cost_cents(TokenUsage(input=1_000_000), MINI) == Decimal("15")
    assert llm_cost_cents(TokenUsage(output=1_000_000), MINI) == Decimal("60")
    # Cached input is part of the input and costs half as much.
    cached = TokenUsage(input=1_000_000, cached_input=400_000)
    assert llm_cost_cents(cached, MINI) == Decimal("12")
    # A turn of 2,345 prompt and 67 completion tokens: exact, no float.
    assert llm_cost_cents(TokenUsage(2_345, 0, 67), MINI) == Decimal("0.0391950")


def test_per_second_unit_prices_in_cents() -> None:
    assert product_cost_cents(Decimal("0.07"), Decimal("181")) == Decimal("12.67")
    assert cents_per_minute(Decimal("0.1167")) == Decimal("7.0020")
    retell = RetellCost.from_record(
        record_from_call(
            phone_call(
                "c",
                start_ms=1,
                duration_ms=181_000,
                combined_cost=24.97,
                products=[("retell_platform", 12.67, 0.07), ("elevenlabs_tts", 12.3, 0.068)],
            )
        ).values["call_cost"]
    )
    assert retell is not None
    assert retell.combined_cents == Decimal("24.97")
    assert sum(p.cents for p in retell.products) == Decimal("24.97")
    for product in retell.products:
        assert product.unit_price is not None and retell.duration_s is not None
        assert abs(product_cost_cents(product.unit_price, retell.duration_s) - product.cents) < 1
    assert retell.list_cents_per_minute == Decimal("8.280")


def test_a_call_costs_retell_plus_llm_plus_telephony_when_retell_has_none() -> None:
    retell = RetellCost(Decimal("28"), duration_s=Decimal("240"))
    usage = TokenUsage(input=200_000, cached_input=50_000, output=15_000)
    cost = call_cost(
        "c",
        duration_ms=240_000,
        call_type="phone_call",
        retell=retell,
        usage=usage,
        price=MINI,
        telephony_cents_per_minute=Decimal("1.3"),
    )
    assert cost.minutes == Decimal(4)
    assert cost.llm == Decimal("3.525")
    assert cost.telephony == Decimal("5.2")
    assert cost.total == Decimal("36.725")
    assert cost.per_minute == Decimal("9.18125")
    # Retell billed the line (a number bought from Retell): no telephony of ours.
    billed = RetellCost(Decimal("30"), products=(ProductCost("retell_telephony", Decimal(2)),))
    with_line = call_cost(
        "c",
        duration_ms=240_000,
        call_type="phone_call",
        retell=billed,
        usage=None,
        price=MINI,
        telephony_cents_per_minute=Decimal("1.3"),
    )
    assert with_line.telephony == 0 and with_line.llm == 0 and with_line.total == 30
    # A web call has no phone line; a call not yet costed by Retell says so.
    web = call_cost(
        "w",
        duration_ms=60_000,
        call_type="web_call",
        retell=None,
        usage=None,
        price=None,
        telephony_cents_per_minute=Decimal("1.3"),
    )
    assert web.total == 0 and not web.has_retell_cost


def test_the_price_table_finds_dated_and_prefixed_models_and_takes_overrides() -> None:
    table = PriceTable.with_overrides(
        {"my-model": {"input": Decimal("0.2"), "output": Decimal("0.8")}}
    )
    assert table.price_for("gpt-4o-mini-2024-07-18") == MINI
    assert table.price_for("openai/GPT-4o-mini") == MINI
    assert table.price_for("gpt-4o-2024-08-06") == DEFAULT_PRICES["gpt-4o"]
    assert table.price_for("gpt-4.1-mini") == DEFAULT_PRICES["gpt-4.1-mini"]
    mine = table.price_for("my-model")
    assert mine is not None and mine.cached_input == Decimal("0.2")
    assert table.price_for("unknown-model") is None
    with pytest.raises(ValueError, match="give input, output"):
        PriceTable.with_overrides({"x": {"input": Decimal(1)}})


def _walkthrough_month() -> list[CallCost]:
    # 30 days of 120 calls a day, 4 minutes each, USD 0.04 of LLM and USD 0.28 of Retell.
    return [
        CallCost(
            f"c{i}",
            minutes=Decimal(4),
            retell=Decimal(28),
            llm=Decimal(4),
            telephony=Decimal(0),
        )
        for i in range(120 * 30)
    ]


def test_the_walkthrough_month_projects_usd_144_of_llm() -> None:
    report = build_report(_walkthrough_month(), days=30)
    assert report.calls == 3_600 and report.minutes == 14_400
    assert report.calls_per_day == 120
    assert report.per_call("llm") == 4 and report.per_minute("llm") == 1
    assert report.per_call() == 32 and report.per_minute() == 8
    month = report.as_dict()["monthly_projection"]
    assert month["usd"] == {
        "retell": "1008.00",
        "llm": "144.00",
        "telephony": "0.00",
        "all": "1152.00",
    }
    # At another volume, and at another call length from the cost per minute.
    doubled = build_report(_walkthrough_month(), days=30, calls_per_day=Decimal(240))
    assert doubled.as_dict()["monthly_projection"]["usd"]["llm"] == "288.00"
    shorter = build_report(
        _walkthrough_month(), days=30, calls_per_day=Decimal(120), minutes_per_call=Decimal(2)
    )
    assert shorter.as_dict()["monthly_projection"]["usd"]["llm"] == "72.00"


def test_voiceops_cost_reads_records_and_turn_tokens(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'voiceops.db'}"
    now = SystemClock().now()
    asyncio.run(_seed(url, now))
    env = {
        "VOICEOPS_DATABASE_URL": url,
        "VOICEOPS_PROFILE_PATH": str(DEFAULT_PROFILE),
        "VOICEOPS_LLM_BASE_URL": "http://127.0.0.1:9/v1",  # the llm brain; never called
        "VOICEOPS_TELEPHONY_CENTS_PER_MINUTE": "1.3",
    }
    runner = CliRunner()
    result = runner.invoke(app, ["cost", "--days", "2", "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["model"] == "gpt-4o-mini"
    assert report["calls"] == 2 and report["minutes"] == "8.00"
    assert report["calls_per_day"] == "1.00"
    # call_1: 250k input tokens of which 100k cached, 10k output: 2.25 + 0.75 + 0.6 cents;
    # call_2 asked no model.
    assert report["tokens"] == {"input": 250_000, "cached_input": 100_000, "output": 10_000}
    assert report["total_cents"] == {
        "retell": "56.0000",
        "llm": "3.6000",
        "telephony": "10.4000",
        "all": "70.0000",
    }
    assert report["per_minute_cents"]["all"] == "8.7500"
    assert report["retell_products_cents"] == {"retell_platform": "56.0000"}
    assert report["calls_without_retell_record"] == 1
    assert report["monthly_projection"]["usd"]["llm"] == "0.54"

    text = runner.invoke(app, ["cost", "--days", "2"], env=env)
    assert text.exit_code == 0, text.output
    assert "2 calls, 8.0 minutes (4.00 a call), 1.00 calls a day" in text.output
    assert "LLM (our model's tokens)" in text.output
    assert "250,000 input (100,000 of them cached)" in text.output
    assert "calls without a Retell record: 1 (left out" in text.output


async def _seed(url: str, now: datetime) -> None:
    await upgrade(url)
    db = await Database.open(url)
    try:
        records = RetellRecordRepo(db, clock=SystemClock())
        start = int((now - timedelta(hours=5)).timestamp() * 1000)
        for call_id in ("call_1", "call_2"):
            await records.merge(
                record_from_call(phone_call(call_id, start_ms=start, combined_cost=28.0)),
                source="sync",
            )
        calls = CallRepo(db)
        async with db.transaction("seed turns") as conn:
            for rid, tokens_in, tokens_out, cached in (
                (1, 100_000, 4_000, 0),
                (2, 150_000, 6_000, 100_000),
            ):
                await calls.record_event_in(
                    conn,
                    CallEvent(
                        "call_1",
                        "turn_completed",
                        response_id=rid,
                        tokens_in=tokens_in,
                        tokens_out=tokens_out,
                        payload={"tokens_cached": cached},
                        event_id=f"call_1:{rid}:turn",
                        created_at=now - timedelta(hours=4),
                    ),
                )
        # A call the socket saw that no sync has brought yet.
        await calls.apply_webhook("call_started", {"call_id": "call_3", "start_timestamp": start})
    finally:
        await db.close()


def test_the_cost_breakdown_is_per_part_and_sums_to_the_total() -> None:
    cost = CallCost("c", Decimal(2), Decimal("10.5"), Decimal("1.25"), Decimal("2.6"))
    assert {p: cost.part(p) for p in ("retell", "llm", "telephony")} == {
        "retell": Decimal("10.5"),
        "llm": Decimal("1.25"),
        "telephony": Decimal("2.6"),
    }
    assert cost.total == Decimal("14.35") and cost.per_minute == Decimal("7.175")
