"""Properties of the streaming filter over generated model text and random chunkings."""

from __future__ import annotations

import re

import emoji
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.speech.strategies import chunkings, fragments, model_text
from voiceops.speech import SpeechFilter, clean

PROPERTY = settings(max_examples=400, deadline=None)
SUPPORTING = settings(max_examples=150, deadline=None)

MARKDOWN_MARKERS = re.compile(r"[*`#|\[\]{}<>~^\\]|(?<![^\W_])_|_(?![^\W_])")


def stream(chunks: list[str]) -> tuple[str, list[str]]:
    speech = SpeechFilter()
    emitted = [speech.feed(chunk) for chunk in chunks]
    return "".join(emitted) + speech.flush(), emitted


@PROPERTY
@given(st.data(), model_text)
def test_any_chunking_gives_the_unsplit_output(data: st.DataObject, text: str) -> None:
    expected = clean(text)
    chunks = data.draw(chunkings(text))
    assert stream(chunks)[0] == expected
    assert stream(list(text))[0] == expected


@PROPERTY
@given(model_text)
def test_output_is_clean_speech(text: str) -> None:
    spoken = clean(text)
    assert emoji.emoji_count(spoken) == 0
    assert MARKDOWN_MARKERS.search(spoken) is None, spoken
    assert "  " not in spoken
    assert spoken == spoken.strip()
    assert not re.search(r"[\n\r\t\u200d\ufe0f\u20e3]", spoken)


plain_words = st.lists(
    st.tuples(
        st.text(
            alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'", min_size=1, max_size=9
        ).filter(lambda w: w[0] != "'"),
        st.sampled_from(["", "", "", ",", ".", "!", "?"]),
    ),
    min_size=1,
    max_size=20,
).map(lambda pairs: " ".join(word + mark for word, mark in pairs))


@SUPPORTING
@given(st.data(), plain_words)
def test_a_plain_sentence_is_out_as_soon_as_its_words_end(
    data: st.DataObject, sentence: str
) -> None:
    # Ending in a space, every word is complete: nothing is held, not even the last word
    # (the brief asks for everything before it; plain words need no look-ahead at all).
    text = sentence + " "
    _, emitted = stream(data.draw(chunkings(text)))
    assert "".join(emitted) == clean(sentence)


@SUPPORTING
@given(st.data(), model_text)
def test_a_paragraph_break_and_a_word_release_everything_before_them(
    data: st.DataObject, text: str
) -> None:
    released = text + "\n\nok "
    _, emitted = stream(data.draw(chunkings(released)))
    assert "".join(emitted) == clean(released)


@SUPPORTING
@given(model_text, model_text)
def test_flush_leaves_the_filter_ready_for_the_next_response(first: str, second: str) -> None:
    speech = SpeechFilter()
    assert speech.feed(first) + speech.flush() == clean(first)
    assert speech.feed(second) + speech.flush() == clean(second)


# Letters glued to whatever may follow them in model output, and then more of it: the
# words whose beginning the filter may say before they end ("Sure," "Sure!" "Maple.com"
# "Book@maple.com" "https:" "I'm" "Sure😊" "now](url)").
glued_words = st.lists(
    st.tuples(
        st.sampled_from(["Sure", "I", "Book", "Maple", "https", "www", "ok", "Of", "x", "am"]),
        st.text(
            alphabet=".,!?;:'\"()[]{}<>*_~`@#$%^&+=-/\\|09 \n\u2019\u2026\u2013\u2014\u00e9\u200d"
            "\ufe0f\u0301\U0001f60a",
            max_size=3,
        ),
        st.lists(fragments, max_size=3).map("".join),
        st.sampled_from(["", " ", "\n"]),
    ),
    min_size=1,
    max_size=8,
).map(lambda parts: "".join(a + b + c + d for a, b, c, d in parts))


@PROPERTY
@given(st.data(), glued_words)
def test_words_said_before_they_end_are_said_as_the_whole_text_says_them(
    data: st.DataObject, text: str
) -> None:
    expected = clean(text)
    assert stream(list(text))[0] == expected
    assert stream(data.draw(chunkings(text)))[0] == expected


def model_tokens(words: list[tuple[str, str]]) -> list[str]:
    """A sentence as a model streams it: the first word, then each word with its leading
    space, and each punctuation mark as a token of its own."""
    tokens: list[str] = []
    for word, mark in words:
        tokens.append(f" {word}" if tokens else word)
        if mark:
            tokens.append(mark)
    return tokens


@SUPPORTING
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1),
            st.sampled_from(["", ",", "?", ";", "!", ")", "\u2026", "\u2014"]),
        ),
        min_size=2,
        max_size=8,
    )
)
def test_a_word_of_letters_goes_out_with_the_token_that_ends_it(
    words: list[tuple[str, str]],
) -> None:
    speech = SpeechFilter()
    first, mark = words[0]
    tokens = model_tokens(words)
    assert speech.feed(tokens[0]) == ""  # the letters may go on
    said = speech.feed(tokens[1])  # a mark or a space: the word has ended
    assert said == (first + mark if mark not in ("", "!") else first)
    rest = "".join(speech.feed(token) for token in tokens[2:]) + speech.flush()
    assert said + rest == clean("".join(tokens))


def test_a_symbol_after_leading_punctuation_starts_the_reply_without_a_space() -> None:
    # Found by the property above: the dropped "." left the space before "at".
    assert clean(".@maple") == "at maple"
    assert clean("!&more") == "and more"
