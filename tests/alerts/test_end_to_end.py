"""Alerts end to end: a real server whose LLM (the fake provider) turns slow, calls by
the fake Retell peer, and evaluator ticks: exactly one webhook POST when the turns are
slow, one resolved notice when they are fast again, none during the cool-down. Then two
``voiceops serve`` processes on one PostgreSQL: the alert is sent once."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import openai
import pytest
from sqlalchemy import update

from tests.alerts.support import Receiver, SkippingClock, webhook_receiver
from tests.conftest import FIXED_NOW, RunningServer, run_server
from tests.dashboard.support import place_call
from tests.e2e.test_two_processes import free_port, spawn, wait_ready
from tests.fakes.fake_llm import FakeLLM, Script
from tests.pgutil import fresh_pg_database
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.insight.evaluator import AlertService
from voiceops.store.alerts import AlertStore, Rule
from voiceops.store.db import Database
from voiceops.store.migrate import upgrade
from voiceops.store.tables import alert_rules, webhook_deliveries

RULES = 5
SLOW = Script.say("Sure, I can help with that.", first_token_ms=700)
FAST = Script.say("Sure, I can help with that.")


@pytest.fixture
async def hook() -> AsyncIterator[Receiver]:
    async with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
async def server(
    fake_llm: FakeLLM,
    client: openai.AsyncOpenAI,
    hook: Receiver,
    make_settings: Callable[..., Settings],
    profile: AgentProfile,
) -> AsyncIterator[RunningServer]:
    settings = make_settings(
        brain="llm",
        llm_base_url=fake_llm.base_url,
        llm_api_key="sk-test",
        # No filler and no fallback before the model answers: a turn's first speakable
        # frame is the model's, as slow as the model.
        filler_deadline_ms=5000,
        fallback_deadline_ms=5000,
        llm_first_token_timeout_s=5,
        alert_interval_s=0,
        alert_webhook_url=hook.url,
    )
    async with run_server(
        settings, profile=profile, llm_client=client, clock=SkippingClock(FIXED_NOW)
    ) as srv:
        yield srv


async def only_slow_turns_rule(db: Database) -> None:
    """The seeded rules, with only the turn-latency one on (at 400 ms, two turns)."""
    async with db.transaction("rules") as conn:
        await conn.execute(update(alert_rules).values(enabled=0))
        await conn.execute(
            update(alert_rules)
            .where(alert_rules.c.kind == "turn_latency_p95")
            .values(enabled=1, threshold=400, min_count=2, window_s=300, cooldown_s=1800)
        )


async def calls(server: RunningServer, prefix: str) -> None:
    for n in range(2):
        said = await place_call(server, f"call_{prefix}_{n}", ["Can I book a haircut?"])
        assert said == ["Sure, I can help with that."]


async def test_slow_llm_fires_once_and_resolves_when_fast_again(
    server: RunningServer, fake_llm: FakeLLM, hook: Receiver
) -> None:
    runtime = server.runtime
    alerts = runtime.alerts
    assert isinstance(alerts, AlertService)
    clock = runtime.endpoint.clock
    assert isinstance(clock, SkippingClock)
    await only_slow_turns_rule(runtime.db)

    fake_llm.default = SLOW
    await calls(server, "slow")
    outcome = await alerts.evaluate_once()
    assert outcome is not None and outcome.opened == ["Slow turns"]
    [firing] = await hook.wait_posts(1)
    assert firing.body["status"] == "firing"
    assert firing.body["alert"]["name"] == "Slow turns"
    assert firing.body["incident"]["value"] >= 700
    await alerts.evaluate_once()  # still slow: the incident is open, nothing is sent again
    assert len(hook.posts) == 1

    fake_llm.default = FAST
    clock.skip(301)  # the slow turns leave the five-minute window
    await calls(server, "fast")
    outcome = await alerts.evaluate_once()
    assert outcome is not None and outcome.resolved == ["Slow turns"]
    resolved = (await hook.wait_posts(2))[1]
    assert resolved.body["status"] == "resolved"
    assert resolved.body["incident"]["resolved_value"] < 400

    fake_llm.default = SLOW  # slow again, within the 30-minute cool-down
    clock.skip(301)
    await calls(server, "again")
    outcome = await alerts.evaluate_once()
    assert outcome is not None and outcome.cooling == ["Slow turns"] and outcome.opened == []
    assert len(hook.posts) == 2  # evaluate_once returns once its notifications are sent
    [incident] = await alerts.store.incidents()
    assert (incident.status, incident.rule_name) == ("resolved", "Slow turns")
    metrics = runtime.metrics.render().decode()
    assert 'voiceops_alert_notifications_total{channel="webhook",outcome="sent"} 2.0' in metrics


# --- two processes ----------------------------------------------------------------------


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.terminate()
    for proc in started:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_processes_on_one_postgresql_send_the_alert_once(
    hook: Receiver, tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    async with fresh_pg_database() as url:
        await upgrade(url)
        db = await Database.open(url)
        try:
            store = AlertStore(db, clock=SkippingClock(FIXED_NOW))
            async with db.transaction("rules") as conn:
                for n in range(RULES):
                    rule = Rule(0, f"Transfers failing {n}", "transfer_failures", 1, 3600, 1,
                                "critical", 600, True, ("webhook",))  # fmt: skip
                    await store.save(rule, by="test", conn=conn)
            # Both evaluate every 20 ms, so their ticks overlap: only the lock keeps the
            # second from opening the incidents again.
            env = {"VOICEOPS_ALERT_INTERVAL_S": "0.02", "VOICEOPS_ALERT_WEBHOOK_URL": hook.url}
            ports = [free_port(), free_port()]
            for n, port in enumerate(ports):
                procs.append(spawn(url, port, tmp_path, f"server{n}", **env))
            for proc, port in zip(procs, ports, strict=True):
                await wait_ready(port, proc)
            await asyncio.sleep(0.5)  # both are ticking
            async with db.transaction("a failed transfer") as conn:
                await conn.execute(
                    webhook_deliveries.insert().values(
                        dedupe_key="t1",
                        event="transfer_cancelled",
                        raw_body=b"{}",
                        received_at=FIXED_NOW,
                    )
                )
        finally:
            await db.close()
        posts = await hook.wait_posts(RULES, within_s=30)
        await asyncio.sleep(1.0)  # fifty more ticks of each process
        assert len(hook.posts) == RULES
        assert sorted(p.body["alert"]["name"] for p in posts) == [
            f"Transfers failing {n}" for n in range(RULES)
        ]
        for proc in procs:
            assert proc.poll() is None
        logs = "".join((tmp_path / f"server{n}.log").read_text() for n in range(2))
        assert "t0ken" not in logs
