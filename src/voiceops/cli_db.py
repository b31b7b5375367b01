"""``voiceops db``: schema migrations and the retention purge, from the command line.

Each command reads :class:`Settings` from the environment (``VOICEOPS_DATABASE_URL`` or
``DATABASE_URL``; ``VOICEOPS_RETENTION_DAYS``) and runs one coroutine. Output never
shows the database password.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Annotated

import typer

from voiceops.config import Settings
from voiceops.core.errors import ConfigError, StorageError
from voiceops.store.db import Database, safe_url
from voiceops.store.migrate import current, head_revision, upgrade
from voiceops.store.retention import purge

db_app = typer.Typer(name="db", help="Database migrations and retention.", no_args_is_help=True)

_DURATION = re.compile(r"(\d+)\s*([smhdw]?)")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks", "": "days"}


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``45m``, ``2w``, ``90s``; a bare number means days."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration like 30d, 12h or 90")
    amount, unit = match.groups()
    duration = timedelta(**{_UNITS[unit]: int(amount)})
    if duration <= timedelta(0):
        raise typer.BadParameter("the duration must be positive")
    return duration


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=1)


@db_app.command("upgrade")
def upgrade_command(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the database to the newest schema (idempotent)."""
    settings = Settings()
    try:
        asyncio.run(upgrade(settings.database_url, revision))
    except (StorageError, ConfigError) as exc:
        raise _fail(exc) from None
    typer.echo(f"{safe_url(settings.database_url)} is at revision {revision}")


@db_app.command("current")
def current_command() -> None:
    """Show the database's schema revision and the newest one this version ships."""
    settings = Settings()
    try:
        revision = asyncio.run(current(settings.database_url))
    except (StorageError, ConfigError) as exc:
        raise _fail(exc) from None
    head = head_revision()
    state = "up to date" if revision == head else f"behind (newest is {head})"
    typer.echo(f"{safe_url(settings.database_url)}: {revision or 'empty'} - {state}")


@db_app.command("purge")
def purge_command(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            help="Delete call data older than this (30d, 12h, 90 = days). "
            "Default: VOICEOPS_RETENTION_DAYS.",
        ),
    ] = None,
) -> None:
    """Delete calls, call events, states, webhook deliveries and callback requests older
    than the retention window, and bookings whose appointment ended before it."""
    settings = Settings()
    window = (
        parse_duration(older_than)
        if older_than is not None
        else timedelta(days=settings.retention_days)
    )
    try:
        counts = asyncio.run(_purge(settings.database_url, window))
    except (StorageError, ConfigError, ValueError) as exc:
        raise _fail(exc) from None
    for table, count in counts.items():
        typer.echo(f"{table}: {count} deleted")


async def _purge(url: str, window: timedelta) -> dict[str, int]:
    db = await Database.open(url)
    try:
        return await purge(db, window)
    finally:
        await db.close()
