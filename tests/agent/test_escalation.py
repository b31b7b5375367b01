"""Rule-based escalation (phrases, frustration, loops) and transfer planning."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.tools.support import BILLING, FRONT_DESK, LONDON, TUE_0900_NY, clock_for, make_profile
from voiceops.agent.escalation import detect_escalation, frustration_score
from voiceops.core.profile import EscalationRules
from voiceops.core.transcript import Utterance
from voiceops.tools.handoff import (
    callback_line,
    plan_transfer,
    transfer_number,
    why_no_transfer,
)

RULES = EscalationRules()
ASK_DAY = "What day would you like to come in?"


def convo(*lines: str) -> list[Utterance]:
    """Alternating lines, agent first; a line starting with 'U:' or 'A:' forces the role."""
    out: list[Utterance] = []
    for index, line in enumerate(lines):
        if line.startswith(("U:", "A:")):
            role, text = ("user" if line[0] == "U" else "agent"), line[2:].strip()
        else:
            role, text = ("agent" if index % 2 == 0 else "user"), line
        out.append(Utterance(role=role, content=text))
    return out


# -- phrases --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said",
    [
        "Can I speak to a MANAGER please",
        "I want a real   person",
        "get me a human!",
        "representative",
        "Operator.",
        "let me talk to a person",
        "put your supervisor on",
        "can I speak to someone else",
        "put me through to billing",
        "transfer me please",
    ],
)
def test_clear_requests_in_the_last_user_utterance(said: str) -> None:
    trigger = detect_escalation(convo(ASK_DAY, said), RULES)
    assert trigger is not None
    assert trigger.trigger == "phrase"
    assert trigger.priority == RULES.default_priority


@pytest.mark.parametrize(
    "said",
    [
        "the management said I could",
        "humanity is great",
        "the humane society",
        "I don't need a manager, just book it",
        "no need for a supervisor",
        "operators",
        "I'd like to book a haircut for someone else",
        "my manager told me to call you",
        "our representative booked it last time",
        "I'm only human",
        "human resources told me to call",
        "my manager asked me to book a haircut",
        "are you a real person?",
        "the person who cut my hair last time was great",
        "do you have a manager on Saturdays?",
    ],
)
def test_person_words_that_ask_for_nobody_never_escalate(said: str) -> None:
    assert detect_escalation(convo(ASK_DAY, said), RULES) is None


@pytest.mark.parametrize(
    "said",
    [
        "is there someone I can talk to?",
        "I have a question for the manager",
        "can someone call me back?",
        "I don't want to talk to a robot",
    ],
)
def test_indirect_requests_are_left_to_the_brain(said: str) -> None:
    # The LLM judges them; the flow brain reads them itself (flow/understand.py).
    assert detect_escalation(convo(ASK_DAY, said), RULES) is None


def test_the_reason_says_whom_the_caller_asked_for() -> None:
    trigger = detect_escalation(convo(ASK_DAY, "Put me through to billing, please"), RULES)
    assert trigger is not None
    assert (trigger.reason, trigger.detail) == ("caller asked for billing", "billing")
    generic = detect_escalation(convo(ASK_DAY, "transfer me"), RULES)
    assert generic is not None
    assert (generic.reason, generic.detail) == ("caller asked for a person", "a transfer")


def test_only_the_last_user_utterance_counts_for_phrases() -> None:
    transcript = convo(
        ASK_DAY, "I want a manager", "Sure, let me check.", "actually never mind, Friday"
    )
    assert detect_escalation(transcript, RULES) is None


def test_unintelligible_audio_is_ignored() -> None:
    transcript = convo(ASK_DAY, "get me a human (unintelligible audio)")
    trigger = detect_escalation(transcript, RULES)
    assert trigger is not None and trigger.detail == "a human"
    assert detect_escalation(convo(ASK_DAY, "(unintelligible audio)"), RULES) is None
    assert (
        detect_escalation(convo(ASK_DAY, "(Unintelligible audio) (unintelligible audio)"), RULES)
        is None
    )


def test_custom_trigger_phrases_and_priority() -> None:
    rules = EscalationRules(trigger_phrases=["front desk", "C++ guru"], default_priority="low")
    trigger = detect_escalation(convo(ASK_DAY, "put me through to the Front Desk"), rules)
    assert trigger is not None and trigger.priority == "low"
    assert detect_escalation(convo(ASK_DAY, "get me a c++ guru"), rules) is not None
    # A profile's phrases add person words; asking whether one exists is no request.
    assert detect_escalation(convo(ASK_DAY, "is there a c++ guru"), rules) is None
    assert detect_escalation(convo(ASK_DAY, "a manager please"), rules) is not None


# -- frustration ----------------------------------------------------------------------------


def test_a_single_no_is_ordinary_booking_talk() -> None:
    assert detect_escalation(convo("Shall I book Wednesday?", "no, Thursday please"), RULES) is None


def test_an_ordinary_booking_call_never_escalates() -> None:
    transcript = convo(
        "Thanks for calling Maple Street Hair, this is Ava. How can I help?",
        "Hi, I'd like a haircut tomorrow",
        "Sure. I have 10 AM, 10:30 or 11. Which works?",
        "no, none of those, is there anything after lunch?",
        "I have 1 PM or 2 PM.",
        "No. Not Wednesday. Thursday please",
        "On Thursday I have 9 AM or 1 PM.",
        "1 PM is great. My name is Ann, no wait, Anne with an E",
        "Booked: Anne, Thursday at 1 PM. Anything else?",
        "no that's all, thanks!",
    )
    for end in range(1, len(transcript) + 1):
        assert detect_escalation(transcript[:end], RULES) is None, transcript[end - 1].content


def test_repeated_no_and_anger_add_up() -> None:
    transcript = convo(ASK_DAY, "no no no", "Sorry, which day?", "this is ridiculous")
    trigger = detect_escalation(transcript, RULES)
    assert trigger is not None
    assert trigger.trigger == "frustration"
    assert trigger.priority == "high"
    assert "this is ridiculous" in trigger.detail


@pytest.mark.parametrize(
    "lines",
    [
        ("this is useless, you're not listening",),
        ("what the fuck", "Sorry?", "NO NO NO"),
        ("THIS IS NOT WHAT I ASKED FOR AT ALL", "Sorry?", "this is a waste of time"),
        ("no no no no",),
    ],
)
def test_frustration_reaches_the_threshold(lines: tuple[str, ...]) -> None:
    transcript = convo(ASK_DAY, *lines)
    trigger = detect_escalation(transcript, RULES)
    assert trigger is not None and trigger.trigger == "frustration"


def test_frustration_looks_at_the_last_three_user_utterances_only() -> None:
    transcript = convo(
        ASK_DAY,
        "this is ridiculous",
        "Sorry.",
        "ok",
        "Right.",
        "fine",
        "Good.",
        "Thursday then",
        "Thursday it is.",
        "you're not listening",
    )
    # The first complaint is four user turns back: only one phrase (2 points) remains.
    assert detect_escalation(transcript, RULES) is None


def test_shouting_needs_enough_letters() -> None:
    assert frustration_score(["OK"], RULES)[0] == 0
    assert frustration_score(["I SAID THURSDAY"], RULES)[0] == 1
    assert frustration_score(["I said Thursday"], RULES)[0] == 0


def test_phrase_with_frustration_is_high_priority() -> None:
    transcript = convo(ASK_DAY, "this is stupid", "Sorry.", "useless. get me a manager")
    trigger = detect_escalation(transcript, RULES)
    assert trigger is not None
    assert trigger.trigger == "phrase"
    assert trigger.priority == "high"


def test_threshold_is_configurable() -> None:
    strict = EscalationRules(frustration_threshold=1)
    trigger = detect_escalation(convo(ASK_DAY, "no no"), strict)
    assert trigger is not None and trigger.trigger == "frustration"


# -- loops ----------------------------------------------------------------------------------


def test_the_agent_repeating_itself_is_a_loop() -> None:
    transcript = convo(ASK_DAY, "umm", ASK_DAY, "hmm well", "Sorry, " + ASK_DAY.lower(), "uh")
    trigger = detect_escalation(transcript, RULES)
    assert trigger is not None
    assert trigger.trigger == "loop"
    assert trigger.priority == RULES.default_priority


def test_the_same_question_after_different_preambles_is_a_loop() -> None:
    transcript = convo(
        "I can help with that. " + ASK_DAY,
        "the blue one",
        "Sorry, I didn't catch that. " + ASK_DAY,
        "blue",
        "Hmm. Let's try again! " + ASK_DAY,
        "BLUE",
    )
    trigger = detect_escalation(transcript, RULES)
    assert trigger is not None and trigger.trigger == "loop"


def test_two_repeats_are_not_yet_a_loop() -> None:
    assert detect_escalation(convo(ASK_DAY, "umm", ASK_DAY, "hmm"), RULES) is None
    loops_of_two = EscalationRules(loop_turns=2)
    assert detect_escalation(convo(ASK_DAY, "umm", ASK_DAY, "hmm"), loops_of_two) is not None


def test_reminders_to_a_silent_line_are_not_a_loop() -> None:
    transcript = convo(
        "A: Are you still there?", "A: Are you still there?", "A: Are you still there?", "U: yes"
    )
    assert detect_escalation(transcript, RULES) is None


def test_a_repeated_courtesy_question_after_different_answers_is_not_a_loop() -> None:
    transcript = convo(
        "A haircut is 45 dollars. Is there anything else I can help with?",
        "where do I park?",
        "There's street parking on Maple Street. Is there anything else I can help with?",
        "do you take cards?",
        "We take cards and cash. Is there anything else I can help with?",
        "what time do you close?",
    )
    assert detect_escalation(transcript, EscalationRules()) is None


def test_different_agent_lines_are_not_a_loop() -> None:
    transcript = convo(
        "What day?", "Friday", "What time on Friday?", "ten", "And your name?", "Ann"
    )
    assert detect_escalation(transcript, RULES) is None


def test_new_offers_after_the_same_question_are_progress() -> None:
    transcript = convo(
        "I have 10 AM, 10:30 or 11 AM on Wednesday. Which would suit you?",
        "anything later?",
        "I have 1 PM or 2 PM. Which would suit you?",
        "what about Thursday?",
        "On Thursday I have 9 AM or 3 PM. Which would suit you?",
        "hmm",
    )
    assert detect_escalation(transcript, RULES) is None


@pytest.mark.parametrize("answer", ["yes", "Yeah, that works", "3 PM please", "the first one"])
def test_a_reply_that_agrees_or_answers_is_never_a_loop(answer: str) -> None:
    # The same line three times, word for word; the caller's newest reply still moves on.
    line = "Sorry, I have 9 AM or 3 PM. Which would suit you?"
    transcript = convo(line, "what?", line, "sorry?", line, answer)
    assert detect_escalation(transcript, RULES) is None


def test_the_name_question_after_changes_the_caller_made_is_progress() -> None:
    ask = "What name should I put the booking under?"
    transcript = convo(
        "Great, a haircut on Thursday at 3 PM. " + ask,
        "actually make it 4",
        "Sure, 4 PM then. " + ask,
        "and can you add a beard trim",
        "I've added a beard trim. " + ask,
        "Dana",
    )
    for end in range(1, len(transcript) + 1):
        assert detect_escalation(transcript[:end], RULES) is None, transcript[end - 1].content


def test_a_read_back_that_changes_and_then_a_yes_is_progress() -> None:
    transcript = convo(
        "A haircut on Thursday at 3 PM for Dana. Shall I book it?",
        "actually make it 4",
        "A haircut on Thursday at 4 PM for Dana. Shall I book it?",
        "and a beard trim too",
        "A haircut and a beard trim on Thursday at 4 PM for Dana. Shall I book it?",
        "yes",
    )
    assert detect_escalation(transcript, RULES) is None


def test_the_same_read_back_and_no_answer_is_a_loop() -> None:
    line = "A haircut on Thursday at 3 PM for Dana. Shall I book it?"
    transcript = convo(line, "what?", line, "huh", line, "I don't know")
    trigger = detect_escalation(transcript, RULES)
    assert trigger is not None and trigger.trigger == "loop"


def test_an_answer_the_agent_keeps_not_taking_waits_for_the_next_non_answer() -> None:
    transcript = convo(ASK_DAY, "Thursday", ASK_DAY, "Thursday", ASK_DAY, "Thursday")
    # The caller gave what was asked: never a loop on that turn.
    assert detect_escalation(transcript, RULES) is None
    transcript += convo("A: " + ASK_DAY, "U: uh")
    trigger = detect_escalation(transcript, RULES)
    assert trigger is not None and trigger.trigger == "loop"


def test_the_loop_rule_reads_the_newest_lines_only() -> None:
    ordinary = convo(ASK_DAY, "umm", "What time?", "hmm") * 500
    assert detect_escalation([*ordinary, *convo("Which day?", "Friday")], RULES) is None


def test_empty_transcripts() -> None:
    assert detect_escalation([], RULES) is None
    assert detect_escalation(convo("A: Hello, how can I help?"), RULES) is None


@given(
    st.lists(
        st.tuples(st.sampled_from(["user", "agent", "tool", ""]), st.text(max_size=60)), max_size=12
    )
)
def test_detection_never_raises(lines: list[tuple[str, str]]) -> None:
    transcript = [Utterance(role=role, content=text) for role, text in lines]
    result = detect_escalation(transcript, RULES)
    assert result is None or result.trigger in ("phrase", "frustration", "loop")


# -- transfer planning ----------------------------------------------------------------------


def test_plan_transfer_in_hours() -> None:
    profile = make_profile()
    clock = clock_for(TUE_0900_NY, LONDON)
    transfer = plan_transfer(profile, clock, "caller asked for a person", "high", "phrase")
    assert transfer is not None
    assert transfer.number == FRONT_DESK
    assert transfer.priority == "high"
    assert transfer.trigger == "phrase"
    assert transfer.message == "Connecting you with the front desk now."
    assert len(transfer.message.split()) <= 8
    billing = plan_transfer(profile, clock, "a Billing question", "urgent!", "model")
    assert billing is not None
    assert billing.number == BILLING
    assert billing.priority == "medium"
    assert billing.message == "Connecting you with our billing team now."


@pytest.mark.parametrize(
    ("reason", "number"),
    [
        ("caller asked for billing", BILLING),
        ("Billing dispute", BILLING),
        ("caller asked for the billing department", BILLING),
        ("caller asked for a person, about my bill", BILLING),
        ("caller asked for a person, about a refund", BILLING),
        ("caller disputes a charge on their card", BILLING),
        ("was overcharged last week", BILLING),
        ("caller asked for a person", FRONT_DESK),
        ("caller asked for the manager", FRONT_DESK),
        ("a question for Billy the stylist", FRONT_DESK),
    ],
)
def test_the_reason_picks_the_number(reason: str, number: str) -> None:
    profile = make_profile()
    assert transfer_number(profile, reason) == number
    transfer = plan_transfer(profile, clock_for(TUE_0900_NY), reason, "medium", "model")
    assert transfer is not None and transfer.number == number


def test_a_team_of_several_words_is_matched_as_a_phrase() -> None:
    profile = make_profile(transfer={"default": FRONT_DESK, "by_reason": {"colour team": BILLING}})
    assert transfer_number(profile, "caller asked for the colour team") == BILLING
    assert transfer_number(profile, "a colour for the team") == FRONT_DESK


def test_plan_transfer_refuses_after_hours_closed_dates_and_no_number() -> None:
    profile = make_profile()
    evening = clock_for(datetime(2026, 12, 1, 23, tzinfo=UTC))  # 18:00 New York
    christmas = clock_for(datetime(2026, 12, 25, 15, tzinfo=UTC))  # a Friday, 10:00, closed
    assert plan_transfer(profile, evening, "x", "medium", "phrase") is None
    assert why_no_transfer(profile, evening, "x") == "after_hours"
    assert plan_transfer(profile, christmas, "x", "medium", "phrase") is None
    no_number = make_profile(transfer={"by_reason": {"billing": BILLING}})
    in_hours = clock_for(TUE_0900_NY)
    assert plan_transfer(no_number, in_hours, "manager", "medium", "phrase") is None
    assert why_no_transfer(no_number, in_hours, "manager") == "no_number"
    assert plan_transfer(no_number, in_hours, "billing", "medium", "phrase") is not None
    assert why_no_transfer(profile, in_hours, "x") is None


def test_callback_lines() -> None:
    profile = make_profile(closed_dates=[date(2026, 12, 2)])
    evening = clock_for(datetime(2026, 12, 1, 23, tzinfo=UTC), LONDON)
    line = callback_line(profile, evening, "after_hours")
    assert line.startswith("Our team is away right now")
    # Wednesday is closed: back on Thursday at 09:00 New York = 14:00 London.
    assert "Thursday, December 3rd at 2 PM your time, that's 9 AM here in New York" in line
    assert "name" in line and "number" in line
    assert "call you back" in callback_line(profile, evening, "no_number")
    assert "call you back" in callback_line(profile, evening, "anything")


def test_short_loop_setting_keeps_the_full_frustration_window() -> None:
    rules = EscalationRules(loop_turns=2)
    transcript = convo(ASK_DAY, "this is ridiculous", "Sorry.", "ok", "Right, which day?", "no no")
    trigger = detect_escalation(transcript, rules)
    assert trigger is not None and trigger.trigger == "frustration"
