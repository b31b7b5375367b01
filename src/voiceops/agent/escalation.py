"""Rule-based escalation: when the caller needs a human, and whether one can take the call.

:func:`detect_escalation` runs on every turn before the brain, so it is a handful of
precompiled regular expressions over at most the last few utterances (microseconds, no
allocation proportional to the call's length). Three rules, in order:

* **phrase**: a trigger phrase (``manager``, ``real person`` ...) in the newest caller
  utterance, as whole words, case-insensitively, unless negated just before ("I don't
  need a manager") or naming someone rather than asking ("my manager said", "booking for
  someone else");
* **frustration**: a score over the last three caller utterances reaches
  ``rules.frustration_threshold``; repeated negations ("no no no") score one per repeat,
  a frustration phrase or a profanity two, shouting in capitals one. A single "no" (as in
  "no, Thursday please") scores nothing;
* **loop**: the agent's last ``rules.loop_turns`` answered utterances are (nearly) the same
  text, or end with the same question.

Whether a human can take the call, and what is said when nobody can, is decided in
``tools/handoff.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from voiceops.core.events import EscalationTrigger

if TYPE_CHECKING:
    from voiceops.core.profile import EscalationRules
    from voiceops.core.transcript import Utterance

Priority = Literal["low", "medium", "high"]

_UNINTELLIGIBLE = re.compile(r"\(\s*unintelligible audio\s*\)", re.IGNORECASE)
_NEGATION_RUN = re.compile(r"\b(?:no|nope|nah)\b(?:[\s,.!?;:-]+\b(?:no|nope|nah)\b)+", re.I)
_NEGATION_WORD = re.compile(r"\b(?:no|nope|nah)\b", re.IGNORECASE)
_PROFANITY = re.compile(
    r"\b(?:fuck\w*|shit\w*|bullshit|damn(?:ed|it)?|goddamn\w*|crap|bloody hell|"
    r"piss(?:ed)? off|ass(?:hole)?s?|bastard\w*|wtf)\b",
    re.IGNORECASE,
)
_NEGATED_BEFORE = re.compile(
    r"\b(?:not|don'?t|do not|doesn'?t|no need (?:for|to)|never|without)\b[\w\s']{0,24}$",
    re.IGNORECASE,
)
_NOT_A_REQUEST_BEFORE = re.compile(r"\b(?:(?:my|our|his|her|their)\s+|for\s+)$", re.IGNORECASE)
""""my manager told me", "booking for someone else": the phrase names a person, not a wish."""
_NEGATION_REACH = 40
"""Characters before a phrase searched for a negation (``_NEGATED_BEFORE`` matches at most
35) or for "my"/"for" (a few, with their spaces): a window, not all the text before it."""
_SCANNED_CHARS = 2_000
"""Only the last 2,000 characters of each utterance are scanned (the flow brain reads no
more either): a caller never says more in one turn, and a frame carrying megabytes of
transcript must not hold the event loop every call shares."""
_BREAK = re.compile(r"\s")
_WORDS = re.compile(r"[a-z0-9']+")
_LETTERS = re.compile(r"[A-Za-z]")
_LOWER_WORD = re.compile(r"[a-z]{3}")
# A question starts where a sentence does: without the lookbehind, every position of a
# long stretch with no "?" starts a scan to its end again (quadratic in the text).
_SENTENCES = re.compile(r"(?<![^.!?])[^.!?]*\?")
# Courtesy questions an agent rightly repeats after every answer ("Is there anything else I
# can help with?") show progress, not a loop.
_CLOSER = re.compile(r"\b(?:anything|something) else\b|\bstill there\b|\bhelp you with\b")

_NEGATION_REPEAT_POINTS = 1
_PHRASE_POINTS = 2
_PROFANITY_POINTS = 2
_SHOUT_POINTS = 1
_SHOUT_MIN_LETTERS = 8
_FRUSTRATION_WINDOW = 3
_CACHE_SIZE = 4096
"""Per-utterance results cached by text: transcripts grow by a line or two per turn."""
_LOOP_SIMILARITY = 0.8
"""Word-set Jaccard at or above which two agent utterances count as the same line."""


@dataclass(frozen=True, slots=True)
class _Matchers:
    trigger: re.Pattern[str] | None
    frustration: re.Pattern[str] | None


def _alternation(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = sorted({p.strip() for p in phrases if p.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    # Whitespace inside a phrase matches any run of spaces; edges are word boundaries only
    # where the phrase starts or ends with a word character ("you're not listening").
    parts = []
    for phrase in cleaned:
        body = r"\s+".join(re.escape(word) for word in phrase.split())
        head = r"\b" if phrase[0].isalnum() else ""
        tail = r"\b" if phrase[-1].isalnum() else ""
        parts.append(f"{head}{body}{tail}")
    return re.compile("|".join(parts), re.IGNORECASE)


def _tail(text: str) -> str:
    """At most the last ``_SCANNED_CHARS`` characters of ``text``, without a cut word."""
    if len(text) <= _SCANNED_CHARS:
        return text
    tail = text[-_SCANNED_CHARS:]
    cut = None if text[-_SCANNED_CHARS - 1].isspace() else _BREAK.search(tail)
    return tail[cut.end() :] if cut is not None else tail


def _clean(text: str) -> str:
    if "(" not in text:  # the common case skips the regex
        return text.strip()
    return _UNINTELLIGIBLE.sub(" ", text).strip()


def _phrase_hit(pattern: re.Pattern[str] | None, text: str) -> str | None:
    """The first trigger phrase in ``text`` that is not negated just before it."""
    if pattern is None:
        return None
    for match in pattern.finditer(text):
        before = match.start()
        reach = max(0, before - _NEGATION_REACH)
        if _NEGATED_BEFORE.search(text, reach, before) or _NOT_A_REQUEST_BEFORE.search(
            text, reach, before
        ):
            continue
        return match.group(0)
    return None


def _shouting(text: str) -> bool:
    # Ordinary speech has a lowercase word early on: reject it without counting letters.
    if _LOWER_WORD.search(text) is not None:
        return False
    letters = _LETTERS.findall(text)
    if len(letters) < _SHOUT_MIN_LETTERS:
        return False
    upper = sum(1 for ch in letters if ch.isupper())
    return upper * 10 >= len(letters) * 9


@lru_cache(maxsize=_CACHE_SIZE)
def _utterance_score(text: str, frustration: re.Pattern[str] | None) -> tuple[int, tuple[str, ...]]:
    """Frustration points of one caller utterance, and what scored them.

    Cached: the last three utterances are rescored on every turn, two of them unchanged."""
    score = 0
    why: list[str] = []
    for run in _NEGATION_RUN.finditer(text):
        repeats = len(_NEGATION_WORD.findall(run.group(0))) - 1
        score += repeats * _NEGATION_REPEAT_POINTS
        why.append("repeated no")
    if frustration is not None:
        for hit in frustration.finditer(text):
            score += _PHRASE_POINTS
            why.append(hit.group(0).lower())
    profanities = len(_PROFANITY.findall(text))
    if profanities:
        score += profanities * _PROFANITY_POINTS
        why.append("profanity")
    if _shouting(text):
        score += _SHOUT_POINTS
        why.append("shouting")
    return score, tuple(why)


def _matchers_for(rules: EscalationRules) -> _Matchers:
    """The compiled trigger and frustration patterns, built once per profile."""
    return rules.derived("escalation.matchers", _compile_matchers)


def _compile_matchers(rules: EscalationRules) -> _Matchers:
    return _Matchers(
        _alternation(tuple(rules.trigger_phrases)), _alternation(tuple(rules.frustration_phrases))
    )


def frustration_score(texts: Sequence[str], rules: EscalationRules) -> tuple[int, list[str]]:
    """Score caller utterances for frustration; returns the score and what contributed."""
    matchers = _matchers_for(rules)
    score = 0
    why: list[str] = []
    for text in texts:
        points, reasons = _utterance_score(text, matchers.frustration)
        score += points
        why.extend(reasons)
    return score, why


@lru_cache(maxsize=_CACHE_SIZE)
def _normalise(text: str) -> frozenset[str]:
    return frozenset(_WORDS.findall(text.lower()))


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) >= _LOOP_SIMILARITY * len(a | b)


@lru_cache(maxsize=_CACHE_SIZE)
def _last_question(text: str) -> frozenset[str]:
    questions = _SENTENCES.findall(text)
    return _normalise(questions[-1]) if questions else frozenset()


def _looping(agent_texts: Sequence[str]) -> bool:
    """``agent_texts`` newest first; True when all are the same line or the same question."""
    first = _normalise(agent_texts[0])
    if all(_similar(first, _normalise(t)) for t in agent_texts[1:]):
        return bool(first)
    questions = _SENTENCES.findall(agent_texts[0])
    if not questions or _CLOSER.search(questions[-1].lower()):
        return False
    question = _last_question(agent_texts[0])
    return bool(question) and all(_similar(question, _last_question(t)) for t in agent_texts[1:])


def detect_escalation(
    transcript: Sequence[Utterance], rules: EscalationRules
) -> EscalationTrigger | None:
    """Decide from the transcript alone whether the caller should reach a human.

    Looks at the newest caller utterance (phrases), the last three caller utterances
    (frustration) and the agent's last ``rules.loop_turns`` utterances that the caller
    answered (loop). Frustration gives priority ``high``, the rules' default otherwise
    (a phrase with a frustrated caller is ``high`` too). ``(unintelligible audio)`` markers
    are ignored. Returns ``None`` when no rule fires.
    """
    newest_user: str | None = None
    user_texts: list[str] = []
    agent_texts: list[str] = []
    answered = False
    loop_turns = rules.loop_turns
    for utterance in reversed(transcript):
        role = utterance.role
        if role == "user":
            text = _clean(_tail(utterance.content))
            if newest_user is None:
                newest_user = text
            if text:
                answered = True
                if len(user_texts) < _FRUSTRATION_WINDOW:
                    user_texts.append(text)
        elif role == "agent" and answered:
            # Only lines the caller answered: repeated reminders to a silent line are not a loop.
            answered = False
            if len(agent_texts) < loop_turns:
                agent_texts.append(_tail(utterance.content))
        if len(agent_texts) >= loop_turns and len(user_texts) >= _FRUSTRATION_WINDOW:
            break
    if not user_texts:
        return None
    matchers = _matchers_for(rules)
    score, why = frustration_score(user_texts, rules)
    frustrated = score >= rules.frustration_threshold
    default: Priority = rules.default_priority
    phrase = _phrase_hit(matchers.trigger, newest_user) if newest_user else None
    if phrase is not None:
        return EscalationTrigger(
            reason="caller asked for a person",
            trigger="phrase",
            priority="high" if frustrated else default,
            detail=phrase.lower(),
        )
    if frustrated:
        return EscalationTrigger(
            reason="caller is frustrated",
            trigger="frustration",
            priority="high",
            detail=f"score {score}: {', '.join(dict.fromkeys(why))}",
        )
    if len(agent_texts) >= rules.loop_turns and _looping(agent_texts):
        return EscalationTrigger(
            reason="conversation is going in circles",
            trigger="loop",
            priority=default,
            detail=f"agent repeated itself {rules.loop_turns} times",
        )
    return None
