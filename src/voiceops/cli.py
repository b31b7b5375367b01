"""The ``voiceops`` command: thin wrappers over the package's functions.

``serve`` runs the server, ``call`` talks to a running server from the terminal the way
Retell would, ``eval`` plays the scenario suite against it, ``db`` manages the database.
Settings are read from the environment here, at the edge, once; options override them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from voiceops.config import Settings
from voiceops.core.clock import Clock, PinnedClock, SystemClock
from voiceops.core.errors import ConfigError
from voiceops.logs import setup_logging

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from voiceops.core.profile import AgentProfile
    from voiceops.web.drain import Drain

app = typer.Typer(
    help="voiceops: the backend behind a phone voice agent on Retell AI.",
    no_args_is_help=True,
    add_completion=False,
)
log = logging.getLogger("voiceops.cli")


def _settings(**overrides: Any) -> Settings:
    try:
        base = Settings()
    except ValueError as exc:
        typer.echo(f"invalid configuration: {exc}", err=True)
        raise typer.Exit(2) from None
    values = {k: v for k, v in overrides.items() if v is not None}
    return base.model_copy(update=values) if values else base


def _clock(settings: Settings, option: str | None) -> Clock:
    """The process's clock: the system's, or pinned at ``--clock``/``VOICEOPS_CLOCK_START``
    when ``VOICEOPS_ALLOW_PINNED_CLOCK`` allows it (a production server must never run on a
    made-up date)."""
    start = settings.clock_start
    if option is not None:
        try:
            start = datetime.fromisoformat(option)
        except ValueError:
            typer.echo(f"--clock: not an ISO-8601 time: {option!r}", err=True)
            raise typer.Exit(2) from None
    if start is None:
        return SystemClock()
    if start.tzinfo is None:
        typer.echo("--clock needs a UTC offset, e.g. 2026-12-08T11:00:00-05:00", err=True)
        raise typer.Exit(2)
    if not settings.allow_pinned_clock:
        typer.echo(
            "a pinned clock is refused unless VOICEOPS_ALLOW_PINNED_CLOCK=true "
            "(it is for evaluations and demos, never for real callers)",
            err=True,
        )
        raise typer.Exit(2)
    log.warning("the clock is pinned: it started at %s, not at the real time", start.isoformat())
    return PinnedClock(start)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    profile: Annotated[
        Path | None, typer.Option(help="Agent profile YAML (default: the demo salon).")
    ] = None,
    brain: Annotated[str | None, typer.Option(help="auto, llm or flow.")] = None,
    migrate: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Run migrations at start.")
    ] = True,
    clock: Annotated[
        str | None,
        typer.Option(
            help="Pin the start of the wall clock, e.g. 2026-12-08T11:00:00-05:00 (evaluations "
            "and demos; it then runs forward in real time). Needs "
            "VOICEOPS_ALLOW_PINNED_CLOCK=true."
        ),
    ] = None,
) -> None:
    """Run the server: Retell's LLM WebSocket, webhooks, /healthz and /metrics.

    SIGTERM drains it: no new calls, live calls go on for up to VOICEOPS_DRAIN_TIMEOUT_S,
    then what is left is handed over for Retell to re-dial elsewhere; a second SIGTERM or
    Ctrl-C hands them over at once.
    """
    from voiceops.web.app import create_app
    from voiceops.web.drain import Drain

    settings = _settings(host=host, port=port, profile_path=profile, brain=brain)
    if not migrate:
        settings = settings.model_copy(update={"migrate_on_start": False})
    setup_logging(settings.log_level)
    process_clock = _clock(settings, clock)
    agent_profile = _servable_profile(settings)
    drain = Drain(timeout_s=settings.drain_timeout_s, clock=process_clock)
    application = create_app(settings, profile=agent_profile, clock=process_clock, drain=drain)
    _run(application, settings, drain)


def _run(application: Starlette, settings: Settings, drain: Drain) -> None:
    """Serve ``application`` under uvicorn until SIGTERM has drained it (or Ctrl-C)."""
    import uvicorn

    from voiceops.web.drain import DrainingServer

    # Everything imported so far lives for the whole process: keep it out of the cyclic
    # collector's full passes, which otherwise traverse it again and again under load.
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_max_size=max(16 * 1024 * 1024, 2 * settings.max_frame_bytes),
        ws_ping_interval=None,
        log_config=None,
        # After the drain: how long the remaining HTTP requests get.
        timeout_graceful_shutdown=15,
        proxy_headers=settings.trust_forwarded_for,
    )
    server = DrainingServer(config, drain)
    # After a graceful stop uvicorn raises the signal again at the process: SIGTERM ends it
    # by the signal; SIGINT becomes this KeyboardInterrupt, a clean exit (as uvicorn.run).
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        raise typer.Exit(3)


def _servable_profile(settings: Settings) -> AgentProfile:
    """The profile to serve, its templates tried; exits with 2 on a broken profile or an
    LLM brain without a provider, and warns about what leaves the server open."""
    from voiceops.agent.prompts import check_profile_templates
    from voiceops.core.profile import load_profile

    try:
        agent_profile = load_profile(settings.profile_path)
        check_profile_templates(agent_profile)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if settings.effective_brain == "llm" and not settings.llm_configured:
        typer.echo(
            "brain=llm needs VOICEOPS_LLM_API_KEY or VOICEOPS_LLM_BASE_URL "
            "(or OPENAI_API_KEY / OPENAI_BASE_URL)",
            err=True,
        )
        raise typer.Exit(2)
    if settings.ws_secret is None:
        log.warning(
            "VOICEOPS_WS_SECRET is not set: the Retell socket accepts anyone who finds it. "
            "Set a secret and put it in the agent's WebSocket URL (see README)."
        )
    if settings.retell_api_key is None:
        log.warning("VOICEOPS_RETELL_API_KEY is not set: webhooks will be refused (503).")
    return agent_profile


@app.command()
def call(
    url: Annotated[
        str, typer.Option(help="The server's LLM WebSocket base URL.")
    ] = "ws://127.0.0.1:8080/llm-websocket",
    from_number: Annotated[str, typer.Option(help="The caller's number.")] = "+12125550100",
    caller_name: Annotated[str | None, typer.Option(help="Caller name (dynamic var).")] = None,
    timezone: Annotated[str | None, typer.Option(help="Caller IANA zone (metadata).")] = None,
) -> None:
    """Talk to a running server from the terminal, playing Retell's side of a phone call.

    Type what the caller says; an empty line is silence (a reminder); Ctrl-D hangs up.
    """
    from voiceops.evals.terminal import run_terminal_call

    raise typer.Exit(
        asyncio.run(
            run_terminal_call(
                url, from_number=from_number, caller_name=caller_name, timezone=timezone
            )
        )
    )


@app.command(name="eval")
def eval_(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Scenario files or directories (default: evals/scenarios)."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Play against this running server's LLM WebSocket base URL."),
    ] = None,
    brain: Annotated[str, typer.Option(help="auto, flow or llm (own server only).")] = "auto",
    jobs: Annotated[int, typer.Option(help="Scenarios played at once.")] = 4,
    repeat: Annotated[int, typer.Option(help="Play each scenario N times; report flaky.")] = 1,
    tag: Annotated[list[str] | None, typer.Option(help="Only scenarios with this tag.")] = None,
    keyword: Annotated[
        str | None, typer.Option("-k", help="Only scenarios whose name contains this.")
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write results.")] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML.")] = None,
    html: Annotated[Path | None, typer.Option(help="Write an HTML report.")] = None,
    judge: Annotated[bool, typer.Option(help="Ask an LLM about `judge:` criteria.")] = False,
    judge_model: Annotated[str | None, typer.Option(help="The judge's model.")] = None,
    judge_cache: Annotated[Path, typer.Option(help="Verdict cache.")] = Path(
        ".voiceops/judge-cache.json"
    ),
    store: Annotated[bool, typer.Option(help="Record the run in the database.")] = True,
    profile: Annotated[Path | None, typer.Option(help="Agent profile YAML.")] = None,
    strict_xfail: Annotated[bool, typer.Option(help="An XPASS fails the run.")] = False,
    turn_timeout: Annotated[float, typer.Option(help="Seconds to wait for a reply.")] = 10.0,
    from_call: Annotated[
        str | None, typer.Option(help="Turn this stored call into a scenario and replay it.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Where --from-call writes the file.")] = None,
    schema: Annotated[bool, typer.Option(help="Print the scenario JSON schema.")] = False,
    verbose: Annotated[bool, typer.Option("-v", help="Show every call's transcript.")] = False,
) -> None:
    """Play scripted phone conversations against the agent, as Retell would, and check them.

    Exit code 0: everything passed; 1: a scenario failed; 2: invalid scenarios or options.
    """
    from voiceops.evals import command
    from voiceops.evals.outcome import EvalOptions

    if schema:
        raise typer.Exit(command.print_schema())
    if brain not in ("auto", "flow", "llm"):
        typer.echo("--brain is auto, flow or llm", err=True)
        raise typer.Exit(2)
    settings = _settings(profile_path=profile)
    setup_logging("error")
    options = EvalOptions(
        url=url,
        brain=brain,  # type: ignore[arg-type]
        jobs=jobs,
        repeat=repeat,
        tags=tag or [],
        select=keyword,
        turn_timeout_s=turn_timeout,
        json_path=json_path,
        junit_path=junit,
        html_path=html,
        judge=judge,
        judge_model=judge_model,
        judge_cache=judge_cache,
        store=store,
        strict_xfail=strict_xfail,
        verbose=verbose,
    )
    if paths:
        options.paths = list(paths)
    if from_call is not None:
        raise typer.Exit(command.from_call(from_call, options, settings, out=out))
    raise typer.Exit(command.main(options, settings))


def _add_db() -> None:
    from voiceops.cli_db import db_app

    app.add_typer(db_app, name="db", help="Migrations and retention.")


_add_db()


def _add_users() -> None:
    from voiceops.cli_users import users_app

    app.add_typer(users_app, name="users", help="Console users (voiceops users add EMAIL).")


_add_users()


def _add_retell() -> None:
    from voiceops.cli_cost import cost
    from voiceops.cli_retell import retell_app

    app.add_typer(retell_app, name="retell", help="Retell's side: agent, numbers, calls.")
    app.command("cost")(cost)


_add_retell()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
