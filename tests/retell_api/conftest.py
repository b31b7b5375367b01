"""Fixtures for the Retell API suite: the fake API on a real socket, settings pointing at
it, an SDK client, and the storage suite's databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from retell import AsyncRetell

from tests.fakes.fake_retell_api import FakeRetellApi
from tests.store import conftest as store_fixtures
from voiceops.config import DEFAULT_PROFILE, Settings
from voiceops.core.profile import AgentProfile, load_profile
from voiceops.retell.api import connect

WS_SECRET = "ws-secret-3f9a1c7e5b2d4f60"
PUBLIC_URL = "https://voice.example.com"

db = store_fixtures.db
migrated_pg = store_fixtures.migrated_pg


@pytest.fixture
def fake_api() -> Iterator[FakeRetellApi]:
    with FakeRetellApi() as api:
        yield api


@pytest.fixture
def profile() -> AgentProfile:
    return load_profile(DEFAULT_PROFILE)


def api_settings(api: FakeRetellApi, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "retell_base_url": api.base_url,
        "retell_api_key": SecretStr(api.api_key),
        "retell_timeout_s": 5.0,
        "ws_secret": SecretStr(WS_SECRET),
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'voiceops.db'}",
        "journal_path": tmp_path / "journal.jsonl",
        "brain": "flow",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    def build(api: FakeRetellApi, **overrides: Any) -> Settings:
        return api_settings(api, tmp_path, **overrides)

    return build


@pytest.fixture
async def client(fake_api: FakeRetellApi, tmp_path: Path) -> AsyncIterator[AsyncRetell]:
    sdk = connect(api_settings(fake_api, tmp_path), max_retries=0)
    try:
        yield sdk
    finally:
        await sdk.close()


def cli_env(api: FakeRetellApi, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment a CLI test runs ``voiceops`` with."""
    return {
        "VOICEOPS_RETELL_BASE_URL": api.base_url,
        "VOICEOPS_RETELL_API_KEY": api.api_key,
        "VOICEOPS_WS_SECRET": WS_SECRET,
        "VOICEOPS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'voiceops.db'}",
        "VOICEOPS_PROFILE_PATH": str(DEFAULT_PROFILE),
        "VOICEOPS_BRAIN": "flow",
    } | extra
