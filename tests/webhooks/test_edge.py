"""Signed webhooks that are still not acceptable: nested too deep, or naming a call id
outside the rule. Over a real socket against the real server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import FIXED_NOW, RunningServer, run_server
from tests.webhooks.samples import EXAMPLE_KEY
from voiceops.config import Settings
from voiceops.core.clock import PinnedClock, utc_now_ms
from voiceops.core.profile import AgentProfile
from voiceops.retell.webhooks import MAX_DEPTH, sign

CLOCK = PinnedClock(FIXED_NOW)
"""The server's clock: the signatures are made on it."""


@pytest.fixture
async def http(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(retell_api_key=EXAMPLE_KEY)
    server: RunningServer
    async with (
        run_server(settings, profile=profile, clock=CLOCK) as server,
        httpx.AsyncClient(base_url=server.http_base) as client,
    ):
        yield client


async def post(http: httpx.AsyncClient, raw: bytes, path: str = "/webhooks/retell") -> int:
    header = sign(raw, EXAMPLE_KEY, utc_now_ms(CLOCK))
    response = await http.post(
        path,
        content=raw,
        headers={"content-type": "application/json", "x-retell-signature": header},
    )
    return response.status_code


def call_ended(call_id: str, **extra: Any) -> bytes:
    call = {"call_id": call_id, "call_status": "ended", **extra}
    return json.dumps({"event": "call_ended", "call": call}, separators=(",", ":")).encode()


def nested(levels: int) -> str:
    """A JSON value ``levels`` deep: ``[[...]]``."""
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [990, 5000, 100_000])
async def test_a_signed_body_nested_very_deep_is_400_not_500(
    http: httpx.AsyncClient, levels: int
) -> None:
    raw = b'{"event":"call_ended","call":{"call_id":"call_deep","x":%s}}' % nested(levels).encode()
    assert await post(http, raw) == 400
    inbound = b'{"event":"call_inbound","call_inbound":{"x":%s}}' % nested(levels).encode()
    assert await post(http, inbound, "/webhooks/retell/inbound") == 400


async def test_nesting_is_bounded_at_max_depth(http: httpx.AsyncClient) -> None:
    # The body is level 1, the call object level 2: the array adds MAX_DEPTH - 2 levels.
    fits = MAX_DEPTH - 2
    for levels, status in ((fits, 204), (fits + 1, 400)):
        raw = b'{"event":"call_ended","call":{"call_id":"call_d%d","x":%s}}' % (
            levels,
            nested(levels).encode(),
        )
        assert await post(http, raw) == status, levels


@pytest.mark.parametrize(
    "call_id",
    ["call\x00nul", "call\nforged", "call/slash", "call id", "cäll", "c" * 129, "", 42],
)
async def test_a_webhook_for_an_invalid_call_id_is_400(
    http: httpx.AsyncClient, call_id: Any
) -> None:
    assert await post(http, call_ended(call_id)) == 400


async def test_the_longest_valid_call_id_is_taken(http: httpx.AsyncClient) -> None:
    assert await post(http, call_ended("call_" + "f" * 123)) == 204
    assert await post(http, call_ended("A-z_0-9")) == 204


@pytest.mark.parametrize(
    "numbers",
    [
        {"agent_version": 2**31},
        {"start_timestamp": 10**20},
        {"end_timestamp": -1},
        {"duration_ms": 2**63},
    ],
)
async def test_a_webhook_with_a_stored_number_out_of_range_is_400(
    http: httpx.AsyncClient, numbers: dict[str, int]
) -> None:
    assert await post(http, call_ended("call_numbers", **numbers)) == 400
    assert await post(http, call_ended("call_numbers", duration_ms=61_000)) == 204
