"""Phone numbers: the one place a number is read, with ``phonenumbers``.

Every part that reads a number (the caller's zone from their number, the tools' E.164
normalisation, speech grouping digits, log masking, lookup keys) reads it here, so a number
means the same thing everywhere: :func:`read_phone` parses, :class:`Phone` answers what the
callers ask of it, :func:`phone_digits` gives the digits-only lookup key.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

MAX_PHONE_CHARS = 32
"""Longer than any written number; anything longer is not even handed to the parser."""


@dataclass(frozen=True, slots=True)
class Phone:
    """A parsed number. ``possible`` means its length fits its country's plan; ``valid``
    also that its prefix is assigned (what the zone lookup needs)."""

    number: PhoneNumber

    @property
    def possible(self) -> bool:
        return bool(phonenumbers.is_possible_number(self.number))

    @property
    def valid(self) -> bool:
        return bool(phonenumbers.is_valid_number(self.number))

    @property
    def country_code(self) -> int:
        return int(self.number.country_code or 0)

    @property
    def e164(self) -> str:
        """``+12125550142``."""
        return str(phonenumbers.format_number(self.number, PhoneNumberFormat.E164))

    @property
    def international(self) -> str:
        """``+44 20 7183 8750``."""
        return str(phonenumbers.format_number(self.number, PhoneNumberFormat.INTERNATIONAL))

    @property
    def national_digits(self) -> str:
        """The national significant number: ``2125550142`` for ``+1 212 555 0142``."""
        return str(phonenumbers.national_significant_number(self.number))

    @property
    def region(self) -> str | None:
        """``US``, ``GB`` …, or ``None`` when the number names no single region."""
        code = phonenumbers.region_code_for_number(self.number)
        return None if not code or code == "ZZ" else str(code)


def read_phone(text: str | None, region: str | None = None) -> Phone | None:
    """``text`` read as a phone number, or ``None`` when it cannot be read as one.

    ``region`` (``"US"``) is how a number written without ``+`` and a country code is
    read; with ``None`` only international forms are. The result may still be impossible
    (check :attr:`Phone.possible`); this never raises.
    """
    if not text or len(text) > MAX_PHONE_CHARS:
        return None
    try:
        return Phone(phonenumbers.parse(text, region))
    except NumberParseException:
        return None


def possible_phone(text: str | None, region: str | None = None) -> Phone | None:
    """Like :func:`read_phone`, but ``None`` for a number that cannot exist either."""
    phone = read_phone(text, region)
    return phone if phone is not None and phone.possible else None


def region_of(text: str | None) -> str | None:
    """The region of an international number (``+44…`` -> ``GB``), else ``None``."""
    phone = read_phone(text)
    return None if phone is None else phone.region


def phone_digits(text: str | None) -> str | None:
    """The lookup key of a number as written: its digits only, so ``+1 (212) 555-0142``
    and ``+12125550142`` match; ``None`` when it has none."""
    if not text:
        return None
    return "".join(ch for ch in text if ch.isdigit()) or None
