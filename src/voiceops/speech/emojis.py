"""Emoji and non-ASCII symbol removal for one word of text.

Emoji are recognised from the ``emoji`` library's ``EMOJI_DATA`` (every fully-qualified,
minimally-qualified and unqualified sequence: ZWJ families, skin tones, flags, subdivision
flags, keycaps) by longest match, so a sequence goes as a whole (leaving a space, in case it
stood between two words). A keycap keeps its base
character (``1️⃣`` -> ``1``): the digit is what the sender meant. Whatever is left that a
voice cannot say -- a lone skin-tone modifier, variation selector, zero-width joiner, regional
indicator, tag character, pictograph or private-use character -- is dropped by Unicode
category. Letters, digits, marks and punctuation of every script are kept, as are the
symbols that :mod:`voiceops.speech.words` turns into words (degree, times, divided by).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Final

from emoji import EMOJI_DATA

_KEYCAP: Final = "\u20e3"

# Categories a voice cannot read: other/modifier/math symbols, format characters (ZWJ, tags,
# bidi marks), controls, private use, unassigned, surrogates and enclosing marks (keycaps).
_UNSAYABLE_CATEGORIES: Final = frozenset({"So", "Sk", "Sm", "Cc", "Cf", "Co", "Cn", "Cs", "Me"})
_SAYABLE_SYMBOLS: Final = frozenset("°\u00d7\u00f7")
_MINUS_SIGN: Final = "\u2212"  # a math symbol (Sm) that must survive as a hyphen-minus


def _lengths_by_first_char() -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for sequence in EMOJI_DATA:
        lengths.setdefault(sequence[0], set()).add(len(sequence))
    return {char: tuple(sorted(sizes, reverse=True)) for char, sizes in lengths.items()}


# Built once at import (about 5,000 sequences): for each possible first character, the
# sequence lengths to try, longest first. A dict probe per length beats a trie walk in Python.
_EMOJI_LENGTHS: Final = _lengths_by_first_char()


@lru_cache(maxsize=4096)
def _unsayable(char: str) -> bool:
    if 0xFE00 <= ord(char) <= 0xFE0F:  # variation selectors are combining marks (Mn)
        return True
    return unicodedata.category(char) in _UNSAYABLE_CATEGORIES and char not in _SAYABLE_SYMBOLS


def _keep(char: str, kept: list[str]) -> None:
    if char.isascii() or not _unsayable(char):
        kept.append(char)
    elif char == _MINUS_SIGN:
        kept.append("-")


def strip_emoji(text: str) -> str:
    """``text`` with each emoji replaced by a space (it may sit between two words: "Hi!😊Bye")
    and unsayable non-ASCII symbols removed; a keycap becomes its base character.

    ASCII characters are never removed here (the caller handles ASCII symbols), so a text
    that is pure ASCII comes back unchanged. The caller normalises the spaces.
    """
    kept: list[str] = []
    i = 0
    size_of_text = len(text)
    while i < size_of_text:
        char = text[i]
        sizes = _EMOJI_LENGTHS.get(char)
        if sizes is not None:
            for size in sizes:
                end = i + size
                if end <= size_of_text and text[i:end] in EMOJI_DATA:
                    kept.append(char if text[end - 1] == _KEYCAP else " ")
                    i = end
                    break
            else:
                # A digit, '#' or '*' that starts no keycap, or a lone regional indicator.
                _keep(char, kept)
                i += 1
            continue
        _keep(char, kept)
        i += 1
    return "".join(kept)
