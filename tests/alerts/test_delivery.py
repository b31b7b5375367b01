"""Notifications over real sockets: a local webhook receiver (JSON, Slack-compatible,
signed) and a local SMTP server (aiosmtpd); failures retried with backoff, recorded, and
never raised; secrets in no log line."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import socket
from collections.abc import AsyncIterator
from email import message_from_bytes
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.alerts.support import webhook_receiver
from tests.conftest import FIXED_NOW
from voiceops.config import DEFAULT_PROFILE, Settings
from voiceops.core.clock import ManualClock
from voiceops.core.profile import load_profile
from voiceops.insight.evaluator import AlertService
from voiceops.insight.notify import MAX_ATTEMPTS
from voiceops.store.alerts import Rule
from voiceops.store.db import Database

PROFILE = load_profile(DEFAULT_PROFILE)
BACKLOG_RULE = Rule(0, "Backlog", "event_backlog", 10, 60, 1, "critical", 600, True, ("webhook",))


def make(db: Database, clock: ManualClock, backlog: list[int], **settings: Any) -> AlertService:
    return AlertService(
        db, Settings(**settings), clock=clock, profile=lambda: PROFILE, backlog=lambda: backlog[0]
    )


async def with_rule(svc: AlertService, rule: Rule = BACKLOG_RULE) -> None:
    async with svc.db.transaction("rule") as conn:
        await svc.store.save(rule, by="test", conn=conn)


async def test_json_body_signed_with_hmac(db: Database) -> None:
    clock = ManualClock(FIXED_NOW)
    async with webhook_receiver() as hook:
        svc = make(db, clock, [50], alert_webhook_url=hook.url, alert_webhook_secret="s3cret")
        await with_rule(svc)
        await svc.evaluate_once()
        [post] = await hook.wait_posts(1)
    stamp, mac = (part.split("=", 1)[1] for part in post.headers["x-voiceops-signature"].split(","))
    expected = hmac.new(b"s3cret", stamp.encode() + b"." + post.raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(mac, expected)
    assert int(stamp) == int(FIXED_NOW.timestamp())
    body = post.body
    assert body["alert"] | {"rule_id": 0} == {
        "rule_id": 0,
        "name": "Backlog",
        "kind": "event_backlog",
        "label": "Event-writer backlog",
        "severity": "critical",
        "threshold": 10.0,
        "unit": "events",
        "window_s": 60,
    }
    assert body["business"] == PROFILE.business_name
    assert body["incident"]["opened_at"] == FIXED_NOW.isoformat()


async def test_slack_compatible_text(db: Database) -> None:
    clock = ManualClock(FIXED_NOW)
    backlog = [50]
    async with webhook_receiver() as hook:
        svc = make(db, clock, backlog, alert_webhook_url=hook.url, alert_webhook_format="slack")
        await with_rule(svc)
        await svc.evaluate_once()
        backlog[0] = 0
        await svc.evaluate_once()
        posts = await hook.wait_posts(2)
    assert [p.body for p in posts] == [
        {
            "text": "[FIRING] critical · Backlog — Event-writer backlog is 50 events "
            "(threshold 10 events, over the last 1 min)"
        },
        {
            "text": "[RESOLVED] critical · Backlog — Event-writer backlog is back to 0 events "
            "(threshold 10 events)"
        },
    ]


async def test_a_failing_receiver_is_retried_with_backoff_then_succeeds(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(FIXED_NOW)
    async with webhook_receiver() as hook:
        hook.status = 503
        svc = make(db, clock, [50], alert_webhook_url=hook.url)
        await with_rule(svc)
        with caplog.at_level(logging.WARNING, logger="voiceops.alerts"):
            await svc.evaluate_once()
        [delivery] = await svc.store.recent_deliveries()
        assert (delivery.status, delivery.attempts, delivery.last_error) == (
            "pending",
            1,
            "HTTP 503",
        )
        assert (delivery.next_attempt_at - clock.now()).total_seconds() == 30
        await svc.evaluate_once()  # not due yet: no second attempt
        assert len(hook.posts) == 1
        await clock.advance(30)
        await svc.evaluate_once()
        [delivery] = await svc.store.recent_deliveries()
        assert (delivery.attempts, (delivery.next_attempt_at - clock.now()).total_seconds()) == (
            2,
            60,
        )
        hook.status = 200
        await clock.advance(60)
        await svc.evaluate_once()
        [delivery] = await svc.store.recent_deliveries()
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, None)
        assert len(hook.posts) == 3
    assert "t0ken" not in caplog.text and "503" in caplog.text


async def test_an_unreachable_receiver_fails_for_good_after_the_last_attempt(db: Database) -> None:
    clock = ManualClock(FIXED_NOW)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    svc = make(db, clock, [50], alert_webhook_url=f"http://127.0.0.1:{port}/hook/t0ken")
    await with_rule(svc)
    await svc.evaluate_once()
    for _ in range(MAX_ATTEMPTS):
        await clock.advance(3600)
        await svc.deliverer.run_due()
    [delivery] = await svc.store.recent_deliveries()
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert delivery.last_error == "ConnectError"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Any]] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(
            (envelope, message_from_bytes(envelope.content or b"", policy=default))
        )
        return "250 OK"


@pytest.fixture
async def smtp_server() -> AsyncIterator[tuple[Inbox, int]]:
    inbox = Inbox()

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult

        inbox.logins.append((auth_data.login, auth_data.password))
        if auth_data.password == b"mail-pass":
            return AuthResult(success=True)
        # handled=False with a message: aiosmtpd answers 535 (by default it answers nothing).
        return AuthResult(success=False, handled=False, message="535 5.7.8 Bad credentials")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


async def test_email_over_smtp_with_login(db: Database, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    clock = ManualClock(FIXED_NOW)
    svc = make(
        db,
        clock,
        [50],
        alert_smtp_host="127.0.0.1",
        alert_smtp_port=port,
        alert_smtp_tls="none",
        alert_smtp_user="alerts",
        alert_smtp_password="mail-pass",
        alert_email_from="voiceops@example.com",
        alert_email_to="ops@example.com, owner@example.com",
    )
    await with_rule(svc, dataclasses.replace(BACKLOG_RULE, channels=("email",)))
    await svc.evaluate_once()
    [(envelope, message)] = inbox.messages
    assert envelope.rcpt_tos == ["ops@example.com", "owner@example.com"]
    assert inbox.logins == [(b"alerts", b"mail-pass")]
    assert message["Subject"].startswith("[FIRING] critical · Backlog")
    text = message.get_content()
    assert "Event-writer backlog is 50 events" in text and "Status: firing" in text


async def test_email_refused_login_is_recorded_without_the_password(
    db: Database, smtp_server: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    _, port = smtp_server
    svc = make(
        db,
        ManualClock(FIXED_NOW),
        [50],
        alert_smtp_host="127.0.0.1",
        alert_smtp_port=port,
        alert_smtp_tls="none",
        alert_smtp_user="alerts",
        alert_smtp_password="wrong-pass",
        alert_email_from="voiceops@example.com",
        alert_email_to="ops@example.com",
    )
    sent = await svc.send_test("admin@example.com")
    assert sent == ["email"]
    [delivery] = await svc.store.recent_deliveries()
    assert (delivery.event, delivery.status, delivery.attempts) == ("test", "pending", 1)
    assert delivery.last_error == "SMTP 535"
    assert "wrong-pass" not in caplog.text


async def test_a_resolved_notice_waits_for_its_firing_notification(db: Database) -> None:
    clock = ManualClock(FIXED_NOW)
    backlog = [50]
    async with webhook_receiver() as hook:
        hook.status = 503
        svc = make(db, clock, backlog, alert_webhook_url=hook.url)
        await with_rule(svc)
        await svc.evaluate_once()  # firing: refused, retried in 30 s
        backlog[0] = 0
        await svc.evaluate_once()  # resolved: queued, held behind the firing one
        assert len(hook.posts) == 1
        hook.status = 200
        await clock.advance(30)
        await svc.evaluate_once()
        posts = await hook.wait_posts(3)
    assert [p.body["status"] for p in posts] == ["firing", "firing", "resolved"]
