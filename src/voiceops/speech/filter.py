"""The streaming speech filter: model text chunks in, text safe for TTS out.

Three stages, none of which ever re-reads text it has already decided on:

1. :class:`~voiceops.speech.lexer.Lexer` cuts chunks into words and separators; the token
   sequence does not depend on where the chunks were cut.
2. :class:`SpeechFilter` walks the tokens in order with a little line state (line start,
   code fence, table row) and a look-ahead of at most a few words on the same line, which
   only these words need: a number that may be a clock time (``9`` ``am``), a price that
   may have a magnitude (``$5`` ``million``), the start of a phone number written in groups
   (``(212)`` ``555-0143``, ``+1`` ``212`` ``555`` ``0143``), an operator between numbers
   (``5`` ``*`` ``3``) and a line-start ``1.`` that is a list marker only if text follows.
   Each word, or each merged group, becomes one spoken piece through
   :func:`~voiceops.speech.words.speak`.
3. :class:`~voiceops.speech.layout.Layout` joins the pieces with single spaces, commas and
   periods.

Every decision is a function of the token sequence alone and is taken as soon as the tokens
that decide it are in, so the concatenated output is the same for every chunking and only
an undecided tail is held back: the open word, an open whitespace run, and a word waiting
for its look-ahead.

The open word itself need not wait for its end when its beginning is already decided. A
word that starts with ASCII letters is spoken on its own (no look-ahead, whatever the line
state outside a code fence), and once a character follows the letters that can neither
continue them nor make them part of an e-mail address, a host name or a URL scheme, no
later character changes how they are said (:func:`_decided_prefix`). So with nothing else
held back, those letters go out at once, with the following character too when that is
plain punctuation: "Sure" then "," releases "Sure," before the next token arrives, which
is what lets a reply's first word leave with the token that completes it.
"""

from __future__ import annotations

import re
from typing import Final

from voiceops.speech.layout import Layout
from voiceops.speech.lexer import PIPE, Lexer, Token
from voiceops.speech.words import speak, spoken_phone

# Look-ahead answers besides "the next word is at index i".
_UNDECIDED: Final = -1  # the next token has not arrived yet
_NO_WORD: Final = -2  # the line (or the text) ends, or a cell border comes first

_EMPHASIS: Final = "*_`~"

_FENCE: Final = ("```", "~~~")
_BLOCK_MARKER: Final = re.compile(r"#{1,6}|[-*+•]|[-*_=]{3,}")  # heading, bullet, rule
_ORDERED_MARKER: Final = re.compile(r"\d{1,3}[.)]")
_TABLE_RULE: Final = re.compile(r":?-+:?")

_TIME_START: Final = re.compile(r"\d{1,2}(?::[0-5]\d)?(?:[-\u2013]\d{1,2}(?::[0-5]\d)?)?")
_AMPM_WORD: Final = re.compile(r"[AaPp](?:\.[Mm]\.?|\.?[Mm])[.,!?;:)]*")
_PRICE_START: Final = re.compile(r"[$€£](?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_MAGNITUDE_WORD: Final = re.compile(r"(?i:thousand|million|billion|trillion)[.,!?;:)]*")
_PHONE_START: Final = re.compile(r"\+\d{1,3}|\(\d{3}\)")
_PHONE_GROUP: Final = re.compile(r"(\(?\d{1,4}\)?(?:[-.]\d{1,4})*)([.,!?;:]*)")
# The decided beginning of an open word (see the module docstring): ASCII letters, and
# what may follow them. After these the letters may go on into an e-mail address
# ("Book@maple.com", lower-cased), a host name ("Maple.com", "maple-salon.com"), a URL
# scheme ("https:"), an entity that needs a letter or digit before it, or a contraction or
# compound ("I'm", "well-known"): nothing is decided yet.
_OPEN_LETTERS: Final = re.compile(r"[A-Za-z]+")
_LETTERS_GO_ON: Final = frozenset(".@-:_%+'\u2019")
# After these the letters are decided and so is the character: nothing removes it or reads
# it as part of something else, whatever follows. After any other ASCII character only the
# letters are ("!" goes before "[", an image; "*", "<" or "]" may be markup).
_PLAIN_AFTER_LETTERS: Final = frozenset(',;?)"\u2026\u2013\u2014')
# First characters of the words that may open a look-ahead window (checked before the
# expressions, which most words would fail anyway).
_WINDOW_HEADS: Final = frozenset("0123456789$€£+(")
_NUMBER: Final = re.compile(r"[$€£]?\d")
_PLAIN_NUMBER: Final = re.compile(r"\d[\d,]*(?:\.\d+)?")
_NOT_DIGIT: Final = re.compile(r"\D")
# The longest phone number by what its first group says: "(212)" a US area code (10 digits),
# "+1" a North American number (11), any other country code E.164's 15.
_PHONE_DIGITS_NANP: Final = 10
_PHONE_DIGITS_PLUS_ONE: Final = 11
_PHONE_DIGITS_E164: Final = 15

_OPERATORS: Final = {
    "*": "times",
    "\u00d7": "times",
    "+": "plus",
    "=": "equals",
    "\u00f7": "divided by",
}


class SpeechFilter:
    """Cleans one response's text for TTS, chunk by chunk (one filter per response).

    ``feed(chunk)`` returns the cleaned text that is final now; ``flush()`` returns the rest
    at the end of the response and leaves the filter empty, ready for another response.
    For every text and every way of cutting it into chunks::

        "".join(f.feed(c) for c in chunks) + f.flush() == clean(text)

    What is rewritten and how is listed in :mod:`voiceops.speech`.
    """

    __slots__ = (
        "_after_number",
        "_early",
        "_in_fence",
        "_layout",
        "_lexer",
        "_line_has_pipe",
        "_line_start",
        "_skip_line",
        "_tokens",
    )

    def __init__(self) -> None:
        self._lexer = Lexer()
        self._tokens: list[Token] = []  # lexed, not yet decided
        self._start_response()

    def _start_response(self) -> None:
        self._layout = Layout()
        self._line_start = True
        self._line_has_pipe = False  # a table row: "---" cells are its rule, not text
        self._skip_line = False  # the rest of a code fence's line (its info string)
        self._in_fence = False
        self._after_number = False  # the last piece was a bare number ("5" before "* 3")
        self._early = ""  # what was already said of the open word, before it ended

    def feed(self, chunk: str) -> str:
        """Take the next chunk of raw text; return the cleaned text that is final now."""
        self._lexer.feed(chunk, self._tokens)
        self._decide(final=False)
        if not self._tokens and not (self._in_fence or self._skip_line):
            self._say_open_word()
        return self._layout.take()

    def flush(self) -> str:
        """End the response: return everything still held back, cleaned, and reset."""
        self._lexer.finish(self._tokens)
        self._decide(final=True)
        text = self._layout.take()
        self._start_response()
        return text

    # ----------------------------------------------------------------------------------

    def _decide(self, *, final: bool) -> None:
        tokens = self._tokens
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if isinstance(token, int):
                self._separator(token)
                i += 1
                continue
            after = self._word(token, i, final)
            if after == _UNDECIDED:
                break
            i = after
        del tokens[:i]

    def _say_open_word(self) -> None:
        """Say the decided beginning of the open word, with nothing else held back."""
        decided = _decided_prefix(self._lexer.open_word())
        early = self._early
        if len(decided) > len(early):
            if early:
                self._layout.extend(decided[len(early) :])
            else:
                self._layout.put(decided)
            self._early = decided

    def _separator(self, token: int) -> None:
        if token == PIPE:
            if not (self._in_fence or self._skip_line):
                self._line_has_pipe = True
                self._line_start = False
                self._after_number = False
                self._layout.clause()
        elif token > 0:
            self._line_start = True
            self._line_has_pipe = False
            self._skip_line = False
            self._after_number = False
            self._layout.sentence()

    def _next_word(self, i: int, final: bool) -> int:
        """Index of the word after the token at ``i - 1`` on the same line and before any
        cell border, or :data:`_NO_WORD`, or :data:`_UNDECIDED` until the tokens say."""
        tokens = self._tokens
        if i + 1 < len(tokens):
            if tokens[i] == 0 and isinstance(tokens[i + 1], str):
                return i + 1
            return _NO_WORD
        if i < len(tokens) and tokens[i] != 0:
            return _NO_WORD
        return _NO_WORD if final else _UNDECIDED

    def _word(self, word: str, i: int, final: bool) -> int:
        """Decide the word at ``tokens[i]``; return the index after what was consumed, or
        :data:`_UNDECIDED` to wait for more tokens."""
        if self._early:
            # Its beginning went out while it was open: say the rest. Only a word that
            # starts with letters, outside a fence and with nothing before it held, gets
            # here; it is spoken on its own, and its spoken form starts with what was said.
            early, self._early = self._early, ""
            self._line_start = False
            self._put_rest(speak(word)[len(early) :])
            return i + 1
        if self._in_fence or self._skip_line:
            if self._in_fence and self._line_start and word.startswith(_FENCE):
                self._in_fence = False
                self._skip_line = True
            self._line_start = False
            return i + 1
        if self._line_start:
            if word.startswith(">"):
                word = word.lstrip(">")
                if not word:
                    return i + 1  # a quote marker; the quoted line may start a list
                self._tokens[i] = word
            if word.startswith(_FENCE):
                self._in_fence = True
                self._skip_line = True
                self._line_start = False
                return i + 1
            if _BLOCK_MARKER.fullmatch(word):
                self._line_start = False
                return i + 1
            if _ORDERED_MARKER.fullmatch(word):
                following = self._next_word(i + 1, final)
                if following == _UNDECIDED:
                    return _UNDECIDED
                if following != _NO_WORD:
                    self._line_start = False
                    return i + 1
                # "2." alone on its line is an answer, not a list marker
            self._line_start = False
        bare = word.strip(_EMPHASIS)
        if self._line_has_pipe and _TABLE_RULE.fullmatch(bare):
            return i + 1
        if self._after_number and word in _OPERATORS:
            following = self._next_word(i + 1, final)
            if following == _UNDECIDED:
                return _UNDECIDED
            between_numbers = following != _NO_WORD and _starts_number(self._tokens[following])
            self._put(_OPERATORS[word] if between_numbers else "", number=False)
            return i + 1
        head = bare[:1]
        if head in _WINDOW_HEADS:
            if _TIME_START.fullmatch(bare):
                return self._merge_if(_AMPM_WORD, word, i, final)
            if _PRICE_START.fullmatch(bare):
                return self._merge_if(_MAGNITUDE_WORD, word, i, final)
            if _PHONE_START.fullmatch(bare):
                return self._phone(word, bare, i, final)
        self._put(speak(word), number=_PLAIN_NUMBER.fullmatch(bare) is not None)
        return i + 1

    def _merge_if(self, follower: re.Pattern[str], word: str, i: int, final: bool) -> int:
        """Speak ``word`` together with the next word if that one matches ``follower``."""
        following = self._next_word(i + 1, final)
        if following == _UNDECIDED:
            return _UNDECIDED
        if following != _NO_WORD:
            second = self._tokens[following]
            assert isinstance(second, str)
            if follower.fullmatch(second.strip(_EMPHASIS)):
                self._put(speak(f"{word} {second}"), number=False)
                return following + 1
        self._put(speak(word), number=_PLAIN_NUMBER.fullmatch(word.strip(_EMPHASIS)) is not None)
        return i + 1

    def _phone(self, word: str, first: str, i: int, final: bool) -> int:
        """A phone number written in groups: ``(212) 555-0143``, ``+44 20 7183 8750``."""
        if first.startswith("("):
            most = _PHONE_DIGITS_NANP
        elif first == "+1":
            most = _PHONE_DIGITS_PLUS_ONE
        else:
            most = _PHONE_DIGITS_E164
        groups = [first]
        ends = [i + 1]
        tail = ""  # punctuation after the last group ends the number
        digits = len(first) - len(_NOT_DIGIT.findall(first))
        while digits < most and not tail:
            following = self._next_word(ends[-1], final)
            if following == _UNDECIDED:
                return _UNDECIDED
            if following == _NO_WORD:
                break
            text = self._tokens[following]
            assert isinstance(text, str)
            group = _PHONE_GROUP.fullmatch(text.strip(_EMPHASIS))
            if group is None:
                break
            groups.append(group[1])
            ends.append(following + 1)
            tail = group[2]
            digits += len(group[1]) - len(_NOT_DIGIT.findall(group[1]))
        for count in range(len(groups), 1, -1):
            spoken = spoken_phone(" ".join(groups[:count]))
            if spoken is not None:
                punctuation = tail if count == len(groups) else ""
                self._put(spoken + punctuation, number=False)
                return ends[count - 1]
        self._put(speak(word), number=False)
        return i + 1

    def _put(self, piece: str, *, number: bool) -> None:
        self._layout.put(piece)
        self._after_number = number

    def _put_rest(self, rest: str) -> None:
        self._layout.extend(rest)
        self._after_number = False


def _decided_prefix(word: str) -> str:
    """The beginning of the open ``word`` that no later character can change: its leading
    ASCII letters once a character follows them that cannot continue them, with that
    character when it is plain punctuation; else ""."""
    if word.isalpha():
        return ""  # the letters may go on (most open words, most of the time)
    letters = _OPEN_LETTERS.match(word)
    if letters is None:
        return ""
    end = letters.end()
    after = word[end]
    if after in _PLAIN_AFTER_LETTERS:
        return word[: end + 1]
    if after in _LETTERS_GO_ON or not after.isascii() or after.isdigit():
        return ""
    return word[:end]


def _starts_number(token: Token) -> bool:
    return isinstance(token, str) and _NUMBER.match(token.strip(_EMPHASIS)) is not None
