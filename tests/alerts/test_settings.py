"""The alert settings as the environment gives them: recipients as a list, secrets kept
out of ``repr`` and out of validation errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from voiceops.config import Settings


def test_alert_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEOPS_ALERT_WEBHOOK_URL", "https://hooks.example.com/T0/B0/s3cr3t")
    monkeypatch.setenv("VOICEOPS_ALERT_WEBHOOK_FORMAT", "slack")
    monkeypatch.setenv("VOICEOPS_ALERT_EMAIL_TO", "ops@example.com, owner@example.com")
    monkeypatch.setenv("VOICEOPS_ALERT_SMTP_PASSWORD", "p4ss")
    monkeypatch.setenv("VOICEOPS_ALERT_INTERVAL_S", "30")
    settings = Settings()
    assert settings.alert_email_to == ["ops@example.com", "owner@example.com"]
    assert (settings.alert_webhook_format, settings.alert_interval_s) == ("slack", 30)
    shown = repr(settings)
    assert "s3cr3t" not in shown and "p4ss" not in shown


def test_a_webhook_url_that_is_not_http_is_refused_without_showing_it() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(alert_webhook_url="hooks.example.com/s3cr3t")
    assert "must start with http:// or https://" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)
