"""A fake OpenAI-compatible chat-completions server streaming real SSE over a real socket.

It implements just enough of ``POST /v1/chat/completions`` with ``stream: true`` for the
``openai`` SDK to talk to it as to the real API: ``chat.completion.chunk`` objects framed as
``data: {...}\\n\\n`` lines over chunked HTTP/1.1 with keep-alive, text in ``delta.content``,
tool calls in ``delta.tool_calls`` (id, name and then the arguments split over several
deltas), a ``finish_reason`` chunk, an optional usage chunk (``stream_options.include_usage``)
and ``data: [DONE]``.

Each request consumes one :class:`Script` (from the queue filled with :meth:`FakeLLM.enqueue`,
else from :attr:`FakeLLM.responder`, else the default script). A script says what to stream,
how fast, and which fault to inject. Every request is recorded as a :class:`RecordedRequest`,
including whether the *client* closed the connection before the stream finished: that is how
tests prove a superseded turn stops its upstream stream.

Written on plain asyncio streams so hundreds of concurrent streams cost little. Usable in
tests (``async with FakeLLM() as llm: llm.base_url``) and as a process for the benchmark::

    python -m tests.fakes.fake_llm --port 8099 --first-token-ms 300 --token-ms 15 --text "Hi."

The process streams its texts as a model does (:func:`model_tokens`: ``"Sure"``, ``","``,
``" I"``, ``" can"`` ...), and answers ``GET /_stats`` with its counters as JSON. With
``--text`` given several times it cycles through the texts by the number of caller messages
in the request (so consecutive replies of one conversation differ). With ``--bench-tags`` it
reads two markers from the last caller message, ``#bench:<tag>`` (keep this request's
timings, served and forgotten by ``GET /_timings``) and ``#ft:<ms>`` (this request's
first-token delay): that is how the benchmark joins its client-side times with the
upstream's (when the first token, and the token that ends the first word, were sent) and
measures filler timing in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Fault = Literal[
    "none",
    "http_500",
    "http_429",
    "http_503",
    "connect_reset",
    "garbage",
    "stall",
    "truncated",
]
"""What goes wrong with a response.

* ``http_500`` / ``http_429`` / ``http_503``: an error status with an OpenAI-style JSON body.
* ``connect_reset``: the socket is closed after the request is read, before any response.
* ``garbage``: after ``fault_after`` deltas, an SSE data line that is not JSON.
* ``stall``: after ``fault_after`` deltas, nothing more is sent until the client gives up.
* ``truncated``: after ``fault_after`` deltas the socket is closed mid-body, no ``[DONE]``.
"""

_WORD = re.compile(r"\S+\s*|\s+")
# How GPT-style tokenisers cut text before their byte-pair merges (the cl100k pattern, with
# letters as [^\W\d_] and digits as \d): contractions, a word with at most one character
# before it (its leading space), at most three digits, a run of punctuation with an
# optional leading space, line breaks, other whitespace; and any other character (an
# underscore, a superscript digit) alone, so that the tokens always add up to the text.
_MODEL_TOKEN = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)"
    r"|[^\r\n\w]?[^\W\d_]+"
    r"|\d{1,3}"
    r"| ?[^\s\w]+[\r\n]*"
    r"|\s*[\r\n]+"
    r"|\s+(?!\S)"
    r"|\s+"
    r"|.",
)
# A letter or digit followed by a character that cannot continue a word: the first word
# of a text has ended (apostrophes and hyphens continue it: "I'm", "well-known").
_WORD_ENDED = re.compile(r"[^\W_][^\w'\u2019-]")


def model_tokens(text: str) -> tuple[str, ...]:
    """``text`` cut as a model streams it: ``"Sure, I can."`` -> ``"Sure"``, ``","``,
    ``" I"``, ``" can"``, ``"."``. Common English words are one token each in the GPT
    vocabularies, so only the pre-tokenisation is modelled: words carry their leading space,
    punctuation comes as tokens of its own, numbers in groups of up to three digits."""
    return tuple(_MODEL_TOKEN.findall(text))


def first_word_end(pieces: Sequence[str]) -> int | None:
    """Index of the piece that ends the first word of ``"".join(pieces)`` (the first piece
    after which a letter or digit is followed by a character that cannot continue a word),
    or ``None`` if no word ends before the text does."""
    last = ""
    for index, piece in enumerate(pieces):
        if _WORD_ENDED.search(last + piece):
            return index
        if piece:
            last = piece[-1]
    return None


_MAX_HEAD = 64 * 1024
_MAX_BODY = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ToolCallScript:
    """One tool call the fake model makes. ``arguments`` is sent verbatim (it may be bad
    JSON on purpose), split into ``arg_pieces`` deltas after the delta carrying the name."""

    name: str
    arguments: str
    id: str | None = None
    arg_pieces: int = 3


@dataclass(frozen=True, slots=True)
class Script:
    """What one response streams.

    ``text`` pieces become one content delta each, then ``tool_calls`` follow. Delays:
    ``first_token_ms`` before the first delta (and before an error status, so a slow failure
    can be simulated), then ``token_ms`` between deltas. ``usage`` overrides the token counts
    reported in the usage chunk.
    """

    text: Sequence[str] = ()
    tool_calls: Sequence[ToolCallScript] = ()
    first_token_ms: float = 0.0
    token_ms: float = 0.0
    fault: Fault = "none"
    fault_after: int = 0
    usage: tuple[int, int] | None = None
    finish_reason: str | None = None
    """Overrides the computed ``stop`` / ``tool_calls``."""

    @classmethod
    def say(cls, text: str, **kwargs: Any) -> Script:
        """Stream ``text`` word by word (each word keeps its trailing space, so every token
        ends a word); :meth:`tokens` streams as a model does."""
        return cls(text=tuple(_WORD.findall(text)), **kwargs)

    @classmethod
    def tokens(cls, text: str, **kwargs: Any) -> Script:
        """Stream ``text`` as a model does (:func:`model_tokens`): ``"Sure"``, ``","``,
        ``" I"`` ..., so a word is known to have ended only from the token after it."""
        return cls(text=model_tokens(text), **kwargs)

    @classmethod
    def call(cls, name: str, arguments: str | dict[str, Any], **kwargs: Any) -> Script:
        """Make a single tool call; a dict is JSON-encoded."""
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        return cls(tool_calls=(ToolCallScript(name, args),), **kwargs)

    @classmethod
    def failing(cls, fault: Fault, **kwargs: Any) -> Script:
        return cls(fault=fault, **kwargs)


Responder = Callable[["RecordedRequest"], Script]


@dataclass(slots=True)
class RecordedRequest:
    """One request as the server saw it. Times are ``time.monotonic()`` seconds."""

    index: int
    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased names; ``authorization`` is dropped."""
    body: dict[str, Any]
    received_at: float
    script: Script | None = None
    headers_sent_at: float | None = None
    first_token_at: float | None = None
    first_word_at: float | None = None
    """When the content token that ends the first word was sent (:func:`first_word_end`):
    the first token itself when it carries the word's end, later when the word's end comes
    with the next token ("Sure" then ","); ``None`` if no word ended."""
    finished_at: float | None = None
    chunks_sent: int = 0
    completed: bool = False
    """``data: [DONE]`` was sent and the body terminated."""
    closed_by_client: bool = False
    """The client closed the connection before the response was complete."""
    client_closed_at: float | None = None
    _done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def messages(self) -> list[dict[str, Any]]:
        value = self.body.get("messages")
        return value if isinstance(value, list) else []

    @property
    def tools(self) -> list[dict[str, Any]]:
        value = self.body.get("tools")
        return value if isinstance(value, list) else []

    @property
    def model(self) -> str | None:
        value = self.body.get("model")
        return value if isinstance(value, str) else None

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    async def wait_finished(self, within_s: float = 5.0) -> RecordedRequest:
        """Wait until the server is done with this request (completed, failed or abandoned)."""
        async with asyncio.timeout(within_s):
            await self._done.wait()
        return self


@dataclass(slots=True)
class Stats:
    connections: int = 0
    """TCP connections accepted (keep-alive makes this smaller than ``requests``)."""
    requests: int = 0
    active: int = 0
    completed: int = 0
    closed_by_client: int = 0
    faults: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "connections": self.connections,
            "requests": self.requests,
            "active": self.active,
            "completed": self.completed,
            "closed_by_client": self.closed_by_client,
            "faults": self.faults,
        }


class _ClientGone(Exception):
    """The peer closed the connection while we were responding."""


class _BadRequest(Exception):
    pass


class FakeLLM:
    """The server. Start it with ``async with`` (or :meth:`start` / :meth:`close`)."""

    def __init__(
        self,
        default: Script | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = True,
    ) -> None:
        self.default = default if default is not None else Script.say("Sure, I can help.")
        self.responder: Responder | None = None
        self.requests: list[RecordedRequest] = []
        """Every request, in arrival order (empty when ``record`` is false)."""
        self.stats = Stats()
        self.errors: list[Exception] = []
        """Unexpected exceptions inside the server; :meth:`close` raises the first."""
        self.on_finish: Callable[[RecordedRequest], None] | None = None
        """Called with every request once the server is done with it (recorded or not)."""
        self.reports: dict[str, Callable[[], dict[str, Any]]] = {}
        """Extra ``GET`` paths, each answered with the JSON object its callable returns."""
        self._host = host
        self._port = port
        self._record = record
        self._queue: deque[Script] = deque()
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._arrived: asyncio.Condition | None = None
        self.prompt_cache = PromptCache()
        """Which prompt prefixes this "provider" has seen (``cached_tokens`` in usage)."""

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._arrived = asyncio.Condition()
        self._server = await asyncio.start_server(
            self._handle, self._host, self._port, limit=_MAX_HEAD, backlog=1024
        )

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # Abort the sockets rather than cancel the handlers: each handler then sees its
        # connection end and returns normally, exactly as when a client hangs up.
        for writer in list(self._connections.values()):
            writer.transport.abort()
        if self._connections:
            await asyncio.wait(list(self._connections))
        await self._server.wait_closed()
        self._server = None
        if self.errors:
            raise RuntimeError("FakeLLM failed internally") from self.errors[0]

    async def __aenter__(self) -> FakeLLM:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeLLM is not started")
        sockname = self._server.sockets[0].getsockname()
        return int(sockname[1])

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` to ``openai.AsyncOpenAI``."""
        return f"http://{self._host}:{self.port}/v1"

    # --- scripting and inspection -----------------------------------------------------------

    def enqueue(self, *scripts: Script) -> None:
        """Scripts for the next requests, consumed in order, before the responder."""
        self._queue.extend(scripts)

    async def wait_requests(self, count: int, within_s: float = 5.0) -> list[RecordedRequest]:
        """Wait until at least ``count`` requests were received; returns the recording."""
        if self._arrived is None:
            raise RuntimeError("FakeLLM is not started")
        async with asyncio.timeout(within_s), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return self.requests

    def _next_script(self, request: RecordedRequest) -> Script:
        if self._queue:
            return self._queue.popleft()
        if self.responder is not None:
            return self.responder(request)
        return self.default

    # --- connection handling -----------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        self.stats.connections += 1
        buffer = bytearray()
        try:
            while True:
                try:
                    head, body = await _read_request(reader, buffer)
                except asyncio.IncompleteReadError:
                    return  # the client closed an idle keep-alive connection
                except _BadRequest as exc:
                    await _send_plain(writer, 400, str(exc), close=True)
                    return
                keep_open = await self._dispatch(head, body, reader, writer, buffer)
                if not keep_open:
                    return
        except (ConnectionError, _ClientGone):
            return
        except Exception as exc:
            # A bug in the fake itself: keep it, and make close() fail loudly with it.
            self.errors.append(exc)
            raise
        finally:
            self._connections.pop(task, None)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _dispatch(
        self,
        head: _Head,
        body: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        buffer: bytearray,
    ) -> bool:
        """Answer one request; returns whether the connection may serve another."""
        if head.method == "GET" and head.path == "/_stats":
            await _send_json(writer, 200, self.stats.as_dict())
            return True
        if head.method == "GET" and head.path in self.reports:
            await _send_json(writer, 200, self.reports[head.path]())
            return True
        if head.method == "GET" and head.path == "/v1/models":
            await _send_json(writer, 200, {"object": "list", "data": [_MODEL_ENTRY]})
            return True
        if head.path != "/v1/chat/completions":
            await _send_json(writer, 404, _error_body("not found", "invalid_request_error"))
            return True
        if head.method != "POST":
            await _send_json(
                writer, 405, _error_body("method not allowed", "invalid_request_error")
            )
            return True
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            await _send_json(writer, 400, _error_body("body is not a JSON object", "invalid_json"))
            return True
        if payload.get("stream") is not True:
            await _send_json(
                writer, 400, _error_body("only stream=true is supported", "invalid_request_error")
            )
            return True
        return await self._complete(head, payload, reader, writer, buffer)

    async def _complete(
        self,
        head: _Head,
        payload: dict[str, Any],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        buffer: bytearray,
    ) -> bool:
        self.stats.requests += 1
        self.stats.active += 1
        record = RecordedRequest(
            index=self.stats.requests - 1,
            method=head.method,
            path=head.path,
            headers={k: v for k, v in head.headers.items() if k != "authorization"},
            body=payload,
            received_at=time.monotonic(),
        )
        script = record.script = self._next_script(record)
        if self._record:
            self.requests.append(record)
            assert self._arrived is not None
            async with self._arrived:
                self._arrived.notify_all()
        if script.fault != "none":
            self.stats.faults += 1

        responder = asyncio.create_task(_Streamer(record, script, writer, self.prompt_cache).run())
        # Watch the socket while responding: EOF here means the client hung up mid-response.
        watcher = asyncio.create_task(reader.read(_MAX_HEAD))
        keep_open = False
        try:
            while True:
                done, _ = await asyncio.wait(
                    {responder, watcher}, return_when=asyncio.FIRST_COMPLETED
                )
                if responder in done:
                    keep_open = responder.result()
                    break
                try:
                    data = watcher.result()
                except ConnectionError:
                    data = b""
                if data:
                    # A pipelined next request: keep it for the next parse, keep watching.
                    buffer.extend(data)
                    watcher = asyncio.create_task(reader.read(_MAX_HEAD))
                    continue
                record.client_closed_at = time.monotonic()
                await _reap(responder)
                break
        except (ConnectionError, _ClientGone):
            if record.client_closed_at is None:
                record.client_closed_at = time.monotonic()
        finally:
            try:
                await _reap(responder)
                await _reap(watcher)
                if not watcher.cancelled() and watcher.exception() is None:
                    buffer.extend(watcher.result())  # bytes that arrived as the response ended
            finally:
                self._finish(record)
        return keep_open

    def _finish(self, record: RecordedRequest) -> None:
        record.finished_at = time.monotonic()
        if record.client_closed_at is not None and not record.completed:
            record.closed_by_client = True
            self.stats.closed_by_client += 1
        if record.completed:
            self.stats.completed += 1
        self.stats.active -= 1
        record._done.set()
        if self.on_finish is not None:
            self.on_finish(record)


class _Streamer:
    """Writes one scripted response; returns whether the connection stays usable."""

    def __init__(
        self,
        record: RecordedRequest,
        script: Script,
        writer: asyncio.StreamWriter,
        cache: PromptCache | None = None,
    ) -> None:
        self.cache = cache if cache is not None else PromptCache()
        self.record = record
        self.script = script
        self.writer = writer
        body = record.body
        self.model = str(body.get("model") or "fake-model")
        options = body.get("stream_options")
        self.include_usage = isinstance(options, dict) and options.get("include_usage") is True
        self.chunk_id = f"chatcmpl-fake{record.index}"
        self.created = int(time.time())

    async def run(self) -> bool:
        script = self.script
        if script.first_token_ms:
            await asyncio.sleep(script.first_token_ms / 1000)
        if script.fault == "connect_reset":
            # Abort (RST) rather than a polite FIN: a connection reset as clients see it.
            transport = self.writer.transport
            transport.abort()
            return False
        if script.fault in ("http_500", "http_429", "http_503"):
            await self._send_error(int(script.fault[5:]))
            return True
        await self._send_head()
        deltas = self._deltas()
        word_end = first_word_end(script.text)
        for position, delta in enumerate(deltas):
            if position == script.fault_after and await self._fault_now():
                return False
            if position > 0 and script.token_ms:
                await asyncio.sleep(script.token_ms / 1000)
            await self._send_event(self._chunk(delta, None, first=position == 0))
            if position == 0 or position == word_end:
                sent = time.monotonic()
                if position == 0:
                    self.record.first_token_at = sent
                if position == word_end:
                    self.record.first_word_at = sent
        if len(deltas) <= script.fault_after and await self._fault_now():
            return False
        if script.token_ms and deltas:
            await asyncio.sleep(script.token_ms / 1000)
        finish = script.finish_reason or ("tool_calls" if script.tool_calls else "stop")
        await self._send_event(self._chunk({}, finish, first=not deltas))
        if self.include_usage:
            await self._send_event(self._usage_chunk())
        await self._write(b"data: [DONE]\n\n")
        await self._raw(b"0\r\n\r\n")
        self.record.completed = True
        return True

    async def _fault_now(self) -> bool:
        """Inject a mid-stream fault; returns True when the response ends here."""
        fault = self.script.fault
        if fault == "garbage":
            await self._write(b'data: {"id": "chatcmpl-broken", "choices": [{"delta":\n\n')
            await self._raw(b"0\r\n\r\n")
            return True
        if fault == "stall":
            # Headers (and maybe some deltas) are out; now nothing until the client hangs up.
            await asyncio.Event().wait()
        if fault == "truncated":
            self.writer.transport.abort()
            return True
        return False

    def _deltas(self) -> list[dict[str, Any]]:
        deltas: list[dict[str, Any]] = [{"content": piece} for piece in self.script.text]
        for index, call in enumerate(self.script.tool_calls):
            call_id = call.id or f"call_{self.record.index}_{index}"
            deltas.append(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call_id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
            )
            for piece in _split(call.arguments, call.arg_pieces):
                deltas.append({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        return deltas

    def _chunk(self, delta: dict[str, Any], finish: str | None, *, first: bool) -> dict[str, Any]:
        if first:
            # Like OpenAI, the first delta announces the role (content may ride along).
            delta = {"role": "assistant", "content": None, **delta}
            if "tool_calls" not in delta and delta["content"] is None:
                delta["content"] = ""
        chunk: dict[str, Any] = {
            "id": self.chunk_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def _usage_chunk(self) -> dict[str, Any]:
        prompt = json.dumps(self.record.tools) + json.dumps(self.record.messages)
        cached = self.cache.cached_tokens(prompt)
        if self.script.usage is not None:
            tokens_in, tokens_out = self.script.usage
        else:
            tokens_in = _estimate_tokens(prompt)
            tokens_out = len(self.script.text) + sum(
                1 + _estimate_tokens(c.arguments) for c in self.script.tool_calls
            )
        cached = min(cached, tokens_in)
        return {
            "id": self.chunk_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": [],
            "usage": {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        }

    async def _send_head(self) -> None:
        head = (
            "HTTP/1.1 200 OK\r\n"
            "content-type: text/event-stream; charset=utf-8\r\n"
            "cache-control: no-cache\r\n"
            "transfer-encoding: chunked\r\n"
            "connection: keep-alive\r\n"
            f"x-request-id: req_fake{self.record.index}\r\n"
            "\r\n"
        )
        await self._raw(head.encode("ascii"))
        self.record.headers_sent_at = time.monotonic()

    async def _send_error(self, status: int) -> None:
        kinds = {
            429: ("Rate limit reached for requests", "rate_limit_exceeded"),
            500: ("The server had an error while processing your request.", "server_error"),
            503: ("The engine is currently overloaded, please try again later.", "overloaded"),
        }
        message, code = kinds[status]
        extra = {"retry-after": "1"} if status == 429 else {}
        await _send_json(self.writer, status, _error_body(message, code), extra)

    async def _send_event(self, chunk: dict[str, Any]) -> None:
        data = json.dumps(chunk, separators=(",", ":")).encode("utf-8")
        await self._write(b"data: " + data + b"\n\n")
        self.record.chunks_sent += 1

    async def _write(self, payload: bytes) -> None:
        """One HTTP chunk."""
        await self._raw(b"%x\r\n%s\r\n" % (len(payload), payload))

    async def _raw(self, data: bytes) -> None:
        if self.writer.transport.is_closing():
            raise _ClientGone
        self.writer.write(data)
        await self.writer.drain()


async def _reap(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` if it still runs and wait for its end, without swallowing a
    cancellation of the caller. Its outcome is dropped: the response is over either way."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()


# --- HTTP/1.1 plumbing ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Head:
    method: str
    path: str
    headers: dict[str, str]


async def _read_request(reader: asyncio.StreamReader, buffer: bytearray) -> tuple[_Head, bytes]:
    """Read one request (request line, headers, ``Content-Length`` body) via ``buffer``.

    Raises ``IncompleteReadError`` on EOF before a request starts or completes.
    """
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        if len(buffer) > _MAX_HEAD:
            raise _BadRequest("request head too large")
        data = await reader.read(_MAX_HEAD)
        if not data:
            raise asyncio.IncompleteReadError(bytes(buffer), None)
        buffer.extend(data)
    raw_head = bytes(buffer[:end]).decode("latin-1")
    del buffer[: end + 4]
    request_line, *header_lines = raw_head.split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest("malformed request line")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequest("malformed header line")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise _BadRequest("chunked request bodies are not supported")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise _BadRequest("bad content-length") from None
    if not 0 <= length <= _MAX_BODY:
        raise _BadRequest("content-length out of range")
    while len(buffer) < length:
        data = await reader.read(max(length - len(buffer), _MAX_HEAD))
        if not data:
            raise asyncio.IncompleteReadError(bytes(buffer), length)
        buffer.extend(data)
    body = bytes(buffer[:length])
    del buffer[:length]
    path = parts[1].split("?", 1)[0]
    return _Head(parts[0].upper(), path, headers), body


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

_MODEL_ENTRY = {"id": "fake-model", "object": "model", "created": 0, "owned_by": "voiceops"}


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": code, "param": None, "code": code}}


async def _send_json(
    writer: asyncio.StreamWriter,
    status: int,
    payload: dict[str, Any],
    extra_headers: dict[str, str] | None = None,
) -> None:
    body = json.dumps(payload).encode("utf-8")
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: keep-alive",
        *(f"{k}: {v}" for k, v in (extra_headers or {}).items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body)
    await writer.drain()


async def _send_plain(writer: asyncio.StreamWriter, status: int, text: str, *, close: bool) -> None:
    body = text.encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        "content-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\n"
        f"connection: {'close' if close else 'keep-alive'}\r\n\r\n"
    )
    writer.write(head.encode("ascii") + body)
    with contextlib.suppress(ConnectionError):
        await writer.drain()


def _split(text: str, pieces: int) -> list[str]:
    """``text`` in ``pieces`` roughly equal consecutive parts (never an empty part)."""
    if not text:
        return []
    pieces = max(1, min(pieces, len(text)))
    size, rest = divmod(len(text), pieces)
    out: list[str] = []
    start = 0
    for i in range(pieces):
        end = start + size + (1 if i < rest else 0)
        out.append(text[start:end])
        start = end
    return out


class PromptCache:
    """A provider's prompt cache, as OpenAI describes its own: a prompt whose first 1,024
    tokens or more match an earlier prompt is served from the cache for the matching prefix,
    in steps of 128 tokens (``usage.prompt_tokens_details.cached_tokens``)."""

    MIN_TOKENS = 1024
    STEP = 128
    KEPT = 256

    def __init__(self) -> None:
        self._seen: deque[str] = deque(maxlen=self.KEPT)

    def cached_tokens(self, prompt: str) -> int:
        """Tokens of ``prompt`` served from the cache; then remember ``prompt``."""
        best = 0
        for earlier in self._seen:
            best = max(best, _shared_prefix(earlier, prompt))
        self._seen.append(prompt)
        tokens = best // 4  # the same four characters a token as _estimate_tokens
        if tokens < self.MIN_TOKENS:
            return 0
        return tokens // self.STEP * self.STEP


def _shared_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix of ``a`` and ``b`` (binary search on slices:
    a few C-speed comparisons instead of a Python loop over every character)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _estimate_tokens(text: str) -> int:
    """About four characters per token, like the usual rule of thumb."""
    return max(1, len(text) // 4)


# --- standalone process ------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.fake_llm",
        description="Fake OpenAI-compatible streaming server (chat completions over SSE).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--first-token-ms", type=float, default=300.0)
    parser.add_argument("--token-ms", type=float, default=15.0)
    parser.add_argument(
        "--text",
        action="append",
        help=(
            "what a response says, streamed in tokens as a model does (words with their "
            "leading space, punctuation on its own); give it several times to cycle "
            "through the texts by the number of caller messages in the request"
        ),
    )
    parser.add_argument(
        "--record", action="store_true", help="keep every request in memory (off by default)"
    )
    parser.add_argument(
        "--bench-tags",
        action="store_true",
        help=(
            "honour '#ft:<ms>' and '#bench:<tag>' in the last caller message "
            "(per-request first-token delay; timings of tagged requests at GET /_timings)"
        ),
    )
    return parser.parse_args(argv)


DEFAULT_TEXT = "Sure, I can help with that. What day works best for you?"
_TAG = re.compile(r"#bench:(\S+)")
_FIRST_TOKEN = re.compile(r"#ft:(\d{1,6})\b")


def _last_user_text(request: RecordedRequest) -> str:
    for message in reversed(request.messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else ""
    return ""


class BenchResponder:
    """The process's responder: cycles the texts and, with ``tags``, honours the markers.

    A caller message merged from several utterances may carry several markers; the last
    one wins, as it belongs to the newest utterance.
    """

    def __init__(
        self, texts: Sequence[str], *, first_token_ms: float, token_ms: float, tags: bool
    ) -> None:
        if not texts:
            raise ValueError("at least one text is needed")
        self._pieces = [model_tokens(text) for text in texts]
        self._first_token_ms = first_token_ms
        self._token_ms = token_ms
        self._tags = tags
        self._timings: list[dict[str, Any]] = []

    def __call__(self, request: RecordedRequest) -> Script:
        users = sum(1 for m in request.messages if isinstance(m, dict) and m.get("role") == "user")
        first_token_ms = self._first_token_ms
        if self._tags:
            delays = _FIRST_TOKEN.findall(_last_user_text(request))
            if delays:
                first_token_ms = float(delays[-1])
        return Script(
            text=self._pieces[users % len(self._pieces)],
            first_token_ms=first_token_ms,
            token_ms=self._token_ms,
        )

    def on_finish(self, record: RecordedRequest) -> None:
        """Keep the timings of a tagged request (``time.monotonic()`` seconds)."""
        if not self._tags:
            return
        tags = _TAG.findall(_last_user_text(record))
        if not tags:
            return
        self._timings.append(
            {
                "tag": tags[-1],
                "first_token_ms": record.script.first_token_ms if record.script else None,
                "first_token": record.script.text[0]
                if record.script and record.script.text
                else None,
                "received_at": record.received_at,
                "first_token_at": record.first_token_at,
                "first_word_at": record.first_word_at,
                "finished_at": record.finished_at,
                "completed": record.completed,
                "closed_by_client": record.closed_by_client,
                "client_closed_at": record.client_closed_at,
            }
        )

    def drain_timings(self) -> dict[str, Any]:
        """The timings kept since the last call, then forgets them."""
        timings, self._timings = self._timings, []
        return {"timings": timings}


async def _serve(args: argparse.Namespace) -> None:
    texts = args.text or [DEFAULT_TEXT]
    responder = BenchResponder(
        texts, first_token_ms=args.first_token_ms, token_ms=args.token_ms, tags=args.bench_tags
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with FakeLLM(host=args.host, port=args.port, record=args.record) as llm:
        llm.responder = responder
        llm.on_finish = responder.on_finish
        llm.reports["/_timings"] = responder.drain_timings
        # One parseable line so a parent process can learn the port.
        print(f"fake-llm listening on {llm.base_url}", flush=True)
        await stop.wait()
        print(f"fake-llm stats {json.dumps(llm.stats.as_dict())}", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
