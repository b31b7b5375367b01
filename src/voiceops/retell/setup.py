"""``voiceops retell setup`` and ``check``: the agent Retell needs, planned as a diff.

The settings voiceops owns on the agent (:data:`MANAGED`) come from the deployment's public
URL, ``VOICEOPS_WS_SECRET`` and the profile's ``retell`` section: the custom-LLM WebSocket
URL (``wss://HOST/llm-websocket/SECRET``; Retell appends ``/{call_id}``), the per-agent
webhook URL and events (the account-level URL has no API), the webhook timeout, reminders,
hanging up after silence and the post-call analysis fields. Everything else on the agent
is left as it is.

Retell versions agents: an update changes the latest **draft**, and numbers bound to
``latest_published`` keep the published settings until a version is published. So the plan
compares the wanted settings with the newest *published* version, which is what callers get:

* no agent of that name: create it, then publish its first version;
* the published version already has them: nothing to do (a second run changes nothing);
* the newest version is published: create a draft from it, update it, publish it;
* the newest version is a draft: update it where it differs, then publish it.

:func:`run_checks` verifies a deployment from the outside: the agent points at it, its
webhook URL answers, the signature key matches (a signed self-test delivery to the
inbound-call webhook, which stores nothing) and ``/healthz`` is reachable from the public
URL. The WebSocket secret is never printed: :func:`mask_url` replaces it with a short
fingerprint, so a changed secret still shows as a change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx2
from retell import AsyncRetell
from retell.types import AgentResponse

from voiceops.core.errors import RetellApiError
from voiceops.core.profile import AgentProfile
from voiceops.retell.api import (
    find_agents,
    get_agent,
    latest_published,
    sdk_errors,
)
from voiceops.retell.webhooks import sign

DEFAULT_VOICE = "11labs-Adrian"
WEBHOOK_PATH = "/webhooks/retell"
SOCKET_PATH = "/llm-websocket"
MANAGED: tuple[str, ...] = (
    "agent_name",
    "voice_id",
    "response_engine",
    "webhook_url",
    "webhook_events",
    "webhook_timeout_ms",
    "reminder_trigger_ms",
    "reminder_max_count",
    "end_call_after_silence_ms",
    "post_call_analysis_data",
)
_ANALYSIS_KEYS = ("type", "name", "description", "choices")
_SELF_TEST_NUMBER = "+12025550100"

Action = Literal["create", "new_version", "update_draft", "publish_draft", "none"]


def mask_url(url: str) -> str:
    """``url`` with the WebSocket secret (the path segment after ``/llm-websocket/`` or a
    ``secret`` query parameter) replaced by ``<secret sha256:abcdef>``."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    for index, segment in enumerate(segments[:-1]):
        if segment == SOCKET_PATH.strip("/") and segments[index + 1]:
            segments[index + 1] = _fingerprint(segments[index + 1])
    query = [
        (key, _fingerprint(value) if key == "secret" else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(
        (parts.scheme, parts.netloc, "/".join(segments), urlencode(query, safe="<>:"), "")
    )


def _fingerprint(secret: str) -> str:
    return f"<secret sha256:{hashlib.sha256(secret.encode('utf-8')).hexdigest()[:6]}>"


def public_base(public_url: str) -> str:
    """The deployment's public base URL (``https://voice.example.com``, a path prefix
    allowed), without a trailing slash; ``ValueError`` if it is not an http(s) URL."""
    parts = urlsplit(public_url.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"--public-url {public_url!r}: expected https://host[/prefix]")
    if parts.query or parts.fragment:
        raise ValueError(f"--public-url {public_url!r}: no query or fragment, please")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True, slots=True)
class DesiredAgent:
    """The agent settings voiceops wants, in the normalised form of :func:`normalise`."""

    name: str
    public_url: str
    settings: dict[str, Any]

    @property
    def ws_url(self) -> str:
        url: str = self.settings["response_engine"]["llm_websocket_url"]
        return url

    @property
    def webhook_url(self) -> str:
        url: str = self.settings["webhook_url"]
        return url


def desired_agent(
    profile: AgentProfile,
    *,
    public_url: str,
    ws_secret: str | None,
    agent_name: str | None = None,
    voice_id: str | None = None,
) -> DesiredAgent:
    """What the agent should say, for a deployment at ``public_url``."""
    base = public_base(public_url)
    parts = urlsplit(base)
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    ws_path = f"{parts.path}{SOCKET_PATH}" + (f"/{ws_secret}" if ws_secret else "")
    config = profile.retell
    settings: dict[str, Any] = {
        "agent_name": agent_name or config.agent_name or f"{profile.business_name} (voiceops)",
        "response_engine": {
            "type": "custom-llm",
            "llm_websocket_url": urlunsplit((ws_scheme, parts.netloc, ws_path, "", "")),
        },
        "webhook_url": f"{base}{WEBHOOK_PATH}",
        "webhook_events": sorted(set(config.webhook_events)),
        "webhook_timeout_ms": config.webhook_timeout_ms,
        "reminder_trigger_ms": config.reminder_trigger_ms,
        "reminder_max_count": config.reminder_max_count,
        "end_call_after_silence_ms": config.end_call_after_silence_ms,
        "post_call_analysis_data": [
            _analysis_item(f.model_dump(exclude_none=True)) for f in config.post_call_analysis
        ],
    }
    chosen_voice = voice_id or config.voice_id
    if chosen_voice:
        settings["voice_id"] = chosen_voice
    return DesiredAgent(name=settings["agent_name"], public_url=base, settings=settings)


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _analysis_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: item[key] for key in _ANALYSIS_KEYS if item.get(key) is not None}


def normalise(agent: AgentResponse) -> dict[str, Any]:
    """The :data:`MANAGED` settings of an agent version, comparable with a
    :class:`DesiredAgent`'s (absent settings left out)."""
    raw = agent.model_dump(mode="json", exclude_none=True)
    settings: dict[str, Any] = {}
    for name in MANAGED:
        if name not in raw:
            continue
        value = raw[name]
        if name == "webhook_events":
            value = sorted(set(value))
        elif name == "post_call_analysis_data":
            value = [_analysis_item(item) for item in value]
        elif name == "response_engine":
            value = {k: _number(v) for k, v in value.items()}
        else:
            value = _number(value)
        settings[name] = value
    return settings


@dataclass(frozen=True, slots=True)
class Change:
    setting: str
    before: Any
    after: Any

    def render(self) -> str:
        before, after = _show(self.setting, self.before), _show(self.setting, self.after)
        return f"{self.setting}: {before} -> {after}"


def _show(setting: str, value: Any) -> str:
    if value is None:
        return "(unset)"
    if setting == "response_engine" and isinstance(value, Mapping):
        url = value.get("llm_websocket_url")
        return f"{value.get('type')} {mask_url(url)}" if isinstance(url, str) else str(value)
    if setting == "webhook_events" and isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    if setting == "post_call_analysis_data" and isinstance(value, list):
        return json.dumps(value, separators=(",", ":")) if value else "(none)"
    return str(value)


def diff(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Change]:
    """The settings of ``desired`` that ``current`` does not have, in :data:`MANAGED`
    order."""
    return [
        Change(name, current.get(name), desired[name])
        for name in MANAGED
        if name in desired and current.get(name) != desired[name]
    ]


@dataclass(slots=True)
class SetupPlan:
    desired: DesiredAgent
    action: Action
    agent_id: str | None = None
    changes: list[Change] = field(default_factory=list)
    """What callers will get that they do not get now (against the published version)."""
    published_version: int | None = None
    latest_version: int | None = None
    update_fields: dict[str, Any] = field(default_factory=dict)
    """What the draft to publish still needs."""

    def describe(self) -> list[str]:
        name = f'agent "{self.desired.name}"'
        if self.agent_id is not None:
            name += f" ({self.agent_id})"
        if self.action == "none":
            return [
                f"{name} is up to date at published version {self.published_version}: "
                "nothing to change"
            ]
        count = len(self.changes)
        lines = [f"{name}: {count} setting{'s' if count != 1 else ''} to change"]
        lines += [f"  {change.render()}" for change in self.changes]
        lines.append(f"plan: {self._steps()}")
        return lines

    def _steps(self) -> str:
        if self.action == "create":
            return "create the agent, then publish its first version"
        if self.action == "new_version":
            return (
                f"create a draft from published version {self.latest_version}, "
                "update it, publish it"
            )
        if self.action == "update_draft":
            return f"update draft version {self.latest_version}, then publish it"
        return f"publish draft version {self.latest_version}, which already has them"


async def plan_setup(client: AsyncRetell, desired: DesiredAgent) -> SetupPlan:
    """Read the agent (by name) and plan what setting it up takes; changes nothing."""
    found = await find_agents(client, desired.name)
    if len(found) > 1:
        ids = ", ".join(a.agent_id for a in found)
        raise RetellApiError(
            f"{len(found)} agents are named {desired.name!r} ({ids}): rename all but one, "
            "or choose another --agent-name"
        )
    if not found:
        return SetupPlan(desired=desired, action="create", changes=diff({}, _for_create(desired)))
    agent_id = found[0].agent_id
    latest = await get_agent(client, agent_id)
    if latest.is_published:
        published: AgentResponse | None = latest
    else:
        version = await latest_published(client, agent_id)
        published = None if version is None else await get_agent(client, agent_id, version)
    reference = normalise(published) if published is not None else {}
    plan = SetupPlan(
        desired=desired,
        action="none",
        agent_id=agent_id,
        changes=diff(reference, desired.settings),
        published_version=published.version if published is not None else None,
        latest_version=latest.version,
    )
    if not plan.changes:
        return plan
    if latest.is_published:
        plan.action = "new_version"
        plan.update_fields = {c.setting: c.after for c in plan.changes}
    else:
        pending = diff(normalise(latest), desired.settings)
        plan.update_fields = {c.setting: c.after for c in pending}
        plan.action = "update_draft" if pending else "publish_draft"
    return plan


def _for_create(desired: DesiredAgent) -> dict[str, Any]:
    return {"voice_id": DEFAULT_VOICE, **desired.settings}


@dataclass(frozen=True, slots=True)
class SetupResult:
    agent_id: str
    published_version: int | None
    """``None`` when nothing was published (nothing to change)."""


async def apply_setup(client: AsyncRetell, plan: SetupPlan) -> SetupResult:
    """Carry out ``plan`` (from :func:`plan_setup`)."""
    if plan.action == "none":
        assert plan.agent_id is not None
        return SetupResult(plan.agent_id, None)
    if plan.action == "create":
        async with sdk_errors("create the agent"):
            created = await client.agent.create(**_for_create(plan.desired))
        agent_id, version = created.agent_id, created.version
    else:
        assert plan.agent_id is not None and plan.latest_version is not None
        agent_id, version = plan.agent_id, plan.latest_version
        if plan.action == "new_version":
            async with sdk_errors(f"create a draft of agent {agent_id}"):
                draft = await client.agent.create_version(agent_id, base_version=version)
            if draft.version is None:
                raise RetellApiError(f"Retell made a draft of agent {agent_id} with no version")
            version = draft.version
        if plan.update_fields:
            async with sdk_errors(f"update agent {agent_id}"):
                await client.agent.update(agent_id, version=version, **plan.update_fields)
    changed = ", ".join(c.setting for c in plan.changes) or "settings"
    async with sdk_errors(f"publish version {version} of agent {agent_id}"):
        await client.agent.publish(
            agent_id,
            version=version,
            version_title="voiceops retell setup",
            version_description=f"voiceops retell setup changed {changed}"[:500],
        )
    return SetupResult(agent_id, version)


# --------------------------------------------------------------------------------------
# the deployment check


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str

    def render(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


async def run_checks(
    client: AsyncRetell,
    desired: DesiredAgent,
    *,
    http: httpx2.AsyncClient,
    api_key: str,
    now_ms: int,
) -> list[Check]:
    """Check the agent and the deployment at ``desired.public_url`` (see the module
    docstring); one :class:`Check` per fact, in order."""
    checks: list[Check] = []
    published = await _published_agent(client, desired.name, checks)
    if published is not None:
        current = normalise(published)
        engine = current.get("response_engine", {})
        url = engine.get("llm_websocket_url") if isinstance(engine, Mapping) else None
        checks.append(
            Check(
                "agent's LLM WebSocket URL",
                url == desired.ws_url,
                mask_url(url) if url == desired.ws_url else _mismatch(url, desired.ws_url),
            )
        )
        hook = current.get("webhook_url")
        wanted = desired.webhook_url
        checks.append(
            Check(
                "agent's webhook URL",
                hook == wanted,
                wanted if hook == wanted else _mismatch(hook, wanted),
            )
        )
    checks.append(await _webhook_answers(http, desired.webhook_url))
    checks.append(await _signature_matches(http, desired.public_url, api_key, now_ms))
    checks.append(await _healthz(http, desired.public_url))
    return checks


def _mismatch(actual: str | None, wanted: str) -> str:
    shown = "(unset)" if actual is None else mask_url(actual)
    return f"is {shown}, expected {mask_url(wanted)} (run voiceops retell setup)"


async def _published_agent(
    client: AsyncRetell, name: str, checks: list[Check]
) -> AgentResponse | None:
    try:
        found = await find_agents(client, name)
        if len(found) != 1:
            detail = "none" if not found else f"{len(found)} agents"
            checks.append(Check("agent", False, f"{detail} named {name!r}"))
            return None
        agent_id = found[0].agent_id
        version = await latest_published(client, agent_id)
        if version is None:
            checks.append(Check("agent", False, f"{agent_id} has no published version"))
            return None
        checks.append(Check("agent", True, f"{agent_id}, published version {version}"))
        return await get_agent(client, agent_id, version)
    except RetellApiError as exc:
        checks.append(Check("agent", False, str(exc)))
        return None


async def _webhook_answers(http: httpx2.AsyncClient, url: str) -> Check:
    # Badly signed on purpose: a deployment that answers 401 has the route and checks
    # signatures, and stores nothing.
    name = "webhook URL answers"
    try:
        response = await http.post(
            url,
            content=b'{"event":"voiceops_check","call":{"call_id":"voiceops_check"}}',
            headers={"content-type": "application/json", "x-retell-signature": "v=0,d=0"},
        )
    except httpx2.HTTPError as exc:
        return Check(name, False, f"{url}: {type(exc).__name__}")
    if response.status_code == 401:
        return Check(name, True, f"{url} refuses a badly signed delivery (401)")
    if response.status_code == 503:
        return Check(name, False, f"{url}: 503, the server has no VOICEOPS_RETELL_API_KEY")
    return Check(name, False, f"{url}: {response.status_code}, expected 401")


async def _signature_matches(
    http: httpx2.AsyncClient, base: str, api_key: str, now_ms: int
) -> Check:
    name = "signature key matches"
    url = f"{base}{WEBHOOK_PATH}/inbound"
    body = json.dumps(
        {
            "event": "call_inbound",
            "call_inbound": {"from_number": _SELF_TEST_NUMBER, "to_number": _SELF_TEST_NUMBER},
        },
        separators=(",", ":"),
    ).encode()
    try:
        response = await http.post(
            url,
            content=body,
            headers={
                "content-type": "application/json",
                "x-retell-signature": sign(body, api_key, now_ms),
            },
        )
    except httpx2.HTTPError as exc:
        return Check(name, False, f"{url}: {type(exc).__name__}")
    if response.status_code == 200:
        return Check(name, True, "a delivery signed with this key is accepted")
    if response.status_code == 401:
        return Check(
            name, False, "the server refused a delivery signed with this key: its key differs"
        )
    return Check(name, False, f"{url}: {response.status_code}, expected 200")


async def _healthz(http: httpx2.AsyncClient, base: str) -> Check:
    name = "server reachable"
    url = f"{base}/healthz"
    try:
        response = await http.get(url)
        payload = response.json() if response.status_code == 200 else None
    except (httpx2.HTTPError, ValueError) as exc:
        return Check(name, False, f"{url}: {type(exc).__name__}")
    if isinstance(payload, dict) and payload.get("status") == "ok":
        return Check(
            name,
            True,
            f"{url}: voiceops {payload.get('version')}, brain {payload.get('brain')}",
        )
    return Check(name, False, f"{url}: {response.status_code}")


def all_ok(checks: Sequence[Check]) -> bool:
    return all(check.ok for check in checks)
