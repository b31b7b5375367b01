"""The words of one business, compiled once per profile, and the services an utterance names.

:func:`lexicon_for` turns an :class:`~voiceops.core.profile.AgentProfile` into a
:class:`Lexicon` of precompiled patterns (service names and aliases, FAQ keywords, the
answer to "where are you?"), kept with the profile so it is built once, however many calls
use it. :func:`named_services` finds
the services named in an utterance (leaving out one turned down: "scrap the colour"),
:func:`service_whens` the day and time said with each, :func:`asked_offered` what the
caller asks whether the business does ("do you do fades?"), and :func:`faq_answer` the FAQ
entry a question asks for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from voiceops.core.phone import read_phone
from voiceops.core.profile import AgentProfile
from voiceops.flow.inflect import Named, inflections, merge_halves, said_of_something
from voiceops.flow.when import When, normalise, parse_when


def phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
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
    inflected: re.Pattern[str] | None
    """Verb forms of service words ("coloured", "dyeing"), named only when said of something."""
    inflected_keys: dict[str, str]
    """Verb form -> the name or alias it is a form of."""
    combos: tuple[tuple[frozenset[str], str, str], ...]
    """Names and aliases of two or more words: (their words, the key, the service)."""
    stop: frozenset[str]
    """Words that are never part of a caller's name (service words)."""
    region: str
    where: str | None = None
    """The answer to "where are you?": the FAQ entry that says, else the profile's address."""


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
        pattern = phrase_pattern(entry.keywords)
        if pattern is not None:
            faq.append((pattern, entry.answer))
    business = read_phone(profile.business_phone)
    region = (business.region if business is not None else None) or "US"
    stop = frozenset(word for key in names for word in key.split())
    forms = {form: key for key in names for form in inflections(key) if form not in names}
    spoken = sorted(forms, key=len, reverse=True)
    where = next((a for pattern, a in faq if any(pattern.search(w) for w in _WHERE_WORDS)), None)
    if where is None and profile.address:
        where = f"We're at {profile.address}."
    return Lexicon(
        services=phrase_pattern(list(names)),
        service_names=names,
        faq=tuple(faq),
        triggers=phrase_pattern(list(profile.escalation.trigger_phrases)),
        inflected=re.compile(rf"\b(?:{'|'.join(map(re.escape, spoken))})\b") if spoken else None,
        inflected_keys=forms,
        combos=tuple((frozenset(k.split()), k, v) for k, v in names.items() if " " in k),
        stop=stop,
        region=region,
        where=where,
    )


_WHERE_WORDS = ("address", "where are you", "location", "located", "directions", "find us")
"""What an FAQ entry about where the business is would have among its keywords."""
_WHERE_ASKED = re.compile(
    r"\bwhere(?:abouts)?(?: exactly| abouts| about)? (?:(?:you|you guys|y'all) (?:are|'re)\b"
    r"|are you(?: guys)?\b|you're\b|is (?:the|your) (?:salon|shop|place|store|business)\b"
    r"|(?:the|your) (?:salon|shop|place) is\b|(?:do|can|should|would) i (?:go|find you)\b"
    r"|to find you\b|is it located\b)"
    r"|\b(?:your|the|what's the|what is the) (?:address|location)\b"
    r"|\bhow (?:(?:do|can|would|should) )?i (?:get|find)(?: to)? (?:you|the salon|your salon"
    r"|the shop|your shop|your place)\b"
)
"""Where the business is, asked in so many words: "where exactly you are", "how do I find
you", "what's the address"; answered from :attr:`Lexicon.where` whatever the FAQ's keywords."""


def lexicon_for(profile: AgentProfile) -> Lexicon:
    """The compiled lexicon of ``profile``, built once per profile and kept with it."""
    return profile.derived("flow.lexicon", _build_lexicon)


# --------------------------------------------------------------------------------------
# services named in an utterance

_NOT_THIS = re.compile(
    r"\b(?:not|instead of|rather than|scrap|scratch|drop|skip|ditch|forget(?: about)?|without"
    r"|no more|hold off on) (?:a |an |the |my |that |this )?$|\bno $"
)
_MEANT = re.compile(r"\b(?:i meant|meant to say)\b")
""""I said haircut but I meant colour": a service named before it is taken back by one after."""
_NOT_THIS_REACH = 24
"""How far before a service name ``_NOT_THIS`` looks: its longest form and an article."""
_NOT_OFFERED = re.compile(
    r"\b(?:tattoos?|piercings?|nails?|manicures?|pedicures?|massages?|waxing|wax|facials?"
    r"|eyelash(?:es)?|lash(?:es)? extensions|lashes|eyebrows?|brows|botox|tanning|spray tans?"
    r"|make ?up|perms?|hair extensions|extensions|braids|braiding|dreadlocks|teeth whitening"
    r"|laser hair removal)\b"
)
"""Services people ask a salon for; those the profile does not list are not offered."""


_NOT_NOW = re.compile(
    r" (?:can wait|(?:will|would|'ll) have to wait|can be (?:another|some other) (?:day|time)"
    r"|(?:for|on) (?:another|some other) (?:day|time)|another time|some other time|next time"
    r"|is off|(?:isn't|is not|not) needed|(?:can|will) keep)\b"
)
"""Words after a service that put it off: "the colour can wait", "the beard another time"."""
_NOT_NOW_REACH = 40
_ONLY = re.compile(r"\b(?:just|only)(?: (?:do|book|have|get|want))?(?: the| a| an)? $")
""""Just the blow dry", "only a haircut": this one, and none of the others asked for."""
_ONLY_REACH = 24


@dataclass(frozen=True, slots=True)
class ServicesSaid:
    """The services one utterance names: those wanted, in order with where each is named,
    those turned down, and whether one is wanted alone ("just the blow dry")."""

    wanted: list[tuple[str, int]]
    dropped: tuple[str, ...] = ()
    only: bool = False


def services_in(text: str, lexicon: Lexicon) -> ServicesSaid:
    """Every service named, wanted or dropped. "Scrap the colour, just a blow dry", "not a
    trim, a colour", "a blow dry, the colour can wait": the one turned down is dropped."""
    if lexicon.services is None:
        return ServicesSaid([])
    named: list[Named] = []
    dropped: list[str] = []
    only = False
    meant = _MEANT.search(text)
    begin = meant.end() if meant and lexicon.services.search(text, meant.end()) else 0
    for match in lexicon.services.finditer(text, begin):
        key = match.group(0).replace("-", " ")
        if key not in lexicon.service_names and key.endswith("s"):
            key = key[:-1]
        name = lexicon.service_names.get(key) or lexicon.service_names.get(key.replace(" ", ""))
        if name is None:
            continue
        start, end = match.start(), match.end()
        if _NOT_THIS.search(text, max(0, start - _NOT_THIS_REACH), start) or _NOT_NOW.match(
            text, end, end + _NOT_NOW_REACH
        ):
            dropped.append(name)
            continue
        only = only or bool(_ONLY.search(text, max(0, start - _ONLY_REACH), start))
        named.append((name, start, end, key))
    said = {word for name, *_ in named for word in name.split()}
    # "My beard is a mess, could I get it trimmed": the beard trim's own word, not a haircut.
    named.extend(n for n in _inflected(text, lexicon, named) if n[1] >= begin and n[3] not in said)
    named.sort(key=lambda n: n[1])
    wanted = [(name, start) for name, start, _, _ in merge_halves(text, named, lexicon.combos)]
    kept = {name for name, _ in wanted}
    return ServicesSaid(wanted, tuple(d for d in dict.fromkeys(dropped) if d not in kept), only)


def named_services(text: str, lexicon: Lexicon) -> list[tuple[str, int]]:
    """Every service named and not dropped, with where it is named, in order. Verb forms
    count where said of something ("get my hair coloured"), and two halves of one name said
    apart count once ("my beard needs a trim")."""
    return services_in(text, lexicon).wanted


def _inflected(text: str, lexicon: Lexicon, named: list[Named]) -> list[Named]:
    if lexicon.inflected is None:
        return []
    found: list[Named] = []
    for match in lexicon.inflected.finditer(text):
        start, end = match.span()
        if any(s < end and start < e for _, s, e, _ in named):
            continue
        if not said_of_something(text, start, end):
            continue
        key = lexicon.inflected_keys[match.group(0)]
        found.append((lexicon.service_names[key], start, end, key))
    return found


def service_whens(
    text: str, named: list[tuple[str, int]], today: date, expect_time: bool
) -> tuple[tuple[str, When], ...]:
    """ "A haircut on Thursday at 5 and a beard trim on Friday at 10": each service with the
    day and time said next to it, when two or more have their own. Each service's part of
    the text runs from its name to the next one's (the first's from the start), so the
    text is read once over all parts."""
    if len({name for name, _ in named}) < 2:
        return ()
    bounds = [0, *(start for _, start in named[1:]), len(text)]
    whens = tuple(
        (name, parse_when(text[bounds[i] : bounds[i + 1]], today, expect_time=expect_time))
        for i, (name, _) in enumerate(named)
    )
    own = [w for _, w in whens if w.day is not None or w.at is not None]
    if len(own) < 2 or len({(w.day, w.at) for w in own}) < 2:
        return ()
    return whens


def not_offered_named(text: str, service: str | None, lexicon: Lexicon) -> str | None:
    missing = _NOT_OFFERED.search(text)
    if missing is None or service or missing.group(0) in lexicon.service_names:
        return None
    return missing.group(0)


_ASKS_OFFERED = re.compile(
    r"^(?:(?:hi|hello|hey|there|so|and|but|um|umm|uh|oh|ok|okay|well|also|no|nope|yes|yeah|right"
    r"|thanks|thank you|(?:i was |i'm |just )?wondering)\s++)*+"
    r"(?:(?:do|can|could|would|if|whether) (?:you|you guys|y'all|ya|the salon|your salon"
    r"|anyone there)|does (?:the salon|your salon|anyone there|anybody there)) (?:also )?"
    r"(?:do|offer|provide|perform|specialize in|specialise in)\s++(?P<what>.+)$"
)
"""Asking whether the business does something ("do you do fades?", "do you offer keratin")."""
_ASKS_SAME = re.compile(
    r"^(?:(?:hi|hello|hey|so|and|but|um|umm|uh|oh|ok|okay|well|also|right|alright|what about"
    r"|how about)\s++)*+(?:(?P<what>[a-z]++(?: [a-z]++)?),? (?:is that|is it|would that be)"
    r"|(?:is|are|would) (?P<other>[a-z]++(?: [a-z]++)?)) (?:the same|similar|the same thing)\b"
)
"""Asking whether another word is a service already spoken of ("balayage, is that the same?")."""
_NOT_A_SERVICE = re.compile(
    r"^(?:(?:a|an|the|any|some)\s++)?(?:it|that|this|these|those|them|me|us|him|her|anything"
    r"|something|everything|more|better|much|what|discounts?|deals?|specials?|offers?|coupons?"
    r"|promo\w*|student|senior|memberships?|loyalty|financing|payment\w*|appointments?"
    r"|bookings?|consultations?|same day|home visits?|house calls?)\b"
)
"""What follows "do you do" that is not a service to look for on the list."""
_ASKED_WORDS = 4
_NEXT_QUESTION = re.compile(
    r"\b(?:how|what|when|where|which|why|is (?:it|that|there)|are (?:they|there)|would (?:it|that)"
    r"|do (?:you|they|i)|does (?:it|that)|can (?:i|you|we)|could (?:i|you|we)|if so|and if)\b"
)
""""Do you do keratin treatments? How much would that be?": the thing asked about ends where
the next question starts (the question marks are gone from the normalised text)."""
_ASKED_END = re.compile(r"(?:\s+(?:and|or|also|too|then|at all|by any chance|there))+$")


def asked_offered(text: str) -> str | None:
    """What the caller asks whether the business does ("fades"), in a few words, or None."""
    match = _ASKS_OFFERED.search(text)
    same = _ASKS_SAME.search(text) if match is None else None
    if same is not None:
        return same.group("what") or same.group("other")
    if match is None:
        return None
    what = _NEXT_QUESTION.split(match.group("what"), maxsplit=1)[0].strip()
    what = _ASKED_END.sub("", what)
    if not what or _NOT_A_SERVICE.search(what) or len(what.split()) > _ASKED_WORDS:
        return None
    return what


_HAIR = r"(?:hair|fringe|bangs|mop|mane)"
_UNTIDY = (
    r"(?:mess|messy|disaster|shaggy|scruffy|overgrown|long|wild|out of control|bushy|unruly"
    r"|state|wreck|nightmare|bird'?s nest)"
)
_CUT_WORDS = (
    rf"{_HAIR}(?:(?:'s|s)|(?: \w+){{0,2}} (?:is|are|looks?|looking|has gone|has got|gone"
    rf"|getting|got))(?: \w+){{0,3}} {_UNTIDY}"
    rf"|(?:fix|sort out|sort|tidy up|tidy|tame) (?:my|her|his|their|the|this) (?:\w+ )?{_HAIR}"
    r"|grown out|too long|overgrown|scruffy|shaggy"
)
_NEEDS_CUT = re.compile(rf"\b(?:{_CUT_WORDS})\b")
"""Hair that wants cutting, in so many words: "my hair is a total mess", "sort my hair out"."""
HAIR_WANTED = re.compile(
    rf"\b(?:{_CUT_WORDS}|(?:something|anything) (?:done )?(?:with|to|for|about)"
    rf" (?:my|her|his|their) {_HAIR}|do something (?:with|about) (?:my|her|his|their) {_HAIR}"
    rf"|(?:new|fresh|different) (?:look|style|hairstyle))\b"
)
"""The caller wants something done to their hair without naming a service: a booking."""


def likely_service(text: str, lexicon: Lexicon) -> str | None:
    """The service that hair said to want cutting sounds like ("my hair is a mess, can you
    fix it?": the haircut), when the profile has one called so."""
    if not _NEEDS_CUT.search(text):
        return None
    names = lexicon.service_names
    return names.get("haircut") or names.get("hair cut") or names.get("cut")


# --------------------------------------------------------------------------------------
# FAQ answers

LATEST = re.compile(
    r"\b(?:how (?:late|early)|(?<!\blike )(?<!\bas )(?<!\bmy )(?<!\bour )(?<!\bsince )"
    r"(?<!\bthan )(?<!\bfrom )(?:last|latest|earliest) (?:appointment|booking|slot|time|start)"
    r"(?! (?:i|we) (?:came|was|were|had|did|got|went|visited|booked|saw)\b)"
    r"|open (?:till|until) (?:when|what time))\b"
)
"""The first or last start of a day asked for ("how late can I get a haircut?")."""
_FAQ_ASK = re.compile(
    r"\b(?:do you|is there|are there|can i|can we|could i|may i|will i|tell me|wonder\w*|whether"
    r"|if there's|if there is|anywhere|(?:question|questions|ask|asking|enquiring|inquiring) about"
    r"|want to know|like to know|any|what about|how about|what's|what is|where's|where is"
    r"|how do|how can)\b"
)
"""Asking about something, so a single FAQ word in it is a question about that."""
_PART_OF_DAY = re.compile(
    r"\b(?:late|later|early|earlier) (?:in the )?(?:morning|afternoon|evening|day|lunch)\b"
)
"""A part of the day asked for, whose words an FAQ keyword may share ("late")."""
_FAQ_BEYOND = re.compile(
    r"\b(?:validat\w*|reimburs\w*|refund\w*|discount\w*|overnight|loyalty|rewards?"
    r"|membership\w*|points|stamp card|punch card)\b"
)
"""Asking more than an FAQ entry says ("do you validate parking?"): it does not answer it."""


_ERRAND = re.compile(
    r"\b(?:drop(?:ping)?|pick(?:ing)?|collect(?:ing)?|get(?:ting)?) (?:off |up )?(?:the |my |our )?"
    r"(?:kids?|children|son|daughter|grandkids?|little ones?)\b"
)
"""The caller's own errand ("after I drop the kids at school"): no question about kids' cuts."""


def faq_answer(text: str, name: str | None, question: bool, lexicon: Lexicon) -> str | None:
    """The FAQ answer the utterance asks for. A name is not a question ("Jo Park" asks
    nothing about parking), and a keyword inside an hours question is not one either ("how
    late can I come?" is not about arriving late)."""
    asked = text
    if name:
        asked = re.sub(rf"\b{re.escape(normalise(name))}\b", " ", text)
    latest = LATEST.search(asked)
    if latest is not None:
        asked = f"{asked[: latest.start()]} {asked[latest.end() :]}"
    asked = _PART_OF_DAY.sub(" ", asked)  # "late morning" is a time, not arriving late
    asked = _ERRAND.sub(" ", asked)
    asking = question or bool(_FAQ_ASK.search(asked))
    found: list[tuple[int, int, str]] = []
    for pattern, answer in lexicon.faq:
        match = pattern.search(asked)
        # One word counts when asked about; a phrase ("where are you") always does.
        if match and (asking or " " in match.group(0)):
            found.append((match.start(), match.end(), answer))
    where = _WHERE_ASKED.search(asked) if lexicon.where else None
    if where is not None and lexicon.where not in {answer for _, _, answer in found}:
        found.append((where.start(), where.end(), lexicon.where or ""))
    if not found or _FAQ_BEYOND.search(asked):
        return None
    # "Where are you and is there parking?": each entry asked about, in the order asked; of
    # entries matching the same words, the one matching most of them.
    chosen: list[tuple[int, int, str]] = []
    for start, end, answer in sorted(found, key=lambda f: f[0] - f[1]):
        if all(end <= left or start >= right for left, right, _ in chosen) and answer not in {
            a for _, _, a in chosen
        }:
            chosen.append((start, end, answer))
    return " ".join(answer for _, _, answer in sorted(chosen))
