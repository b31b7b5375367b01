"""Does the caller ask for a person? And do they ask what the agent is?

A word such as "manager", "human" or "real person" is not a request: "my manager asked me to
book", "I'm only human" and "are you a real person?" ask for nobody. :func:`person_request`
reads one caller utterance as a request only when a request governs the person word, in the
same clause:

* a request verb before it: "put me through to", "transfer me to", "can I speak to",
  "I'd like to talk to", "let me talk to", "get me", "I want / need a";
* a question that asks for one: "is there someone I can talk to?", "who do I speak to
  about ...?", "is the owner available to talk?", "can someone call me back?";
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
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from voiceops.core.profile import EscalationRules

Clarity = Literal["clear", "indirect"]

MAX_CHARS = 1000
"""Only the last this many characters of an utterance are read, from a word (a request ends
a ramble; the flow brain reads the last 2,000 for everything else)."""
_WINDOW = 120
"""Characters before a request searched for what undoes it (a negation, reported speech):
the words next to it, not all the text before it again for every request."""
_ALONE_MAX = 80
"""An utterance longer than this is never a person said alone ("operator, please")."""
_CACHE_SIZE = 4096
_TOPIC_MAX = 80

# --------------------------------------------------------------------------------------
# who a caller may ask for

_DEPARTMENT = (
    r"(?:billing|accounts?|accounting|payments?|customer\s+(?:service|support|care)|support"
    r"|sales|reception|front\s+desk|(?:the\s+)?office)"
)
_DEPARTMENT_HEAD = _DEPARTMENT + r"(?:\s+(?:department|dept|team|desk|line|office|people|folks))?"
_ROLE = (
    r"(?:manager|management|supervisor|boss|owner|representative|rep|agent|operator"
    r"|receptionist|staff(?:\s+members?)?|team\s+members?|members?\s+of\s+(?:staff|the\s+team)"
    r"|team|colleague|employee"
    r"|(?:someone|somebody|a\s+person|person)\s+in\s+charge"
    r"|whoever(?:'s|\s+is)\s+in\s+charge"
    r"|whoever\s+(?:handles|deals\s+with|does|looks\s+after|is\s+in)\s+\w+)"
)
_HUMAN = r"(?:human(?:\s+beings?)?(?!\s+(?:hair|resources|rights|error|nature|race|body|touch))s?)"
_PERSON = r"(?:person|people|someone\s+real|somebody\s+real)"
_PRONOUN = r"(?:someone|somebody|anyone|anybody)(?:\s+else)?"
_STAFF = r"(?:stylists?|hairdressers?|barbers?|colou?rists?)"
"""Staff who also do the services: a person to talk to only after "speak to", "put me
through to"; "I want a stylist" is a booking."""

_DETERMINER = (
    r"(?:(?:a|an|the|your|some|any|another|one\s+of\s+(?:the|your)|a\s+member\s+of"
    r"|(?:someone|somebody|anyone|a\s+person)\s+(?:from|in|at)(?:\s+the)?)\s+)?"
)
_OWN_STAFF = r"(?:(?:my|our)\s+(?=" + _STAFF + r"))?"
""""My stylist" is the salon's; "my manager", "my boss" are the caller's own."""
_ADJECTIVES = (
    r"(?:(?:real|actual|live|proper|human|other|different|senior|another|salon|head|general"
    r"|duty|shop|store|new)\s+){0,2}"
)
_TAIL = (
    r"(?:\s+(?:from|in)(?:\s+the)?\s+\w+|\s+(?:at|on)\s+the\s+(?!phone|line)\w+)?"
    r"(?:\s+(?:department|team|desk))?"
)
"""Where the person sits: "someone in billing", "somebody at the front desk"."""

# --------------------------------------------------------------------------------------
# the request frames

_SUBJECT = r"(?:i|we)(?:'d|'ll|'m|\s+would|\s+will|\s+am|\s+do|\s+really)?"
_ADVERBS = (
    r"(?:\s+(?:really|just|actually|only|simply|honestly|still|now|kindly|definitely"
    r"|seriously|please|quickly))*"
)
_GAP = r"(?:\s+(?:please|just|now|quickly|maybe|actually|really|right\s+now|urgently))*\s+"
_WISH = (
    r"(?:like|love|prefer|want(?:ed)?|need(?:ed)?|wanna|gotta|got\s+to|have|must|demand|insist"
    r"|rather|sooner|request|going\s+to\s+(?:need|have)|trying|hoping|calling|looking|asking"
    r"|wanting|needing|ask)"
)
_WANT_TO = _SUBJECT + _ADVERBS + r"\s+" + _WISH + r"(?:\s+to)?" + _ADVERBS
""""I'd like to", "I want to", "I need to", "I'd rather", "I'm trying to", "I must"."""
_MAY_I = r"(?:(?:why|how)\s+)?(?:can|could|may|might|can't|cannot|couldn't)\s+(?:i|we)" + _ADVERBS
_LET_ME = r"(?:(?:can|could|would|will)\s+you\s+)?(?:let|allow)\s+me(?:\s+to)?" + _ADVERBS
_POSSIBLE = (
    r"(?:is\s+it\s+possible|would\s+it\s+be\s+possible|any\s+chance\s+(?:i|we)\s+(?:can|could)"
    r"|is\s+there\s+(?:any\s+)?way\s+(?:(?:i|we)\s+(?:can|could)|to))(?:\s+to)?" + _ADVERBS
)
_START = (
    r"^(?:(?:please|just|ok|okay|yes|yeah|yep|so|hi|hello|hey|now|well|look|listen|oh|right"
    r"|and|then|actually|alright|sorry|excuse\s+me)\s+)*"
)
"""The start of a clause, before an imperative: "please speak to", "just get me"."""
_SPEAK = (
    r"(?:(?:speak|talk|chat|have\s+a\s+(?:quick\s+)?(?:word|chat)|deal|get\s+through|get\s+in"
    r"\s+touch|be\s+(?:put\s+through|transferred|connected|passed(?:\s+on)?|forwarded|sent"
    r"|switched|put\s+on))\s+(?:to|with)|reach|contact|get\s+hold\s+of)"
)
_SPEAK_PLAIN = r"(?:speak|talk|chat)\s+(?:to|with)"
_HAND_OVER = (
    r"(?:put|patch|pass|hand|send|switch|forward|connect|transfer|redirect|route|get)\s+"
    r"(?:me|us|my\s+call|this\s+call|the\s+call)(?:\s+(?:through|over|across|on|back))?"
    r"\s+(?:to|with|onto)"
)
_HAND_OVER_ALONE = (
    r"(?:(?:transfer|connect|forward|redirect)\s+(?:me|us|my\s+call|this\s+call|the\s+call)"
    r"|(?:put|patch|get)\s+(?:me|us|my\s+call|this\s+call)\s+through"
    r"|(?:be|get)\s+(?:transferred|put\s+through|connected))(?!\s+(?:to|with|onto)\b)(?!\w)"
)
_ACQUIRE_MINE = (
    r"(?:" + _SUBJECT + _ADVERBS + r"\s+(?:want|need|like|love|prefer|demand|request|require"
    r"|wanna|rather\s+have|(?:asking|looking)\s+for|like\s+to\s+ask\s+for)"
    r"|(?:can|could|may|might)\s+(?:i|we)"
    + _ADVERBS
    + r"\s+(?:have|get|ask\s+for|request))"
    + _ADVERBS
)
_ACQUIRE_FOR_ME = (
    r"(?:(?:can|could|would|will)\s+you" + _ADVERBS + r"\s+(?:get|find|fetch|grab|bring)(?:\s+me)?"
    r"|let\s+me\s+have|(?:get|give|find|fetch|bring)\s+me|gimme"
    r"|" + _START + r"(?:get|give|find|fetch|bring))" + _ADVERBS
)
_ACQUIRE = r"(?:" + _ACQUIRE_MINE + "|" + _ACQUIRE_FOR_ME + ")"
"""Asking to be given someone: "get me a manager", "I need a human", "can I have the owner"."""
_CALL_ME = r"(?:\s+please)?\s+(?:call|ring|phone|get\s+back\s+to)\s+(?:me|us)\b"

_NEGATION = re.compile(
    r"\b(?:not|never|no\s+need|no\s+one|nobody|without|instead\s+of|rather\s+not|don't|dont"
    r"|do\s+not|doesn't|didn't|won't|wouldn't|shouldn't|can't|cannot|couldn't|stop)\b"
    r"(?P<inverted>\s+(?:you|i|we)\b)?"
)
_NEGATION_REACH = 5
"""Words before a subjectless request in which a negation still governs it."""
_DENIED_WISH = re.compile(
    r"\b(?:(?:don't|didn't|never|not)\s+(?:think|say|said|mean|meant|ask|asked|sure|know)"
    r"|wonder(?:ing)?|doubt|unsure)\b"
)
""""I never said I want a manager": a wish quoted to deny it."""
_ASKED_ABOUT = re.compile(
    r"\b(?:should|shall|do|did|does|when|if|whether|before|after|until|unless|once|where|what"
    r"|how|why)\s*$"
)
""""Should I ask for the manager?", "do I need a manager?": a wish asked about, not made."""
_REPORTED = re.compile(
    r"(?<!\bi )(?<!\bwe )\b(?:said|says|told|tells|suggested|recommended|mentioned"
    r"|(?:asked|asks|wants|wanted)\s+(?:me|us|him|her|them))\b"
)
_SUBJECT_FIRST = re.compile(r"(?:i|we)\b")
_POSSESSIVE = re.compile(r"'s\b")
_FOR_A_SERVICE = re.compile(
    r"\s+(?:(?:to|who|that)(?:'s|\s+is|\s+can|\s+could|\s+will|\s+would)?\s+(?:do|does|cut|cuts"
    r"|trim|trims|colou?r|colou?rs|dye|style|styles|shave|wash|blow|book|see|fit|be\s+good|good"
    r"|great|specialis\w*|specializ\w*|works?\s+(?:on|with))\b"
    r"|for\s+(?:my|a|an|the|his|her|their)\b(?!\s+(?:second|minute|moment|sec|bit|chat|word))"
    r"|on\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|the\s+\d|\d)"
    r"|at\s+(?:\d|noon|half)|(?:this|next)\s+(?:morning|afternoon|evening|week|\w+day)"
    r"|tomorrow|today|tonight)"
)
"""After an acquired person: they are wanted for a service, not to talk to."""
_ROBOT = (
    r"(?:(?:i|we)\s+(?:don't|do\s+not|dont)\s+want\s+to\s+(?:speak|talk|deal)\s+(?:to|with)"
    r"|(?:i'm|i\s+am)\s+not\s+(?:speaking|talking)\s+(?:to|with)|no\s+more"
    r"|(?:stop|enough)\s+with|(?:tired|sick)\s+of\s+(?:talking|speaking)\s+(?:to|with)"
    r"|(?:i|we)\s+(?:refuse|won't|will\s+not)\s+(?:to\s+)?(?:speak|talk)\s+(?:to|with))"
    r"\s+(?:a\s+|an\s+|the\s+|this\s+|some\s+)?(?:robots?|machines?|computers?|bots?|chatbots?"
    r"|recordings?|automated|automatic|ai|artificial)\b"
)
_WHO_DO_I = r"\bwho\s+(?:can|could|should|do|would|shall|must)\s+(?:i|we)\s+" + _SPEAK_PLAIN
_ESCALATE = r"(?:(?:want|need|like|have)\s+to|(?:can|could|would|will)\s+you|please|^)\s*escalate\b"
_CALLBACK = r"(?:" + _ACQUIRE + r")\s+(?:a\s+)?call\s*back\b"

_NAMED = re.compile(
    r"(?i:(?:(?:can|could|may)\s+i(?:\s+please)?|(?:i'd|i\s+would)\s+like\s+to"
    r"|i\s+(?:want|need)\s+to|let\s+me)\s+(?:speak|talk)\s+(?:to|with))"
    r"\s+(?P<name>[A-Z][a-z'\-]+)\b"
)
"""A named person: "can I speak to Sarah?" (a capitalised name, as speech-to-text writes it)."""
_NOT_NAMES = frozenset(
    "i monday tuesday wednesday thursday friday saturday sunday january february march april"
    " may june july august september october november december god you".split()
)

_SPEAKS = frozenset(
    "speak talk chat word deal through touch transferred connected passed forwarded sent"
    " switched put reach contact hold".split()
)
_HANDS = frozenset(
    "put patch pass hand send switch forward connect transfer redirect route get".split()
)
_TRANSFERS = frozenset("transfer connect forward redirect through transferred connected".split())
_PUTS = frozenset({"put", "get"})
_WISHES = frozenset(
    "want wanted need needed like love prefer demand request require wanna rather asking"
    " looking have get ask".split()
)
_FETCHES = frozenset("get give gimme find fetch grab bring have".split())
_POSSIBLES = frozenset({"possible", "chance", "way"})
_ASKS = frozenset("is are do don't does doesn't have got".split())
_CALLS = frozenset("call callback ring phone back".split())
_MACHINES = frozenset(
    "robot robots machine machines computer computers bot bots chatbot chatbots recording"
    " recordings automated automatic ai artificial".split()
)
_PERSON_WORDS = frozenset(
    "billing account accounts accounting payment payments customer support sales reception"
    " desk office manager management supervisor boss owner representative rep agent operator"
    " receptionist staff team colleague employee whoever human humans person people someone"
    " somebody anyone anybody stylist stylists hairdresser hairdressers barber barbers"
    " colourist colourists colorist colorists member members".split()
)
_CUES = (
    _PERSON_WORDS
    | _MACHINES
    | frozenset(
        "transfer transferred connect connected through forward forwarded redirect escalate"
        " callback back speak talk chat reach contact".split()
    )
)

# --------------------------------------------------------------------------------------
# what the agent is

_MACHINE = (
    r"(?:a\s+|an\s+)?(?:(?:real|actual|live)\s+(?:person|human(?:\s+being)?|people|voice)"
    r"|(?:real|human)(?=\s*(?:$|[?,.!]|or\b))|human\s+being|person|robot|bot|chatbot|machine"
    r"|computer|ai|a\.i\.|artificial|automated|automatic|recording|recorded|virtual"
    r"|answering\s+(?:service|machine)|someone\s+real)\b"
    r"(?!\s+(?:hair|extensions?|wigs?|resources|rights|error|prices?))"
)
_WHAT_ARE_YOU = re.compile(
    r"\b(?:are|r)\s+(?:you|u)\s+"
    + _MACHINE
    + r"|\b(?:am\s+i|are\s+we)\s+(?:talking|speaking|chatting)\s+(?:to|with)\s+"
    + _MACHINE
    + r"|\b(?:is|was)\s+(?:this|that|it)\s+(?:the\s+\w+\s+or\s+)?"
    + _MACHINE
    + r"|\bwho\s+am\s+i\s+(?:talking|speaking)\s+(?:to|with)\b|\bwho\s+is\s+this\b"
    + r"|\byou(?:'re|\s+are)\s+(?:a|an)\s+(?:robot|bot|machine|computer|ai)\b[^.!?]{0,80}\?"
)

# --------------------------------------------------------------------------------------
# normalising

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": " ", "\u201d": " ", '"': " "})
_UNINTELLIGIBLE = re.compile(r"\(\s*unintelligible audio\s*\)")
_FILLER = re.compile(r",?\s*+\b(?:u+m+|u+h+m*|e+r+m*|h+m+|a+h+)\b\s*+,?")
_BREAK = re.compile(r"\s")
_HAS_FILLER = re.compile(r"\b(?:u+m+|u+h+m*|e+r+m*|h+m+|a+h+)\b")
_SPACES = re.compile(r"\s+")
_CLAUSES = re.compile(r"\s*(?:[.!?;:]+|,|\s+-+\s+|\s+(?:but|because|cause|cos)\s+)\s*")
_WORDS = re.compile(r"[a-z']+")


def _tail(text: str) -> str:
    """At most the last ``MAX_CHARS`` characters of ``text``, from a word."""
    if len(text) <= MAX_CHARS:
        return text
    tail = text[-MAX_CHARS:]
    cut = None if text[-MAX_CHARS - 1].isspace() else _BREAK.search(tail)
    return tail[cut.end() :] if cut is not None else tail


def _normalise(text: str) -> str:
    """Lower case, plain quotes, single spaces; no "(unintelligible audio)", no "um"."""
    lowered = _SPACES.sub(" ", text.translate(_QUOTES).lower())
    if "(" in lowered:
        lowered = _UNINTELLIGIBLE.sub(" ", lowered)
    if _HAS_FILLER.search(lowered):
        lowered = _SPACES.sub(" ", _FILLER.sub(" ", lowered))
    return lowered.strip()


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
        return bool(self.who) and _GENERIC.fullmatch(self.who) is None

    @property
    def reason(self) -> str:
        """The escalation reason: whom and what about, which picks the number to transfer to
        (``tools/handoff.py``)."""
        reason = f"caller asked for {self.who}" if self.named else "caller asked for a person"
        return f"{reason}, about {self.topic}" if self.topic else reason


_GENERIC = re.compile(
    r"(?:(?:a|an|the|some|any|another)\s+)?(?:(?:real|actual|live|proper|other|different)\s+)*"
    r"(?:" + _HUMAN + "|" + _PERSON + "|" + _PRONOUN + r"|one"
    r"|(?:someone|somebody|anyone|a\s+person)\s+at\s+the\s+(?:salon|front\s+desk)"
    r"|(?:the\s+)?(?:front\s+desk|reception|receptionist|salon|staff|team|people(?:\s+at\s+the"
    r"\s+salon)?))"
)
"""Whom to ask for that names no one in particular: they go to the default number."""
_TOPIC = re.compile(r"\b(?:about|regarding|concerning)\s+(?P<topic>[^.,;!?]+)")


@dataclass(frozen=True, slots=True)
class _Frame:
    pattern: re.Pattern[str]
    clarity: Clarity
    subjectless: bool
    """No "I" of its own ("transfer me", "get me"): a negation before it governs it."""
    for_service: bool = False
    """An acquired person ("I need someone ..."): the words after may make it a service."""
    needs: frozenset[str] = frozenset()
    """Words of which the clause must hold one for the pattern to be worth trying."""


@dataclass(frozen=True, slots=True, eq=False)
class Matcher:
    """The compiled rules for one set of person words (built-in, plus a profile's own).
    Compared and hashed by identity: it keys the per-text cache."""

    frames: tuple[_Frame, ...]
    alone: re.Pattern[str]
    cues: frozenset[str]
    """Words of which an utterance must hold one to be read at all: the person words, and
    the verbs of the frames that need none ("transfer me", "I don't want a robot")."""


def _frames(extra: str) -> Matcher:
    """Compile the frames; ``extra`` is an alternation of a profile's own person words."""
    own = f"|{extra}" if extra else ""
    talkable = (
        rf"(?P<who>{_OWN_STAFF}{_DETERMINER}{_ADJECTIVES}"
        rf"(?:{_DEPARTMENT_HEAD}|{_ROLE}|{_HUMAN}|{_PERSON}|{_PRONOUN}|{_STAFF}|one{own}){_TAIL})"
        r"(?!\w)"
    )
    wanted = (
        rf"(?P<who>{_DETERMINER}{_ADJECTIVES}"
        rf"(?:{_DEPARTMENT_HEAD}|{_ROLE}|{_HUMAN}|{_PERSON}|{_PRONOUN}{own}){_TAIL})(?!\w)"
    )
    plain_wanted = (
        rf"(?P<who>{_DETERMINER}{_ADJECTIVES}(?:{_DEPARTMENT_HEAD}|{_ROLE}|{_HUMAN}|{_PERSON}"
        rf"{own}){_TAIL})(?!\w)"
    )

    def frame(
        body: str,
        clarity: Clarity,
        needs: frozenset[str],
        *,
        subjectless: bool = False,
        for_service: bool = False,
    ) -> _Frame:
        return _Frame(re.compile(body), clarity, subjectless, for_service, needs)

    frames = (
        frame(rf"\b(?:{_WANT_TO}|{_MAY_I}|{_LET_ME})\s+{_SPEAK}{_GAP}{talkable}", "clear", _SPEAKS),
        frame(rf"{_START}{_SPEAK}{_GAP}{talkable}", "clear", _SPEAKS),
        frame(rf"\b{_HAND_OVER}{_GAP}{talkable}", "clear", _HANDS, subjectless=True),
        frame(rf"\b{_HAND_OVER_ALONE}", "clear", _TRANSFERS, subjectless=True),
        frame(
            rf"\b(?:put|get)\s+{wanted}\s+on(?:\s+the\s+(?:phone|line))?(?=$|\s+(?:please|now"
            r"|for\s+me)\b)",
            "clear",
            _PUTS,
            subjectless=True,
        ),
        frame(rf"\b{_ACQUIRE_MINE}\s+{plain_wanted}", "clear", _WISHES, for_service=True),
        frame(
            rf"\b{_ACQUIRE_FOR_ME}\s+{plain_wanted}",
            "clear",
            _FETCHES,
            subjectless=True,
            for_service=True,
        ),
        frame(rf"\b{_ACQUIRE_MINE}\s+{wanted}", "indirect", _WISHES, for_service=True),
        frame(
            rf"\b{_ACQUIRE_FOR_ME}\s+{wanted}",
            "indirect",
            _FETCHES,
            subjectless=True,
            for_service=True,
        ),
        frame(rf"\b{_POSSIBLE}\s+{_SPEAK}{_GAP}{talkable}", "indirect", _POSSIBLES),
        frame(
            r"\b(?:(?:is|are)(?:\s+there)?|(?:do|don't|does|doesn't)\s+(?:you|the\s+salon)\s+have"
            rf"|have\s+you\s+got|you\s+(?:have|got))\s+{wanted}"
            r"(?:(?:\s+(?:there|around|here|in))?\s+(?:(?:that|who)\s+)?(?:i|we)\s+(?:can|could"
            rf"|may|might)\s+{_SPEAK_PLAIN}"
            r"|(?:\s+(?:there|around|here|in))?\s+(?:who|that)\s+(?:can|could|will|would)\s+"
            r"(?:help|take\s+my\s+call|talk|speak|deal\s+with|sort)"
            r"|\s+(?:available|free|around)\s+to\s+(?:talk|speak|chat|take))",
            "indirect",
            _ASKS,
        ),
        frame(_WHO_DO_I, "indirect", frozenset({"who"})),
        frame(
            rf"\b{_SUBJECT}\s+(?:have|got)\s+(?:a\s+|an\s+|one\s+|some\s+)?(?:quick\s+)?"
            rf"(?:question|query|complaint|problem)s?\s+for\s+{wanted}",
            "indirect",
            frozenset({"question", "questions", "query", "complaint", "problem"}),
        ),
        frame(rf"\b(?:can|could|will|would)\s+{wanted}{_CALL_ME}", "indirect", _CALLS),
        frame(
            rf"(?:^|\b(?:please|you|to)\s+)(?:have|get)\s+{wanted}(?:\s+to)?{_CALL_ME}",
            "indirect",
            _CALLS,
            subjectless=True,
        ),
        frame(rf"\b{_CALLBACK}", "indirect", _CALLS, subjectless=True),
        frame(rf"\b{_ROBOT}", "indirect", _MACHINES),
        frame(
            rf"(?:\b|^){_ESCALATE}(?:\s+\w+)?(?:\s+to{_GAP}{talkable})?",
            "indirect",
            frozenset({"escalate"}),
            subjectless=True,
        ),
    )
    bare_head = (
        rf"(?:{_DETERMINER}(?:(?:real|actual|live)\s+)?(?:{_DEPARTMENT_HEAD}|{_HUMAN}|{_PERSON}"
        rf"|manager|supervisor|representative|rep|operator|agent|receptionist{own}))"
    )
    filler = (
        r"(?:please|now|right\s+now|immediately|thanks|thank\s+you|yes|yeah|no|okay|ok|hi|hello"
        r"|just|so|um|uh)"
    )
    alone = re.compile(rf"(?:{filler}\s+)*{bare_head}(?:\s+(?:{filler}|{bare_head}))*")
    own_cues = frozenset(_WORDS.findall(extra.replace("\\s+", " ")))
    return Matcher(frames=frames, alone=alone, cues=_CUES | own_cues)


def _own_words(phrases: tuple[str, ...]) -> str:
    """A profile's trigger phrases as person words ("speak to a person" -> "person")."""
    words = set()
    for phrase in phrases:
        cleaned = _normalise(phrase)
        cleaned = re.sub(r"^(?:(?:speak|talk)\s+(?:to|with)\s+)?(?:(?:a|an|the)\s+)?", "", cleaned)
        if cleaned:
            words.add(r"\s+".join(re.escape(word) for word in cleaned.split()))
    return "|".join(sorted(words, key=len, reverse=True))


_BUILT_IN = _frames("")


def matcher_for(rules: EscalationRules | None) -> Matcher:
    """The matcher for a profile's escalation rules (its trigger phrases are person words
    too), built once per rules object; the built-in one without rules."""
    if rules is None or not rules.trigger_phrases:
        return _BUILT_IN
    return rules.derived("escalation.intent", _matcher_of)


def _matcher_of(rules: EscalationRules) -> Matcher:
    return _frames(_own_words(tuple(rules.trigger_phrases)))


# --------------------------------------------------------------------------------------
# reading


def _negated(prefix: str) -> bool:
    """A negation among the last few words of ``prefix`` that is not a question's ("can't
    you", "why don't you")."""
    words = prefix.split()
    near = " ".join(words[-_NEGATION_REACH:])
    return any(m.group("inverted") is None for m in _NEGATION.finditer(near))


def _read_clause(clause: str, matcher: Matcher) -> PersonRequest | None:
    found: PersonRequest | None = None
    words = frozenset(_WORDS.findall(clause))
    if words.isdisjoint(matcher.cues):
        return None
    for frame in matcher.frames:
        if words.isdisjoint(frame.needs):
            continue
        for match in frame.pattern.finditer(clause):
            prefix = clause[max(0, match.start() - _WINDOW) : match.start()]
            if _REPORTED.search(prefix) or _DENIED_WISH.search(prefix):
                continue
            if frame.subjectless and _negated(prefix):
                continue
            if _ASKED_ABOUT.search(prefix) and _SUBJECT_FIRST.match(clause, match.start()):
                continue
            rest = clause[match.end() :]
            if _POSSESSIVE.match(rest):
                continue
            if frame.for_service and _FOR_A_SERVICE.match(rest):
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
    for clause in _CLAUSES.split(text):
        if not clause:
            continue
        request = _read_clause(clause, matcher)
        if request is not None and (best is None or request.clarity == "clear"):
            best = request
            if request.clarity == "clear":
                break
    if best is None and len(text) <= _ALONE_MAX:
        bare = _CLAUSES.sub(" ", text).strip()
        if bare and matcher.alone.fullmatch(bare):
            best = PersonRequest("clear", _trim_alone(bare))
    if best is None:
        named = _NAMED.search(raw)
        if named is not None and named.group("name").lower() not in _NOT_NAMES:
            best = PersonRequest("indirect", named.group("name"))
    if best is None:
        return None
    topic = _TOPIC.search(text)
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
    tail = _tail(text)
    if matcher.cues.isdisjoint(_WORDS.findall(tail.translate(_QUOTES).lower())):
        return None  # the common case: a booking, a date, a yes
    normalised = _normalise(tail)
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
    return _WHAT_ARE_YOU.search(_normalise(_tail(text))) is not None
