"""Reading caller utterances: intents, yes and no, and the values they carry."""

from __future__ import annotations

import re
import sys
from datetime import date, time

import pytest

from tests.flow.support import demo_profile
from voiceops.agent import intent as intent_module
from voiceops.core.profile import AgentProfile
from voiceops.flow import understand as understand_module
from voiceops.flow import when as when_module
from voiceops.flow.understand import Expectation, Understanding, lexicon_for, understand
from voiceops.flow.when import When

TUESDAY = date(2026, 12, 1)
PROFILE = demo_profile()


def read(
    text: str, expect: Expectation | None = None, profile: AgentProfile = PROFILE
) -> Understanding:
    return understand(text, profile, TUESDAY, expect=expect)


@pytest.mark.parametrize(
    ("said", "intents"),
    [
        ("Hi, I'd like to book a haircut", {"book", "greeting"}),
        ("do you have any openings on Friday", {"book"}),
        ("is there an opening tomorrow", {"book"}),
        ("what are your opening hours", {"hours"}),
        ("I need to cancel my appointment", {"cancel"}),
        ("can I reschedule?", {"reschedule"}),
        ("could you move my booking to Saturday", {"reschedule"}),
        ("when is my appointment?", {"lookup"}),
        ("how much is a colour", {"price"}),
        ("how long does a blow dry take", {"duration"}),
        ("what time do you close on Saturday", {"hours"}),
        ("are you open on Sundays?", {"hours"}),
        ("what services do you offer", {"services"}),
        ("can I talk to someone at the front desk", {"human"}),
        ("thank you so much", {"thanks"}),
    ],
)
def test_intents(said: str, intents: set[str]) -> None:
    assert set(read(said).intents) == intents


def test_cancellation_policy_is_a_question_not_a_cancellation() -> None:
    u = read("what's your cancellation policy?")
    assert "cancel" not in u.intents
    assert u.faq is not None and "notice" in u.faq


def test_wanting_something_is_a_booking_only_with_a_service() -> None:
    assert "book" in read("I'd like a beard trim").intents
    assert "book" not in read("I need a manager").intents


def test_trigger_phrases_from_the_profile_unless_negated() -> None:
    assert "human" in read("get me a real person").intents
    assert "human" not in read("I don't need a manager, just a haircut").intents


@pytest.mark.parametrize(
    ("said", "service"),
    [
        ("a haircut please", "haircut"),
        ("two haircuts", "haircut"),
        ("just a trim", "haircut"),
        ("a beard trim", "beard trim"),
        ("do you do blowdrys?", "blow dry"),
        ("a blow-dry", "blow dry"),
        ("some highlights", "colour"),
        ("not a trim, a color", "colour"),
    ],
)
def test_services_and_aliases(said: str, service: str) -> None:
    assert read(said).service == service


@pytest.mark.parametrize(
    ("said", "affirm", "deny"),
    [
        ("yes please", True, False),
        ("yeah that's right", True, False),
        ("sounds good", True, False),
        ("okay", True, False),
        ("no problem", True, False),
        ("no", False, True),
        ("nope, Thursday", False, True),
        ("that's not right", False, True),
        ("none of those work", False, True),
        ("hmm", False, False),
    ],
)
def test_yes_and_no(said: str, affirm: bool, deny: bool) -> None:
    u = read(said)
    assert (u.affirm, u.deny) == (affirm, deny)


def test_goodbyes_and_closers_differ() -> None:
    bye = read("that's all, thanks, bye")
    assert bye.farewell
    assert bye.closing
    closer = read("no thanks, I'm good")
    assert closer.closing
    assert not closer.farewell


@pytest.mark.parametrize(
    ("said", "expect", "name"),
    [
        ("my name is Sam and I'd like a haircut", None, "Sam"),
        ("Hi, this is Priya Patel, I need a colour", None, "Priya Patel"),
        ("put it under Jordan", None, "Jordan"),
        ("Sam Smith", "name", "Sam Smith"),
        ("yeah it's jo", "name", "Jo"),
        ("O'Brien", "name", "O'Brien"),
        ("José Álvarez", "name", "José Álvarez"),
        ("Anne-Marie", "name", "Anne-Marie"),
        ("a colour on Saturday for Zoë", None, "Zoë"),
        ("Sam Smith", None, None),
        ("what?", "name", None),
        ("tomorrow", "name", None),
        ("a haircut", "name", None),
        ("this is urgent", None, None),
    ],
)
def test_names(said: str, expect: Expectation | None, name: str | None) -> None:
    assert read(said, expect).name == name


def test_phone_numbers_and_the_calling_number() -> None:
    spoken = read("my number is 212 555 0199")
    assert spoken.phone == "+12125550199"
    assert not spoken.caller_number
    assert read("you can call me on 2 1 2 5 5 5 0 1 9 9").phone == "+12125550199"
    assert read("+44 20 7183 8750").phone == "+442071838750"
    same = read("the number I'm calling from")
    assert same.caller_number
    assert same.phone is None


@pytest.mark.parametrize(
    ("said", "pick"),
    [
        ("the first one", 0),
        ("second option please", 1),
        ("the last one", -1),
        ("the earlier", 0),
        ("I'll take the third time", 2),
    ],
)
def test_choices_from_a_list(said: str, pick: int) -> None:
    assert read(said).pick == pick


def test_unintelligible_audio_alone_and_with_words() -> None:
    alone = read("(unintelligible audio)")
    assert alone.unintelligible
    assert alone.is_empty
    mixed = read("(unintelligible audio) Friday at 3")
    assert not mixed.unintelligible
    assert mixed.when.day == date(2026, 12, 4)
    assert mixed.when.at == time(15, 0)


def test_dismissals_and_follow_ups() -> None:
    assert read("oh never mind").dismiss
    assert read("forget about it").dismiss
    assert read("what about Sunday?").follow_up
    assert read("and a colour?").follow_up
    assert not read("I'd like a colour and a haircut").follow_up


def test_questions_and_statements() -> None:
    assert read("do you do colour").question
    assert read("a colour?").question
    assert not read("a colour please").question


def test_off_topic_is_empty() -> None:
    assert read("what's the weather like in Paris").is_empty


def test_a_bare_time_reply_needs_a_time_question() -> None:
    assert read("3").when.at is None
    assert read("3", "time").when.at == time(15, 0)


def test_the_lexicon_is_compiled_once_per_profile() -> None:
    assert lexicon_for(PROFILE) is lexicon_for(PROFILE)
    other = demo_profile()
    assert lexicon_for(other) is not lexicon_for(PROFILE)


# --- long utterances: bounded work ---------------------------------------------------------

FILLER = (
    "uh so yeah my cousin says the weather is nice, not Friday though, Friday doesn't work "
    "at 4, qwe-rty ### 1234 5678, I don't need to speak to someone (unintelligible audio) "
)


def test_a_400_kb_utterance_is_understood_from_its_tail(monkeypatch: pytest.MonkeyPatch) -> None:
    limit = when_module.MAX_PARSED_CHARS
    ending = " anyway, I'd like to book a haircut on Saturday at 3pm, my name is Dana"
    opening = "I need to cancel my appointment, this is Alex. "
    size = 400_000 - len(opening) - len(ending)
    text = opening + (FILLER * (size // len(FILLER) + 1))[:size] + ending
    real_parse = understand_module.parse_when

    def bounded_parse(said: str, today: date, *, expect_time: bool = False) -> When:
        # Fails at once, instead of after minutes, when the whole utterance comes through.
        assert len(said) <= limit, f"{len(said)} characters handed to the date reader"
        return real_parse(said, today, expect_time=expect_time)

    monkeypatch.setattr(understand_module, "parse_when", bounded_parse)

    u = read(text, "time")

    assert len(u.text) <= limit
    assert u == read(when_module.utterance_tail(text), "time")
    assert "book" in u.intents and "cancel" not in u.intents and "human" not in u.intents
    assert (u.service, u.name) == ("haircut", "Dana")
    assert (u.when.day, u.when.at) == (date(2026, 12, 5), time(15, 0))


def test_negations_are_looked_for_next_to_a_request_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tail bounds aside, reading must be linear: lift them and count what is searched
    # before each of a thousand negated requests. A request for a person is read by
    # agent/intent.py, which looks for what undoes it (a negation, reported speech) in a
    # window next to it.
    monkeypatch.setattr(when_module, "MAX_PARSED_CHARS", 10**9, raising=False)
    monkeypatch.setattr(intent_module, "MAX_CHARS", 10**9)
    reported = intent_module._REPORTED
    widths: list[int] = []

    class Spy:
        def search(
            self, string: str, pos: int = 0, endpos: int = sys.maxsize
        ) -> re.Match[str] | None:
            widths.append(min(endpos, len(string)) - pos)
            return reported.search(string, pos, endpos)

    monkeypatch.setattr(intent_module, "_REPORTED", Spy())
    intent_module._read.cache_clear()

    assert "human" not in read("I don't need to speak to someone, " * 1_000).intents
    u = read("please don't transfer me " * 1_000)

    assert "human" not in u.intents
    assert len(widths) == 1_000
    assert max(widths) <= 128, "a negation is looked for just before the request"


def test_a_line_break_in_a_reply_does_not_hide_the_name() -> None:
    assert read("it's Sam\nthanks", "name").name == "Sam"
    assert read("um\nyes, Sam", "name").name == "Sam"
