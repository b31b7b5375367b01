"""The console in a real headless browser (Debian's chromium driven by Playwright).

Screenshots of every page go to ``$VOICEOPS_SCREENSHOTS`` (default: the test's tmp dir);
the ``browser`` and ``shots`` fixtures are in ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import run_server
from tests.dashboard.support import PASSWORD, add_user, place_call
from voiceops.config import Settings


async def test_the_console_in_a_browser(
    browser: object, shots: Path, make_settings: Callable[..., Settings]
) -> None:
    from playwright.async_api import Browser, Dialog

    assert isinstance(browser, Browser)
    async with run_server(make_settings()) as server:
        await add_user(server, "owner@salon.test", "admin")
        await place_call(
            server,
            "call_booking",
            ["Hi, can I book a haircut for tomorrow at 3pm?", "Priya", "yes"],
        )
        await place_call(
            server,
            "call_xss",
            ["<script>alert(1)</script>", "<img src=x onerror=alert(1)> I want a manager"],
        )
        dialogs: list[str] = []
        for name, viewport in (("desktop", (1280, 900)), ("phone", (390, 844))):
            context = await browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]}
            )
            page = await context.new_page()

            def on_dialog(dialog: Dialog) -> None:
                dialogs.append(dialog.message)

            page.on("dialog", on_dialog)
            base = server.http_base
            await page.goto(f"{base}/dashboard/calls")
            assert page.url.startswith(f"{base}/dashboard/login")
            await page.screenshot(path=shots / f"login-{name}.png")
            await page.fill("#email", "owner@salon.test")
            await page.fill("#password", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/dashboard/calls")
            assert await page.locator("text=call_booking").count() == 1
            await page.screenshot(path=shots / f"calls-{name}.png", full_page=True)
            await page.fill("#q", "haircut")
            await page.click("form.filters button[type=submit]")
            assert await page.locator("text=call_booking").count() == 1
            assert await page.locator("text=call_xss").count() == 0
            await page.goto(f"{base}/dashboard/calls/call_booking")
            assert await page.locator(".ev-tool_call").count() >= 1
            assert await page.locator("text=first frame").count() >= 1
            await page.screenshot(path=shots / f"call-{name}.png", full_page=True)
            await page.goto(f"{base}/dashboard/calls/call_xss")
            assert await page.locator("text=<script>alert(1)</script>").count() == 1
            await page.screenshot(path=shots / f"call-xss-{name}.png", full_page=True)
            await page.goto(f"{base}/dashboard/agent/edit?section=voice")
            await page.screenshot(path=shots / f"edit-{name}.png", full_page=True)
            await context.close()

        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        base = server.http_base
        await page.goto(f"{base}/dashboard/login")
        await page.fill("#email", "owner@salon.test")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.goto(f"{base}/dashboard/agent/edit?section=voice")
        await page.fill(
            "#greeting",
            "Thanks for calling {{ business_name }}, this is {{ agent_name }}. "
            "What can I do for you?",
        )
        await page.click("form.stack button[type=submit]")
        await page.wait_for_url("**/dashboard/agent/diff**")
        assert await page.locator("text=What can I do for you?").count() >= 1
        await page.screenshot(path=shots / "diff-desktop.png", full_page=True)
        await page.goto(f"{base}/dashboard/agent")
        await page.fill("#note", "A shorter greeting")
        await page.click("text=Publish the draft")
        await page.wait_for_url("**/dashboard/agent?published=2")
        await page.screenshot(path=shots / "agent-desktop.png", full_page=True)
        said = await place_call(server, "call_v2", ["What are your hours?"])
        assert said
        await page.goto(f"{base}/dashboard/calls?version=2")
        assert await page.locator("text=call_v2").count() == 1
        assert await page.locator("text=call_booking").count() == 0
        await page.goto(f"{base}/dashboard/live")
        await page.screenshot(path=shots / "live-desktop.png", full_page=True)
        await page.goto(f"{base}/dashboard/audit")
        await page.screenshot(path=shots / "audit-desktop.png", full_page=True)
        await context.close()
        assert dialogs == []
