"""Names as callers give them: "it's Priya Shah", "under Ana", "for my son Leo", a bare
"Sam" after "what name should I put it under?", "Last name Okafor, first name Chidi",
"Ollie's the name", "it's Samira, not Sam", "put it under my name … Karen Walsh"; and not
the people a caller talks about ("my friend Jean said you were good").

:func:`read_name` finds the name in one utterance; what may be a name at all is decided
with :mod:`voiceops.flow.names` (a list of given names, and words that never are). Every
pattern here is linear in the text: whitespace runs are possessive, and the opening words
of a reply are matched once.
"""

from __future__ import annotations

import re

from voiceops.flow.names import GIVEN_NAMES, NOT_NAMES

_NAME_EXPLICIT = re.compile(
    r"\b(?:my name is|my name's|my name|name's|the name is|name is|under the name(?: of)?|call me"
    r"|it's under|put it under|book it under|booked under|(?:he's|she's|he is|she is|i'm|i am)"
    r" called|call (?:him|her)|(?:gave|give|put) (?:my|the|his|her) name (?:down )?as"
    r"|(?:put|book|have) (?:it|me|us|that|him|her) (?:down )?(?:as|for the name))\s+(?P<rest>.+)",
    re.IGNORECASE,
)
_MY_NAME = re.compile(r"\b(?i:(?:under|use|in|with|for) my (?:own )?name)\b")
""""Put it under my name": the caller's own name, said wherever it comes (":func:`_tail`)."""
_TAIL = re.compile(r"(?P<rest>[^\W\d_][\w'\-]*+(?:\s++[^\W\d_][\w'\-]*+)?)[\s.!]*+$")
"""The last one or two words of an utterance."""
_THE_NAME = re.compile(
    r"(?:^|[\s,.])(?P<rest>[^\W\d_][\w\-]*+(?:\s++[^\W\d_][\w\-]*+)?)(?P<s>'s|\s++is)?"
    r"\s++(?i:the name)\b"
)
""""Ollie's the name", "ollies the name" (an apostrophe lost), "Ollie Walsh is the name"."""
_NOT_THAT = re.compile(
    r"\b(?i:it's|it is|its|name's|name is)\s++"
    r"(?P<rest>[^\W\d_][\w'\-]*+(?:\s++[^\W\d_][\w'\-]*+)?)[\s,]*+(?i:not|rather than"
    r"|instead of)\s"
)
""""It's Samira, not Sam": a name set against another, whatever the list of names says."""
_CAPITALISED = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'\-]+"
"""A capitalised Latin word, as speech-to-text writes names."""
# The whitespace runs below are possessive (``\s*+``, ``\s++``): a run of spaces is read
# once, never split between two quantifiers in every possible way, which made a long run
# cost its length squared.
_NAME_THIS_IS = re.compile(
    rf"\b(?:(?i:this is|i'm|i am) (?P<rest>{_CAPITALISED}(?: {_CAPITALISED})?)"
    rf"|(?i:it's|it is) (?P<full>{_CAPITALISED} {_CAPITALISED}))"
    r"(?=\s*+(?:[,.!?]|$)|\s++(?i:calling|here|speaking)\b)"
)
_NAME_FOR = re.compile(
    rf"\b(?i:for|under) (?P<rest>{_CAPITALISED}(?: {_CAPITALISED})?)\s*+(?:[.!?]\s*+)?$"
)
"""A capitalised name closing the sentence: "a colour on Saturday for Jo"."""
_NAME_ITS = re.compile(
    r"\b(?i:it's|it is|its|this is|i'm|i am)\s++"
    r"(?P<rest>[^\W\d_][\w'\-]*+(?:\s++[^\W\d_][\w'\-]*+)?)"
)
"""A name said in passing: "it's Priya Shah, can I …", "in a rush its jay" (the first word
must be a given name)."""
_NAME_HERE = re.compile(
    r"(?<![\w'])(?<!(?i:is) )(?P<rest>[^\W\d_][\w'\-]*+)\s++(?i:here|speaking|calling)\b"
)
"""``jay here``, ``Mark speaking``: a given name before "here" (not "is Jay here?")."""
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
_RELATIVE_WORDS = (
    r"(?:son|daughter|wife|husband|partner|mum|mom|mother|dad|father|friend|boyfriend"
    r"|girlfriend|kid|child|little (?:boy|girl|one)|boy|girl|brother|sister|grandson"
    r"|granddaughter|niece|nephew)"
)
_REPORTS = re.compile(
    r"\s++(?i:said|says|told|tells|recommended|recommends|suggested|mentioned|who|was|has"
    r"|had|does|did|loves|gets|got|went|goes|came|comes|always|usually|used|works|thinks"
    r"|thought)\b"
)
"""After a name, what makes it someone the caller talks about, not the one booking."""
_NAME_RELATIVE = re.compile(
    rf"\b(?i:for my|my) (?i:{_RELATIVE_WORDS})"
    r"(?P<named>'s name(?:\s++is)?)?,?\s++(?P<rest>[^\W\d_][\w'\-]*+)"
)
"""``for my son Leo``, ``my husband's name Peter``: the booking is for the person named."""
_NAME_CLOSING = re.compile(
    r"\b(?i:it's|it is)\s++(?:(?i:for|under)\s++)?"
    r"(?P<rest>[^\W\d_][\w'\-]*+(?:\s++[^\W\d_][\w'\-]*+)?)\s*+[.!]?\s*+$"
)
"""``… 1 pm is great, it's dev``: a name closing the utterance, read when one is wanted."""
_FIRST_NAME = re.compile(
    r"\b(?i:first name|given name|forename)(?:'?s\b|\s++(?i:is))?[\s,:]++"
    r"(?P<rest>[^\W\d_][\w'\-]*+)"
)
_LAST_NAME = re.compile(
    r"\b(?i:last name|surname|family name)(?:'?s\b|\s++(?i:is))?[\s,:]++"
    r"(?P<rest>[^\W\d_][\w'\-]*+)"
)
"""A name given in parts ("last name Okafor, first name Chidi")."""
_FIRST_NAME_AFTER = re.compile(
    r"(?<![\w'])(?P<rest>[^\W\d_][\w\-]*+)(?:'s|\s++is)\s++(?i:my|the|her|his)\s++"
    r"(?i:first name|given name|forename)\b"
)
_LAST_NAME_AFTER = re.compile(
    r"(?<![\w'])(?P<rest>[^\W\d_][\w\-]*+)(?:'s|\s++is)\s++(?i:my|the|her|his)\s++"
    r"(?i:last name|surname|family name)\b"
)
"""The parts said the other way round: "Kelly's my last name", "Siobhan is the first name"."""
_JOINERS = frozenset(
    {"and", "my", "the", "her", "his", "their", "with", "so", "then", "under", "for", "as", "by"}
)
"""Words between a first name and "last name …" ("Siobhan and my last name is Kelly")."""
_SENTENCE_END = re.compile(r"[.,;!?]\s*+")
_NAME_INTRO = re.compile(
    r"^(?:(?:yes|yeah|yep|sure|ok|okay|uh|um|umm|uhm|er|erm|hmm|ah|oh|hi|hello|so|well|and)"
    r"[\s,]+)*"
    r"(?:(?:it's|it is|its|it'll be|it will be|that's|this is|i'm|i am|my name is|my name's"
    r"|name's|the name is)[\s,]+)?"
    rf"(?:(?:for|under)(?:\s+(?:me|myself|the name(?: of)?|my {_RELATIVE_WORDS}(?:'s name)?))?"
    r"[\s,]+)?"
    r"[\s,]*(?:(?:uh|um|umm|uhm|er|erm)[\s,.]+)*(?P<rest>(?s:.*))",
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
    november december me him her them us everyone everybody someone somebody first last
    surname put use it'll that'll
    """.split()
)
_NAME_PARTICLES = frozenset({"an"})
"""Words of :data:`_NAME_STOP` that may end a name of several words ("Nguyen Van An")."""
_NAME_MAX_WORDS = 4
_NAME_MAX_CHARS = 40


def _title(word: str) -> str:
    return word[:1].upper() + word[1:] if word.islower() else word


def _name_from(fragment: str, extra_stop: frozenset[str]) -> str | None:
    """The leading run of name-like words in ``fragment`` (up to three), title-cased."""
    words: list[str] = []
    parts = re.split(r"\s+", fragment.strip())
    for index, raw in enumerate(parts):
        word = raw.strip('.,!?;:"()')
        if not word:
            break
        lowered = word.lower()
        if not _NAME_WORD.match(word) or (
            (lowered in _NAME_STOP or lowered in NOT_NAMES or lowered in extra_stop)
            and not (words and _closes_name(word, raw, parts[index + 1 :]))
        ):
            break
        if words and words[-1] == "O" and parts[index - 1].lower() == "o":
            words[-1] = f"O'{_title(word)}"  # "o connor", as transcribed: O'Connor
        else:
            words.append(_title(word))
        if len(words) == _NAME_MAX_WORDS or raw[-1:] in ".,!?;:":
            break
    name = " ".join(words)
    return name if words and len(name) <= _NAME_MAX_CHARS else None


def _closes_name(word: str, raw: str, after: list[str]) -> bool:
    """A word that is a name's last part though it is a word of its own elsewhere: "An" of
    "Nguyen Van An", said last or with its capital."""
    ends = not after or raw[-1:] in ".,!?;:"
    return word.lower() in _NAME_PARTICLES and (word[:1].isupper() or ends)


def _given(candidate: str | None) -> str | None:
    """``candidate`` when its first word is a known given name."""
    if candidate and candidate.split()[0].lower() in GIVEN_NAMES:
        return candidate
    return None


def read_name(
    raw: str, stop: frozenset[str], *, asked: bool, bare: bool = False, wanted: bool = False
) -> str | None:
    """The caller's name in ``raw``, if one is given. ``asked`` says the agent has just
    asked for it, so a bare reply ("Sam", "Becker. Tom Becker.") is the name; ``stop`` holds
    the business's own words (service names), which are never part of one. With ``bare``
    (the agent is waiting for a time, and a booking needs a name) a reply that is only a
    known given name ("Priya.") is one too. With ``wanted`` (a booking under way has no
    name yet) "it's Dev" or "it's for Lena" closing the reply is one, on the list or not."""
    found = _name_parts(raw, stop) or _said_explicitly(raw, stop)
    if found is not None:
        return found
    relative = _NAME_RELATIVE.search(raw)
    rest = relative.group("rest") if relative else ""
    if (
        relative
        and (relative.group("named") or rest[:1].isupper() or _given(rest) or asked or wanted)
        and not _REPORTS.match(raw, relative.end("rest"))
    ):
        # "for my son Leo" (or "for my son ollie" when a name is wanted), not "my sister
        # told me".
        return _name_from(raw[relative.start("rest") :], stop)
    passing: tuple[re.Pattern[str], ...] = (_NAME_ITS, _NAME_HERE, _NAME_UNDER)
    if not asked:
        passing = (*passing, _NAME_IN_PASSING)
    for pattern in passing:
        for match in pattern.finditer(raw):
            if _REPORTS.match(raw, match.end("rest")):
                continue  # "my friend Jean said you were good": Jean is not booking
            found = _given(_fullest(raw[match.start("rest") :], stop))
            if found is not None:
                return found
    found = _closing(raw, stop) if wanted else None
    if found is not None:
        return found
    if not asked:
        return _given(_bare(raw, stop)) if bare else None
    intro = _NAME_INTRO.match(raw.strip())
    if intro is None:
        return None
    return _fullest(intro.group("rest"), stop)


def _said_explicitly(raw: str, stop: frozenset[str]) -> str | None:
    """A name given in so many words: "my name is …", "put it under …", "Ollie's the name",
    "this is Priya", "It's Margaret Collins.", "it's Samira, not Sam", "under my name …
    Karen Walsh"."""
    the_name = _THE_NAME.search(raw)
    if the_name is not None:
        rest = the_name.group("rest")
        if the_name.group("s") is None:
            # "ollies the name": the apostrophe lost ("James the name" keeps its s).
            rest = "" if not rest.endswith("s") else rest if _given(rest) else rest[:-1]
        found = _name_from(rest, stop) if rest else None
        if found is not None:
            return found
    explicit = _NAME_EXPLICIT.search(raw) or _NAME_THIS_IS.search(raw) or _NAME_FOR.search(raw)
    if explicit is not None:
        found = _name_from(explicit.group("rest") or explicit.group("full"), stop)
        if found is not None:
            return found
    corrected = _NOT_THAT.search(raw)
    if corrected is not None:
        found = _name_from(corrected.group("rest"), stop)
        if found is not None:
            return found
    if _MY_NAME.search(raw):
        # "Put it under my name, he's only six. Karen Walsh": the name closing it.
        return _tail(raw, stop)
    return None


def _tail(raw: str, stop: frozenset[str]) -> str | None:
    """The one or two name words closing ``raw``, when they are nothing but a name."""
    tail = _TAIL.search(raw)
    if tail is None:
        return None
    found = _name_from(tail.group("rest"), stop)
    if found is not None and len(found.split()) == len(tail.group("rest").split()):
        return found
    return None


def _closing(raw: str, stop: frozenset[str]) -> str | None:
    """ "… it's dev": a name closing the reply, read when a booking wants one."""
    closing = _NAME_CLOSING.search(raw)
    if closing is None:
        return None
    found = _name_from(closing.group("rest"), stop)
    if found is not None and len(found.split()) == len(closing.group("rest").split()):
        return found
    return None


def _bare(raw: str, stop: frozenset[str]) -> str | None:
    """A reply that is nothing but a name ("Priya.", "Tom Becker"), at most two words."""
    words = raw.strip().rstrip(".!").split()
    if not 1 <= len(words) <= 2 or not all(w[:1].isupper() for w in words):
        return None
    name = _name_from(raw, stop)
    return name if name is not None and len(name.split()) == len(words) else None


def bare_name(raw: str, stop: frozenset[str]) -> str | None:
    """A reply that is only a name, whatever its capitals and whether or not the list of
    given names knows it ("Dev", "um, it's dev", "Ngozi Eze", "It is Margaret. Margaret
    Ellis."): a sentence or two of one to three name words after the opening ones, none a
    filler or a business word, and not a question."""
    if "?" in raw:
        return None
    intro = _NAME_INTRO.match(raw.strip())
    rest = intro.group("rest") if intro is not None else raw
    said = [part for part in _SENTENCE_END.split(rest) if part.strip()]
    if not 1 <= len(said) <= 2:
        return None
    for part in said:
        words = part.split()
        name = _name_from(part, stop)
        if not 1 <= len(words) <= 3 - len(said) + 1 or name is None:
            return None
        if len(name.split()) != len(words):
            return None
    return _fullest(rest, stop)


def _name_parts(raw: str, stop: frozenset[str]) -> str | None:
    """ "Last name Okafor, first name Chidi" (either order): given name, then surname; "It's
    Siobhan, last name Kelly", "Kelly, first name Siobhan": the other part said before."""
    first = _FIRST_NAME.search(raw) or _FIRST_NAME_AFTER.search(raw)
    last = _LAST_NAME_AFTER.search(raw) or _LAST_NAME.search(raw)
    if first is None and last is None:
        return None
    given = _name_from(first.group("rest"), stop) if first is not None else None
    family = None
    if last is not None:
        # "Last name van der Berg": the words after it, up to three ("Kelly's my last name":
        # the one before).
        rest = raw[last.start("rest") :] if last.re is _LAST_NAME else last.group("rest")
        family = _name_from(rest, stop)
    one = first or last
    if (given is None) != (family is None) and one is not None:
        before = _said_before(raw[: min(one.start(), one.start("rest"))], stop)
        if before is not None and before not in (given, family):
            given, family = (given, before) if given else (before, family)
    whole = " ".join(part for part in (given, family) if part)
    return whole or None


def surname_only(raw: str, stop: frozenset[str]) -> bool:
    """Only a surname is given ("last name's Kelly", "and the surname is Kelly"): it goes
    with a first name said before, not in its place."""
    last = _LAST_NAME_AFTER.search(raw) or _LAST_NAME.search(raw)
    if last is None or _FIRST_NAME.search(raw) or _FIRST_NAME_AFTER.search(raw):
        return False
    head = raw[: min(last.start(), last.start("rest"))]
    return _said_before(head, stop) is None and _name_from(last.group("rest"), stop) is not None


def _said_before(head: str, stop: frozenset[str]) -> str | None:
    """The name that ``head`` (what comes before "last name …") closes with: "It's
    Siobhan", "im siobhan and my", "Siobhan,"."""
    words = head.rstrip(" ,.;:-").split()
    while words and words[-1].lower().strip(",.;:") in _JOINERS:
        words.pop()
    head = " ".join(words).rstrip(" ,.;:-")
    if not head:
        return None
    found = _said_explicitly(head, stop) or _closing(head, stop)
    if found is not None:
        return found
    last = head.split()[-1]
    return _name_from(last, stop) if _NAME_WORD.match(last) else None


def _fullest(reply: str, stop: frozenset[str]) -> str | None:
    """The name at the start of a bare reply, or a fuller form of it said next: "Becker.
    Tom Becker." is Tom Becker, as is "Tom. Tom Becker." and "Tom. Becker."; "Sam, thanks"
    is Sam."""
    name = _name_from(reply, stop)
    if name is None:
        return None
    head = _SENTENCE_END.search(reply)
    if head is None:
        return name
    rest = reply[head.end() :]
    fuller = _name_from(rest, stop)
    if fuller is not None and len(fuller) > len(name) and name in fuller.split():
        return fuller
    if fuller is not None and " " not in name + fuller and rest.strip(" .!") == fuller:
        return f"{name} {fuller}"  # "Siobhan. Kelly.": the first name, then the last
    return name


_STYLIST = re.compile(
    r"\b(?:(?P<kind>(?i:stylist|hairdresser|barber|colou?rist))|(?i:with|see|ask for|asking for"
    r"|prefer|request|requested|usually (?:have|see|get|go to)))"
    r"\s++(?P<who>[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'\-]++)"
    r"|(?<!(?i:this) )(?<!(?i:it) )\b(?i:is|will|does|can)"
    r"\s++(?P<asked>[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'\-]++)"
    r"\s++(?i:be in|be there|be here|in|working|available|there|here|free|work|on)\b"
)
"""A stylist asked for by name: "with Maria", "my stylist Tom", "is Maria in on Friday?"."""


def stylist_named(raw: str, stop: frozenset[str]) -> str | None:
    """The stylist the caller asks for, if any: a given name after "with", "see" or "ask
    for", any name after "stylist" or "barber", or one asked about ("is Maria in?")."""
    for match in _STYLIST.finditer(raw):
        name = _name_from(match.group("who") or match.group("asked"), stop)
        if name is not None and (match.group("kind") or _given(name)):
            return name
    return None


_CAPITALISED_WORD = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'\-]*+")


def names_in(raw: str, stop: frozenset[str]) -> tuple[str, ...]:
    """Every name-like capitalised word of a reply, when there are two or more."""
    found: list[str] = []
    for match in _CAPITALISED_WORD.finditer(raw):
        name = _name_from(match.group(0), stop)
        if name is not None and name not in found:
            found.append(name)
    return tuple(found) if len(found) > 1 else ()
