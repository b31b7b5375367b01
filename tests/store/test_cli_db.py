"""``voiceops db upgrade | current | purge`` against a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import typer
from sqlalchemy import update
from typer.testing import CliRunner

from voiceops.cli_db import db_app, parse_duration
from voiceops.store.calls import CallRepo
from voiceops.store.db import Database
from voiceops.store.tables import calls


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90", timedelta(days=90)),
        ("45m", timedelta(minutes=45)),
        ("2w", timedelta(weeks=2)),
        (" 7D ", timedelta(days=7)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "d", "-3d", "3 days", "1.5h", "0"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_duration(text)


async def _add_calls(url: str) -> None:
    """One call from 40 days ago and one from now."""
    db = await Database.open(url)
    try:
        await CallRepo(db).set_outcome("call_old", "ended")
        await CallRepo(db).set_outcome("call_new", "ended")
        async with db.engine.begin() as conn:
            await conn.execute(
                update(calls)
                .where(calls.c.call_id == "call_old")
                .values(created_at=datetime.now(UTC) - timedelta(days=40))
            )
    finally:
        await db.close()


def test_upgrade_current_and_purge(sqlite_url: str) -> None:
    runner = CliRunner()
    env = {"VOICEOPS_DATABASE_URL": sqlite_url}
    before = runner.invoke(db_app, ["current"], env=env)
    assert before.exit_code == 0, before.output
    assert "empty" in before.output
    upgraded = runner.invoke(db_app, ["upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    after = runner.invoke(db_app, ["current"], env=env)
    assert "up to date" in after.output
    asyncio.run(_add_calls(sqlite_url))
    kept = runner.invoke(db_app, ["purge", "--older-than", "60d"], env=env)
    assert kept.exit_code == 0, kept.output
    assert "calls: 0 deleted" in kept.output
    default = runner.invoke(db_app, ["purge"], env={**env, "VOICEOPS_RETENTION_DAYS": "50"})
    assert "calls: 0 deleted" in default.output
    purged = runner.invoke(db_app, ["purge", "--older-than", "30d"], env=env)
    assert purged.exit_code == 0, purged.output
    assert "calls: 1 deleted" in purged.output
    bad = runner.invoke(db_app, ["purge", "--older-than", "soon"], env=env)
    assert bad.exit_code != 0


def test_unreachable_database_is_a_clean_error() -> None:
    runner = CliRunner()
    env = {"VOICEOPS_DATABASE_URL": "postgresql://voiceops:secret-pw@127.0.0.1:1/none"}
    result = runner.invoke(db_app, ["upgrade"], env=env)
    assert result.exit_code == 1
    assert "error:" in result.output
    assert "secret-pw" not in result.output
