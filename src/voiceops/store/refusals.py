"""A database that refuses a row for what is in it, told apart from one that is away.

A batched write fails for one of two reasons, and they need opposite answers. A database
that is away (refused or reset connections, timeouts, a locked or full SQLite file) will
take the same rows later: keep them and retry. A database that refuses a row for its
content (a number out of its column's range, a NUL character on PostgreSQL, a string too
long) refuses it on every retry, and every row written with it: retried whole, one such row
stops every call's writes for good. :func:`refused_for_content` says which of the two an
exception is; :func:`write_isolating` splits a refused batch until the refused rows stand
alone, writes the rest and hands those rows to the caller to set aside.

Refused for content, looking through the exception's causes:

* SQLAlchemy's ``DataError`` and ``IntegrityError``;
* a PostgreSQL SQLSTATE of class 22 (data exception) or 23 (integrity constraint);
* ``ValueError``, ``TypeError`` or ``OverflowError``: a value the driver could not send
  (asyncpg's "invalid input for query argument", SQLite's "Python int too large").

Everything else counts as the database being away. Since a driver may raise one of those
Python errors while connecting too, a row is only set aside once the database has answered
a ``SELECT 1`` right after refusing it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TypeVar

from sqlalchemy.exc import DataError, IntegrityError

from voiceops.store.db import Database

T = TypeVar("T")

_CONTENT_SQLSTATE_CLASSES = ("22", "23")
_REASON_CHARS = 500


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it wraps (``orig`` of SQLAlchemy's errors, ``__cause__``), outermost
    first."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__


def refused_for_content(exc: BaseException) -> bool:
    """True when ``exc`` says the database refused the rows for what is in them (see the
    module docstring); False for anything else, which callers treat as an outage."""
    for cause in _causes(exc):
        if isinstance(cause, DataError | IntegrityError):
            return True
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate[:2] in _CONTENT_SQLSTATE_CLASSES:
            return True
        if isinstance(cause, ValueError | TypeError | OverflowError):
            return True
    return False


def printable(text: str, limit: int) -> str:
    """``text`` with every unprintable character escaped (``\\x00``), cut to ``limit``
    characters: safe in a log line and in any text column."""
    if not text.isprintable():
        text = "".join(
            ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
        )
    return text[:limit]


def reason(exc: BaseException) -> str:
    """The driver's own words for a refusal (the innermost cause), e.g. ``DataError:
    invalid input for query argument $5: 2147483648 (value out of int32 range)``."""
    *_, innermost = _causes(exc)
    message = str(innermost).strip().splitlines()
    text = f"{type(innermost).__name__}: {message[0]}" if message else type(innermost).__name__
    return printable(text, _REASON_CHARS)


async def write_isolating(
    db: Database,
    items: Sequence[T],
    write: Callable[[Sequence[T]], Awaitable[None]],
    set_aside: Callable[[T, str], Awaitable[None]],
) -> None:
    """Write ``items`` with ``write``. When the database refuses them for their content,
    split them in halves until each refused item stands alone, write the others, and give
    each refused item to ``set_aside`` with the :func:`reason`.

    Any other failure propagates, from the first write or from a half, for the caller to
    retry (``write`` must be idempotent: a half already written is written again); nothing
    is set aside while the database is away.
    """
    try:
        await write(items)
        return
    except Exception as exc:
        if not refused_for_content(exc):
            raise
        why = reason(exc)
    if len(items) > 1:
        middle = len(items) // 2
        await write_isolating(db, items[:middle], write, set_aside)
        await write_isolating(db, items[middle:], write, set_aside)
        return
    await db.ping()  # raises StorageError when the "refusal" was the database going away
    await set_aside(items[0], why)
