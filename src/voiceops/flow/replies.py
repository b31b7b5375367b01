"""Short replies and what they carry: yes and no, greetings, thanks, goodbyes, a choice
from a list ("the second one"), a phone number or "this number", asking for the last
words again ("what?"); and small talk ("how are you?", the weather, "sorry, wrong number").

Every pattern is anchored or bounded and linear in the normalised text; :func:`read_reply`
reads them all at once for :func:`~voiceops.flow.understand.understand`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from voiceops.core.phone import read_phone

Social = Literal["how_are_you", "weather", "wrong_number", "complaint", "missing_booking"]

_GREETING = re.compile(r"^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))\b")
_GREETING_LEAD = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|howdy|good (?:morning|afternoon|evening|day)|yes|yeah|oh|ah|um"
    r"|uh|well|there|dear|love|and|a|very)(?: to you)?(?: |$))+"
)
"""The opening words of a call: greetings, with the "yes", "oh", "dear" around them."""
_SALUTATION = re.compile(r"\b(?:hi|hello|hey|hiya|howdy|good \w+)\b")
_THANKS = re.compile(
    r"\b(?:thanks|thank you|thank u|thx|cheers|appreciate it|much appreciated"
    r"|ta(?= very\b| much\b| love\b|$))\b"
)
_FAREWELL = re.compile(
    r"\b(?:good ?bye|bye|bye bye|have a (?:good|great|nice|lovely) (?:day|one|evening|night|"
    r"weekend)|talk (?:to you )?later|hang up|take care|cya|see (?:ya|you|you later|you then)$"
    r"|catch you later|laters|later then|peace out|ta ?ta|cheerio)\b"
)
_CLOSING = re.compile(
    r"\b(?:that's all|that is all|that's it|that is it|that'll be all|that will be all"
    r"|nothing else|no thanks|no thank you|i'm good|i am good|i'm fine|i'm all set|all set"
    r"|i'm done|that's everything|not right now|no that's fine"
    r"|i(?:'ll|ll| will) (?:call|ring|phone) (?:you |you guys |again )?back)\b"
)
_LEAD = r"^(?:(?:uh|um|oh|well|so|sorry|oh sorry|i'm sorry) )?"
"""What may come before a yes or a no ("sorry, yes", "um, no")."""
_AFFIRM_START = re.compile(
    _LEAD + r"(?:yes|yeah|yea|yep|yup|ya|sure|certainly|correct|right"
    r"|ok|okay|alright|all right|perfect|great|lovely|absolutely|definitely|of course|please"
    r"|go ahead|do it|book it|fine|uh huh|mhm|mm ?hmm?|m hm|yes please|that's right|that is right"
    r"|you bet|by all means|please do|why not|exactly|indeed|affirmative|yeah go on|go on"
    r"|that's correct|that works|sounds good|sounds great|no problem|no worries)\b"
)
_AFFIRM_ANY = re.compile(
    r"\b(?:sounds (?:good|great|perfect)|that works|works for me|that(?:'s| is) (?:right"
    r"|correct|perfect|fine|great|lovely|good)|go ahead|book it|please do|let's do (?:it|that)"
    r"|i'll take (?:it|that)|that one)\b"
)
_DENY = re.compile(
    _LEAD + r"(?:no|nope|nah|not|wrong|incorrect|negative)\b(?! problem| worries)"
    r"|\b(?:that's not|that is not|not right|not correct|that's wrong|don't|do not"
    r"|never mind|none of (?:those|them|these)|neither|doesn't work|won't work)\b"
)
_DECLINE = re.compile(
    r"\b(?:i(?:'ll|ll| will) (?:think about it|have a think|think it over|let you know"
    r"|get back to you|call (?:you )?back|ring (?:you )?back)|let me (?:think about it"
    r"|think it over|have a think)|think it over"
    r"|thanks anyway|thank you anyway|thanks all the same|maybe (?:later|another time"
    r"|some other time|next time)|not (?:today|right now|just now|for now|at the moment))\b"
)
"""A polite no ("great, I'll think about it"): the "great" is no yes to the offer."""
_CALLER_NUMBER = re.compile(
    r"\b(?:this|same|the same) (?:number|one|phone|cell|mobile)\b|\bcalling (?:from|on)\b"
    r"|\bthe number (?:i'm|i am) (?:on|using)\b|\bthis line\b"
)
_DIGIT_RUN = re.compile(r"\+?\d(?:[\s.\-()]*\d){6,16}")
_PICK = re.compile(
    r"\b(?:the )?(?P<which>first|1st|second|2nd|third|3rd|fourth|4th|last|earliest|earlier"
    r"|soonest|latest|later)(?P<noun> one| option| slot| time| appointment| booking)?\b"
)
_PICK_INDEX = {
    "first": 0,
    "1st": 0,
    "earliest": 0,
    "soonest": 0,
    "earlier": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "last": -1,
    "latest": -1,
    "later": -1,
}
_SHORT_REPLY_WORDS = 5
_REPEAT = re.compile(
    r"^(?:(?:um|umm|uh|oh|sorry|i'm sorry)\s++)*+(?:what|pardon|pardon me|sorry|excuse me"
    r"|come again|huh|eh|say again|what was that|what's that|sorry what)$"
    r"|\b(?:say (?:that|it) again|repeat (?:that|it|yourself|the \w+)|(?:could|can|would) you"
    r" repeat|what (?:\w+ )?did you (?:just )?say|i didn't (?:catch|hear|get) (?:that|you|it"
    r"|what you said)|one more time|didn't quite catch|(?:a bit )?(?:slower|more slowly) please)\b"
)
"""Asking the agent to say its last words again ("what?", "sorry, what times did you say?")."""
_HOW_ARE_YOU = re.compile(
    r"\b(?:how are (?:you|ya|things)|how's it going|how is it going|how you doing"
    r"|how's your day|how is your day|you doing (?:ok|okay|well))\b"
)
_WEATHER = re.compile(
    r"\b(?:weather|sunny|raining|rainy|snowing|so cold|freezing out|so hot|beautiful day"
    r"|lovely day|nice day|gorgeous day)\b"
)
_COMPLAINT = re.compile(
    r"\b(?:(?:nobody|no one|no body) (?:was (?:there|here|at the desk)|showed up|turned up|came"
    r"|called me)|(?:you|you guys|they|the salon|someone) (?:cancell?ed on me|forgot (?:me|my)"
    r"|lost my|double booked|messed up)|stood me up|waited (?:for )?(?:over |nearly |almost "
    r"|about )?(?:\w+ )?(?:minutes|an hour|hours)|this is (?:ridiculous|unacceptable|a joke)"
    r"|(?:terrible|awful|horrible|worst) (?:service|experience)|(?:want to|like to|wanna)"
    r"(?: make a)? complain|make a complaint|not happy with)\b"
)
"""The caller was let down ("nobody was there when I showed up"): an apology first."""
_BOOKING = r"(?:appointment|booking|reservation)"
_MISSING_BOOKING = re.compile(
    rf"\b(?:(?:text|message|email|call|letter|notification)s? (?:saying|says|said|that says)"
    r" (?:that )?(?:i (?:don't|do not|didn't|did not) have|there's no|there is no|i have no"
    rf"|i'm not booked|my {_BOOKING} (?:is|was|has been|got) cancell?ed)"
    rf"|{_BOOKING} (?:isn't|is not|wasn't|was not|doesn't|does not|never) (?:show(?:ing)?"
    r"(?: up)?|there|in (?:the|your) system|on (?:the|your) (?:system|list)|coming up|exist"
    r"|on file|went through)"
    r"|(?:you|you've|you guys|they|someone) (?:have |must have )?(?:lost|deleted|wiped|don't have"
    rf"|do not have|have no record of|can't find|cannot find|couldn't find) (?:my|our) {_BOOKING}"
    rf"|no record of (?:my|our|the) {_BOOKING}"
    rf"|(?:my|our|the) {_BOOKING} (?:has |had )?(?:disappeared|vanished|gone missing|went missing"
    r"|is missing|is gone|got lost|got deleted)"
    r"|(?:says|saying|said|told me|telling me|tells me) (?:that )?i (?:don't|do not|didn't)"
    rf" have (?:one|an? {_BOOKING}|anything)"
    r"|i (?:booked|made)(?: \S+){1,12} (?:but|and) (?:it's|it is|it isn't|it's not|now it's)"
    r" (?:not )?(?:there|showing|gone|missing|in the system))\b"
)
"""A booking the caller made that the salon seems not to have: sorry, then find it."""
_WRONG_NUMBER = re.compile(
    r"\b(?:wrong number|dial(?:l)?ed the wrong|misdial(?:l)?ed|called the wrong|wrong place"
    r"|wrong business)\b"
)


def _phone(raw: str, region: str) -> str | None:
    for match in _DIGIT_RUN.finditer(raw):
        number = read_phone(re.sub(r"[^\d+]", "", match.group(0)), region)
        if number is not None and number.possible:
            return number.e164
    return None


def _pick(text: str) -> int | None:
    match = _PICK.search(text)
    if match is None:
        return None
    short = len(text.split()) <= _SHORT_REPLY_WORDS
    if match.group("noun") or short:
        return _PICK_INDEX[match.group("which")]
    return None


@dataclass(frozen=True, slots=True)
class Reply:
    """The reply words of one utterance."""

    affirm: bool
    deny: bool
    farewell: bool
    closing: bool
    greeting: bool
    thanks: bool
    pick: int | None
    phone: str | None
    caller_number: bool

    def fields(self) -> dict[str, Any]:
        """The values :class:`~voiceops.flow.understand.Understanding` takes as they are
        (greetings and thanks become intents there)."""
        return {
            "affirm": self.affirm,
            "deny": self.deny,
            "farewell": self.farewell,
            "closing": self.closing,
            "phone": self.phone,
            "caller_number": self.caller_number,
            "pick": self.pick,
        }


def read_reply(text: str, spoken: str, region: str) -> Reply:
    """The reply words of normalised ``text`` (``spoken`` is the raw form, for numbers)."""
    deny = bool(_DENY.search(text) or _DECLINE.search(text))
    phone = _phone(spoken, region)
    return Reply(
        affirm=not deny and bool(_AFFIRM_START.search(text) or _AFFIRM_ANY.search(text)),
        deny=deny,
        farewell=bool(_FAREWELL.search(text)),
        closing=bool(_CLOSING.search(text)),
        greeting=bool(_GREETING.search(text)),
        thanks=bool(_THANKS.search(text)),
        pick=_pick(text),
        phone=phone,
        caller_number=phone is None and bool(_CALLER_NUMBER.search(text)),
    )


def blank_greeting(text: str) -> str:
    """Normalised ``text`` with the greeting it opens with blanked out ("hello yes good
    afternoon i wondered where you are": "i wondered where you are" after as many spaces),
    so "good afternoon" is never the afternoon asked for. Positions in it are those of
    ``text``; ``text`` itself when it opens with no greeting."""
    lead = _GREETING_LEAD.match(text)
    if lead is None or _SALUTATION.search(lead.group(0)) is None:
        return text
    return " " * lead.end() + text[lead.end() :]


def read_social(text: str, question: bool) -> Social | None:
    """Small talk to answer before going on: "how are you?", the weather, a wrong number,
    a complaint."""
    if _WRONG_NUMBER.search(text):
        return "wrong_number"
    if _MISSING_BOOKING.search(text):
        return "missing_booking"
    if _COMPLAINT.search(text):
        return "complaint"
    if _HOW_ARE_YOU.search(text):
        return "how_are_you"
    if _WEATHER.search(text) and not question:
        return "weather"
    return None


_TRAILING_OFF = re.compile(
    r"\b(?:uh|um|umm|uhm|er|erm|hmm|so|and|but|or|the|a|an|to|for|of|with|on|at|in|about"
    r"|my|i|i'm|was|wanted|want|wanna|need|like|get|just|maybe|is|it's|could|can|would)$"
)
"""An utterance that stops mid-thought ("I wanted to um get a"): more is coming."""
_STARTED_WORDS = 3


_HOLD = re.compile(
    r"\b(?:hold on|hang on|one sec(?:ond)?|just a (?:sec|second|moment|minute)|one moment"
    r"|give me a (?:sec|second|moment|minute)|bear with me|wait a (?:sec|second|moment|minute))\b"
)
"""The caller asks the agent to wait ("hold on one sec")."""


def trails_off(text: str) -> bool:
    """Normalised ``text`` stops mid-sentence, on a filler or a word that needs another,
    after a start of a few words (a lone "um" is no start), or asks the agent to wait."""
    if _HOLD.search(text):
        return True
    return text.count(" ") >= _STARTED_WORDS - 1 and bool(_TRAILING_OFF.search(text))


def asks_repeat(text: str) -> bool:
    """Normalised ``text`` asks the agent to say its last words again."""
    return bool(_REPEAT.search(text))
