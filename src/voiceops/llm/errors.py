"""Mapping provider failures to :class:`~voiceops.core.errors.LLMError` kinds.

The kinds are short labels used in metrics (``voiceops_llm_errors{kind=...}``), call events
and the fallback reason:

==================== =========================================================================
``connect``          no connection, refused, reset before a response
``timeout``          the HTTP client's own connect/read/pool timeout
``http_429``         rate limited
``http_5xx``         the provider failed (status 5xx, or an error event inside the stream)
``http_4xx``         the provider refused the request (bad key, bad model, bad parameters)
``malformed_stream`` a chunk that is not JSON, or a stream that broke off before it finished
``empty``            the stream finished without any text or tool call
``first_token_timeout`` no token within the first-token budget
``turn_timeout``     the whole turn (all rounds and tools) over its budget
``tool_rounds``      the model kept calling tools past the round limit and never spoke
==================== =========================================================================

Whether a transport failure happened while *opening* the stream or *inside* it matters: a
connection error before any response is ``connect``; the same error after the response
started means the stream was cut, which is ``malformed_stream``.
"""

from __future__ import annotations

import openai

from voiceops.core.errors import LLMError


def from_provider(exc: Exception, *, streaming: bool) -> LLMError:
    """The :class:`LLMError` for an exception raised by the ``openai`` SDK.

    ``streaming`` is true when the response had already started (reading chunks).
    """
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("timeout", "the provider did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        if streaming:
            return LLMError("malformed_stream", "the stream broke off before it finished")
        return LLMError("connect", "cannot reach the provider")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 429:
            return LLMError("http_429", "rate limited by the provider")
        if status >= 500:
            return LLMError("http_5xx", f"provider error, HTTP {status}")
        if status in (401, 403):
            # Never echo the provider's text here: it may quote part of the key.
            return LLMError("http_4xx", f"request refused, HTTP {status} (check the API key)")
        return LLMError("http_4xx", f"request refused, HTTP {status}: {_short(exc.message)}")
    if isinstance(exc, openai.APIError):
        # An error object inside an otherwise healthy stream: the provider failed mid-answer.
        return LLMError("http_5xx", f"provider error in the stream: {_short(exc.message)}")
    if isinstance(exc, ValueError):
        # json.JSONDecodeError from a chunk that is not JSON, or a chunk of the wrong shape.
        return LLMError("malformed_stream", "a streamed chunk could not be decoded")
    return LLMError("malformed_stream", f"unexpected {type(exc).__name__} from the provider")


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
