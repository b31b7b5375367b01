"""Rule-based escalation: when the caller needs a human, and whether one can take the call.

:func:`detect_escalation` runs on every turn before the brain, so it is a handful of
precompiled regular expressions over at most the last few utterances (microseconds, no
allocation proportional to the call's length). Three rules, in order:

* **phrase**: the newest caller utterance clearly asks for a person ("put me through to
  billing", "can I speak to a manager", "operator"), as ``agent/intent.py`` reads it. A
  word alone is no request ("I'm only human", "my manager asked me to book", "are you a
  real person?"), and indirect requests ("is there someone I can talk to?") are left to
  the brain: the LLM judges them, the flow brain reads them itself;
* **frustration**: a score over the last three caller utterances reaches
  ``rules.frustration_threshold``; repeated negations ("no no no") score one per repeat,
  a frustration phrase or a profanity two, shouting in capitals one. A single "no" (as in
  "no, Thursday please") scores nothing;
* **loop**: no progress over the agent's last ``rules.loop_turns`` answered utterances:
  the same line or the same question each time, nothing new in them (no new times, dates
  or details, nothing taken from the caller's answers), and a newest reply that neither
  agrees nor gives what was asked. "Which would suit you?" after new offers, or "Shall I
  book it?" answered "yes", is progress, never a loop.

Whether a human can take the call, and what is said when nobody can, is decided in
``tools/handoff.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

from voiceops.agent.intent import person_request
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
_SCAN_PER_TURN = 4
"""Transcript lines read per loop turn and frustration utterance at most: the rules look
at the newest lines only, however long the call."""

# What a caller's reply gives. A value: a time, a date, a number, a pick from a list.
_VALUE = re.compile(
    r"\b(?:\d+(?:st|nd|rd|th)?|noon|midday|midnight|morning|afternoon|evening|tonight|today"
    r"|tomorrow|weekend|(?:mon|tues|wednes|thurs|fri|satur|sun)days?|january|february|march"
    r"|april|may|june|july|august|september|october|november|december|first|second|third"
    r"|fourth|fifth|last|earliest|latest|earlier|later|either|whenever|o'clock|half past"
    r"|quarter)\b|\b[ap]\.?m\b",
    re.IGNORECASE,
)
_AFFIRM = re.compile(
    r"^\W*(?:(?:oh|well|um|uh|so|okay|ok)\W+)?(?:yes|yeah|yep|yup|ya|sure|certainly|correct"
    r"|right|ok|okay|alright|all right|perfect|great|lovely|absolutely|definitely|of course"
    r"|please|go ahead|do it|book it|fine|uh huh|mhm|that's right|that is right|that's correct"
    r"|that works|sounds good|sounds great|works for me)\b",
    re.IGNORECASE,
)
_DENY = re.compile(r"^\W*(?:(?:oh|well|um|uh)\W+)?(?:no|nope|nah|not really)\b", re.IGNORECASE)
_NOT_AN_ANSWER = frozenset(
    """
    um umm uh uhh uhm hmm hm er erm ah oh well what sorry pardon huh eh i don't dont know not
    sure again say come repeat that the a an one it is and so like mean wait hold on hello
    hi you me there can could please
    """.split()
)
"""Words that carry no answer: "umm", "what?", "sorry, say that again", "I don't know"."""
_ECHO_MIN_LETTERS = 3

# What an agent question asks for, judged from its words.
_ASKS_NAME = re.compile(r"\bname\b")
_ASKS_NUMBER = re.compile(r"\b(?:number|phone)\b")
_ASKS_YES_NO = re.compile(
    r"^\W*(?:shall|should|can|could|would|will|do|does|did|is|are|was|am|have|has|may)\b"
)
_ASKS_WHEN = re.compile(r"\b(?:day|date|when|time|which|suit|work|works|option|one)\b")


@dataclass(frozen=True, slots=True)
class _Matchers:
    frustration: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class _Exchange:
    """An agent line the caller answered, and the caller's answer (their lines until the
    agent spoke again)."""

    agent: str
    reply: str


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
    """The compiled frustration patterns, built once per profile."""
    return rules.derived("escalation.matchers", _compile_matchers)


def _compile_matchers(rules: EscalationRules) -> _Matchers:
    return _Matchers(_alternation(tuple(rules.frustration_phrases)))


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


def _question_of(text: str) -> str:
    """The last question of an agent line, lower case; empty when it asks none."""
    questions = _SENTENCES.findall(text)
    return questions[-1].lower().strip() if questions else ""


@lru_cache(maxsize=_CACHE_SIZE)
def _values(text: str) -> frozenset[str]:
    """The times, dates, numbers and picks in ``text``, lower case."""
    return frozenset(m.group(0).lower() for m in _VALUE.finditer(text))


@lru_cache(maxsize=_CACHE_SIZE)
def _content(text: str) -> frozenset[str]:
    """The words of ``text`` that could be an answer (not "umm", "what", "sorry")."""
    return frozenset(
        w for w in _WORDS.findall(text.lower()) if w not in _NOT_AN_ANSWER and len(w) > 1
    )


def _answered(reply: str, question: str) -> bool:
    """Whether ``reply`` agrees, or gives what ``question`` asks for (judged from its words:
    a name, a number, a yes or no, a time or a date; anything with words in it otherwise).
    Without a question only an agreement or a value counts."""
    if _AFFIRM.match(reply):
        return True
    if not question:
        return bool(_values(reply))
    if _ASKS_NAME.search(question):
        return bool(_content(reply))
    if _ASKS_NUMBER.search(question):
        return any(ch.isdigit() for ch in reply) or "number" in reply.lower()
    if _ASKS_YES_NO.search(question) and _DENY.match(reply):
        return True
    if _ASKS_YES_NO.search(question) or _ASKS_WHEN.search(question):
        return bool(_values(reply))
    return bool(_content(reply))


def _moved_on(older: _Exchange, newer: _Exchange) -> bool:
    """Whether the agent's newer line shows progress over its older one: values it did not
    have (new times offered, a date taken), or words it took from the caller's answer to
    the older one ("Added a beard trim.")."""
    if _values(newer.agent) - _values(older.agent):
        return True
    taken = _content(older.reply) & _normalise(newer.agent) - _normalise(older.agent)
    return any(len(word) >= _ECHO_MIN_LETTERS for word in taken)


def _looping(exchanges: Sequence[_Exchange]) -> bool:
    """``exchanges`` newest first. True when the agent keeps asking the same (the same
    line, or the same question), nothing in its lines moved on, and the caller's newest
    reply neither agreed nor answered."""
    agent_texts = [e.agent for e in exchanges]
    first = _normalise(agent_texts[0])
    if not first:
        return False
    if not all(_similar(first, _normalise(t)) for t in agent_texts[1:]):
        questions = _SENTENCES.findall(agent_texts[0])
        if not questions or _CLOSER.search(questions[-1].lower()):
            return False
        question = _last_question(agent_texts[0])
        if not question or not all(_similar(question, _last_question(t)) for t in agent_texts[1:]):
            return False
    newest = exchanges[0]
    if _answered(newest.reply, _question_of(newest.agent)):
        return False
    return not any(_moved_on(older, newer) for newer, older in pairwise(exchanges))


def detect_escalation(
    transcript: Sequence[Utterance], rules: EscalationRules
) -> EscalationTrigger | None:
    """Decide from the transcript alone whether the caller should reach a human.

    Looks at the newest caller utterance (phrases), the last three caller utterances
    (frustration) and the agent's last ``rules.loop_turns`` utterances that the caller
    answered, with the answers (loop); never more than a few dozen lines back. Frustration
    gives priority ``high``, the rules' default otherwise (a phrase with a frustrated
    caller is ``high`` too). ``(unintelligible audio)`` markers are ignored. Returns
    ``None`` when no rule fires.
    """
    loop_turns = rules.loop_turns
    newest_user, user_texts, exchanges = _scan(transcript, loop_turns)
    if not user_texts:
        return None
    score, why = frustration_score(user_texts, rules)
    frustrated = score >= rules.frustration_threshold
    default: Priority = rules.default_priority
    request = person_request(newest_user, rules) if newest_user else None
    if request is not None and request.clarity == "clear":
        return EscalationTrigger(
            reason=request.reason,
            trigger="phrase",
            priority="high" if frustrated else default,
            detail=request.who or "a transfer",
        )
    if frustrated:
        return EscalationTrigger(
            reason="caller is frustrated",
            trigger="frustration",
            priority="high",
            detail=f"score {score}: {', '.join(dict.fromkeys(why))}",
        )
    if len(exchanges) >= loop_turns and _looping(exchanges):
        return EscalationTrigger(
            reason="conversation is going in circles",
            trigger="loop",
            priority=default,
            detail=f"no progress over {loop_turns} agent turns",
        )
    return None


def _scan(
    transcript: Sequence[Utterance], loop_turns: int
) -> tuple[str | None, list[str], list[_Exchange]]:
    """Newest first, a few dozen lines at most: the newest caller utterance, the last
    caller utterances (for frustration) and the agent's last answered lines with their
    answers (for loops)."""
    newest_user: str | None = None
    user_texts: list[str] = []
    exchanges: list[_Exchange] = []
    reply: list[str] = []
    limit = _SCAN_PER_TURN * (loop_turns + _FRUSTRATION_WINDOW)
    for scanned, utterance in enumerate(reversed(transcript)):
        if scanned >= limit:
            break
        role = utterance.role
        if role == "user":
            text = _clean(_tail(utterance.content))
            if newest_user is None:
                newest_user = text
            if text:
                reply.append(text)
                if len(user_texts) < _FRUSTRATION_WINDOW:
                    user_texts.append(text)
        elif role == "agent" and reply:
            # Only lines the caller answered: repeated reminders to a silent line are not a loop.
            if len(exchanges) < loop_turns:
                exchanges.append(_Exchange(_tail(utterance.content), " ".join(reversed(reply))))
            reply = []
        if len(exchanges) >= loop_turns and len(user_texts) >= _FRUSTRATION_WINDOW:
            break
    return newest_user, user_texts, exchanges
