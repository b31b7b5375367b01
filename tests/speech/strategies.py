"""Hypothesis strategies for model-like text: words, markdown, emoji, entities, line breaks."""

from __future__ import annotations

from emoji import EMOJI_DATA
from hypothesis import strategies as st

ALL_EMOJI = sorted(EMOJI_DATA)
ZWJ_SEQUENCES = [e for e in ALL_EMOJI if "\u200d" in e]
SKIN_TONES = [e for e in ALL_EMOJI if any(0x1F3FB <= ord(c) <= 0x1F3FF for c in e)]
FLAGS = [e for e in ALL_EMOJI if all(0x1F1E6 <= ord(c) <= 0x1F1FF for c in e)]
KEYCAPS = [e for e in ALL_EMOJI if e.endswith("\u20e3")]
# Pieces of emoji that a chunk boundary or a sloppy model can leave on their own.
EMOJI_PARTS = ["\u200d", "\ufe0f", "\ufe0e", "\u20e3", "\U0001f3fd", "\U0001f1fa", "\U000e0067"]

emoji_text = st.one_of(
    st.sampled_from(ALL_EMOJI),
    st.sampled_from(ZWJ_SEQUENCES),
    st.sampled_from(SKIN_TONES),
    st.sampled_from(FLAGS),
    st.sampled_from(KEYCAPS),
    st.sampled_from(EMOJI_PARTS),
)

words = st.one_of(
    st.sampled_from(
        [
            "Hello",
            "there",
            "we",
            "are",
            "open",
            "at",
            "am",
            "pm",
            "AM",
            "a.m.",
            "I",
            "don't",
            "snake_case",
            "million",
            "e.g.",
            "Dr.",
            "x",
            "café",
            "naïve",
            "São",
            "Zoë",
            "über",
        ]
    ),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ", min_size=1, max_size=7),
)

markdown = st.sampled_from(
    [
        "**",
        "*",
        "__",
        "_",
        "`",
        "```",
        "```python",
        "~~",
        "~~~",
        "# ",
        "## ",
        "- ",
        "* ",
        "+ ",
        "1. ",
        "2) ",
        "> ",
        ">",
        "[",
        "](https://x.com/a_b)",
        "](",
        ")",
        "|",
        " | ",
        "|---|:--:|",
        "---",
        "***",
        "\\",
        "<br>",
        "</b>",
        "![",
        "•",
    ]
)

numbers = st.one_of(
    st.integers(min_value=0, max_value=100_000).map(str),
    st.sampled_from(
        [
            "1,200",
            "3.5",
            "12",
            "9",
            "14",
            "0",
            "2026",
            "+1",
            "(212)",
            "555-0143",
            "212",
            "555",
            "0143",
            "+44",
            "20",
            "7183",
            "8750",
        ]
    ),
)

entities = st.one_of(
    st.builds(
        lambda d, c: f"${d}{c}",
        st.integers(0, 5000),
        st.sampled_from(["", ".5", ".50", ".05", ".99", ",000", "k", "M"]),
    ),
    st.builds(
        lambda h, m, p: f"{h}:{m:02d}{p}",
        st.integers(0, 25),
        st.integers(0, 61),
        st.sampled_from(["", "am", " AM", "pm", " p.m.", "P.M"]),
    ),
    st.builds(
        lambda h, p: f"{h}{p}",
        st.integers(0, 13),
        st.sampled_from(["am", "pm", " am", " PM", "a.m."]),
    ),
    st.builds(
        lambda y, m, d: f"{y}-{m:02d}-{d:02d}",
        st.integers(1999, 2031),
        st.integers(0, 13),
        st.integers(0, 32),
    ),
    st.builds(
        lambda m, d, y: f"{m}/{d}/{y}",
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(2020, 2030),
    ),
    st.sampled_from(
        [
            "https://www.example.com/path",
            "http://maple.com",
            "www.maple-salon.com/book?x=1",
            "maple.com",
            "book@maple.com",
            "first.last+tag@mail.example.org",
            "@maple",
            "+12125550143",
            "(212) 555-0143",
            "212-555-0143",
            "+1 212 555 0143",
            "+442071838750",
            "+44 20 7183 8750",
            "9am-5pm",
            "09:00-17:00",
            "$40-60",
            "$5 million",
            "9:30 a.m.",
            "5 * 3",
            "3 + 4 = 7",
            "50%",
            "72°F",
            "20°C",
            "~30",
            "<5",
            "R&B",
            "2^3",
            "1️⃣",
            "#️⃣",
            "*️⃣",
            "10/15",
            "$",
            "€12.50",
            "£3",
        ]
    ),
)

punctuation = st.sampled_from(
    [*".,!?:;&%@+=#^~<>{}$()\"'-—…/", "°F", "°", "...", "?!", "\u2013", "\u2019", "“", "\u201d"]
)

spaces = st.sampled_from(["", " ", " ", " ", "  ", "\n", "\n\n", "\t", " \n ", "\r\n", "\u00a0"])

fragments = st.one_of(words, words, markdown, emoji_text, numbers, entities, punctuation)

model_text = st.lists(st.tuples(fragments, spaces), max_size=30).map(
    lambda parts: "".join(fragment + space for fragment, space in parts)
)


@st.composite
def chunkings(draw: st.DrawFn, text: str) -> list[str]:
    """``text`` cut at random code-point positions: inside emoji, inside ``**``, anywhere.

    Chunk lengths are drawn from a seeded ``Random`` (cheap to generate for long texts) around
    a drawn typical size, from single characters up to whole phrases.
    """
    rng = draw(st.randoms(use_true_random=False))
    typical = draw(st.integers(1, 12))
    chunks = []
    start = 0
    while start < len(text):
        end = start + rng.randint(1, typical)
        chunks.append(text[start:end])
        start = end
    return chunks
