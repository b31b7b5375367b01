"""Speech hygiene: model text made safe for a TTS voice, chunk by chunk.

Every outgoing chunk from every brain passes through a :class:`SpeechFilter` (one per
response); :func:`clean` is the one-shot form and :func:`is_speakable` tells whether a text
gives the voice anything to say. The filter is a sans-I/O streaming transducer: for every
text and every chunking, ``"".join(f.feed(c) for c in chunks) + f.flush() == clean(text)``,
and it holds back only what it cannot decide yet (the open word, of which a beginning of
letters goes out as soon as what follows it decides it, and at most a few words of
look-ahead for times, prices, phone numbers, operators and list markers).

What it does (US English; conservative and predictable):

==========================  ===============================================================
markdown                    ``**b**``, ``__b__``, ``*i*``, ``_i_``, ``~~s~~`` -> the text
                            (``snake_case`` keeps its underscore, ``5 * 3`` -> "5 times 3");
                            ``# Heading``, ``- item``, ``* item``, ``1. item``, ``> quote``
                            at a line start -> the text; rules (``---``) removed;
                            ``[text](url)`` -> the text; ``| a | b |`` -> "a, b" and
                            ``|---|`` rows removed; ``inline code`` -> its contents;
                            fenced code blocks are dropped whole (code, JSON or logs are
                            never meant for a caller's ear); HTML tags removed
line breaks                 end a sentence: a period is added unless punctuation is there
emoji                       removed: ZWJ sequences, skin tones, flags, keycaps (``1️⃣``
                            -> "1"), variation selectors, and non-ASCII symbols generally
URLs                        the host is spoken, the rest dropped:
                            ``https://www.example.com/path`` -> "example dot com"
e-mail                      ``book@maple.com`` -> "book at maple dot com"
prices                      ``$45`` -> "45 dollars", ``$45.50`` -> "45 dollars and 50
                            cents", ``$1,200`` -> "1,200 dollars", ``$40-60`` -> "40 to 60
                            dollars", ``$5M`` / ``$5 million`` -> "5 million dollars"
                            (``€`` and ``£`` likewise)
times                       ``9:30am`` / ``9:30 a.m.`` -> "9:30 AM", ``9am`` -> "9 AM",
                            ``14:00`` -> "2 PM", ``09:30`` -> "9:30 AM", ``9am-5pm`` ->
                            "9 AM to 5 PM"; ``9:30`` without AM/PM is left as written
dates                       ``2026-12-01`` and ``12/01/2026`` -> "December 1st, 2026";
                            ``12/01`` is left alone (it may be a fraction)
phone numbers               ``+12125550143``, ``(212) 555-0143``, ``212-555-0143`` -> "2 1 2,
                            5 5 5, 0 1 4 3"; other countries keep theirs: "plus 4 4, 2 0, ..."
symbols                     ``&`` -> "and", ``%`` -> "percent", ``@`` -> "at", ``°F`` ->
                            "degrees", ``+``/``*``/``=`` between numbers -> "plus"/"times"/
                            "equals", ``~5`` -> "about 5", ``<5`` -> "less than 5"; ``#``,
                            ``*``, ``~``, ``^``, ``|``, ``<``, ``>``, ``{}``, ``[]`` and other
                            stray symbols dropped
whitespace                  single spaces only, nothing leading or trailing; punctuation kept
==========================  ===============================================================
"""

from __future__ import annotations

import re
from typing import Final

from voiceops.speech.filter import SpeechFilter

__all__ = ["SpeechFilter", "clean", "is_speakable"]

_LETTER_OR_DIGIT: Final = re.compile(r"[^\W_]")


def clean(text: str) -> str:
    """``text`` cleaned for TTS in one go (what a :class:`SpeechFilter` emits for it)."""
    speech = SpeechFilter()
    return speech.feed(text) + speech.flush()


def is_speakable(text: str) -> bool:
    """Whether ``text`` has at least one letter or digit, i.e. gives a voice something to say."""
    return _LETTER_OR_DIGIT.search(text) is not None
