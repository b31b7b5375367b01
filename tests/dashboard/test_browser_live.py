"""The Live page follows calls in a real browser (Debian's chromium through Playwright):
a call the fake Retell peer makes appears on a page opened before it, its turns appear as
they are spoken (a caller's markup as text, no dialog), what the operator half-typed
stays in its box with the focus, "say" works without a reload, a hidden tab does not
poll, a server that stops answering shows "updating paused", and the call leaves the page
when it ends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import run_server
from tests.dashboard.support import PASSWORD, add_user, caller
from voiceops.config import Settings
from voiceops.evals.peer import RetellPeer

XSS = "<img src=x onerror=alert(1)> I want a manager"
WAIT_MS = 15_000
HIDE = """() => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => false });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


async def test_a_call_appears_grows_and_leaves_an_open_live_page(
    browser: object, shots: Path, make_settings: Callable[..., Settings]
) -> None:
    from playwright.async_api import Browser, Dialog, Route, expect

    assert isinstance(browser, Browser)
    async with run_server(make_settings()) as server:
        await add_user(server, "desk@salon.test", "editor")
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        dialogs: list[str] = []

        def on_dialog(dialog: Dialog) -> None:
            dialogs.append(dialog.message)

        page.on("dialog", on_dialog)
        base = server.http_base
        await page.goto(f"{base}/dashboard/login")
        await page.fill("#email", "desk@salon.test")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.goto(f"{base}/dashboard/live")
        await expect(page.locator("#live-none")).to_be_visible()

        card = page.locator('#live li.live-call[data-call="call_watched"]')
        turns = card.locator(".live-turns li")
        async with RetellPeer(server.url("call_watched"), call=caller("call_watched")) as peer:
            await peer.wait_begin()
            await expect(card).to_be_visible(timeout=WAIT_MS)
            await expect(page.locator("#live-none")).to_be_hidden()
            await expect(card.locator(".live-from")).to_contain_text("0142")
            box = card.locator("input[name=text]")
            await box.click()
            await box.type("Let me check that for")

            await peer.turn(XSS)
            await expect(turns.filter(has_text=XSS)).to_have_count(1, timeout=WAIT_MS)
            await expect(turns.filter(has_text="Agent")).not_to_have_count(0, timeout=WAIT_MS)
            assert await page.locator("#live img").count() == 0
            assert await box.input_value() == "Let me check that for"
            assert await box.evaluate("el => el === document.activeElement")

            await peer.turn("Tomorrow at 3pm please")
            await expect(turns.filter(has_text="Tomorrow at 3pm please")).to_have_count(
                1, timeout=WAIT_MS
            )
            assert await box.input_value() == "Let me check that for"
            await page.screenshot(path=shots / "live-following.png", full_page=True)

            await box.type(" you.")
            await card.locator("button[type=submit]").click()
            operator = turns.filter(has_text="Let me check that for you.")
            await expect(operator).to_have_count(1, timeout=WAIT_MS)
            await expect(operator.locator(".who")).to_have_text("Operator")
            assert await box.input_value() == ""
            assert page.url == f"{base}/dashboard/live"  # no reload, no redirect
            assert any(i.content == "Let me check that for you." for i in peer.interrupts)

            polls: list[str] = []
            page.on("request", lambda r: polls.append(r.url) if "/live/changes" in r.url else None)
            await page.evaluate(HIDE)
            polls.clear()
            await page.wait_for_timeout(4000)  # more than two polls' worth
            assert polls == [], "polled while the tab was hidden"
            async with page.expect_request("**/dashboard/live/changes*", timeout=WAIT_MS):
                await page.evaluate(SHOW)  # visible again: it polls at once

            async def refuse(route: Route) -> None:
                await route.abort()

            await page.route("**/dashboard/live/changes*", refuse)
            await expect(page.locator("#live-status")).to_contain_text(
                "Updating paused", timeout=WAIT_MS
            )
            await page.screenshot(path=shots / "live-paused.png", full_page=True)
            await page.unroute("**/dashboard/live/changes*", refuse)
            await expect(page.locator("#live-status")).to_have_text("", timeout=40_000)
        await expect(card).to_have_count(0, timeout=WAIT_MS)
        await expect(page.locator("#live-none")).to_be_visible()
        await page.screenshot(path=shots / "live-ended.png", full_page=True)
        await context.close()
        assert dialogs == []
