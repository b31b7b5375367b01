"""Services named in other forms of their words: "have my hair coloured", "get it dyed",
"dyeing my roots", "my beard needs a trim".

A profile lists a service's name and aliases ("colour", "dye", "trim"); callers say them
as verbs too. :func:`inflections` gives the past and "-ing" forms of a name's last word
("coloured", "colored", "dyed", "trimmed", "blow dried"), which count as the service only
where they are said of something ("get my hair coloured", "want it dyed", "trimming my
beard"), so "my colour has faded" does not name a service called "fade".
:func:`merge_halves` joins two words said apart that together name one service ("my beard
needs a trim" is a beard trim, not a beard trim and a haircut).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_VOWELS = frozenset("aeiou")
_NOT_DOUBLED = frozenset("aeiouwxy")
_CAUSED = re.compile(
    r"\b(?:get|gets|got|getting|have|has|having|had|want|wants|wanted|need|needs|needed|like"
    r"|would like|'d like)(?: to (?:get|have))? (?:my|our|his|her|their|your|the|it|them)"
    r"(?: \w+){0,2}(?: and)? $"
)
"""What comes before a past form said of something: "get my hair ", "want it "."""
_DONE_TO = re.compile(
    r"\b(?:hair|beard|head|roots|fringe|bangs|greys|grays|it|them)\s(?:[a-z']+\s)?$"
    r"|[a-z]ed\s(?:and|or|then)\s$"
)
"""What a service is done to, just before its past form: "my hair professionally
coloured", "get them highlighted", "my hair trimmed and coloured"."""
_OBJECT_AFTER = re.compile(r"^ (?:my|our|his|her|their|your|the)\b")
"""What comes after an "-ing" form said of something: "dyeing my", "trimming the"."""
_NEEDS = re.compile(r"\b(?:needs?|wants?|could do with|could use) $")
"""What comes before an "-ing" form said of something: "my hair needs cutting"."""
_REACH = 40
"""How far before a past form :data:`_CAUSED` looks."""
_GAP_WORDS = 4
"""At most this many words between two halves of one service's name."""


def inflections(key: str) -> list[str]:
    """ "Colour" -> "coloured", "colouring"; "trim" -> "trimmed", "trimming"; "dye" ->
    "dyed", "dyeing"; "blow dry" -> "blow dried", "blow drying". Only of the last word."""
    head, _, last = key.rpartition(" ")
    if len(last) < 3 or not last.isalpha():
        return []
    if last.endswith("s") and not last.endswith("ss") and len(last) > 4:
        last = last[:-1]  # "highlights": "highlighted"
    keeps_e = last.endswith(("ee", "ye", "oe"))
    forms = [f"{last[:-1]}ing" if last.endswith("e") and not keeps_e else f"{last}ing"]
    if last.endswith("e"):
        forms.append(f"{last}d")
    elif last.endswith("y") and last[-2] not in _VOWELS:
        forms.append(f"{last[:-1]}ied")
    else:
        forms.append(f"{last}ed")
    short = last[-3] not in _VOWELS and last[-2] in _VOWELS and last[-1] not in _NOT_DOUBLED
    if short and len(last) <= 4:
        # "trim" -> "trimmed": a short word ending consonant, vowel, consonant.
        forms.extend((f"{last}{last[-1]}ed", f"{last}{last[-1]}ing"))
    return [f"{head} {form}" if head else form for form in forms]


def said_of_something(text: str, start: int, end: int) -> bool:
    """A verb form of a service at ``text[start:end]`` names it: a past form after "get
    my hair", "have it"; an "-ing" form before "my", "the"."""
    if text.endswith("ing", start, end):
        before = text[max(0, start - _REACH) : start]
        return bool(_OBJECT_AFTER.search(text[end:]) or _NEEDS.search(before))
    before = text[max(0, start - _REACH) : start]
    return bool(_CAUSED.search(before) or _DONE_TO.search(before))


Named = tuple[str, int, int, str]
"""A service named: its name, where it starts and ends in the text, and the key said."""


def merge_halves(
    text: str, named: Sequence[Named], combos: Sequence[tuple[frozenset[str], str, str]]
) -> list[Named]:
    """Two neighbours that are each half of one service's name or alias ("beard" … "trim"
    of "beard trim"), with few words between, named as that service once. ``combos`` are
    the profile's names and aliases of two or more words: (words, key, service)."""
    merged: list[Named] = []
    for item in named:
        if merged and _joined(text, merged[-1], item, combos) is not None:
            joined = _joined(text, merged[-1], item, combos)
            assert joined is not None
            merged[-1] = joined
        else:
            merged.append(item)
    return merged


def _joined(
    text: str, first: Named, second: Named, combos: Sequence[tuple[frozenset[str], str, str]]
) -> Named | None:
    if first[0] == second[0] or len(text[first[2] : second[1]].split()) > _GAP_WORDS:
        return None
    one, two = frozenset(first[3].split()), frozenset(second[3].split())
    for words, key, service in combos:
        if words in (one, two) or not (words & one and words & two):
            continue
        if words <= one | two:
            return (service, first[1], second[2], key)
    return None
