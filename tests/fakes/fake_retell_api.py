"""A fake of Retell's HTTP API on a real local socket, for the ``retell-sdk`` client.

It implements the endpoints voiceops uses, at the paths of the installed SDK:

* agents: ``POST /create-agent``, ``GET /get-agent/{id}[?version=]``, ``PATCH
  /update-agent/{id}[?version=]``, ``POST /v2/list-agents`` (summaries, ``query`` filter),
  ``POST /create-agent-version/{id}``, ``GET /list-agent-versions/{id}``, ``POST
  /publish-agent-version/{id}``. Versions behave as Retell documents them: a new agent is
  draft version 0; a published version is immutable (updating it is a 400 here, so a
  client must make a draft first); get-agent without a version returns the newest;
* phone numbers: ``POST /create-phone-number``, ``GET /get-phone-number/{n}``, ``PATCH
  /update-phone-number/{n}``, ``GET /v2/list-phone-numbers``, with weighted
  ``inbound_agents`` whose weights must add up to 1;
* calls: ``POST /v3/list-calls`` (``filter_criteria.start_timestamp``, ``sort_order``,
  cursor pagination capped at ``max_page`` items), ``GET /v2/get-call/{id}``, ``POST
  /v3/create-web-call``.

Every response body is validated against the installed SDK's type for that endpoint before
it is sent, so the fake cannot drift from what the SDK parses. Every request is recorded
(:attr:`FakeRetellApi.requests`, without the key). Faults are queued with :meth:`fail` (a
status, e.g. 401, 429 with ``retry-after``, 500) and :meth:`stall` (no answer for a while:
a timeout for the client).

The server runs under uvicorn in a thread of its own, with its own event loop, so that a
synchronous test (the CLI through ``CliRunner``, which runs ``asyncio.run``) and an async
test can both talk to it::

    with FakeRetellApi() as api:
        settings = Settings(retell_base_url=api.base_url, retell_api_key=api.api_key)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import uvicorn
from pydantic import BaseModel
from retell.types import AgentResponse, PhoneNumberResponse
from retell.types.agent_list_response import AgentListResponse
from retell.types.agent_list_versions_response import AgentListVersionsResponse
from retell.types.call_list_response import CallListResponse
from retell.types.create_web_call_response import CreateWebCallResponse
from retell.types.phone_call_response import PhoneCallResponse
from retell.types.phone_number_list_response import PhoneNumberListResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEFAULT_KEY = "key_fake_api_7c1d2e3f4a5b6c7d8e9f"
BASE_MS = 1_767_225_600_000


@dataclass(slots=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorized: bool
    status: int = 0


@dataclass(slots=True)
class Fault:
    status: int | None = None
    """Answer with this status (and ``body``), or ``None`` for a stall."""
    times: int = 1
    path: str | None = None
    """Only requests whose path starts with this."""
    retry_after: str | None = None
    stall_s: float = 0.0
    body: dict[str, Any] = field(default_factory=lambda: {"error_message": "injected fault"})


class _Reject(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FakeRetellApi:
    """The fake API. Use it as a context manager (or :meth:`start` / :meth:`stop`)."""

    def __init__(self, *, api_key: str = DEFAULT_KEY, max_page: int = 1000) -> None:
        self.api_key = api_key
        self.max_page = max_page
        self.agents: dict[str, list[dict[str, Any]]] = {}
        self.numbers: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.app = Starlette(
            routes=[Route("/{path:path}", self._dispatch, methods=["GET", "POST", "PATCH"])]
        )

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._sock = sock
        config = uvicorn.Config(
            self.app, lifespan="off", ws="none", log_config=None, timeout_graceful_shutdown=1
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            name="fake-retell-api",
            daemon=True,
        )
        self._thread.start()
        for _ in range(500):
            if server.started:
                return
            threading.Event().wait(0.01)
        raise RuntimeError("the fake Retell API did not start")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> FakeRetellApi:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._sock is not None
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    # --- faults and inspection --------------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        path: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests (to ``path``) with ``status``."""
        with self._lock:
            self._faults.append(Fault(status, times, path, retry_after))

    def stall(self, seconds: float, *, times: int = 1, path: str | None = None) -> None:
        """Hold the next ``times`` requests (to ``path``) for ``seconds`` before answering."""
        with self._lock:
            self._faults.append(Fault(None, times, path, stall_s=seconds))

    def writes(self) -> list[Recorded]:
        """Requests that change something (creates, updates, publishes, buys)."""
        reads = ("/get-", "/v2/list-", "/list-", "/v3/list-")
        return [r for r in self.requests if r.method != "GET" and not r.path.startswith(reads)]

    def paths(self, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def add_calls(self, *calls: dict[str, Any]) -> None:
        with self._lock:
            for call in calls:
                PhoneCallResponse.model_validate(call)
                self.calls[call["call_id"]] = call

    def latest(self, agent_id: str) -> dict[str, Any]:
        return self.agents[agent_id][-1]

    # --- the server -------------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path = "/" + request.path_params["path"]
        authorized = request.headers.get("authorization") == f"Bearer {self.api_key}"
        record = Recorded(request.method, path, dict(request.query_params), body, authorized)
        with self._lock:
            self.requests.append(record)
            fault = self._take_fault(path)
        if fault is not None and fault.status is None:
            await asyncio.sleep(fault.stall_s)
        elif fault is not None and fault.status is not None:
            record.status = fault.status
            headers = {"retry-after": fault.retry_after} if fault.retry_after else {}
            return JSONResponse(fault.body, status_code=fault.status, headers=headers)
        if not authorized:
            record.status = 401
            return JSONResponse({"error_message": "Invalid API key"}, status_code=401)
        try:
            with self._lock:
                status, payload = self._route(request.method, path, record.query, body or {})
        except _Reject as reject:
            record.status = reject.status
            return JSONResponse({"error_message": reject.message}, status_code=reject.status)
        record.status = status
        if payload is None:
            return Response(status_code=status)
        return JSONResponse(payload, status_code=status)

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.path is None or path.startswith(fault.path):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _route(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        for verb, pattern, handler in self._table():
            match = re.fullmatch(pattern, path)
            if verb == method and match is not None:
                return 200, handler(*match.groups(), query=query, body=body)
        raise _Reject(404, f"no route {method} {path}")

    def _table(self) -> list[tuple[str, str, Callable[..., Any]]]:
        return [
            ("POST", r"/create-agent", self._create_agent),
            ("GET", r"/get-agent/([^/]+)", self._get_agent),
            ("PATCH", r"/update-agent/([^/]+)", self._update_agent),
            ("POST", r"/v2/list-agents", self._list_agents),
            ("POST", r"/create-agent-version/([^/]+)", self._create_version),
            ("GET", r"/list-agent-versions/([^/]+)", self._list_versions),
            ("POST", r"/publish-agent-version/([^/]+)", self._publish),
            ("POST", r"/create-phone-number", self._create_number),
            ("GET", r"/get-phone-number/([^/]+)", self._get_number),
            ("PATCH", r"/update-phone-number/([^/]+)", self._update_number),
            ("GET", r"/v2/list-phone-numbers", self._list_numbers),
            ("POST", r"/v3/list-calls", self._list_calls),
            ("GET", r"/v2/get-call/([^/]+)", self._get_call),
            ("POST", r"/v3/create-web-call", self._create_web_call),
        ]

    # --- agents -----------------------------------------------------------------------------

    def _stamp(self) -> int:
        return BASE_MS + next(self._ids)

    def _agent_versions(self, agent_id: str) -> list[dict[str, Any]]:
        versions = self.agents.get(agent_id)
        if versions is None:
            raise _Reject(404, f"agent {agent_id} not found")
        return versions

    def _version(self, agent_id: str, version: str | None) -> dict[str, Any]:
        versions = self._agent_versions(agent_id)
        if version is None:
            return versions[-1]
        if not version.isdigit() or int(version) >= len(versions):
            raise _Reject(404, f"version {version} of {agent_id} not found")
        return versions[int(version)]

    def _create_agent(self, *, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if "response_engine" not in body or "voice_id" not in body:
            raise _Reject(400, "response_engine and voice_id are required")
        agent_id = f"agent_{next(self._ids):020x}"
        agent = {k: v for k, v in body.items() if v is not None and k not in ("version",)} | {
            "agent_id": agent_id,
            "version": 0,
            "is_published": False,
            "last_modification_timestamp": self._stamp(),
        }
        self.agents[agent_id] = [agent]
        return _shaped(AgentResponse, agent)

    def _get_agent(self, agent_id: str, *, query: dict[str, str], body: Any) -> dict[str, Any]:
        return _shaped(AgentResponse, self._version(agent_id, query.get("version")))

    def _update_agent(
        self, agent_id: str, *, query: dict[str, str], body: dict[str, Any]
    ) -> dict[str, Any]:
        target = self._version(agent_id, query.get("version"))
        if target["is_published"]:
            raise _Reject(400, "a published version cannot change: create a new version")
        for key, value in body.items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
        target["last_modification_timestamp"] = self._stamp()
        return _shaped(AgentResponse, target)

    def _list_agents(self, *, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        wanted = str((body.get("filter_criteria") or {}).get("query", "")).lower()
        items = [
            {
                "agent_id": agent_id,
                "agent_name": versions[-1].get("agent_name", ""),
                "channel": "voice",
                "is_suspended": False,
                "tags": {},
                "user_modified_timestamp": versions[-1]["last_modification_timestamp"],
            }
            for agent_id, versions in self.agents.items()
            if wanted in str(versions[-1].get("agent_name", "")).lower() or wanted in agent_id
        ]
        return _shaped(AgentListResponse, self._page(items, query, key="agent_id"))

    def _create_version(
        self, agent_id: str, *, query: dict[str, str], body: dict[str, Any]
    ) -> dict[str, Any]:
        versions = self._agent_versions(agent_id)
        base = self._version(agent_id, str(body.get("base_version")))
        draft = json.loads(json.dumps(base)) | {
            "version": len(versions),
            "is_published": False,
            "base_version": base["version"],
            "last_modification_timestamp": self._stamp(),
        }
        versions.append(draft)
        return _shaped(AgentResponse, draft)

    def _list_versions(self, agent_id: str, *, query: dict[str, str], body: Any) -> dict[str, Any]:
        items = [
            {
                "version": v["version"],
                "is_published": v["is_published"],
                "last_modification_timestamp": v["last_modification_timestamp"],
            }
            for v in self._agent_versions(agent_id)
        ]
        return _shaped(AgentListVersionsResponse, self._page(items, query, key="version"))

    def _publish(self, agent_id: str, *, query: dict[str, str], body: dict[str, Any]) -> None:
        target = self._version(agent_id, str(body.get("version")))
        if target["is_published"]:
            raise _Reject(400, f"version {target['version']} is already published")
        target["is_published"] = True
        for key in ("version_title", "version_description"):
            if body.get(key) is not None:
                target[key] = body[key]
        return None

    # --- phone numbers ----------------------------------------------------------------------

    def _check_agents(self, agents: Any) -> list[dict[str, Any]]:
        if not isinstance(agents, list):
            raise _Reject(400, "inbound_agents must be a list")
        total = sum((Decimal(str(a.get("weight", 0))) for a in agents), Decimal(0))
        if agents and abs(total - 1) > Decimal("1e-9"):
            raise _Reject(400, f"inbound agent weights add up to {total}, not 1")
        for agent in agents:
            if agent.get("agent_id") not in self.agents:
                raise _Reject(400, f"agent {agent.get('agent_id')} not found")
        return agents

    def _create_number(self, *, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        area = body.get("area_code")
        if not isinstance(area, int):
            raise _Reject(400, "area_code is required")
        number = f"+1{area}555{next(self._ids):04d}"
        record = {
            "phone_number": number,
            "phone_number_pretty": f"+1 ({area}) 555-{number[-4:]}",
            "phone_number_type": "retell-twilio",
            "area_code": area,
            "last_modification_timestamp": self._stamp(),
            "inbound_agents": self._check_agents(body.get("inbound_agents") or []),
        }
        if body.get("nickname"):
            record["nickname"] = body["nickname"]
        self.numbers[number] = record
        return _shaped(PhoneNumberResponse, record)

    def _number(self, number: str) -> dict[str, Any]:
        record = self.numbers.get(number)
        if record is None:
            raise _Reject(404, f"number {number} not found")
        return record

    def _get_number(self, number: str, *, query: dict[str, str], body: Any) -> dict[str, Any]:
        return _shaped(PhoneNumberResponse, self._number(number))

    def _update_number(
        self, number: str, *, query: dict[str, str], body: dict[str, Any]
    ) -> dict[str, Any]:
        record = self._number(number)
        if "inbound_agent_id" in body:
            raise _Reject(400, "inbound_agent_id is gone: use inbound_agents")
        if "inbound_agents" in body:
            record["inbound_agents"] = self._check_agents(body["inbound_agents"])
        record["last_modification_timestamp"] = self._stamp()
        return _shaped(PhoneNumberResponse, record)

    def _list_numbers(self, *, query: dict[str, str], body: Any) -> dict[str, Any]:
        items = list(self.numbers.values())
        return _shaped(PhoneNumberListResponse, self._page(items, query, key="phone_number"))

    # --- calls ------------------------------------------------------------------------------

    def _list_calls(self, *, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        calls = list(self.calls.values())
        start = (body.get("filter_criteria") or {}).get("start_timestamp")
        if start is not None:
            calls = [c for c in calls if _matches(c.get("start_timestamp", 0), start)]
        calls.sort(
            key=lambda c: (c.get("start_timestamp", 0), c["call_id"]),
            reverse=body.get("sort_order") == "descending",
        )
        options = {k: str(body[k]) for k in ("limit", "pagination_key") if k in body}
        return _shaped(CallListResponse, self._page(calls, options, key="call_id"))

    def _get_call(self, call_id: str, *, query: dict[str, str], body: Any) -> dict[str, Any]:
        call = self.calls.get(call_id)
        if call is None:
            raise _Reject(404, f"call {call_id} not found")
        return _shaped(PhoneCallResponse, call)

    def _create_web_call(self, *, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if body.get("agent_id") not in self.agents:
            raise _Reject(404, f"agent {body.get('agent_id')} not found")
        n = next(self._ids)
        return _shaped(
            CreateWebCallResponse,
            {
                "call_id": f"call_web_{n:016x}",
                "access_token": f"web_token_{n:032x}",
                "expires_at": self._stamp() + 30_000,
                "ice_servers": [{"urls": "stun:stun.example.invalid:3478"}],
                "transport": "gateway",
            },
        )

    # --- pagination -------------------------------------------------------------------------

    def _page(
        self, items: list[dict[str, Any]], options: dict[str, str], *, key: str
    ) -> dict[str, Any]:
        """Cursor pagination: the key is the last item's ``key`` field, as an opaque string."""
        limit = min(int(options.get("limit", self.max_page)), self.max_page)
        start = 0
        cursor = options.get("pagination_key")
        if cursor is not None:
            positions = [i for i, item in enumerate(items) if str(item[key]) == cursor]
            if not positions:
                raise _Reject(400, "unknown pagination_key")
            start = positions[0] + 1
        page = items[start : start + limit]
        more = start + limit < len(items)
        envelope: dict[str, Any] = {"items": page, "has_more": more}
        if more and page:
            envelope["pagination_key"] = str(page[-1][key])
        return envelope


def _matches(value: int, condition: dict[str, Any]) -> bool:
    op, target = condition.get("op"), condition.get("value")
    if op == "bt" and isinstance(target, list):
        return bool(target[0] <= value <= target[1])
    checks: dict[str, Callable[[float, float], bool]] = {
        "eq": lambda a, b: a == b,
        "ne": lambda a, b: a != b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
    }
    if op not in checks or not isinstance(target, int | float):
        raise _Reject(400, f"bad start_timestamp filter {condition!r}")
    return checks[op](value, target)


def _shaped(model: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """``body``, after checking that the SDK's ``model`` parses it (extra fields allowed,
    required ones not optional)."""
    model.model_validate(body)
    return body


def phone_call(
    call_id: str,
    *,
    start_ms: int,
    duration_ms: int = 240_000,
    combined_cost: float | None = 28.0,
    products: list[tuple[str, float, float]] | None = None,
    analysis: dict[str, Any] | None = None,
    status: str = "ended",
    agent_id: str = "agent_0000000000000000000a",
    **extra: Any,
) -> dict[str, Any]:
    """A finished phone call as list-calls returns it (``V3PhoneCallResponse``), with a
    cost (``products``: ``(product, cents, cents per second)``), latency and analysis."""
    call: dict[str, Any] = {
        "call_id": call_id,
        "agent_id": agent_id,
        "agent_version": 1,
        "call_type": "phone_call",
        "call_status": status,
        "direction": "inbound",
        "from_number": "+14155550101",
        "to_number": "+14155550199",
        "start_timestamp": start_ms,
    }
    if status == "ended":
        seconds = duration_ms / 1000
        call |= {
            "end_timestamp": start_ms + duration_ms,
            "duration_ms": duration_ms,
            "disconnection_reason": "user_hangup",
            "recording_url": f"https://example.invalid/{call_id}.wav",
            "public_log_url": f"https://example.invalid/{call_id}.log",
            "latency": {
                "e2e": {"p50": 820.0, "p90": 1100.0, "p99": 1400.0, "values": [800.0, 840.0]},
                "llm": {"p50": 410.0, "p90": 600.0, "p99": 700.0, "values": [400.0, 420.0]},
            },
            "call_analysis": analysis
            or {"call_summary": "Booked a haircut.", "call_successful": True},
        }
        if combined_cost is not None:
            items = products or [("retell_platform", combined_cost, combined_cost / seconds)]
            call["call_cost"] = {
                "combined_cost": combined_cost,
                "product_costs": [{"product": p, "cost": c, "unit_price": u} for p, c, u in items],
                "total_duration_seconds": seconds,
                "total_duration_unit_price": sum(u for _, _, u in items),
            }
    return call | extra
