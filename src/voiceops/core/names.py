"""How a caller's name is matched against the names bookings are under.

A booking is found by its whole name, case-insensitively ("joan patterson"); a caller who
gives one word ("it's under Patterson", "Mrs Patterson", "Joan") also finds the bookings
whose first or last name that is. Titles are not part of a name.
"""

from __future__ import annotations

from dataclasses import dataclass


def name_key(name: str) -> str:
    """The key a booking's name is stored and matched by: trimmed and case-folded."""
    return name.strip().casefold()


_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "doctor", "mister", "missus"})


@dataclass(frozen=True, slots=True)
class NameQuery:
    """The keys one name said is looked up by."""

    whole: str
    """The name as said, trimmed and case-folded: matched against the whole stored name."""
    single: str | None
    """The one word left once titles are dropped ("mrs patterson": "patterson"), matched
    against a stored name's first or last word; ``None`` when more than one word is left."""


def name_query(name: str) -> NameQuery | None:
    """The keys for ``name``, or ``None`` when it is blank."""
    whole = name_key(name)
    if not whole:
        return None
    words = [w for w in whole.replace(".", " ").split() if w not in _TITLES]
    return NameQuery(whole=whole, single=words[0] if len(words) == 1 else None)


def name_matches(stored: str, query: NameQuery) -> bool:
    """Whether a booking under ``stored`` is one ``query`` asks for."""
    key = name_key(stored)
    if key == query.whole:
        return True
    words = key.split()
    return query.single is not None and len(words) > 1 and query.single in (words[0], words[-1])
