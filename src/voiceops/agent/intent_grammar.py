"""The grammar :mod:`voiceops.agent.intent` reads a caller's words with: the person words
(departments, roles, "a human", "someone"), the request verbs and questions around them,
the words that undo a request (negation, reported speech, a person wanted for a service),
the questions about what the agent is, and the frames compiled from them, once for the
built-in words and once per profile that adds trigger phrases of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from voiceops.core.profile import EscalationRules

Clarity = Literal["clear", "indirect"]


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

_SUBJECT = (
    r"(?:(?:i|we)(?:'d|'ll|'m|\s+would|\s+will|\s+am|\s+do|\s+really)?"
    r"|id(?=\s+(?:like|love|rather|prefer|really|just)\b))"
)
""""I", "I'd", "we'll"…, and "id" as a transcript without apostrophes writes "I'd"."""
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
    r"^(?:(?:please|just|ok|okay|yes|yeah|yep|so|hi|hello|hey|hiya|there|now|well|look|listen"
    r"|oh|right|and|then|actually|alright|sorry|excuse\s+me|good\s+(?:morning|afternoon"
    r"|evening|day))\s+)*"
)
"""The start of a clause, before an imperative: "please speak to", "just get me"."""
_SPEAK = (
    r"(?:(?:speak|talk|chat|have\s+a\s+(?:quick\s+)?(?:word|chat)|deal|get\s+through|get\s+in"
    r"\s+touch|be\s+(?:put\s+through|transferred|connected|passed(?:\s+on)?|forwarded|sent"
    r"|switched|put\s+on))\s+(?:to|with)|reach|contact|get\s+hold\s+of)"
)
_SPEAK_PLAIN = r"(?:speak|talk|chat)\s+(?:to|with)"
_THERE = r"(?:\s+(?:there|around|here|in|available|free|at\s+the\s+(?:salon|shop)))?"
"""Where the person asked about is: "is there someone (there) I could talk to"."""
_I_COULD_TALK = (
    r"\s+(?:(?:that|who|whom)\s+)?(?:i|we)\s+(?:can|could|may|might)"
    r"(?:\s+(?:really|just|actually|maybe|perhaps|possibly|like|please|quickly))*"
    r"\s+(?:speak|talk|chat|have\s+a\s+(?:quick\s+)?(?:word|chat))\s+(?:to|with)\b"
)
"""The talking a person is asked about for: "... I could actually talk to", "... I might
have a word with"."""
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
_CALL_ME = (
    r"(?:\s+please)?\s+(?:(?:call|ring|phone|get\s+back\s+to)\s+(?:me|us)"
    r"|give\s+(?:me|us)\s+a\s+(?:call|ring|bell))\b"
)

NEGATION = re.compile(
    r"\b(?:not|never|no\s+need|no\s+one|nobody|without|instead\s+of|rather\s+not|don't|dont"
    r"|do\s+not|doesn't|didn't|won't|wouldn't|shouldn't|can't|cannot|couldn't|stop)\b"
    r"(?P<inverted>\s+(?:you|i|we)\b)?"
)
NEGATION_REACH = 5
"""Words before a subjectless request in which a negation still governs it."""
DENIED_WISH = re.compile(
    r"\b(?:(?:don't|didn't|never|not)\s+(?:think|say|said|mean|meant|ask|asked|sure|know)"
    r"|wonder(?:ing)?|doubt|unsure)\b"
)
""""I never said I want a manager": a wish quoted to deny it."""
ASKED_ABOUT = re.compile(
    r"\b(?:should|shall|do|did|does|when|if|whether|before|after|until|unless|once|where|what"
    r"|how|why)\s*$"
)
""""Should I ask for the manager?", "do I need a manager?": a wish asked about, not made."""
SUBJECT_FIRST = re.compile(r"(?:i|we)\b")
POSSESSIVE = re.compile(r"'s\b")
FOR_A_SERVICE = re.compile(
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

NAMED = re.compile(
    r"(?i:(?:(?:can|could|may)\s+i(?:\s+please)?|(?:i'd|i\s+would)\s+like\s+to"
    r"|i\s+(?:want|need)\s+to|let\s+me)\s+(?:speak|talk)\s+(?:to|with))"
    r"\s+(?P<name>[A-Z][a-z'\-]+)\b"
)
"""A named person: "can I speak to Sarah?" (a capitalised name, as speech-to-text writes it)."""
NOT_NAMES = frozenset(
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
WHAT_ARE_YOU = re.compile(
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

QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": " ", "\u201d": " ", '"': " "})
_UNINTELLIGIBLE = re.compile(r"\(\s*unintelligible audio\s*\)")
_FILLER = re.compile(r",?\s*+\b(?:u+m+|u+h+m*|e+r+m*|h+m+|a+h+)\b\s*+,?")
_HAS_FILLER = re.compile(r"\b(?:u+m+|u+h+m*|e+r+m*|h+m+|a+h+)\b")
_SPACES = re.compile(r"\s+")
CLAUSES = re.compile(r"\s*(?:[.!?;:]+|,|\s+-+\s+|\s+(?:but|because|cause|cos)\s+)\s*")
WORDS = re.compile(r"[a-z']+")


def normalise(text: str) -> str:
    """Lower case, plain quotes, single spaces; no "(unintelligible audio)", no "um"."""
    lowered = _SPACES.sub(" ", text.translate(QUOTES).lower())
    if "(" in lowered:
        lowered = _UNINTELLIGIBLE.sub(" ", lowered)
    if _HAS_FILLER.search(lowered):
        lowered = _SPACES.sub(" ", _FILLER.sub(" ", lowered))
    return lowered.strip()


GENERIC = re.compile(
    r"(?:(?:a|an|the|some|any|another)\s+)?(?:(?:real|actual|live|proper|other|different)\s+)*"
    r"(?:" + _HUMAN + "|" + _PERSON + "|" + _PRONOUN + r"|one"
    r"|(?:someone|somebody|anyone|a\s+person)\s+at\s+the\s+(?:salon|front\s+desk)"
    r"|(?:the\s+)?(?:front\s+desk|reception|receptionist|salon|staff|team|people(?:\s+at\s+the"
    r"\s+salon)?))"
)
"""Whom to ask for that names no one in particular: they go to the default number."""
TOPIC = re.compile(r"\b(?:about|regarding|concerning)\s+(?P<topic>[^.,;!?]+)")


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
    frames = (
        *_request_frames(talkable, wanted, plain_wanted),
        *_question_frames(talkable, wanted, plain_wanted),
    )
    own_cues = frozenset(WORDS.findall(extra.replace("\\s+", " ")))
    return Matcher(frames=frames, alone=_alone(own), cues=_CUES | own_cues)


def _frame(
    body: str,
    clarity: Clarity,
    needs: frozenset[str],
    *,
    subjectless: bool = False,
    for_service: bool = False,
) -> _Frame:
    return _Frame(re.compile(body), clarity, subjectless, for_service, needs)


def _request_frames(talkable: str, wanted: str, plain_wanted: str) -> tuple[_Frame, ...]:
    """Asking for a person: to speak to, to be put through to, to be given one."""
    return (
        _frame(
            rf"\b(?:{_WANT_TO}|{_MAY_I}|{_LET_ME})\s+{_SPEAK}{_GAP}{talkable}", "clear", _SPEAKS
        ),
        _frame(rf"{_START}{_SPEAK}{_GAP}{talkable}", "clear", _SPEAKS),
        _frame(rf"\b{_HAND_OVER}{_GAP}{talkable}", "clear", _HANDS, subjectless=True),
        _frame(rf"\b{_HAND_OVER_ALONE}", "clear", _TRANSFERS, subjectless=True),
        _frame(
            rf"\b(?:put|get)\s+{wanted}\s+on(?:\s+the\s+(?:phone|line))?(?=$|\s+(?:please|now"
            r"|for\s+me|who|that)\b)",
            "clear",
            _PUTS,
            subjectless=True,
        ),
        _frame(rf"\b{_ACQUIRE_MINE}\s+{plain_wanted}", "clear", _WISHES, for_service=True),
        _frame(
            rf"\b{_ACQUIRE_FOR_ME}\s+{plain_wanted}",
            "clear",
            _FETCHES,
            subjectless=True,
            for_service=True,
        ),
        _frame(rf"\b{_ACQUIRE_MINE}\s+{wanted}", "indirect", _WISHES, for_service=True),
        _frame(
            rf"\b{_ACQUIRE_FOR_ME}\s+{wanted}",
            "indirect",
            _FETCHES,
            subjectless=True,
            for_service=True,
        ),
    )


def _question_frames(talkable: str, wanted: str, plain_wanted: str) -> tuple[_Frame, ...]:
    """Asking around it: is there someone, who do I speak to, can someone call me back."""
    return (
        _frame(rf"\b{_POSSIBLE}\s+{_SPEAK}{_GAP}{talkable}", "indirect", _POSSIBLES),
        _frame(
            r"\b(?:(?:is|are)(?:\s+there)?|(?:do|don't|does|doesn't)\s+(?:you|the\s+salon)\s+have"
            rf"|have\s+you\s+got|you\s+(?:have|got))\s+(?:like\s+)?{wanted}"
            rf"(?:{_THERE}{_I_COULD_TALK}"
            rf"|{_THERE}\s+(?:who|that)\s+(?:can|could|will|would)\s+"
            r"(?:help|take\s+my\s+call|talk|speak|deal\s+with|sort)"
            r"|\s+(?:available|free|around)\s+to\s+(?:talk|speak|chat|take))",
            "indirect",
            _ASKS,
        ),
        # "Anyone there I could speak with?", "someone I can talk to, please": the question
        # without its "is there".
        _frame(
            rf"{_START}(?:like\s+)?{wanted}{_THERE}{_I_COULD_TALK}"
            r"(?=$|\s+(?:please|about|regarding|now|right\s+now|today|there|here)\b)",
            "indirect",
            _SPEAKS,
        ),
        # "Is the manager around?", "is the owner in today?": whether they can come to the
        # phone now ("is the manager in on Thursdays?" asks about the rota).
        _frame(
            rf"{_START}(?:is|are)\s+{plain_wanted}\s+(?:around|in|there|available|about)"
            r"(?:\s+(?:today|right\s+now|now|at\s+the\s+moment|please))*$",
            "indirect",
            _ASKS,
        ),
        _frame(_WHO_DO_I, "indirect", frozenset({"who"})),
        _frame(
            rf"\b{_SUBJECT}\s+(?:have|got)\s+(?:a\s+|an\s+|one\s+|some\s+)?(?:quick\s+)?"
            rf"(?:question|query|complaint|problem)s?\s+for\s+{wanted}",
            "indirect",
            frozenset({"question", "questions", "query", "complaint", "problem"}),
        ),
        _frame(rf"\b(?:can|could|will|would)\s+{wanted}{_CALL_ME}", "indirect", _CALLS),
        _frame(
            rf"(?:^|\b(?:please|you|to)\s+)(?:have|get)\s+{wanted}(?:\s+to)?{_CALL_ME}",
            "indirect",
            _CALLS,
            subjectless=True,
        ),
        _frame(rf"\b{_CALLBACK}", "indirect", _CALLS, subjectless=True),
        _frame(rf"\b{_ROBOT}", "indirect", _MACHINES),
        _frame(
            rf"(?:\b|^){_ESCALATE}(?:\s+\w+)?(?:\s+to{_GAP}{talkable})?",
            "indirect",
            frozenset({"escalate"}),
            subjectless=True,
        ),
    )


def _alone(own: str) -> re.Pattern[str]:
    """A person said alone, with at most polite words around: "operator, please"."""
    bare_head = (
        rf"(?:{_DETERMINER}(?:(?:real|actual|live)\s+)?(?:{_DEPARTMENT_HEAD}|{_HUMAN}|{_PERSON}"
        rf"|manager|supervisor|representative|rep|operator|agent|receptionist{own}))"
    )
    filler = (
        r"(?:please|now|right\s+now|immediately|thanks|thank\s+you|yes|yeah|no|okay|ok|hi|hello"
        r"|just|so|um|uh)"
    )
    return re.compile(rf"(?:{filler}\s+)*{bare_head}(?:\s+(?:{filler}|{bare_head}))*")


def _own_words(phrases: tuple[str, ...]) -> str:
    """A profile's trigger phrases as person words ("speak to a person" -> "person")."""
    words = set()
    for phrase in phrases:
        cleaned = normalise(phrase)
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
