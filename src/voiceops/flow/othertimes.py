"""Earlier or later times than those in hand: "anything later?", "can you do it earlier?".

:func:`asks_other_times` reads the request (not "the later one", which picks one of the
times read out, nor "an hour later", which moves the time by an amount), and
:func:`look_beyond` points the slots at the free times of the same day on that side of the
times offered, or of the time agreed, for ``flow/booking.py`` to look up and keep only those.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from voiceops.tools.timefmt import weekday_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    from voiceops.flow.state import Offer, Slots

Way = Literal["earlier", "later"]

_OTHER_TIMES = re.compile(
    r"\b(?:anything|something|any time|anytime|any|a time|a slot|times?|slots?|a bit|a little"
    r"|little|bit|slightly|much|do it|make it|come in|come|go|get in|be|you have|nothing|no"
    r"|there|open(?:ing|ings)?|availability|possible)"
    r" (?P<way>earlier|later|sooner|before that|after that|before then|after then)\b"
    r"(?! (?:in|this|next) (?:the )?(?:week|month)\b)"
    r"|(?<!the )\b(?:an? )?(?P<way2>earlier|later|sooner) (?:times?|slots?|appointments?"
    r"|options?|availability|openings?|in the day)\b"
    r"|\bis (?:that|this|it) the (?P<way3>earliest|latest|soonest)\b"
)
"""Asking for times beyond those in hand, on their side of the day."""
_LOOK = timedelta(minutes=60)
"""How far past the time in hand the search centres, so the nearest free times it finds lie
beyond it."""


def asks_other_times(text: str) -> Way | None:
    """Which side of the times in hand normalised ``text`` asks for, if it asks."""
    match = _OTHER_TIMES.search(text)
    if match is None:
        return None
    way = match.group("way") or match.group("way2") or match.group("way3")
    later = way.startswith(("later", "after", "latest"))
    return "later" if later else "earlier"


def look_beyond(slots: Slots, way: Way, offers: Sequence[Offer], moving: datetime | None) -> bool:
    """Point ``slots`` at the free times beyond the ones read out (``offers``), else the
    time agreed or asked for, else the booking being moved (``moving``); False when there
    is no time to look beyond."""
    starts = [o.start for o in offers]
    if not starts and slots.start is not None:
        starts = [slots.start]
    if not starts and slots.day is not None and slots.at is not None:
        starts = [datetime.combine(slots.day, slots.at)]
    if not starts and moving is not None:
        starts = [moving]
    if not starts:
        return False
    sooner = way == "earlier"
    edge = min(starts) if sooner else max(starts)
    slots.day, slots.days, slots.at, slots.part, slots.earliest = edge.date(), 1, None, None, False
    slots.near = (edge - _LOOK if sooner else edge + _LOOK).time()
    slots.other_than, slots.sooner = edge, sooner
    slots.clear_time()
    return True


def beyond(slots: Slots, offers: list[Offer]) -> tuple[list[Offer], str | None]:
    """The offers on the side asked for (all of them, with a word why, when none is), and
    the asking forgotten."""
    edge, sooner = slots.other_than, slots.sooner
    if edge is None:
        return offers, None
    # Looked up around a time past the edge, not to be kept to the times after it.
    slots.other_than, slots.sooner, slots.near = None, False, None
    fitting = [
        o
        for o in offers
        if o.start.date() == edge.date() and (o.start < edge if sooner else o.start > edge)
    ]
    if fitting:
        return fitting, None
    way = "earlier" if sooner else "later"
    return offers, f"I don't have anything {way} on {weekday_name(edge.date())}."
