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

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Literal

import emoji

from voiceops.core.profile import AgentProfile
from voiceops.evals.play import CallRecord, ToolSeen, TurnRecord
from voiceops.evals.scenario import (
    BookingExpect,
    CallbackExpect,
    EscalationExpect,
    LoadedScenario,
    ToolExpect,
    TransferExpect,
    TurnExpect,
)
from voiceops.store.evals import StoredBooking, StoredCallback, StoredEvent

Level = Literal["protocol", "content", "judge"]

BOOKING_TOOLS = frozenset({"book_appointment", "reschedule_appointment", "cancel_appointment"})
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HOUR_WORDS = (
    "twelve",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
)

# --- speech hygiene -------------------------------------------------------------------

_URL = re.compile(
    r"https?://\S+|\bwww\.\S+|\b[\w-]+\.(?:com|org|net|io|co|us|uk|dev|app|example)\b"
    r"|\b[\w.+-]+@[\w-]+\.[\w.]+",
    re.IGNORECASE,
)
_MARKDOWN = re.compile(
    r"\*\*|__|```|`|^\s{0,3}#{1,6}\s|^\s*[-*+\u2022]\s+\S|^\s*\d{1,3}[.)]\s+\S"
    r"|\[[^\]\n]*\]\([^)\n]*\)|^\s*>\s|^\s*\|.*\|\s*$|^\s*-{3,}\s*$",
    re.MULTILINE,
)
_SYMBOL = re.compile(r"[*#_`~|<>{}\[\]\\^=+@$\u20ac\u00a3%&]|(?<!\d)/|/(?!\d)")


def hygiene_problems(text: str) -> list[str]:
    """What in ``text`` a voice would read out badly: markdown, emoji, URLs, symbols."""
    problems: list[str] = []
    for match in _MARKDOWN.finditer(text):
        problems.append(f"markdown {match.group(0).strip()!r}")
    for match in _URL.finditer(text):
        problems.append(f"URL {match.group(0)!r}")
    for found in emoji.emoji_list(text):
        problems.append(f"emoji {found['emoji']!r}")
    without = _URL.sub(" ", _MARKDOWN.sub(" ", text))
    for match in _SYMBOL.finditer(without):
        problems.append(f"symbol {match.group(0)!r}")
    if "\n" in text:
        problems.append("a line break")
    return list(dict.fromkeys(problems))


def words_in(text: str) -> int:
    return len(text.split())


def sentences_in(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()])


# --- results --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckResult:
    where: str
    """``greeting``, ``turn 3`` or ``call``."""
    name: str
    passed: bool
    detail: str
    """What was expected and what was found."""
    level: Level = "content"
    applied: bool = True
    note: str = ""
    """Why a check was not applied, or a judge's reason."""

    @property
    def failed(self) -> bool:
        return self.applied and not self.passed


@dataclass(slots=True)
class Evidence:
    """What a call left in the runner's own server's database."""

    bookings: list[StoredBooking] = field(default_factory=list)
    callbacks: list[StoredCallback] = field(default_factory=list)
    events: list[StoredEvent] = field(default_factory=list)
    call_row: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Applicability:
    content: bool = True
    content_note: str = ""
    database: bool = True
    database_note: str = ""


class _Checks:
    """Collects results for one call."""

    def __init__(self, scope: Applicability) -> None:
        self.scope = scope
        self.results: list[CheckResult] = []

    def add(
        self,
        where: str,
        name: str,
        passed: bool,
        detail: str,
        *,
        level: Level = "content",
        database: bool = False,
    ) -> None:
        applied, note = True, ""
        if level == "content" and not self.scope.content:
            applied, note = False, self.scope.content_note
        elif database and not self.scope.database:
            applied, note = False, self.scope.database_note
        self.results.append(CheckResult(where, name, passed, detail, level, applied, note))


# --- matching helpers -----------------------------------------------------------------


def _has(text: str, phrase: str) -> bool:
    return phrase.lower() in text.lower()


def _values_match(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and isinstance(actual, str):
        return expected.strip().lower() == actual.strip().lower()
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(k in actual and _values_match(v, actual[k]) for k, v in expected.items())
    return bool(expected == actual)


def tool_matches(expected: ToolExpect, seen: ToolSeen) -> bool:
    if expected.name != seen.name:
        return False
    args = seen.arguments if isinstance(seen.arguments, dict) else {}
    if expected.match == "exact":
        return set(args) == set(expected.args) and _values_match(expected.args, args)
    return _values_match(expected.args, args)


def _show_tools(tools: Sequence[ToolSeen]) -> str:
    if not tools:
        return "no tool"
    return ", ".join(f"{t.name}({_compact(t.arguments)})" for t in tools)


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v!r}" for k, v in value.items())
    return repr(value)


def _quote(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "\u2026")


def clock_pattern(at: time) -> re.Pattern[str]:
    """How a read-back may say ``at``: ``3 PM``, ``3pm``, ``3:30 p.m.``, ``three``, ``noon``."""
    hour12 = at.hour % 12 or 12
    word = _HOUR_WORDS[at.hour % 12]
    minutes = rf":{at.minute:02d}" if at.minute else r"(?::00)?"
    options = [rf"\b{hour12}{minutes}\s*(?:a\.?m\.?|p\.?m\.?|o'?clock)?(?![\d:])"]
    if at.minute == 0:
        options.append(rf"\b{word}\b")
        if at.hour == 12:
            options.append(r"\bnoon\b")
    elif at.minute == 30:
        options.append(rf"\bhalf past {word}\b|\b{word} thirty\b")
    return re.compile("|".join(options), re.IGNORECASE)


def read_back_gaps(tool: ToolSeen, previous: str | None, profile: AgentProfile) -> list[str]:
    """What the agent's line before a booking, move or cancellation failed to read back."""
    if not previous:
        return ["nothing was read back before it"]
    args = tool.arguments if isinstance(tool.arguments, dict) else {}
    gaps: list[str] = []
    said = previous.lower()
    start_text = args.get("start") or args.get("new_start")
    if tool.name == "book_appointment":
        service = profile.service(str(args.get("service", "")))
        names = [service.name, *service.aliases] if service else [str(args.get("service", ""))]
        if not any(n.lower() in said for n in names if n):
            gaps.append(f"the service ({names[0]})")
        name = str(args.get("customer_name") or "").strip()
        if name and name.split()[0].lower() not in said:
            gaps.append(f"the name ({name})")
    if isinstance(start_text, str):
        try:
            start = datetime.fromisoformat(start_text)
        except ValueError:
            start = None
        if start is not None:
            weekday = _WEEKDAYS[start.weekday()]
            if weekday not in said:
                gaps.append(f"the day ({weekday.title()})")
            if not clock_pattern(start.time()).search(previous):
                gaps.append(f"the time ({start.strftime('%H:%M')})")
    if tool.name == "cancel_appointment" and "cancel" not in said:
        gaps.append("that it is a cancellation")
    if "?" not in previous:
        gaps.append("a question the caller could say yes to")
    return gaps


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


# --- turns ----------------------------------------------------------------------------


def _check_turn(
    out: _Checks,
    turn: TurnRecord,
    expect: TurnExpect,
    budget_ms: int,
    evidence: Evidence | None,
    loaded: LoadedScenario,
) -> None:
    where = turn.label
    text = turn.text
    if turn.timed_out or not turn.complete:
        out.add(where, "answered", False, "no complete reply (content_complete)", level="protocol")
        return
    out.add(where, "answered", True, "the reply closed with content_complete", level="protocol")
    limit = expect.first_frame_ms or budget_ms
    first = turn.first_frame_ms
    if first is None:
        out.add(where, "first_frame_ms", False, "nothing speakable was sent", level="protocol")
    else:
        out.add(
            where,
            "first_frame_ms",
            first <= limit,
            f"first speakable frame after {first:.0f} ms (budget {limit} ms)",
            level="protocol",
        )
    if expect.hygiene:
        problems = hygiene_problems(text)
        out.add(
            where,
            "hygiene",
            not problems,
            "clean speech" if not problems else f"{', '.join(problems)} in {_quote(text)}",
            level="protocol",
        )
    if expect.says:
        missing = [p for p in expect.says if not _has(text, p)]
        out.add(
            where,
            "says",
            not missing,
            f"says {expect.says}" if not missing else f"missing {missing} in {_quote(text)}",
        )
    if expect.says_any:
        hit = any(_has(text, p) for p in expect.says_any)
        out.add(
            where,
            "says_any",
            hit,
            f"says one of {expect.says_any}" + ("" if hit else f", got {_quote(text)}"),
        )
    if expect.matches:
        hit = re.search(expect.matches, text, re.IGNORECASE) is not None
        out.add(
            where,
            "matches",
            hit,
            f"matches /{expect.matches}/" + ("" if hit else f", got {_quote(text)}"),
        )
    if expect.never_says:
        said = [p for p in expect.never_says if _has(text, p)]
        out.add(
            where,
            "never_says",
            not said,
            f"never says {expect.never_says}" if not said else f"said {said} in {_quote(text)}",
        )
    if expect.never_matches:
        found = re.search(expect.never_matches, text, re.IGNORECASE)
        out.add(
            where,
            "never_matches",
            found is None,
            f"never matches /{expect.never_matches}/"
            + ("" if found is None else f", found {found.group(0)!r} in {_quote(text)}"),
        )
    if expect.calls:
        missing_calls = [
            e for e in expect.calls if not any(tool_matches(e, seen) for seen in turn.tools)
        ]
        wanted = ", ".join(f"{e.name}({_compact(e.args)})" for e in missing_calls)
        out.add(
            where,
            "calls",
            not missing_calls,
            "called " + ", ".join(e.name for e in expect.calls)
            if not missing_calls
            else f"expected {wanted}, got {_show_tools(turn.tools)}",
        )
    if expect.no_calls is not None and expect.no_calls is not False:
        if expect.no_calls is True:
            bad = list(turn.tools)
        else:
            bad = [t for t in turn.tools if t.name in expect.no_calls]
        out.add(
            where,
            "no_calls",
            not bad,
            "no tool called" if not bad else f"called {_show_tools(bad)}",
        )
    if expect.transfer is not None:
        _check_transfer(out, turn, expect, evidence)
    if expect.ends_call is not None:
        out.add(
            where,
            "ends_call",
            turn.end_call == expect.ends_call,
            ("hangs up" if expect.ends_call else "does not hang up")
            + ("" if turn.end_call == expect.ends_call else f", got end_call={turn.end_call}"),
        )
    if expect.read_back:
        booking = [t for t in turn.tools if t.name in BOOKING_TOOLS]
        if not booking:
            out.add(where, "read_back", False, "no booking, move or cancellation in this turn")
        else:
            gaps = [
                g for t in booking for g in read_back_gaps(t, turn.previous_agent, loaded.profile)
            ]
            out.add(
                where,
                "read_back",
                not gaps,
                "read back before it was done"
                if not gaps
                else f"the line before did not read back {', '.join(gaps)}: "
                f"{_quote(turn.previous_agent or '')}",
            )
    if expect.max_words is not None:
        count = words_in(text)
        out.add(
            where,
            "max_words",
            count <= expect.max_words,
            f"{count} words (at most {expect.max_words})",
        )
    if expect.max_sentences is not None:
        count = sentences_in(text)
        out.add(
            where,
            "max_sentences",
            count <= expect.max_sentences,
            f"{count} sentences (at most {expect.max_sentences})",
        )
    if expect.filler is not None:
        spoke = turn.filler is not None
        out.add(
            where,
            "filler",
            spoke == expect.filler,
            (f"opened with the holding line {turn.filler!r}" if spoke else "no holding line")
            + ("" if spoke == expect.filler else f" (expected filler={expect.filler})"),
            level="protocol",
        )


def _check_transfer(
    out: _Checks, turn: TurnRecord, expect: TurnExpect, evidence: Evidence | None
) -> None:
    where = turn.label
    want = expect.transfer
    number = turn.transfer_number
    if want is False:
        out.add(
            where,
            "transfer",
            number is None,
            "no transfer" if number is None else f"transferred to {number}",
            level="protocol",
        )
        return
    if number is None:
        out.add(where, "transfer", False, "expected a transfer, got none", level="protocol")
        return
    detail = want if isinstance(want, TransferExpect) else TransferExpect()
    ok = detail.number is None or detail.number == number
    out.add(
        where,
        "transfer",
        ok,
        f"transferred to {number}" + ("" if ok else f" (expected {detail.number})"),
        level="protocol",
    )
    if detail.reason is not None:
        reason = detail.reason
        recorded = [
            str(e.payload.get("reason") or "")
            for e in (evidence.events if evidence is not None else [])
            if e.event_type == "escalation" and e.response_id == turn.response_id
        ]
        hit = any(reason.lower() in r.lower() for r in recorded)
        out.add(
            where,
            "transfer.reason",
            hit,
            f"escalation reason contains {reason!r}" + ("" if hit else f", recorded {recorded}"),
            level="protocol",
            database=True,
        )
    if not turn.no_interruption_allowed:
        out.add(
            where,
            "transfer.uninterruptible",
            False,
            "the transfer line can be talked over (no_interruption_allowed is not set)",
            level="protocol",
        )


# --- the call -------------------------------------------------------------------------


def _check_protocol(out: _Checks, record: CallRecord) -> None:
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


def _check_read_back(out: _Checks, record: CallRecord, loaded: LoadedScenario) -> None:
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
    out: _Checks, loaded: LoadedScenario, record: CallRecord, evidence: Evidence | None
) -> None:
    want = loaded.scenario.after_call
    ev = evidence or Evidence()
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
    if want.events is not None:
        counts: dict[str, int] = {}
        for event in ev.events:
            counts[event.event_type] = counts.get(event.event_type, 0) + 1
        if isinstance(want.events, list):
            absent = [t for t in want.events if not counts.get(t)]
            ok, detail = not absent, f"missing event types {absent}" if absent else "events written"
        else:
            wrong = {t: counts.get(t, 0) for t, n in want.events.items() if counts.get(t, 0) != n}
            ok = not wrong
            detail = "event counts as expected" if ok else f"expected {want.events}, got {wrong}"
        out.add("call", "events", ok, detail, level="protocol", database=True)


def check_call(
    loaded: LoadedScenario,
    record: CallRecord,
    evidence: Evidence | None,
    scope: Applicability,
) -> list[CheckResult]:
    """Every deterministic check of ``loaded`` against the call it played."""
    out = _Checks(scope)
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
        _check_turn(out, turn, expect, budget, evidence, loaded)
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
