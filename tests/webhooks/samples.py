"""The signed webhook samples of the protocol reference (``tests/fixtures``) and section 9's
worked example, as test data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SAMPLES_FILE = Path(__file__).parent.parent / "fixtures" / "retell-samples.jsonl"

# Section 9's worked example, byte for byte (289 bytes, no trailing newline).
EXAMPLE_KEY = "key_fake_5f3c9a1e7d2b4c6a8e0f1a2b3c4d"
EXAMPLE_TIMESTAMP = 1767225665123
EXAMPLE_BODY = (
    b'{"event":"call_ended","call":{"call_id":"call_demo_0001","agent_id":"agent_demo_0001",'
    b'"call_type":"phone_call","direction":"inbound","from_number":"+14155550101",'
    b'"to_number":"+14155550199","start_timestamp":1767225600000,"end_timestamp":1767225660000,'
    b'"disconnection_reason":"user_hangup"}}'
)
EXAMPLE_HEADER = (
    "v=1767225665123,d=6325f36f08a451f10bcb337d3caa598f5d621eda5eacae32183b5784090017f9"
)


@dataclass(frozen=True)
class SignedSample:
    event: str
    raw_body: bytes
    header: str
    key: str

    @property
    def timestamp_ms(self) -> int:
        return int(self.header.split(",")[0].removeprefix("v="))


def signed_samples() -> list[SignedSample]:
    samples = []
    for line in SAMPLES_FILE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("channel") != "webhook":
            continue
        http = record["http"]
        raw = http["raw_body"].encode("utf-8")
        samples.append(
            SignedSample(
                event=json.loads(raw)["event"],
                raw_body=raw,
                header=http["headers"]["x-retell-signature"],
                key=http["signing_key"],
            )
        )
    return samples
