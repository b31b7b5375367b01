"""The agent editor's forms: each section of a profile as plain form fields and back.

Lists are one item a line (``mon: 09:00-17:00, 18:00-20:00``; ``Haircut | 45 | 55 |
trim, cut | description``; ``reason = +12125550100``; FAQ ``keyword, keyword = answer``).
Parsing builds the profile's JSON body; validation is the profile's own
(:class:`AgentProfile` and the template check), and every error names its field.
"""

from __future__ import annotations

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


def apply_section(
    body: dict[str, Any], section: str, form: dict[str, str]
) -> tuple[dict[str, Any], list[FieldError]]:
    """``body`` with ``section`` replaced from ``form``, and the parsing errors."""
    out = dict(body)
    errors: list[FieldError] = []

    def text(name: str) -> str:
        return form.get(name, "").strip()

    if section == "voice":
        out["prompt_template"] = form.get("prompt_template", "").strip() or None
        out["turn_note_template"] = form.get("turn_note_template", "").strip() or None
        out["greeting"] = text("greeting")
        out["greeting_named"] = text("greeting_named")
    elif section == "business":
        for name in ("business_name", "agent_name", "business_zone"):
            out[name] = text(name)
        out["business_phone"] = text("business_phone") or None
        out["address"] = text("address") or None
        hours: dict[str, list[str]] = {}
        for n, line in enumerate(_lines(form.get("opening_hours", "")), 1):
            day, sep, spans = line.partition(":")
            day = day.strip().lower()[:3]
            if not sep or day not in WEEKDAYS:
                errors.append(
                    FieldError(
                        "opening_hours", f"line {n}: start with a day, e.g. mon: 09:00-17:00"
                    )
                )
                continue
            hours[day] = [s.strip() for s in spans.split(",") if s.strip()]
        out["opening_hours"] = hours
        out["closed_dates"] = _lines(form.get("closed_dates", ""))
        services = []
        for n, line in enumerate(_lines(form.get("services", "")), 1):
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
        out["services"] = services
        faq = []
        for n, line in enumerate(_lines(form.get("faq", "")), 1):
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
        out["faq"] = faq
    elif section == "escalation":
        esc = dict(out.get("escalation") or {})
        esc["trigger_phrases"] = _lines(form.get("trigger_phrases", ""))
        esc["frustration_phrases"] = _lines(form.get("frustration_phrases", ""))
        esc["frustration_threshold"] = text("frustration_threshold")
        esc["loop_turns"] = text("loop_turns")
        out["escalation"] = esc
        transfer = dict(out.get("transfer") or {})
        transfer["default"] = text("transfer_default") or None
        by_reason = {}
        for n, line in enumerate(_lines(form.get("transfer_by_reason", "")), 1):
            reason, sep, number = line.partition("=")
            if not sep:
                errors.append(FieldError("transfer.by_reason", f"line {n}: reason = +12125550100"))
                continue
            by_reason[reason.strip()] = number.strip()
        transfer["by_reason"] = by_reason
        out["transfer"] = transfer
    elif section == "fillers":
        out["fillers"] = _lines(form.get("fillers", ""))
    elif section == "llm":
        llm = dict(out.get("llm") or {})
        llm["model"] = text("llm_model")
        llm["temperature"] = text("llm_temperature")
        llm["max_tokens"] = text("llm_max_tokens")
        llm["parallel_tool_calls"] = {"on": True, "off": False}.get(text("llm_parallel_tool_calls"))
        llm["service_tier"] = text("llm_service_tier") or None
        out["llm"] = llm
    else:
        errors.append(FieldError("section", f"unknown section {section!r}"))
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
