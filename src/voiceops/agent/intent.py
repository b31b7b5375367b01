"""Does the caller ask for a person? And do they ask what the agent is?

A word such as "manager", "human" or "real person" is not a request: "my manager asked me to
book", "I'm only human" and "are you a real person?" ask for nobody. :func:`person_request`
reads one caller utterance as a request only when a request governs the person word, in the
same clause:

* a request verb before it: "put me through to", "transfer me to", "can I speak to",
  "I'd like to talk to", "let me talk to", "get me", "I want / need a";
* a question that asks for one: "is there someone I can talk to?", "anyone there I could
  speak with?", "who do I speak to about ...?", "is the owner available to talk?", "can
  someone call me back?", "could somebody give me a call?";
* or the person alone: "operator", "a human, please", "billing, please".

It is not a request when negated ("I don't need a manager", "please don't transfer me"),
reported ("my manager said I need to talk to the owner"), about the caller's own people
("let me talk to my manager first"), or a person wanted for a service ("I need someone to
cut my hair", "can I get the owner for my colour").

Requests come in two strengths. ``clear`` ones say it in so many words ("put me through to
billing", "can I speak to a manager", "representative"); ``indirect`` ones ask around it
("is there someone I can talk to?", "can someone call me back?", "I don't want to talk to a
robot"). The rule that runs before every brain (``agent/escalation.py``) acts on clear
requests only, a safety net under the LLM, which judges the rest itself; the flow brain,
which has no model to judge, takes both.

:func:`asks_what_agent_is` spots "are you a robot?", "am I talking to a real person?":
questions that deserve an honest answer, not a transfer.

Everything is precompiled regular expressions over one utterance, linear in its length and
cached by text: microseconds per turn. ``tests/data/escalation/`` holds the labelled
utterances these rules are measured on (``scripts/escalation_report``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from voiceops.agent.intent_grammar import (
    ASKED_ABOUT,
    CLAUSES,
    DENIED_WISH,
    FOR_A_SERVICE,
    GENERIC,
    NAMED,
    NEGATION,
    NEGATION_REACH,
    NOT_NAMES,
    POSSESSIVE,
    QUOTES,
    SUBJECT_FIRST,
    TOPIC,
    WHAT_ARE_YOU,
    WORDS,
    Clarity,
    Matcher,
    matcher_for,
    normalise,
)

if TYPE_CHECKING:
    from voiceops.core.profile import EscalationRules

_WINDOW = 120
"""Characters before a request searched for what undoes it (a negation, reported speech):
the words next to it, not all the text before it again for every request."""
_ALONE_MAX = 80
"""An utterance longer than this is never a person said alone ("operator, please")."""
_CACHE_SIZE = 4096
_TOPIC_MAX = 80

MAX_CHARS = 1000
"""Only the last this many characters of an utterance are read, from a word (a request ends
a ramble; the flow brain reads the last 2,000 for everything else)."""
_BREAK = re.compile(r"\s")

_REPORTED = re.compile(
    r"(?<!\bi )(?<!\bwe )\b(?:said|says|told|tells|suggested|recommended|mentioned"
    r"|(?:asked|asks|wants|wanted)\s+(?:me|us|him|her|them))\b"
)
"""Reported speech before a request: someone else wants the person ("my manager said")."""


def last_words(text: str) -> str:
    """At most the last ``MAX_CHARS`` characters of ``text``, from a word."""
    if len(text) <= MAX_CHARS:
        return text
    tail = text[-MAX_CHARS:]
    cut = None if text[-MAX_CHARS - 1].isspace() else _BREAK.search(tail)
    return tail[cut.end() :] if cut is not None else tail


# --------------------------------------------------------------------------------------
# the result


@dataclass(frozen=True, slots=True)
class PersonRequest:
    """A caller's request for a person, as said."""

    clarity: Clarity
    who: str = ""
    """Whom they asked for, in their words ("billing", "a manager"); empty for "transfer me"."""
    topic: str = ""
    """What about, in their words ("my bill"), when they said."""

    @property
    def named(self) -> bool:
        """They asked for a role or a team, not just "someone" or "a person"."""
        return bool(self.who) and GENERIC.fullmatch(self.who) is None

    @property
    def reason(self) -> str:
        """The escalation reason: whom and what about, which picks the number to transfer to
        (``tools/handoff.py``)."""
        reason = f"caller asked for {self.who}" if self.named else "caller asked for a person"
        return f"{reason}, about {self.topic}" if self.topic else reason


# --------------------------------------------------------------------------------------
# reading


def _negated(prefix: str) -> bool:
    """A negation among the last few words of ``prefix`` that is not a question's ("can't
    you", "why don't you")."""
    words = prefix.split()
    near = " ".join(words[-NEGATION_REACH:])
    return any(m.group("inverted") is None for m in NEGATION.finditer(near))


def _read_clause(clause: str, matcher: Matcher) -> PersonRequest | None:
    found: PersonRequest | None = None
    words = frozenset(WORDS.findall(clause))
    if words.isdisjoint(matcher.cues):
        return None
    for frame in matcher.frames:
        if words.isdisjoint(frame.needs):
            continue
        for match in frame.pattern.finditer(clause):
            prefix = clause[max(0, match.start() - _WINDOW) : match.start()]
            if _REPORTED.search(prefix) or DENIED_WISH.search(prefix):
                continue
            if frame.subjectless and _negated(prefix):
                continue
            if ASKED_ABOUT.search(prefix) and SUBJECT_FIRST.match(clause, match.start()):
                continue
            rest = clause[match.end() :]
            if POSSESSIVE.match(rest):
                continue
            if frame.for_service and FOR_A_SERVICE.match(rest):
                continue
            who = (match.groupdict().get("who") or "").strip()
            request = PersonRequest(frame.clarity, who)
            if frame.clarity == "clear":
                return request
            found = found or request
            break
    return found


@lru_cache(maxsize=_CACHE_SIZE)
def _read(text: str, raw: str, matcher: Matcher) -> PersonRequest | None:
    best: PersonRequest | None = None
    for clause in CLAUSES.split(text):
        if not clause:
            continue
        request = _read_clause(clause, matcher)
        if request is not None and (best is None or request.clarity == "clear"):
            best = request
            if request.clarity == "clear":
                break
    if best is None and len(text) <= _ALONE_MAX:
        bare = CLAUSES.sub(" ", text).strip()
        if bare and matcher.alone.fullmatch(bare):
            best = PersonRequest("clear", _trim_alone(bare))
    if best is None:
        named = NAMED.search(raw)
        if named is not None and named.group("name").lower() not in NOT_NAMES:
            best = PersonRequest("indirect", named.group("name"))
    if best is None:
        return None
    topic = TOPIC.search(text)
    if topic is not None:
        return PersonRequest(best.clarity, best.who, topic.group("topic").strip()[:_TOPIC_MAX])
    return best


_ALONE_EDGES = re.compile(
    r"^(?:(?:please|yes|yeah|no|okay|ok|hi|hello|just|so)\s+)+|(?:\s+(?:please|now|right now"
    r"|immediately|thanks|thank you))+$"
)


def _trim_alone(bare: str) -> str:
    words = _ALONE_EDGES.sub("", bare).split()
    # "Human! Human!": the person once.
    half = len(words) // 2
    if half and words[:half] == words[half:]:
        words = words[:half]
    return " ".join(words)


def person_request(text: str, rules: EscalationRules | None = None) -> PersonRequest | None:
    """The caller's request for a person in ``text`` (one utterance), or ``None``.

    ``rules`` adds a profile's trigger phrases to the person words. See the module
    docstring for what counts.
    """
    matcher = matcher_for(rules)
    tail = last_words(text)
    if matcher.cues.isdisjoint(WORDS.findall(tail.translate(QUOTES).lower())):
        return None  # the common case: a booking, a date, a yes
    normalised = normalise(tail)
    if not normalised:
        return None
    return _read(normalised, tail, matcher)


def wants_person(text: str, rules: EscalationRules | None = None) -> bool:
    """Whether ``text`` asks for a person, clearly or not (the flow brain's reading)."""
    return person_request(text, rules) is not None


@lru_cache(maxsize=_CACHE_SIZE)
def asks_what_agent_is(text: str) -> bool:
    """Whether ``text`` asks if the agent is a person or a machine ("are you a robot?",
    "am I talking to a real person?", "who am I speaking to?")."""
    return WHAT_ARE_YOU.search(normalise(last_words(text))) is not None
