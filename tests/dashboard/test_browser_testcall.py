"""The test-call page in a real headless browser: an operator books an appointment by
typing as the caller, with the page's script (fetch) and without it (form posts)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import run_server
from tests.dashboard.support import PASSWORD, add_user, settle
from voiceops.config import Settings
from voiceops.store.evals import read_bookings


def _lines(hour: str, name: str) -> list[str]:
    return [f"Hi, can I book a haircut for tomorrow at {hour}?", name, "yes"]


async def test_the_test_call_page_books_an_appointment(
    browser: object, shots: Path, make_settings: Callable[..., Settings]
) -> None:
    from playwright.async_api import Browser

    assert isinstance(browser, Browser)
    async with run_server(make_settings()) as server:
        await add_user(server, "desk@salon.test", "editor")
        base = server.http_base
        for name, viewport, scripts, lines in (
            ("desktop", (1280, 900), True, _lines("3pm", "Priya")),
            ("phone", (390, 844), False, _lines("4pm", "Tomas")),
        ):
            context = await browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]},
                java_script_enabled=scripts,
            )
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc, seen=errors: seen.append(str(exc)))
            await page.goto(f"{base}/dashboard/login?next=/dashboard/test-call")
            await page.fill("#email", "desk@salon.test")
            await page.fill("#password", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/dashboard/test-call")
            await page.click("text=Call the agent")
            agent = page.locator("#said .ev-turn_completed")
            await agent.first.wait_for()
            assert await agent.count() == 1  # the greeting
            for n, line in enumerate(lines, start=2):
                await page.fill("#say-text", line)
                await page.click("#say-form button[type=submit]")
                await agent.nth(n - 1).wait_for()
            text = await page.locator("#said").inner_text()
            assert "book_appointment" in text and lines[1] in text
            assert "first words" in text
            await page.screenshot(path=shots / f"test-call-{name}.png", full_page=True)
            assert errors == []
            await context.close()
        await settle(server)
        booked = await read_bookings(server.runtime.db)
        assert [b.customer_name for b in booked] == ["Priya", "Tomas"]
        assert len({b.call_id for b in booked}) == 2
