"""Streaming lexer: raw text chunks in, words and separators out, the same for any chunking.

A *word* is a maximal run of characters that are neither whitespace nor ``|``; it is complete
once the character after it has arrived. A *separator* is a maximal whitespace run, reported
as the number of line breaks in it, and is complete once the next non-whitespace character
has arrived. ``|`` is a token of its own (a table cell border). Every token's extent is fixed
by the text alone, so every way of cutting the text into chunks yields the same tokens; only
the moment each one is reported differs. A word or separator still open at the end of a
chunk is all the lexer holds back; :meth:`Lexer.open_word` shows the open word so far.
"""

from __future__ import annotations

import re
from typing import Final

PIPE: Final = -1
"""The separator token for ``|``."""

Token = str | int
"""A word (``str``), or a separator: line breaks in a whitespace run (``>= 0``) or :data:`PIPE`."""

_WORD: Final = re.compile(r"[^\s|]+")
_SPACE: Final = re.compile(r"\s+")


class Lexer:
    """Cuts a stream of chunks into :data:`Token` values, appended to a caller's list."""

    __slots__ = ("_in_space", "_line_breaks", "_word")

    def __init__(self) -> None:
        self._word: list[str] = []  # parts of the open word; joined once, when it ends
        self._in_space = False
        self._line_breaks = 0

    def feed(self, chunk: str, tokens: list[Token]) -> None:
        """Append every token that ``chunk`` completes to ``tokens``."""
        pos = 0
        end = len(chunk)
        while pos < end:
            if self._in_space:
                space = _SPACE.match(chunk, pos)
                if space is None:
                    tokens.append(self._line_breaks)
                    self._in_space = False
                    self._line_breaks = 0
                    continue
                self._line_breaks += chunk.count("\n", pos, space.end())
                pos = space.end()
                continue
            word = _WORD.match(chunk, pos)
            if word is not None:
                self._word.append(word.group())
                pos = word.end()
                continue
            self._end_word(tokens)
            if chunk[pos] == "|":
                tokens.append(PIPE)
                pos += 1
            else:
                self._in_space = True

    def open_word(self) -> str:
        """The word begun but not yet ended ("" inside a separator or before any text)."""
        parts = self._word
        if not parts:
            return ""
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0]

    def finish(self, tokens: list[Token]) -> None:
        """Append the open word or separator, if any; the lexer is then empty again."""
        self._end_word(tokens)
        if self._in_space:
            tokens.append(self._line_breaks)
            self._in_space = False
            self._line_breaks = 0

    def _end_word(self, tokens: list[Token]) -> None:
        if self._word:
            tokens.append(self._word[0] if len(self._word) == 1 else "".join(self._word))
            self._word.clear()
