"""Apostrophes that speech-to-text leaves out: "thats everything", "its kate", "names jo".

Many transcripts come lower case and without apostrophes. The readers of an utterance
match the written forms ("that's all", "it's Priya", "name's Jo"), so :func:`restore`
puts the apostrophe back in the contractions that are never a word of their own in a call
("thats", "youre", "dont", "hes"), and in the few that are only when they stand where the
contraction does: "its" opening a clause or before a word the possessive never takes ("its
kate", "a booking its under maria"), "names" after "my", "his" or "her" or opening the
utterance ("names jo", "my names dev", "his names finn"), "id" before a verb ("id rather
talk to someone"), and a relative's possessive before "name" ("my husbands name peter").
One pass over the words: linear in the text.
"""

from __future__ import annotations

import re

_ALWAYS = {
    "thats": "that's",
    "whats": "what's",
    "theres": "there's",
    "heres": "here's",
    "wheres": "where's",
    "whens": "when's",
    "whos": "who's",
    "hes": "he's",
    "shes": "she's",
    "hows": "how's",
    "im": "i'm",
    "ive": "i've",
    "youre": "you're",
    "youve": "you've",
    "youll": "you'll",
    "theyre": "they're",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "cant": "can't",
    "isnt": "isn't",
    "arent": "aren't",
    "wasnt": "wasn't",
    "couldnt": "couldn't",
    "wouldnt": "wouldn't",
    "shouldnt": "shouldn't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "thatll": "that'll",
}
"""Contractions that are not words of their own, by their apostrophe-less spelling."""

_WORD = re.compile(r"[A-Za-z]++")
_CLAUSE_MARK = re.compile(r"[.,!?;]")
_NAME_NEXT = re.compile(r"[ ,]++name\b", re.IGNORECASE)
_ITS_NEXT = re.compile(r" (?:for|under|me|just|only|not|booked)\b", re.IGNORECASE)
"""Words that never follow the possessive "its": "booking its under Maria" is "it's"."""
_ID_NEXT = re.compile(
    r" (?:like|love|rather|prefer|be|need|want|have|just|really|also|actually)\b", re.IGNORECASE
)
"""Words after which "id" is "I'd" ("id rather talk to someone"), not an ID card."""
_CLAUSE_OPENERS = frozenset(
    """no yes yeah yep oh ah um uh er so well sorry actually okay ok and but great perfect
    maybe probably think guess""".split()
)
"""Words after which "its" opens a clause ("no its kate"), not a possessive."""
_RELATIVES = frozenset(
    """husbands wifes partners sons daughters mums moms mothers dads fathers friends
    boyfriends girlfriends brothers sisters""".split()
)


def restore(spoken: str) -> str:
    """``spoken`` with the apostrophes of its contractions put back; words keep their case."""
    parts: list[str] = []
    last = 0  # end of the text already copied into ``parts``
    previous, previous_end = "", 0
    for match in _WORD.finditer(spoken):
        if _CLAUSE_MARK.search(spoken, previous_end, match.start()):
            previous = ""  # "at 2, names jo": a sentence mark opens a clause, as the start does
        word = match.group(0)
        fixed = _fixed(word.lower(), previous, spoken, match.end())
        if fixed is not None:
            parts.append(spoken[last : match.start()])
            parts.append(_cased(word, fixed))
            last = match.end()
        previous, previous_end = word.lower(), match.end()
    parts.append(spoken[last:])
    return "".join(parts)


def _fixed(lowered: str, previous: str, spoken: str, end: int) -> str | None:
    """The contraction ``lowered`` stands for here, or None when it is a word as it is."""
    if lowered in _ALWAYS:
        return _ALWAYS[lowered]
    opens = previous == "" or previous in _CLAUSE_OPENERS
    if lowered == "its" and (opens or _ITS_NEXT.match(spoken, end) is not None):
        return "it's"
    if (
        lowered == "id"
        and previous not in ("my", "your", "an", "the", "photo")
        and (_ID_NEXT.match(spoken, end) is not None)
    ):
        return "i'd"
    if lowered == "names" and (opens or previous in ("my", "his", "her", "their", "our")):
        return "name's"
    if lowered in _RELATIVES and previous == "my" and _next_is_name(spoken, end):
        return lowered[:-1] + "'s"
    return None


def _next_is_name(spoken: str, end: int) -> bool:
    """Whether the word after ``end`` is "name" ("my husbands name")."""
    return _NAME_NEXT.match(spoken, end) is not None


def _cased(word: str, fixed: str) -> str:
    """``fixed`` with the first letter's case of ``word`` ("Thats" → "That's")."""
    return fixed[:1].upper() + fixed[1:] if word[:1].isupper() else fixed
