"""The escalation intent rules: a request for a person, not just a word for one."""

from __future__ import annotations

import pytest
from benchmarks.escalation_intent import DATA, load, score
from hypothesis import given
from hypothesis import strategies as st

from voiceops.agent.intent import asks_what_agent_is, person_request, wants_person
from voiceops.agent.prompts import DEFAULT_VOICE_PROMPT
from voiceops.core.profile import EscalationRules

# -- the labelled corpus ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["corpus.jsonl", "held_out.jsonl"])
def test_corpus_halves_are_balanced_and_distinct(name: str) -> None:
    examples = load(DATA / name)
    requests = [e for e in examples if e.label == "request"]
    assert len(requests) * 2 == len(examples)
    assert len({e.text for e in examples}) == len(examples)


def test_the_corpus_files_share_no_utterance() -> None:
    tuned = {e.text for e in load(DATA / "corpus.jsonl")}
    held_out = {e.text for e in load(DATA / "held_out.jsonl")}
    assert len(tuned) >= 300
    assert not tuned & held_out


def test_precision_and_recall_on_the_whole_corpus() -> None:
    examples = load(DATA / "corpus.jsonl") + load(DATA / "held_out.jsonl")
    flow, net = score(examples)
    wrong = [e.text for e in flow.missed + flow.wrongly]
    assert flow.precision >= 0.98, wrong
    assert flow.recall >= 0.98, wrong
    # The safety net under the LLM fires on clear requests only: it must hardly ever be wrong,
    # and it still catches most requests.
    assert net.precision >= 0.98, [e.text for e in net.wrongly]
    assert net.recall >= 0.75


# -- the failure patterns of the word rule ----------------------------------------------------


@pytest.mark.parametrize(
    "said",
    [
        "I'm only human.",
        "Human resources told me to call.",
        "Do you use human hair extensions?",
        "My manager asked me to call to book a haircut.",
        "my manager said I need to speak to the owner",
        "Are you a real person?",
        "Am I talking to a robot?",
        "I don't need a manager, just book it.",
        "Please don't transfer me.",
        "No need to put me through to anyone.",
        "I never said I wanted a manager.",
        "I'm not sure I need a manager.",
        "Should I ask for the manager when I get there?",
        "Do I need a manager's approval?",
        "Let me talk to my manager first and call you back.",
        "The person who cut my hair last time was great.",
        "Someone else will come.",
        "I'd like to book a haircut for someone else.",
        "Do you have a manager on Saturdays?",
        "I need someone to cut my hair tomorrow.",
        "I want the owner to do my colour.",
        "Can I get the owner on Friday?",
        "Is there anyone free on Saturday for a colour?",
        "Hello? Is anyone there?",
        "I'd like to talk to you about a booking.",
        "Someone I could talk to at work recommended you.",
        "Anyone there I could book with on Friday?",
        "I'll give you a ring later about the wedding.",
        "my id number is 42, I'd like a haircut",
        "Is the owner around on Saturdays?",
        "Is the manager in on Thursday mornings?",
    ],
)
def test_person_words_that_ask_for_nobody(said: str) -> None:
    assert person_request(said) is None


@pytest.mark.parametrize(
    ("said", "clarity"),
    [
        ("Put me through to billing.", "clear"),
        ("Can I talk to someone?", "clear"),
        ("I need a human.", "clear"),
        ("Get me your manager.", "clear"),
        ("Operator.", "clear"),
        ("Representative please.", "clear"),
        ("Let me talk to a real person.", "clear"),
        ("transfer me", "clear"),
        ("Why don't you just transfer me?", "clear"),
        ("No I want a person", "clear"),
        ("I don't want a robot I want a person", "clear"),
        ("Uh, can I, um, talk to someone?", "clear"),
        ("Gimme a human.", "clear"),
        ("Is there a person I can speak with?", "indirect"),
        ("Who do I talk to about my invoice?", "indirect"),
        ("Can someone call me back?", "indirect"),
        ("I don't want to talk to a robot.", "indirect"),
        ("I'd like a call back please.", "indirect"),
        ("Can I speak to Sarah please?", "indirect"),
        ("is there someone there i could actually talk to", "indirect"),
        ("Is there somebody I could maybe have a word with?", "indirect"),
        ("anyone there I could speak with?", "indirect"),
        ("Someone I can talk to, please.", "indirect"),
        ("is there like a real person I could talk to", "indirect"),
        ("Could somebody give me a call about the wedding?", "indirect"),
        ("id rather talk to somebody", "clear"),
        ("Is the manager around?", "indirect"),
        ("is the owner in today", "indirect"),
    ],
)
def test_requests_with_and_without_the_trigger_words(said: str, clarity: str) -> None:
    request = person_request(said)
    assert request is not None
    assert request.clarity == clarity


def test_a_question_about_the_agent_then_a_request_is_a_request() -> None:
    said = "Are you a robot? I want a real person."
    assert asks_what_agent_is(said)
    request = person_request(said)
    assert request is not None and request.clarity == "clear"


# -- whom, and what about ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "reason"),
    [
        ("Put me through to billing.", "caller asked for billing"),
        ("Can I speak to the manager?", "caller asked for the manager"),
        ("I need a human.", "caller asked for a person"),
        ("Can I talk to someone at the front desk?", "caller asked for a person"),
        ("transfer me please", "caller asked for a person"),
        (
            "Could I speak to someone in accounts about a charge?",
            "caller asked for someone in accounts, about a charge",
        ),
        (
            "I need to speak with someone about a billing dispute.",
            "caller asked for a person, about a billing dispute",
        ),
        ("Human! Human!", "caller asked for a person"),
    ],
)
def test_the_reason_names_whom_and_what_about(said: str, reason: str) -> None:
    request = person_request(said)
    assert request is not None
    assert request.reason == reason


# -- a profile's own words --------------------------------------------------------------------


def test_a_profiles_trigger_phrases_are_person_words_too() -> None:
    rules = EscalationRules(trigger_phrases=["C++ guru", "speak to a colour expert"])
    assert wants_person("can I talk to the C++ guru?", rules)
    assert wants_person("get me a colour expert", rules)
    assert not wants_person("can I talk to the C++ guru?")
    assert not wants_person("the C++ guru booked me last time", rules)
    # The built-in words stay: a profile only adds.
    assert wants_person("a manager please", rules)


# -- what the agent is ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said",
    [
        "Are you a real person?",
        "are you real",
        "Are you human or a robot?",
        "Is this an AI?",
        "Am I speaking with a real person?",
        "You're a robot, aren't you?",
        "Wait, is this automated?",
        "Who am I talking to?",
    ],
)
def test_questions_about_what_the_agent_is(said: str) -> None:
    assert asks_what_agent_is(said)


@pytest.mark.parametrize(
    "said",
    ["Are you open on Sunday?", "Is that a real price?", "Is it real human hair?", "Are you sure?"],
)
def test_other_questions_are_not_about_the_agent(said: str) -> None:
    assert not asks_what_agent_is(said)


# -- robustness -------------------------------------------------------------------------------


def test_only_the_end_of_a_very_long_utterance_is_read() -> None:
    story = "I came in last week and the colour was lovely. " * 40
    assert wants_person(story + "Can I speak to the manager?")
    assert not wants_person("Can I speak to the manager? " + story)


@given(st.text(max_size=200))
def test_reading_never_raises(text: str) -> None:
    request = person_request(text)
    assert request is None or request.clarity in ("clear", "indirect")
    asks_what_agent_is(text)


def test_a_huge_utterance_is_read_from_its_tail() -> None:
    assert person_request("human " * 100_000) is None
    request = person_request("blah " * 100_000 + "get me a manager")
    assert request is not None and request.clarity == "clear"
    assert not asks_what_agent_is("you're a robot " * 10_000)


def test_the_llm_is_told_to_answer_are_you_a_robot_honestly() -> None:
    line = next(line for line in DEFAULT_VOICE_PROMPT.splitlines() if "real person or a" in line)
    assert "say honestly" in line
    assert "no request for a person" in DEFAULT_VOICE_PROMPT
