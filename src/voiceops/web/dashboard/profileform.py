"""The agent editor's forms: each section of a profile as plain form fields and back.

Lists are one item a line (``mon: 09:00-17:00, 18:00-20:00``; ``Haircut | 45 | 55 |
trim, cut | description``; ``reason = +12125550100``; FAQ ``keyword, keyword = answer``).
Parsing builds the profile's JSON body; validation is the profile's own
(:class:`AgentProfile` and the template check), and every error names its field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from voiceops.agent.prompts import check_profile_templates
from voiceops.core.errors import ConfigError
from voiceops.core.profile import WEEKDAYS, AgentProfile

SECTIONS = ("voice", "business", "escalation", "fillers", "llm")


@dataclass(slots=True)
class FieldError:
    field: str
    message: str


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def form_values(body: dict[str, Any]) -> dict[str, str]:
    """Every form field's text for the profile ``body``."""
    hours = body.get("opening_hours") or {}
    esc = body.get("escalation") or {}
    transfer = body.get("transfer") or {}
    llm = body.get("llm") or {}
    return {
        "prompt_template": body.get("prompt_template") or "",
        "turn_note_template": body.get("turn_note_template") or "",
        "greeting": body.get("greeting") or "",
        "greeting_named": body.get("greeting_named") or "",
        "business_name": body.get("business_name") or "",
        "agent_name": body.get("agent_name") or "",
        "business_zone": body.get("business_zone") or "",
        "business_phone": body.get("business_phone") or "",
        "address": body.get("address") or "",
        "opening_hours": "\n".join(
            f"{day}: " + ", ".join(f"{i['start'][:5]}-{i['end'][:5]}" for i in hours.get(day, []))
            for day in WEEKDAYS
        ),
        "closed_dates": "\n".join(str(d) for d in body.get("closed_dates") or []),
        "services": "\n".join(
            " | ".join(
                [
                    s["name"],
                    str(s["duration_min"]),
                    str(s["price"]),
                    ", ".join(s.get("aliases") or []),
                    s.get("description") or "",
                ]
            ).rstrip(" |")
            for s in body.get("services") or []
        ),
        "faq": "\n".join(
            ", ".join(f["keywords"]) + " = " + f["answer"] for f in body.get("faq") or []
        ),
        "trigger_phrases": "\n".join(esc.get("trigger_phrases") or []),
        "frustration_phrases": "\n".join(esc.get("frustration_phrases") or []),
        "frustration_threshold": str(esc.get("frustration_threshold", 3)),
        "loop_turns": str(esc.get("loop_turns", 3)),
        "transfer_default": transfer.get("default") or "",
        "transfer_by_reason": "\n".join(
            f"{k} = {v}" for k, v in (transfer.get("by_reason") or {}).items()
        ),
        "fillers": "\n".join(body.get("fillers") or []),
        "llm_model": llm.get("model") or "",
        "llm_temperature": str(llm.get("temperature", "")),
        "llm_max_tokens": str(llm.get("max_tokens", "")),
        "llm_parallel_tool_calls": {True: "on", False: "off", None: "provider"}.get(
            llm.get("parallel_tool_calls"), "off"
        ),
        "llm_service_tier": llm.get("service_tier") or "",
    }


def _text(form: dict[str, str], name: str) -> str:
    return form.get(name, "").strip()


def _voice(out: dict[str, Any], form: dict[str, str], errors: list[FieldError]) -> None:
    out["prompt_template"] = _text(form, "prompt_template") or None
    out["turn_note_template"] = _text(form, "turn_note_template") or None
    out["greeting"] = _text(form, "greeting")
    out["greeting_named"] = _text(form, "greeting_named")


def _hours(text: str, errors: list[FieldError]) -> dict[str, list[str]]:
    hours: dict[str, list[str]] = {}
    for n, line in enumerate(_lines(text), 1):
        day, sep, spans = line.partition(":")
        day = day.strip().lower()[:3]
        if not sep or day not in WEEKDAYS:
            errors.append(
                FieldError("opening_hours", f"line {n}: start with a day, e.g. mon: 09:00-17:00")
            )
            continue
        hours[day] = [s.strip() for s in spans.split(",") if s.strip()]
    return hours


def _services(text: str, errors: list[FieldError]) -> list[dict[str, Any]]:
    services = []
    for n, line in enumerate(_lines(text), 1):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 3:
            errors.append(
                FieldError(
                    "services", f"line {n}: name | minutes | price [| aliases | description]"
                )
            )
            continue
        services.append(
            {
                "name": parts[0],
                "duration_min": parts[1],
                "price": parts[2],
                "aliases": [a.strip() for a in parts[3].split(",") if a.strip()]
                if len(parts) > 3
                else [],
                "description": " | ".join(parts[4:]) if len(parts) > 4 else "",
            }
        )
    return services


def _faq(text: str, errors: list[FieldError]) -> list[dict[str, Any]]:
    faq = []
    for n, line in enumerate(_lines(text), 1):
        keys, sep, answer = line.partition("=")
        if not sep or not answer.strip():
            errors.append(FieldError("faq", f"line {n}: keyword, keyword = answer"))
            continue
        faq.append(
            {
                "keywords": [k.strip() for k in keys.split(",") if k.strip()],
                "answer": answer.strip(),
            }
        )
    return faq


def _business(out: dict[str, Any], form: dict[str, str], errors: list[FieldError]) -> None:
    for name in ("business_name", "agent_name", "business_zone"):
        out[name] = _text(form, name)
    out["business_phone"] = _text(form, "business_phone") or None
    out["address"] = _text(form, "address") or None
    out["opening_hours"] = _hours(form.get("opening_hours", ""), errors)
    out["closed_dates"] = _lines(form.get("closed_dates", ""))
    out["services"] = _services(form.get("services", ""), errors)
    out["faq"] = _faq(form.get("faq", ""), errors)


def _escalation(out: dict[str, Any], form: dict[str, str], errors: list[FieldError]) -> None:
    esc = dict(out.get("escalation") or {})
    esc["trigger_phrases"] = _lines(form.get("trigger_phrases", ""))
    esc["frustration_phrases"] = _lines(form.get("frustration_phrases", ""))
    esc["frustration_threshold"] = _text(form, "frustration_threshold")
    esc["loop_turns"] = _text(form, "loop_turns")
    out["escalation"] = esc
    transfer = dict(out.get("transfer") or {})
    transfer["default"] = _text(form, "transfer_default") or None
    by_reason = {}
    for n, line in enumerate(_lines(form.get("transfer_by_reason", "")), 1):
        reason, sep, number = line.partition("=")
        if not sep:
            errors.append(FieldError("transfer.by_reason", f"line {n}: reason = +12125550100"))
            continue
        by_reason[reason.strip()] = number.strip()
    transfer["by_reason"] = by_reason
    out["transfer"] = transfer


def _fillers(out: dict[str, Any], form: dict[str, str], errors: list[FieldError]) -> None:
    out["fillers"] = _lines(form.get("fillers", ""))


def _llm(out: dict[str, Any], form: dict[str, str], errors: list[FieldError]) -> None:
    llm = dict(out.get("llm") or {})
    llm["model"] = _text(form, "llm_model")
    llm["temperature"] = _text(form, "llm_temperature")
    llm["max_tokens"] = _text(form, "llm_max_tokens")
    llm["parallel_tool_calls"] = {"on": True, "off": False}.get(
        _text(form, "llm_parallel_tool_calls")
    )
    llm["service_tier"] = _text(form, "llm_service_tier") or None
    out["llm"] = llm


_APPLY: dict[str, Callable[[dict[str, Any], dict[str, str], list[FieldError]], None]] = {
    "voice": _voice,
    "business": _business,
    "escalation": _escalation,
    "fillers": _fillers,
    "llm": _llm,
}


def apply_section(
    body: dict[str, Any], section: str, form: dict[str, str]
) -> tuple[dict[str, Any], list[FieldError]]:
    """``body`` with ``section`` replaced from ``form``, and the parsing errors."""
    out = dict(body)
    errors: list[FieldError] = []
    apply = _APPLY.get(section)
    if apply is None:
        errors.append(FieldError("section", f"unknown section {section!r}"))
    else:
        apply(out, form, errors)
    return out, errors


def validate(body: dict[str, Any]) -> tuple[AgentProfile | None, list[FieldError]]:
    """The profile ``body`` describes, or the errors naming each field (the YAML
    profile's own validation, then the templates)."""
    try:
        profile = AgentProfile.model_validate({k: v for k, v in body.items() if k != "version"})
    except ValidationError as exc:
        return None, [
            FieldError(".".join(str(p) for p in err["loc"]) or "profile", err["msg"])
            for err in exc.errors()
        ]
    try:
        check_profile_templates(profile)
    except ConfigError as exc:
        return None, [FieldError("templates", str(exc))]
    return profile, []
