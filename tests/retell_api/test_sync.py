"""``calls sync``: list-calls paged through to the end, every call's record merged with what
the webhooks brought (one row per call, newest observation winning), and the sync that
``serve`` runs on a timer, started and stopped by the app's lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr
from retell import AsyncRetell
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import run_server
from tests.fakes.fake_retell_api import FakeRetellApi, phone_call
from tests.retell_api.conftest import cli_env
from tests.webhooks.conftest import Harness
from tests.webhooks.conftest import make_settings as webhook_settings
from tests.webhooks.samples import signed_samples
from voiceops.cli import app
from voiceops.config import Settings
from voiceops.core.clock import ManualClock, PinnedClock
from voiceops.core.profile import AgentProfile
from voiceops.retell.api import ScheduledSync, sync_calls
from voiceops.retell.schedule import scheduled_sync
from voiceops.store.db import Database
from voiceops.store.migrate import upgrade
from voiceops.store.retell_records import RetellRecordRepo
from voiceops.store.tables import retell_calls

SAMPLE_CALL = "call_8d1f0c3b9a7e4d2f6a5b"
START_MS = 1_767_225_600_000  # the samples' call started 2026-01-01 00:00 UTC
SINCE = datetime(2025, 12, 31, tzinfo=UTC)


def _calls(count: int) -> list[dict[str, object]]:
    return [
        phone_call(f"call_{i:02d}", start_ms=START_MS + i * 60_000, combined_cost=20.0 + i)
        for i in range(1, count + 1)
    ]


async def _rows(db: Database) -> int:
    async with db.engine.connect() as conn:
        count = await conn.execute(select(func.count()).select_from(retell_calls))
        return int(count.scalar_one())


async def test_sync_pages_through_three_pages_and_merges_with_stored_webhooks(
    db: Database, fake_api: FakeRetellApi, client: AsyncRetell, profile: AgentProfile
) -> None:
    # The webhooks of the samples' call arrived and were applied first.
    harness = Harness(db=db, settings=webhook_settings(), profile=profile)
    await harness.processor.start()
    try:
        for sample in signed_samples():
            harness.clock.now_ms = sample.timestamp_ms
            assert (await harness.post(sample.raw_body, header=sample.header)).status_code == 204
        await harness.processor.join()
    finally:
        await harness.processor.stop()
        await harness.client.aclose()
    records = RetellRecordRepo(db, clock=ManualClock(datetime(2026, 1, 1, 0, 10, tzinfo=UTC)))
    from_webhooks = await records.get(SAMPLE_CALL)
    assert from_webhooks is not None and from_webhooks.synced_at is None
    assert from_webhooks.disconnection_reason == "call_transfer"
    assert from_webhooks.transfer_destination == "+14155550123"
    assert from_webhooks.call_analysis is not None and from_webhooks.call_cost is None
    assert from_webhooks.field_times["call_analysis"] == 1_767_225_800_555  # signed at

    # Retell's list has that call (now with its cost) and six more; three to a page.
    fake_api.max_page = 3
    sample = phone_call(
        SAMPLE_CALL,
        start_ms=START_MS,
        duration_ms=181_000,
        combined_cost=24.97,
        disconnection_reason="call_transfer",
        transfer_destination="+14155550123",
        recording_url="https://example.invalid/rec.wav",
    )
    fake_api.add_calls(sample, *_calls(6))
    result = await sync_calls(client, records, since=SINCE)
    assert result.pages == 3 and result.calls == 7
    assert result.outcomes == {"new": 6, "updated": 1, "unchanged": 0}
    pages = fake_api.paths("/v3/list-calls")
    assert [r.body.get("pagination_key") for r in pages] == [None, "call_02", "call_05"]
    assert pages[0].body["filter_criteria"] == {
        "start_timestamp": {"op": "ge", "type": "number", "value": 1_767_139_200_000}
    }
    assert await _rows(db) == 7

    merged = await records.get(SAMPLE_CALL)
    assert merged is not None and merged.synced_at is not None
    assert merged.call_cost is not None and merged.call_cost["combined_cost"] == "24.97"
    assert merged.latency is not None and merged.latency["e2e"]["values"] == [800.0, 840.0]
    assert merged.transfer_destination == "+14155550123"
    assert merged.public_log_url == f"https://example.invalid/{SAMPLE_CALL}.log"
    # The sync observed the call after the webhooks were signed: its analysis is newer.
    assert merged.call_analysis == {"call_summary": "Booked a haircut.", "call_successful": True}

    # Syncing again brings nothing new.
    again = await sync_calls(client, records, since=SINCE)
    assert again.outcomes == {"new": 0, "updated": 0, "unchanged": 7}
    assert await _rows(db) == 7


async def test_a_webhook_signed_after_the_sync_keeps_its_fields(
    db: Database, fake_api: FakeRetellApi, client: AsyncRetell, profile: AgentProfile
) -> None:
    # The sync ran before Retell finished its analysis; the analysis webhook came later.
    fake_api.add_calls(
        phone_call(SAMPLE_CALL, start_ms=START_MS, analysis={"call_summary": "(pending)"})
    )
    early = RetellRecordRepo(db, clock=ManualClock(datetime(2026, 1, 1, 0, 3, tzinfo=UTC)))
    await sync_calls(client, early, since=SINCE)
    harness = Harness(db=db, settings=webhook_settings(), profile=profile)
    await harness.processor.start()
    try:
        analysed = signed_samples()[-1]
        harness.clock.now_ms = analysed.timestamp_ms
        assert (await harness.post(analysed.raw_body, header=analysed.header)).status_code == 204
        await harness.processor.join()
    finally:
        await harness.processor.stop()
        await harness.client.aclose()
    record = await early.get(SAMPLE_CALL)
    assert record is not None and record.call_analysis is not None
    assert record.call_analysis["call_summary"].startswith("Caller reported a kitchen-sink leak")
    assert record.call_cost is not None  # from the sync; the webhook had none
    assert await _rows(db) == 1


def test_the_sync_command(fake_api: FakeRetellApi, tmp_path: Path) -> None:
    env = cli_env(fake_api, tmp_path)
    runner = CliRunner()
    unmigrated = runner.invoke(app, ["retell", "calls", "sync"], env=env)
    assert unmigrated.exit_code == 1 and "run voiceops db upgrade" in unmigrated.output
    asyncio.run(upgrade(env["VOICEOPS_DATABASE_URL"]))
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    fake_api.add_calls(
        *(phone_call(f"call_r{i}", start_ms=now_ms - i * 3_600_000) for i in range(1, 5)),
        phone_call("call_old", start_ms=now_ms - 10 * 86_400_000),
    )
    result = runner.invoke(app, ["retell", "calls", "sync", "--since", "2d"], env=env)
    assert result.exit_code == 0, result.output
    assert "synced 4 calls since" in result.output and "4 new, 0 updated" in result.output


async def test_the_scheduled_sync_looks_back_from_its_previous_run(
    db: Database, fake_api: FakeRetellApi, client: AsyncRetell
) -> None:
    clock = ManualClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
    fake_api.add_calls(*_calls(2))
    sync = ScheduledSync(client, RetellRecordRepo(db, clock=clock), clock=clock, interval_s=600)
    sync.start()
    try:
        assert fake_api.paths("/v3/list-calls") == []  # the first run waits one interval
        await clock.advance(600)
        await _until(lambda: sync.runs == 1)
        await clock.advance(600)
        await _until(lambda: sync.runs == 2)
    finally:
        await sync.stop()
    first, second = (
        r.body["filter_criteria"]["start_timestamp"]["value"]
        for r in (fake_api.paths("/v3/list-calls"))
    )
    started = datetime(2026, 1, 1, 12, 10, tzinfo=UTC)
    assert first == _ms(started - timedelta(days=1))
    assert second == _ms(started - timedelta(hours=3))  # the first run started at 12:10
    assert await _rows(db) == 2

    fake_api.fail(500, times=1)
    clock2 = ManualClock(datetime(2026, 1, 3, tzinfo=UTC))
    failing = ScheduledSync(client, RetellRecordRepo(db, clock=clock2), clock=clock2, interval_s=60)
    failing.start()
    try:
        await clock2.advance(60)
        await _until(lambda: failing.failures == 1)
        await clock2.advance(60)
        await _until(lambda: failing.runs == 1)  # a failed run is retried at the next tick
    finally:
        await failing.stop()


async def test_serve_runs_the_sync_while_it_lives_and_stops_it_on_shutdown(
    fake_api: FakeRetellApi, make_settings: Callable[..., Settings], profile: AgentProfile
) -> None:
    fake_api.add_calls(*_calls(3))
    settings = make_settings(
        retell_api_key=SecretStr(fake_api.api_key),
        retell_base_url=fake_api.base_url,
        retell_sync_interval_s=0.05,
    )
    clock = PinnedClock(datetime(2026, 1, 2, tzinfo=UTC))
    async with run_server(settings, profile=profile, clock=clock) as server:
        await _until(lambda: len(fake_api.paths("/v3/list-calls")) >= 2)
        records = RetellRecordRepo(server.runtime.db, clock=clock)
        await _until_async(lambda: records.get("call_03"))
    after_shutdown = len(fake_api.paths("/v3/list-calls"))
    await asyncio.sleep(0.2)
    assert len(fake_api.paths("/v3/list-calls")) == after_shutdown


async def test_no_key_or_no_interval_means_no_sync(db: Database) -> None:
    clock = ManualClock(datetime(2026, 1, 2, tzinfo=UTC))
    for settings in (
        Settings(retell_api_key=None),
        Settings(retell_api_key=SecretStr("key"), retell_sync_interval_s=0),
    ):
        async with scheduled_sync(settings, db=db, clock=clock) as sync:
            assert sync is None


async def _until(condition: Callable[[], bool], attempts: int = 1000) -> None:
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def _until_async(get: Callable[[], Awaitable[object]], attempts: int = 1000) -> None:
    for _ in range(attempts):
        if await get() is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("it never came")


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)
