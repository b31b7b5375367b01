"""Console users, their sessions and the login throttle.

Passwords are argon2id hashes (``argon2-cffi``); hashing and checking cost tens of
milliseconds of CPU on purpose, so callers run them off the event loop
(:func:`hash_password`, :func:`check_password` are plain functions for ``to_thread``).
A session is a random token in the browser's cookie and the token's SHA-256 here, so the
table alone opens no session. Failed logins are counted per account and per address in
a fixed window; past the limit further attempts are refused until the window ends.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from voiceops.core.clock import Clock
from voiceops.core.errors import StorageError
from voiceops.store.db import Database, first_row
from voiceops.store.tables import console_sessions, console_users, login_failures

Role = Literal["viewer", "editor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}
_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


def role_allows(role: str, needed: Role) -> bool:
    """Whether ``role`` may do what ``needed`` may (admin > editor > viewer)."""
    return _RANK.get(role, -1) >= _RANK[needed]


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A real hash to check against when the account does not exist, so that an unknown
    e-mail costs the same time as a wrong password. Made on first use: hashing takes CPU
    that a starting server should not spend."""
    return hash_password(secrets.token_hex(16))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    role: str
    disabled: bool
    password_hash: str = ""

    def can(self, needed: Role) -> bool:
        return not self.disabled and role_allows(self.role, needed)


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf_token: str
    expires_at: datetime


class UserExists(StorageError):
    """A user with that e-mail already exists."""


class UserRepo:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add(self, email: str, role: Role, password_hash: str) -> User:
        now = self._clock.now()
        email = normalize_email(email)
        try:
            async with self._db.engine.begin() as conn:
                result = await conn.execute(
                    console_users.insert()
                    .values(
                        email=email,
                        role=role,
                        password_hash=password_hash,
                        disabled=0,
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(console_users.c.id)
                )
                user_id = int(result.scalar_one())
        except IntegrityError:
            raise UserExists(f"a user {email} already exists") from None
        return User(user_id, email, role, False, password_hash)

    async def by_email(self, email: str) -> User | None:
        stmt = select(console_users).where(console_users.c.email == normalize_email(email))
        async with self._db.transaction("read user") as conn:
            row = await first_row(conn, stmt)
        return None if row is None else _user(row)

    async def all(self) -> list[User]:
        async with self._db.transaction("list users") as conn:
            rows = (
                (await conn.execute(select(console_users).order_by(console_users.c.email)))
                .mappings()
                .all()
            )
        return [_user(row) for row in rows]

    async def update(
        self,
        user_id: int,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
    ) -> None:
        values: dict[str, object] = {"updated_at": self._clock.now()}
        if role is not None:
            values["role"] = role
        if disabled is not None:
            values["disabled"] = int(disabled)
        if password_hash is not None:
            values["password_hash"] = password_hash
        async with self._db.transaction("update user") as conn:
            await conn.execute(
                update(console_users).where(console_users.c.id == user_id).values(**values)
            )
            if disabled or password_hash is not None:
                # A disabled user or a changed password ends every open session.
                await conn.execute(
                    delete(console_sessions).where(console_sessions.c.user_id == user_id)
                )


class SessionRepo:
    def __init__(self, db: Database, *, clock: Clock, lifetime: timedelta) -> None:
        self._db = db
        self._clock = clock
        self._lifetime = lifetime

    async def create(self, user: User, address: str | None) -> tuple[str, Session]:
        """A new session for ``user``: the token for the cookie, and the session."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self._clock.now()
        expires = now + self._lifetime
        async with self._db.transaction("create session") as conn:
            await conn.execute(delete(console_sessions).where(console_sessions.c.expires_at < now))
            await conn.execute(
                console_sessions.insert().values(
                    token_sha256=token_digest(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    address=(address or "")[:64] or None,
                    created_at=now,
                    expires_at=expires,
                )
            )
        return token, Session(user, csrf, expires)

    async def get(self, token: str) -> Session | None:
        """The live session of ``token`` (``None`` when unknown, expired or disabled)."""
        stmt = (
            select(console_sessions, console_users)
            .join(console_users, console_users.c.id == console_sessions.c.user_id)
            .where(console_sessions.c.token_sha256 == token_digest(token))
        )
        async with self._db.transaction("read session") as conn:
            row = await first_row(conn, stmt)
        if row is None or row["expires_at"] <= self._clock.now() or row["disabled"]:
            return None
        user = User(int(row["user_id"]), row["email"], row["role"], bool(row["disabled"]))
        return Session(user, row["csrf_token"], row["expires_at"])

    async def delete(self, token: str) -> None:
        async with self._db.transaction("delete session") as conn:
            await conn.execute(
                delete(console_sessions).where(
                    console_sessions.c.token_sha256 == token_digest(token)
                )
            )


class LoginThrottle:
    """Failed logins per key (``account:…``, ``address:…``) in a fixed window."""

    def __init__(self, db: Database, *, clock: Clock, window: timedelta) -> None:
        self._db = db
        self._clock = clock
        self._window = window

    async def failures(self, key: str) -> int:
        stmt = select(login_failures).where(login_failures.c.key == key[:320])
        async with self._db.transaction("read login failures") as conn:
            row = await first_row(conn, stmt)
        if row is None or row["window_started_at"] + self._window <= self._clock.now():
            return 0
        return int(row["failures"])

    async def fail(self, key: str) -> None:
        now = self._clock.now()
        key = key[:320]
        async with self._db.serialized("count login failure", f"login:{key}") as conn:
            row = await first_row(conn, select(login_failures).where(login_failures.c.key == key))
            if row is None:
                await conn.execute(
                    login_failures.insert().values(key=key, failures=1, window_started_at=now)
                )
            elif row["window_started_at"] + self._window <= now:
                await conn.execute(
                    update(login_failures)
                    .where(login_failures.c.key == key)
                    .values(failures=1, window_started_at=now)
                )
            else:
                await conn.execute(
                    update(login_failures)
                    .where(login_failures.c.key == key)
                    .values(failures=login_failures.c.failures + 1)
                )

    async def clear(self, key: str) -> None:
        async with self._db.transaction("clear login failures") as conn:
            await conn.execute(delete(login_failures).where(login_failures.c.key == key[:320]))


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _user(row: object) -> User:
    mapping = dict(row)  # type: ignore[call-overload]
    return User(
        int(mapping["id"]),
        mapping["email"],
        mapping["role"],
        bool(mapping["disabled"]),
        mapping["password_hash"],
    )
