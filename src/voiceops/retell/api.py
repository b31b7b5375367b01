"""Retell's HTTP API, through the official SDK (``retell-sdk``): agents, numbers, calls.

Every request goes through the SDK's ``AsyncRetell`` (its retries: 408, 409, 429 and 5xx,
honouring ``retry-after``; its timeouts), built by :func:`connect` from the settings: the
API base ``VOICEOPS_RETELL_BASE_URL`` and the key ``VOICEOPS_RETELL_API_KEY``, which never
appears in a message or a log line. The installed SDK has every endpoint used here,
including the 2026 moves (``POST /v3/list-calls``, ``GET /v2/get-call/{id}``, ``POST
/v3/create-web-call``, ``GET /v2/list-phone-numbers``), so nothing is called by hand.

* agents: :func:`find_agents` by name (``POST /v2/list-agents`` returns summaries);
* phone numbers: :func:`list_numbers`, :func:`buy_number`, :func:`assign_number`, with the
  weighted ``inbound_agents`` that replaced ``inbound_agent_id`` (also Retell's A/B split:
  :func:`parse_split`);
* calls: :func:`sync_calls` pages through list-calls and merges every call's record into
  ``retell_calls`` (``store.retell_records``); :class:`ScheduledSync` does so on a timer
  inside ``serve`` (``retell/schedule.py``), so a webhook that never arrived is made up;
* :func:`create_web_call` for a browser test call.

The agent's set-up plan, its diff and the deployment check are in ``retell/setup.py``.
SDK errors become :class:`~voiceops.core.errors.RetellApiError` with a short message naming
what was being done. Importing this module imports the SDK (a second or so of pydantic
models): ``serve`` and the ``voiceops`` command import it only when they use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import retell
from retell import AsyncRetell, omit
from retell.types import AgentResponse, PhoneNumberResponse, phone_number_update_params
from retell.types.agent_list_response import Item as AgentSummary
from retell.types.create_web_call_response import CreateWebCallResponse

from voiceops.config import Settings
from voiceops.core.clock import Clock
from voiceops.core.errors import ConfigError, RetellApiError, StorageError
from voiceops.store.retell_records import RetellRecordRepo, record_from_call

log = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_PAGES = 10_000
"""A runaway pagination (a server that always says ``has_more``) stops here."""
AGENT_VERSIONS = ("latest", "latest_published")
SYNC_LOOKBACK = timedelta(hours=3)
"""A scheduled sync looks back this far before its previous run: a call that started then
(Retell's longest is two hours) may have ended, been analysed or costed since."""
FIRST_SYNC_WINDOW = timedelta(days=1)


def connect(settings: Settings, *, max_retries: int = 2) -> AsyncRetell:
    """An SDK client for the configured API base and key; raises :class:`ConfigError`
    without a key. Close it with ``await client.close()``."""
    if settings.retell_api_key is None:
        raise ConfigError("VOICEOPS_RETELL_API_KEY is not set: Retell's API needs it")
    return AsyncRetell(
        api_key=settings.retell_api_key.get_secret_value(),
        base_url=settings.retell_base_url,
        timeout=settings.retell_timeout_s,
        max_retries=max_retries,
    )


@asynccontextmanager
async def sdk_errors(what: str) -> AsyncIterator[None]:
    """Turn the SDK's exceptions into :class:`RetellApiError` ("what failed: why")."""
    try:
        yield
    except retell.AuthenticationError:
        raise RetellApiError(
            f"{what}: Retell refused the API key (401); check VOICEOPS_RETELL_API_KEY",
            status=401,
        ) from None
    except retell.RateLimitError:
        raise RetellApiError(
            f"{what}: rate limited by Retell (429), still after retrying", status=429
        ) from None
    except retell.APIStatusError as exc:
        raise RetellApiError(
            f"{what}: Retell answered {exc.status_code}: {_detail(exc.body)}",
            status=exc.status_code,
        ) from None
    except retell.APITimeoutError:
        raise RetellApiError(f"{what}: Retell did not answer in time") from None
    except retell.APIConnectionError:
        raise RetellApiError(f"{what}: cannot reach Retell's API") from None


def _detail(body: object) -> str:
    if isinstance(body, dict):
        for key in ("error_message", "message", "error", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:200]
    return str(body)[:200] if body else "no detail"


# --------------------------------------------------------------------------------------
# agents


async def find_agents(client: AsyncRetell, name: str) -> list[AgentSummary]:
    """Voice agents named exactly ``name`` (list-agents' ``query`` is a substring match)."""
    found: list[AgentSummary] = []
    key: str | None = None
    for _ in range(MAX_PAGES):
        async with sdk_errors("list agents"):
            page = await client.agent.list(
                filter_criteria={"query": name},
                limit=PAGE_SIZE,
                pagination_key=key or omit,
            )
        found.extend(a for a in page.items if a.agent_name == name and a.channel == "voice")
        if not page.has_more or not page.pagination_key:
            break
        key = page.pagination_key
    return found


async def resolve_agent(client: AsyncRetell, agent: str) -> str:
    """An agent id from ``agent``, an id (``agent_...``) or an exact name; raises
    :class:`RetellApiError` when no agent or several agents have that name."""
    if agent.startswith("agent_"):
        return agent
    found = await find_agents(client, agent)
    if not found:
        raise RetellApiError(f"no voice agent is named {agent!r}: run voiceops retell setup")
    if len(found) > 1:
        ids = ", ".join(a.agent_id for a in found)
        raise RetellApiError(f"{len(found)} agents are named {agent!r} ({ids}): pass an id")
    return found[0].agent_id


async def get_agent(
    client: AsyncRetell, agent_id: str, version: int | None = None
) -> AgentResponse:
    async with sdk_errors(f"get agent {agent_id}"):
        if version is None:
            return await client.agent.retrieve(agent_id)
        return await client.agent.retrieve(agent_id, version=version)


async def latest_published(client: AsyncRetell, agent_id: str) -> int | None:
    """The newest published version of the agent, if any."""
    key: str | None = None
    newest: int | None = None
    for _ in range(MAX_PAGES):
        async with sdk_errors(f"list versions of agent {agent_id}"):
            page = await client.agent.list_versions(
                agent_id, limit=PAGE_SIZE, pagination_key=key or omit
            )
        for item in page.items:
            if item.is_published and (newest is None or item.version > newest):
                newest = item.version
        if not page.has_more or not page.pagination_key:
            break
        key = page.pagination_key
    return newest


# --------------------------------------------------------------------------------------
# phone numbers


@dataclass(frozen=True, slots=True)
class Weighted:
    """One entry of a number's ``inbound_agents``."""

    agent_id: str
    weight: Decimal
    agent_version: int | str = "latest_published"

    def as_param(self) -> phone_number_update_params.InboundAgent:
        return {
            "agent_id": self.agent_id,
            "weight": float(self.weight),
            "agent_version": self.agent_version,
        }


def _version(text: str) -> int | str:
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text:
        raise ValueError("an empty agent version")
    return text  # "latest", "latest_published" or a tag name


def parse_split(entries: Sequence[str], agent_id: str) -> list[Weighted]:
    """``--split`` entries, ``[AGENT_ID:]VERSION=WEIGHT`` each (``3=0.9``,
    ``latest_published=0.1``, ``agent_x:2=0.5``), as weighted inbound agents. The weights
    must be positive and add up to exactly 1 (Retell's rule). ``ValueError`` otherwise."""
    split: list[Weighted] = []
    for entry in entries:
        target, sep, weight_text = entry.partition("=")
        if not sep:
            raise ValueError(f"--split {entry!r}: expected VERSION=WEIGHT, e.g. 3=0.5")
        owner, colon, version = target.rpartition(":")
        try:
            weight = Decimal(weight_text.strip())
        except InvalidOperation:
            raise ValueError(f"--split {entry!r}: {weight_text!r} is not a number") from None
        if not weight.is_finite() or weight <= 0 or weight > 1:
            raise ValueError(f"--split {entry!r}: a weight is above 0 and at most 1")
        split.append(Weighted(owner if colon else agent_id, weight, _version(version)))
    total = sum((w.weight for w in split), Decimal(0))
    if split and total != 1:
        raise ValueError(f"--split weights add up to {total}, not 1")
    return split


def describe_agents(agents: Sequence[Any] | None) -> str:
    """``agent_x@latest_published 100%`` for a number's ``inbound_agents``."""
    if not agents:
        return "no agent"
    parts = []
    for agent in agents:
        version = agent.agent_version if agent.agent_version is not None else "latest"
        share = Decimal(str(agent.weight)) * 100
        parts.append(f"{agent.agent_id}@{version} {share.normalize():f}%")
    return ", ".join(parts)


async def list_numbers(client: AsyncRetell) -> list[PhoneNumberResponse]:
    numbers: list[PhoneNumberResponse] = []
    key: str | None = None
    for _ in range(MAX_PAGES):
        async with sdk_errors("list phone numbers"):
            page = await client.phone_number.list(limit=PAGE_SIZE, pagination_key=key or omit)
        numbers.extend(page.items)
        if not page.has_more or not page.pagination_key:
            break
        key = page.pagination_key
    return numbers


async def buy_number(
    client: AsyncRetell,
    *,
    area_code: int,
    inbound_agents: Sequence[Weighted],
    toll_free: bool = False,
    nickname: str | None = None,
) -> PhoneNumberResponse:
    """Buy a number in ``area_code`` (US) bound to ``inbound_agents``."""
    extra: dict[str, Any] = {"nickname": nickname} if nickname else {}
    async with sdk_errors(f"buy a number in area code {area_code}"):
        return await client.phone_number.create(
            area_code=area_code,
            toll_free=toll_free,
            inbound_agents=[w.as_param() for w in inbound_agents],
            **extra,
        )


async def assign_number(
    client: AsyncRetell, number: str, inbound_agents: Sequence[Weighted]
) -> tuple[PhoneNumberResponse, PhoneNumberResponse]:
    """Bind ``number``'s inbound calls to ``inbound_agents``; the number before and after."""
    async with sdk_errors(f"get number {number}"):
        before = await client.phone_number.retrieve(number)
    async with sdk_errors(f"assign number {number}"):
        after = await client.phone_number.update(
            number, inbound_agents=[w.as_param() for w in inbound_agents]
        )
    return before, after


# --------------------------------------------------------------------------------------
# calls


async def create_web_call(
    client: AsyncRetell, agent_id: str, version: int | str | None = None
) -> CreateWebCallResponse:
    """A web call for a browser test (``POST /v3/create-web-call``)."""
    async with sdk_errors(f"create a web call on agent {agent_id}"):
        if version is None:
            return await client.call.create_web_call(agent_id=agent_id)
        return await client.call.create_web_call(agent_id=agent_id, agent_version=version)


@dataclass(slots=True)
class SyncResult:
    since: datetime
    pages: int = 0
    calls: int = 0
    outcomes: dict[str, int] = field(
        default_factory=lambda: {"new": 0, "updated": 0, "unchanged": 0}
    )

    def summary(self) -> str:
        o = self.outcomes
        return (
            f"{self.calls} calls since {self.since.isoformat(timespec='seconds')} in "
            f"{self.pages} pages: {o['new']} new, {o['updated']} updated, "
            f"{o['unchanged']} unchanged"
        )


async def sync_calls(
    client: AsyncRetell,
    records: RetellRecordRepo,
    *,
    since: datetime,
    page_size: int = PAGE_SIZE,
) -> SyncResult:
    """Page through the calls that started since ``since`` (``POST /v3/list-calls``) and
    merge each one's record, a page per transaction, as of the time the page was fetched.

    A call a webhook already recorded is merged with it, field by field; the result counts
    the calls that were new to the store, changed, or already up to date.
    """
    result = SyncResult(since=since)
    since_ms = int(since.timestamp() * 1000)
    key: str | None = None
    for _ in range(MAX_PAGES):
        async with sdk_errors("list calls"):
            page = await client.call.list(
                filter_criteria={
                    "start_timestamp": {"op": "ge", "type": "number", "value": since_ms}
                },
                sort_order="ascending",
                limit=page_size,
                pagination_key=key or omit,
            )
        result.pages += 1
        batch = [
            record_from_call(item.model_dump(mode="json", exclude_none=True)) for item in page.items
        ]
        for outcome in await records.merge_many(batch, source="sync"):
            result.outcomes[outcome] += 1
        result.calls += len(batch)
        if not page.has_more or not page.pagination_key:
            break
        key = page.pagination_key
    return result


class ScheduledSync:
    """``serve``'s call sync: every ``interval_s`` it syncs the calls started since a little
    before its previous successful run (:data:`SYNC_LOOKBACK`; the first run looks back
    :data:`FIRST_SYNC_WINDOW`). The first run is one interval after start. A failed run is
    logged and retried at the next interval. Owned by the app lifespan: :meth:`start`,
    :meth:`stop`."""

    def __init__(
        self,
        client: AsyncRetell,
        records: RetellRecordRepo,
        *,
        clock: Clock,
        interval_s: float,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("the sync interval must be positive")
        self._client = client
        self._records = records
        self._clock = clock
        self._interval_s = interval_s
        self._last_start: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self.runs = 0
        self.failures = 0

    def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the call sync is already started")
        self._task = asyncio.create_task(self._loop(), name="voiceops-retell-sync")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def run_once(self) -> SyncResult:
        started = self._clock.now()
        since = (
            started - FIRST_SYNC_WINDOW
            if self._last_start is None
            else self._last_start - SYNC_LOOKBACK
        )
        result = await sync_calls(self._client, self._records, since=since)
        self._last_start = started
        return result

    async def _loop(self) -> None:
        while True:
            await self._clock.sleep(self._interval_s)
            try:
                result = await self.run_once()
            except (RetellApiError, StorageError) as exc:
                self.failures += 1
                log.warning("Retell call sync failed: %s", exc)
                continue
            self.runs += 1
            log.info("Retell call sync: %s", result.summary())
