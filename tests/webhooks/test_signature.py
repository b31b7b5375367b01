"""x-retell-signature (protocol reference, section 9): the worked example, the signed
samples, and every way a signature must be refused."""

from __future__ import annotations

import json

import pytest

from tests.webhooks.samples import (
    EXAMPLE_BODY,
    EXAMPLE_HEADER,
    EXAMPLE_KEY,
    EXAMPLE_TIMESTAMP,
    SignedSample,
    signed_samples,
)
from voiceops.core.errors import SignatureError
from voiceops.retell.webhooks import sign, verify_signature


def test_worked_example_signs_byte_for_byte() -> None:
    assert len(EXAMPLE_BODY) == 289
    assert sign(EXAMPLE_BODY, EXAMPLE_KEY, EXAMPLE_TIMESTAMP) == EXAMPLE_HEADER


def test_worked_example_verifies_one_second_later() -> None:
    verify_signature(EXAMPLE_BODY, EXAMPLE_HEADER, EXAMPLE_KEY, now_ms=EXAMPLE_TIMESTAMP + 1000)


@pytest.mark.parametrize("sample", signed_samples(), ids=lambda s: s.event)
def test_signed_samples_verify_and_resign(sample: SignedSample) -> None:
    verify_signature(sample.raw_body, sample.header, sample.key, now_ms=sample.timestamp_ms)
    assert sign(sample.raw_body, sample.key, sample.timestamp_ms) == sample.header


def test_there_are_three_signed_samples() -> None:
    assert sorted(s.event for s in signed_samples()) == [
        "call_analyzed",
        "call_ended",
        "call_started",
    ]


@pytest.mark.parametrize("offset_ms", [300_000, -300_000])
def test_window_edges_are_inside(offset_ms: int) -> None:
    verify_signature(
        EXAMPLE_BODY, EXAMPLE_HEADER, EXAMPLE_KEY, now_ms=EXAMPLE_TIMESTAMP + offset_ms
    )


@pytest.mark.parametrize(
    ("offset_ms", "what"), [(300_001, "stale"), (-300_001, "future")], ids=["stale", "future"]
)
def test_outside_the_window_is_refused(offset_ms: int, what: str) -> None:
    with pytest.raises(SignatureError, match="window"):
        verify_signature(
            EXAMPLE_BODY, EXAMPLE_HEADER, EXAMPLE_KEY, now_ms=EXAMPLE_TIMESTAMP + offset_ms
        )


def test_tolerance_is_configurable() -> None:
    with pytest.raises(SignatureError, match="window"):
        verify_signature(
            EXAMPLE_BODY,
            EXAMPLE_HEADER,
            EXAMPLE_KEY,
            now_ms=EXAMPLE_TIMESTAMP + 2000,
            tolerance_ms=1000,
        )


def test_uppercase_digest_is_refused() -> None:
    version, digest = EXAMPLE_HEADER.split(",d=")
    with pytest.raises(SignatureError, match="malformed"):
        verify_signature(
            EXAMPLE_BODY, f"{version},d={digest.upper()}", EXAMPLE_KEY, now_ms=EXAMPLE_TIMESTAMP
        )


def test_reserialised_body_is_refused() -> None:
    reserialised = json.dumps(json.loads(EXAMPLE_BODY)).encode()
    assert reserialised != EXAMPLE_BODY
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(reserialised, EXAMPLE_HEADER, EXAMPLE_KEY, now_ms=EXAMPLE_TIMESTAMP)


def test_wrong_key_and_tampered_body_are_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(EXAMPLE_BODY, EXAMPLE_HEADER, "key_other", now_ms=EXAMPLE_TIMESTAMP)
    tampered = EXAMPLE_BODY.replace(b"user_hangup", b"agent_hangup")
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(tampered, EXAMPLE_HEADER, EXAMPLE_KEY, now_ms=EXAMPLE_TIMESTAMP)


def test_timestamp_is_part_of_the_mac() -> None:
    _, digest = EXAMPLE_HEADER.split(",d=")
    moved = f"v={EXAMPLE_TIMESTAMP + 1},d={digest}"
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(EXAMPLE_BODY, moved, EXAMPLE_KEY, now_ms=EXAMPLE_TIMESTAMP)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "6325f36f08a451f10bcb337d3caa598f5d621eda5eacae32183b5784090017f9",
        "v=1767225665123",
        "v=1767225665123,d=6325f36f",
        "v=1767225665123, d=6325f36f08a451f10bcb337d3caa598f5d621eda5eacae32183b5784090017f9",
        "d=6325f36f08a451f10bcb337d3caa598f5d621eda5eacae32183b5784090017f9,v=1767225665123",
        "v=abc,d=6325f36f08a451f10bcb337d3caa598f5d621eda5eacae32183b5784090017f9",
        "v=1767225665123,d=6325f36f08a451f10bcb337d3caa598f5d621eda5eacae32183b5784090017f9,x=1",
        "v=" + "9" * 40 + ",d=6325f36f08a451f10bcb337d3caa598f5d621eda5eacae32183b5784090017f9",
    ],
    ids=[
        "absent",
        "empty",
        "bare-digest",
        "no-digest",
        "short-digest",
        "space",
        "swapped",
        "non-numeric-time",
        "extra-parameter",
        "huge-timestamp",
    ],
)
def test_missing_or_malformed_headers_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureError, match=r"missing|malformed"):
        verify_signature(EXAMPLE_BODY, header, EXAMPLE_KEY, now_ms=EXAMPLE_TIMESTAMP)
