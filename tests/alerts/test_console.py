"""The console's alert pages over HTTP: roles, CSRF, validation naming the field, the
audit log, the test button through a local webhook receiver, the incident history."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import select

from tests.alerts.support import Receiver, webhook_receiver
from tests.conftest import RunningServer, run_server
from tests.dashboard.support import csrf_of, signed_in
from voiceops.config import Settings
from voiceops.insight.evaluator import AlertService
from voiceops.store.tables import alert_rules, audit_log


@pytest.fixture
async def hook() -> AsyncIterator[Receiver]:
    async with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
async def server(
    make_settings: Callable[..., Settings], hook: Receiver
) -> AsyncIterator[RunningServer]:
    settings = make_settings(
        alert_interval_s=0,
        alert_webhook_url=hook.url,
        alert_webhook_secret="hmac-secret",
        alert_smtp_password="smtp-secret",
    )
    async with run_server(settings) as srv:
        yield srv


async def slow_rule_id(server: RunningServer) -> int:
    async with server.runtime.db.transaction("read") as conn:
        found = await conn.scalar(
            select(alert_rules.c.id).where(alert_rules.c.kind == "turn_latency_p95")
        )
    assert found is not None
    return int(found)


async def test_viewers_read_and_editors_change(server: RunningServer) -> None:
    rule_id = await slow_rule_id(server)
    async with signed_in(server, "viewer@salon.test", "viewer") as viewer:
        page = await viewer.get("/dashboard/alerts")
        assert page.status_code == 200
        assert "Slow turns" in page.text and "Turn latency p95" in page.text
        assert "webhook configured" in page.text and "email not configured" in page.text
        for secret in ("t0ken", "hmac-secret", "smtp-secret"):
            assert secret not in page.text
        assert (await viewer.get(f"/dashboard/alerts/{rule_id}")).status_code == 403
        refused = await viewer.post(
            f"/dashboard/alerts/{rule_id}",
            data={"csrf_token": csrf_of(page.text), "name": "x"},
        )
        assert refused.status_code == 403

    async with signed_in(server, "editor@salon.test", "editor") as editor:
        form_page = await editor.get(f"/dashboard/alerts/{rule_id}")
        assert 'value="1200"' in form_page.text
        form = {
            "csrf_token": csrf_of(form_page.text),
            "name": "Slow turns",
            "kind": "turn_latency_p95",
            "threshold": "fast",
            "window_min": "10",
            "cooldown_min": "60",
            "min_count": "3",
            "severity": "critical",
            "enabled": "1",
            "channel_webhook": "1",
        }
        bad = await editor.post(f"/dashboard/alerts/{rule_id}", data=form)
        assert bad.status_code == 422
        assert "threshold: fast is not a number" in bad.text
        assert 'value="fast" required aria-invalid="true"' in bad.text
        no_csrf = await editor.post(
            f"/dashboard/alerts/{rule_id}",
            data={k: v for k, v in form.items() if k != "csrf_token"},
        )
        assert no_csrf.status_code == 403
        ok = await editor.post(f"/dashboard/alerts/{rule_id}", data=form | {"threshold": "900"})
        assert ok.status_code == 303
        taken = await editor.post(
            "/dashboard/alerts/new", data=form | {"name": "LLM fallbacks", "threshold": "5"}
        )
        assert taken.status_code == 409 and "another rule has this name" in taken.text
        assert (
            await editor.post(f"/dashboard/alerts/{rule_id}/delete", data=form)
        ).status_code == 403

    rule = await server.runtime.alerts.store.rule(rule_id)  # type: ignore[union-attr]
    assert rule is not None
    assert (rule.threshold, rule.window_s, rule.cooldown_s, rule.severity) == (
        900,
        600,
        3600,
        "critical",
    )
    assert (rule.channels, rule.min_count, rule.updated_by) == (
        ("webhook",),
        3,
        "editor@salon.test",
    )
    async with server.runtime.db.transaction("audit") as conn:
        entry = (
            (
                await conn.execute(
                    select(audit_log).where(audit_log.c.action == "alert_rule_changed")
                )
            )
            .mappings()
            .one()
        )
    assert entry["actor"] == "editor@salon.test" and entry["target"] == "Slow turns"
    assert entry["detail"]["threshold"] == [1200.0, 900.0]


async def test_the_test_button_and_the_incident_history(
    server: RunningServer, hook: Receiver
) -> None:
    async with signed_in(server, "admin@salon.test", "admin") as admin:
        page = await admin.get("/dashboard/alerts")
        sent = await admin.post("/dashboard/alerts/test", data={"csrf_token": csrf_of(page.text)})
        assert sent.status_code == 303
        [post] = await hook.wait_posts(1)
        assert post.body["status"] == "test" and "admin@salon.test" in post.body["summary"]
        after = await admin.get("/dashboard/alerts?done=tested")
        assert "Test notification sent" in after.text and ">sent<" in after.text

        # A firing incident: the backlog rule at 0 always fires.
        alerts = server.runtime.alerts
        assert isinstance(alerts, AlertService)
        async with server.runtime.db.transaction("rule") as conn:
            await conn.execute(
                alert_rules.update()
                .where(alert_rules.c.kind == "event_backlog")
                .values(threshold=0)
            )
        outcome = await alerts.evaluate_once()
        assert outcome is not None and outcome.opened == ["Event backlog"]
        history = await admin.get("/dashboard/alerts/incidents")
        assert "Event backlog" in history.text and ">firing<" in history.text
        assert "firing · webhook · sent" in history.text

        rule_id = await slow_rule_id(server)
        deleted = await admin.post(
            f"/dashboard/alerts/{rule_id}/delete", data={"csrf_token": csrf_of(page.text)}
        )
        assert deleted.status_code == 303
        assert await alerts.store.rule(rule_id) is None
