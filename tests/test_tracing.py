"""Optional OpenTelemetry spans: a real SDK provider with an in-memory exporter, injected
through the factories (never the process-wide provider)."""

from __future__ import annotations

from collections.abc import Callable

import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from tests.conftest import run_server
from tests.fakes.fake_llm import FakeLLM, Script
from tests.llm.support import collect, make_brain, make_ctx
from voiceops.config import Settings
from voiceops.core.errors import LLMError
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import RetellPeer
from voiceops.tracing import OFF, OtelTracer, _key, make_tracer


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> OtelTracer:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return OtelTracer(provider)


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def test_off_unless_asked() -> None:
    assert make_tracer(False) is OFF and not OFF.enabled
    with OFF.current("x", call_id="c") as span:
        span.set(a=1)
        span.fail("kind")
    OFF.start("y").end()
    assert isinstance(make_tracer(True), OtelTracer)


def test_attribute_names() -> None:
    assert _key("call_id") == "voiceops.call_id"
    assert _key("turn__kind") == "voiceops.turn.kind"
    assert _key("gen_ai__request__model") == "gen_ai.request.model"


async def test_a_call_gives_turn_spans_with_tool_spans_inside(
    make_settings: Callable[..., Settings],
    profile: AgentProfile,
    tracer: OtelTracer,
    exporter: InMemorySpanExporter,
) -> None:
    settings = make_settings(brain="flow")
    async with (
        run_server(settings, profile=profile, tracer=tracer) as srv,
        RetellPeer(srv.url("traced"), call={"call_id": "traced"}) as peer,
    ):
        await peer.wait_begin()
        await peer.turn("Can I book a haircut tomorrow at 2pm? My name is Dana.")
    spans = exporter.get_finished_spans()
    (turn,) = by_name(spans, "voiceops.turn")
    attrs = dict(turn.attributes or {})
    assert attrs["voiceops.call_id"] == "traced" and attrs["voiceops.response_id"] == 1
    assert attrs["voiceops.turn.kind"] == "response"
    assert attrs["voiceops.brain"] == "flow"
    assert attrs["voiceops.turn.outcome"] == "completed"
    assert float(attrs["voiceops.turn.first_chunk_ms"]) >= 0  # type: ignore[arg-type]
    tools = by_name(spans, "voiceops.tool")
    assert tools, "the flow brain checked availability"
    assert all(t.parent is not None and t.parent.span_id == turn.context.span_id for t in tools)
    assert all((t.attributes or {})["voiceops.tool.name"] == "check_availability" for t in tools)
    text = repr([dict(s.attributes or {}) for s in spans])
    assert "Dana" not in text and "haircut tomorrow" not in text, "no transcript on spans"


async def test_llm_requests_are_spans_with_their_first_token_and_failures(
    fake_llm: FakeLLM,
    client: openai.AsyncOpenAI,
    tracer: OtelTracer,
    exporter: InMemorySpanExporter,
) -> None:
    brain = make_brain(client, tracer=tracer)
    fake_llm.enqueue(Script.say("Hello there.", first_token_ms=20))
    fake_llm.enqueue(Script.failing("http_500"))
    with tracer.current("voiceops.turn") as _:
        await collect(brain.stream(make_ctx(response_id=1)))
        with pytest.raises(LLMError):
            await collect(brain.stream(make_ctx(response_id=2)))
    ok, failed = by_name(exporter.get_finished_spans(), "voiceops.llm.request")
    (turn,) = by_name(exporter.get_finished_spans(), "voiceops.turn")
    assert (ok.attributes or {})["gen_ai.request.model"] == "gpt-test"
    assert float((ok.attributes or {})["voiceops.llm.first_token_ms"]) >= 15  # type: ignore[arg-type]
    assert ok.parent is not None and ok.parent.span_id == turn.context.span_id
    assert ok.status.status_code is StatusCode.UNSET
    assert failed.status.status_code is StatusCode.ERROR
    assert (failed.attributes or {})["error.type"] == "http_5xx"
