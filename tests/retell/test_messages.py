"""Every sample frame of the protocol reference parses (inbound) or is produced
byte-compatibly (outbound); golden files pin our serialisation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceops.core.errors import FrameTooLarge, MalformedFrame
from voiceops.retell import messages as m

FIXTURES = Path(__file__).parent.parent / "fixtures"
SAMPLES = [
    json.loads(line)
    for line in (FIXTURES / "retell-samples.jsonl").read_text().splitlines()
    if line.strip()
]
WS_IN = [
    s for s in SAMPLES if s["channel"] == "llm-websocket" and s["direction"] == "retell->server"
]
WS_OUT = [
    s for s in SAMPLES if s["channel"] == "llm-websocket" and s["direction"] == "server->retell"
]
GOLDEN = FIXTURES / "golden" / "outbound.jsonl"


def test_sample_counts() -> None:
    assert len(WS_IN) >= 10 and len(WS_OUT) >= 15


@pytest.mark.parametrize("sample", WS_IN, ids=lambda s: s["message"]["interaction_type"])
def test_inbound_samples_parse(sample: dict[str, Any]) -> None:
    parsed = m.parse_inbound(json.dumps(sample["message"]), max_bytes=1 << 20)
    assert not isinstance(parsed, m.UnknownInbound)
    assert parsed.interaction_type == sample["message"]["interaction_type"]
    if isinstance(parsed, m.ResponseRequired | m.ReminderRequired):
        assert parsed.response_id == sample["message"]["response_id"]
        assert len(parsed.transcript) == len(sample["message"]["transcript"])


def _build(message: dict[str, Any]) -> m.Outbound:
    """Construct the typed frame from keyword arguments, as server code does."""
    kind = message["response_type"]
    fields = {k: v for k, v in message.items() if k != "response_type"}
    cls: type[m.Outbound] = {
        "config": m.ConfigOut,
        "ping_pong": m.PingPongOut,
        "response": m.ResponseOut,
        "agent_interrupt": m.AgentInterruptOut,
        "update_agent": m.UpdateAgentOut,
        "tool_call_invocation": m.ToolCallInvocationOut,
        "tool_call_result": m.ToolCallResultOut,
        "metadata": m.MetadataOut,
    }[kind]
    if kind == "config":
        fields["config"] = m.ConfigBody(**fields["config"])
    if kind == "update_agent":
        fields["agent_config"] = m.AgentConfig(**fields["agent_config"])
    return cls(**fields)


@pytest.mark.parametrize("sample", WS_OUT, ids=lambda s: s["message"]["response_type"])
def test_outbound_samples_byte_compatible(sample: dict[str, Any]) -> None:
    produced = _build(sample["message"]).to_json()
    assert produced == json.dumps(sample["message"], separators=(",", ":"), ensure_ascii=False)
    assert json.loads(produced) == sample["message"]


def test_outbound_golden_file() -> None:
    produced = [_build(s["message"]).to_json() for s in WS_OUT]
    assert GOLDEN.read_text().splitlines() == produced


def test_outbound_never_sends_null_and_keeps_strict_types() -> None:
    frame = m.ResponseOut(response_id=3, content="Hi", content_complete=False).to_json()
    assert (
        frame
        == '{"response_type":"response","response_id":3,"content":"Hi","content_complete":false}'
    )
    with pytest.raises(ValueError):
        m.ResponseOut(response_id=3, content="Hi", content_complete="true")  # type: ignore[arg-type]


def test_unknown_interaction_type_is_explicit() -> None:
    parsed = m.parse_inbound('{"interaction_type":"brand_new_thing","x":1}', max_bytes=1000)
    assert isinstance(parsed, m.UnknownInbound)
    assert parsed.interaction_type == "brand_new_thing"
    missing = m.parse_inbound('{"hello":1}', max_bytes=1000)
    assert isinstance(missing, m.UnknownInbound) and missing.interaction_type is None


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1,2]",
        '"a string"',
        '{"interaction_type":"response_required","response_id":"5","transcript":[]}',
        '{"interaction_type":"response_required","transcript":[]}',
        '{"interaction_type":"ping_pong","timestamp":"soon"}',
        '{"transcript":[{"role":"user"}],"interaction_type":"update_only"}',
    ],
)
def test_malformed_frames_raise_a_clear_error(raw: str) -> None:
    with pytest.raises(MalformedFrame) as info:
        m.parse_inbound(raw, max_bytes=1000)
    assert raw not in str(info.value)


def test_frame_size_bound() -> None:
    big = json.dumps(
        {"interaction_type": "update_only", "transcript": [{"role": "user", "content": "x" * 2000}]}
    )
    with pytest.raises(FrameTooLarge):
        m.parse_inbound(big, max_bytes=1000)
    assert isinstance(m.parse_inbound(big, max_bytes=5000), m.UpdateOnly)


def test_frame_size_bound_counts_utf8_bytes_not_characters() -> None:
    frame = json.dumps(
        {"interaction_type": "update_only", "transcript": [{"role": "user", "content": "é" * 600}]},
        ensure_ascii=False,
    )
    size = len(frame.encode())
    assert size > len(frame) + 500
    with pytest.raises(FrameTooLarge):
        m.parse_inbound(frame, max_bytes=size - 1)
    assert isinstance(m.parse_inbound(frame, max_bytes=size), m.UpdateOnly)


def test_extra_fields_are_ignored() -> None:
    parsed = m.parse_inbound(
        '{"interaction_type":"ping_pong","timestamp":5,"stray":true}', max_bytes=1000
    )
    assert parsed == m.PingPongIn(interaction_type="ping_pong", timestamp=5)


def test_word_timings_are_skipped_not_materialised() -> None:
    words = [{"word": "hi", "start": 0.1, "end": 0.2}]
    raw = json.dumps(
        {
            "interaction_type": "response_required",
            "response_id": 1,
            "transcript": [{"role": "user", "content": "hi", "words": words}],
            "transcript_with_tool_calls": [
                {"role": "user", "content": "hi", "words": words, "x": 1}
            ],
        }
    )
    parsed = m.parse_inbound(raw, max_bytes=10_000)
    assert isinstance(parsed, m.ResponseRequired)
    assert parsed.transcript == [m.Utterance(role="user", content="hi")]
    assert parsed.transcript_with_tool_calls is not None
    assert not hasattr(parsed.transcript_with_tool_calls[0], "__dict__")  # nowhere to keep extras


def test_update_only_is_parsed_only_when_read() -> None:
    fast = m.parse_inbound(
        '{"interaction_type":"update_only","transcript":[{"role":"user",'
        '"content":"hi"}],"turntaking":"user_turn"}',
        max_bytes=1000,
    )
    assert isinstance(fast, m.UpdateOnly)
    assert fast.transcript == [m.Utterance(role="user", content="hi")]
    assert fast.turntaking == "user_turn"
    # Another key order takes the full path and gives the same value.
    slow = m.parse_inbound('{"transcript":[],"interaction_type":"update_only"}', max_bytes=1000)
    assert isinstance(slow, m.UpdateOnly) and slow.transcript == []
    # A broken snapshot is reported when (if) it is read, never silently accepted.
    broken = m.parse_inbound(
        '{"interaction_type":"update_only","transcript":[{"role":1}', max_bytes=1000
    )
    assert isinstance(broken, m.UpdateOnly)
    with pytest.raises(MalformedFrame):
        _ = broken.transcript


@pytest.mark.parametrize(
    "head",
    [
        '{"interaction_type":"update_only"',
        '{"interaction_type": "update_only"',
        ' {\n  "interaction_type" : "update_only"',
    ],
)
def test_update_only_head_is_recognised_in_any_spacing(head: str) -> None:
    # The rest is broken on purpose: only a frame left unparsed comes back without an error.
    deferred = m.parse_inbound(head + ', "transcript": [{"role": 1}', max_bytes=1000)
    assert isinstance(deferred, m.UpdateOnly)
    with pytest.raises(MalformedFrame):
        _ = deferred.transcript


def test_a_turn_request_is_never_mistaken_for_a_snapshot() -> None:
    parsed = m.parse_inbound(
        '{"interaction_type": "response_required", "response_id": 3, "transcript": '
        '[{"role": "user", "content": "\\"interaction_type\\": \\"update_only\\""}]}',
        max_bytes=1000,
    )
    assert isinstance(parsed, m.ResponseRequired) and parsed.response_id == 3


# --- turn requests with their word timings cut out before parsing -------------------------

_TEXT = st.text(
    alphabet=st.sampled_from([*'ab ]["\\{},:', "é", "🙂", "\u2028", "\x00"]), max_size=12
)
_WORD = st.fixed_dictionaries({"word": _TEXT, "start": st.floats(0, 1e4), "end": st.floats(0, 1e4)})
_LINE = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["agent", "user", "transfer_target"]),
        "content": _TEXT,
        "words": st.lists(_WORD, max_size=6),
    }
)
_TOOL = st.fixed_dictionaries(
    {
        "role": st.just("tool_call_invocation"),
        "tool_call_id": _TEXT,
        "name": _TEXT,
        "arguments": st.just('{"words": [1, 2], "x": "]"}'),
    }
)


def _full_parse(raw: str) -> m.Inbound:
    """The parser without the cut: what every frame must come out as."""
    return m._KNOWN.validate_json(raw)  # type: ignore[return-value]


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(_LINE, min_size=1, max_size=12),
    tools=st.lists(_TOOL, max_size=2),
    kind=st.sampled_from(["response_required", "reminder_required"]),
    spaced=st.booleans(),
    ascii_only=st.booleans(),
)
def test_cutting_word_timings_never_changes_a_turn_request(
    lines: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    kind: str,
    spaced: bool,
    ascii_only: bool,
) -> None:
    frame = {
        "interaction_type": kind,
        "response_id": 7,
        "transcript": lines,
        "transcript_with_tool_calls": [*lines, *tools],
        # Large enough that the cut is tried (a real request is this big from minute one).
        "padding": "p" * m.STRIP_WORDS_FROM,
    }
    separators = (", ", ": ") if spaced else (",", ":")
    raw = json.dumps(frame, separators=separators, ensure_ascii=ascii_only)
    assert m.parse_inbound(raw, max_bytes=1 << 20) == _full_parse(raw)
    assert m.parse_inbound(raw.encode(), max_bytes=1 << 20) == _full_parse(raw)


def test_a_bracket_inside_a_word_falls_back_to_the_full_parse() -> None:
    words = [{"word": "[laughs]", "start": 0.1, "end": 0.2}, {"word": "ok", "start": 1, "end": 2}]
    line = {"role": "user", "content": "ok", "words": words}
    raw = json.dumps(
        {
            "interaction_type": "response_required",
            "response_id": 2,
            "transcript": [line] * 40,
            "transcript_with_tool_calls": [line] * 40,
        },
        separators=(",", ":"),
    )
    assert len(raw) > m.STRIP_WORDS_FROM
    assert m._turn_request_without_words(raw) is None  # the cut left no JSON
    parsed = m.parse_inbound(raw, max_bytes=1 << 20)
    assert isinstance(parsed, m.ResponseRequired)
    assert parsed.transcript == [m.Utterance(role="user", content="ok")] * 40


def test_only_turn_requests_are_cut() -> None:
    call = {"call_id": "c1", "metadata": {"words": ["kept"], "pad": "p" * m.STRIP_WORDS_FROM}}
    raw = json.dumps({"interaction_type": "call_details", "call": call}, separators=(",", ":"))
    parsed = m.parse_inbound(raw, max_bytes=1 << 20)
    assert isinstance(parsed, m.CallDetails)
    assert parsed.call.metadata is not None and parsed.call.metadata["words"] == ["kept"]


def _long_call_request(lines: int, content: str = "Could I come in on Friday?") -> str:
    words = [{"word": w, "start": 1.0, "end": 1.25} for w in content.split()]
    line = {"role": "user", "content": content, "words": words}
    return json.dumps(
        {
            "interaction_type": "response_required",
            "response_id": 9,
            "transcript": [line] * lines,
            "transcript_with_tool_calls": [line] * lines,
        },
        separators=(",", ":"),
    )


def test_a_turn_request_counts_against_the_bound_without_its_word_timings() -> None:
    raw = _long_call_request(200)
    bound = len(raw) // 3  # the timings are most of the frame
    parsed = m.parse_inbound(raw, max_bytes=bound)
    assert isinstance(parsed, m.ResponseRequired) and parsed.response_id == 9
    assert len(parsed.transcript) == 200
    # Its text alone over the bound: refused like any other frame.
    with pytest.raises(FrameTooLarge):
        m.parse_inbound(raw, max_bytes=len(raw) // 20)
    # Other frames count whole.
    snapshot = raw.replace('"response_required","response_id":9', '"update_only"')
    with pytest.raises(FrameTooLarge):
        m.parse_inbound(snapshot, max_bytes=bound)


class _Recorded(str):
    """A frame that records where each bracket search starts."""

    starts: list[int]

    def find(self, sub: str, start: Any = None, end: Any = None) -> int:
        self.starts.append(start)
        return super().find(sub, start, end)


def test_cutting_is_one_pass_even_over_unclosed_word_arrays() -> None:
    # Every search for a closing bracket starts past the previous one, and the first that
    # finds none ends the cut: no stretch of the frame is read twice, whatever it holds.
    head = '{"interaction_type":"response_required","response_id":1,"t":[{"a":0'
    unclosed = ',"words":[{"a":1}' * 50
    closed = ',"words":[{"b":2}],"c":3'
    frame = _Recorded(head + unclosed + closed * 3 + unclosed)
    frame.starts = []
    cut = "".join(m._cut_words(frame, m._WORDS_KEY, "]"))
    # The first cut runs from the first unclosed array to the first closing bracket.
    assert cut == head + ',"c":3' * 3 + unclosed
    assert len(frame.starts) == 4 and frame.starts == sorted(set(frame.starts))
    with pytest.raises(MalformedFrame):
        m.parse_inbound(str(frame), max_bytes=1 << 20)
