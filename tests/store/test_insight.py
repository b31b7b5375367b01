"""The insight rollup and the figures of the metrics pages, against figures worked out by
hand from a few seeded calls, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update

from voiceops.core.clock import ManualClock
from voiceops.insight import rollup
from voiceops.insight.charts import Pricing
from voiceops.insight.cost import TokenPrice
from voiceops.insight.pages import build
from voiceops.insight.series import Window, percentile
from voiceops.store.db import Database
from voiceops.store.insight import InsightStore
from voiceops.store.rollup_tables import insight_hours
from voiceops.store.tables import call_events, callback_requests, calls, eval_runs

UTC_ZONE = ZoneInfo("UTC")
DAY = datetime(2026, 3, 9, tzinfo=UTC)
PRICING = Pricing(
    TokenPrice(Decimal("1.00"), Decimal("0.50"), Decimal("2.00")), Decimal("2"), budget_ms=600
)


def _call(call_id: str, start: datetime, version: int | None, **extra: Any) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": "+12125550142",
        "to_number": "+12125550100",
        "started_at": start,
        "duration_ms": None,
        "outcome": None,
        "disconnection_reason": None,
        "transfer_status": None,
        "profile_version": version,
        "call_cost": None,
        "latency": None,
        "call_analysis": None,
        "created_at": start,
        "updated_at": start,
    } | extra


def _turn(call_id: str, rid: int, ms: int, **payload: Any) -> dict[str, Any]:
    return {
        "event_id": f"{call_id}:{rid}:turn",
        "call_id": call_id,
        "event_type": "turn_completed",
        "response_id": rid,
        "latency_ms": ms,
        "tokens_in": 1000,
        "tokens_out": 100,
        "payload": {"filler": False, "tokens_cached": 0} | payload,
        "created_at": DAY,
    }


def _event(call_id: str, rid: int, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": f"{call_id}:{rid}:{kind}",
        "call_id": call_id,
        "event_type": kind,
        "response_id": rid,
        "latency_ms": None,
        "tokens_in": None,
        "tokens_out": None,
        "payload": payload,
        "created_at": DAY,
    }


async def _seed(db: Database) -> None:
    """Three calls on 9 March (UTC): a, b at 10:xx (v1), c at 14:xx (v2); one call on the
    10th (v2) that only the two-day window sees."""
    cost = {
        "combined_cost": "12.5",
        "product_costs": [
            {"product": "retell_platform", "cost": "10"},
            {"product": "elevenlabs_tts", "cost": "2.5"},
        ],
    }
    rows = [
        _call(
            "a",
            DAY + timedelta(hours=10, minutes=5),
            1,
            duration_ms=120_000,
            outcome="booked",
            disconnection_reason="user_hangup",
            call_cost=cost,
            latency={"e2e": {"values": [800, 900], "p50": 850, "num": 2}},
            call_analysis={"call_successful": True, "user_sentiment": "Positive"},
        ),
        _call(
            "b",
            DAY + timedelta(hours=10, minutes=40),
            1,
            duration_ms=60_000,
            outcome="transferred",
            disconnection_reason="call_transfer",
            transfer_status="cancelled",
            call_analysis={"call_successful": False, "user_sentiment": "Negative"},
        ),
        _call(
            "c",
            DAY + timedelta(hours=14),
            2,
            duration_ms=180_000,
            outcome="callback",
            call_type="web_call",
        ),
        _call("d", DAY + timedelta(days=1, hours=9), 2, duration_ms=60_000, outcome="booked"),
    ]
    events = [
        _turn("a", 1, 100),
        _turn("a", 2, 200),
        _turn("a", 3, 700, filler=True),
        _turn("b", 1, 300),
        _event("b", 2, "fallback", {"reason": "stalled"}),
        _turn("b", 2, 400, brain="flow"),
        _event(
            "b",
            3,
            "escalation",
            {"reason": "Billing  Question", "trigger": "model", "outcome": "transfer"},
        ),
        _turn("c", 1, 500),
        _event(
            "c",
            2,
            "escalation",
            {"reason": "caller is frustrated", "trigger": "frustration", "outcome": "callback"},
        ),
        _turn("d", 1, 250),
    ]
    async with db.transaction("seed") as conn:
        await conn.execute(insert(calls), rows)
        await conn.execute(insert(call_events), events)
        await conn.execute(
            insert(callback_requests),
            [
                {
                    "request_id": "r1",
                    "call_id": "c",
                    "name": "Sam",
                    "phone": "+12125550142",
                    "reason": "billing",
                    "priority": "high",
                    "idempotency_key": "k1",
                    "created_at": DAY + timedelta(hours=14, minutes=3),
                }
            ],
        )


def _day(granularity: str = "day") -> Window:
    return Window.of(date(2026, 3, 9), date(2026, 3, 9), granularity, UTC_ZONE)  # type: ignore[arg-type]


async def test_latency_figures_by_hand(db: Database) -> None:
    await _seed(db)
    store = InsightStore(db, clock=ManualClock(DAY))
    # A first build: every hour from the first call's (10h on the 9th) to the last's (9h on
    # the 10th); later refreshes do only the hours touched.
    assert await store.refresh(rollup.compute) == 24
    page = await build(store, "latency", _day(), split=False, pricing=PRICING)
    # Turns of the 9th: 100 200 700 300 400 500 (ms). Nearest rank of p50 is the 3rd (300,
    # bin 300-325, alone: its middle), of p95 and p99 the 6th (700, bin 700-725).
    assert dict(page.headline)["p50 / p95 / p99"] == "312 ms / 712 ms / 712 ms"
    assert dict(page.headline)["turns"] == "6"
    assert dict(page.headline)["filler"] == "16.7%"  # 1 of 6
    assert dict(page.headline)["fallback"] == "16.7%"  # 1 of 6
    first = page.charts[0]
    assert first.budget == 600
    assert [s.name for s in first.series] == ["p50", "p95", "p99"]
    assert first.rows() == [["2026-03-09", "312", "712", "712"]]
    retell = page.charts[1]
    assert retell.series[0].values == [812.5]  # e2e 800, 900: p50 is the 1st, bin 800-825
    split = await build(store, "latency", _day("hour"), split=True, pricing=PRICING)
    v1, v2 = split.charts[0].series
    assert (v1.name, v2.name) == ("p95 v1", "p95 v2")
    # v1 at 10h: 100 200 700 300 400 -> p95 is the 5th, 700; v2 at 14h: 500.
    assert v1.values[10] == 712.5 and v1.values[14] is None
    assert v2.values[14] == 512.5


async def test_calls_escalations_and_quality_by_hand(db: Database) -> None:
    await _seed(db)
    store = InsightStore(db, clock=ManualClock(DAY))
    await store.refresh(rollup.compute)
    calls_page = await build(store, "calls", _day(), split=False, pricing=PRICING)
    head = dict(calls_page.headline)
    assert head["calls"] == "3"
    assert head["average length"] == "2.00 min"  # (2 + 1 + 3) / 3
    outcome = next(c for c in calls_page.charts if c.slug == "outcome")
    assert {s.name: s.values for s in outcome.series} == {
        "booked": [1.0],
        "transferred": [1.0],
        "callback": [1.0],
    }
    esc = await build(store, "escalations", _day(), split=False, pricing=PRICING)
    head = dict(esc.headline)
    assert head["escalated calls"] == "2 of 3"
    assert head["rate"] == "66.7%"
    assert head["transfers cancelled"] == "1"
    assert head["callbacks requested"] == "1"
    reasons = next(c for c in esc.charts if c.slug == "reason")
    assert sorted(reasons.labels) == ["billing question", "caller is frustrated"]
    assert [r["call_id"] for r in esc.tables["open_callbacks"]] == ["c"]
    quality = await build(store, "quality", _day(), split=True, pricing=PRICING)
    success = quality.charts[0]
    assert {s.name: s.values for s in success.series} == {"v1": [50.0], "v2": [None]}


async def test_cost_by_hand(db: Database) -> None:
    await _seed(db)
    store = InsightStore(db, clock=ManualClock(DAY))
    await store.refresh(rollup.compute)
    page = await build(store, "cost", _day(), split=False, pricing=PRICING)
    money = page.tables["cost"]
    # Retell: 12.5 cents (call a only). LLM: 6 turns x (1000 in at USD 1/M + 100 out at
    # USD 2/M) = 6 x 0.0012 USD = 0.72 cents. Telephony at 2 cents a minute for the phone
    # calls Retell did not bill it for: a (2 min) and b (1 min) = 6 cents; c is a web call.
    assert money["total_cents"] == {
        "retell": "12.5000",
        "llm": "0.7200",
        "telephony": "6.0000",
        "all": "19.2200",
    }
    assert money["per_call_cents"]["all"] == "6.4067"  # 19.22 / 3
    assert money["per_minute_cents"]["all"] == "3.2033"  # 19.22 / 6 minutes
    # A month at 3 calls a day: 90 calls at 6.4067 cents = USD 5.77.
    assert money["monthly_projection"]["usd"]["all"] == "5.77"
    assert money["retell_products_cents"] == {
        "elevenlabs_tts": "2.5000",
        "retell_platform": "10.0000",
    }


async def test_late_changes_are_rolled_up_and_refresh_is_idempotent(db: Database) -> None:
    await _seed(db)
    clock = ManualClock(DAY)
    store = InsightStore(db, clock=clock)
    await store.refresh(rollup.compute)
    before = await _rollup(db)
    assert await store.refresh(rollup.compute) == 0  # nothing new: nothing done
    assert await _rollup(db) == before
    # A late call_ended webhook (disconnection) and a late turn for call a.
    async with db.transaction("late") as conn:
        await conn.execute(
            update(calls)
            .where(calls.c.call_id == "a")
            .values(disconnection_reason="agent_hangup", updated_at=DAY + timedelta(days=3))
        )
        await conn.execute(insert(call_events), [_turn("a", 4, 650)])
    assert await store.refresh(rollup.compute) >= 1
    page = await build(store, "calls", _day(), split=False, pricing=PRICING)
    reasons = next(c for c in page.charts if c.slug == "disconnection")
    assert dict(zip(reasons.labels, reasons.series[0].values, strict=True)) == {
        "agent_hangup": 1.0,
        "call_transfer": 1.0,
    }
    latency = await build(store, "latency", _day(), split=False, pricing=PRICING)
    assert dict(latency.headline)["turns"] == "7"
    # Recomputing everything from scratch gives the same rows as the incremental refresh.
    incremental = await _rollup(db)
    async with db.transaction("forget") as conn:
        await conn.execute(insight_hours.delete())
        await conn.exec_driver_sql("DELETE FROM insight_marks")
    await store.refresh(rollup.compute)
    assert await _rollup(db) == incremental


async def test_eval_pass_rate_per_version(db: Database) -> None:
    await _seed(db)
    run = {
        "finished_at": DAY,
        "status": "passed",
        "brain": "flow",
        "target": "local",
        "code_version": "x",
        "scenarios": 10,
        "xfailed": 1,
        "xpassed": 0,
        "skipped": 0,
        "flaky": 0,
        "duration_ms": 1,
    }
    async with db.transaction("evals") as conn:
        await conn.execute(
            insert(eval_runs),
            [
                run
                | {
                    "run_id": "r1",
                    "started_at": DAY + timedelta(hours=1),
                    "profile_version": 1,
                    "passed": 9,
                    "failed": 0,
                },
                run
                | {
                    "run_id": "r2",
                    "started_at": DAY + timedelta(hours=2),
                    "profile_version": 2,
                    "passed": 6,
                    "failed": 3,
                    "status": "failed",
                },
                run
                | {
                    "run_id": "r3",
                    "started_at": DAY + timedelta(hours=3),
                    "profile_version": 2,
                    "passed": 9,
                    "failed": 0,
                },
            ],
        )
    store = InsightStore(db, clock=ManualClock(DAY))
    page = await build(store, "quality", _day(), split=False, pricing=PRICING)
    rows = {r["version"]: r for r in page.tables["eval_runs"]}
    assert rows["v1"]["pass_rate"] == "100.0%"
    assert rows["v2"]["pass_rate"] == "83.3%"  # 15 of 18
    assert (rows["v2"]["runs"], rows["v2"]["latest"]) == (2, "passed")


def test_percentile_of_a_histogram() -> None:
    assert percentile({}, 0.5) is None
    # Four samples in bin 100-125: ranks 1..4 sit at 1/8, 3/8, 5/8, 7/8 of its width.
    assert percentile({100: 4}, 0.5) == 100 + 25 * 1.5 / 4
    assert percentile({100: 1, 1000: 1}, 0.5) == 112.5
    assert percentile({100: 1, 1000: 1}, 0.99) == 1050.0
    assert percentile({60_000: 3}, 0.5) == 60_000.0  # the open last bin


def test_weeks_begin_on_monday_and_days_on_local_midnight() -> None:
    zone = ZoneInfo("America/New_York")
    window = Window.of(date(2026, 3, 2), date(2026, 3, 15), "week", zone)
    assert [window.label(b) for b in window.buckets()] == ["2026-03-02", "2026-03-09"]
    days = Window.of(date(2026, 6, 1), date(2026, 6, 2), "day", zone)
    assert [days.start_of(b).hour for b in days.buckets()] == [0, 0]
    assert days.start_of(days.buckets()[0]) == datetime(2026, 6, 1, tzinfo=zone)


async def _rollup(db: Database) -> list[tuple[Any, ...]]:
    async with db.transaction("read") as conn:
        rows = await conn.execute(select(insight_hours).order_by(*insight_hours.primary_key))
        return [tuple(r) for r in rows.all()]


async def test_a_call_moves_to_its_start_hour_when_a_webhook_brings_it(db: Database) -> None:
    first_seen = DAY + timedelta(hours=16)
    async with db.transaction("seed") as conn:
        await conn.execute(insert(calls), [_call("w", first_seen, 1, started_at=None)])
    store = InsightStore(db, clock=ManualClock(DAY))
    await store.refresh(rollup.compute)
    window = _day("hour")
    page = await build(store, "calls", window, split=False, pricing=PRICING)
    assert page.charts[0].series[0].values[16] == 1.0
    async with db.transaction("call_ended") as conn:
        await conn.execute(
            update(calls)
            .where(calls.c.call_id == "w")
            .values(
                started_at=DAY + timedelta(hours=15, minutes=58),
                updated_at=first_seen + timedelta(minutes=10),
            )
        )
    await store.refresh(rollup.compute)
    page = await build(store, "calls", window, split=False, pricing=PRICING)
    assert page.charts[0].series[0].values[15:17] == [1.0, 0.0]


async def test_the_day_rollup_sums_what_the_hours_do(db: Database) -> None:
    await _seed(db)
    store = InsightStore(db, clock=ManualClock(DAY))
    await store.refresh(rollup.compute)
    for zone in ("America/New_York", "Asia/Kolkata", "UTC"):
        for granularity in ("day", "week"):
            w = Window.of(date(2026, 3, 2), date(2026, 3, 15), granularity, ZoneInfo(zone))  # type: ignore[arg-type]
            args = {
                "first_hour": w.first_hour,
                "end_hour": w.end_hour,
                "bucket_hours": w.bucket_hours,
                "shift_hours": w.shift_hours,
            }
            metrics = ["calls", "first_frame", "outcome"]
            by_hours = sorted(await store.read(metrics, **args), key=repr)
            by_days = sorted(await store.read(metrics, **args, day_shift=w.day_shift), key=repr)
            assert by_days == by_hours, (zone, granularity)
    # A change after the day rollups exist reaches them too.
    async with db.transaction("late") as conn:
        await conn.execute(insert(call_events), [_turn("c", 9, 1500)])
    await store.refresh(rollup.compute)
    page = await build(store, "latency", _day(), split=False, pricing=PRICING)
    assert dict(page.headline)["turns"] == "7"


def test_outcome_of_a_call_that_records_none() -> None:
    def call(**extra: Any) -> dict[str, Any]:
        base = {"outcome": None, "transfer_status": None, "ended_at": DAY, "duration_ms": 1}
        return base | extra

    flags = {"booked": False, "callback": False, "replied": True}
    assert rollup.outcome_of(call(outcome="booked"), **flags) == "booked"
    assert rollup.outcome_of(call(outcome="transferred"), **flags | {"booked": True}) == (
        "transferred"
    )
    assert rollup.outcome_of(call(transfer_status="cancelled"), **flags) == "transferred"
    assert rollup.outcome_of(call(outcome="ended_by_agent"), **flags | {"booked": True}) == (
        "booked"
    )
    assert rollup.outcome_of(call(), **flags | {"callback": True}) == "callback"
    assert rollup.outcome_of(call(), **flags) == "answered"
    assert rollup.outcome_of(call(), **flags | {"replied": False}) == "abandoned"
    assert rollup.outcome_of(call(ended_at=None, duration_ms=None), **flags) == "ongoing"
