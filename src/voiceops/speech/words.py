"""Spoken forms for one word of model output: :func:`speak`, :func:`spoken_phone`.

A *word* is a whitespace-free run of raw text, or a few such runs that the filter merged
with single spaces because they form one thing (``9:30 am``, ``$5 million``). :func:`speak`
is pure and runs four passes, each one compiled regular expression:

1. emoji and unsayable non-ASCII symbols out (:mod:`voiceops.speech.emojis`; ASCII words
   skip this);
2. inline markup out: HTML tags, link targets ``](...)``, image ``!``, ``_``/``__``
   emphasis (intra-word underscores stay);
3. entities rewritten, leftmost first: e-mail addresses, URLs (the host only: "example dot
   com"), ISO and US ``M/D/YYYY`` dates, prices and price ranges, phone numbers, clock times
   and time ranges;
4. symbols: ``&``, ``@``, ``%``, ``°`` and operators between numbers become words, every other
   stray symbol is dropped, ``*``/``~`` emphasis, backticks and backslash escapes included.

Forms follow ``voiceops.tools.timefmt`` so a tool's read-back and the model's own words sound
the same: "December 1st, 2026", "9:30 AM", "2 PM", "45 dollars and 50 cents".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time
from typing import Final

from voiceops.core.phone import possible_phone
from voiceops.speech.emojis import strip_emoji

# The business is in New York: a number written without a country code is a US number.
PHONE_REGION: Final = "US"

MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# (one, many, one hundredth, many hundredths)
_CURRENCIES: Final = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
}
_ORDINAL_SUFFIX: Final = {1: "st", 2: "nd", 3: "rd"}
_MAGNITUDES: Final = {
    "k": "thousand",
    "m": "million",
    "b": "billion",
    "bn": "billion",
    "thousand": "thousand",
    "million": "million",
    "billion": "billion",
    "trillion": "trillion",
}

# A word that needs no work at all: letters (with apostrophes and hyphens) or a plain number,
# with ordinary closing punctuation. Most tokens of a reply take this path.
_PLAIN: Final = re.compile(r"(?:[A-Za-z][A-Za-z'\u2019-]*|\d+(?:,\d{3})*(?:\.\d+)?)[.,!?;:]{0,3}")

# Markup that must go before entities are looked for: a link's target ("[text](url)" keeps
# the text, not the URL), an image's "!", and "_it_"/"__bold__" underscores (they are word
# characters, so they would hide what they wrap). "snake_case" keeps its underscore. The
# other markers (``*``, backticks, ``~``, backslashes) are symbols, dropped afterwards.
_MARKUP: Final = re.compile(r"\]\([^\s)]*\)?|!(?=\[)|(?<![^\W_])_+|_+(?![^\W_])")
_HTML_TAG: Final = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\s*/?>")

_AMPM = r"[AaPp](?:\.[Mm]\.|\.?[Mm](?![A-Za-z]))"
_NOT_AFTER = r"(?<![\w:.$/])"
_AMOUNT = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?"
_URL_CHAR = r"[^\s<>()\[\]{}\"'`|]"
_URL_LAST = r"[^\s<>()\[\]{}\"'`|.,;:!?]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_TLD = r"(?i:com|org|net|edu|gov|io|co|us|uk|ai|app|dev|info|biz|me|nyc)"

_ENTITY: Final = re.compile(
    # e-mail before URL: "book@maple.com" is one thing, not "book@" and a domain
    rf"(?P<email>(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]*[A-Za-z0-9])?"
    rf"@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,}}(?![\w-]))"
    rf"|(?P<url>(?<![\w./-])(?:(?:https?://|www\.){_URL_CHAR}*{_URL_LAST}"
    rf"|{_LABEL}(?:\.{_LABEL})*\.{_TLD}(?![\w-]|\.[A-Za-z0-9])(?:/(?:{_URL_CHAR}*{_URL_LAST})?)?))"
    r"|(?P<iso_date>(?<![\w/.-])(?P<iso_y>\d{4})-(?P<iso_m>\d{2})-(?P<iso_d>\d{2})(?![\w/]|[-.]\d))"
    r"|(?P<us_date>(?<![\w/.-])(?P<us_m>\d{1,2})/(?P<us_d>\d{1,2})/(?P<us_y>\d{4})(?![\w/]|[-.]\d))"
    rf"|(?P<price_range>(?<![\w$€£])(?P<pr_cur>[$€£])(?P<pr_a>{_AMOUNT})\s?[-\u2013]\s?[$€£]?"
    rf"(?P<pr_b>{_AMOUNT})(?!\w|[.,]\d))"
    rf"|(?P<price>(?<![\w$€£])(?P<p_cur>[$€£])\s?(?P<p_amt>{_AMOUNT})"
    r"(?:\s?(?P<p_mag>[kKmMbB]|bn|(?i:thousand|million|billion|trillion))(?![A-Za-z]))?"
    r"(?!\w|[.,]\d))"
    r"|(?P<phone>(?<![\w+$€£.-])(?:\+\d{8,15}|(?:\+?1[-.])?(?:\(\d{3}\)[-.]?|\d{3}[-.])\d{3}[-.]\d{4}"
    r"|\+\d{1,3}(?:[-.]\(?\d{1,4}\)?){2,5})(?!\w|[-.]\d))"
    rf"|(?P<time_range>{_NOT_AFTER}(?P<r_h1>\d{{1,2}})(?::(?P<r_m1>[0-5]\d))?"
    rf"(?:\s?(?P<r_p1>{_AMPM}))?\s?[-\u2013]\s?(?P<r_h2>\d{{1,2}})(?::(?P<r_m2>[0-5]\d))?"
    rf"(?:\s?(?P<r_p2>{_AMPM}))?(?![\w:]|[.,]\d|[-\u2013]\d))"
    rf"|(?P<ampm>{_NOT_AFTER}(?P<a_h>\d{{1,2}})(?::(?P<a_m>[0-5]\d))?\s?(?P<a_p>{_AMPM}))"
    rf"|(?P<clock>{_NOT_AFTER}(?P<c_h>\d{{1,2}}):(?P<c_m>[0-5]\d)(?![\w:]|\.\d))"
)

# Symbols found by one character class (a fast scan); what each becomes depends on its
# neighbours, which :func:`_render_symbol` reads: "5*3" is "5 times 3", "*" elsewhere is
# emphasis debris and goes.
_SYMBOL: Final = re.compile(
    r"°[CcFf](?![A-Za-z])|[*\u00d7\u00f7+^=~<>°&@%#`{}\[\]\\|$€£¢•·\x00-\x1f\x7f]"
)
_BETWEEN_NUMBERS: Final = {
    "*": " times ",
    "\u00d7": " times ",
    "\u00f7": " divided by ",
    "+": " plus ",
    "^": " to the power of ",
    "=": " equals ",
}
_BEFORE_A_NUMBER: Final = {"+": "plus ", "~": "about ", "<": "less than ", ">": "more than "}
_ALWAYS: Final = {"&": " and ", "@": " at ", "%": " percent", "°": " degrees"}
# A removed emoji leaves a space ("Hi!😊How" -> "Hi! How"); before punctuation it must go.
_SPACE_BEFORE_CLOSING: Final = re.compile(r" (?=[.,!?;:\u2026)])")
_ENTITY_HINT: Final = re.compile(r"[\d@.:]")
_SCHEME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_HOST_END: Final = re.compile(r"[/?#:]")
_DIGITS: Final = re.compile(r"\d+")


def speak(word: str) -> str:
    """What a voice should say for ``word``: no emoji, markup or stray symbols; entities
    in spoken form; single spaces, none leading or trailing. May be empty."""
    if _PLAIN.fullmatch(word):
        return word
    text = word if word.isascii() else strip_emoji(word)
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    # The markup and entity expressions try many alternatives at every position; cheap
    # tests first skip them for the many words that cannot match.
    if "_" in text or "](" in text or "![" in text:
        text = _MARKUP.sub("", text)
    if _ENTITY_HINT.search(text):
        text = _ENTITY.sub(_render_entity, text)
    text = _SYMBOL.sub(_render_symbol, text)
    if " " in text:
        text = _SPACE_BEFORE_CLOSING.sub("", " ".join(text.split()))
    return text


def spoken_phone(text: str) -> str | None:
    """Digits grouped for speech, or ``None`` if ``text`` is not a possible phone number.

    US and Canadian numbers drop the country code: ``+12125550143`` -> ``2 1 2, 5 5 5,
    0 1 4 3``; others keep it: ``+442071838750`` -> ``plus 4 4, 2 0, 7 1 8 3, 8 7 5 0``.
    """
    phone = possible_phone(text, PHONE_REGION)
    if phone is None:
        return None
    if phone.country_code == 1:
        digits = phone.national_digits
        groups = [digits[:3], digits[3:6], digits[6:]]
        return ", ".join(" ".join(group) for group in groups)
    return "plus " + ", ".join(" ".join(group) for group in _DIGITS.findall(phone.international))


def spoken_clock(value: time) -> str:
    """A clock time as it is said, everywhere the agent says one (tool results, the
    prompt's facts, 24-hour times in the model's text): ``9 AM``, ``9:30 AM``, ``noon``,
    ``midnight``, ``12:30 PM``."""
    if value.minute == 0 and value.hour == 12:
        return "noon"
    if value.minute == 0 and value.hour == 0:
        return "midnight"
    hour12 = value.hour % 12 or 12
    meridiem = "AM" if value.hour < 12 else "PM"
    if value.minute == 0:
        return f"{hour12} {meridiem}"
    return f"{hour12}:{value.minute:02d} {meridiem}"


def ordinal(day: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``22nd``."""
    if 10 <= day % 100 <= 20:
        return f"{day}th"
    return f"{day}{_ORDINAL_SUFFIX.get(day % 10, 'th')}"


# --------------------------------------------------------------------------------------
# entity renderers: each gets its match and returns the spoken form, or the match itself
# when the text only looked like the entity (a 13th month, a 25th hour)


def _render_entity(match: re.Match[str]) -> str:
    kind = match.lastgroup
    assert kind is not None  # every alternative of _ENTITY is a named group
    return _RENDERERS[kind](match)


def _render_symbol(match: re.Match[str]) -> str:
    symbol = match.group()
    if symbol[0] == "°" and len(symbol) == 2:
        return " degrees Celsius" if symbol[1] in "Cc" else " degrees"
    said = _ALWAYS.get(symbol)
    if said is not None:
        return said
    text, start, end = match.string, match.start(), match.end()
    number_before = start > 0 and "0" <= text[start - 1] <= "9"
    number_after = end < len(text) and "0" <= text[end] <= "9"
    if number_before and number_after:
        return _BETWEEN_NUMBERS.get(symbol, "")
    if number_before:
        return " plus" if symbol == "+" else ""  # "50+ styles"
    if number_after and (start == 0 or not text[start - 1].isalnum()):
        return _BEFORE_A_NUMBER.get(symbol, "")  # "+5 degrees", "~30 minutes", "<5 people"
    return ""


def _email(match: re.Match[str]) -> str:
    address = match.group().lower()
    for sign, said in ((".", " dot "), ("-", " dash "), ("_", " underscore "), ("+", " plus ")):
        address = address.replace(sign, said)
    return address.replace("@", " at ")


def _url(match: re.Match[str]) -> str:
    host = _SCHEME.sub("", match.group())
    host = _HOST_END.split(host, maxsplit=1)[0].lower().removeprefix("www.")
    return host.replace(".", " dot ").replace("-", " dash ")


def _spoken_date(year: int, month: int, day: int) -> str | None:
    try:
        date(year, month, day)
    except ValueError:
        return None
    return f"{MONTHS[month - 1]} {ordinal(day)}, {year}"


def _iso_date(match: re.Match[str]) -> str:
    year, month, day = (int(match.group(g)) for g in ("iso_y", "iso_m", "iso_d"))
    return _spoken_date(year, month, day) or match.group()


def _us_date(match: re.Match[str]) -> str:
    year, month, day = (int(match.group(g)) for g in ("us_y", "us_m", "us_d"))
    return _spoken_date(year, month, day) or match.group()


def _money(currency: str, amount: str, magnitude: str | None = None) -> str:
    one, many, hundredth, hundredths = _CURRENCIES[currency]
    if magnitude:
        return f"{amount} {_MAGNITUDES[magnitude.lower()]} {many}"
    whole, _, fraction = amount.partition(".")
    units = int(whole.replace(",", ""))
    if "," not in whole:
        whole = str(units)  # "$05" is 5 dollars
    cents = int(fraction.ljust(2, "0")) if fraction else 0
    if units == 0 and cents:
        return f"{cents} {hundredth if cents == 1 else hundredths}"
    spoken = f"{whole} {one if units == 1 else many}"
    if cents:
        spoken += f" and {cents} {hundredth if cents == 1 else hundredths}"
    return spoken


def _price(match: re.Match[str]) -> str:
    return _money(match["p_cur"], match["p_amt"], match["p_mag"])


def _price_range(match: re.Match[str]) -> str:
    currency, low, high = match["pr_cur"], match["pr_a"], match["pr_b"]
    if "." in low or "." in high:
        return f"{_money(currency, low)} to {_money(currency, high)}"
    many = _CURRENCIES[currency][1]
    return f"{low} to {high} {many}"


def _phone(match: re.Match[str]) -> str:
    return spoken_phone(match.group()) or match.group()


def _needs_24h(hour: str) -> bool:
    """A clock hour that only makes sense on a 24-hour clock: 13-23, 0 or a leading zero."""
    return hour.startswith("0") or int(hour) >= 13


def _clock_text(hour: int, minute: str | None, period: str | None) -> str:
    text = str(hour) if not minute or minute == "00" else f"{hour}:{minute}"
    return f"{text} {period}" if period else text


def _from_24h(hour: int, minute: str | None) -> str:
    return spoken_clock(time(hour, int(minute or 0)))


def _period(ampm: str | None) -> str | None:
    return None if ampm is None else ("AM" if ampm[0] in "Aa" else "PM")


def _ampm(match: re.Match[str]) -> str:
    hour = int(match["a_h"])
    if not 1 <= hour <= 12:
        return match.group()
    return _clock_text(hour, match["a_m"], _period(match["a_p"]))


def _clock(match: re.Match[str]) -> str:
    hour = match["c_h"]
    if not _needs_24h(hour) or int(hour) > 23:
        return match.group()  # "9:30" and "12:15" are said well as they are
    return _from_24h(int(hour), match["c_m"])


def _time_range(match: re.Match[str]) -> str:
    h1, m1, p1 = match["r_h1"], match["r_m1"], _period(match["r_p1"])
    h2, m2, p2 = match["r_h2"], match["r_m2"], _period(match["r_p2"])
    if p1 or p2:
        if not (1 <= int(h1) <= 12 and 1 <= int(h2) <= 12):
            return match.group()
        return f"{_clock_text(int(h1), m1, p1)} to {_clock_text(int(h2), m2, p2)}"
    if not (m1 or m2) or int(h1) > 23 or int(h2) > 23:
        return match.group()  # "9-5" may be a score or a count: leave it
    if _needs_24h(h1) or _needs_24h(h2):
        return f"{_from_24h(int(h1), m1)} to {_from_24h(int(h2), m2)}"
    left = f"{h1}:{m1}" if m1 else h1
    right = f"{h2}:{m2}" if m2 else h2
    return f"{left} to {right}"


_RENDERERS: Final[dict[str, Callable[[re.Match[str]], str]]] = {
    "email": _email,
    "url": _url,
    "iso_date": _iso_date,
    "us_date": _us_date,
    "price_range": _price_range,
    "price": _price,
    "phone": _phone,
    "time_range": _time_range,
    "ampm": _ampm,
    "clock": _clock,
}
