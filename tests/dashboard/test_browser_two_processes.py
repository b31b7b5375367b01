"""An operator's interrupt crosses processes: two ``voiceops serve`` processes on one
PostgreSQL; a call is live on the first, the operator works in the second's console (in
a real browser), and what they say, then their "end call", reaches the call's socket as
``agent_interrupt`` frames (``LISTEN/NOTIFY``)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.dashboard.support import PASSWORD, caller
from tests.e2e.test_two_processes import free_port, spawn, wait_ready
from tests.pgutil import fresh_pg_database, require_pg
from voiceops.core.clock import SystemClock
from voiceops.evals.peer import RetellPeer
from voiceops.store.db import Database
from voiceops.store.users import UserRepo, hash_password

pytestmark = pytest.mark.slow

SAID = "Sorry to cut in: your stylist is running ten minutes late."
SECRET = "x" * 40


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[str, int, int]]:
    """(the database URL, the call's process port, the console's process port)."""
    require_pg()
    async with fresh_pg_database() as url:
        procs: list[subprocess.Popen[bytes]] = []
        try:
            ports = []
            for name in ("calls", "console"):
                port = free_port()
                procs.append(spawn(url, port, tmp_path, name, VOICEOPS_SESSION_SECRET=SECRET))
                await wait_ready(port, procs[-1])
                ports.append(port)
            yield url, ports[0], ports[1]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()


async def until(check: object, what: str, within_s: float = 20.0) -> None:
    assert callable(check)
    for _ in range(int(within_s / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {within_s} s")


async def test_an_interrupt_from_one_process_reaches_a_call_on_another(
    browser: object, shots: Path, two: tuple[str, int, int]
) -> None:
    from playwright.async_api import Browser

    assert isinstance(browser, Browser)
    url, calls_port, console_port = two
    db = await Database.open(url)
    try:
        await UserRepo(db, clock=SystemClock()).add(
            "desk@salon.test", "editor", hash_password(PASSWORD)
        )
    finally:
        await db.close()
    ws = f"ws://127.0.0.1:{calls_port}/llm-websocket/call_cross"
    async with RetellPeer(ws, call=caller("call_cross")) as peer:
        await peer.wait_begin()
        await peer.turn("Hi, is my 3pm still on?")
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        base = f"http://127.0.0.1:{console_port}/dashboard"
        await page.goto(f"{base}/login?next=/dashboard/live")
        await page.fill("#email", "desk@salon.test")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/live")

        async def listed() -> bool:
            await page.reload()
            return await page.locator("text=call_cross").count() == 1

        await until(listed, "the call showing on the other process's Live page")
        await page.screenshot(path=shots / "live-two-processes.png", full_page=True)
        await page.click("text=call_cross")
        await page.fill("#say-text", SAID)
        await page.click("section.say button[type=submit]")

        async def heard() -> bool:
            return any(i.content == SAID for i in peer.interrupts)

        await until(heard, "the operator's words reaching the call")
        said = next(i for i in peer.interrupts if i.content == SAID)
        assert not said.end_call

        async def recorded() -> bool:
            await page.reload()
            return await page.locator(".ev-operator_said").count() == 1

        await until(recorded, "the operator's words in the call's transcript")
        await page.screenshot(path=shots / "call-interrupted.png", full_page=True)
        await page.fill("#say-text", "Goodbye for now.")
        await page.check("input[name=end_call]")
        await page.click("section.say button[type=submit]")

        async def ended() -> bool:
            return any(i.end_call for i in peer.interrupts)

        await until(ended, "the operator's end call reaching the call")
        last = peer.interrupts[-1]
        assert last.end_call and last.content == "Goodbye for now."
        await context.close()
