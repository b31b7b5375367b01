"""``voiceops eval --from-call CALL_ID``: yesterday's call as tomorrow's regression test.

:func:`scenario_from_call` reads a stored call from the database (its row, with the
transcript Retell sent in the ``call_ended`` webhook, and its events) and writes it as a
scenario: the call's set-up (the server's clock pinned at the call's start, the caller's
number, zone, metadata and dynamic variables), the caller's turns as they were said, and as
each turn's expectations what the agent did then (the tools it called with their stable
arguments, or none; the transfer; the hang-up). The agent's words then are kept as each
turn's ``note``. Bookings the agent found for the caller are seeded as they were when it
found them, and the diary the call left (what it booked, the found bookings as they are now)
is the expected one.

The expectations record what happened, not what should have: edit them into what a good
receptionist does, and the file joins the suite. :func:`differences` then lists, turn by
turn, where today's agent answers differently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from voiceops.core.profile import AgentProfile
from voiceops.evals.outcome import ScenarioResult
from voiceops.evals.play import TurnRecord
from voiceops.store.db import Database
from voiceops.store.evals import StoredBooking, StoredEvent, read_bookings, read_call, read_events

STABLE_ARGUMENTS = frozenset(
    {"service", "date", "time", "start", "new_start", "customer_name", "days", "priority"}
)
"""Arguments kept in the expectations; ids and free text differ on every run."""
_TEXT_LINE = re.compile(r"^\s*(agent|user|caller)\s*:\s*(.*)$", re.IGNORECASE)


class CallNotFound(Exception):
    """The call is not in the database, or has nothing to replay."""


@dataclass(slots=True)
class _Turn:
    caller: str
    agent: list[str] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    ends_call: bool = False


def _entries(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The woven transcript, or one rebuilt from the plain-text one."""
    entries = row.get("transcript_entries")
    if isinstance(entries, list) and entries:
        return [e for e in entries if isinstance(e, dict)]
    text = row.get("transcript")
    if not isinstance(text, str) or not text.strip():
        return []
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        match = _TEXT_LINE.match(line)
        if match is None:
            if out and line.strip():
                out[-1]["content"] += " " + line.strip()
            continue
        role = "agent" if match.group(1).lower() == "agent" else "user"
        out.append({"role": role, "content": match.group(2).strip()})
    return out


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _turns(entries: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[_Turn], list[Any]]:
    """(greeting lines, caller turns, find_booking results) from the woven transcript."""
    greeting: list[str] = []
    turns: list[_Turn] = []
    found: list[Any] = []
    names: dict[str, str] = {}
    for entry in entries:
        role = entry.get("role")
        content = str(entry.get("content") or "").strip()
        if role == "user":
            if turns and not turns[-1].agent and not turns[-1].calls:
                turns[-1].caller = f"{turns[-1].caller} {content}".strip()
            else:
                turns.append(_Turn(caller=content))
        elif role == "agent":
            (turns[-1].agent if turns else greeting).append(content)
        elif role == "tool_call_invocation" and turns:
            name = str(entry.get("name") or "")
            names[str(entry.get("tool_call_id"))] = name
            args = {
                k: v for k, v in _arguments(entry.get("arguments")).items() if k in STABLE_ARGUMENTS
            }
            if name == "end_call":
                turns[-1].ends_call = True
            turns[-1].calls.append({"name": name, **({"args": args} if args else {})})
        elif role == "tool_call_result":
            if names.get(str(entry.get("tool_call_id"))) == "find_booking":
                result = _arguments(entry.get("content"))
                found.extend(result.get("bookings") or [])
    return greeting, [t for t in turns if t.caller], found


def _local_iso(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).replace(tzinfo=None).isoformat(timespec="minutes")


def _seeds(found: Sequence[Any], zone: ZoneInfo, phone: str | None) -> dict[str, dict[str, Any]]:
    """Bookings the agent found, by id, as they were when it found them."""
    seeds: dict[str, dict[str, Any]] = {}
    for view in found:
        if not isinstance(view, dict) or not view.get("booking_id"):
            continue
        try:
            start = datetime.fromisoformat(str(view["start_utc"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            continue
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        seed: dict[str, Any] = {
            "service": str(view.get("service") or ""),
            "start": _local_iso(start, zone),
            "name": str(view.get("customer_name") or "caller"),
        }
        if phone:
            seed["phone"] = phone
        seeds.setdefault(str(view["booking_id"]), seed)
    return seeds


def _booking_expect(booking: StoredBooking) -> dict[str, Any]:
    local = datetime.fromisoformat(booking.local_start)
    return {
        "service": booking.service,
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "name": booking.customer_name,
        "status": booking.status,
    }


async def scenario_from_call(
    db: Database, call_id: str, profile: AgentProfile
) -> tuple[str, dict[str, Any]]:
    """The stored call ``call_id`` as a scenario: (file text, parsed data)."""
    row = await read_call(db, call_id)
    if row is None:
        raise CallNotFound(f"no call {call_id!r} in the database")
    greeting, turns, found = _turns(_entries(row))
    if not turns:
        raise CallNotFound(
            f"call {call_id!r} has no caller turns stored: the transcript comes with Retell's "
            "call_ended webhook (see README, webhooks)"
        )
    events = await read_events(db, call_id)
    data: dict[str, Any] = {
        "name": f"from_call_{re.sub(r'[^A-Za-z0-9_]+', '_', call_id)}",
        "description": f"Recorded from call {call_id}. The expectations are what the agent did "
        "then: edit them into what it should have done.",
        "tags": ["recorded"],
    }
    call = _call_setup(row, events, profile)
    if call:
        data["call"] = call
    seeds = _seeds(found, profile.zone, row.get("from_number"))
    if seeds:
        data["setup"] = {"bookings": list(seeds.values())}
    data["turns"] = _scripted(turns, _transfer_number(row, events))
    # The diary after the call: what the call made, and the found bookings as they are now
    # (moved or cancelled by the call, or not). One that is gone leaves the diary unknown.
    diary = {b.booking_id: b for b in await read_bookings(db)}
    after = [_booking_expect(b) for b in diary.values() if b.call_id == call_id]
    if all(booking_id in diary for booking_id in seeds):
        after += [_booking_expect(diary[booking_id]) for booking_id in seeds]
        data["after_call"] = {"bookings": after}
    if greeting and greeting[0]:
        data["greeting"] = {"says": [greeting[0][:60]]}
    header = (
        f"# Recorded from call {call_id} by `voiceops eval --from-call`.\n"
        "# Each turn's expectations are what the agent did then, and its words are in\n"
        "# `note`. Edit the expectations into what a good receptionist would do.\n"
    )
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=96)
    return header + body, data


def _call_setup(
    row: dict[str, Any], events: Sequence[StoredEvent], profile: AgentProfile
) -> dict[str, Any]:
    """The scenario's ``call:`` section: when it started, numbers, metadata, variables."""
    started = row.get("started_at")
    if not isinstance(started, datetime):
        connected = [e.created_at for e in events if e.event_type == "call_connected"]
        started = connected[0] if connected else None
    call: dict[str, Any] = {}
    if isinstance(started, datetime):
        call["now"] = _local_iso(started, profile.zone)
        call["now_zone"] = profile.business_zone
    for key in ("from_number", "to_number", "direction"):
        if row.get(key):
            call[key] = row[key]
    metadata = row.get("call_metadata")
    if isinstance(metadata, dict) and metadata:
        call["metadata"] = metadata
    variables = row.get("dynamic_variables")
    if isinstance(variables, dict) and variables:
        call["dynamic_variables"] = {str(k): str(v) for k, v in variables.items()}
    if row.get("caller_zone") and not (
        isinstance(metadata, dict) and metadata.get("caller_timezone")
    ):
        call["caller_zone"] = row["caller_zone"]
    return call


def _transfer_number(row: dict[str, Any], events: Sequence[StoredEvent]) -> str | None:
    """Where the call was transferred: Retell's record, else the escalation events."""
    escalated = [
        e.payload.get("transfer_number")
        for e in events
        if e.event_type == "escalation" and e.payload.get("outcome") == "transfer"
    ]
    number = row.get("transfer_destination") or next((n for n in escalated if n), None)
    return str(number) if number else None


def _scripted(turns: Sequence[_Turn], number: str | None) -> list[dict[str, Any]]:
    """The caller's turns, each expecting what the agent did then (its words as a note)."""
    scripted: list[dict[str, Any]] = []
    for index, turn in enumerate(turns):
        expect: dict[str, Any] = {}
        if turn.calls:
            expect["calls"] = turn.calls
        else:
            expect["no_calls"] = True
        if index == len(turns) - 1 and number:
            expect["transfer"] = {"number": number}
        if turn.ends_call:
            expect["ends_call"] = True
        said = " ".join(turn.agent).strip()
        item: dict[str, Any] = {"caller": turn.caller}
        if said:
            item["note"] = f"then: {said}"
        item["expect"] = expect
        scripted.append(item)
    return scripted


@dataclass(frozen=True, slots=True)
class TurnDifference:
    label: str
    caller: str | None
    then: str
    today: str
    today_tools: str
    failures: list[str]


def _recorded(note: str | None) -> str:
    if note and note.startswith("then: "):
        return note[len("then: ") :]
    return ""


def _tools(turn: TurnRecord) -> str:
    return ", ".join(t.name for t in turn.tools) or "no tool"


def differences(result: ScenarioResult) -> list[TurnDifference]:
    """Turns where today's agent did or said something other than the recorded call."""
    if result.record is None:
        return []
    out = []
    for turn in result.record.turns:
        if turn.index == 0:
            continue
        then = _recorded(result.loaded.scenario.turns[turn.index - 1].note)
        failures = [f"{c.name}: {c.detail}" for c in result.failures if c.where == turn.label]
        if failures or _words(then) != _words(turn.text):
            out.append(
                TurnDifference(turn.label, turn.caller, then, turn.text, _tools(turn), failures)
            )
    played = len(result.record.turns) - 1
    for index in range(played + 1, len(result.loaded.scenario.turns) + 1):
        scripted = result.loaded.scenario.turns[index - 1]
        out.append(
            TurnDifference(
                f"turn {index}",
                scripted.caller,
                _recorded(scripted.note),
                "(not reached: the call ended earlier)",
                "",
                [],
            )
        )
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())
