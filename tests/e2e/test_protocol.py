"""The Retell custom-LLM protocol end to end: a fake Retell peer over a real WebSocket
against the real server, driven by the fake OpenAI-compatible server over a real socket."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import openai
import pytest
import websockets

from tests.conftest import RunningServer, run_server
from tests.fakes.fake_llm import FakeLLM, Script
from voiceops.config import Settings
from voiceops.core.profile import AgentProfile
from voiceops.evals.peer import Reply, RetellPeer
from voiceops.retell.messages import ResponseOut

CALL: dict[str, Any] = {
    "call_id": "call_e2e",
    "call_type": "phone_call",
    "direction": "inbound",
    "from_number": "+12125550100",
    "to_number": "+12125550142",
    "retell_llm_dynamic_variables": {"caller_name": "Dana"},
}


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with FakeLLM() as fake:
        yield fake


@pytest.fixture
async def server(
    llm: FakeLLM, make_settings: Callable[..., Settings], profile: AgentProfile
) -> AsyncIterator[RunningServer]:
    settings = make_settings(
        brain="llm", llm_base_url=llm.base_url, llm_api_key="test-key", fallback_deadline_ms=2500
    )
    client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="test-key", max_retries=0)
    async with run_server(settings, profile=profile, llm_client=client) as srv:
        yield srv
    await client.close()


def completes(peer: RetellPeer, rid: int) -> int:
    return sum(
        1
        for _, f in peer.frames
        if isinstance(f, ResponseOut) and f.response_id == rid and f.content_complete
    )


async def test_config_first_then_greeting_by_name(server: RunningServer) -> None:
    async with RetellPeer(server.url("call_greet"), call=CALL) as peer:
        begin = await peer.wait_begin()
        first = peer.frames[0][1]
        assert first.response_type == "config"
        assert "Dana" in begin.text
        assert completes(peer, 0) == 1


async def test_streamed_reply_is_clean_and_closed_once(server: RunningServer, llm: FakeLLM) -> None:
    llm.enqueue(Script.say("**Sure!** 😀 We're open until 5pm. Anything else? 👍"))
    async with RetellPeer(server.url("call_clean"), call=CALL) as peer:
        await peer.wait_begin()
        reply = await peer.turn("When do you close today?")
        assert reply.complete
        assert "*" not in reply.text and "😀" not in reply.text and "👍" not in reply.text
        assert "Sure!" in reply.text
        assert completes(peer, 1) == 1
        assert len(reply.chunks) > 1, "the reply must stream, not arrive in one frame"
        req = (await llm.wait_requests(1))[0]
        assert req.messages[-2] == {"role": "user", "content": "When do you close today?"}


async def test_newer_response_id_cancels_upstream_and_sends_no_stale_frame(
    server: RunningServer, llm: FakeLLM
) -> None:
    llm.enqueue(
        Script.say("This is a long answer that streams slowly word by word.", token_ms=150),
        Script.say("Tuesday works."),
    )
    async with RetellPeer(server.url("call_supersede"), call=CALL) as peer:
        await peer.wait_begin()
        first = await peer.user_says("I want to book")
        for _ in range(300):
            if peer.replies[first].chunks:
                break
            await asyncio.sleep(0.01)
        second = await peer.user_says("I want to book for Tuesday")
        reply = await peer.wait(second)
        assert reply.text == "Tuesday works."
        old = (await llm.wait_requests(2))[0]
        await old.wait_finished(2)
        assert old.closed_by_client, "the superseded LLM stream must be closed by the client"
        await asyncio.sleep(0.3)  # give a buggy server time to leak late frames
        assert peer.stale == []
        assert completes(peer, first) == 0
        assert completes(peer, second) == 1


async def test_pings_are_answered_while_a_turn_waits_for_its_first_token(
    server: RunningServer, llm: FakeLLM
) -> None:
    llm.enqueue(Script.say("Finally here.", first_token_ms=1500))
    async with RetellPeer(server.url("call_ping"), call=CALL) as peer:
        await peer.wait_begin()
        rid = await peer.user_says("Hello?")
        await llm.wait_requests(1)
        stamps = [await peer.ping(1000 + i) for i in range(3)]
        for _ in range(100):
            if all(s in peer.pongs for s in stamps):
                break
            await asyncio.sleep(0.01)
        assert all(s in peer.pongs for s in stamps)
        # Every pong arrived while the turn was still waiting for its first token.
        reply = peer.replies[rid]
        assert not reply.complete
        await peer.wait(rid)
        first_chunk_at = min(t for t, c in zip(reply.chunk_times, reply.chunks, strict=True) if c)
        assert max(peer.pongs[s] for s in stamps) < first_chunk_at


async def test_bad_input_is_counted_and_the_call_goes_on(
    server: RunningServer, llm: FakeLLM
) -> None:
    async with RetellPeer(server.url("call_bad"), call=CALL) as peer:
        await peer.wait_begin()
        await peer.send("this is not json")
        await peer.send_raw_bytes(b"\x00\x01binary")
        await peer.send(json.dumps({"interaction_type": "mystery", "x": 1}))
        await peer.send(
            json.dumps(
                {"interaction_type": "response_required", "response_id": "7", "transcript": []}
            )
        )
        too_big = {
            "interaction_type": "update_only",
            "transcript": [
                {"role": "user", "content": "x" * (server.runtime.settings.max_frame_bytes + 1)}
            ],
        }
        await peer.send(json.dumps(too_big))
        reply = await peer.turn("Are you still there?")
        assert reply.complete and reply.text
    metrics = server.runtime.metrics.render().decode()
    for kind in ("malformed", "binary", "unknown_interaction_type", "too_large"):
        assert f'voiceops_bad_frames_total{{kind="{kind}"}}' in metrics


async def test_a_long_calls_turn_is_answered_past_the_frame_bound(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> None:
    # Word timings are most of a long call's frame and never read, so a turn request counts
    # against the bound without them (an update_only of that size is still refused).
    settings = make_settings(max_frame_bytes=20_000)
    async with (
        run_server(settings, profile=profile) as srv,
        RetellPeer(srv.url("call_long"), call=CALL) as peer,
    ):
        await peer.wait_begin()
        words = [{"word": "word", "start": 1.0, "end": 1.25}] * 40
        history = [
            {"role": ("agent", "user")[i % 2], "content": "Sure.", "words": words}
            for i in range(30)
        ]
        history.append({"role": "user", "content": "When are you open?", "words": words})
        peer.latest_id += 1
        rid = peer.latest_id
        peer.replies[rid] = Reply(rid, time.monotonic())
        frame = {
            "interaction_type": "response_required",
            "response_id": rid,
            "transcript": history,
            "transcript_with_tool_calls": history,
        }
        raw = json.dumps(frame, separators=(",", ":"))
        assert len(raw) > 4 * settings.max_frame_bytes
        await peer.send(raw)
        reply = await peer.wait(rid)
        assert reply.complete and reply.text
    assert "voiceops_bad_frames_total{" not in srv.runtime.metrics.render().decode()


async def test_empty_transcript_request_is_answered(server: RunningServer, llm: FakeLLM) -> None:
    llm.enqueue(Script.say("Hi, how can I help?"))
    async with RetellPeer(server.url("call_empty"), call=CALL) as peer:
        await peer.wait_begin()
        rid = await peer.request()
        reply = await peer.wait(rid)
        assert reply.text == "Hi, how can I help?"


async def test_end_call_tool_hangs_up_with_its_goodbye(server: RunningServer, llm: FakeLLM) -> None:
    llm.enqueue(Script.call("end_call", {"message": "Thanks for calling, bye!"}))
    async with RetellPeer(server.url("call_end"), call=CALL) as peer:
        await peer.wait_begin()
        reply = await peer.turn("That's all, bye.")
        assert reply.end_call
        assert reply.text == "Thanks for calling, bye!"
        assert [t.name for t in reply.tool_calls] == ["end_call"]
        assert len(reply.tool_results) == 1


async def test_tool_call_keeps_the_response_open_and_uses_the_result(
    server: RunningServer, llm: FakeLLM
) -> None:
    llm.enqueue(
        Script.call("get_service_info", {"service": "haircut"}),
        Script.say("A haircut is 45 dollars."),
    )
    async with RetellPeer(server.url("call_tool"), call=CALL) as peer:
        await peer.wait_begin()
        reply = await peer.turn("How much is a haircut?")
        assert reply.text.endswith("A haircut is 45 dollars.")
        assert reply.tool_calls[0].name == "get_service_info"
        assert reply.tool_results[0].successful is True
        second = (await llm.wait_requests(2))[1]
        tool_msgs = [m for m in second.messages if m["role"] == "tool"]
        assert tool_msgs and "45" in tool_msgs[0]["content"]


async def test_reconnect_resumes_without_a_second_greeting(server: RunningServer) -> None:
    async with RetellPeer(server.url("call_resume"), call=CALL) as peer:
        begin = await peer.wait_begin()
        assert begin.text
        await peer.turn("Hi there")
        await peer.abort()
    async with RetellPeer(server.url("call_resume"), call=CALL) as again:
        begin = await again.wait_begin()
        assert begin.text == ""
        again.latest_id = 1
        again.transcript = list(peer.transcript)
        reply = await again.turn("Are you there?")
        assert reply.complete


async def test_secret_and_allowlist(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> None:
    settings = make_settings(ws_secret="s3cret-value")
    async with run_server(settings, profile=profile) as srv:
        for url in (srv.url("call_a"), srv.url("call_a") + "?secret=wrong"):
            async with websockets.connect(url) as ws:
                with pytest.raises(websockets.ConnectionClosed) as info:
                    await ws.recv()
                assert info.value.rcvd is not None and info.value.rcvd.code == 1008
        for url in (
            srv.url("call_a") + "?secret=s3cret-value",
            f"{srv.ws_base}/s3cret-value/call_b",
        ):
            async with RetellPeer(url, call=CALL) as peer:
                assert (await peer.wait_begin()).text
    blocked = make_settings(ws_allow_ips=["100.20.5.228/32"])
    async with run_server(blocked, profile=profile) as srv:
        async with websockets.connect(srv.url("call_c")) as ws:
            with pytest.raises(websockets.ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 1008


async def test_operator_interrupt_speaks_at_once(
    make_settings: Callable[..., Settings], profile: AgentProfile
) -> None:
    settings = make_settings(admin_token="op-token")
    async with run_server(settings, profile=profile) as srv:
        async with (
            RetellPeer(srv.url("call_op"), call=CALL) as peer,
            httpx.AsyncClient(base_url=srv.http_base) as http,
        ):
            await peer.wait_begin()
            url = "/calls/call_op/interrupt"
            body = {"text": "**Sorry** to cut in, we close early today 🙏"}
            assert (await http.post(url, json=body)).status_code == 401
            bad = await http.post(url, json=body, headers={"authorization": "Bearer nope"})
            assert bad.status_code == 401
            auth = {"authorization": "Bearer op-token"}
            assert (
                await http.post("/calls/other/interrupt", json=body, headers=auth)
            ).status_code == 404
            assert (await http.post(url, content=b"{", headers=auth)).status_code == 400
            ok = await http.post(url, json=body, headers=auth)
            assert ok.status_code == 200
            for _ in range(100):
                if peer.interrupts:
                    break
                await asyncio.sleep(0.01)
            (frame,) = peer.interrupts
            assert frame.content == "Sorry to cut in, we close early today"
            assert frame.content_complete and frame.no_interruption_allowed


async def test_request_open_when_the_socket_died_is_answered_after_reconnect(
    server: RunningServer, llm: FakeLLM
) -> None:
    llm.enqueue(Script.say("This reply never finishes.", first_token_ms=3000))
    async with RetellPeer(server.url("call_redial"), call=CALL) as peer:
        await peer.wait_begin()
        await peer.user_says("Can I book a haircut?")
        await llm.wait_requests(1)
        await peer.abort()
    llm.enqueue(Script.say("Sure, what day?"))
    async with RetellPeer(server.url("call_redial"), call=CALL) as again:
        assert (await again.wait_begin()).text == ""
        again.transcript = list(peer.transcript)
        again.latest_id = 0  # Retell re-sends the open request with its old id, 1
        reply = await again.wait(await again.request())
        assert reply.text == "Sure, what day?"


async def test_first_words_go_at_once_then_whole_sentences(
    server: RunningServer, llm: FakeLLM
) -> None:
    llm.enqueue(Script.say("Hello there. We open at nine and close at five. See you soon."))
    async with RetellPeer(server.url("call_coalesce"), call=CALL) as peer:
        await peer.wait_begin()
        reply = await peer.turn("When are you open?")
        spoken = [c for c in reply.chunks if c]
        assert spoken[0].strip() == "Hello", "the first word is not held back"
        # Then one frame per sentence, not one per token.
        assert [c.strip() for c in spoken[1:]] == [
            "there.",
            "We open at nine and close at five.",
            "See you soon.",
        ]
