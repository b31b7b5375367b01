"""What the agent said, as the checks read it: speech hygiene (markdown, emoji, URLs,
symbols a voice reads out badly), word and sentence counts, tool calls against what a
scenario expects, and whether a booking's details were read back before it was made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

import emoji

from voiceops.core.profile import AgentProfile
from voiceops.evals.play import ToolSeen
from voiceops.evals.scenario import ToolExpect

BOOKING_TOOLS = frozenset({"book_appointment", "reschedule_appointment", "cancel_appointment"})
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HOUR_WORDS = (
    "twelve",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
)

_URL = re.compile(
    r"https?://\S+|\bwww\.\S+|\b[\w-]+\.(?:com|org|net|io|co|us|uk|dev|app|example)\b"
    r"|\b[\w.+-]+@[\w-]+\.[\w.]+",
    re.IGNORECASE,
)
_MARKDOWN = re.compile(
    r"\*\*|__|```|`|^\s{0,3}#{1,6}\s|^\s*[-*+\u2022]\s+\S|^\s*\d{1,3}[.)]\s+\S"
    r"|\[[^\]\n]*\]\([^)\n]*\)|^\s*>\s|^\s*\|.*\|\s*$|^\s*-{3,}\s*$",
    re.MULTILINE,
)
_SYMBOL = re.compile(r"[*#_`~|<>{}\[\]\\^=+@$\u20ac\u00a3%&]|(?<!\d)/|/(?!\d)")


def hygiene_problems(text: str) -> list[str]:
    """What in ``text`` a voice would read out badly: markdown, emoji, URLs, symbols."""
    problems: list[str] = []
    for match in _MARKDOWN.finditer(text):
        problems.append(f"markdown {match.group(0).strip()!r}")
    for match in _URL.finditer(text):
        problems.append(f"URL {match.group(0)!r}")
    for found in emoji.emoji_list(text):
        problems.append(f"emoji {found['emoji']!r}")
    without = _URL.sub(" ", _MARKDOWN.sub(" ", text))
    for match in _SYMBOL.finditer(without):
        problems.append(f"symbol {match.group(0)!r}")
    if "\n" in text:
        problems.append("a line break")
    return list(dict.fromkeys(problems))


def words_in(text: str) -> int:
    return len(text.split())


def sentences_in(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()])


def has_phrase(text: str, phrase: str) -> bool:
    return phrase.lower() in text.lower()


def _values_match(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and isinstance(actual, str):
        return expected.strip().lower() == actual.strip().lower()
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(k in actual and _values_match(v, actual[k]) for k, v in expected.items())
    return bool(expected == actual)


def tool_matches(expected: ToolExpect, seen: ToolSeen) -> bool:
    if expected.name != seen.name:
        return False
    args = seen.arguments if isinstance(seen.arguments, dict) else {}
    if expected.match == "exact":
        return set(args) == set(expected.args) and _values_match(expected.args, args)
    return _values_match(expected.args, args)


def show_tools(tools: Sequence[ToolSeen]) -> str:
    if not tools:
        return "no tool"
    return ", ".join(f"{t.name}({compact(t.arguments)})" for t in tools)


def compact(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v!r}" for k, v in value.items())
    return repr(value)


def quote(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "\u2026")


def clock_pattern(at: time) -> re.Pattern[str]:
    """How a read-back may say ``at``: ``3 PM``, ``3pm``, ``3:30 p.m.``, ``three``, ``noon``."""
    hour12 = at.hour % 12 or 12
    word = _HOUR_WORDS[at.hour % 12]
    minutes = rf":{at.minute:02d}" if at.minute else r"(?::00)?"
    options = [rf"\b{hour12}{minutes}\s*(?:a\.?m\.?|p\.?m\.?|o'?clock)?(?![\d:])"]
    if at.minute == 0:
        options.append(rf"\b{word}\b")
        if at.hour == 12:
            options.append(r"\bnoon\b")
    elif at.minute == 30:
        options.append(rf"\bhalf past {word}\b|\b{word} thirty\b")
    return re.compile("|".join(options), re.IGNORECASE)


def read_back_gaps(tool: ToolSeen, previous: str | None, profile: AgentProfile) -> list[str]:
    """What the agent's line before a booking, move or cancellation failed to read back."""
    if not previous:
        return ["nothing was read back before it"]
    args = tool.arguments if isinstance(tool.arguments, dict) else {}
    gaps: list[str] = []
    said = previous.lower()
    start_text = args.get("start") or args.get("new_start")
    if tool.name == "book_appointment":
        service = profile.service(str(args.get("service", "")))
        names = [service.name, *service.aliases] if service else [str(args.get("service", ""))]
        if not any(n.lower() in said for n in names if n):
            gaps.append(f"the service ({names[0]})")
        name = str(args.get("customer_name") or "").strip()
        if name and name.split()[0].lower() not in said:
            gaps.append(f"the name ({name})")
    if isinstance(start_text, str):
        try:
            start = datetime.fromisoformat(start_text)
        except ValueError:
            start = None
        if start is not None:
            weekday = _WEEKDAYS[start.weekday()]
            if weekday not in said:
                gaps.append(f"the day ({weekday.title()})")
            if not clock_pattern(start.time()).search(previous):
                gaps.append(f"the time ({start.strftime('%H:%M')})")
    if tool.name == "cancel_appointment" and "cancel" not in said:
        gaps.append("that it is a cancellation")
    if "?" not in previous:
        gaps.append("a question the caller could say yes to")
    return gaps
