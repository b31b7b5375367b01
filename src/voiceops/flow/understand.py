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

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from voiceops.agent.intent import wants_person
from voiceops.core.profile import AgentProfile
from voiceops.flow.contractions import restore
from voiceops.flow.cues import ADDRESSED, OFF_TOPIC, asks, cues
from voiceops.flow.hours import DAY_HOURS
from voiceops.flow.lexicon import (
    HAIR_WANTED,
    LATEST,
    Lexicon,
    asked_offered,
    faq_answer,
    lexicon_for,
    named_services,
    not_offered_named,
    service_whens,
)
from voiceops.flow.lookup import ASKS_LOOKUP
from voiceops.flow.moving import asks_to_move
from voiceops.flow.naming import bare_name, names_in, read_name, stylist_named, surname_only
from voiceops.flow.othertimes import asks_other_times
from voiceops.flow.relative import CORRECTION, Relative, read_relative
from voiceops.flow.replies import Reply, Social, blank_greeting, read_reply, read_social
from voiceops.flow.spelling import join_spelled
from voiceops.flow.when import When, normalise, parse_when, utterance_tail
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
Expectation = Literal["time", "name", "phone", "pick", "free_text", "read_back", "slot"]
"""What kind of short answer the agent's last question invites ("slot": a service or day,
where a known given name alone is the caller's name, given ahead)."""

UNINTELLIGIBLE = re.compile(r"\(\s*unintelligible audio\s*\)", re.IGNORECASE)

# --------------------------------------------------------------------------------------
# intent patterns (over normalised text: lower case, no punctuation but apostrophes)

_CANCEL = re.compile(r"\b(?:cancel(?:l?ing|led|s)?|call (?:it |that )?off)\b")
_POLICY = re.compile(r"\bpolic(?:y|ies)\b")
_FIXING = re.compile(r"\b(?:no|nope|sorry|actually|not|wrong|oops)\b")
"""Words of a correction: "oh sorry, it's Pria" to a read-back changes the name."""
_BOOK = re.compile(
    # "An appointment" asks for one; "the appointment" is one already in mind ("can I bring
    # my dog to the appointment?").
    r"\b(?:book(?:ing)?|(?<!the )(?<!my )(?<!our )(?<!your )appointment|schedule|reserve"
    r"|reservation|come in|come by"
    r"|availab\w*|openings|(?:an|any) opening|are you free|anything free|something free"
    r"|free (?:slot|time|spot)s?|slots?|squeeze me in|fit me in|(?:get|have) my hair"
    r"|do my hair|hair done)\b"
)
_WANT = re.compile(
    r"\b(?:get (?:a|an|my)|(?:i'd|i would|i want|i wanna|i need|like|need) (?:a|an|to get|my))\b"
)
"""Asking for something: a booking only when a service is named with it."""
_PRICE = re.compile(
    r"\b(?:how much|prices?|pricing|costs?|charge|fees?|rates?|expensive|cheap|owe)\b"
)
_DURATION = re.compile(
    r"\b(?:how long|duration|how many minutes|(?<!n't )(?<!not )takes? long|length of)\b"
)
"""Asking how long a service takes; "it won't take long" asks nothing."""
_HOURS = re.compile(
    r"\b(?:open|opening (?:hours|times)|clos(?:e|es|ed|ing)|(?:business|your|the|what) hours"
    r"|what time do you)\b"
)
_SERVICES = re.compile(
    r"\b(?:what (?:services|treatments)|what do you (?:do|offer|have)|what can i (?:get|book)"
    r"|what (?:kind|kinds|sort|sorts) of|services do you|list of (?:your |the )?services"
    r"|your services|menu)\b"
)
_ASK = re.compile(
    r"\b(?:(?:another|one more|a quick|a) question|something else|one more thing"
    r"|ask (?:you )?(?:something|a question))\b"
)
"""The caller has more to ask, without asking it yet."""
_OUR_TIME = r"(?:your|the salon's|the shop's|salon|shop|business|local|eastern|pacific|central)"

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
    social: Social | None = None
    """Small talk to answer before going on (or, for a wrong number, to end on)."""
    week_hours: bool = False
    """The hours of the whole week asked for."""
    not_offered: str | None = None
    """A service the business does not list ("tattoos")."""
    offered_asked: str | None = None
    """What the caller asks whether the business does ("do you do fades?"): a service or
    alias of the profile's, or something the list doesn't name."""
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
    weekday_after: int | None = None
    """"The Tuesday after" (its weekday, Monday 0): after the day just talked about, if any."""
    service_whens: tuple[tuple[str, When], ...] = ()
    """Each service with its own day and time, when two or more have one ("a haircut on
    Thursday at 5 and a beard trim on Friday at 10")."""
    latest: bool = False
    """"How late can I come?", "what's the last appointment?": the last start of a day."""
    billing: bool = False
    """A billing matter: a charge disputed, a refund, the bill ("I was charged twice")."""
    stylist: str | None = None
    """A stylist asked for by name ("with Maria"), who is not the caller."""
    trailing: bool = False
    """The utterance stops mid-thought ("so I was uh"): more is coming."""
    repeat: bool = False
    """"What?", "could you repeat that?": the agent's last words, again."""
    surname_only: bool = False
    """Only a surname is given ("last name's Kelly"): it goes after a first name said before."""
    new_booking: bool = False
    """A new booking asked for ("book me a new one"), not the one the caller has."""

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
    def unlisted(self) -> bool:
        """Asked whether the business does something its services don't name."""
        return self.offered_asked is not None and self.service is None and not self.not_offered

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
            or self.unlisted
            or self.unknown_question
            or self.off_topic
        )


def _intents(
    text: str, spoken: str, service: str | None, profile: AgentProfile, reply: Reply, *, timed: bool
) -> set[Intent]:
    intents: set[Intent] = set()
    if _CANCEL.search(text) and not _POLICY.search(text):
        intents.add("cancel")
    if asks_to_move(text, named=service is not None):
        intents.add("reschedule")
    if ASKS_LOOKUP.search(text):
        intents.add("lookup")
    if _PRICE.search(text):
        intents.add("price")
    if _DURATION.search(text):
        intents.add("duration")
    if _HOURS.search(text) or LATEST.search(text) or DAY_HOURS.search(text):
        intents.add("hours")
    asks_about = intents & {"price", "duration", "hours"}
    wants = service is not None and _WANT.search(text) and not asks_about
    booking = _BOOK.search(text) or wants or HAIR_WANTED.search(text)
    if not intents & {"cancel", "reschedule", "lookup"} and booking:
        # "How late can I get a haircut?" asks the hours; "I'd like to get a haircut" books.
        intents.add("book")
    if _SERVICES.search(text):
        # "What do you have in the morning?": free times (for the booking being moved, if
        # one is), not the list of services.
        if not timed:
            intents.add("services")
        elif not intents & {"cancel", "reschedule", "lookup"}:
            intents.add("book")
    if wants_person(spoken, profile.escalation):
        intents.add("human")
    if reply.thanks:
        intents.add("thanks")
    if reply.greeting:
        intents.add("greeting")
    if _ASK.search(text):
        intents.add("ask")
    return intents


def _business_time(text: str, profile: AgentProfile) -> bool:
    """ "I mean New York time", "your time": the times said are the business's."""
    place = normalise(zone_place(profile.zone))
    return bool(re.search(rf"\b(?:{_OUR_TIME}|{re.escape(place)}) time\b", text))


def _callers_name(
    spoken: str,
    text: str,
    lexicon: Lexicon,
    expect: Expectation | None,
    stylist: str | None,
    wanted: bool,
) -> str | None:
    """The caller's name said, not the stylist's ("with Maria")."""
    asked, bare = expect == "name", expect in ("time", "slot")
    # "No, it's Pria" to the read-back, "sorry, it's Samira not Sam" while times are
    # offered: a name corrected, on the list of names or not.
    fixing = expect in ("read_back", "time") and bool(
        _FIXING.search(text) or CORRECTION.search(text)
    )
    name = read_name(spoken, lexicon.stop, asked=asked, bare=bare, wanted=wanted or fixing)
    return None if name is not None and name.split()[0] == stylist else name


def slot_reply(awaiting: str) -> Expectation | None:
    return "slot" if awaiting in ("service", "day") else None


def _unknown(text: str, expect: Expectation | None) -> bool:
    """A question nothing else answered is about the business ("can I bring my dog?"), not a
    reply to a question of the agent's."""
    if asks_other_times(text) is not None:
        return False  # "do you have anything later?" asks for times
    return expect not in ("name", "phone", "free_text") and bool(ADDRESSED.search(text))


def _replied(reply: Reply, relative: Relative) -> bool:
    """The reply answers something other than a name: no, a pick, a number, a time. (A yes
    may come with one: "yeah, Bo".)"""
    return (
        reply.deny
        or reply.pick is not None
        or reply.phone is not None
        or not relative.when.empty
        or relative.shift is not None
        or relative.from_now is not None
        or relative.first_thing
    )


def understand(
    raw: str,
    profile: AgentProfile,
    today: date,
    *,
    expect: Expectation | None = None,
    name_wanted: bool = False,
) -> Understanding:
    """Read one caller utterance. ``today`` is the caller-local date; ``expect`` is the kind
    of answer the agent's last question invites (it widens what a bare reply may mean);
    ``name_wanted`` says a booking under way still needs a name, so a reply that is only
    one or two words and nothing else ("Dev") is taken as it, known given name or not.
    Only the tail of a long utterance is read (see the module docstring)."""
    lexicon = lexicon_for(profile)
    heard = restore(utterance_tail(raw))
    unspelled = UNINTELLIGIBLE.sub(" ", heard)
    spoken = join_spelled(unspelled)  # "S I O B H A N": Siobhan
    text = normalise(spoken)
    if not text:
        return Understanding(text="", unintelligible=bool(UNINTELLIGIBLE.search(heard)))
    # A word spelled out is a name, on the list of given names or not ("its ewa, e w a").
    spelled = spoken != unspelled
    return _read(text, spoken, profile, lexicon, today, expect, name_wanted or spelled)


def _timing(text: str, today: date, expect: Expectation | None) -> tuple[bool, str, Relative]:
    """Whether a bare number is a time here, the text to read times in, and what it says
    about when."""
    expect_time = expect == "time" or (expect != "phone" and bool(CORRECTION.search(text)))
    # "Good afternoon" opening a call greets; it asks for no afternoon.
    timed = blank_greeting(text)
    relative = read_relative(text, today, parse_when(timed, today, expect_time=expect_time))
    return expect_time, timed, relative


def _read(
    text: str,
    spoken: str,
    profile: AgentProfile,
    lexicon: Lexicon,
    today: date,
    expect: Expectation | None,
    name_wanted: bool,
) -> Understanding:
    """:func:`understand` past the clean-up: ``text`` normalised, ``spoken`` as heard."""
    named = named_services(text, lexicon)
    service = named[-1][0] if named else None  # the last one wins: "not a trim, a colour"
    services = tuple(dict.fromkeys(name for name, _ in named))
    reply = read_reply(text, spoken, lexicon.region)
    expect_time, timed, relative = _timing(text, today, expect)
    intents = _intents(text, spoken, service, profile, reply, timed=not relative.when.empty)
    stylist = stylist_named(spoken, lexicon.stop)
    name = _callers_name(spoken, text, lexicon, expect, stylist, name_wanted)
    question = asks(text, spoken)
    asks_faq = lexicon.faq and not intents & {"cancel", "reschedule", "lookup"}
    faq = faq_answer(text, name, question, lexicon) if asks_faq else None
    not_offered = not_offered_named(text, service, lexicon)
    offered_asked = asked_offered(text) if not faq else None
    social = read_social(text, question)
    if name is None and name_wanted and not (intents or service or _replied(reply, relative)):
        # A name is wanted: a reply that is nothing but one is one, on the list or not.
        name = bare_name(spoken, lexicon.stop)
    off_topic = bool(OFF_TOPIC.search(text))
    answered = (
        bool(intents - {"thanks", "greeting"} or faq or service or not_offered or social)
        or stylist is not None
        or offered_asked is not None
        or not relative.when.empty
        or relative.same_time
        or off_topic
    )
    return Understanding(
        **cues(text),
        **relative.fields(),
        **reply.fields(),
        text=text,
        intents=frozenset(intents),
        service=service,
        name=name,
        faq=faq,
        question=question,
        services=services if len(services) > 1 else (),
        service_whens=service_whens(timed, named, today, expect_time),
        social=social,
        not_offered=not_offered,
        stylist=stylist,
        offered_asked=offered_asked if relative.when.empty else None,
        unknown_question=question and not answered and _unknown(text, expect),
        off_topic=off_topic,
        business_time=_business_time(text, profile),
        names=names_in(spoken, lexicon.stop) if expect in ("name", "time") else (),
        surname_only=name is not None and surname_only(spoken, lexicon.stop),
    )
