"""Sending alert notifications: a webhook (JSON, or Slack-compatible) and e-mail (SMTP).

What is sent is fixed when the notification is queued (:func:`payload`, kept with the
delivery row), so a retry sends the same words. :class:`Deliverer` claims due deliveries
(one instance sends each), sends them, and records the outcome: sent, or retried later
with exponential backoff (``RETRY_BASE_S`` doubling up to ``RETRY_MAX_S``), or failed for
good after ``MAX_ATTEMPTS`` with the last error kept for the console. A failure to send
never raises out of :meth:`Deliverer.run_due`.

Secrets stay secret: the webhook URL (which often carries a token), its signing secret
and the SMTP password appear in no log line, error text or page; errors name the kind
of failure (``HTTP 503``, ``ConnectError``, ``SMTP 535``) and nothing of the address.

The webhook body is JSON. With ``VOICEOPS_ALERT_WEBHOOK_SECRET`` set it is signed:
``X-Voiceops-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx2

from voiceops.config import Settings
from voiceops.core.clock import Clock
from voiceops.metrics import Metrics
from voiceops.store.alerts import AlertStore, Delivery, Incident, Rule

log = logging.getLogger("voiceops.alerts")

RETRY_BASE_S = 30.0
RETRY_MAX_S = 3600.0
MAX_ATTEMPTS = 12
"""About 5.5 hours of retries (30 s doubling to an hour) before a delivery is failed."""
SEND_TIMEOUT_S = 15.0
MAX_ROUNDS = 5
"""Passes over the due deliveries in one run (each pass may free the next notices)."""
LEASE = timedelta(minutes=2)
"""How long a claimed delivery is this instance's to send (longer than a send's timeout)."""


def channels_configured(settings: Settings) -> tuple[str, ...]:
    """The channels the settings can send on."""
    found = []
    if settings.alert_webhook_url is not None:
        found.append("webhook")
    if settings.alert_smtp_host and settings.alert_email_to and settings.alert_email_from:
        found.append("email")
    return tuple(found)


def _number(value: float | None) -> str:
    if value is None:
        return "no data"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:,.0f}"


def summary(rule: Rule, label: str, unit: str, status: str, value: float | None) -> str:
    """One line: what, how much against what threshold, over which window."""
    minutes = rule.window_s / 60
    window = f"{minutes / 60:g} h" if minutes >= 120 else f"{minutes:g} min"
    if status == "firing":
        return (
            f"{label} is {_number(value)} {unit} (threshold {_number(rule.threshold)} {unit}, "
            f"over the last {window})"
        )
    return (
        f"{label} is back to {_number(value)} {unit} (threshold {_number(rule.threshold)} {unit})"
    )


def payload(
    *,
    rule: Rule,
    label: str,
    unit: str,
    incident: Incident,
    status: str,
    text: str,
    business: str,
    console_url: str | None,
) -> dict[str, Any]:
    """The JSON body of a webhook notification (and the facts of the e-mail)."""
    return {
        "status": status,
        "alert": {
            "rule_id": rule.id,
            "name": rule.name,
            "kind": rule.kind,
            "label": label,
            "severity": rule.severity,
            "threshold": rule.threshold,
            "unit": unit,
            "window_s": rule.window_s,
        },
        "incident": {
            "id": incident.id,
            "opened_at": incident.opened_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "value": incident.value,
            "resolved_value": incident.resolved_value,
        },
        "summary": text,
        "business": business,
        "url": f"{console_url.rstrip('/')}/dashboard/alerts/incidents" if console_url else None,
    }


def test_payload(business: str, by: str, now: datetime) -> dict[str, Any]:
    return {
        "status": "test",
        "alert": {"name": "Test notification", "severity": "info"},
        "incident": None,
        "summary": f"A test notification from the voiceops console, sent by {by}.",
        "business": business,
        "sent_at": now.isoformat(),
        "url": None,
    }


def headline(body: Mapping[str, Any]) -> str:
    """``[FIRING] warning · Slow turns — …``: the Slack text and the e-mail subject."""
    alert = body.get("alert") or {}
    status = str(body.get("status", "")).upper()
    return (
        f"[{status}] {alert.get('severity', '')} · {alert.get('name', '')} — "
        f"{body.get('summary', '')}"
    )


class SendError(Exception):
    """A notification was not accepted; the message is safe to store and show."""


class Deliverer:
    """Claims, sends and records due deliveries (see the module docstring)."""

    def __init__(
        self,
        store: AlertStore,
        settings: Settings,
        *,
        clock: Clock,
        transport: httpx2.AsyncBaseTransport | None = None,
        retry_base_s: float = RETRY_BASE_S,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._store = store
        self._settings = settings
        self._clock = clock
        self._transport = transport
        self._retry_base_s = retry_base_s

    async def run_due(self) -> int:
        """Send every due delivery this instance can claim; returns how many were sent.

        A sent notification may let the next one of its incident go (a resolved notice
        waits for its firing one), so it looks again, a bounded number of times."""
        sent = 0
        for _ in range(MAX_ROUNDS):
            sent_now = 0
            for delivery in await self._store.due():
                if await self._store.claim(delivery, LEASE) and await self._attempt(delivery):
                    sent_now += 1
            sent += sent_now
            if sent_now == 0:
                break
        return sent

    async def _attempt(self, delivery: Delivery) -> bool:
        """Send a claimed delivery and record the outcome; ``True`` when it was sent."""
        attempt = delivery.attempts + 1
        try:
            await self.send(delivery.channel, delivery.payload)
        except SendError as exc:
            retry_at = None
            if attempt < MAX_ATTEMPTS:
                delay = min(self._retry_base_s * 2 ** (attempt - 1), RETRY_MAX_S)
                retry_at = self._clock.now() + timedelta(seconds=delay)
            log.warning(
                "alert %s notification %d by %s failed (attempt %d): %s%s",
                delivery.event,
                delivery.id,
                delivery.channel,
                attempt,
                exc,
                "" if retry_at else "; giving up",
            )
            await self._store.finish(delivery.id, error=str(exc), retry_at=retry_at)
            self._count(delivery.channel, "retry" if retry_at else "failed")
            return False
        await self._store.finish(delivery.id, error=None, retry_at=None)
        self._count(delivery.channel, "sent")
        return True

    def _count(self, channel: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.alert_notifications.labels(channel=channel, outcome=outcome).inc()

    async def send(self, channel: str, body: Mapping[str, Any]) -> None:
        """Send ``body`` on ``channel`` now; raises :class:`SendError`."""
        if channel == "webhook":
            await self._webhook(body)
        elif channel == "email":
            await self._email(body)
        else:
            raise SendError(f"unknown channel {channel[:20]!r}")

    async def _webhook(self, body: Mapping[str, Any]) -> None:
        s = self._settings
        if s.alert_webhook_url is None:
            raise SendError("no webhook URL is configured")
        data = {"text": headline(body)} if s.alert_webhook_format == "slack" else dict(body)
        raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"content-type": "application/json", "user-agent": "voiceops-alerts"}
        if s.alert_webhook_secret is not None:
            stamp = str(int(self._clock.now().timestamp()))
            key = s.alert_webhook_secret.get_secret_value().encode()
            digest = hmac.new(key, stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
            headers["x-voiceops-signature"] = f"t={stamp},v1={digest}"
        try:
            async with httpx2.AsyncClient(
                timeout=SEND_TIMEOUT_S, transport=self._transport, follow_redirects=False
            ) as client:
                response = await client.post(
                    s.alert_webhook_url.get_secret_value(), content=raw, headers=headers
                )
        except (httpx2.HTTPError, OSError) as exc:
            raise SendError(type(exc).__name__) from None
        if not 200 <= response.status_code < 300:
            raise SendError(f"HTTP {response.status_code}")

    async def _email(self, body: Mapping[str, Any]) -> None:
        s = self._settings
        if not (s.alert_smtp_host and s.alert_email_to and s.alert_email_from):
            raise SendError("no SMTP host, sender or recipient is configured")
        message = EmailMessage()
        message["Subject"] = headline(body)[:200]
        message["From"] = s.alert_email_from
        message["To"] = ", ".join(s.alert_email_to)
        message.set_content(_email_text(body))
        try:
            await asyncio.wait_for(asyncio.to_thread(self._smtp_send, message), SEND_TIMEOUT_S * 2)
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"SMTP {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendError(type(exc).__name__) from None

    def _smtp_send(self, message: EmailMessage) -> None:
        s = self._settings
        host, port = s.alert_smtp_host or "", s.alert_smtp_port
        smtp: smtplib.SMTP
        if s.alert_smtp_tls == "tls":
            smtp = smtplib.SMTP_SSL(
                host, port, timeout=SEND_TIMEOUT_S, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=SEND_TIMEOUT_S)
        with smtp:
            if s.alert_smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.alert_smtp_user:
                password = s.alert_smtp_password.get_secret_value() if s.alert_smtp_password else ""
                smtp.login(s.alert_smtp_user, password)
            smtp.send_message(message)


def _email_text(body: Mapping[str, Any]) -> str:
    alert = body.get("alert") or {}
    incident = body.get("incident") or {}
    lines = [str(body.get("summary", "")), ""]
    for label, value in (
        ("Status", body.get("status")),
        ("Rule", alert.get("name")),
        ("Severity", alert.get("severity")),
        ("Business", body.get("business")),
        ("Opened", incident.get("opened_at")),
        ("Resolved", incident.get("resolved_at")),
        ("Incidents", body.get("url")),
    ):
        if value:
            lines.append(f"{label}: {value}")
    return "\n".join(lines) + "\n"
