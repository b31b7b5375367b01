"""The filter's parts on their own: the lexer's tokens and emoji removal over all of EMOJI_DATA."""

from __future__ import annotations

import emoji
import pytest

from voiceops.speech import clean
from voiceops.speech.emojis import strip_emoji
from voiceops.speech.lexer import PIPE, Lexer, Token
from voiceops.speech.words import spoken_phone

TEXT = "Hi  there|a\r\n\n b |"
TOKENS: list[Token] = ["Hi", 0, "there", PIPE, "a", 2, "b", 0, PIPE]


def lex(chunks: list[str]) -> list[Token]:
    lexer = Lexer()
    tokens: list[Token] = []
    for chunk in chunks:
        lexer.feed(chunk, tokens)
    lexer.finish(tokens)
    return tokens


def test_lexer_tokens() -> None:
    assert lex([TEXT]) == TOKENS


def test_lexer_tokens_do_not_depend_on_chunking() -> None:
    assert lex(list(TEXT)) == TOKENS
    assert lex([TEXT[:3], TEXT[3:9], TEXT[9:14], TEXT[14:]]) == TOKENS


def test_lexer_reports_a_word_when_its_end_arrives() -> None:
    lexer = Lexer()
    tokens: list[Token] = []
    lexer.feed("Hel", tokens)
    assert tokens == []
    lexer.feed("lo\n", tokens)
    assert tokens == ["Hello"]
    lexer.feed("\n", tokens)
    assert tokens == ["Hello"]
    lexer.feed("x", tokens)
    assert tokens == ["Hello", 2]


def test_every_emoji_goes() -> None:
    # One test over all of EMOJI_DATA (about 5,000 sequences); a failure lists them all.
    wrong = []
    for sequence in sorted(emoji.EMOJI_DATA):
        keycap = sequence.endswith("\u20e3")
        spoken = clean(f"a{sequence}b")
        if (
            strip_emoji(sequence) != (sequence[0] if keycap else " ")
            or emoji.emoji_count(spoken) != 0
            or spoken not in ("a b", "ab", f"a{sequence[0]}b")
        ):
            wrong.append((sequence, spoken))
    assert wrong == []


def test_ascii_text_is_untouched_by_emoji_removal() -> None:
    text = "".join(chr(code) for code in range(128))
    assert strip_emoji(text) == text


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        ("+12125550143", "2 1 2, 5 5 5, 0 1 4 3"),
        ("(212) 555-0143", "2 1 2, 5 5 5, 0 1 4 3"),
        ("+44 20 7183 8750", "plus 4 4, 2 0, 7 1 8 3, 8 7 5 0"),
        ("+33 1 42 68 53 00", "plus 3 3, 1, 4 2, 6 8, 5 3, 0 0"),
        ("555", None),
        ("+1 212", None),
        ("call me", None),
    ],
)
def test_spoken_phone(number: str, spoken: str | None) -> None:
    assert spoken_phone(number) == spoken
