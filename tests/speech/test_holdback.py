"""What the filter emits chunk by chunk: everything decided at once, only the undecided held."""

from __future__ import annotations

import pytest

from voiceops.speech import SpeechFilter

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
        ["", "Book", " now please", ""],
        id="link target dropped across chunks",
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
]


@pytest.mark.parametrize(("chunks", "timeline"), TIMELINES)
def test_emission_timeline(chunks: list[str], timeline: list[str]) -> None:
    speech = SpeechFilter()
    assert [speech.feed(chunk) for chunk in chunks] + [speech.flush()] == timeline


def test_a_sentence_ending_in_a_space_has_everything_before_its_last_word_out() -> None:
    speech = SpeechFilter()
    emitted = speech.feed("We have openings on Tuesday and Wednesday ")
    assert emitted.startswith("We have openings on Tuesday and")
    assert speech.flush() == ""
