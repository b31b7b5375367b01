"""Masking of personal data for log lines.

Phone numbers never reach a log in full: :func:`mask_phone` keeps the country calling code
and the last four digits, which is enough to tell calls apart while reading a log and too
little to dial anyone. Use it wherever a number is logged.
"""

from __future__ import annotations

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
