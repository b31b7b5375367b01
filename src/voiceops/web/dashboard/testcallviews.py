"""The test-call page: dial the published version, the draft or an older version, type as
the caller (or stay silent), read the agent's replies with their latency, hang up.

Every step is a plain form post answered with a redirect back to the page, so it works
without JavaScript; ``static/testcall.js`` turns the posts into fetches for a chat feel.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from voiceops.masking import mask_phone
from voiceops.store.users import Session
from voiceops.web.dashboard.auth import PREFIX, client_address
from voiceops.web.dashboard.base import Console, form_of, int_param
from voiceops.web.dashboard.profileform import validate
from voiceops.web.dashboard.testcall import TooManyTestCalls, slot_of

MAX_SAID_CHARS = 1000


def _key(session: Session) -> str:
    return slot_of(session.csrf_token)


async def test_call_page(
    console: Console, request: Request, session: Session, error: str = "", status: int = 200
) -> Response:
    return console.render(
        request,
        "testcall.html",
        session,
        status,
        call=console.test_calls.get(_key(session)),
        versions=await console.versions.versions(),
        has_draft=await console.versions.draft() is not None,
        error=error,
        mask=mask_phone,
    )


async def _version_to_dial(console: Console, which: str) -> tuple[int | None, str]:
    """(the version, its label) for the form's choice, or (``None``, why not)."""
    if which == "draft":
        draft = await console.versions.draft()
        if draft is None:
            return None, "There is no draft to call."
        profile, errors = validate(draft.body)
        if profile is None:
            return None, "The draft does not validate: " + "; ".join(
                f"{e.field}: {e.message}" for e in errors
            )
        # The draft's content becomes a version (the same number if that content was
        # saved before), so the test call records which content it ran.
        version = await console.versions.profiles.save(profile)
        return version, f"the draft (its content is v{version})"
    published = console.endpoint.current.version
    chosen = published if which in ("", "published") else int_param(which)
    if chosen is None:
        return None, "Choose a version."
    return chosen, f"v{chosen}" + (" (published)" if chosen == published else "")


async def test_call_start(console: Console, request: Request, session: Session) -> Response:
    version, label = await _version_to_dial(console, form_of(request).get("version", ""))
    drain = console.endpoint.base.drain
    if drain is not None and drain.draining:
        message = "This instance is shutting down and takes no new calls; try again."
        return await test_call_page(console, request, session, message, 503)
    endpoint = None if version is None else await console.endpoint.console_endpoint(version)
    if endpoint is None:
        message = label if version is None else f"No version {version}."
        return await test_call_page(console, request, session, message, 422)
    try:
        call = await console.test_calls.start(
            _key(session), endpoint, label=label, by=session.user.email
        )
    except TooManyTestCalls as exc:
        return await test_call_page(console, request, session, str(exc), 429)
    await console.audit.record(
        session.user.email,
        "test_call",
        call.call_id,
        {"version": version},
        address=client_address(request, console.settings),
    )
    return RedirectResponse(f"{PREFIX}/test-call#said", status_code=303)


async def test_call_say(console: Console, request: Request, session: Session) -> Response:
    text = " ".join(form_of(request).get("text", "").split())[:MAX_SAID_CHARS]
    call = await console.test_calls.say(_key(session), text)
    if call is None:
        return await test_call_page(
            console, request, session, "The test call has ended; start another.", 409
        )
    return RedirectResponse(f"{PREFIX}/test-call#said", status_code=303)


async def test_call_hang_up(console: Console, request: Request, session: Session) -> Response:
    await console.test_calls.end(_key(session))
    return RedirectResponse(f"{PREFIX}/test-call#said", status_code=303)
