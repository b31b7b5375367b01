"""Joining spoken pieces into one line of speech: spaces, clause commas, sentence stops.

The filter hands over pieces (spoken words, never with a space at either end) and breaks
between them. Pieces are separated by exactly one space; a clause break (a table cell) adds a
comma and a sentence break (a line break: list items, headings, table rows, paragraphs) adds
a period, unless the text before already ends in punctuation. A break is only written when
the next piece arrives, so nothing trails at the end and nothing leads at the start; a
piece that starts with closing punctuation sticks to the text before it ("Great 😊!" ->
"Great!") and does not repeat punctuation already there.
"""

from __future__ import annotations

from typing import Final

_SPACE: Final = 0
_CLAUSE: Final = 1
_SENTENCE: Final = 2

_CLOSING: Final = ".,!?;:…)"
_PUNCTUATION: Final = ".,!?;:…"
_LEADING_JUNK: Final = _CLOSING + "\u2013\u2014"  # and dashes: "—and then" starts a reply
# After these a break gets its comma or period; after anything else (a dash, an opening
# bracket) a period would read as noise.
_ENDS_WORDS: Final = ")\"'\u201d\u2019%"


class Layout:
    """Accumulates the text that is final; :meth:`take` hands it out."""

    __slots__ = ("_break", "_last", "_out")

    def __init__(self) -> None:
        self._out: list[str] = []
        self._last = ""  # the last character written; "" before anything
        self._break = _SPACE

    def clause(self) -> None:
        """A clause ends here (a table cell border)."""
        self._break = max(self._break, _CLAUSE)

    def sentence(self) -> None:
        """A sentence ends here (a line break)."""
        self._break = _SENTENCE

    def put(self, piece: str) -> None:
        """Write ``piece`` after the pending break. Empty pieces change nothing."""
        if not piece:
            return
        if not self._last:
            # Nothing said yet: no leading punctuation, and no piece that is only symbols.
            piece = piece.lstrip(_LEADING_JUNK + " ")
            if not any(char.isalnum() for char in piece):
                return
        elif piece[0] in _CLOSING:
            if self._last in _PUNCTUATION and piece[0] != ")":
                piece = piece.lstrip(_PUNCTUATION)
                if not piece:
                    return
            if piece[0] in _CLOSING:
                self._write(piece)
                return
        if self._last:
            if self._break != _SPACE and (self._last.isalnum() or self._last in _ENDS_WORDS):
                self._out.append("." if self._break == _SENTENCE else ",")
            self._out.append(" ")
        self._write(piece)

    def extend(self, rest: str) -> None:
        """Continue the last piece: ``put(a)`` then ``extend(b)`` writes what ``put(a + b)``
        would, for an ``a`` that starts with a letter (the filter's words that go out in
        two parts)."""
        if rest:
            self._write(rest)

    def take(self) -> str:
        """The text written since the last call."""
        text = "".join(self._out)
        self._out.clear()
        return text

    def _write(self, piece: str) -> None:
        self._out.append(piece)
        self._last = piece[-1]
        self._break = _SPACE
