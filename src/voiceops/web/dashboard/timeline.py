"""A call's events as the console shows them: one row per thing said or done, in order,
with each agent turn's figures and problems.

Pure functions over rows of ``call_events`` (and the ``calls`` row for Retell's own
per-turn latency); no I/O, no HTML.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

_SHOWN = {
    "user_turn",
    "turn_completed",
    "turn_superseded",
    "filler",
    "tool_call",
    "tool_result",
    "booking",
    "escalation",
    "fallback",
    "error",
    "bad_frame",
    "call_connected",
    "call_resumed",
    "call_disconnected",
    "operator_said",
}


@dataclass(slots=True)
class Row:
    kind: str
    text: str = ""
    event_id: int = 0
    response_id: int | None = None
    at: Any = None
    detail: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    anchor: str = ""
    next_problem: str = ""
    retell_ms: float | None = None
    context: dict[str, Any] | None = None
    """The ``model_context`` of an agent turn the model answered: what it was sent."""


def _retell_e2e(latency: Any) -> list[float]:
    if not isinstance(latency, dict):
        return []
    e2e = latency.get("e2e")
    values = e2e.get("values") if isinstance(e2e, dict) else None
    return [v for v in values if isinstance(v, int | float)] if isinstance(values, list) else []


_PROBLEM_OF = {
    "fallback": "fallback",
    "escalation": "escalated",
    "filler": "filler",
    "error": "error",
}


def _per_response(
    events: list[dict[str, Any]],
) -> tuple[dict[int, list[str]], dict[int, dict[str, Any]]]:
    """Each response id's problems (fallback, escalated, filler, error) and the context
    its model saw, from the call's events."""
    by_rid: dict[int, list[str]] = {}
    contexts: dict[int, dict[str, Any]] = {}
    for e in events:
        rid = e.get("response_id")
        if rid is None:
            continue
        kind = e["event_type"]
        if kind == "model_context" and isinstance(e.get("payload"), dict):
            contexts[rid] = e["payload"]
        elif kind in _PROBLEM_OF:
            by_rid.setdefault(rid, []).append(_PROBLEM_OF[kind])
    _resolve_prompts(contexts)
    return by_rid, contexts


def build(call: dict[str, Any], events: list[dict[str, Any]], *, slow_ms: int) -> list[Row]:
    by_rid, contexts = _per_response(events)
    retell = _retell_e2e(call.get("latency"))
    rows: list[Row] = []
    agent_turns = 0
    for e in events:
        kind = e["event_type"]
        if kind not in _SHOWN and not kind.startswith("webhook_"):
            continue
        payload = e.get("payload") or {}
        row = Row(
            kind=kind,
            text=e.get("content") or "",
            event_id=int(e["id"]),
            response_id=e.get("response_id"),
            at=e.get("created_at"),
            detail=payload if isinstance(payload, dict) else {"value": payload},
        )
        if kind == "user_turn" and not row.text and payload.get("kind") == "reminder":
            row.text = ""
        if kind in ("turn_completed", "turn_superseded"):
            row.detail = {
                **row.detail,
                "latency_ms": e.get("latency_ms"),
                "tokens_in": e.get("tokens_in"),
                "tokens_out": e.get("tokens_out"),
            }
            problems = list(dict.fromkeys(by_rid.get(row.response_id or -1, [])))
            latency = e.get("latency_ms")
            if isinstance(latency, int) and latency > slow_ms:
                problems.insert(0, "slow")
            if kind == "turn_superseded":
                problems.append("interrupted")
            row.problems = problems
            row.context = contexts.get(row.response_id if row.response_id is not None else -1)
            if kind == "turn_completed":
                if agent_turns < len(retell):
                    row.retell_ms = retell[agent_turns]
                agent_turns += 1
        row.anchor = f"e{row.event_id}"
        rows.append(row)
    flagged = [r for r in rows if r.problems]
    for here, after in itertools.pairwise(flagged):
        here.next_problem = after.anchor
    return rows


def _resolve_prompts(contexts: dict[int, dict[str, Any]]) -> None:
    """Put the voice prompt back into the contexts that refer to an earlier turn's (the
    turn record writes it whole once per call)."""
    for rid, context in contexts.items():
        messages = context.get("messages")
        if not isinstance(messages, list) or not messages or "same_as" not in messages[0]:
            continue
        source = contexts.get(messages[0]["same_as"], {}).get("messages") or [{}]
        text = source[0].get("content") if isinstance(source[0], dict) else None
        contexts[rid] = {
            **context,
            "messages": [
                {
                    **messages[0],
                    "content": text or "(the voice prompt of an earlier turn, not kept)",
                },
                *messages[1:],
            ],
        }


def problem_anchors(rows: list[Row]) -> list[str]:
    return [r.anchor for r in rows if r.problems]
