"""Settings read from the environment, as an operator writes them."""

from __future__ import annotations

import pytest

from voiceops.config import Settings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("100.20.5.228", ["100.20.5.228"]),
        ("100.20.5.228, 10.0.0.0/8", ["100.20.5.228", "10.0.0.0/8"]),
        ('["100.20.5.228"]', ["100.20.5.228"]),
        ("", []),
    ],
)
def test_ws_allow_ips_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("VOICEOPS_WS_ALLOW_IPS", raw)
    assert Settings().ws_allow_ips == expected


def test_pinned_clock_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEOPS_CLOCK_START", "2026-12-08T11:00:00-05:00")
    settings = Settings()
    assert settings.clock_start is not None
    assert settings.clock_start.utcoffset() is not None
    assert settings.allow_pinned_clock is False


def test_serve_refuses_a_pinned_clock_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from voiceops.cli import app

    monkeypatch.delenv("VOICEOPS_ALLOW_PINNED_CLOCK", raising=False)
    refused = CliRunner().invoke(app, ["serve", "--clock", "2026-12-08T11:00:00-05:00"])
    assert refused.exit_code == 2
    assert "VOICEOPS_ALLOW_PINNED_CLOCK" in refused.output
    naive = CliRunner().invoke(app, ["serve", "--clock", "2026-12-08T11:00:00"])
    assert naive.exit_code == 2
    assert "offset" in naive.output


def test_the_pinned_clock_is_built_when_allowed() -> None:
    from voiceops.cli import _clock
    from voiceops.core.clock import PinnedClock

    settings = Settings(allow_pinned_clock=True)
    clock = _clock(settings, "2026-12-08T11:00:00-05:00")
    assert isinstance(clock, PinnedClock)
    assert clock.start.isoformat() == "2026-12-08T16:00:00+00:00"
