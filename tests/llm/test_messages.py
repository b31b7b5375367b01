"""Transcript to chat-message conversion (``voiceops.llm.messages``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from voiceops.core.transcript import TranscriptEntry, Utterance
from voiceops.llm.messages import (
    CALL_START_NOTE,
    REMINDER_NUDGE,
    conversation,
    transcript_messages,
    woven_messages,
)
from voiceops.retell.messages import ResponseRequired, parse_inbound

SAMPLES = Path(__file__).parents[1] / "fixtures" / "retell-samples.jsonl"


def u(role: str, content: str) -> Utterance:
    return Utterance(role=role, content=content)


def invoke(call_id: str, name: str = "check_availability", args: str = "{}") -> TranscriptEntry:
    return TranscriptEntry(
        role="tool_call_invocation", tool_call_id=call_id, name=name, arguments=args
    )


def result(call_id: str, content: str = '{"status":"ok"}') -> TranscriptEntry:
    return TranscriptEntry(role="tool_call_result", tool_call_id=call_id, content=content)


def said(role: str, content: str) -> TranscriptEntry:
    return TranscriptEntry(role=role, content=content)


def call_part(call_id: str, name: str = "check_availability", args: str = "{}") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def test_roles_map_to_assistant_and_user() -> None:
    messages = transcript_messages(
        [
            u("agent", "Hello, this is Ava."),
            u("user", "(unintelligible audio)"),
            u("transfer_target", "Front desk here."),
            u("agent", "Sorry?"),
        ]
    )
    assert messages == [
        {"role": "assistant", "content": "Hello, this is Ava."},
        {"role": "user", "content": "(unintelligible audio)"},
        {"role": "user", "content": "Front desk here."},
        {"role": "assistant", "content": "Sorry?"},
    ]


def test_consecutive_lines_merge_and_empty_lines_vanish() -> None:
    messages = transcript_messages(
        [u("user", "I want"), u("user", "  "), u("user", "a haircut."), u("agent", "")]
    )
    assert messages == [{"role": "user", "content": "I want a haircut."}]


def test_empty_transcript_gets_a_call_start_note_and_reminders_a_nudge() -> None:
    assert conversation([], None, reminder=False) == [{"role": "user", "content": CALL_START_NOTE}]
    assert conversation([], None, reminder=True) == [{"role": "user", "content": REMINDER_NUDGE}]
    assert conversation([u("agent", "Hi!")], None, reminder=True) == [
        {"role": "assistant", "content": "Hi!"},
        {"role": "user", "content": REMINDER_NUDGE},
    ]
    # A nudge never merges into the caller's last words.
    assert conversation([u("user", "Hmm")], None, reminder=True)[-2:] == [
        {"role": "user", "content": "Hmm"},
        {"role": "user", "content": REMINDER_NUDGE},
    ]


def test_woven_sample_frame_from_the_protocol_reference() -> None:
    frame = None
    for line in SAMPLES.read_text(encoding="utf-8").splitlines():
        sample = json.loads(line)
        message = sample.get("message", {})
        if message.get("interaction_type") == "response_required" and message.get(
            "transcript_with_tool_calls"
        ):
            frame = parse_inbound(json.dumps(message), max_bytes=1_000_000)
            break
    assert isinstance(frame, ResponseRequired)
    assert frame.transcript_with_tool_calls is not None
    messages = conversation(frame.transcript, frame.transcript_with_tool_calls, reminder=False)
    args = '{"address":"12 Elm St","window":"2026-01-01T14:00/16:00"}'
    assert messages == [
        {
            "role": "assistant",
            "content": "One moment while I check the schedule.",
            "tool_calls": [call_part("call_tool_7Hq2", "book_visit", args)],
        },
        {
            "role": "tool",
            "tool_call_id": "call_tool_7Hq2",
            "content": '{"status":"confirmed","technician":"Luis"}',
        },
        {"role": "assistant", "content": "You're booked for two to four this afternoon with Luis."},
        {"role": "user", "content": "Great, thanks. Can I talk to a person about the bill?"},
    ]


def test_parallel_calls_share_one_message_and_results_follow_in_call_order() -> None:
    messages = woven_messages(
        [
            said("user", "Prices and hours?"),
            invoke("a", "get_service_info"),
            invoke("b", "get_opening_hours"),
            result("b", "hours"),
            result("a", "prices"),
            said("agent", "Here you go."),
        ]
    )
    assert messages == [
        {"role": "user", "content": "Prices and hours?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [call_part("a", "get_service_info"), call_part("b", "get_opening_hours")],
        },
        {"role": "tool", "tool_call_id": "a", "content": "prices"},
        {"role": "tool", "tool_call_id": "b", "content": "hours"},
        {"role": "assistant", "content": "Here you go."},
    ]


def test_sequential_calls_stay_sequential() -> None:
    messages = woven_messages([invoke("a"), result("a"), invoke("b"), result("b")])
    assert [m["role"] for m in messages] == ["assistant", "tool", "assistant", "tool"]
    assert [m["tool_calls"][0]["id"] for m in messages if m["role"] == "assistant"] == ["a", "b"]


def test_orphans_are_made_safe() -> None:
    messages = woven_messages(
        [
            result("ghost", "a result nobody asked for"),
            said("user", "Book me in."),
            invoke("lost", "book_appointment"),
            invoke("lost", "book_appointment"),  # a repeated id is one call
            said("user", "Hello?"),
        ]
    )
    assert messages[0] == {"role": "user", "content": "Book me in."}
    assert messages[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [call_part("lost", "book_appointment")],
    }
    assert messages[2]["role"] == "tool" and messages[2]["tool_call_id"] == "lost"
    assert json.loads(messages[2]["content"])["status"] == "unknown"
    assert messages[3] == {"role": "user", "content": "Hello?"}
    assert all("ghost" not in json.dumps(m) for m in messages)


def test_dtmf_becomes_a_note_and_unknown_entries_are_skipped() -> None:
    messages = woven_messages(
        [
            said("agent", "Press 1 for bookings."),
            TranscriptEntry(role="dtmf", digit="1"),
            said("user", "Bookings please."),
            TranscriptEntry(role="node_transition"),
            TranscriptEntry(role="tool_call_invocation", name="no_id"),
        ]
    )
    assert messages == [
        {"role": "assistant", "content": "Press 1 for bookings."},
        {"role": "user", "content": "[The caller pressed 1 on the keypad.]"},
        {"role": "user", "content": "Bookings please."},
    ]


def test_missing_arguments_default_to_an_empty_object() -> None:
    messages = woven_messages([TranscriptEntry(role="tool_call_invocation", tool_call_id="x")])
    assert messages[0]["tool_calls"] == [call_part("x", "", "{}")]
