"""The checks, on calls recorded by hand: each one passes when it should and can fail."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from tests.evals.support import record, scenario, turn
from voiceops.evals.checks import check_call
from voiceops.evals.fakellm import BAIT
from voiceops.evals.loading import LoadedScenario
from voiceops.evals.play import CallRecord, ToolSeen
from voiceops.evals.results import Applicability, CheckResult, Evidence
from voiceops.evals.said import clock_pattern, hygiene_problems, sentences_in
from voiceops.speech import clean
from voiceops.store.evals import StoredBooking, StoredCallback, StoredEvent

ALL = Applicability()
CONFIRM = "Just to confirm, a haircut on Wednesday, December 9th at 3 PM for Dana. Shall I book it?"
BOOK = ToolSeen(
    "book_appointment",
    {"service": "haircut", "start": "2026-12-09T15:00", "customer_name": "Dana"},
)


def run(
    loaded: LoadedScenario,
    call: CallRecord,
    evidence: Evidence | None = None,
    scope: Applicability = ALL,
) -> list[CheckResult]:
    return check_call(loaded, call, evidence or Evidence(), scope)


def failed(results: list[CheckResult]) -> dict[str, str]:
    return {f"{c.where}:{c.name}": c.detail for c in results if c.failed}


def one_turn(tmp_path: Path, expect: str) -> LoadedScenario:
    body = "turns:\n  - caller: hi\n    expect:\n" + "".join(
        f"      {line}\n" for line in textwrap.dedent(expect).strip().splitlines()
    )
    return scenario(tmp_path, body + "after_call: {read_back_before_booking: false}\n")


# --- speech hygiene -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("**Sure!** we can", "markdown"),
        ("Here:\n- a haircut", "markdown"),
        ("Great 😊", "emoji"),
        ("See https://maple.example/prices", "URL"),
        ("email book@maple.com", "URL"),
        ("It costs $45", "symbol '$'"),
        ("20% off", "symbol '%'"),
        ("hair & beauty", "symbol '&'"),
        ("[book](now)", "markdown"),
    ],
)
def test_hygiene_finds_what_a_voice_would_read_badly(text: str, problem: str) -> None:
    assert any(problem in p for p in hygiene_problems(text)), hygiene_problems(text)


@pytest.mark.parametrize(
    "text",
    [
        "Good news, that time is free. It's 9:30 AM on Friday, December 11th.",
        "We're open 24/7, and a colour is 120 dollars.",
        "Connecting you with the front desk now.",
    ],
)
def test_hygiene_passes_plain_speech(text: str) -> None:
    assert hygiene_problems(text) == []


@pytest.mark.parametrize("bait", BAIT)
def test_what_the_speech_filter_emits_for_the_bait_is_clean(bait: str) -> None:
    # The fake model's replies are dirty on purpose; what the server sends must not be.
    assert hygiene_problems(bait), "the bait must be dirty"
    assert hygiene_problems(clean(bait)) == [], clean(bait)


def test_clock_pattern_accepts_the_ways_a_time_is_said() -> None:
    pattern = clock_pattern(time(15, 0))
    for said in ("3 PM", "3pm", "3:00 p.m.", "three o'clock"):
        assert pattern.search(said), said
    assert not pattern.search("13 PM") and not pattern.search("3:30 PM")
    assert clock_pattern(time(12, 0)).search("at noon")
    assert clock_pattern(time(9, 30)).search("half past nine")


def test_sentences_are_counted() -> None:
    assert sentences_in("One. Two? Three!") == 3
    assert sentences_in("Just one") == 1


# --- per turn -------------------------------------------------------------------------


def test_every_turn_expectation_passes_on_a_good_reply(tmp_path: Path) -> None:
    loaded = one_turn(
        tmp_path,
        """
        says: [haircut, Wednesday]
        says_any: [booked, all set]
        matches: '\\b3 PM\\b'
        never_says: [pizza]
        never_matches: '\\barr\\b'
        calls: [{name: book_appointment, args: {service: Haircut}}]
        transfer: false
        ends_call: false
        read_back: true
        max_words: 25
        max_sentences: 3
        first_frame_ms: 500
        filler: false
        """,
    )
    reply = "You're all set. Your haircut is booked for Wednesday at 3 PM. We'll arrange it."
    results = run(loaded, record(turn(1, reply, tools=[BOOK], previous=CONFIRM)))
    assert failed(results) == {}
    assert {c.name for c in results} >= {"says", "calls", "read_back", "hygiene", "filler"}


@pytest.mark.parametrize(
    ("expect", "reply", "check"),
    [
        ("says: [colour]", "A haircut.", "says"),
        ("says_any: [colour, beard]", "A haircut.", "says_any"),
        ("matches: '\\d PM'", "At noon.", "matches"),
        ("never_says: [haircut]", "A Haircut.", "never_says"),
        ("never_matches: '\\barr\\b'", "Arr, matey.", "never_matches"),
        ("max_words: 3", "one two three four", "max_words"),
        ("max_sentences: 1", "One. Two.", "max_sentences"),
        ("first_frame_ms: 10", "Slow.", "first_frame_ms"),
        ("hygiene: true", "**Bold**", "hygiene"),
        ("ends_call: true", "Bye.", "ends_call"),
        ("filler: true", "Hello.", "filler"),
    ],
)
def test_each_text_check_can_fail(tmp_path: Path, expect: str, reply: str, check: str) -> None:
    loaded = one_turn(tmp_path, expect)
    assert f"turn 1:{check}" in failed(run(loaded, record(turn(1, reply))))


def test_no_speakable_frame_fails_the_latency_budget(tmp_path: Path) -> None:
    loaded = one_turn(tmp_path, "says_any: [x, y]")
    results = failed(run(loaded, record(turn(1, "", first_ms=None))))
    assert "nothing speakable" in results["turn 1:first_frame_ms"]


def test_a_reply_that_never_closed_fails_and_stops_the_turn_checks(tmp_path: Path) -> None:
    loaded = one_turn(tmp_path, "says: [x]")
    open_reply = turn(1, "partial")
    open_reply.complete = False
    results = failed(run(loaded, record(open_reply)))
    assert "turn 1:answered" in results and "turn 1:says" not in results


@pytest.mark.parametrize(
    ("expect", "tools", "check"),
    [
        ("calls: [{name: book_appointment}]", [], "calls"),
        (
            "calls: [{name: book_appointment, args: {start: '2026-12-10T15:00'}}]",
            [BOOK],
            "calls",
        ),
        (
            "calls: [{name: book_appointment, args: {service: haircut}, match: exact}]",
            [BOOK],
            "calls",
        ),
        ("no_calls: true", [ToolSeen("check_availability", {})], "no_calls"),
        ("no_calls: [book_appointment]", [BOOK], "no_calls"),
    ],
)
def test_each_tool_check_can_fail(
    tmp_path: Path, expect: str, tools: list[ToolSeen], check: str
) -> None:
    loaded = one_turn(tmp_path, expect)
    assert f"turn 1:{check}" in failed(run(loaded, record(turn(1, "Done.", tools=tools))))


def test_exact_arguments_pass_when_they_are_exactly_these(tmp_path: Path) -> None:
    loaded = one_turn(
        tmp_path,
        "calls: [{name: book_appointment, match: exact, args: "
        "{service: haircut, start: '2026-12-09T15:00', customer_name: dana}}]",
    )
    assert failed(run(loaded, record(turn(1, "Done.", tools=[BOOK])))) == {}


def test_read_back_fails_when_the_line_before_left_something_out(tmp_path: Path) -> None:
    loaded = one_turn(tmp_path, "read_back: true")
    vague = "Good news, that time is free. Shall I book it?"
    detail = failed(run(loaded, record(turn(1, "Booked.", tools=[BOOK], previous=vague))))
    assert "the service (haircut)" in detail["turn 1:read_back"]
    assert "the day (Wednesday)" in detail["turn 1:read_back"]
    assert "the time (15:00)" in detail["turn 1:read_back"]
    nothing = failed(run(loaded, record(turn(1, "Booked.", tools=[]))))
    assert "no booking" in nothing["turn 1:read_back"]


def test_a_booking_without_a_read_back_fails_the_call_by_default(tmp_path: Path) -> None:
    loaded = scenario(tmp_path, "turns: [{caller: yes}]\n")
    results = failed(run(loaded, record(turn(1, "Booked.", tools=[BOOK], previous="Hi!"))))
    assert "call:read_back_before_booking" in results
    assert failed(run(loaded, record(turn(1, "Booked.", tools=[BOOK], previous=CONFIRM)))) == {}


def test_transfer_checks(tmp_path: Path) -> None:
    wanted = one_turn(tmp_path, "transfer: {number: '+12125550144'}")
    assert "turn 1:transfer" in failed(run(wanted, record(turn(1, "Hi."))))
    assert "turn 1:transfer" in failed(
        run(wanted, record(turn(1, "Connecting.", transfer="+12125550143")))
    )
    assert failed(run(wanted, record(turn(1, "Connecting.", transfer="+12125550144")))) == {}
    talked_over = failed(
        run(wanted, record(turn(1, "Connecting.", transfer="+12125550144", uninterruptible=False)))
    )
    assert "turn 1:transfer.uninterruptible" in talked_over
    none = one_turn(tmp_path, "transfer: false")
    assert "turn 1:transfer" in failed(run(none, record(turn(1, "Bye.", transfer="+1212555"))))


def test_a_transfer_reason_is_read_from_the_escalation_event(tmp_path: Path) -> None:
    loaded = one_turn(tmp_path, "transfer: {reason: billing}")
    call = record(turn(1, "Connecting.", transfer="+12125550144"))
    at = datetime(2026, 12, 8, tzinfo=UTC)

    def event(reason: str) -> StoredEvent:
        return StoredEvent("escalation", 1, 1, None, None, {"reason": reason}, at)

    assert "turn 1:transfer.reason" in failed(
        run(loaded, call, Evidence(events=[event("caller asked for a person")]))
    )
    assert failed(run(loaded, call, Evidence(events=[event("billing question")]))) == {}


# --- per call -------------------------------------------------------------------------


def test_protocol_checks_of_the_call(tmp_path: Path) -> None:
    loaded = scenario(tmp_path, "turns: [{caller: a}, {caller: b}]\n")
    call = record(turn(1, "Hi.", transfer="+12125550143"), scripted=2)
    call.stale_frames = 2
    call.unanswered_pings = [2]
    call.bad_frames = ["ValueError: nope"]
    results = failed(run(loaded, call))
    assert "turns 2 to 2 were not played" in results["call:all_turns"]
    assert "2 frames" in results["call:stale_frames"]
    assert "1/2 keepalives" in results["call:keepalive"]
    assert "call:frames" in results


def test_frames_racing_a_barge_in_are_not_stale(tmp_path: Path) -> None:
    loaded = scenario(tmp_path, "turns: [{caller: a}]\n")
    call = record(turn(1, "Hi."))
    call.raced_frames = 3
    assert failed(run(loaded, call)) == {}


def booking(service: str, local: str, name: str, status: str = "confirmed") -> StoredBooking:
    return StoredBooking("b1", "c", service, name, None, local, "America/New_York", status)


def test_bookings_must_be_exactly_the_diary(tmp_path: Path) -> None:
    loaded = scenario(
        tmp_path,
        """
        turns: [{caller: a}]
        after_call:
          bookings:
            - {service: haircut, date: 2026-12-09, time: "15:00", name: Dana, status: confirmed}
        """,
    )
    call = record(turn(1, "Hi."))
    good = booking("haircut", "2026-12-09T15:00:00-05:00", "dana")
    assert failed(run(loaded, call, Evidence(bookings=[good]))) == {}
    wrong_time = booking("haircut", "2026-12-09T14:00:00-05:00", "Dana")
    assert "call:bookings" in failed(run(loaded, call, Evidence(bookings=[wrong_time])))
    assert "call:bookings" in failed(run(loaded, call, Evidence(bookings=[good, good])))
    assert "call:bookings" in failed(run(loaded, call, Evidence(bookings=[])))


def test_callbacks_escalations_transfers_and_events(tmp_path: Path) -> None:
    loaded = scenario(
        tmp_path,
        """
        turns: [{caller: a}]
        after_call:
          callbacks: [{name: Maria, reason: colour, priority: medium}]
          escalations: [{trigger: phrase, outcome: callback}]
          transfers: 0
          events: {escalation: 1}
        """,
    )
    at = datetime(2026, 12, 8, tzinfo=UTC)
    escalation = StoredEvent(
        "escalation", 1, 1, None, None, {"trigger": "phrase", "outcome": "callback"}, at
    )
    good = Evidence(
        callbacks=[StoredCallback("c", "Maria", "+1", "asked: a colour", "medium")],
        events=[escalation],
    )
    call = record(turn(1, "Hi."))
    assert failed(run(loaded, call, good)) == {}
    transfer = StoredEvent(
        "escalation", 2, 2, None, None, {"trigger": "phrase", "outcome": "transfer"}, at
    )
    bad = Evidence(
        callbacks=[StoredCallback("c", "Maria", "+1", "billing", "medium")],
        events=[escalation, transfer],
    )
    results = failed(run(loaded, record(turn(1, "Hi.", transfer="+1")), bad))
    assert {"call:callbacks", "call:escalations", "call:transfers", "call:events"} <= set(results)


def test_events_as_a_list_must_all_be_present(tmp_path: Path) -> None:
    loaded = scenario(tmp_path, "turns: [{caller: a}]\nafter_call: {events: [tool_run]}\n")
    assert "call:events" in failed(run(loaded, record(turn(1, "Hi."))))


def test_content_checks_are_kept_but_not_applied_against_the_fake_model(tmp_path: Path) -> None:
    loaded = one_turn(tmp_path, "says: [colour]\ntransfer: false")
    scope = Applicability(content=False, content_note="fake model")
    results = run(loaded, record(turn(1, "A haircut.")), scope=scope)
    says = next(c for c in results if c.name == "says")
    assert not says.applied and says.note == "fake model" and not says.failed
    transfer = next(c for c in results if c.name == "transfer")
    assert transfer.applied, "transfers are protocol-level"


def test_database_checks_are_not_applied_against_a_server_we_do_not_own(tmp_path: Path) -> None:
    loaded = scenario(tmp_path, "turns: [{caller: a}]\nafter_call: {bookings: []}\n")
    scope = Applicability(database=False, database_note="needs our server")
    results = check_call(loaded, record(turn(1, "Hi.")), None, scope)
    bookings = next(c for c in results if c.name == "bookings")
    assert not bookings.applied and bookings.note == "needs our server"


def test_an_escalation_recorded_by_the_tool_and_the_turn_counts_once(tmp_path: Path) -> None:
    loaded = scenario(
        tmp_path,
        "turns: [{caller: a}]\n"
        "after_call: {escalations: [{trigger: model, outcome: transfer, number: '+1555'}]}\n",
    )
    at = datetime(2026, 12, 8, tzinfo=UTC)
    by_tool = {"trigger": "model", "outcome": "transfer", "number": "+1555"}
    by_turn = {"trigger": "model", "outcome": "transfer", "transfer_number": "+1555"}
    events = [
        StoredEvent("escalation", 1, 1, None, None, by_tool, at),
        StoredEvent("escalation", 1, 1, None, None, by_turn, at),
    ]
    call = record(turn(1, "Connecting.", transfer="+1555"))
    assert failed(run(loaded, call, Evidence(events=events))) == {}
