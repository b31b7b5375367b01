"""Masking of personal data for log lines and for what the console shows.

Phone numbers never reach a log in full: :func:`mask_phone` keeps the country calling code
and the last four digits, which is enough to tell calls apart while reading a log and too
little to dial anyone. Use it wherever a number is logged. :func:`mask_numbers` does the
same to every phone-like number inside a text (what a model was sent, say).
"""

from __future__ import annotations

import re

from voiceops.core.phone import read_phone

_KEEP_TAIL = 4
_MIN_MASKABLE = 7


def mask_phone(number: str | None) -> str:
    """``"+14155550143"`` -> ``"+1******0143"``; ``None`` or empty -> ``"<none>"``.

    The result has the same length as the stripped input. A ``+``-prefixed number keeps its
    country calling code (as ``phonenumbers`` parses it); anything else keeps only its last
    four characters. Values too short to be a phone number are masked completely.
    """
    if number is None or not number.strip():
        return "<none>"
    value = number.strip()
    if len(value) < _MIN_MASKABLE:
        return "*" * len(value)
    head = _country_prefix(value)
    middle = len(value) - len(head) - _KEEP_TAIL
    return head + "*" * middle + value[-_KEEP_TAIL:]


def _country_prefix(value: str) -> str:
    if not value.startswith("+"):
        return ""
    phone = read_phone(value)
    if phone is None:
        return "+"
    prefix = f"+{phone.country_code}"
    # A prefix that would leave nothing to hide is not worth keeping.
    return prefix if value.startswith(prefix) and len(value) - len(prefix) > _KEEP_TAIL else "+"


# A run of digits with the separators people write phone numbers with; at least seven
# digits make it a number worth hiding (times, prices, years and dates have fewer, or the
# date's shape). The word boundaries are checked by hand: a lookbehind on every position
# costs several times the scan.
_NUMBER_RUN = re.compile(r"\+?[0-9][0-9 ().-]{5,}[0-9]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MIN_DIGITS = 7


def _mask_run(match: re.Match[str]) -> str:
    run, text = match.group(0), match.string
    start, end = match.start(), match.end()
    if (start and (text[start - 1].isalnum() or text[start - 1] in "_+")) or (
        end < len(text) and (text[end].isalnum() or text[end] == "_")
    ):
        return run
    if sum(c.isdigit() for c in run) < _MIN_DIGITS or _DATE.fullmatch(run):
        return run
    return mask_phone(run)


def mask_numbers(text: str) -> str:
    """``text`` with every phone-like number in it masked as :func:`mask_phone` does
    (``"call me on +1 212 555 0142"`` -> ``"call me on +1*********0142"``); ISO dates,
    times, prices and other short numbers are left alone."""
    return _NUMBER_RUN.sub(_mask_run, text)
