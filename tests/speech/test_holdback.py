"""What the filter emits chunk by chunk: everything decided at once, only the undecided held."""

from __future__ import annotations

import pytest

from voiceops.speech import SpeechFilter, clean

# (chunks, what each feed returns, then what flush returns)
TIMELINES = [
    pytest.param(
        ["Hello", " there", " friend", "."],
        ["", "Hello", " there", "", " friend."],
        id="a word goes out once the next one starts",
    ),
    pytest.param(
        ["**bo", "ld** and ", "more"], ["", "bold and", "", " more"], id="split inside **"
    ),
    pytest.param(
        ["Hi 👨\u200d", "👩\u200d👧 there "], ["Hi", " there", ""], id="split inside a ZWJ family"
    ),
    pytest.param(["Thumbs 👍", "🏽 up "], ["Thumbs", " up", ""], id="split before a skin tone"),
    pytest.param(["Flag 🇺", "🇸 ok "], ["Flag", " ok", ""], id="split inside a flag"),
    pytest.param(["Press 1", "\ufe0f", "\u20e3 now "], ["Press", "", " 1 now", ""], id="keycap"),
    pytest.param(
        ["[Book", " now](https://x", ".com) please "],
        ["", "Book now", " please", ""],
        id="link target dropped across chunks, the text out before it ends",
    ),
    pytest.param(
        ["It costs $45", " ", "million ", "total"],
        ["It costs", "", " 45 million dollars", "", " total"],
        id="a price waits one word for a magnitude",
    ),
    pytest.param(
        ["It costs $45", " ", "each "],
        ["It costs", "", " 45 dollars each", ""],
        id="a price without magnitude",
    ),
    pytest.param(
        ["at 9 ", "am ", "sharp "], ["at", " 9 AM", " sharp", ""], id="a number waits for am/pm"
    ),
    pytest.param(
        ["Call (212) ", "555-0143 now "],
        ["Call", " 2 1 2, 5 5 5, 0 1 4 3 now", ""],
        id="an area code waits for the number",
    ),
    pytest.param(
        ["Call +1 212 ", "555 ", "0143 ", "now "],
        ["Call", "", " 2 1 2, 5 5 5, 0 1 4 3", " now", ""],
        id="a full +1 number is out without waiting for the next word",
    ),
    pytest.param(
        ["5 * ", "3 ", "is 15 "],
        ["5", " times", " 3 is", " 15"],
        id="an operator waits for the number after it",
    ),
    pytest.param(
        ["- ", "item\n", "- next "], ["", "item", ". next", ""], id="bullets at line starts"
    ),
    pytest.param(["1. ", "Pick ", "one "], ["", "Pick", " one", ""], id="an ordered marker"),
    pytest.param(["2.", "\n", "Yes "], ["", "", "2. Yes", ""], id="a lone 2. is an answer"),
    pytest.param(
        ["```py", "thon\nx = 1\n``", "`\nBack "], ["", "", "Back", ""], id="a fenced block"
    ),
    # Model tokens: word pieces with leading spaces, punctuation on its own.
    pytest.param(
        ["Sure", ",", " I", " can", " help"],
        ["", "Sure,", "", " I", " can", " help"],
        id="a first word goes out with the punctuation token that ends it",
    ),
    pytest.param(
        ["Of", " course", ".", " Yes"],
        ["", "Of", "", " course.", " Yes"],
        id="a first word goes out with the space of the next token",
    ),
    pytest.param(
        ["Sure", "!", " I", " can"],
        ["", "Sure", "!", " I", " can"],
        id="an exclamation mark waits: before [ it opens an image",
    ),
    pytest.param(
        ["Sure", ",", "😊", "I", " can"],
        ["", "Sure,", "", "", " I", " can"],
        id="the rest of a word that went out early",
    ),
    pytest.param(
        ["Okay", ".", " Let"], ["", "", "Okay.", " Let"], id="a period waits: it may be a host"
    ),
    pytest.param(
        ["Visit", " Maple", ".com", " today"],
        ["", "Visit", "", " maple dot com", " today"],
        id="letters before a dot are not said before the host is known",
    ),
    pytest.param(
        ["Write", " Book", "@", "maple", ".com", " now"],
        ["", "Write", "", "", "", " book at maple dot com", " now"],
        id="letters before @ are not said before the address is known",
    ),
    pytest.param(
        ["at", " 3", ":", "30", "pm", " ok"],
        ["", "at", "", "", "", " 3:30 PM", " ok"],
        id="a number before a colon waits for the time",
    ),
    pytest.param(["I", "'m", " here"], ["", "", "I'm", " here"], id="a contraction is one word"),
    pytest.param(
        ["```", "\n", "code", ",", " x", "\n```\n", "Ok", ","],
        ["", "", "", "", "", "", "", "Ok,", ""],
        id="nothing of a fenced block goes out early",
    ),
    pytest.param(
        ["at", " 9", " am", ",", " ok"],
        ["", "at", "", "", " 9 AM,", " ok"],
        id="a word that may be a look-ahead waits for the word before it",
    ),
]


@pytest.mark.parametrize(("chunks", "timeline"), TIMELINES)
def test_emission_timeline(chunks: list[str], timeline: list[str]) -> None:
    speech = SpeechFilter()
    assert [speech.feed(chunk) for chunk in chunks] + [speech.flush()] == timeline
    assert "".join(timeline) == clean("".join(chunks))


def test_a_sentence_ending_in_a_space_has_everything_before_its_last_word_out() -> None:
    speech = SpeechFilter()
    emitted = speech.feed("We have openings on Tuesday and Wednesday ")
    assert emitted.startswith("We have openings on Tuesday and")
    assert speech.flush() == ""
