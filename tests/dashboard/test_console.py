"""The console over HTTP on a real server: access, CSRF, roles, calls, escaping, versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.conftest import run_server
from tests.dashboard.support import (
    PASSWORD,
    add_user,
    csrf_of,
    place_call,
    settle,
    sign_in,
    signed_in,
)
from voiceops.config import Settings

XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


async def test_logged_out_visitors_are_redirected_and_json_answers_401(
    make_settings: Callable[..., Settings],
) -> None:
    async with (
        run_server(make_settings()) as server,
        httpx.AsyncClient(base_url=server.http_base) as client,
    ):
        page = await client.get("/dashboard/calls?outcome=booked")
        assert page.status_code == 303
        assert (
            page.headers["location"] == "/dashboard/login?next=/dashboard/calls%3Foutcome%3Dbooked"
        )
        api = await client.get("/dashboard/calls/x/events")
        assert api.status_code == 401
        assert (
            await client.post("/dashboard/agent/publish", data={"note": "x"})
        ).status_code == 303
        login = await client.get("/dashboard/login")
        assert "default-src 'self'" in login.headers["content-security-policy"]
        assert "unsafe-inline" not in login.headers["content-security-policy"]
        assert login.headers["x-frame-options"] == "DENY"


async def test_sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session(
    make_settings: Callable[..., Settings],
) -> None:
    async with run_server(make_settings()) as server:
        await add_user(server, "owner@salon.test", "admin")
        async with httpx.AsyncClient(base_url=server.http_base) as client:
            response = await sign_in(client, "owner@salon.test")
            cookie = response.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=lax" in cookie and "path=/dashboard" in cookie
            assert "secure" not in cookie  # plain HTTP here; HTTPS gets Secure
            page = await client.get("/dashboard/calls")
            assert page.status_code == 200
            out = await client.post("/dashboard/logout", data={"csrf_token": csrf_of(page.text)})
            assert out.status_code == 303
            assert (await client.get("/dashboard/calls")).status_code == 303


async def test_a_post_without_the_csrf_token_is_refused(
    make_settings: Callable[..., Settings],
) -> None:
    async with run_server(make_settings()) as server:
        async with signed_in(server, "owner@salon.test", "admin") as client:
            refused = await client.post(
                "/dashboard/users",
                data={"email": "x@y.z", "role": "viewer", "password": "long enough pw"},
            )
            assert refused.status_code == 403
            wrong = await client.post(
                "/dashboard/users",
                data={
                    "email": "x@y.z",
                    "role": "viewer",
                    "password": "long enough pw",
                    "csrf_token": "nope",
                },
            )
            assert wrong.status_code == 403
            page = await client.get("/dashboard/users")
            cross = await client.post(
                "/dashboard/users",
                data={
                    "email": "x@y.z",
                    "role": "viewer",
                    "password": "long enough pw",
                    "csrf_token": csrf_of(page.text),
                },
                headers={"origin": "https://evil.example"},
            )
            assert cross.status_code == 403
            ok = await client.post(
                "/dashboard/users",
                data={
                    "email": "x@y.z",
                    "role": "viewer",
                    "password": "long enough pw",
                    "csrf_token": csrf_of(page.text),
                },
            )
            assert ok.status_code == 303
            audit = await client.get("/dashboard/audit")
            assert "add user" in audit.text and "x@y.z" in audit.text


async def test_failed_sign_ins_are_throttled_per_account(
    make_settings: Callable[..., Settings],
) -> None:
    async with run_server(make_settings(login_max_failures_account=3)) as server:
        await add_user(server, "owner@salon.test", "admin")
        async with httpx.AsyncClient(base_url=server.http_base) as client:
            for _ in range(3):
                assert (
                    await sign_in(client, "owner@salon.test", "wrong password")
                ).status_code == 401
            blocked = await sign_in(client, "owner@salon.test", PASSWORD)
            assert blocked.status_code == 429
            assert "Too many failed sign-ins" in blocked.text


async def test_a_viewer_cannot_publish_or_edit(make_settings: Callable[..., Settings]) -> None:
    async with run_server(make_settings()) as server:
        async with signed_in(server, "viewer@salon.test", "viewer") as client:
            page = await client.get("/dashboard/agent")
            assert page.status_code == 200 and "Publish the draft" not in page.text
            token = csrf_of(page.text)
            assert (
                await client.post(
                    "/dashboard/agent/publish", data={"note": "x", "csrf_token": token}
                )
            ).status_code == 403
            assert (
                await client.post(
                    "/dashboard/agent/draft",
                    data={"section": "fillers", "fillers": "Hold on.", "csrf_token": token},
                )
            ).status_code == 403


async def test_a_call_by_the_peer_is_listed_found_and_shown_escaped(
    make_settings: Callable[..., Settings],
) -> None:
    async with run_server(make_settings()) as server:
        said = await place_call(
            server,
            "call_xss",
            [f"Can I book a haircut tomorrow at 3pm {XSS[0]}", f"My name is {XSS[1]}"],
        )
        assert said[0]
        async with signed_in(server, "owner@salon.test", "admin") as client:
            listing = await client.get("/dashboard/calls")
            assert "call_xss" in listing.text
            for query in ("q=haircut", "from=0142", "version=1", "slow_ms=1"):
                found = await client.get(f"/dashboard/calls?{query}")
                assert "call_xss" in found.text, query
            assert "call_xss" not in (await client.get("/dashboard/calls?q=plumbing")).text
            assert "call_xss" not in (await client.get("/dashboard/calls?fallback=1")).text
            page = await client.get("/dashboard/calls/call_xss")
            assert page.status_code == 200
            for raw in XSS:
                assert raw not in page.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
            assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
            assert "check_availability" in page.text and "first frame" in page.text
            raw_json = await client.get("/dashboard/calls/call_xss.json")
            assert raw_json.json()["call"]["call_id"] == "call_xss"
            csv_export = await client.get("/dashboard/calls.csv?q=haircut")
            assert (
                csv_export.text.splitlines()[0].startswith("call_id,")
                and "call_xss" in csv_export.text
            )
            scenario = await client.get("/dashboard/calls/call_xss/scenario.yaml")
            assert "check_availability" in scenario.text


async def test_edit_validate_diff_publish_and_restore(
    make_settings: Callable[..., Settings],
) -> None:
    async with run_server(make_settings()) as server:
        await place_call(server, "before_publish", ["What are your opening hours?"])
        async with signed_in(server, "owner@salon.test", "admin") as client:
            edit = await client.get("/dashboard/agent/edit?section=escalation")
            token = csrf_of(edit.text)
            bad = await client.post(
                "/dashboard/agent/draft",
                data={
                    "section": "escalation",
                    "csrf_token": token,
                    "trigger_phrases": "manager",
                    "frustration_phrases": "",
                    "frustration_threshold": "0",
                    "loop_turns": "3",
                    "transfer_default": "555-0100",
                    "transfer_by_reason": "",
                },
            )
            assert bad.status_code == 422
            assert "escalation.frustration_threshold" in bad.text and "transfer.default" in bad.text
            saved = await client.post(
                "/dashboard/agent/draft",
                data={
                    "section": "fillers",
                    "csrf_token": token,
                    "fillers": "Hang on one second.\nLet me see.",
                },
            )
            assert saved.status_code == 303
            diff = await client.get(saved.headers["location"])
            assert "Hang on one second." in diff.text and "d-replace" in diff.text
            agent = await client.get("/dashboard/agent")
            published = await client.post(
                "/dashboard/agent/publish",
                data={"note": "shorter holding lines", "csrf_token": csrf_of(agent.text)},
            )
            assert published.status_code == 303 and published.headers["location"].endswith(
                "published=2"
            )
            health = (await client.get("/healthz")).json()
            assert health["profile_version"] == 2
            await place_call(server, "after_publish", ["What are your opening hours?"])
            calls = {c["call_id"]: c for c in await _calls(server)}
            assert calls["before_publish"]["profile_version"] == 1
            assert calls["after_publish"]["profile_version"] == 2
            agent = await client.get("/dashboard/agent")
            restored = await client.post(
                "/dashboard/agent/restore/1", data={"csrf_token": csrf_of(agent.text)}
            )
            assert restored.status_code == 303
            diff = await client.get(restored.headers["location"])
            assert (
                "Hang on one second." in diff.text
            )  # v2 on the left, the restored v1 draft on the right
            audit = await client.get("/dashboard/audit")
            for action in ("save draft", "publish", "restore"):
                assert action in audit.text


async def _calls(server: Any) -> list[dict[str, Any]]:
    from voiceops.store.calls import CallRepo

    await settle(server)
    return await CallRepo(server.runtime.db).list_calls()
