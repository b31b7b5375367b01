"""Provider exceptions to LLMError kinds, for the cases the fake server does not produce."""

from __future__ import annotations

import json

import httpx2
import openai
import pytest

from voiceops.llm.errors import from_provider

REQUEST = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")


def status_error(status: int, message: str) -> openai.APIStatusError:
    body = {"error": {"message": message, "code": "x"}}
    response = httpx2.Response(status, request=REQUEST, content=json.dumps(body).encode())
    error_class = {401: openai.AuthenticationError, 400: openai.BadRequestError}.get(
        status, openai.APIStatusError
    )
    return error_class(message, response=response, body=body)


def test_refused_key_is_never_quoted() -> None:
    error = from_provider(
        status_error(401, "Incorrect API key provided: sk-proj-****9f2c."), streaming=False
    )
    assert error.kind == "http_4xx"
    assert "sk-" not in str(error) and "401" in str(error)


def test_bad_request_keeps_a_short_reason() -> None:
    error = from_provider(status_error(400, "Unsupported parameter: 'max_tokens'"), streaming=False)
    assert error.kind == "http_4xx"
    assert "Unsupported parameter" in str(error)


@pytest.mark.parametrize(("streaming", "kind"), [(False, "connect"), (True, "malformed_stream")])
def test_connection_errors_depend_on_whether_the_stream_had_started(
    streaming: bool, kind: str
) -> None:
    assert (
        from_provider(openai.APIConnectionError(request=REQUEST), streaming=streaming).kind == kind
    )


def test_timeouts_and_error_events() -> None:
    assert from_provider(openai.APITimeoutError(request=REQUEST), streaming=True).kind == "timeout"
    event = openai.APIError("The server had an error", request=REQUEST, body=None)
    assert from_provider(event, streaming=True).kind == "http_5xx"
    assert from_provider(ValueError("Expecting value"), streaming=True).kind == "malformed_stream"
