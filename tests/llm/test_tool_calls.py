"""Tool-call assembly from streamed fragments, including non-OpenAI server habits."""

from __future__ import annotations

from typing import Any

from voiceops.llm.tool_calls import ToolCall, ToolCallAssembler


def fn(name: str | None = None, arguments: Any = None) -> dict[str, Any]:
    function: dict[str, Any] = {}
    if name is not None:
        function["name"] = name
    if arguments is not None:
        function["arguments"] = arguments
    return function


def test_openai_style_fragments_for_two_calls() -> None:
    assembler = ToolCallAssembler("call_1_0")
    assert not assembler
    assembler.add([{"index": 0, "id": "c0", "type": "function", "function": fn("a", "")}])
    assembler.add([{"index": 0, "function": fn(arguments='{"x":')}])
    assembler.add([{"index": 1, "id": "c1", "type": "function", "function": fn("b")}])
    assembler.add([{"index": 0, "function": fn(arguments=" 1}")}])
    assembler.add([{"index": 1, "function": fn(arguments="{}")}])
    assert assembler
    assert assembler.calls() == [ToolCall("c0", "a", '{"x": 1}'), ToolCall("c1", "b", "{}")]


def test_fragments_without_index_are_told_apart_by_id() -> None:
    assembler = ToolCallAssembler("p")
    assembler.add([{"id": "c0", "function": fn("a", "{")}])
    assembler.add([{"function": fn(arguments="}")}])
    assembler.add([{"id": "c1", "function": fn("b", "{}")}])
    assembler.add([{"id": "c1", "function": fn("b")}])  # id and name resent
    assert assembler.calls() == [ToolCall("c0", "a", "{}"), ToolCall("c1", "b", "{}")]


def test_whole_call_in_one_fragment_and_made_up_ids() -> None:
    assembler = ToolCallAssembler("call_7_1")
    assembler.add(
        [{"index": 0, "function": fn("a", '{"k": "v"}')}, {"index": 1, "function": fn("b")}]
    )
    assert assembler.calls() == [
        ToolCall("call_7_1_0", "a", '{"k": "v"}'),
        ToolCall("call_7_1_1", "b", "{}"),
    ]


def test_odd_fragments_are_read_defensively() -> None:
    assembler = ToolCallAssembler("p")
    assembler.add(
        [
            "not an object",
            {"index": 0, "id": 7, "function": fn("a", {"already": "decoded"})},
            {"index": 0, "function": "not an object"},
            {"index": 0, "function": {"name": None, "arguments": None}},
        ]
    )
    assert assembler.calls() == [ToolCall("p_0", "a", '{"already": "decoded"}')]


def test_broken_arguments_are_kept_verbatim() -> None:
    assembler = ToolCallAssembler("p")
    assembler.add([{"index": 0, "id": "c", "function": fn("a", '{"x": ')}])
    assert assembler.calls()[0].arguments == '{"x": '
    assert ToolCall("c", "a", "{}").as_message_part() == {
        "id": "c",
        "type": "function",
        "function": {"name": "a", "arguments": "{}"},
    }
