"""The sans-I/O call state machine: frames in, actions out."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

from voiceops.core.errors import InvalidState
from voiceops.core.transcript import CallObject
from voiceops.retell.messages import parse_inbound
from voiceops.retell.session import (
    CallSession,
    CancelTurn,
    DetailsReceived,
    Ignored,
    Phase,
    Send,
    StartTurn,
)


def frame(**fields: Any) -> Any:
    return parse_inbound(json.dumps(fields), max_bytes=1 << 20)


def greet(call: CallObject | None) -> str:
    name = (call.retell_llm_dynamic_variables or {}).get("caller_name") if call else None
    return f"Hello {name}!" if name else "Hello!"


def sent(actions: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(a.text) for a in actions if isinstance(a, Send)]


def request(rid: int, text: str = "hi", kind: str = "response_required") -> Any:
    return frame(
        interaction_type=kind, response_id=rid, transcript=[{"role": "user", "content": text}]
    )


def test_connect_sends_config_then_waits_for_details_to_greet_by_name() -> None:
    s = CallSession("c1", greeting=greet)
    first = sent(s.connect())
    assert first == [
        {
            "response_type": "config",
            "config": {
                "auto_reconnect": True,
                "call_details": True,
                "transcript_with_tool_calls": True,
            },
        }
    ]
    assert s.phase is Phase.AWAITING_DETAILS
    actions = s.receive(
        frame(
            interaction_type="call_details",
            call={"call_id": "c1", "retell_llm_dynamic_variables": {"caller_name": "Dana"}},
        )
    )
    assert isinstance(actions[0], DetailsReceived)
    assert sent(actions) == [
        {
            "response_type": "response",
            "response_id": 0,
            "content": "Hello Dana!",
            "content_complete": True,
        }
    ]
    assert s.phase is Phase.OPEN


def test_begin_without_details_after_deadline() -> None:
    s = CallSession("c1", greeting=greet)
    s.connect()
    assert sent(s.begin_deadline_passed())[0]["content"] == "Hello!"
    assert s.begin_deadline_passed() == []


def test_wait_for_caller_sends_empty_begin_at_once() -> None:
    s = CallSession("c1", greeting=None)
    out = sent(s.connect())
    assert out[1] == {
        "response_type": "response",
        "response_id": 0,
        "content": "",
        "content_complete": True,
    }


def test_resumed_call_never_greets_again() -> None:
    s = CallSession("c1", greeting=greet, resumed=True, last_response_id=7)
    out = sent(s.connect())
    assert out[1]["content"] == ""
    assert isinstance(s.receive(request(7))[0], Ignored)
    assert isinstance(s.receive(request(8))[-1], StartTurn)


def test_request_before_details_forces_the_begin_message() -> None:
    s = CallSession("c1", greeting=greet)
    s.connect()
    actions = s.receive(request(1))
    assert sent(actions)[0]["response_id"] == 0
    assert isinstance(actions[-1], StartTurn)


def test_ping_is_echoed() -> None:
    s = CallSession("c1", greeting=None)
    s.connect()
    assert sent(s.receive(frame(interaction_type="ping_pong", timestamp=123))) == [
        {"response_type": "ping_pong", "timestamp": 123}
    ]


def test_newer_request_cancels_the_running_turn_and_gates_its_frames() -> None:
    s = CallSession("c1", greeting=None)
    s.connect()
    s.receive(request(1))
    assert s.response_frame(1, "Sure, ", complete=False) is not None
    actions = s.receive(request(2, "hi, for Tuesday"))
    assert actions[0] == CancelTurn(1, superseded_by=2)
    assert isinstance(actions[1], StartTurn) and actions[1].request.response_id == 2
    # No frame for the superseded id can be produced any more.
    assert s.response_frame(1, "late", complete=False) is None
    assert s.response_frame(1, "", complete=True) is None
    assert s.tool_invocation_frame(1, "t", "x", "{}") is None
    assert s.response_frame(2, "Tuesday works.", complete=True) is not None
    assert s.response_frame(2, "after close", complete=False) is None


def test_update_only_never_cancels_a_turn() -> None:
    s = CallSession("c1", greeting=None)
    s.connect()
    s.receive(request(1))
    actions = s.receive(
        frame(
            interaction_type="update_only",
            transcript=[{"role": "user", "content": "hi and"}],
            turntaking="user_turn",
        )
    )
    assert actions == []
    assert s.is_current(1)


def test_update_only_snapshots_are_not_kept() -> None:
    # Each holds the whole call so far; keeping the newest would grow with every call.
    s = CallSession("c1", greeting=None)
    s.connect()
    snapshot = frame(
        interaction_type="update_only",
        transcript=[{"role": "user", "content": "hello " * 1000}],
        turntaking="user_turn",
    )
    assert s.receive(snapshot) == []
    assert vars(s) not in gc.get_referrers(snapshot)


def test_reminder_shares_the_id_counter() -> None:
    s = CallSession("c1", greeting=None)
    s.connect()
    s.receive(request(1))
    s.response_frame(1, "ok", complete=True)
    actions = s.receive(request(2, kind="reminder_required"))
    assert actions == [StartTurn(actions[0].request)]  # nothing open to cancel
    assert isinstance(s.receive(request(2))[0], Ignored)


def test_unknown_frames_are_explicit() -> None:
    s = CallSession("c1", greeting=None)
    s.connect()
    (action,) = s.receive(frame(interaction_type="something_new"))
    assert action == Ignored("unknown_interaction_type", "something_new")


def test_flags_are_omitted_unless_set() -> None:
    s = CallSession("c1", greeting=None)
    s.connect()
    s.receive(request(1))
    text = s.response_frame(
        1,
        "Connecting you now.",
        complete=True,
        transfer_number="+12125550143",
        no_interruption_allowed=True,
    )
    assert text is not None
    assert json.loads(text) == {
        "response_type": "response",
        "response_id": 1,
        "content": "Connecting you now.",
        "content_complete": True,
        "transfer_number": "+12125550143",
        "no_interruption_allowed": True,
    }


def test_interrupt_closes_the_open_response() -> None:
    s = CallSession("c1", greeting=None)
    s.connect()
    s.receive(request(1))
    first = json.loads(s.interrupt_frames("Sorry to cut in."))
    second = json.loads(s.interrupt_frames("Again."))
    assert first["interrupt_id"] == 1 and second["interrupt_id"] == 2
    assert first["no_interruption_allowed"] is True
    assert s.response_frame(1, "x", complete=True) is None


def test_illegal_transitions_name_expected_and_actual() -> None:
    s = CallSession("c1", greeting=None)
    s.connect()
    with pytest.raises(InvalidState, match=r"expected state Phase\.NEW, got Phase\.OPEN"):
        s.connect()
    s.close()
    with pytest.raises(InvalidState):
        s.receive(request(1))
