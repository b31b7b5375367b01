"""mask_phone: enough to tell calls apart in a log, too little to dial anyone."""

from __future__ import annotations

import pytest

from voiceops.masking import mask_phone


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
