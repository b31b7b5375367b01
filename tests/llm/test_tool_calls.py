"""Tool-call assembly from streamed fragments, including non-OpenAI server habits."""

from __future__ import annotations

from typing import Any

from openai.types.chat.chat_completion_chunk import (
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
)

from voiceops.llm.tool_calls import ToolCall, ToolCallAssembler


def fragment(**fields: Any) -> ChoiceDeltaToolCall:
    # Chunks reach the brain unvalidated (model_construct), so fields may be missing.
    function = fields.pop("function", None)
    if function is not None:
        fields["function"] = ChoiceDeltaToolCallFunction.model_construct(**function)
    return ChoiceDeltaToolCall.model_construct(**fields)


def test_openai_style_fragments_for_two_calls() -> None:
    assembler = ToolCallAssembler("call_1_0")
    assert not assembler
    assembler.add([fragment(index=0, id="c0", type="function", function={"name": "a"})])
    assembler.add([fragment(index=0, function={"arguments": '{"x":'})])
    assembler.add([fragment(index=1, id="c1", type="function", function={"name": "b"})])
    assembler.add([fragment(index=0, function={"arguments": " 1}"})])
    assembler.add([fragment(index=1, function={"arguments": "{}"})])
    assert assembler
    assert assembler.calls() == [ToolCall("c0", "a", '{"x": 1}'), ToolCall("c1", "b", "{}")]


def test_fragments_without_index_are_told_apart_by_id() -> None:
    assembler = ToolCallAssembler("p")
    assembler.add([fragment(id="c0", function={"name": "a", "arguments": "{"})])
    assembler.add([fragment(function={"arguments": "}"})])
    assembler.add([fragment(id="c1", function={"name": "b", "arguments": "{}"})])
    assembler.add([fragment(id="c1", function={"name": "b"})])  # id and name resent
    assert assembler.calls() == [ToolCall("c0", "a", "{}"), ToolCall("c1", "b", "{}")]


def test_whole_call_in_one_fragment_and_made_up_ids() -> None:
    assembler = ToolCallAssembler("call_7_1")
    assembler.add(
        [
            fragment(index=0, function={"name": "a", "arguments": '{"k": "v"}'}),
            fragment(index=1, function={"name": "b"}),
        ]
    )
    assert assembler.calls() == [
        ToolCall("call_7_1_0", "a", '{"k": "v"}'),
        ToolCall("call_7_1_1", "b", "{}"),
    ]


def test_broken_arguments_are_kept_verbatim() -> None:
    assembler = ToolCallAssembler("p")
    assembler.add([fragment(index=0, id="c", function={"name": "a", "arguments": '{"x": '})])
    assert assembler.calls()[0].arguments == '{"x": '
    assert ToolCall("c", "a", "{}").as_message_part() == {
        "id": "c",
        "type": "function",
        "function": {"name": "a", "arguments": "{}"},
    }
