"""``voiceops retell``: Retell's side from the command line, on the official SDK.

``setup`` finds or creates the agent and gives it this deployment's URLs and the profile's
settings (a diff, then a published version; ``--dry-run`` prints the plan); ``check`` tells
whether Retell and the deployment agree; ``numbers`` lists, buys and binds phone numbers
(weighted, for an A/B split between versions); ``calls sync`` stores every recent call's
Retell record; ``web-call`` starts a browser test call.

Settings come from the environment, once, here: ``VOICEOPS_RETELL_API_KEY`` (never
printed), ``VOICEOPS_RETELL_BASE_URL``, ``VOICEOPS_WS_SECRET`` (printed only as a
fingerprint), the profile (``VOICEOPS_PROFILE_PATH``) and the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import httpx2
import typer

from voiceops.cli_db import parse_duration
from voiceops.config import Settings
from voiceops.core.clock import SystemClock, utc_now_ms
from voiceops.core.errors import ConfigError, RetellApiError, StorageError
from voiceops.core.profile import AgentProfile, load_profile
from voiceops.store.db import Database, safe_url
from voiceops.store.migrate import current, head_revision
from voiceops.store.retell_records import RetellRecordRepo

if TYPE_CHECKING:
    from retell import AsyncRetell

    from voiceops.retell.setup import DesiredAgent

# The SDK (and with it retell/api.py and retell/setup.py) is imported inside the commands
# that use it: loading its models takes a second or so, which `voiceops serve` and the
# other commands should not pay.

T = TypeVar("T")

retell_app = typer.Typer(
    name="retell",
    help="Retell's side: the agent, phone numbers, call records, test calls.",
    no_args_is_help=True,
)
numbers_app = typer.Typer(name="numbers", help="Phone numbers and their agents.")
calls_app = typer.Typer(name="calls", help="Retell's records of the calls.")
retell_app.add_typer(numbers_app)
retell_app.add_typer(calls_app)

CHECK_TIMEOUT_S = 10.0


def load_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        typer.echo(f"invalid configuration: {exc}", err=True)
        raise typer.Exit(2) from None


def load_agent_profile(settings: Settings) -> AgentProfile:
    try:
        return load_profile(settings.profile_path)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine; an expected failure is one line on stderr and exit code 1."""
    try:
        return asyncio.run(work)
    except (RetellApiError, ConfigError, StorageError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


async def with_client(settings: Settings, use: Callable[[AsyncRetell], Awaitable[T]]) -> T:
    from voiceops.retell.api import connect

    client = connect(settings)
    try:
        return await use(client)
    finally:
        await client.close()


async def require_schema(url: str) -> None:
    """Refuse to run on a database that is not at the newest schema."""
    revision = await current(url)
    if revision != head_revision():
        raise StorageError(
            f"{safe_url(url)} is at revision {revision or 'none'}, not the newest: "
            "run voiceops db upgrade"
        )


def _desired(
    settings: Settings, public_url: str, agent_name: str | None, voice_id: str | None
) -> DesiredAgent:
    from voiceops.retell.setup import desired_agent

    secret = settings.ws_secret.get_secret_value() if settings.ws_secret else None
    try:
        return desired_agent(
            load_agent_profile(settings),
            public_url=public_url,
            ws_secret=secret,
            agent_name=agent_name,
            voice_id=voice_id,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


PublicUrl = Annotated[
    str,
    typer.Option(
        "--public-url", help="Where Retell reaches this deployment, e.g. https://voice.example.com."
    ),
]
AgentName = Annotated[
    str | None,
    typer.Option(help="The agent's name on Retell (default: the profile's, or the business's)."),
]
AgentOption = Annotated[
    str | None,
    typer.Option("--agent", help="Agent id or exact name (default: the profile's agent)."),
]


@retell_app.command("setup")
def setup_command(
    public_url: PublicUrl,
    agent_name: AgentName = None,
    voice_id: Annotated[
        str | None, typer.Option(help="Retell voice id (default: keep the agent's).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the plan; change nothing.")] = False,
) -> None:
    """Find or create the agent, point it at this deployment, publish a version.

    Sets the custom-LLM WebSocket URL (with VOICEOPS_WS_SECRET), the webhook URL and
    events, reminders and post-call analysis from the profile, prints what changed and the
    agent id. A second run changes nothing."""
    settings = load_settings()
    desired = _desired(settings, public_url, agent_name, voice_id)
    if settings.ws_secret is None:
        typer.echo(
            "warning: VOICEOPS_WS_SECRET is not set: the agent's URL carries no secret and "
            "anyone who finds it can open a call",
            err=True,
        )

    from voiceops.retell.setup import apply_setup, plan_setup

    async def work(client: AsyncRetell) -> None:
        plan = await plan_setup(client, desired)
        for line in plan.describe():
            typer.echo(line)
        if dry_run:
            typer.echo("dry run: nothing changed")
            return
        result = await apply_setup(client, plan)
        if result.published_version is not None:
            typer.echo(f"published version {result.published_version}")
        typer.echo(f"agent id: {result.agent_id}")

    run(with_client(settings, work))


@retell_app.command("check")
def check_command(public_url: PublicUrl, agent_name: AgentName = None) -> None:
    """Check that Retell and this deployment agree.

    The agent points at the public URL, the webhook URL answers, the signature key matches
    (a signed self-test delivery) and /healthz is reachable from the public URL."""
    settings = load_settings()
    desired = _desired(settings, public_url, agent_name, None)
    if settings.retell_api_key is None:
        typer.echo("error: VOICEOPS_RETELL_API_KEY is not set", err=True)
        raise typer.Exit(1)
    api_key = settings.retell_api_key.get_secret_value()
    from voiceops.retell.setup import all_ok, run_checks

    async def work(client: AsyncRetell) -> bool:
        async with httpx2.AsyncClient(timeout=CHECK_TIMEOUT_S) as http:
            checks = await run_checks(
                client, desired, http=http, api_key=api_key, now_ms=utc_now_ms(SystemClock())
            )
        for check in checks:
            typer.echo(check.render())
        return all_ok(checks)

    if not run(with_client(settings, work)):
        raise typer.Exit(1)


@retell_app.command("web-call")
def web_call_command(
    agent: AgentOption = None,
    version: Annotated[
        str | None, typer.Option(help="Agent version: a number, latest or latest_published.")
    ] = None,
) -> None:
    """Create a web call for a browser test; prints its id and access token."""
    settings = load_settings()
    name = agent or _agent_name(settings)
    chosen: int | str | None = None
    if version is not None:
        chosen = int(version) if version.isdigit() else version
    from voiceops.retell.api import create_web_call, resolve_agent

    async def work(client: AsyncRetell) -> None:
        agent_id = await resolve_agent(client, name)
        call = await create_web_call(client, agent_id, chosen)
        typer.echo(f"call id: {call.call_id}")
        typer.echo(f"access token: {call.access_token}")
        typer.echo(f"expires at (epoch ms): {call.expires_at}")

    run(with_client(settings, work))


def _agent_name(settings: Settings) -> str:
    profile = load_agent_profile(settings)
    return profile.retell.agent_name or f"{profile.business_name} (voiceops)"


# --------------------------------------------------------------------------------------
# numbers


@numbers_app.command("list")
def numbers_list_command() -> None:
    """The account's phone numbers and the agents their inbound calls go to."""
    from voiceops.retell.api import describe_agents, list_numbers

    settings = load_settings()

    async def work(client: AsyncRetell) -> None:
        numbers = await list_numbers(client)
        if not numbers:
            typer.echo("no phone numbers")
        for number in numbers:
            nickname = f" ({number.nickname})" if number.nickname else ""
            typer.echo(
                f"{number.phone_number}{nickname} {number.phone_number_type}: "
                f"{describe_agents(number.inbound_agents)}"
            )

    run(with_client(settings, work))


@numbers_app.command("buy")
def numbers_buy_command(
    area_code: Annotated[int, typer.Option(help="US area code, e.g. 415.")],
    agent: AgentOption = None,
    toll_free: Annotated[bool, typer.Option(help="A toll-free number.")] = False,
    nickname: Annotated[str | None, typer.Option(help="For your own reference.")] = None,
) -> None:
    """Buy a number whose inbound calls go to the agent's published version."""
    from voiceops.retell.api import Weighted, buy_number, describe_agents, resolve_agent

    settings = load_settings()
    name = agent or _agent_name(settings)

    async def work(client: AsyncRetell) -> None:
        agent_id = await resolve_agent(client, name)
        number = await buy_number(
            client,
            area_code=area_code,
            inbound_agents=[Weighted(agent_id, weight=Decimal(1))],
            toll_free=toll_free,
            nickname=nickname,
        )
        typer.echo(f"bought {number.phone_number}: {describe_agents(number.inbound_agents)}")

    run(with_client(settings, work))


@numbers_app.command("assign")
def numbers_assign_command(
    number: Annotated[str, typer.Argument(help="The number, E.164 (+14155550123).")],
    agent: AgentOption = None,
    split: Annotated[
        list[str] | None,
        typer.Option(
            help="[AGENT_ID:]VERSION=WEIGHT, repeated; the weights add up to 1 "
            "(e.g. --split 3=0.9 --split 4=0.1). Default: latest_published=1."
        ),
    ] = None,
) -> None:
    """Send the number's inbound calls to the agent, or split them between versions."""
    from voiceops.retell.api import (
        Weighted,
        assign_number,
        describe_agents,
        parse_split,
        resolve_agent,
    )

    settings = load_settings()
    name = agent or _agent_name(settings)
    try:
        parse_split(split or [], "checked before any request")
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

    async def work(client: AsyncRetell) -> None:
        agent_id = await resolve_agent(client, name)
        weighted = parse_split(split or [], agent_id) or [Weighted(agent_id, weight=Decimal(1))]
        before, after = await assign_number(client, number, weighted)
        typer.echo(f"{after.phone_number}")
        typer.echo(f"  before: {describe_agents(before.inbound_agents)}")
        typer.echo(f"  now:    {describe_agents(after.inbound_agents)}")

    run(with_client(settings, work))


# --------------------------------------------------------------------------------------
# calls


@calls_app.command("sync")
def calls_sync_command(
    since: Annotated[
        str, typer.Option(help="Calls started this long ago or later (7d, 12h, 90 = days).")
    ] = "7d",
) -> None:
    """Store every recent call's Retell record, merged with what webhooks brought."""
    settings = load_settings()
    window = parse_duration(since)
    typer.echo(run(_sync(settings, window)))


async def _sync(settings: Settings, window: timedelta) -> str:
    from voiceops.retell.api import sync_calls

    await require_schema(settings.database_url)
    clock = SystemClock()
    db = await Database.open(settings.database_url)
    try:
        records = RetellRecordRepo(db, clock=clock)

        async def work(client: AsyncRetell) -> str:
            result = await sync_calls(client, records, since=clock.now() - window)
            return f"synced {result.summary()}"

        return await with_client(settings, work)
    finally:
        await db.close()
