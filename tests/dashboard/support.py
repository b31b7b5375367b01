"""Helpers for the console tests: users, a signed-in HTTP client, calls by the fake peer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.conftest import RunningServer
from voiceops.core.clock import SystemClock
from voiceops.evals.peer import RetellPeer
from voiceops.store.users import Role, UserRepo, hash_password

PASSWORD = "correct horse battery"


async def add_user(server: RunningServer, email: str, role: Role) -> None:
    await UserRepo(server.runtime.db, clock=SystemClock()).add(email, role, hash_password(PASSWORD))


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    page = await client.get("/dashboard/login")
    return await client.post(
        "/dashboard/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
    )


@asynccontextmanager
async def signed_in(
    server: RunningServer, email: str, role: Role
) -> AsyncIterator[httpx.AsyncClient]:
    await add_user(server, email, role)
    async with httpx.AsyncClient(base_url=server.http_base) as client:
        response = await sign_in(client, email)
        assert response.status_code == 303, response.text
        yield client


def caller(call_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "call_type": "phone_call",
        "from_number": "+12125550142",
        "to_number": "+12125550100",
        **extra,
    }


async def place_call(server: RunningServer, call_id: str, lines: list[str]) -> list[str]:
    """A call by the fake Retell peer; returns what the agent said to each line."""
    said = []
    async with RetellPeer(server.url(call_id), call=caller(call_id)) as peer:
        await peer.wait_begin()
        for line in lines:
            said.append((await peer.turn(line)).text)
    await settle(server)
    return said


async def settle(server: RunningServer) -> None:
    """Wait until the event writer and the state persister have written what they hold."""
    runtime = server.runtime
    for _ in range(200):
        if runtime.writer.stats().get("queued", 0) == 0 and runtime.persister.pending == 0:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
