"""The checks: a scenario's expectations against what the call did.

:func:`check_call` reads a :class:`~voiceops.evals.play.CallRecord` (what went over the
socket) and, from the runner's own server, the :class:`Evidence` the call left in the
database, and returns one :class:`CheckResult` per expectation. Deterministic checks only;
the LLM judge (``judge.py``) adds its verdicts later.

Each check has a level:

* ``protocol``: holds whatever the brain says (the reply came and closed, its first
  speakable frame within budget, clean speech, keepalives answered, no stale frames,
  transfers, holding lines, events written);
* ``content``: what the agent said and did (words, tools, bookings, read-backs), which a
  fake model cannot be asked to get right.

A check that cannot be applied (content under the fake model, database checks against a
server the runner does not own) is kept, marked as not applied with the reason, so a report
never passes over an expectation in silence.

Some checks are on for every turn unless a scenario turns them off: speech hygiene, the
latency budget, and per call, no stale frame, every keepalive answered, every scripted turn
played, and a read-back before any booking, move or cancellation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from voiceops.evals.loading import LoadedScenario
from voiceops.evals.play import CallRecord, TurnRecord
from voiceops.evals.results import Applicability, CheckResult, Checks, Evidence
from voiceops.evals.said import BOOKING_TOOLS, read_back_gaps
from voiceops.evals.scenario import (
    BookingExpect,
    CallbackExpect,
    CallExpect,
    EscalationExpect,
    TurnExpect,
)
from voiceops.evals.turnchecks import check_turn
from voiceops.store.evals import StoredBooking, StoredCallback, StoredEvent


def _booking_matches(expected: BookingExpect, actual: StoredBooking) -> bool:
    local = _local(actual.local_start)
    checks: list[bool] = []
    if expected.service is not None:
        checks.append(expected.service.lower() == actual.service.lower())
    if expected.date is not None:
        checks.append(local is not None and local.date() == expected.date)
    if expected.time is not None:
        checks.append(local is not None and local.time().replace(tzinfo=None) == expected.time)
    if expected.name is not None:
        checks.append(expected.name.strip().lower() == actual.customer_name.strip().lower())
    if expected.status is not None:
        checks.append(expected.status == actual.status)
    if expected.zone is not None:
        checks.append(expected.zone == actual.caller_zone)
    if expected.phone is not None:
        checks.append(expected.phone == actual.customer_phone)
    return all(checks)


def _local(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _show_booking(b: StoredBooking) -> str:
    local = _local(b.local_start)
    when = local.strftime("%Y-%m-%d %H:%M") if local else b.local_start
    return f"{b.service} {when} {b.customer_name} ({b.status}, {b.caller_zone})"


def _show_expected_booking(b: BookingExpect) -> str:
    parts = [
        str(v)
        for v in (b.service, b.date, b.time.strftime("%H:%M") if b.time else None, b.name)
        if v is not None
    ]
    if b.status:
        parts.append(f"({b.status})")
    return " ".join(parts) or "any booking"


def _callback_matches(expected: CallbackExpect, actual: StoredCallback) -> bool:
    if expected.name is not None and expected.name.lower() != actual.name.lower():
        return False
    if expected.phone is not None and expected.phone != actual.phone:
        return False
    if expected.reason is not None and expected.reason.lower() not in actual.reason.lower():
        return False
    return expected.priority is None or expected.priority == actual.priority


def _escalations(events: Sequence[StoredEvent]) -> list[dict[str, Any]]:
    """The call's escalations, one per decision: a transfer the brain's ``escalate`` tool
    asked for is recorded by the tool and again by the turn that carried it out."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for event in events:
        if event.event_type != "escalation":
            continue
        payload = event.payload
        key = (event.response_id, payload.get("trigger"), payload.get("outcome"))
        if key in seen:
            continue
        seen.add(key)
        out.append(payload)
    return out


def _escalation_matches(expected: EscalationExpect, payload: dict[str, Any]) -> bool:
    if expected.trigger is not None and expected.trigger != payload.get("trigger"):
        return False
    if expected.outcome is not None and expected.outcome != payload.get("outcome"):
        return False
    reason = str(payload.get("reason") or "")
    if expected.reason is not None and expected.reason.lower() not in reason.lower():
        return False
    number = payload.get("transfer_number") or payload.get("number")
    return expected.number is None or expected.number == number


def _assign(
    expected: Sequence[Any], actual: Sequence[Any], match: Callable[[Any, Any], bool]
) -> list[int]:
    """Indexes of ``expected`` left without a distinct match in ``actual`` (greedy)."""
    used: set[int] = set()
    missing = []
    for i, want in enumerate(expected):
        hit = next((j for j, got in enumerate(actual) if j not in used and match(want, got)), None)
        if hit is None:
            missing.append(i)
        else:
            used.add(hit)
    return missing


# --- the call -------------------------------------------------------------------------


def _check_protocol(out: Checks, record: CallRecord) -> None:
    if record.error:
        out.add("call", "socket", False, record.error, level="protocol")
    out.add(
        "call",
        "stale_frames",
        record.stale_frames == 0,
        f"{record.stale_frames} frames for a closed or superseded response"
        if record.stale_frames
        else "no frame for a closed or superseded response",
        level="protocol",
    )
    if record.bad_frames:
        out.add(
            "call",
            "frames",
            False,
            f"{len(record.bad_frames)} frames Retell could not read: {record.bad_frames[0]}",
            level="protocol",
        )
    out.add(
        "call",
        "keepalive",
        not record.unanswered_pings,
        f"{len(record.pings) - len(record.unanswered_pings)}/{len(record.pings)} keepalives "
        "answered",
        level="protocol",
    )
    played = record.played
    if played < record.scripted_turns:
        if record.ended_at is not None:
            detail = (
                f"the agent ended the call at turn {record.ended_at}; turns "
                f"{record.ended_at + 1} to {record.scripted_turns} were not played"
            )
        else:
            last = record.turns[-1].label if record.turns else "the start"
            detail = f"the call stopped at {last}; {record.scripted_turns - played} turns left"
        out.add("call", "all_turns", False, detail, level="protocol")


def _check_read_back(out: Checks, record: CallRecord, loaded: LoadedScenario) -> None:
    gaps_by_turn = []
    for turn in record.turns:
        for tool in turn.tools:
            if tool.name in BOOKING_TOOLS:
                gaps = read_back_gaps(tool, turn.previous_agent, loaded.profile)
                if gaps:
                    gaps_by_turn.append(f"{turn.label} {tool.name}: {', '.join(gaps)}")
    out.add(
        "call",
        "read_back_before_booking",
        not gaps_by_turn,
        "every booking, move and cancellation was read back first"
        if not gaps_by_turn
        else "; ".join(gaps_by_turn),
    )


def _check_evidence(
    out: Checks, loaded: LoadedScenario, record: CallRecord, evidence: Evidence | None
) -> None:
    """What the scenario expects the call to have left: the diary, callback requests,
    escalations, transfers and events."""
    want = loaded.scenario.after_call
    ev = evidence or Evidence()
    _check_diary(out, want, ev)
    _check_escalations(out, want, ev, record)
    if want.events is not None:
        _check_events(out, want.events, ev)


def _check_diary(out: Checks, want: CallExpect, ev: Evidence) -> None:
    if want.bookings is not None:
        missing = _assign(want.bookings, ev.bookings, _booking_matches)
        ok = not missing and len(ev.bookings) == len(want.bookings)
        actual = "; ".join(_show_booking(b) for b in ev.bookings) or "none"
        expected = "; ".join(_show_expected_booking(b) for b in want.bookings) or "none"
        out.add(
            "call",
            "bookings",
            ok,
            f"diary holds {expected}" if ok else f"expected {expected}; the diary holds {actual}",
            database=True,
        )
    if want.callbacks is not None:
        missing = _assign(want.callbacks, ev.callbacks, _callback_matches)
        ok = not missing and len(ev.callbacks) == len(want.callbacks)
        actual = "; ".join(f"{c.name} {c.phone} [{c.priority}] {c.reason!r}" for c in ev.callbacks)
        out.add(
            "call",
            "callbacks",
            ok,
            f"{len(ev.callbacks)} callback requests"
            + ("" if ok else f" (expected {len(want.callbacks)}): {actual or 'none'}"),
            database=True,
        )


def _check_escalations(out: Checks, want: CallExpect, ev: Evidence, record: CallRecord) -> None:
    escalations = _escalations(ev.events)
    if want.escalations is not None:
        ok = len(escalations) == len(want.escalations) and all(
            _escalation_matches(w, got)
            for w, got in zip(want.escalations, escalations, strict=False)
        )
        shown = "; ".join(
            f"{p.get('trigger')}->{p.get('outcome')} ({p.get('reason')})" for p in escalations
        )
        out.add(
            "call",
            "escalations",
            ok,
            f"escalations: {shown or 'none'}"
            + ("" if ok else f" (expected {len(want.escalations)} as listed)"),
            database=True,
        )
    if want.transfers is not None:
        count = sum(1 for t in record.turns if t.transfer_number)
        out.add(
            "call",
            "transfers",
            count == want.transfers,
            f"{count} transfers (expected {want.transfers})",
            level="protocol",
        )


def _check_events(out: Checks, wanted: list[str] | dict[str, int], ev: Evidence) -> None:
    counts: dict[str, int] = {}
    for event in ev.events:
        counts[event.event_type] = counts.get(event.event_type, 0) + 1
    if isinstance(wanted, list):
        absent = [t for t in wanted if not counts.get(t)]
        ok, detail = not absent, f"missing event types {absent}" if absent else "events written"
    else:
        wrong = {t: counts.get(t, 0) for t, n in wanted.items() if counts.get(t, 0) != n}
        ok = not wrong
        detail = "event counts as expected" if ok else f"expected {wanted}, got {wrong}"
    out.add("call", "events", ok, detail, level="protocol", database=True)


def check_call(
    loaded: LoadedScenario,
    record: CallRecord,
    evidence: Evidence | None,
    scope: Applicability,
) -> list[CheckResult]:
    """Every deterministic check of ``loaded`` against the call it played."""
    out = Checks(scope)
    scenario = loaded.scenario
    budget = scenario.budgets.first_frame_ms
    _check_protocol(out, record)
    for turn in record.turns:
        if turn.index == 0:
            if scenario.server.speak_first is False:
                continue
            expect = scenario.greeting or TurnExpect()
        else:
            expect = scenario.turns[turn.index - 1].expect
        check_turn(out, turn, expect, budget, evidence, loaded)
    if scenario.after_call.read_back_before_booking:
        _check_read_back(out, record, loaded)
    _check_evidence(out, loaded, record, evidence)
    return out.results


def judge_criteria(loaded: LoadedScenario, record: CallRecord) -> Iterable[tuple[TurnRecord, str]]:
    """The turns played that carry a ``judge`` criterion."""
    for turn in record.turns:
        if turn.index == 0:
            expect = loaded.scenario.greeting
        else:
            expect = loaded.scenario.turns[turn.index - 1].expect
        if expect is not None and expect.judge:
            yield turn, expect.judge
