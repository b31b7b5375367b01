"""Optional OpenTelemetry traces: one span per turn, with its LLM requests and tools inside.

Off by default (``VOICEOPS_OTEL_TRACES``). When on, voiceops uses only the OpenTelemetry
*API* (``pip install 'voiceops[otel]'``), as a library should: spans go to whatever tracer
provider the process was given, typically by running the server under
``opentelemetry-instrument`` with an exporter configured through the standard ``OTEL_*``
variables. With no provider installed the API hands out no-op spans.

Spans and their attributes:

* ``voiceops.turn``: ``voiceops.call_id``, ``voiceops.response_id``, ``voiceops.turn.kind``,
  and at the end ``voiceops.brain``, ``voiceops.turn.outcome``,
  ``voiceops.turn.first_chunk_ms``, ``voiceops.turn.overhead_ms``;
* ``voiceops.llm.request`` (child of the turn): ``gen_ai.request.model``,
  ``voiceops.llm.round``, ``voiceops.llm.first_token_ms``; an error status on failure;
* ``voiceops.tool`` (child of the turn): ``voiceops.tool.name``, ``voiceops.tool.successful``.

Transcripts and tool arguments are caller-controlled and may be personal data: they are
never put on a span. :data:`OFF` is the disabled tracer: it allocates nothing per span.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

from voiceops.core.errors import ConfigError


class Span(Protocol):
    def set(self, **attributes: str | int | float | bool | None) -> None: ...

    def fail(self, kind: str) -> None: ...

    def end(self) -> None: ...


class _NoSpan:
    __slots__ = ()

    def set(self, **attributes: str | int | float | bool | None) -> None:
        return None

    def fail(self, kind: str) -> None:
        return None

    def end(self) -> None:
        return None


_NO_SPAN = _NoSpan()
_NO_SPAN_OPEN: AbstractContextManager[Span] = contextlib.nullcontext(_NO_SPAN)
"""Reusable: the disabled tracer hands out this one object for every turn and tool."""


class Tracer:
    """The disabled tracer: every span is a shared no-op."""

    enabled = False

    def current(
        self, name: str, **attributes: str | int | float | bool
    ) -> AbstractContextManager[Span]:
        """A span that is the current one (parent of spans opened inside) while open."""
        return _NO_SPAN_OPEN

    def start(self, name: str, **attributes: str | int | float | bool) -> Span:
        """A child of the current span that is *not* made current: for work that spans the
        yields of an async generator, where a context switch would leak to the consumer."""
        return _NO_SPAN


OFF = Tracer()


class _OtelSpan:
    __slots__ = ("_span",)

    def __init__(self, span: Any) -> None:
        self._span = span

    def set(self, **attributes: str | int | float | bool | None) -> None:
        for key, value in attributes.items():
            if value is not None:
                self._span.set_attribute(_key(key), value)

    def fail(self, kind: str) -> None:
        from opentelemetry.trace import Status, StatusCode

        self._span.set_attribute("error.type", kind)
        self._span.set_status(Status(StatusCode.ERROR, kind))

    def end(self) -> None:
        self._span.end()


class OtelTracer(Tracer):
    """Spans through the OpenTelemetry API's global tracer provider."""

    enabled = True

    def __init__(self, provider: Any = None) -> None:
        """``provider``: a ``TracerProvider`` to use instead of the global one (tests)."""
        try:
            from opentelemetry import trace
        except ImportError:
            raise ConfigError(
                "VOICEOPS_OTEL_TRACES=true needs the OpenTelemetry API: "
                "pip install 'voiceops[otel]'"
            ) from None
        from voiceops import __version__

        self._tracer = trace.get_tracer("voiceops", __version__, tracer_provider=provider)

    def current(
        self, name: str, **attributes: str | int | float | bool
    ) -> AbstractContextManager[Span]:
        return self._current(name, attributes)

    @contextlib.contextmanager
    def _current(self, name: str, attributes: dict[str, Any]) -> Iterator[Span]:
        attrs = {_key(k): v for k, v in attributes.items()}
        with self._tracer.start_as_current_span(
            name, attributes=attrs, record_exception=False, set_status_on_exception=False
        ) as span:
            yield _OtelSpan(span)

    def start(self, name: str, **attributes: str | int | float | bool) -> Span:
        attrs = {_key(k): v for k, v in attributes.items()}
        return _OtelSpan(self._tracer.start_span(name, attributes=attrs))


def _key(name: str) -> str:
    """``call_id`` -> ``voiceops.call_id``, ``turn__kind`` -> ``voiceops.turn.kind``,
    ``gen_ai__request__model`` -> ``gen_ai.request.model`` (keywords cannot hold dots)."""
    dotted = name.replace("__", ".")
    return dotted if dotted.startswith("gen_ai.") else f"voiceops.{dotted}"


def make_tracer(enabled: bool) -> Tracer:
    return OtelTracer() if enabled else OFF
