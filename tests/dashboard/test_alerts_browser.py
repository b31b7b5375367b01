"""The alert pages in a real headless browser: the rules with one firing, the edit form
refusing a bad value (the field marked), the test button, the incident history. The
screenshots go where the ``shots`` fixture (``conftest.py``) puts them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import update

from tests.alerts.support import webhook_receiver
from tests.conftest import run_server
from tests.dashboard.support import PASSWORD, add_user
from voiceops.config import Settings
from voiceops.insight.evaluator import AlertService
from voiceops.store.tables import alert_rules


async def test_the_alert_pages_in_a_browser(
    browser: object, shots: Path, make_settings: Callable[..., Settings]
) -> None:
    from playwright.async_api import Browser

    assert isinstance(browser, Browser)
    async with (
        webhook_receiver() as hook,
        run_server(make_settings(alert_interval_s=0, alert_webhook_url=hook.url)) as server,
    ):
        await add_user(server, "owner@salon.test", "admin")
        alerts = server.runtime.alerts
        assert isinstance(alerts, AlertService)
        async with server.runtime.db.transaction("rule") as conn:
            await conn.execute(
                update(alert_rules).where(alert_rules.c.kind == "event_backlog").values(threshold=0)
            )
        await alerts.evaluate_once()
        await hook.wait_posts(1)

        for name, viewport in (("desktop", (1280, 900)), ("phone", (390, 844))):
            context = await browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]}
            )
            page = await context.new_page()
            base = server.http_base
            await page.goto(f"{base}/dashboard/login")
            await page.fill("#email", "owner@salon.test")
            await page.fill("#password", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/dashboard/calls")
            await page.click("nav >> text=Alerts")
            await page.wait_for_url(f"{base}/dashboard/alerts")
            assert await page.locator("text=firing").count() >= 1
            await page.screenshot(path=shots / f"alerts-{name}.png", full_page=True)

            await page.click("text=Slow turns")
            await page.fill("#threshold", "-5")
            await page.click("form.stack button[type=submit]")
            assert (
                await page.locator("#err").inner_text()
                == "threshold: must be between 0 and 1,000,000,000"
            )
            assert await page.locator("#threshold[aria-invalid=true]").count() == 1
            await page.screenshot(path=shots / f"alerts-edit-error-{name}.png", full_page=True)
            await page.fill("#threshold", "800")
            await page.click("form.stack button[type=submit]")
            await page.wait_for_url(f"{base}/dashboard/alerts")
            assert await page.locator("text=≥ 800 ms").count() == 1

            await page.click("text=Send test notification")
            await page.wait_for_url(f"{base}/dashboard/alerts?done=tested")
            await page.screenshot(path=shots / f"alerts-tested-{name}.png", full_page=True)
            await page.click("nav[aria-label=Alerts] >> text=Incidents")
            assert await page.locator("text=Event backlog").count() >= 1
            await page.screenshot(path=shots / f"alerts-incidents-{name}.png", full_page=True)
            await context.close()
        assert [p.body["status"] for p in hook.posts] == ["firing", "test", "test"]
