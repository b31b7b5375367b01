"""The checks of one turn: what a scenario's turn expects against what the agent sent
for it (answered and closed, first speakable frame within budget, clean speech, words,
tools, transfers, read-backs, length, holding lines)."""

from __future__ import annotations

import re

from voiceops.evals.loading import LoadedScenario
from voiceops.evals.play import TurnRecord
from voiceops.evals.results import Checks, Evidence
from voiceops.evals.said import (
    BOOKING_TOOLS,
    compact,
    has_phrase,
    hygiene_problems,
    quote,
    read_back_gaps,
    sentences_in,
    show_tools,
    tool_matches,
    words_in,
)
from voiceops.evals.scenario import TransferExpect, TurnExpect


def check_turn(
    out: Checks,
    turn: TurnRecord,
    expect: TurnExpect,
    budget_ms: int,
    evidence: Evidence | None,
    loaded: LoadedScenario,
) -> None:
    """Every expectation of ``expect`` against ``turn``; a turn that never closed fails
    ``answered`` and nothing else is checked."""
    where = turn.label
    if turn.timed_out or not turn.complete:
        out.add(where, "answered", False, "no complete reply (content_complete)", level="protocol")
        return
    out.add(where, "answered", True, "the reply closed with content_complete", level="protocol")
    _first_frame(out, turn, expect, budget_ms)
    _words(out, turn, expect)
    _tools(out, turn, expect)
    if expect.transfer is not None:
        check_transfer(out, turn, expect, evidence)
    if expect.ends_call is not None:
        out.add(
            turn.label,
            "ends_call",
            turn.end_call == expect.ends_call,
            ("hangs up" if expect.ends_call else "does not hang up")
            + ("" if turn.end_call == expect.ends_call else f", got end_call={turn.end_call}"),
        )
    if expect.read_back:
        _read_back(out, turn, loaded)
    _shape(out, turn, expect)


def _first_frame(out: Checks, turn: TurnRecord, expect: TurnExpect, budget_ms: int) -> None:
    where = turn.label
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


def _words(out: Checks, turn: TurnRecord, expect: TurnExpect) -> None:
    """Speech hygiene and the words the turn must or must not say."""
    where, text = turn.label, turn.text
    if expect.hygiene:
        problems = hygiene_problems(text)
        out.add(
            where,
            "hygiene",
            not problems,
            "clean speech" if not problems else f"{', '.join(problems)} in {quote(text)}",
            level="protocol",
        )
    if expect.says:
        missing = [p for p in expect.says if not has_phrase(text, p)]
        out.add(
            where,
            "says",
            not missing,
            f"says {expect.says}" if not missing else f"missing {missing} in {quote(text)}",
        )
    if expect.says_any:
        hit = any(has_phrase(text, p) for p in expect.says_any)
        out.add(
            where,
            "says_any",
            hit,
            f"says one of {expect.says_any}" + ("" if hit else f", got {quote(text)}"),
        )
    if expect.matches:
        hit = re.search(expect.matches, text, re.IGNORECASE) is not None
        out.add(
            where,
            "matches",
            hit,
            f"matches /{expect.matches}/" + ("" if hit else f", got {quote(text)}"),
        )
    if expect.never_says:
        said = [p for p in expect.never_says if has_phrase(text, p)]
        out.add(
            where,
            "never_says",
            not said,
            f"never says {expect.never_says}" if not said else f"said {said} in {quote(text)}",
        )
    if expect.never_matches:
        found = re.search(expect.never_matches, text, re.IGNORECASE)
        out.add(
            where,
            "never_matches",
            found is None,
            f"never matches /{expect.never_matches}/"
            + ("" if found is None else f", found {found.group(0)!r} in {quote(text)}"),
        )


def _tools(out: Checks, turn: TurnRecord, expect: TurnExpect) -> None:
    where = turn.label
    if expect.calls:
        missing_calls = [
            e for e in expect.calls if not any(tool_matches(e, seen) for seen in turn.tools)
        ]
        wanted = ", ".join(f"{e.name}({compact(e.args)})" for e in missing_calls)
        out.add(
            where,
            "calls",
            not missing_calls,
            "called " + ", ".join(e.name for e in expect.calls)
            if not missing_calls
            else f"expected {wanted}, got {show_tools(turn.tools)}",
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
            "no tool called" if not bad else f"called {show_tools(bad)}",
        )


def _shape(out: Checks, turn: TurnRecord, expect: TurnExpect) -> None:
    """Length in words and sentences, the holding line."""
    where, text = turn.label, turn.text
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


def _read_back(out: Checks, turn: TurnRecord, loaded: LoadedScenario) -> None:
    """The line before this turn's booking, move or cancellation read its details back."""
    where = turn.label
    booking = [t for t in turn.tools if t.name in BOOKING_TOOLS]
    if not booking:
        out.add(where, "read_back", False, "no booking, move or cancellation in this turn")
    else:
        gaps = [g for t in booking for g in read_back_gaps(t, turn.previous_agent, loaded.profile)]
        out.add(
            where,
            "read_back",
            not gaps,
            "read back before it was done"
            if not gaps
            else f"the line before did not read back {', '.join(gaps)}: "
            f"{quote(turn.previous_agent or '')}",
        )


def check_transfer(
    out: Checks, turn: TurnRecord, expect: TurnExpect, evidence: Evidence | None
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
