"""The agent's versions: the list, the editor, the side-by-side diff, publish, restore
and discard."""

from __future__ import annotations

import difflib
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from voiceops.store.evals import EvalRunRepo
from voiceops.store.profiles import profile_digest
from voiceops.store.users import Session
from voiceops.web.dashboard.auth import PREFIX, client_address
from voiceops.web.dashboard.base import Console, form_of, int_param
from voiceops.web.dashboard.profileform import (
    SECTIONS,
    FieldError,
    apply_section,
    form_values,
    validate,
)
from voiceops.web.dashboard.routing import PUBLISHED

NEEDS_EVAL = (
    "Not published: publishing needs a passing evaluation run of this draft's content "
    "(VOICEOPS_PUBLISH_REQUIRES_EVAL is on), and there is none. Download the draft as YAML "
    "from the Agent page, run voiceops eval --profile draft.yaml against this database, "
    "and publish again once the run passes."
)


async def _working_body(console: Console) -> tuple[dict[str, Any], int | None, bool]:
    """(the draft's body or the published one's, the version it is based on, is a draft)."""
    draft = await console.versions.draft()
    if draft is not None:
        return draft.body, draft.base_version, True
    profile = console.endpoint.current
    return profile.model_dump(mode="json", exclude={"version"}), profile.version, False


async def agent_page(console: Console, request: Request, session: Session) -> Response:
    _body, base, _is_draft = await _working_body(console)
    draft = await console.versions.draft()
    runs = EvalRunRepo(console.db)
    draft_run = None
    if draft is not None:
        profile, _errors = validate(draft.body)
        if profile is not None:
            draft_run = await runs.latest_for_content(profile_digest(profile)[0])
    return console.render(
        request,
        "agent.html",
        session,
        versions=await console.versions.versions(),
        draft=draft,
        base=base,
        runs=await runs.latest_by_version(),
        draft_run=draft_run,
        eval_gate=console.settings.publish_requires_eval,
    )


async def agent_draft_yaml(console: Console, request: Request, session: Session) -> Response:
    """The draft as a profile YAML file (what ``voiceops eval --profile`` reads)."""
    draft = await console.versions.draft()
    if draft is None:
        return console.render(request, "error.html", session, 404, message="There is no draft.")
    return Response(
        "\n".join(_yaml(draft.body)) + "\n",
        media_type="application/yaml",
        headers={"content-disposition": 'attachment; filename="draft.yaml"'},
    )


async def agent_edit(
    console: Console,
    request: Request,
    session: Session,
    errors: list[FieldError] | None = None,
    values: dict[str, str] | None = None,
    section: str = "",
    status: int = 200,
) -> Response:
    body, base, is_draft = await _working_body(console)
    return console.render(
        request,
        "edit.html",
        session,
        status,
        values=values or form_values(body),
        errors=errors or [],
        error_fields={e.field.split(".")[0] for e in errors or []},
        section=section or request.query_params.get("section", "voice"),
        sections=SECTIONS,
        is_draft=is_draft,
        base=base,
    )


async def agent_save(console: Console, request: Request, session: Session) -> Response:
    form = form_of(request)
    section = form.get("section", "")
    body, base, _ = await _working_body(console)
    new_body, errors = apply_section(body, section, form)
    profile = None
    if not errors:
        profile, errors = validate(new_body)
    if errors or profile is None:
        values = {
            **form_values(body),
            **{k: v for k, v in form.items() if k not in ("csrf_token", "section")},
        }
        return await agent_edit(console, request, session, errors, values, section, 422)
    await console.versions.save_draft(profile, base_version=base, by=session.user.email)
    await console.audit.record(
        session.user.email,
        "save_draft",
        section,
        {"base_version": base},
        address=client_address(request, console.settings),
    )
    return RedirectResponse(
        f"{PREFIX}/agent/diff?b=draft&a={base or ''}&saved={section}", status_code=303
    )


def _yaml(body: dict[str, Any]) -> list[str]:
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100).splitlines()


async def _body_of(console: Console, which: str) -> tuple[str, dict[str, Any] | None]:
    if which == "draft":
        draft = await console.versions.draft()
        return "draft", None if draft is None else draft.body
    version = int_param(which)
    if version is None:
        return which, None
    profile = await console.versions.profiles.get(version)
    return f"v{version}", None if profile is None else profile.model_dump(
        mode="json", exclude={"version"}
    )


def side_by_side(left: list[str], right: list[str]) -> list[tuple[str, str, str]]:
    """Rows of (tag, left line, right line): ``equal``, ``replace``, ``delete``, ``insert``."""
    rows: list[tuple[str, str, str]] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(("equal", left[i], right[j1 + k]) for k, i in enumerate(range(i1, i2)))
            continue
        a, b = left[i1:i2], right[j1:j2]
        for k in range(max(len(a), len(b))):
            la = a[k] if k < len(a) else ""
            lb = b[k] if k < len(b) else ""
            rows.append((tag if la and lb else ("delete" if la else "insert"), la, lb))
    return rows


def with_context(rows: list[tuple[str, str, str]], n: int) -> list[tuple[str, str, str]]:
    """Only the changed rows and ``n`` rows around each; a ``gap`` row stands for the rest."""
    near = {
        j
        for i, row in enumerate(rows)
        if row[0] != "equal"
        for j in range(max(0, i - n), min(len(rows), i + n + 1))
    }
    out: list[tuple[str, str, str]] = []
    for i, row in enumerate(rows):
        if i in near:
            out.append(row)
        elif not out or out[-1][0] != "gap":
            out.append(("gap", "", ""))
    return out


async def agent_diff(console: Console, request: Request, session: Session) -> Response:
    q = request.query_params
    a = q.get("a") or str(console.endpoint.current.version)
    b = q.get("b") or "draft"
    name_a, body_a = await _body_of(console, a)
    name_b, body_b = await _body_of(console, b)
    rows = side_by_side(_yaml(body_a) if body_a else [], _yaml(body_b) if body_b else [])
    changed = [r for r in rows if r[0] != "equal"]
    if q.get("full") != "1":
        rows = with_context(rows, 3)
    return console.render(
        request,
        "diff.html",
        session,
        a=a,
        b=b,
        name_a=name_a,
        name_b=name_b,
        missing=[n for n, body in ((name_a, body_a), (name_b, body_b)) if body is None],
        rows=rows,
        changed=len(changed),
        versions=await console.versions.versions(),
        has_draft=await console.versions.draft() is not None,
        saved=q.get("saved", ""),
    )


async def agent_publish(console: Console, request: Request, session: Session) -> Response:
    form = form_of(request)
    draft = await console.versions.draft()
    if draft is None:
        return console.render(
            request, "error.html", session, 409, message="There is no draft to publish."
        )
    profile, errors = validate(draft.body)
    if profile is None:
        return console.render(
            request,
            "error.html",
            session,
            422,
            message="The draft does not validate: "
            + "; ".join(f"{e.field}: {e.message}" for e in errors),
        )
    evaluated = None
    if console.settings.publish_requires_eval:
        digest, _ = profile_digest(profile)
        evaluated = await EvalRunRepo(console.db).latest_for_content(digest, passed=True)
        if evaluated is None:
            return console.render(request, "error.html", session, 409, message=NEEDS_EVAL)
    note = form.get("note", "").strip()[:2000]
    version = await console.versions.publish_draft(profile, by=session.user.email, note=note)
    await console.audit.record(
        session.user.email,
        "publish",
        f"v{version}",
        {"note": note, "eval_run": evaluated.run_id if evaluated else None},
        address=client_address(request, console.settings),
    )
    await console.bus.send(PUBLISHED, {"version": version})
    return RedirectResponse(f"{PREFIX}/agent?published={version}", status_code=303)


async def agent_restore(console: Console, request: Request, session: Session) -> Response:
    version = int_param(request.path_params["version"])
    profile = await console.versions.profiles.get(version) if version is not None else None
    if profile is None:
        return console.render(request, "error.html", session, 404, message="No such version.")
    await console.versions.save_draft(profile, base_version=version, by=session.user.email)
    await console.audit.record(
        session.user.email,
        "restore",
        f"v{version}",
        address=client_address(request, console.settings),
    )
    return RedirectResponse(
        f"{PREFIX}/agent/diff?a={console.endpoint.current.version}&b=draft", status_code=303
    )


async def agent_discard(console: Console, request: Request, session: Session) -> Response:
    await console.versions.discard_draft()
    await console.audit.record(
        session.user.email, "discard_draft", address=client_address(request, console.settings)
    )
    return RedirectResponse(f"{PREFIX}/agent", status_code=303)
