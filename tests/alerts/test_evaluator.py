"""Rules judged on the raw tables, incidents opened once and resolved, cool-downs, the
lock between instances: on SQLite and on PostgreSQL, with a manual clock."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.alerts.support import webhook_receiver
from tests.conftest import FIXED_NOW
from tests.store.tcpproxy import TcpProxy
from voiceops.config import DEFAULT_PROFILE, Settings
from voiceops.core.clock import ManualClock
from voiceops.core.profile import load_profile
from voiceops.insight.alerts import FieldError, open_seconds, rule_from_form
from voiceops.insight.evaluator import AlertService
from voiceops.metrics import Metrics
from voiceops.store.alerts import Rule
from voiceops.store.db import Database
from voiceops.store.tables import (
    alert_deliveries,
    alert_rules,
    call_events,
    calls,
    webhook_deliveries,
)

PROFILE = load_profile(DEFAULT_PROFILE)


def service(db: Database, clock: ManualClock, **settings: Any) -> AlertService:
    return AlertService(
        db,
        Settings(**settings),
        clock=clock,
        profile=lambda: PROFILE,
        backlog=lambda: 0,
    )


def rule(kind: str, threshold: float, **kw: Any) -> Rule:
    values: dict[str, Any] = {
        "window_s": 300,
        "min_count": 1,
        "severity": "warning",
        "cooldown_s": 600,
        "enabled": True,
        "channels": ("webhook",),
    }
    values.update(kw)
    return Rule(0, f"{kind} rule", kind, threshold, **values)


async def add_rules(db: Database, clock: ManualClock, *rules: Rule) -> None:
    svc = service(db, clock)
    async with db.transaction("rules") as conn:
        for r in rules:
            await svc.store.save(r, by="test", conn=conn)


async def turn(db: Database, at: datetime, latency_ms: int, n: int) -> None:
    async with db.transaction("turn") as conn:
        await conn.execute(
            call_events.insert().values(
                event_id=f"turn-{n}",
                call_id="call_1",
                event_type="turn_completed",
                latency_ms=latency_ms,
                created_at=at,
            )
        )


async def test_a_slow_window_opens_one_incident_and_a_fast_one_resolves_it(db: Database) -> None:
    clock = ManualClock(FIXED_NOW)
    await add_rules(db, clock, rule("turn_latency_p95", 1000, min_count=3))
    async with webhook_receiver() as hook:
        svc = service(db, clock, alert_webhook_url=hook.url)
        for n in range(4):
            await turn(db, clock.now() - timedelta(seconds=10 + n), 1500 + n, n)
        first = await svc.evaluate_once()
        assert first is not None and first.opened == ["turn_latency_p95 rule"]
        again = await svc.evaluate_once()
        assert again is not None and again.opened == [] and again.resolved == []
        [post] = await hook.wait_posts(1)
        body = post.body
        assert body["status"] == "firing"
        assert body["alert"]["kind"] == "turn_latency_p95"
        assert body["incident"]["value"] == 1503.0
        assert "1,503 ms" in body["summary"]

        await clock.advance(400)  # the slow turns leave the window; fast ones come
        for n in range(4, 8):
            await turn(db, clock.now() - timedelta(seconds=5), 200, n)
        done = await svc.evaluate_once()
        assert done is not None and done.resolved == ["turn_latency_p95 rule"]
        posts = await hook.wait_posts(2)
        assert posts[1].body["status"] == "resolved"
        assert posts[1].body["incident"]["resolved_value"] == 200.0

        # Slow again within the cool-down: no new incident, no notification.
        for n in range(8, 12):
            await turn(db, clock.now() - timedelta(seconds=1), 2000, n)
        cooling = await svc.evaluate_once()
        assert cooling is not None and cooling.cooling == ["turn_latency_p95 rule"]
        await clock.advance(601)
        for n in range(12, 16):
            await turn(db, clock.now() - timedelta(seconds=1), 2000, n)
        reopened = await svc.evaluate_once()
        assert reopened is not None and reopened.opened == ["turn_latency_p95 rule"]
        await hook.wait_posts(3)
        assert len(hook.posts) == 3
    incidents = await svc.store.incidents()
    assert [i.status for i in incidents] == ["firing", "resolved"]


async def test_too_few_turns_judge_nothing_and_keep_the_incident(db: Database) -> None:
    clock = ManualClock(FIXED_NOW)
    await add_rules(db, clock, rule("turn_latency_p95", 1000, min_count=3))
    svc = service(db, clock)
    await turn(db, clock.now() - timedelta(seconds=1), 5000, 1)
    outcome = await svc.evaluate_once()
    assert outcome is not None and outcome.opened == []
    [stored] = await svc.store.rules()
    assert stored.last_value is None and stored.last_checked_at == clock.now()


async def test_counts_of_failures_and_disconnections(db: Database) -> None:
    clock = ManualClock(FIXED_NOW)
    now = clock.now()
    await add_rules(
        db,
        clock,
        rule("transfer_failures", 2),
        rule("error_disconnections", 1),
        rule("dead_letters", 1),
    )
    async with db.transaction("facts") as conn:
        for n, event in enumerate(["transfer_cancelled", "transfer_cancelled", "transfer_bridged"]):
            await conn.execute(
                webhook_deliveries.insert().values(
                    dedupe_key=f"k{n}", event=event, raw_body=b"{}", received_at=now
                )
            )
        for n, reason in enumerate(["error_llm_websocket_open", "user_hangup"]):
            await conn.execute(
                calls.insert().values(
                    call_id=f"c{n}",
                    started_at=now - timedelta(minutes=3),
                    ended_at=now - timedelta(minutes=1),
                    disconnection_reason=reason,
                    created_at=now,
                    updated_at=now,
                )
            )
    outcome = await service(db, clock).evaluate_once()
    assert outcome is not None
    assert sorted(outcome.opened) == ["error_disconnections rule", "transfer_failures rule"]
    values = {r.kind: r.last_value for r in await service(db, clock).store.rules()}
    assert values == {"transfer_failures": 2.0, "error_disconnections": 1.0, "dead_letters": 0.0}


async def test_fallback_and_escalation_rates(db: Database) -> None:
    clock = ManualClock(FIXED_NOW)
    now = clock.now()
    await add_rules(db, clock, rule("fallback_rate", 20, min_count=4), rule("escalation_rate", 50))
    async with db.transaction("facts") as conn:
        for n in range(5):
            for kind in ["turn_completed", "call_connected"] + (["fallback"] if n < 1 else []):
                await conn.execute(
                    call_events.insert().values(
                        event_id=f"{kind}-{n}", call_id=f"c{n}", event_type=kind, created_at=now
                    )
                )
        for n in range(3):  # a transfer re-asserted: one call, three escalation events
            await conn.execute(
                call_events.insert().values(
                    event_id=f"esc{n}", call_id="c1", event_type="escalation", created_at=now
                )
            )
    outcome = await service(db, clock).evaluate_once()
    assert outcome is not None and outcome.opened == ["fallback_rate rule"]
    values = {r.kind: r.last_value for r in await service(db, clock).store.rules()}
    assert values == {"fallback_rate": 20.0, "escalation_rate": 20.0}


async def test_disabling_a_firing_rule_resolves_its_incident(db: Database) -> None:
    clock = ManualClock(FIXED_NOW)
    await add_rules(db, clock, rule("event_backlog", 10))
    svc = AlertService(db, Settings(), clock=clock, profile=lambda: PROFILE, backlog=lambda: 50)
    outcome = await svc.evaluate_once()
    assert outcome is not None and outcome.opened == ["event_backlog rule"]
    async with db.transaction("disable") as conn:
        await conn.execute(alert_rules.update().values(enabled=0))
    outcome = await svc.evaluate_once()
    assert outcome is not None and outcome.resolved == ["event_backlog rule"]


async def test_no_calls_is_judged_only_when_open_the_whole_window(db: Database) -> None:
    # Tuesday 09:00 in New York: the salon has just opened.
    clock = ManualClock(FIXED_NOW)
    await add_rules(db, clock, rule("no_calls", 1, window_s=3600))
    svc = service(db, clock)
    outcome = await svc.evaluate_once()
    assert outcome is not None and outcome.opened == []
    await clock.advance(3600)
    outcome = await svc.evaluate_once()
    assert outcome is not None and outcome.opened == ["no_calls rule"]


def test_open_seconds_counts_opening_hours_only() -> None:
    since = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # 08:00 in New York
    until = since + timedelta(hours=2)
    assert open_seconds(PROFILE, since, until) == 3600
    sunday = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
    assert open_seconds(PROFILE, sunday, sunday + timedelta(hours=3)) == 0


def test_the_form_names_the_bad_field() -> None:
    good = {
        "name": "Slow",
        "kind": "fallback_rate",
        "threshold": "15",
        "window_min": "5",
        "cooldown_min": "30",
        "min_count": "10",
        "severity": "critical",
        "enabled": "1",
        "channel_email": "1",
    }
    parsed = rule_from_form(good)
    assert (parsed.window_s, parsed.cooldown_s, parsed.channels) == (300, 1800, ("email",))
    for field, value in [
        ("name", " "),
        ("kind", "nope"),
        ("threshold", "150"),
        ("threshold", "nan"),
        ("window_min", "0.5"),
        ("cooldown_min", "-1"),
        ("min_count", "2.5"),
        ("severity", "loud"),
    ]:
        with pytest.raises(FieldError) as caught:
            rule_from_form(good | {field: value})
        assert caught.value.field == field


@pytest.mark.postgres
async def test_two_instances_on_one_postgresql_open_and_send_once(pg_url: str) -> None:
    from voiceops.store.migrate import upgrade

    await upgrade(pg_url)
    clock = ManualClock(FIXED_NOW)
    dbs = [await Database.open(pg_url) for _ in range(2)]
    try:
        await add_rules(dbs[0], clock, rule("event_backlog", 1))
        async with webhook_receiver() as hook:
            services = [
                AlertService(
                    db,
                    Settings(alert_webhook_url=hook.url),
                    clock=clock,
                    profile=lambda: PROFILE,
                    backlog=lambda: 5,
                )
                for db in dbs
            ]
            for _ in range(3):
                await asyncio.gather(*(s.evaluate_once() for s in services))
            # Every tick returned after sending what it claimed: one POST in all.
            assert len(hook.posts) == 1
        async with dbs[0].transaction("read") as conn:
            rows = (await conn.execute(select(alert_deliveries.c.status))).all()
        assert [r[0] for r in rows] == ["sent"]
    finally:
        for db in dbs:
            await db.close()


@pytest.mark.postgres
async def test_the_background_evaluator_survives_the_database_going_away(
    proxied: tuple[Database, TcpProxy], caplog: pytest.LogCaptureFixture
) -> None:
    db, proxy = proxied
    clock = ManualClock(FIXED_NOW)
    metrics = Metrics()
    await add_rules(db, clock, rule("event_backlog", 1))
    async with webhook_receiver() as hook:
        svc = AlertService(
            db,
            Settings(alert_interval_s=60, alert_webhook_url=hook.url),
            clock=clock,
            profile=lambda: PROFILE,
            backlog=lambda: 5,
            metrics=metrics,
        )
        svc.start()
        try:
            proxy.down()
            with caplog.at_level(logging.WARNING, logger="voiceops.alerts"):
                await clock.advance(60)
                for _ in range(200):
                    if "alert evaluation skipped, will retry" in caplog.text:
                        break
                    await asyncio.sleep(0.02)
            assert "alert evaluation skipped, will retry" in caplog.text
            assert hook.posts == []
            proxy.up()
            await clock.advance(60)
            [post] = await hook.wait_posts(1)
            assert post.body["alert"]["kind"] == "event_backlog"
            done = 'voiceops_alert_evaluations_total{outcome="done"} 1.0'
            for _ in range(100):  # the tick counts itself once its sending is over
                counted = metrics.render().decode()
                if done in counted:
                    break
                await asyncio.sleep(0.02)
            assert 'voiceops_alert_evaluations_total{outcome="failed"} 1.0' in counted
            assert done in counted
        finally:
            await svc.stop()
