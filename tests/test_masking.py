"""mask_phone: enough to tell calls apart in a log, too little to dial anyone."""

from __future__ import annotations

import pytest

from voiceops.masking import mask_numbers, mask_phone


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+14155550143", "+1******0143"),
        ("+447700900123", "+44******0123"),
        ("+33612345678", "+33*****5678"),
        (" +14155550143 ", "+1******0143"),
        ("4155550143", "******0143"),
        ("+999123456789", "+********6789"),
        ("12345", "*****"),
        ("", "<none>"),
        (None, "<none>"),
    ],
)
def test_mask_phone(number: str | None, masked: str) -> None:
    assert mask_phone(number) == masked


def test_mask_keeps_length_and_hides_the_middle() -> None:
    number = "+14155550143"
    masked = mask_phone(number)
    assert len(masked) == len(number)
    assert "555" not in masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call me on +1 212 555 0142 please", "call me on +1*********0142 please"),
        ("(212) 555-0142", "(*********0142"),
        ('{"phone":"+12125550142"}', '{"phone":"+1******0142"}'),
        ("Wednesday 2026-12-02 at 15:00, 45 minutes, $55", None),
        ('"start":"2026-12-02T15:00:00-05:00"', None),
        ("card 4111 1111 1111 1111", "card ***************1111"),
        ("no digits here", None),
    ],
)
def test_mask_numbers_hides_phone_numbers_in_text_and_keeps_dates_times_prices(
    text: str, masked: str | None
) -> None:
    assert mask_numbers(text) == (text if masked is None else masked)
