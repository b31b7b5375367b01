"""``voiceops users``: console accounts (add, list, set a role or a password, disable)."""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import Annotated

import typer

from voiceops.config import Settings
from voiceops.core.clock import SystemClock
from voiceops.core.errors import StorageError
from voiceops.store.audit import AuditLog
from voiceops.store.db import Database
from voiceops.store.users import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    Role,
    UserExists,
    UserRepo,
    hash_password,
)

users_app = typer.Typer(no_args_is_help=True, add_completion=False)


def _read_password(stdin: bool) -> str:
    if stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            typer.echo("the passwords differ", err=True)
            raise typer.Exit(2)
    if len(password) < MIN_PASSWORD_LENGTH:
        typer.echo(f"the password needs {MIN_PASSWORD_LENGTH} characters or more", err=True)
        raise typer.Exit(2)
    return password


def _role(value: str) -> Role:
    if value not in ROLES:
        typer.echo(f"--role must be one of {', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    return value


async def _with_repo(action: str, email: str, role: Role | None, password: str | None) -> str:
    settings = Settings()
    db = await Database.open(settings.database_url)
    clock = SystemClock()
    try:
        repo = UserRepo(db, clock=clock)
        audit = AuditLog(db, clock=clock)
        if action == "add":
            assert role is not None and password is not None
            added = await repo.add(email, role, hash_password(password))
            await audit.record("voiceops users", "add_user", added.email, {"role": role})
            return f"added {added.email} ({role})"
        user = await repo.by_email(email)
        if user is None:
            raise StorageError(f"no user {email}")
        if action == "password":
            assert password is not None
            await repo.update(user.id, password_hash=hash_password(password))
        elif action == "role":
            await repo.update(user.id, role=role)
        elif action == "disable":
            await repo.update(user.id, disabled=True)
        await audit.record("voiceops users", f"{action}_user", user.email, {"role": role})
        return f"{action}: {user.email} done"
    finally:
        await db.close()


def _run(action: str, email: str, role: Role | None = None, password: str | None = None) -> None:
    try:
        typer.echo(asyncio.run(_with_repo(action, email, role, password)))
    except UserExists as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except StorageError as exc:
        typer.echo(f"{exc} (run `voiceops db upgrade` first?)", err=True)
        raise typer.Exit(1) from None


@users_app.command("add")
def add(
    email: str,
    role: Annotated[str, typer.Option(help="admin, editor or viewer.")] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a console user; the password comes from a prompt (or standard input)."""
    checked = _role(role)
    _run("add", email, checked, _read_password(password_stdin))


@users_app.command("password")
def password(
    email: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
) -> None:
    """Set a user's password (ends their sessions)."""
    _run("password", email, None, _read_password(password_stdin))


@users_app.command("role")
def role(email: str, new_role: Annotated[str, typer.Argument(metavar="ROLE")]) -> None:
    """Give a user another role."""
    _run("role", email, _role(new_role))


@users_app.command("disable")
def disable(email: str) -> None:
    """Disable a user (ends their sessions)."""
    _run("disable", email)
