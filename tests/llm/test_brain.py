"""LLMBrain against the fake OpenAI-compatible server over a real socket (no SDK mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket

import openai
import pytest

from tests.fakes.fake_llm import FakeLLM, Script, ToolCallScript
from tests.llm.support import Echo, RecordingToolBox, collect, make_brain, make_ctx
from voiceops.core.actions import EndCall, Transfer
from voiceops.core.errors import LLMError
from voiceops.core.events import AgentEvent, TextChunk, ToolFinished, ToolStarted
from voiceops.core.ports import ToolOutcome, ToolResult, ToolStatus
from voiceops.core.transcript import TranscriptEntry, Utterance
from voiceops.llm.brain import LLMBrain
from voiceops.llm.messages import REMINDER_NUDGE
from voiceops.metrics import Metrics


def text_of(events: list[AgentEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextChunk))


def error_count(metrics: Metrics, kind: str) -> float:
    value = metrics.registry.get_sample_value("voiceops_llm_errors_total", {"kind": kind})
    return value or 0.0


# --- text ----------------------------------------------------------------------------------


async def test_streams_text_deltas_and_sends_a_complete_request(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    metrics = Metrics()
    fake_llm.enqueue(Script(text=("Sure, ", "what day ", "works for you?")))
    ctx = make_ctx(
        transcript=[
            Utterance(role="agent", content="Thanks for calling, this is Ava."),
            Utterance(role="user", content="Hi, I'd like a haircut."),
        ]
    )
    events = await collect(make_brain(client, metrics).stream(ctx))

    assert events == [
        TextChunk("Sure, "),
        TextChunk("what day "),
        TextChunk("works for you?"),
    ]
    (request,) = fake_llm.requests
    assert request.model == "gpt-test"
    assert request.body["stream"] is True
    assert request.body["temperature"] == 0.3
    assert request.body["max_tokens"] == 120
    assert request.body["stream_options"] == {"include_usage": True}
    assert "tool_choice" not in request.body
    assert [t["function"]["name"] for t in request.tools] == [
        "check_availability",
        "get_service_info",
        "escalate",
        "end_call",
    ]
    system, *rest, note = request.messages
    assert system["role"] == "system"
    assert "You are Ava, the phone assistant of Maple Street Hair" in system["content"]
    assert "America/Chicago" not in system["content"]  # the voice prompt is the same for all
    assert note["role"] == "system"
    assert "zone America/Chicago" in note["content"]
    assert rest == [
        {"role": "assistant", "content": "Thanks for calling, this is Ava."},
        {"role": "user", "content": "Hi, I'd like a haircut."},
    ]
    histogram = metrics.registry.get_sample_value("voiceops_llm_first_token_seconds_count")
    assert histogram == 1.0


async def test_first_text_is_yielded_before_the_stream_finishes(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    # The stream stalls forever after its first delta: only unbuffered streaming gets it out.
    fake_llm.enqueue(Script(text=("One moment, ", "never sent"), fault="stall", fault_after=1))
    events = make_brain(client).stream(make_ctx())
    first = await anext(events)
    assert first == TextChunk("One moment, ")
    (request,) = fake_llm.requests
    assert not request.finished
    await events.aclose()
    await request.wait_finished()
    assert request.closed_by_client


async def test_unintelligible_audio_is_passed_through(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    ctx = make_ctx(transcript=[Utterance(role="user", content="(unintelligible audio)")])
    await collect(make_brain(client).stream(ctx))
    assert fake_llm.requests[0].messages[-2] == {
        "role": "user",
        "content": "(unintelligible audio)",
    }


async def test_reminder_adds_a_nudge(fake_llm: FakeLLM, client: openai.AsyncOpenAI) -> None:
    ctx = make_ctx(
        kind="reminder",
        transcript=[
            Utterance(role="user", content="Hi."),
            Utterance(role="agent", content="Hi! What can I do for you?"),
        ],
    )
    await collect(make_brain(client).stream(ctx))
    messages = fake_llm.requests[0].messages
    assert messages[-3] == {"role": "assistant", "content": "Hi! What can I do for you?"}
    assert messages[-2] == {"role": "user", "content": REMINDER_NUDGE}
    assert "The caller has gone quiet." in messages[-1]["content"]


async def test_woven_transcript_is_preferred_and_converted(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    woven = [
        TranscriptEntry(role="agent", content="One moment while I check."),
        TranscriptEntry(
            role="tool_call_invocation",
            tool_call_id="call_a",
            name="check_availability",
            arguments='{"service":"haircut"}',
        ),
        TranscriptEntry(role="tool_call_result", tool_call_id="call_a", content='{"status":"ok"}'),
        TranscriptEntry(role="agent", content="Thursday at 9 is free."),
        TranscriptEntry(role="user", content="Great."),
    ]
    ctx = make_ctx(
        transcript=[Utterance(role="user", content="this plain transcript is not used")],
        woven=woven,
    )
    await collect(make_brain(client).stream(ctx))
    assert fake_llm.requests[0].messages[1:-1] == [
        {
            "role": "assistant",
            "content": "One moment while I check.",
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {
                        "name": "check_availability",
                        "arguments": '{"service":"haircut"}',
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": '{"status":"ok"}'},
        {"role": "assistant", "content": "Thursday at 9 is free."},
        {"role": "user", "content": "Great."},
    ]


# --- tools ---------------------------------------------------------------------------------


async def test_several_tool_calls_with_split_arguments(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    availability = '{"service": "haircut", "date": "2026-12-03", "time": "09:00"}'
    info = '{"service": "colour"}'
    fake_llm.enqueue(
        Script(
            text=("Let me check. ",),
            tool_calls=(
                ToolCallScript("check_availability", availability, arg_pieces=5),
                ToolCallScript("get_service_info", info, id="call_info", arg_pieces=2),
            ),
        ),
        Script.say("Thursday at 9 is free."),
    )
    tools = RecordingToolBox()
    events = await collect(make_brain(client).stream(make_ctx(tools=tools)))

    echo_a = Echo(tool="check_availability", echo=json.loads(availability)).model_dump_json()
    echo_b = Echo(tool="get_service_info", echo=json.loads(info)).model_dump_json()
    assert events == [
        TextChunk("Let me check. "),
        ToolStarted("call_0_0", "check_availability", availability),
        ToolFinished("call_0_0", "check_availability", echo_a, True),
        ToolStarted("call_info", "get_service_info", info),
        ToolFinished("call_info", "get_service_info", echo_b, True),
        TextChunk("Thursday "),
        TextChunk("at "),
        TextChunk("9 "),
        TextChunk("is "),
        TextChunk("free."),
    ]
    assert tools.calls == [("check_availability", availability), ("get_service_info", info)]
    first, second = fake_llm.requests
    assert second.messages[: len(first.messages)] == first.messages
    assert second.messages[len(first.messages) :] == [
        {
            "role": "assistant",
            "content": "Let me check. ",
            "tool_calls": [
                {
                    "id": "call_0_0",
                    "type": "function",
                    "function": {"name": "check_availability", "arguments": availability},
                },
                {
                    "id": "call_info",
                    "type": "function",
                    "function": {"name": "get_service_info", "arguments": info},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_0_0", "content": echo_a},
        {"role": "tool", "tool_call_id": "call_info", "content": echo_b},
    ]


async def test_malformed_arguments_go_back_to_the_model(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    fake_llm.enqueue(
        Script(tool_calls=(ToolCallScript("check_availability", '{"service": "hairc'),)),
        Script.say("Sorry, which service was that?"),
    )
    tools = RecordingToolBox()
    events = await collect(make_brain(client).stream(make_ctx(tools=tools)))

    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert len(finished) == 1 and not finished[0].successful
    assert tools.calls == [("check_availability", '{"service": "hairc')]
    tool_message = fake_llm.requests[1].messages[-1]
    assert tool_message["role"] == "tool"
    assert tool_message["tool_call_id"] == "call_0_0"
    assert json.loads(tool_message["content"])["status"] == "invalid"
    assert "not valid JSON" in json.loads(tool_message["content"])["error"]
    assert text_of(events) == "Sorry, which service was that?"


@pytest.mark.parametrize(
    "action",
    [
        Transfer(number="+12125550143", message="Connecting you now.", reason="manager"),
        EndCall(message="Thanks for calling, goodbye!"),
    ],
)
async def test_tool_action_is_yielded_and_ends_the_turn(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI, action: Transfer | EndCall
) -> None:
    name = "escalate" if isinstance(action, Transfer) else "end_call"
    fake_llm.enqueue(
        Script(
            tool_calls=(
                ToolCallScript(name, '{"reason": "manager"}'),
                ToolCallScript("get_service_info", "{}"),
            )
        )
    )
    tools = RecordingToolBox(
        outcomes={name: ToolOutcome(ToolResult(status=ToolStatus.OK), action=action)}
    )
    events = await collect(make_brain(client).stream(make_ctx(tools=tools)))
    assert events == [
        ToolStarted("call_0_0", name, '{"reason": "manager"}'),
        ToolFinished("call_0_0", name, '{"status":"ok"}', True),
        action,
    ]
    assert len(tools.calls) == 1  # the second call of that response is never run
    assert len(fake_llm.requests) == 1


async def test_tool_rounds_are_bounded_and_the_last_round_forbids_tools(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    metrics = Metrics()
    fake_llm.responder = lambda request: Script.call("get_service_info", {})
    brain = make_brain(client, metrics, max_tool_rounds=2)
    with pytest.raises(LLMError) as caught:
        await collect(brain.stream(make_ctx()))
    assert caught.value.kind == "tool_rounds"
    assert [r.body.get("tool_choice") for r in fake_llm.requests] == [None, None, "none"]
    assert error_count(metrics, "tool_rounds") == 1.0


async def test_last_round_text_is_kept_even_if_it_also_calls_a_tool(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    fake_llm.enqueue(
        Script.call("get_service_info", {}),
        Script(text=("A haircut is 45 dollars.",), tool_calls=(ToolCallScript("end_call", "{}"),)),
    )
    tools = RecordingToolBox()
    events = await collect(make_brain(client, max_tool_rounds=1).stream(make_ctx(tools=tools)))
    assert text_of(events) == "A haircut is 45 dollars."
    assert [name for name, _ in tools.calls] == ["get_service_info"]


async def test_usage_is_summed_over_rounds_into_the_turn_stats(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    fake_llm.enqueue(
        Script.call("get_service_info", {}, usage=(100, 5)),
        Script.say("It takes 30 minutes.", usage=(140, 7)),
    )
    brain = make_brain(client)
    ctx = make_ctx(call_id="call_u", response_id=4)
    await collect(brain.stream(ctx))
    assert (ctx.stats.tokens_in, ctx.stats.tokens_out) == (240, 12)
    assert ctx.stats.waits_on_model
    assert ctx.stats.model_first_token_s is not None


async def test_usage_option_can_be_turned_off(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    brain = LLMBrain(
        client,
        model="m",
        temperature=0,
        max_tokens=10,
        first_token_timeout_s=5,
        turn_timeout_s=5,
        max_tool_rounds=1,
        include_usage=False,
    )
    ctx = make_ctx(call_id="call_n")
    await collect(brain.stream(ctx))
    assert "stream_options" not in fake_llm.requests[0].body
    assert ctx.stats.tokens_in is None


# --- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "kind"),
    [
        (Script.failing("http_500"), "http_5xx"),
        (Script.failing("http_503"), "http_5xx"),
        (Script.failing("http_429"), "http_429"),
        (Script.failing("connect_reset"), "connect"),
        (Script.say("Hello there", fault="garbage"), "malformed_stream"),
        (Script.say("Hello there you", fault="garbage", fault_after=2), "malformed_stream"),
        (Script.say("Hello there you", fault="truncated", fault_after=1), "malformed_stream"),
        (Script.say("Hello", fault="truncated"), "malformed_stream"),
        (Script(), "empty"),
        (Script.failing("stall"), "first_token_timeout"),
        (Script.say("Hello", first_token_ms=2000), "first_token_timeout"),
    ],
)
async def test_provider_failures_map_to_error_kinds(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI, script: Script, kind: str
) -> None:
    metrics = Metrics()
    fake_llm.enqueue(script)
    brain = make_brain(client, metrics, first_token_timeout_s=0.3)
    with pytest.raises(LLMError) as caught:
        await collect(brain.stream(make_ctx()))
    assert caught.value.kind == kind
    assert error_count(metrics, kind) == 1.0
    # Whatever went wrong, the brain let go of the upstream request.
    request = await fake_llm.requests[0].wait_finished()
    if kind == "first_token_timeout":
        assert request.closed_by_client


async def test_http_4xx_is_its_own_kind(fake_llm: FakeLLM) -> None:
    wrong_path = openai.AsyncOpenAI(
        base_url=fake_llm.base_url.replace("/v1", "/nope"), api_key="k", max_retries=0
    )
    async with wrong_path:
        with pytest.raises(LLMError) as caught:
            await collect(make_brain(wrong_path).stream(make_ctx()))
    assert caught.value.kind == "http_4xx"
    assert "404" in str(caught.value)


async def test_connection_refused_is_connect() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nowhere = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=0)
    async with nowhere:
        with pytest.raises(LLMError) as caught:
            await collect(make_brain(nowhere).stream(make_ctx()))
    assert caught.value.kind == "connect"


async def test_stream_stalling_after_its_first_token_hits_the_turn_timeout(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    fake_llm.enqueue(Script.say("Let me see and", fault="stall", fault_after=2))
    brain = make_brain(client, first_token_timeout_s=5.0, turn_timeout_s=0.4)
    received: list[AgentEvent] = []
    with pytest.raises(LLMError) as caught:
        async for event in brain.stream(make_ctx()):
            received.append(event)
    assert caught.value.kind == "turn_timeout"
    assert text_of(received) == "Let me "
    request = await fake_llm.requests[0].wait_finished()
    assert request.closed_by_client


async def test_slow_tool_hits_the_turn_timeout(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    class SlowTools(RecordingToolBox):
        async def run(self, name: str, arguments: str) -> ToolOutcome:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    fake_llm.enqueue(Script.call("check_availability", {}))
    brain = make_brain(client, turn_timeout_s=0.3)
    with pytest.raises(LLMError) as caught:
        await collect(brain.stream(make_ctx(tools=SlowTools())))
    assert caught.value.kind == "turn_timeout"


# --- cancellation --------------------------------------------------------------------------


async def test_cancelling_the_turn_closes_the_upstream_stream(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    fake_llm.enqueue(Script.say("Sure, let me check that for you", fault="stall", fault_after=3))
    brain = make_brain(client)
    first_text = asyncio.Event()

    async def consume() -> None:
        async for event in brain.stream(make_ctx()):
            if isinstance(event, TextChunk):
                first_text.set()

    task = asyncio.create_task(consume())
    async with asyncio.timeout(5):
        await first_text.wait()
    (request,) = fake_llm.requests
    assert not request.finished
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await request.wait_finished()
    assert request.closed_by_client
    assert not request.completed


async def test_cancelling_before_the_first_token_closes_the_request(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    fake_llm.enqueue(Script.say("Too late.", first_token_ms=30_000))
    brain = make_brain(client, first_token_timeout_s=60)
    task = asyncio.create_task(collect(brain.stream(make_ctx())))
    (request,) = await fake_llm.wait_requests(1)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await request.wait_finished()
    assert request.closed_by_client


async def test_superseded_turn_stops_while_the_next_one_streams(
    fake_llm: FakeLLM, client: openai.AsyncOpenAI
) -> None:
    # Turn 1 is mid-answer when turn 2 arrives; the runner cancels 1 and runs 2.
    fake_llm.enqueue(
        Script.say("I can book you on", fault="stall", fault_after=2),
        Script.say("Thursday works."),
    )
    brain = make_brain(client)
    old = brain.stream(make_ctx(response_id=1))
    assert await anext(old) == TextChunk("I ")
    await old.aclose()
    events = await collect(brain.stream(make_ctx(response_id=2)))
    assert text_of(events) == "Thursday works."
    first, second = fake_llm.requests
    await first.wait_finished()
    assert first.closed_by_client and not first.completed
    assert second.completed and not second.closed_by_client
