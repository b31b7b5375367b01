"""Webhook fixtures: the routes mounted on an app, over a database of each dialect."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from tests.store import conftest as store_fixtures
from tests.webhooks.samples import EXAMPLE_KEY
from voiceops.config import DEFAULT_PROFILE, Settings
from voiceops.core.clock import ManualClock, utc_now_ms
from voiceops.core.profile import AgentProfile, load_profile
from voiceops.metrics import Metrics
from voiceops.retell.webhooks import sign
from voiceops.store.db import Database
from voiceops.web.webhook import WebhookProcessor, webhook_routes

MAX_BODY = 8192

# The storage suite's fixtures: a migrated, empty database of each dialect.
db = store_fixtures.db
migrated_pg = store_fixtures.migrated_pg


def make_settings(*, key: str | None = EXAMPLE_KEY) -> Settings:
    return Settings(
        retell_api_key=SecretStr(key) if key is not None else None,
        webhook_max_body_bytes=MAX_BODY,
    )


class Clock(ManualClock):
    """A manual clock whose wall time tests set in epoch milliseconds, as Retell signs."""

    def __init__(self, now_ms: int = 1767225600000) -> None:
        super().__init__(datetime.fromtimestamp(now_ms / 1000, UTC))
        self.now_ms = now_ms

    @property
    def now_ms(self) -> int:
        return utc_now_ms(self)

    @now_ms.setter
    def now_ms(self, value: int) -> None:
        self.set_now(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value))


@dataclass
class Harness:
    """The webhook routes on a Starlette app, an HTTP client for it and a frozen clock."""

    db: Database
    settings: Settings
    profile: AgentProfile
    clock: Clock = field(default_factory=Clock)
    metrics: Metrics = field(default_factory=Metrics)

    def __post_init__(self) -> None:
        routes, self.processor = webhook_routes(
            db=self.db,
            settings=self.settings,
            metrics=self.metrics,
            profile=self.profile,
            clock=self.clock,
        )
        self.app = Starlette(routes=routes)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://voiceops.test"
        )

    async def post(
        self,
        body: bytes,
        *,
        path: str = "/webhooks/retell",
        signed_at: int | None = None,
        header: str | None = None,
        key: str = EXAMPLE_KEY,
    ) -> httpx.Response:
        if header is None:
            header = sign(body, key, signed_at if signed_at is not None else self.clock.now_ms)
        return await self.client.post(
            path,
            content=body,
            headers={"content-type": "application/json", "x-retell-signature": header},
        )

    def counter(self, name: str, labels: dict[str, str] | None = None) -> float:
        value = self.metrics.registry.get_sample_value(name, labels or {})
        return value or 0.0


HarnessFactory = Callable[..., Harness]


@pytest.fixture
async def harness_factory() -> AsyncIterator[HarnessFactory]:
    made: list[Harness] = []
    profile = load_profile(DEFAULT_PROFILE)

    def factory(db: Database, *, key: str | None = EXAMPLE_KEY) -> Harness:
        harness = Harness(db=db, settings=make_settings(key=key), profile=profile)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        await harness.processor.stop()
        await harness.client.aclose()


@pytest.fixture
async def harness(db: Database, harness_factory: HarnessFactory) -> AsyncIterator[Harness]:
    built = harness_factory(db)
    await built.processor.start()
    yield built


async def processed(processor: WebhookProcessor) -> None:
    await processor.join()
