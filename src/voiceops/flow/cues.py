"""The flags of one caller utterance that need nothing but its words: "never mind", "what
about Sunday?", "I'd rather not give my name", the week's hours, "is this Joe's Pizza?",
"when is that?", two people, a new booking, a billing matter; and whether it asks a
question (:func:`asks`, indirectly too: "I wondered where you are"), and of whom.

:func:`cues` reads them all for :func:`~voiceops.flow.understand.understand`, over the
normalised text (lower case, no punctuation but apostrophes). Every pattern is linear in it.
"""

from __future__ import annotations

import re
from typing import Any

from voiceops.flow.lexicon import LATEST
from voiceops.flow.replies import asks_repeat, trails_off

BILLING = re.compile(
    r"\b(?:(?:charged|billed) (?:me )?(?:twice|double|two times|wrong\w*|too much|extra"
    r"|for nothing|again|for (?:a |the )?(?:no ?show|cancell?ation|missed))"
    r"|(?:i was|i got|i've been|i have been|you|you've|they) (?:charged|billed)"
    r"|double (?:charged|billed)|overcharg\w*|refund\w*|chargeback"
    r"|(?:my|the|a) (?:bill|invoice|receipt)|billing|wrong amount|(?:dispute|disputing)"
    r" (?:a|the|my|this) (?:charge|payment))\b"
)
"""A billing matter for the billing team, not a price question ("how much do you charge")."""
_DISMISS = re.compile(
    r"\b(?:never ?mind|forget (?:it|about it|that)|don't worry about it|doesn't matter"
    r"|scratch that|i'll call (?:back|again) later)\b"
)
_FOLLOW_UP = re.compile(
    r"^(?:(?:and|so|ok|okay|oh|well|right|alright|great|cool|thanks|um|uh|hmm|i see)\s+)*"
    r"(?:(?:just\s+)?(?:tell|read)\s+(?:me|them)(?:\s+then)?$|(?:what|how)\s+about\b"
    r"|and\s+(?:on\s+|for\s+|with\s+)?(?:(?:a|an|the|my)\s+)?\w+(?:\s+\w+){0,2}$)"
)
_QUESTION_START = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|there|so|and|um|uh|oh|ok|okay|fine|well|right|alright|cool|yes"
    r"|yeah|dear|sorry|good (?:morning|afternoon|evening|day))\s+)*"
    r"(?:do|does|can|could|is|are|what|how|which|when|where|who|why|would|will)\b"
)
_INDIRECT_QUESTION = re.compile(
    r"\b(?:wonder(?:ed|ing)?|whether|(?:like|want(?:ed)?|need|love) to know|curious"
    r"|(?:can|could|would) you tell me|you (?:can|could|might) tell me|do you (?:happen to )?know"
    r"|let me know|find out|ask(?:ing)? (?:you )?(?:if|whether|about|how|what|where|when)"
    r"|(?:do|does|can|could|would|will|is|are|have) (?:you|y'all|ya|there))\b"
)
"""A question asked without its question words first: "I wondered where exactly you are",
"I'd like to know whether there's parking", "quick question, do you guys …", "I'm ringing
to ask if …"."""
_NO_NAME = re.compile(
    r"\b(?:rather not|prefer not|don't want to (?:give|say|share)|do not want to (?:give|say)"
    r"|not giving|no name|why do you need|do i have to|do i need to|skip (?:it|that|the name)"
    r"|none of your business|anonymous|not telling|i said no)\b"
)
_WEEK_HOURS = re.compile(
    r"\b(?:week|weekly|every day|each day|which days|what days|all (?:the|your) hours"
    r"|full hours|days (?:are|do) you)\b"
)
"""The week's hours asked for, not just today's."""
ADDRESSED = re.compile(
    r"\b(?:you|your|you're|yours|i|i'm|my|me|we|us|our|there|it|someone|anyone|they|the salon"
    r"|the shop|the stylists?|staff|owner|stylists?|hairdressers?|barbers?|team)\b"
)
"""A question about the business or the caller's visit, not about the world."""
OFF_TOPIC = re.compile(
    r"\b(?:joke|capital of|president|recipe|sing|poem|stock|stocks|football|soccer|score"
    r"|movie|film|news|math|homework|bitcoin|lottery|horoscope|meaning of life|favou?rite)\b"
)
_PEOPLE = re.compile(
    r"\b(?:me and my \w+|my \w+ and (?:me|i)|both of us|the two of us|two of us|for two"
    r"|two people|two haircuts|me and (?:my )?(?:friend|partner|husband|wife|son|daughter))\b"
)
"""Two people to book for."""
_WHEN_IS_THAT = re.compile(
    r"\b(?:what time (?:is|was) (?:that|it)|when is (?:that|it)|what time did you (?:say|book))\b"
)
"""Asking again when the booking just made is."""
_IS_THIS = re.compile(
    r"^(?:(?:hi|hello|hey|oh|um|uh|sorry|so|yes|yeah|well|there|excuse me|good \w+)\s+)*"
    r"(?:is this|is that|am i (?:speaking|talking) (?:to|with)|have i (?:reached|got)"
    r"|who (?:is this|am i speaking to))\b"
)
"""The caller checks whom they called ("is this Joe's Pizza?")."""
_NEW_BOOKING = re.compile(
    r"\b(?:(?:a|another|make|book|start) (?:a )?(?:new|fresh|different) (?:one|booking|appointment"
    r"|time)|new (?:booking|appointment)|book (?:me|us|one|it|a|an|something|for)\b"
    r"|just book|start (?:over|again|fresh))\b"
)
"""A new booking asked for, not the one the caller has ("just book me a new one")."""


def asks(text: str, spoken: str) -> bool:
    """Whether the utterance asks something: a question mark, a question's first words after
    any greeting or filler, or a question asked indirectly ("I was wondering if …")."""
    return (
        "?" in spoken
        or _QUESTION_START.search(text) is not None
        or _INDIRECT_QUESTION.search(text) is not None
    )


def cues(text: str) -> dict[str, Any]:
    """The flags of an utterance that need nothing but its words."""
    return {
        "dismiss": bool(_DISMISS.search(text)),
        "follow_up": bool(_FOLLOW_UP.search(text)),
        "no_name": bool(_NO_NAME.search(text)),
        "week_hours": bool(_WEEK_HOURS.search(text)),
        "who_is_this": bool(_IS_THIS.search(text)),
        "when_is_that": bool(_WHEN_IS_THAT.search(text)),
        "two_people": bool(_PEOPLE.search(text)),
        "latest": bool(LATEST.search(text)),
        "billing": bool(BILLING.search(text)),
        "new_booking": bool(_NEW_BOOKING.search(text)),
        "repeat": asks_repeat(text),
        "trailing": trails_off(text),
    }
