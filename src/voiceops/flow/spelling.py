"""Names spelled out letter by letter, put back together as words.

A caller with a name that is often misheard spells it: "It's Siobhan, S I O B H A N",
"s-i-o-b-h-a-n", "that's P as in Peter, A, T", "K E double L Y". Speech-to-text writes the
letters one by one, and read as words they are a name of one letter ("S"), or several.
:func:`join_spelled` puts each run of three or more spelled letters back together as one
word ("Siobhan") and sets it where it belongs: in place of the word it spells when that was
just said (the spelling is what the caller meant, however the word was heard: "Shivon,
S I O B H A N" is Siobhan), else where the letters were ("last name K E L L Y").

One regular expression finds the runs, linear in the text; the rest is a few words around
each run.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from voiceops.flow.names import NOT_NAMES

_SAID_AS = r"(?:\s++(?i:as in|for|like)\s++[A-Za-z][a-z]++)?"
"""A letter made plain by a word: "P as in Peter", "s for Sam"."""
_LETTER = rf"(?:(?i:double)\s++[A-Za-z]|[A-Za-z]\.?{_SAID_AS})(?![\w'])"
"""One letter said: "S", "s.", "P as in Peter", "double L"."""
_RUN = re.compile(rf"(?<![\w'])(?:{_LETTER})(?:[\s,.\-]++(?:{_LETTER})){{2,}}")
"""Three or more letters in a row, apart by spaces, commas, dots or hyphens."""
_ONE = re.compile(rf"(?i:double)\s++(?P<twice>[A-Za-z])|(?P<once>[A-Za-z])\.?{_SAID_AS}(?![\w'])")
_LEAD_IN = re.compile(
    r"[\s,]*+(?:(?i:that's|that is|it's|it is)\s++)?(?i:spelled|spelt|spelling it|spell it"
    r"|that's|that is)?(?:\s++(?i:like|as))?[\s,:]*+$"
)
"""What may come between a word and its spelling ("Siobhan, that's spelled …")."""
_WORD_NEXT = re.compile(r"['\w]*+\s++[A-Za-z]{2}")
"""A word after a letter: the letter was a word ("I'm", "I am", "a rush")."""
_WORD = re.compile(r"[^\W\d_][\w'\-]*+")
_ALIKE = 0.6
"""How alike (difflib's ratio) a word said a little before and the letters must be for the
letters to spell that word; the word right before needs only to be able to be a name."""
_LOOK_BACK = 4
"""How many words before a spelling may be the word it spells."""
_NO_NAME = frozenset(
    """
    a an the is are was my his her their your name names name's surname first last middle
    family given spelled spelt spell spelling as like that's it's its i'm me under for and
    called with of
    """.split()
)
"""Words before a spelling that it never spells ("my name is S I …", "last name K E …")."""


def _letters(raw: str, run: re.Match[str]) -> tuple[str, int]:
    """The word a run of spelled letters makes, capitalised, and where the run ends: a
    last "I" or "a" that starts a sentence of words is no letter ("S I O B H A N, I'm in
    a rush")."""
    letters = list(_ONE.finditer(raw, run.start(), run.end()))
    end = run.end()
    last = letters[-1]
    if last["once"] in ("I", "i", "A", "a") and _WORD_NEXT.match(raw, end) and len(letters) > 3:
        letters.pop()
        end = letters[-1].end()
    found = [m["twice"] * 2 if m["twice"] else m["once"] for m in letters]
    return "".join(found).capitalize(), end


def join_spelled(raw: str) -> str:
    """``raw`` with each run of spelled letters joined into the word it spells."""
    if not _RUN.search(raw):
        return raw
    pieces: list[str] = []
    done = 0
    for run in _RUN.finditer(raw):
        word, end = _letters(raw, run)
        head = raw[done : run.start()]
        lead = _LEAD_IN.search(head)
        said = head[: lead.start()] if lead is not None else head
        spelled = _spelled_word(said, word)
        if spelled is not None:
            # A word said just before, spelled: the spelling stands in for it.
            pieces.append(f"{said[: spelled.start()]}{word}{said[spelled.end() :]}")
        else:
            pieces.append(head + word)
        done = end
    pieces.append(raw[done:])
    return "".join(pieces)


def _spelled_word(said: str, word: str) -> re.Match[str] | None:
    """The word of ``said`` that ``word`` spells: one of the last few that is alike, else
    the last one when it may be a name at all ("It's Shivon, S I O B H A N")."""
    words = list(_WORD.finditer(said))[-_LOOK_BACK:]
    best: re.Match[str] | None = None
    likeness = _ALIKE
    for candidate in words:
        ratio = SequenceMatcher(None, candidate.group(0).lower(), word.lower()).ratio()
        if ratio >= likeness:
            best, likeness = candidate, ratio
    if best is not None or not words:
        return best
    last = words[-1]
    lowered = last.group(0).lower()
    if said[last.end() :].strip(" ,") or lowered in _NO_NAME or lowered in NOT_NAMES:
        return None
    return last
