"""The edge, end to end: call ids, out-of-range values and operator requests, over real
sockets against the real server (fake Retell peer, offline flow brain)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text

from tests.conftest import RunningServer, run_server
from tests.pgutil import fresh_pg_database
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import RetellPeer

CALL: dict[str, Any] = {"call_id": "call_edge", "call_type": "web_call"}


@pytest.fixture
async def server(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> AsyncIterator[RunningServer]:
    settings = make_settings(admin_token="op-token")
    async with run_server(settings, profile=profile) as srv:
        yield srv


def bad_frames(server: RunningServer, kind: str) -> float:
    value = server.runtime.metrics.registry.get_sample_value(
        "voiceops_bad_frames_total", {"kind": kind}
    )
    return value or 0.0


# --- response ids -------------------------------------------------------------------------


@pytest.mark.parametrize("rid", [2**31, 2**40, 10**30, -1])
async def test_a_response_id_out_of_range_is_a_bad_frame_and_the_call_goes_on(
    server: RunningServer, rid: int
) -> None:
    async with RetellPeer(server.url("call_rid"), call=CALL) as peer:
        await peer.wait_begin()
        await peer.send(
            json.dumps(
                {"interaction_type": "response_required", "response_id": rid, "transcript": []}
            )
        )
        # Before, the call took the id as its newest: every later request was "stale"
        # and never answered, and its state could not be saved.
        reply = await peer.turn("When are you open?")
        assert reply.complete and reply.text
        assert not peer.closed.is_set()
    assert bad_frames(server, "malformed") == 1
    state = await server.runtime.persister.load("call_rid")
    assert state is not None and state.last_response_id == 1


async def test_the_largest_response_id_is_answered(server: RunningServer) -> None:
    async with RetellPeer(server.url("call_rid_max"), call=CALL) as peer:
        await peer.wait_begin()
        peer.latest_id = 2**31 - 2
        reply = await peer.turn("When are you open?")
        assert reply.response_id == 2**31 - 1 and reply.complete and reply.text
    assert bad_frames(server, "malformed") == 0


# --- call ids -----------------------------------------------------------------------------


async def closed_with(url: str) -> int | None:
    """Open a socket on ``url`` and return the code the server closes it with."""
    async with asyncio.timeout(10), websockets.connect(url) as ws:
        with pytest.raises(websockets.ConnectionClosed) as info:
            while True:
                await ws.recv()
    return info.value.rcvd.code if info.value.rcvd is not None else None


async def call_rows(server: RunningServer, table: str) -> list[str]:
    async with server.runtime.db.engine.connect() as conn:
        rows = await conn.execute(text(f"SELECT DISTINCT call_id FROM {table}"))
        return [row[0] for row in rows]


@pytest.mark.parametrize(
    "segment",
    [
        "call_a%00b",  # NUL: PostgreSQL refuses it in text, every write of the call failed
        "call_a%0Aforged",  # a line break: a forged log line
        "call_a%0Db",
        "call_%C3%A9t%C3%A9",  # not ASCII
        "call.dots",
        "call%20space",
        "call_" + "a" * 124,  # 129 characters
    ],
)
async def test_an_invalid_call_id_is_refused_with_1008(server: RunningServer, segment: str) -> None:
    assert await closed_with(server.url(segment)) == 1008
    assert (
        server.runtime.metrics.registry.get_sample_value(
            "voiceops_ws_connections_total", {"outcome": "refused"}
        )
        == 1
    )
    assert len(server.runtime.live) == 0


async def test_long_call_ids_are_refused_not_cut_into_one_call(server: RunningServer) -> None:
    # Two different ids that agree on their first 128 characters used to become one call.
    common = "call_" + "0" * 123
    assert len(common) == 128
    for tail in ("1", "2"):
        assert await closed_with(server.url(common + tail)) == 1008
    async with RetellPeer(server.url(common), call={"call_id": common}) as peer:
        assert (await peer.wait_begin()).text
        reply = await peer.turn("When are you open?")
        assert reply.complete
    await server.runtime.persister.stop()
    assert await call_rows(server, "call_states") == [common]


async def test_call_details_with_an_invalid_call_id_are_a_bad_frame(server: RunningServer) -> None:
    async with RetellPeer(server.url("call_details_nul"), call={"call_id": "call\x00nul"}) as peer:
        # The details are refused, so the begin message goes out at its deadline, unnamed.
        assert (await peer.wait_begin()).text
        reply = await peer.turn("When are you open?")
        assert reply.complete
    assert bad_frames(server, "malformed") == 1
    await server.runtime.persister.stop()
    assert "call\x00nul" not in await call_rows(server, "call_states")


async def test_call_details_naming_another_call_are_kept_under_the_sockets_id(
    server: RunningServer,
) -> None:
    async with RetellPeer(
        server.url("call_mine"), call={"call_id": "call_someone_else", "call_type": "web_call"}
    ) as peer:
        await peer.wait_begin()
        await peer.turn("When are you open?")
    await server.runtime.persister.stop()
    assert await call_rows(server, "calls") == ["call_mine"]


@pytest.mark.postgres
async def test_on_postgresql_a_nul_in_call_details_holds_up_no_call_state(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> None:
    async with fresh_pg_database() as url:
        settings = make_settings(database_url=url)
        async with run_server(settings, profile=profile) as server:
            call = {"call_id": "call_nul", "metadata": {"note": "a\x00b"}}
            async with RetellPeer(server.url("call_nul"), call=call) as peer:
                await peer.wait_begin()
                assert (await peer.turn("When are you open?")).complete
            async with RetellPeer(server.url("call_after"), call=CALL) as other:
                await other.wait_begin()
                assert (await other.turn("When are you open?")).complete
            await server.runtime.persister.stop()
            assert server.runtime.persister.pending == 0
            assert sorted(await call_rows(server, "call_states")) == ["call_after", "call_nul"]


async def test_call_details_without_a_call_id_are_kept_under_the_sockets_id(
    server: RunningServer,
) -> None:
    # Before, the call record's write failed ("call_details without a call_id") and was
    # retried ahead of every other call's state for a minute and more.
    async with RetellPeer(server.url("call_unnamed"), call={"call_type": "web_call"}) as peer:
        await peer.wait_begin()
        assert (await peer.turn("When are you open?")).complete
    async with RetellPeer(server.url("call_after"), call=CALL) as other:
        await other.wait_begin()
        assert (await other.turn("When are you open?")).complete
    await server.runtime.persister.stop()
    assert sorted(await call_rows(server, "calls")) == ["call_after", "call_unnamed"]
    assert sorted(await call_rows(server, "call_states")) == ["call_after", "call_unnamed"]


@pytest.mark.parametrize(
    "fields",
    [
        {"agent_version": 10**30},
        {"start_timestamp": 10**20},
        {"duration_ms": -1},
        {"metadata": {"note": "a\x00b"}},
        {"retell_llm_dynamic_variables": {"caller\x00name": "Dana"}},
    ],
)
async def test_call_details_with_a_value_voiceops_cannot_store_are_a_bad_frame(
    server: RunningServer, fields: dict[str, Any]
) -> None:
    # Before, the call record could not be written (a number out of its column's range; a
    # NUL, which PostgreSQL refuses), and its write was retried ahead of every other
    # call's state for a minute and more.
    call = {"call_id": "call_numbers", "call_type": "web_call", **fields}
    async with RetellPeer(server.url("call_numbers"), call=call) as peer:
        assert (await peer.wait_begin()).text
        reply = await peer.turn("When are you open?")
        assert reply.complete
    async with RetellPeer(server.url("call_after"), call=CALL) as other:
        await other.wait_begin()
        assert (await other.turn("When are you open?")).complete
    assert bad_frames(server, "malformed") == 1
    await server.runtime.persister.stop()
    assert sorted(await call_rows(server, "call_states")) == ["call_after", "call_numbers"]


# --- the operator's interrupt -------------------------------------------------------------


AUTH = {"authorization": "Bearer op-token"}


async def interrupt(
    server: RunningServer, call_id: str, body: dict[str, Any] | bytes
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.http_base) as http:
        url = f"/calls/{call_id}/interrupt"
        if isinstance(body, bytes):
            return await http.post(url, content=body, headers=AUTH)
        return await http.post(url, json=body, headers=AUTH)


@pytest.mark.parametrize("call_id", ["call%00op", "call%0Aop", "c" * 129])
async def test_an_interrupt_for_an_invalid_call_id_is_400(
    server: RunningServer, call_id: str
) -> None:
    response = await interrupt(server, call_id, {"text": "Hello."})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"text": "We close early today.", "end_call": "false"},
        {"text": "We close early today.", "end_call": 0},
        {"text": "We close early today.", "end_call": None},
        {"text": 42},
        {"text": "   "},
        {"text": "We close early today.", "endcall": True},
        {"end_call": True},
        ["We close early today."],
    ],
)
async def test_an_ill_typed_interrupt_is_refused_with_422_and_nothing_is_said(
    server: RunningServer, body: Any
) -> None:
    async with RetellPeer(server.url("call_op"), call=CALL) as peer:
        await peer.wait_begin()
        response = await interrupt(server, "call_op", body)
        assert response.status_code == 422
        assert "error" in response.json()
        reply = await peer.turn("When are you open?")
        assert reply.complete
        assert peer.interrupts == []
        assert not peer.closed.is_set()


async def test_end_call_false_speaks_without_hanging_up(server: RunningServer) -> None:
    async with RetellPeer(server.url("call_op"), call=CALL) as peer:
        await peer.wait_begin()
        for end_call in (False, True):
            body = {"text": "We close early today.", "end_call": end_call}
            assert (await interrupt(server, "call_op", body)).status_code == 200
        for _ in range(200):
            if len(peer.interrupts) == 2:
                break
            await asyncio.sleep(0.01)
        assert [bool(frame.end_call) for frame in peer.interrupts] == [False, True]


async def test_an_interrupt_that_is_not_json_is_400(server: RunningServer) -> None:
    assert (await interrupt(server, "call_op", b"{")).status_code == 400
