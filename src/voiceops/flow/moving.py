"""Moving a booking the caller already has: asking for it, and saying where it goes.

:func:`asks_to_move` tells a request to move a booking ("push my blow dry to next week",
"could it be moved to the afternoon?" after "I have a colour on the 22nd") from a booking
asked for. :func:`split_move` cuts such a request where the new day and time start, so
"my colour on the 22nd at eleven" finds the booking and only "the afternoon, say two
o'clock" says where it goes. :func:`take_marks` and :func:`settle` read what is said
relative to the booking itself ("same day and time next week", "a week later", "an hour
later", "the Friday after") once its day and time are known. :func:`keeps_task` says when
moving or cancelling words belong to the task under way rather than start a new one.

Each reader is one regular expression over the normalised text (linear in it) and a little
arithmetic over dates.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from voiceops.flow.when import WEEKDAY_WORDS

if TYPE_CHECKING:
    from voiceops.flow.state import FlowState, Slots
    from voiceops.flow.understand import Intent, Understanding

_NOT_A_BOOKING = r"(?!name|number|phone|mind|email|address|card|password)"
_NOUN = r"(?:appointment|booking|reservation|slot|session|visit)"
_MOVE = re.compile(
    r"\b(?:re ?schedul\w*|postpon\w*|re ?arrang\w*"
    r"|mov(?:e|ing) (?:my|the|it|our|that|this|one of)"
    rf"|(?:mov|chang|shift|switch|swap|push|bump)(?:e|ing)? (?:an?|one of (?:my|our)|this)"
    rf" (?:[\w']+ )?{_NOUN}s?"
    rf"|(?:push|shift|bump|bring|switch|swap|chang)(?:e|ed|ing)? (?:my|our|the) {_NOUN}"
    rf"|(?:push|shift|bump)(?:ed|ing)? (?:my|our) {_NOT_A_BOOKING}(?:[\w']+ ){{0,4}}?"
    r"(?:to|till|until|back|forward|over|out|up|a bit|later|earlier)"
    r"|change (?:my|our) (?:time|day|date)"
    rf"|chang(?:e|ing) (?:my|our) {_NOT_A_BOOKING}(?:[\w']+ ){{1,4}}?to"
    r"|push (?:it|my|the) \w*\s?back|bring (?:it|my|the) \w*\s?forward"
    rf"|(?:different|another|new|other) (?:day|date|time) for (?:my|our|the) {_NOUN})\b"
)
"""Moving a booking, said outright: "reschedule", "push my colour to Saturday"."""
_MOVE_IT = re.compile(
    r"\b(?:(?:be|get|got|have (?:it|that)|had (?:it|that)) (?:moved|changed|rescheduled"
    r"|shifted|pushed|switched|swapped|put back|brought forward|bumped)"
    r"|(?:move|change|shift|push|bump|switch|swap|bring|put) (?:it|that|this|them)"
    r"|(?:move|change|switch) (?:to|for) (?:an?other|a different|the same|same)?)\b"
)
"""Moving words about a booking the caller has only when they say they have one ("I have
a colour on the 22nd … could it be moved?", "could my haircut be moved?"); while booking
they change the booking under way ("can we move it to 3?")."""
_MOVE_VAGUELY = re.compile(
    r"\b(?:(?:different|another|other|new|later|earlier) (?:day|date|time|slot)"
    r"|instead|rather(?! not)|(?:can'?t|cannot|won'?t|unable to|not able to|won'?t be able to)"
    r" (?:make it|come|be there)"
    r"|(?:an?|one|two|half an|\d+) (?:hours?|minutes?|days?|weeks?) (?:later|earlier))\b"
)
"""Words that move a booking only when the caller says they have one ("I'm booked Thursday
but could I come Friday instead?")."""
_CANT_KEEP = re.compile(
    r"\b(?:(?:can'?t|cannot|can not|couldn'?t|won'?t|will not|unable to|not able to"
    r"|won'?t be able to|not going to be able to|am not gonna|not gonna)"
    r" (?:make|do|come to|get to|keep|attend|go to|be at) (?:it|my|our|the|that|this)\b"
    r"|(?:\bit|\bthat|\bthis|\b(?:my|our) (?:[\w']+ ){1,4}?)"
    r" ?(?:doesn'?t|does not|won'?t|will not|isn'?t going to|no longer) work(?:s|ing)?"
    r"(?! (?:here|there|with you))"
    r"|something(?:'s| has| have)? (?:come|came|comes|coming) up|(?:got|had) something come up"
    r"|(?:an? )?(?:emergency|conflict|clash) (?:came|has come|come) up"
    r"|(?:need|have|got) to (?:miss|skip) (?:it|my|our|the|that)\b"
    r"|(?:is|it's|its|that's|thats|it is|that is) (?:not|no longer|not really) (?:possible"
    r"|good|convenient|ok|okay)(?: for (?:me|us))?(?! (?:to|if)\b)"
    r"|(?:doesn't|does not|won't|will not|no longer) suit)"
)
"""The caller can't keep a booking ("something's come up", "I can't make my Tuesday one",
"it doesn't work any more"): a move, or perhaps a cancellation, of one they say they have."""
_CANT_MAKE_IT = re.compile(
    r"\b(?:can'?t|cannot|can not|won'?t|will not|won'?t be able to|not able to|unable to"
    r"|not going to be able to|not gonna|am not going to) make it\b"
)
"""Not making "it": said with nothing asked for, it can only be a booking the caller has."""
_ASKS_NEW = re.compile(
    r"\b(?:get|book|have|make) (?:a|an|me|us|one)\b|\b(?:i'd|i would|we'd) like\b"
    r"|\b(?:i|we) (?:want|need|wanna)\b|\bnew (?:booking|appointment)\b"
)
"""Asking for a booking: "can I get a haircut on Saturday?"."""
_OTHER_FOR_MINE = re.compile(
    r"\b(?:different|another|other|new|later|earlier) (?:day|date|time|slot) for (?:my|our) "
)
_MINE = re.compile(r"\b(?:my|our)\b")
_CHANGE_MINE = re.compile(
    r"\b(?:chang|switch|swap|shift)(?:e|ed|es|ing|ped|ping)? (?:my|our)"
    r" (?!(?:hair|look|style|mind|name|number)\b|hair colou?r|colou?r to)"
)
"""Changing a service of the caller's, named ("I need to change my beard trim on Tuesday"):
a move; "change my hair colour", "change my look" ask for one."""
_HAVE_ONE = re.compile(
    r"\b(?:i|we|i've|we've) (?:have|had|booked|made|got)(?: got)?"
    r" (?:a|an|my|our|the|one|in|it|that|for)\b"
    r"(?! (?:quick |small |couple of |few |short )?(?:questions?|query|problem|issue|complaint))"
    r"|\b(?:my|our) (?:[\w']+ )?(?:appointment|booking|reservation)\b"
    r"|\b(?:i|we) (?:have|had|booked|made|got) (?:[\w']+ ){0,2}?(?:appointment|booking|reservation)"
    r"|\b(?:i'm|i am|we're|we are) (?:booked|down for|scheduled|coming in)\b"
    r"|\b(?:the|my|our|that) [\w' ]{1,30}? (?:i|we) (?:have|had|booked|made|got)\b"
    r"|\balready (?:have|booked|got)\b"
)
"""The caller says they have a booking already."""
_ANOTHER_ONE = re.compile(
    r"\b(?:my other|our other|another (?:appointment|booking)|the other (?:appointment|booking)"
    r"|existing|already|booked"
    r"|(?:i|we) (?:have|had|made)(?: got)? (?:a|an|my|our) (?:[\w']+ ){0,2}?"
    r"(?:appointment|booking|reservation)"
    rf"|my (?:{'|'.join(WEEKDAY_WORDS)}|tomorrow's|today's) (?:appointment|booking|one))\b"
)
"""Moving words while booking that are about another booking the caller has."""
_MARK = r"(?:to|till|until|into|over to)"
_NOT_A_DAY = r"(?!(?:be|make|come|do|get|see|go|have|take|pick|work|say|let|ask|tell|keep)\b)"
_DESTINATION = re.compile(
    r"\b(?:re ?schedul\w*|postpon\w*|re ?arrang\w*|mov(?:e|ed|ing)|chang(?:e|ed|ing)"
    r"|shift(?:ed|ing)?|push(?:ed|ing)?|bump(?:ed|ing)?|switch(?:ed|ing)?|swap(?:ped|ping)?"
    r"|bring(?:ing)?|brought|put)\b"
    rf"(?:(?! {_MARK} )[ \w']){{0,60}}?(?P<to> {_MARK} ){_NOT_A_DAY}"
    r"|\b(?:re ?schedul\w*|postpon\w*|re ?book\w*) (?:[\w']+ ){0,3}?(?P<for>for )"
)
"""Where the new day and time start: after the "to" that follows a moving word ("push my
blow dry tomorrow to next week"), or the "for" after "reschedule"."""
_DESTINATION_FOR = re.compile(
    r"\b(?:mov(?:e|ed|ing)|chang(?:e|ed|ing)|switch(?:ed|ing)?|swap(?:ped|ping)?)"
    r"(?: (?:it|that|this|them))? (?P<for>for) (?!an? |my |the |her |his )"
)
""" "Is possible to change for same time on Saturday?": the "for" right after a moving word,
when no "to" says it."""
_SAME_DAY = re.compile(r"\b(?:the )?same (?:day|date)\b(?! appointments?| bookings?)")
_N = r"(?:a|one|two|three|four|five|six|a couple of|couple of|\d)"
_DAYS_BY = re.compile(
    rf"\b(?P<n>{_N}) (?P<unit>days?|weeks?) (?P<way>later|earlier|after|before|sooner|on"
    r"|back|forward|ahead)\b"
    rf"|\b(?P<way2>back|forward|ahead|up) (?:by )?(?P<n2>{_N}) (?P<unit2>days?|weeks?)\b"
    r"|\bthe (?P<way3>following|next|previous|prior) (?P<unit3>day|week)\b"
    r"|\bthe (?P<unit4>day|week) (?P<way4>after|before)\b(?! tomorrow| next| this| that| the)"
)
""" "A week later", "push it back a day", "the day before", "the following week"."""
_COUNTS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_EARLIER_WAYS = frozenset(
    {"earlier", "before", "sooner", "forward", "ahead", "up", "previous", "prior"}
)
_WEEKDAY_AFTER = re.compile(
    rf"\bthe (?:following|next) (?P<wd>{'|'.join(WEEKDAY_WORDS)})\b"
    rf"|\bthe (?P<wd2>{'|'.join(WEEKDAY_WORDS)}) after\b(?! (?:next|the|that|this)\b| \d)"
)
""" "The following Friday": the first one after the booking's day, said of a move."""


def asks_to_move(text: str, *, named: bool = False) -> bool:
    """Normalised ``text`` asks to move a booking the caller has; ``named`` says it names
    a service ("could my colour be moved?")."""
    if _MOVE.search(text):
        return True
    has_one = _HAVE_ONE.search(text) is not None
    if _MOVE_IT.search(text) and (has_one or (named and _MINE.search(text))):
        return True
    mine = named and _MINE.search(text) is not None
    if named and (_CHANGE_MINE.search(text) or _OTHER_FOR_MINE.search(text)):
        return True
    asks_new = _ASKS_NEW.search(text) is not None
    if (has_one or (mine and not asks_new)) and _CANT_KEEP.search(text):
        return True
    if _CANT_MAKE_IT.search(text) and not asks_new:
        return True  # "This is Grace, I can't make it Friday."
    return has_one and _MOVE_VAGUELY.search(text) is not None


def says_move(text: str) -> bool:
    """Normalised ``text`` has moving words of any kind ("move it, please", "another day"),
    for a reply about the booking already found."""
    return bool(_MOVE.search(text) or _MOVE_IT.search(text) or _MOVE_VAGUELY.search(text))


def cant_keep(text: str) -> bool:
    """Normalised ``text`` says the caller can't keep a booking, not where it should go."""
    return _CANT_KEEP.search(text) is not None


def split_move(text: str) -> tuple[str, str] | None:
    """(the words about the booking, the words about where it goes) of a request to move
    one, or None when nothing says where the new day and time start."""
    mark = _DESTINATION.search(text) or _DESTINATION_FOR.search(text)
    if mark is None or mark.end() >= len(text):
        return None
    start = mark.start("for") if mark.groupdict().get("to") is None else mark.start("to")
    return text[:start], text[mark.end() :]


def keeps_task(state: FlowState, u: Understanding, intent: Intent) -> bool:
    """Moving or cancelling words that go on with the task under way: moving words while
    booking are about the booking under way ("can we move it to 3?") unless they name one
    the caller has; asking again while the booking is looked for, or moving the one found
    again, is the same request."""
    if intent == "reschedule" and state.task == "book":
        return u.shift is not None or not _ANOTHER_ONE.search(u.text)
    target = state.target
    if intent != state.task:
        return False
    if target is None:
        return True  # asked again while it is looked for: the same request, not a new one
    return intent == "reschedule" and u.service in (None, target.service)


def moves_by(text: str) -> bool:
    """Normalised ``text`` moves a booking by days or to a weekday after its own ("a week
    later", "the Friday after"): any other day said is the booking's own."""
    return _DAYS_BY.search(text) is not None or _WEEKDAY_AFTER.search(text) is not None


def take_marks(slots: Slots, text: str) -> bool:
    """Note what normalised ``text`` says of a move relative to the booking's own day:
    "same day", "a week later", "the Friday after". True when it says any."""
    took = False
    if _SAME_DAY.search(text):
        slots.same_day = took = True
    by = _days_by(text)
    if by is not None:
        slots.move_days, took = by, True
    after = _WEEKDAY_AFTER.search(text)
    if after is not None:
        slots.move_weekday = WEEKDAY_WORDS.index(after.group("wd") or after.group("wd2"))
        took = True
    return took


def _days_by(text: str) -> int | None:
    match = _DAYS_BY.search(text)
    if match is None:
        return None
    g = match.group
    n = g("n") or g("n2")
    if n is None:
        count = 1
    elif n.isdigit():
        count = int(n)
    else:
        count = 2 if n.endswith("couple of") else _COUNTS.get(n, 1)
    unit = g("unit") or g("unit2") or g("unit3") or g("unit4")
    way = g("way") or g("way2") or g("way3") or g("way4")
    days = count * (7 if unit.startswith("week") else 1)
    return -days if way in _EARLIER_WAYS else days


def settle(slots: Slots, anchor: datetime) -> None:
    """Resolve what was said relative to the booking being moved against ``anchor`` (its
    start, or the new time in hand): the day ("same day", "next week, same day", "a week
    later", "the Friday after", or its own day when only a time was said) and the time
    ("same time", "an hour later"; a day moved keeps the time)."""
    day, moved_day = slots.day, False
    if slots.move_weekday is not None:
        ahead = (slots.move_weekday - anchor.weekday()) % 7 or 7
        day, moved_day = anchor.date() + timedelta(days=ahead), True
    elif slots.move_days:
        day, moved_day = anchor.date() + timedelta(days=slots.move_days), True
    elif day is not None and slots.days > 1 and (slots.same_day or slots.same_time):
        # "Next week, same day and time": the booking's weekday in the week named.
        week = [day + timedelta(days=n) for n in range(slots.days)]
        same = [d for d in week if d.weekday() == anchor.weekday()]
        day, moved_day = (same[0], True) if same else (day, False)
    elif day is None and (
        slots.same_day or slots.at is not None or slots.part is not None or slots.move_minutes
    ):
        day = anchor.date()
    if day != slots.day:
        slots.day, slots.days = day, 1
        slots.clear_time()
    if slots.at is None and slots.part is None and slots.move_minutes:
        moved = datetime.combine(slots.day or anchor.date(), anchor.time())
        moved += timedelta(minutes=slots.move_minutes)
        slots.day, slots.at = moved.date(), moved.time()
    elif slots.at is None and slots.part is None and (moved_day or slots.same_time):
        slots.at = anchor.time()
    slots.same_day = slots.same_time = False
    slots.move_days = slots.move_weekday = slots.move_minutes = None
