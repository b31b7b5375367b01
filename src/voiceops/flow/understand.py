"""What one caller utterance says: intents, yes/no, and the values it carries.

:func:`understand` reads a transcript line into an :class:`Understanding`: which requests
it makes (book, reschedule, cancel, "what's my booking", prices, durations, opening hours,
the service list, a person), whether it agrees or refuses, whether it closes the call, and
the slot values in it (service, date and time via :mod:`voiceops.flow.when`, name, phone
number, a choice from a list, an FAQ answer).

Words that belong to one business (service names and aliases, FAQ keywords, trigger
phrases) come from the :class:`~voiceops.core.profile.AgentProfile` and are compiled once
per profile (:func:`lexicon_for`). What the agent has just asked (``awaiting``) widens what a
short reply can mean: "Sam" is a name only after "what name should I put it under?", and
"3" is a time only after a question about times. Everything here is pure and allocation-light;
a typical utterance takes a few tens of microseconds plus any uncached date phrase.

Only the last :data:`~voiceops.flow.when.MAX_PARSED_CHARS` characters of an utterance are
read, from a word boundary (:func:`~voiceops.flow.when.utterance_tail`), and every pattern
here is linear in what it reads: the cost of one utterance is bounded whatever its length.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Literal

import phonenumbers

from voiceops.agent.intent import wants_person
from voiceops.core.profile import AgentProfile
from voiceops.flow.names import GIVEN_NAMES, NOT_NAMES
from voiceops.flow.when import WEEKDAY_WORDS, When, normalise, parse_when, utterance_tail
from voiceops.tools.timefmt import zone_place

Intent = Literal[
    "book",
    "reschedule",
    "cancel",
    "lookup",
    "price",
    "duration",
    "hours",
    "services",
    "human",
    "thanks",
    "greeting",
    "ask",
]
Expectation = Literal["time", "name", "phone", "pick", "free_text"]
"""What kind of short answer the agent's last question invites."""

UNINTELLIGIBLE = re.compile(r"\(\s*unintelligible audio\s*\)", re.IGNORECASE)

# --------------------------------------------------------------------------------------
# intent patterns (over normalised text: lower case, no punctuation but apostrophes)

_CANCEL = re.compile(r"\b(?:cancel(?:l?ing|led|s)?|call (?:it |that )?off)\b")
_POLICY = re.compile(r"\bpolic(?:y|ies)\b")
_RESCHEDULE = re.compile(
    r"\b(?:re ?schedul\w*|postpone\w*|move (?:my|the|it|our|that)|change (?:my|the) "
    r"(?:appointment|booking|reservation)|push (?:it|my|the) \w*\s?back|bring (?:it|my|the)"
    r" \w*\s?forward)\b"
)
_LOOKUP = re.compile(
    r"\b(?:when(?:'s| is) my|what(?:'s| is) my (?:booking|appointment|reservation)"
    r"|do i (?:have|already have) (?:a|an|any) (?:booking|appointment|reservation)"
    r"|(?:check|confirm) my (?:booking|appointment|reservation)|what time is my"
    r"|am i (?:booked|scheduled)|remind me when)\b"
)
_BOOK = re.compile(
    r"\b(?:book(?:ing)?|appointment|schedule|reserve|reservation|come in|come by"
    r"|availab\w*|openings|(?:an|any) opening|are you free|anything free|something free"
    r"|free (?:slot|time|spot)s?|slots?|squeeze me in|fit me in|(?:get|have) my hair"
    r"|do my hair|hair done)\b"
)
_WANT = re.compile(
    r"\b(?:get (?:a|an|my)|(?:i'd|i would|i want|i wanna|i need|like|need) (?:a|an|to get|my))\b"
)
"""Asking for something: a booking only when a service is named with it."""
_PRICE = re.compile(r"\b(?:how much|prices?|pricing|costs?|charge|fees?|rates?|expensive|cheap)\b")
_DURATION = re.compile(r"\b(?:how long|duration|how many minutes|take long|takes long|length of)\b")
_HOURS = re.compile(
    r"\b(?:open|opening (?:hours|times)|clos(?:e|es|ed|ing)|(?:business|your|the) hours"
    r"|what time do you)\b"
)
_SERVICES = re.compile(
    r"\b(?:what (?:services|treatments)|what do you (?:do|offer|have)|what can i (?:get|book)"
    r"|what kind of|services do you|list of (?:your |the )?services|your services|menu)\b"
)
_HUMAN = re.compile(
    r"\b(?:(?:speak|talk) (?:to|with) (?:someone|somebody|a person|a human|staff|the front desk"
    r"|reception|the owner|the team)|receptionist|front desk|somebody real|someone real)\b"
)
_NEGATED = re.compile(r"\b(?:not|don'?t|do not|doesn'?t|no need to|never)\b[\w\s']{0,24}$")
_NEGATION_REACH = 40
"""``_NEGATED`` matches at most 34 characters (``no need to`` and 24 more) ending where a
request starts, so only that many characters before it are searched, not the whole text
before it again for every request."""
_DISMISS = re.compile(
    r"\b(?:never ?mind|forget (?:it|about it|that)|don't worry about it|doesn't matter"
    r"|scratch that|i'll call (?:back|again) later)\b"
)
_FOLLOW_UP = re.compile(
    r"^(?:(?:and|so|ok|okay|oh|well)\s+)?(?:just\s+)?(?:tell|read)\s+(?:me|them)(?:\s+then)?$"
    r"|^(?:(?:and|so|ok|okay|oh)\s+)?(?:what|how)\s+about\b"
    r"|^and\s+(?:on\s+|for\s+)?(?:(?:a|an|the)\s+)?\w+(?:\s+\w+)?$"
)
_ASK = re.compile(
    r"\b(?:(?:another|one more|a quick|a) question|something else|one more thing"
    r"|ask (?:you )?(?:something|a question))\b"
)
"""The caller has more to ask, without asking it yet."""
_QUESTION_START = re.compile(
    r"^(?:(?:hi|hello|hey|so|and|um|uh|oh)\s+)*(?:do|does|can|could|is|are|what|how|which|when"
    r"|where|who|why|would|will)\b"
)
_GREETING = re.compile(r"^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))\b")
_THANKS = re.compile(r"\b(?:thanks|thank you|thank u|cheers|appreciate it)\b")
_FAREWELL = re.compile(
    r"\b(?:good ?bye|bye|bye bye|have a (?:good|great|nice|lovely) (?:day|one|evening|night|"
    r"weekend)|talk (?:to you )?later|hang up)\b"
)
_CLOSING = re.compile(
    r"\b(?:that's all|that is all|that's it|that is it|that'll be all|that will be all"
    r"|nothing else|no thanks|no thank you|i'm good|i am good|i'm fine|i'm all set|all set"
    r"|i'm done|that's everything|not right now|no that's fine)\b"
)
_AFFIRM_START = re.compile(
    r"^(?:(?:uh|um|oh|well|so) )?(?:yes|yeah|yea|yep|yup|ya|sure|certainly|correct|right"
    r"|ok|okay|alright|all right|perfect|great|lovely|absolutely|definitely|of course|please"
    r"|go ahead|do it|book it|fine|uh huh|mhm|yes please|that's right|that is right"
    r"|that's correct|that works|sounds good|sounds great|no problem|no worries)\b"
)
_AFFIRM_ANY = re.compile(
    r"\b(?:sounds (?:good|great|perfect)|that works|works for me|that's (?:right|correct|"
    r"perfect|fine|great)|go ahead|book it|please do|let's do (?:it|that)|i'll take (?:it|that)"
    r"|that one)\b"
)
_DENY = re.compile(
    r"^(?:(?:uh|um|oh|well) )?(?:no|nope|nah|not|wrong|incorrect|negative)\b(?! problem| worries)"
    r"|\b(?:that's not|that is not|not right|not correct|that's wrong|don't|do not"
    r"|never mind|none of (?:those|them|these)|neither|doesn't work|won't work)\b"
)
_CALLER_NUMBER = re.compile(
    r"\b(?:this|same|the same) (?:number|one|phone|cell|mobile)\b|\bcalling (?:from|on)\b"
    r"|\bthe number (?:i'm|i am) (?:on|using)\b|\bthis line\b"
)
_DIGIT_RUN = re.compile(r"\+?\d(?:[\s.\-()]*\d){6,16}")
_PICK = re.compile(
    r"\b(?:the )?(?P<which>first|1st|second|2nd|third|3rd|fourth|4th|last|earliest|earlier"
    r"|latest|later)(?P<noun> one| option| slot| time| appointment| booking)?\b"
)
_PICK_INDEX = {
    "first": 0,
    "1st": 0,
    "earliest": 0,
    "earlier": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "last": -1,
    "latest": -1,
    "later": -1,
}
_SHORT_REPLY_WORDS = 5
_CORRECTION = re.compile(
    r"\b(?:actually|make it|make that|change it to|change that to|instead|rather|i meant"
    r"|i mean|can we do|how about|what about)\b"
)
"""A correction or a counter-offer: a bare number in it is a clock time ("make it 4")."""
_SHIFT = re.compile(
    r"\b(?:push|move|bump|put|make|set) (?:it|that|the time|the appointment|the booking|me)"
    r" (?P<dir>back|later|forward|earlier|ahead)(?: by)? (?P<amount>an|one|two|half an|a half"
    r"|\d{1,2}|fifteen|thirty|forty five) (?P<unit>hours?|minutes?|mins?)\b"
    r"|\b(?P<amount2>an|one|two|half an|\d{1,2}|fifteen|thirty|forty five)"
    r" (?P<unit2>hours?|minutes?|mins?) (?P<dir2>later|earlier)\b"
)
"""Moving a time by an amount: "push it back an hour", "half an hour earlier"."""
_SHIFT_AMOUNTS = {
    "an": 1,
    "one": 1,
    "two": 2,
    "half an": 0.5,
    "a half": 0.5,
    "fifteen": 15,
    "thirty": 30,
    "forty five": 45,
}
_NO_NAME = re.compile(
    r"\b(?:rather not|prefer not|don't want to (?:give|say|share)|do not want to (?:give|say)"
    r"|not giving|no name|why do you need|do i have to|do i need to|skip (?:it|that|the name)"
    r"|none of your business|anonymous|not telling|i said no)\b"
)
_HOW_ARE_YOU = re.compile(
    r"\b(?:how are (?:you|ya|things)|how's it going|how is it going|how you doing"
    r"|how's your day|how is your day|you doing (?:ok|okay|well))\b"
)
_WEATHER = re.compile(
    r"\b(?:weather|sunny|raining|rainy|snowing|so cold|freezing out|so hot|beautiful day"
    r"|lovely day|nice day|gorgeous day)\b"
)
_WRONG_NUMBER = re.compile(
    r"\b(?:wrong number|dial(?:l)?ed the wrong|misdial(?:l)?ed|called the wrong|wrong place"
    r"|wrong business)\b"
)
_WEEK_HOURS = re.compile(
    r"\b(?:week|weekly|every day|each day|which days|what days|all (?:the|your) hours"
    r"|full hours|days (?:are|do) you)\b"
)
"""The week's hours asked for, not just today's."""
_ADDRESSED = re.compile(
    r"\b(?:you|your|you're|yours|i|i'm|my|me|we|us|our|there|it|someone|anyone|they|the salon"
    r"|the shop|the stylists?|staff|owner|stylists?|hairdressers?|barbers?|team)\b"
)
"""A question about the business or the caller's visit, not about the world."""
_OFF_TOPIC = re.compile(
    r"\b(?:joke|capital of|president|recipe|sing|poem|stock|stocks|football|soccer|score"
    r"|movie|film|news|math|homework|bitcoin|lottery|horoscope|meaning of life|favou?rite)\b"
)
_FAQ_ASK = re.compile(
    r"\b(?:do you|is there|are there|can i|can we|could i|may i|will i|tell me|wondering"
    r"|want to know|like to know|any|what about|how about)\b"
)
"""Asking about something, so a single FAQ word in it is a question about that."""
_NOT_THIS = re.compile(r"\b(?:not|no|instead of|rather than) (?:a |an |the |my )?$")
_FAQ_BEYOND = re.compile(r"\b(?:validat\w*|reimburs\w*|refund\w*|discount\w*|overnight)\b")
"""Asking more than an FAQ entry says ("do you validate parking?"): it does not answer it."""
_SAME_AS_BEFORE = re.compile(r"\b(?:same time|the same time|same hour)\b")
_ONE_AFTER = re.compile(r"\b(?:the one after|the following one|the week after|a week later)\b")
"""After a refused day ("not this Friday, the one after"): the same weekday a week on."""
_WD = r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_WEEKDAY_AFTER = re.compile(rf"\bthe {_WD} after\b(?! next| the| that| this| \d)")
""""The Friday after": the one after the coming Friday."""
_WEEKDAY_BEFORE = re.compile(rf"\bthe {_WD} before (?:the )?\w+")
""""The Saturday before the 3rd": the last such weekday before the date named."""
_NEXT_WEEKDAY = re.compile(rf"\bnext {_WD}\b")
_FROM_NOW = re.compile(
    r"\bin (?P<amount>half an|an|one|two|a couple of|\d{1,3}|ten|fifteen|twenty|thirty"
    r"|forty five) (?P<unit>hours?|minutes?|mins?)\b"
)
_FROM_NOW_AMOUNTS = {
    "half an": 0.5,
    "an": 1,
    "one": 1,
    "two": 2,
    "a couple of": 2,
    "ten": 10,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty five": 45,
}
_PEOPLE = re.compile(
    r"\b(?:me and my \w+|my \w+ and (?:me|i)|both of us|the two of us|two of us|for two"
    r"|two people|two haircuts|me and (?:my )?(?:friend|partner|husband|wife|son|daughter))\b"
)
"""Two people to book for."""
_SAME_TIME = re.compile(r"\b(?:same time|at once|together|side by side)\b")
_WHEN_IS_THAT = re.compile(
    r"\b(?:what time (?:is|was) (?:that|it)|when is (?:that|it)|what time did you (?:say|book))\b"
)
"""Asking again when the booking just made is."""
_IS_THIS = re.compile(
    r"^(?:(?:hi|hello|hey|oh|um)\s+)*(?:is this|is that|am i (?:speaking|talking) (?:to|with)"
    r"|have i (?:reached|got)|who (?:is this|am i speaking to))\b"
)
"""The caller checks whom they called ("is this Joe's Pizza?")."""
_AFTER_WORK = re.compile(r"\bafter work\b")
_LUNCH = re.compile(r"\blunch ?(?:time|break|hour)?\b")
_FIRST_THING = re.compile(r"\b(?:first thing|as soon as you open|when you open)\b")
_NOT_OFFERED = re.compile(
    r"\b(?:tattoos?|piercings?|nails?|manicures?|pedicures?|massages?|waxing|wax|facials?"
    r"|eyelash(?:es)?|lash(?:es)? extensions|lashes|eyebrows?|brows|botox|tanning|spray tans?"
    r"|make ?up|perms?|hair extensions|extensions|braids|braiding|dreadlocks|teeth whitening"
    r"|laser hair removal)\b"
)
"""Services people ask a salon for; those the profile does not list are not offered."""
_OUR_TIME = r"(?:your|the salon's|the shop's|salon|shop|business|local|eastern|pacific|central)"

# --------------------------------------------------------------------------------------
# names

_NAME_EXPLICIT = re.compile(
    r"\b(?:my name is|my name's|name's|the name is|name is|under the name(?: of)?|call me"
    r"|it's under|put it under|book it under|booked under)\s+(?P<rest>.+)",
    re.IGNORECASE,
)
_CAPITALISED = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'\-]+"
"""A capitalised Latin word, as speech-to-text writes names."""
# The whitespace runs below are possessive (``\s*+``, ``\s++``): a run of spaces is read
# once, never split between two quantifiers in every possible way, which made a long run
# cost its length squared.
_NAME_THIS_IS = re.compile(
    rf"\b(?i:this is) (?P<rest>{_CAPITALISED}(?: {_CAPITALISED})?)"
    r"(?=\s*+(?:[,.!?]|$)|\s++(?i:calling|here|speaking)\b)"
)
_NAME_FOR = re.compile(
    rf"\b(?i:for|under) (?P<rest>{_CAPITALISED}(?: {_CAPITALISED})?)\s*+(?:[.!?]\s*+)?$"
)
"""A capitalised name closing the sentence: "a colour on Saturday for Jo"."""
_NAME_ITS = re.compile(
    r"\b(?i:it's|it is|this is|i'm|i am)\s++(?P<rest>[^\W\d_][\w'\-]*+(?:\s++[^\W\d_][\w'\-]*+)?)"
)
"""A name said in passing: "it's Priya Shah, can I …" (the first word must be a given name)."""
_NAME_UNDER = re.compile(
    r"\b(?i:under|for|book (?:it|that) for)\s++(?P<rest>[A-ZÀ-ÖØ-Þ][\w'\-]*+(?:\s++[A-ZÀ-ÖØ-Þ]"
    r"[\w'\-]*+)?)"
)
"""``under Ana``: a capitalised word after "under" or "for" anywhere in the utterance."""
_NAME_IN_PASSING = re.compile(
    r"(?<![\w'])(?<!(?i:with) )(?<!(?i:see) )(?<!(?i:ask for) )(?<=\S )"
    r"(?P<rest>[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'\-]++(?: [A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'\-]++)?)(?=\s|[,.!?]|$)"
)
"""A capitalised given name inside a sentence ("haircut today 3pm Mike"), not after "with"
(a stylist asked for) and not the first word (which speech-to-text capitalises anyway)."""
_NAME_RELATIVE = re.compile(
    r"\b(?i:for my|my) (?i:son|daughter|wife|husband|partner|mum|mom|mother|dad|father|friend"
    r"|boyfriend|girlfriend|kid|child|brother|sister|grandson|granddaughter|niece|nephew)"
    r",?\s++(?P<rest>[^\W\d_][\w'\-]*+)"
)
"""``for my son Leo``: the booking is for the person named."""
_NAME_INTRO = re.compile(
    r"^(?:(?:yes|yeah|yep|sure|ok|okay|uh|um|hi|hello|so|well|and)[\s,]+)*"
    r"(?:it's|it is|its|this is|i'm|i am|my name is|my name's|name's|the name is|under|for)?"
    r"[\s,]*(?P<rest>(?s:.*))",
    re.IGNORECASE,
)
"""Everything after the opening words of a reply, line breaks included: the match never
fails, so it never backtracks (``.*$`` stopped at a line break and then tried every other
way to split the opening words, which grew with the cube of the text)."""
_NAME_WORD = re.compile(r"^[^\W\d_](?:[^\W\d_]|['\-]){0,30}$")
"""Letters of any script, inner apostrophes and hyphens: "José", "O'Brien", "Anne-Marie"."""
_NAME_STOP = frozenset(
    """
    a about actually after afternoon again all also am an and any anything appointment are
    around as at available be because been before book booking but by bye call calling can
    cancel could day did do does doing don't evening for free friday from get go going good
    great had has have haircut hello help here hey hi how i i'd i'll i'm in is it it's just
    know let like looking make maybe me monday morning my need next no not nothing now of
    okay on one or please reschedule right saturday see so sorry speaking sunday sure thank
    thanks that the then there think this thursday time to today tomorrow tuesday uh um
    wait want was wednesday week well what when where which who why will with would yeah
    yes yep you your january february march april may june july august september october
    november december me him her them us everyone everybody someone somebody
    """.split()
)
_NAME_MAX_WORDS = 3
_NAME_MAX_CHARS = 40


def _title(word: str) -> str:
    return word[:1].upper() + word[1:] if word.islower() else word


def _name_from(fragment: str, extra_stop: frozenset[str]) -> str | None:
    """The leading run of name-like words in ``fragment`` (up to three), title-cased."""
    words: list[str] = []
    for raw in re.split(r"\s+", fragment.strip()):
        word = raw.strip('.,!?;:"()')
        if not word:
            break
        lowered = word.lower()
        if (
            not _NAME_WORD.match(word)
            or lowered in _NAME_STOP
            or lowered in NOT_NAMES
            or lowered in extra_stop
        ):
            break
        words.append(_title(word))
        if len(words) == _NAME_MAX_WORDS or raw[-1:] in ".,!?;:":
            break
    name = " ".join(words)
    return name if words and len(name) <= _NAME_MAX_CHARS else None


# --------------------------------------------------------------------------------------
# per-profile lexicon


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    cleaned = sorted({normalise(p) for p in phrases if normalise(p)}, key=len, reverse=True)
    if not cleaned:
        return None
    body = "|".join(r"[\s-]?".join(re.escape(w) for w in p.split()) for p in cleaned)
    return re.compile(rf"\b(?:{body})s?\b")


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The words of one profile, compiled."""

    services: re.Pattern[str] | None
    service_names: dict[str, str]
    """Normalised name or alias -> the service's canonical name."""
    faq: tuple[tuple[re.Pattern[str], str], ...]
    triggers: re.Pattern[str] | None
    stop: frozenset[str]
    """Words that are never part of a caller's name (service words)."""
    region: str


def _build_lexicon(profile: AgentProfile) -> Lexicon:
    names: dict[str, str] = {}
    for service in profile.services:
        for label in (service.name, *service.aliases):
            key = normalise(label)
            if key:
                names.setdefault(key, service.name)
                names.setdefault(key.replace(" ", ""), service.name)
    faq = []
    for entry in profile.faq:
        pattern = _phrase_pattern(entry.keywords)
        if pattern is not None:
            faq.append((pattern, entry.answer))
    region = "US"
    if profile.business_phone:
        try:
            parsed = phonenumbers.parse(profile.business_phone, None)
            region = phonenumbers.region_code_for_number(parsed) or "US"
        except phonenumbers.NumberParseException:
            region = "US"
    stop = frozenset(word for key in names for word in key.split())
    return Lexicon(
        services=_phrase_pattern(list(names)),
        service_names=names,
        faq=tuple(faq),
        triggers=_phrase_pattern(list(profile.escalation.trigger_phrases)),
        stop=stop,
        region=region,
    )


def lexicon_for(profile: AgentProfile) -> Lexicon:
    """The compiled lexicon of ``profile``, built once per profile and kept with it."""
    return profile.derived("flow.lexicon", _build_lexicon)


# --------------------------------------------------------------------------------------
# result


@dataclass(frozen=True, slots=True)
class Understanding:
    """One utterance, read. ``text`` is the normalised form the patterns saw."""

    text: str
    unintelligible: bool = False
    intents: frozenset[Intent] = frozenset()
    affirm: bool = False
    deny: bool = False
    farewell: bool = False
    """A goodbye that ends the call wherever it comes ("bye", "have a good day")."""
    closing: bool = False
    """A closer that ends the call only when nothing is pending ("that's all", "no thanks")."""
    service: str | None = None
    when: When = field(default_factory=When)
    name: str | None = None
    phone: str | None = None
    """E.164, when the utterance contains a possible phone number."""
    caller_number: bool = False
    """"This number", "the one I'm calling from"."""
    pick: int | None = None
    """A choice from a list the agent read out: 0-based, ``-1`` for the last."""
    faq: str | None = None
    question: bool = False
    """Asked as a question ("do you do colour?") rather than said ("a colour, please")."""
    dismiss: bool = False
    """"Never mind", "forget it": drop what is under way."""
    follow_up: bool = False
    """"What about Sunday?", "and a colour?": the previous question again, for something else."""
    services: tuple[str, ...] = ()
    """Every service named, in order, when more than one is ("a beard trim and a haircut")."""
    shift: int | None = None
    """Minutes to move the time by ("push it back an hour": 60; "half an hour earlier": -30)."""
    no_name: bool = False
    """The caller will not give a name."""
    social: Literal["how_are_you", "weather", "wrong_number"] | None = None
    """Small talk to answer before going on (or, for a wrong number, to end on)."""
    week_hours: bool = False
    """The hours of the whole week asked for."""
    not_offered: str | None = None
    """A service the business does not list ("tattoos")."""
    unknown_question: bool = False
    """A question about the business that nothing here answers ("can I bring my dog?")."""
    off_topic: bool = False
    """Nothing to do with the business ("what's the capital of France?")."""
    business_time: bool = False
    """"I mean New York time": the times said are the business's, not the caller's."""
    from_now: int | None = None
    """"In half an hour": minutes from now."""
    when_is_that: bool = False
    """"What time is that for me?": the booking just made, said again."""
    who_is_this: bool = False
    """"Is this Joe's Pizza?": the caller checks whom they called."""
    names: tuple[str, ...] = ()
    """Two or more names in one reply ("I'm Lena and she's Mia")."""
    two_people: bool = False
    """"Me and my son": the service is for two people."""
    same_time: bool = False
    """"At the same time": two appointments side by side, or a move keeping the time."""
    one_after: bool = False
    """"The one after": the day offered or agreed, a week on."""
    first_thing: bool = False
    """"First thing": when the business opens that day."""
    unresolved: bool = False
    """A date phrase that names no day we can be sure of: ask, don't guess."""
    next_weekday: bool = False
    """"Next Friday" was said, so the date understood is said back."""

    @property
    def has_slot_value(self) -> bool:
        return (
            self.service is not None
            or not self.when.empty
            or self.name is not None
            or self.shift is not None
            or self.from_now is not None
            or self.first_thing
            or self.business_time
            or self.one_after
        )

    @property
    def is_empty(self) -> bool:
        """Nothing recognised at all."""
        return not (
            self.intents
            or self.affirm
            or self.deny
            or self.farewell
            or self.closing
            or self.has_slot_value
            or self.phone
            or self.caller_number
            or self.pick is not None
            or self.faq
            or self.dismiss
            or self.shift is not None
            or self.no_name
            or self.social is not None
            or self.not_offered is not None
            or self.unknown_question
            or self.off_topic
        )


def _phone(raw: str, region: str) -> str | None:
    for match in _DIGIT_RUN.finditer(raw):
        digits = re.sub(r"[^\d+]", "", match.group(0))
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _pick(text: str) -> int | None:
    match = _PICK.search(text)
    if match is None:
        return None
    short = len(text.split()) <= _SHORT_REPLY_WORDS
    if match.group("noun") or short:
        return _PICK_INDEX[match.group("which")]
    return None


def _given(candidate: str | None) -> str | None:
    """``candidate`` when its first word is a known given name."""
    if candidate and candidate.split()[0].lower() in GIVEN_NAMES:
        return candidate
    return None


def _name(raw: str, lexicon: Lexicon, expect: Expectation | None) -> str | None:
    explicit = _NAME_EXPLICIT.search(raw) or _NAME_THIS_IS.search(raw) or _NAME_FOR.search(raw)
    if explicit:
        return _name_from(explicit.group("rest"), lexicon.stop)
    relative = _NAME_RELATIVE.search(raw)
    if relative and (relative.group("rest")[:1].isupper() or _given(relative.group("rest"))):
        # "for my son Leo", not "my sister told me".
        return _name_from(relative.group("rest"), lexicon.stop)
    passing = (
        (_NAME_ITS, _NAME_UNDER) if expect == "name" else (_NAME_ITS, _NAME_UNDER, _NAME_IN_PASSING)
    )
    for pattern in passing:
        for match in pattern.finditer(raw):
            found = _given(_name_from(match.group("rest"), lexicon.stop))
            if found is not None:
                return found
    if expect != "name":
        return None
    intro = _NAME_INTRO.match(raw.strip())
    if intro is None:
        return None
    return _name_from(intro.group("rest"), lexicon.stop)


def _service(text: str, lexicon: Lexicon) -> str | None:
    if lexicon.services is None:
        return None
    found = list(lexicon.services.finditer(text))
    if not found:
        return None
    # The last one named wins: "not a trim, a colour".
    key = found[-1].group(0).replace("-", " ")
    if key not in lexicon.service_names and key.endswith("s"):
        key = key[:-1]
    return lexicon.service_names.get(key) or lexicon.service_names.get(key.replace(" ", ""))


def _services(text: str, lexicon: Lexicon) -> tuple[str, ...]:
    if lexicon.services is None:
        return ()
    named: list[str] = []
    for match in lexicon.services.finditer(text):
        if _NOT_THIS.search(text, max(0, match.start() - 20), match.start()):
            continue  # "not a haircut, a blow dry": one service, corrected
        key = match.group(0).replace("-", " ")
        if key not in lexicon.service_names and key.endswith("s"):
            key = key[:-1]
        name = lexicon.service_names.get(key) or lexicon.service_names.get(key.replace(" ", ""))
        if name is not None and name not in named:
            named.append(name)
    return tuple(named)


def _shift(text: str) -> int | None:
    match = _SHIFT.search(text)
    if match is None:
        return None
    amount = match.group("amount") or match.group("amount2")
    unit = match.group("unit") or match.group("unit2")
    way = match.group("dir") or match.group("dir2")
    value = _SHIFT_AMOUNTS.get(amount) or (int(amount) if amount.isdigit() else 0)
    minutes = int(value * 60) if unit.startswith("hour") else int(value)
    if not minutes:
        return None
    return -minutes if way in ("forward", "earlier", "ahead") else minutes


def _human(text: str, lexicon: Lexicon) -> bool:
    for pattern in (lexicon.triggers, _HUMAN):
        if pattern is None:
            continue
        for match in pattern.finditer(text):
            start = match.start()
            if not _NEGATED.search(text, max(0, start - _NEGATION_REACH), start):
                return True
    return False


def understand(
    raw: str,
    profile: AgentProfile,
    today: date,
    *,
    expect: Expectation | None = None,
) -> Understanding:
    """Read one caller utterance. ``today`` is the caller-local date; ``expect`` is the kind
    of answer the agent's last question invites (it widens what a bare reply may mean).
    Only the tail of a long utterance is read (see the module docstring)."""
    lexicon = lexicon_for(profile)
    heard = utterance_tail(raw)
    spoken = UNINTELLIGIBLE.sub(" ", heard)
    text = normalise(spoken)
    if not text:
        return Understanding(text="", unintelligible=bool(UNINTELLIGIBLE.search(heard)))

    intents: set[Intent] = set()
    if _CANCEL.search(text) and not _POLICY.search(text):
        intents.add("cancel")
    if _RESCHEDULE.search(text):
        intents.add("reschedule")
    if _LOOKUP.search(text):
        intents.add("lookup")
    service = _service(text, lexicon)
    if not intents and (_BOOK.search(text) or (service and _WANT.search(text))):
        intents.add("book")
    if _PRICE.search(text):
        intents.add("price")
    if _DURATION.search(text):
        intents.add("duration")
    if _HOURS.search(text):
        intents.add("hours")
    if _SERVICES.search(text):
        intents.add("services")
    if wants_person(spoken, profile.escalation):
        intents.add("human")
    if _THANKS.search(text):
        intents.add("thanks")
    if _GREETING.search(text):
        intents.add("greeting")
    if _ASK.search(text):
        intents.add("ask")

    name = _name(spoken, lexicon, expect)
    question = "?" in spoken or bool(_QUESTION_START.search(text))
    faq = None
    if lexicon.faq and not intents & {"cancel", "reschedule", "lookup"}:
        # A name is not a question: "Jo Park" asks nothing about parking.
        asked = text
        if name:
            asked = re.sub(rf"\b{re.escape(normalise(name))}\b", " ", text)
        asking = question or bool(_FAQ_ASK.search(asked))
        best = 0
        for pattern, answer in lexicon.faq:
            match = pattern.search(asked)
            # One word counts when asked about; a phrase ("where are you") always does.
            if match and (asking or " " in match.group(0)) and len(match.group(0)) > best:
                best, faq = len(match.group(0)), answer
        if faq is not None and _FAQ_BEYOND.search(asked):
            faq = None
    named = _services(text, lexicon)
    missing = _NOT_OFFERED.search(text)
    not_offered = (
        missing.group(0)
        if missing is not None and not service and missing.group(0) not in lexicon.service_names
        else None
    )
    social: Literal["how_are_you", "weather", "wrong_number"] | None = None
    if _WRONG_NUMBER.search(text):
        social = "wrong_number"
    elif _HOW_ARE_YOU.search(text):
        social = "how_are_you"
    elif _WEATHER.search(text) and not question:
        social = "weather"
    when = parse_when(
        text,
        today,
        expect_time=expect == "time" or (expect != "phone" and bool(_CORRECTION.search(text))),
    )
    when, unresolved = _relative(text, today, when)
    off_topic = bool(_OFF_TOPIC.search(text))
    answered = (
        bool(intents - {"thanks", "greeting"} or faq or service or not_offered or social)
        or not when.empty
    )
    unknown_question = (
        question
        and not answered
        and not off_topic
        and expect not in ("name", "phone", "free_text")
        and bool(_ADDRESSED.search(text))
    )
    place = normalise(zone_place(profile.zone))
    business_time = bool(re.search(rf"\b(?:{_OUR_TIME}|{re.escape(place)}) time\b", text))

    phone = _phone(spoken, lexicon.region)
    deny = bool(_DENY.search(text))
    affirm = not deny and bool(_AFFIRM_START.search(text) or _AFFIRM_ANY.search(text))
    return Understanding(
        text=text,
        intents=frozenset(intents),
        affirm=affirm,
        deny=deny,
        farewell=bool(_FAREWELL.search(text)),
        closing=bool(_CLOSING.search(text)),
        service=service,
        when=when,
        name=name,
        phone=phone,
        caller_number=phone is None and bool(_CALLER_NUMBER.search(text)),
        pick=_pick(text),
        faq=faq,
        question=question,
        dismiss=bool(_DISMISS.search(text)),
        follow_up=bool(_FOLLOW_UP.search(text)),
        services=named if len(named) > 1 else (),
        shift=_shift(text),
        no_name=bool(_NO_NAME.search(text)),
        social=social,
        week_hours=bool(_WEEK_HOURS.search(text)),
        not_offered=not_offered,
        unknown_question=unknown_question,
        off_topic=off_topic,
        business_time=business_time,
        from_now=_from_now(text),
        who_is_this=bool(_IS_THIS.search(text)),
        when_is_that=bool(_WHEN_IS_THAT.search(text)),
        names=_names(spoken, lexicon) if expect == "name" else (),
        two_people=bool(_PEOPLE.search(text)),
        same_time=bool(_SAME_TIME.search(text) or _SAME_AS_BEFORE.search(text)),
        one_after=bool(_ONE_AFTER.search(text)) and when.day is None,
        first_thing=bool(_FIRST_THING.search(text)),
        unresolved=unresolved,
        next_weekday=bool(_NEXT_WEEKDAY.search(text)) and when.day is not None,
    )


_CAPITALISED_WORD = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'\-]*+")


def _names(raw: str, lexicon: Lexicon) -> tuple[str, ...]:
    """Every name-like capitalised word of a reply, when there are two or more."""
    found: list[str] = []
    for match in _CAPITALISED_WORD.finditer(raw):
        name = _name_from(match.group(0), lexicon.stop)
        if name is not None and name not in found:
            found.append(name)
    return tuple(found) if len(found) > 1 else ()


def _from_now(text: str) -> int | None:
    match = _FROM_NOW.search(text)
    if match is None:
        return None
    amount = match.group("amount")
    value = _FROM_NOW_AMOUNTS.get(amount) or (int(amount) if amount.isdigit() else 0)
    return int(value * 60) if match.group("unit").startswith("hour") else int(value)


def _relative(text: str, today: date, when: When) -> tuple[When, bool]:
    """Day phrases :func:`parse_when` leaves to us; True when one cannot be resolved."""
    if when.day is None and when.rejected_day is not None and _ONE_AFTER.search(text):
        # "Not this Friday, the one after."
        return dataclasses.replace(when, day=when.rejected_day + timedelta(days=7)), False
    before = _WEEKDAY_BEFORE.search(text)
    if before is not None and when.day is not None:
        anchor = when.day
        wanted = WEEKDAY_WORDS.index(before.group("wd"))
        back = (anchor.weekday() - wanted) % 7 or 7
        day = anchor - timedelta(days=back)
        if day < today:
            return dataclasses.replace(when, day=None, ordinal=None, mentioned=()), True
        return dataclasses.replace(when, day=day, ordinal=None), False
    after = _WEEKDAY_AFTER.search(text)
    if after is not None and when.day is not None:
        if when.day.weekday() == WEEKDAY_WORDS.index(after.group("wd")):
            return dataclasses.replace(when, day=when.day + timedelta(days=7)), False
    if when.at is None and _AFTER_WORK.search(text):
        return dataclasses.replace(when, part="evening"), False
    if when.at is None and _LUNCH.search(text):
        return dataclasses.replace(when, at=time(12, 0), part="afternoon"), False
    return when, False
