"""What callers say that is not a plain booking: endings, closed days, short hours,
names, corrections, questions the profile does or does not answer, small talk, context.

Brain-level conversations over the real tool box (see ``tests/flow/support.py``); the clock
is Tuesday 1 December 2026, 9 AM in New York, and the demo salon is closed on Sundays and
Mondays.
"""

from __future__ import annotations

import pytest

from tests.flow.support import CALLER, Conversation
from voiceops.core.actions import EndCall

GOODBYE = "Thanks for calling Maple Street Hair. Have a great day!"


async def _to_confirm(call: Conversation, name: str = "Sam") -> None:
    await call.say("a haircut on Friday at 3")
    confirm = await call.say(name)
    assert confirm.text.startswith("Just to confirm"), confirm.text


# -- endings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("closer", ["That's it, thanks", "bye", "no that's all"])
async def test_a_closer_mid_booking_ends_the_call_without_booking(closer: str) -> None:
    call = Conversation()
    await call.say("I'd like a haircut tomorrow at 2")
    turn = await call.say(closer)
    assert isinstance(turn.action, EndCall)
    assert turn.tools == ["end_call"]
    assert call.repo.bookings == []


async def test_a_closer_during_a_callback_request_ends_the_call() -> None:
    call = Conversation()
    await call.say("can I bring my dog?")
    await call.say("yes please")
    turn = await call.say("actually no, that's all, bye")
    assert isinstance(turn.action, EndCall)


async def test_that_s_it_to_a_read_back_asks_once_before_hanging_up() -> None:
    call = Conversation()
    await _to_confirm(call)
    ask = await call.say("that's it")
    assert ask.text == "Before you go, shall I book it?"
    done = await call.say("yes")
    assert done.tools == ["book_appointment"]


async def test_no_thanks_answers_a_yes_no_question_and_does_not_hang_up() -> None:
    call = Conversation()
    await call.say("how much is a colour?")
    turn = await call.say("no thanks")
    assert turn.text == "No problem. Is there anything else I can help with?"
    assert turn.action is None


async def test_long_silence_ends_the_call_after_the_reminders() -> None:
    call = Conversation()
    await call.turn()
    first = await call.turn(kind="reminder")
    assert first.text.startswith("Are you still there?")
    second = await call.turn(kind="reminder")
    assert second.text == "I'm still here whenever you're ready."
    third = await call.turn(kind="reminder")
    assert isinstance(third.action, EndCall)
    assert "Thanks for calling Maple Street Hair" in third.action.message


# -- closed days and times -------------------------------------------------------------------


async def test_a_closed_day_names_the_closed_days_and_the_next_open_one() -> None:
    call = Conversation()
    turn = await call.say("Can I get a haircut on Monday at 10?")
    assert turn.text == (
        "We're closed on Sundays and Mondays; the next day we're open is Tuesday. Would 10 AM work?"
    )
    assert turn.arguments("check_availability")["date"] == "2026-12-08"
    yes = await call.say("yes")
    assert yes.text == (
        "Great, Tuesday, December 8th at 10 AM for your haircut."
        " What name should I put the booking under?"
    )
    confirm = await call.say("Ana")
    assert "Tuesday, December 8th at 10 AM for Ana" in confirm.text


async def test_a_closed_day_without_a_time_offers_the_next_open_day() -> None:
    call = Conversation()
    turn = await call.say("a haircut on Sunday please")
    assert turn.text.startswith(
        "We're closed on Sundays and Mondays; the next day we're open is Tuesday. On Tuesday,"
    )
    assert "isn't available" not in turn.text and "nothing" not in turn.text


async def test_a_time_outside_the_hours_says_the_hours_of_that_day() -> None:
    call = Conversation()
    turn = await call.say("a haircut on Wednesday at 8 in the evening")
    assert turn.text.startswith("On Wednesday we're open 9 AM to 5 PM. ")
    assert "isn't available" not in turn.text


# -- short answers and the hours ---------------------------------------------------------------


@pytest.mark.parametrize("asked", ["Are you open?", "what are your hours?", "when do you close"])
async def test_the_hours_are_today_and_the_next_opening_not_the_week(asked: str) -> None:
    call = Conversation()
    turn = await call.say(asked)
    assert turn.text == (
        "Yes, we're open today until 5 PM. Tomorrow we're open 9 AM to 5 PM."
        " Is there anything else I can help with?"
    )


async def test_the_week_comes_when_asked_for() -> None:
    call = Conversation()
    turn = await call.say("what are your hours during the week?")
    assert turn.text.startswith("We're open Tuesday and Wednesday 9 AM to 5 PM, Thursday")


async def test_on_a_closed_day_the_hours_say_when_it_opens_next(monday: Conversation) -> None:
    turn = await monday.say("are you open?")
    assert turn.text.startswith("We're closed now. Tomorrow we're open 9 AM to 5 PM.")


@pytest.fixture
def monday() -> Conversation:
    from tests.flow.support import MON_1800_NY

    return Conversation(now=MON_1800_NY)


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("Hi it's Priya Shah, can I book a haircut tomorrow at 2?", "Priya Shah"),
        ("a haircut tomorrow at 2 under Ana please", "Ana"),
        ("I need a haircut tomorrow at 2 for my son Leo", "Leo"),
    ],
)
async def test_a_name_given_anywhere_is_taken(said: str, name: str) -> None:
    call = Conversation()
    turn = await call.say(said)
    assert turn.text.endswith(f"for {name}. Shall I book it?")


@pytest.mark.parametrize("reply", ["Oh, um, yes", "You're kidding", "Actually", "Yes"])
async def test_fillers_are_never_a_name(reply: str) -> None:
    call = Conversation()
    await call.say("book a colour friday at 11")
    turn = await call.say(reply)
    assert "for Oh" not in turn.text and "Just to confirm" not in turn.text
    assert turn.action is None


async def test_a_caller_who_will_not_give_a_name_is_booked_under_their_number() -> None:
    call = Conversation()
    await call.say("book a colour friday at 11")
    again = await call.say("I'd rather not say")
    assert again.text == "That's fine. Just a first name is enough, so we know who to expect."
    assert again.tools == [] and again.action is None
    turn = await call.say("no, I don't want to give a name")
    assert turn.text == (
        "No problem, I'll put it under the number you're calling from. Just to confirm, a"
        " colour on Friday, December 4th at 11 AM under the number you're calling from."
        " Shall I book it?"
    )
    await call.say("yes")
    [booking] = call.repo.bookings
    assert booking.customer_name == CALLER


async def test_without_a_number_the_name_is_asked_once_more_then_booked_anyway() -> None:
    call = Conversation(caller_phone=None)
    await call.say("book a colour friday at 11")
    again = await call.say("why do you need it?")
    assert again.text == "That's fine. Just a first name is enough, so we know who to expect."
    turn = await call.say("I'd rather not say")
    assert turn.text.startswith("No problem, I'll book it without a name. Just to confirm")
    assert turn.action is None


async def test_a_name_that_is_not_heard_twice_is_never_escalated() -> None:
    call = Conversation()
    await call.say("book a colour friday at 11")
    await call.say("um")
    turn = await call.say("hmm")
    assert turn.tools == []
    assert "under the number you're calling from" in turn.text


# -- corrections -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("correction", "expected"),
    [
        ("Actually, make it 4", "a haircut on Friday, December 4th at 4 PM for Sam"),
        ("change it to colour", "a colour on Friday, December 4th at 3 PM for Sam"),
        ("no, Thursday", "a haircut on Thursday, December 3rd at 3 PM for Sam"),
        ("push it back an hour", "a haircut on Friday, December 4th at 4 PM for Sam"),
        ("half an hour earlier", "a haircut on Friday, December 4th at 2:30 PM for Sam"),
        ("my name is Sara, not Sam", "a haircut on Friday, December 4th at 3 PM for Sara"),
        ("not this Friday, the one after", "a haircut on Friday, December 11th at 3 PM for Sam"),
    ],
)
async def test_a_correction_changes_one_slot_keeps_the_others_and_is_read_back(
    correction: str, expected: str
) -> None:
    call = Conversation()
    await _to_confirm(call)
    turn = await call.say(correction)
    assert f"Just to confirm, {expected}. Shall I go ahead and book that?" in turn.text
    done = await call.say("yes")
    assert done.tools == ["book_appointment"]
    assert len(call.repo.bookings) == 1


# -- questions -------------------------------------------------------------------------------


async def test_a_name_is_not_a_question_about_parking() -> None:
    call = Conversation()
    turn = await call.say("My name is Jo Park, I'd like a haircut")
    assert "parking" not in turn.text


@pytest.mark.parametrize(
    ("asked", "answer"),
    [
        ("do you do gift vouchers?", "gift cards"),
        ("can I just walk in?", "walk-ins"),
        ("is it wheelchair accessible?", "step-free"),
        ("do you cut kids' hair?", "children's hair"),
    ],
)
async def test_the_demo_faq_answers_common_questions(asked: str, answer: str) -> None:
    call = Conversation()
    turn = await call.say(asked)
    assert answer in turn.text
    assert "payment" not in turn.text.lower()


@pytest.mark.parametrize(
    "asked", ["can I bring my dog?", "do you validate parking tickets?", "is the stylist a woman?"]
)
async def test_a_question_the_profile_does_not_answer_gets_a_callback_offer(asked: str) -> None:
    call = Conversation()
    turn = await call.say(asked)
    assert turn.text == (
        "I don't have that information — I can have someone call you back. Would you like that?"
    )
    yes = await call.say("yes please")
    assert yes.text == "Sure. Could I have your name, please?"
    await call.say("Dana")
    done = await call.say("yes, this number")
    assert done.tools == ["request_callback"]
    assert asked.rstrip("?").lower() in done.arguments("request_callback")["reason"]


@pytest.mark.parametrize(
    ("asked", "thing"), [("do you do tattoos?", "tattoos"), ("can I get my nails done", "nails")]
)
async def test_a_service_not_offered_names_what_is(asked: str, thing: str) -> None:
    call = Conversation()
    turn = await call.say(asked)
    assert turn.text.startswith(
        f"Sorry, we don't do {thing}; we do haircut, colour, blow dry and beard trim."
    )


async def test_only_a_truly_off_topic_request_gets_the_catch_all() -> None:
    call = Conversation()
    turn = await call.say("what's the capital of France?")
    assert turn.text.startswith("Sorry, I can only help with appointments and questions about")


# -- small talk ------------------------------------------------------------------------------


async def test_small_talk_gets_a_short_human_reply() -> None:
    call = Conversation()
    how = await call.say("How are you?")
    assert how.text == "I'm doing well, thanks for asking. How can I help you today?"
    weather = await call.say("lovely weather today")
    assert weather.text == "It is, isn't it? How can I help you today?"
    thanks = await call.say("thanks so much")
    assert thanks.text.startswith("You're welcome.")
    wrong = await call.say("oh sorry, wrong number")
    assert isinstance(wrong.action, EndCall)


async def test_small_talk_with_a_request_answers_both() -> None:
    call = Conversation()
    turn = await call.say("hi, how are you? I'd like a haircut")
    assert turn.text.startswith("I'm doing well, thanks for asking. What day")


# -- context ---------------------------------------------------------------------------------


async def test_how_much_after_booking_is_the_booked_service_s_price() -> None:
    call = Conversation()
    await call.say("book a colour friday at 11 for Ana")
    await call.say("yes")
    turn = await call.say("how much will that be?")
    assert turn.text == (
        "A colour takes an hour and a half and costs 120 dollars."
        " Is there anything else I can help with?"
    )


async def test_i_mean_new_york_time_moves_a_london_caller_s_time() -> None:
    call = Conversation(caller_zone="Europe/London")
    await call.say("a haircut tomorrow at 10 for Sam")
    turn = await call.say("sorry, I mean New York time")
    assert turn.arguments("check_availability")["time"] == "15:00"
    assert "3 PM your time, that's 10 AM here in New York" in turn.text


# -- relative dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "date", "at"),
    [
        ("a haircut next Friday at 2", "2026-12-04", "14:00"),
        ("a haircut the Friday after at 2", "2026-12-11", "14:00"),
        ("a haircut tomorrow after work", "2026-12-02", "17:30"),
        ("a haircut first thing tomorrow", "2026-12-02", "09:00"),
        ("a haircut around lunch on Thursday", "2026-12-03", "12:00"),
        ("a haircut in two hours", "2026-12-01", "11:00"),
    ],
)
async def test_relative_dates_and_times(said: str, date: str, at: str) -> None:
    call = Conversation()
    turn = await call.say(said)
    asked = turn.arguments("check_availability")
    assert (asked["date"], asked.get("time")) == (date, at)


async def test_next_friday_says_which_date_was_understood() -> None:
    call = Conversation()
    turn = await call.say("a haircut next Friday at 2")
    assert turn.text.startswith("That's Friday, December 4th. ")


async def test_this_weekend_said_on_a_saturday_is_this_saturday_and_sunday() -> None:
    from datetime import UTC, datetime

    call = Conversation(now=datetime(2026, 12, 5, 14, 0, tzinfo=UTC))
    turn = await call.say("a haircut this weekend")
    asked = turn.arguments("check_availability")
    assert (asked["date"], asked["days"]) == ("2026-12-05", 2)


async def test_a_day_that_cannot_be_resolved_gets_a_question_not_a_guess() -> None:
    call = Conversation()
    turn = await call.say("a haircut the Saturday before the 3rd")
    assert turn.text == "I'm not sure which day you mean. What day would you like to come in?"
    assert turn.tools == []


# -- more than one service or person ---------------------------------------------------------


async def test_two_services_are_booked_back_to_back() -> None:
    call = Conversation()
    first = await call.say("I'd like a beard trim and a haircut on Friday at 3")
    assert first.text.startswith("I can book the beard trim now and the haircut straight after.")
    confirm = await call.say("Sam")
    assert confirm.text == (
        "Just to confirm, a beard trim on Friday, December 4th at 3 PM for Sam, then a haircut"
        " at 3:30 PM. Shall I book them?"
    )
    done = await call.say("yes, book them")
    assert done.tools == ["book_appointment", "check_availability", "book_appointment"]
    assert done.text == (
        "You're all set. Your beard trim is booked for Friday, December 4th at 3 PM. And the"
        " haircut for Sam at 3:30 PM is booked. Is there anything else I can help with?"
    )
    assert [(b.service, b.customer_name) for b in call.repo.bookings] == [
        ("beard trim", "Sam"),
        ("haircut", "Sam"),
    ]


async def test_two_people_at_the_same_time_are_booked_one_after_the_other() -> None:
    call = Conversation()
    first = await call.say("me and my son both need a haircut at the same time on Friday at 3")
    assert first.text.startswith(
        "We can only do one at a time, so I can book two haircuts, one straight after the other."
    )
    confirm = await call.say("I'm Dana and he's Leo")
    assert confirm.text == (
        "Just to confirm, a haircut on Friday, December 4th at 3 PM for Dana, then a haircut"
        " for Leo at 3:30 PM. Shall I book them?"
    )
    await call.say("yes")
    assert [(b.customer_name, b.local_start[11:16]) for b in call.repo.bookings] == [
        ("Dana", "15:00"),
        ("Leo", "15:30"),
    ]


# -- found by playing calls ------------------------------------------------------------------


async def test_a_caller_who_only_wants_prices_hears_them_all_at_once() -> None:
    call = Conversation()
    turn = await call.say("what are your prices?")
    assert turn.text == (
        "A haircut is 45 dollars, a colour 120 dollars, a blow dry 35 dollars and a beard trim"
        " 20 dollars. Would you like to book an appointment?"
    )


async def test_a_correction_before_the_name_says_the_new_time_and_rewords_the_question() -> None:
    call = Conversation()
    first = await call.say("I want to book a blow dry on Friday at 2")
    assert first.text.endswith("What name should I put the booking under?")
    moved = await call.say("no wait, make it Saturday")
    assert moved.text == ("Okay, I have Saturday, December 5th at 2 PM. And what name is it under?")
    again = await call.say("actually make it 11")
    assert (
        again.text == "Okay, I have Saturday, December 5th at 11 AM. And the name for the booking?"
    )


async def test_thanks_to_a_read_back_asks_again_briefly() -> None:
    call = Conversation()
    await _to_confirm(call)
    turn = await call.say("thanks so much")
    assert turn.text == "Shall I go ahead and book it?"


async def test_what_time_is_that_repeats_the_booking() -> None:
    call = Conversation(caller_zone="Europe/London")
    await call.say("a haircut tomorrow at 3pm for Olivia")
    await call.say("yes")
    turn = await call.say("what time is that for me?")
    assert turn.text.startswith(
        "It's Wednesday, December 2nd at 3 PM your time, that's 10 AM here in New York."
    )


async def test_is_this_another_business_is_told_which_one_it_reached() -> None:
    call = Conversation()
    turn = await call.say("Hello, is this Dr. Patel's office?")
    assert turn.text == "No, this is Maple Street Hair. How can I help?"
    assert turn.tools == []


async def test_how_are_you_today_is_not_a_booking_for_today() -> None:
    call = Conversation()
    turn = await call.say("Hello! How are you today?")
    assert turn.text == "I'm doing well, thanks for asking. How can I help you today?"


async def test_asking_the_hours_of_a_closed_day_while_booking_lets_the_caller_choose() -> None:
    call = Conversation()
    turn = await call.say("Are you open on Monday? I'd like a beard trim.")
    assert turn.text == (
        "We're closed on Mondays. The next day we're open is Tuesday."
        " Which other day would suit you?"
    )
    assert turn.tools == ["get_opening_hours"]


@pytest.mark.parametrize(
    ("asked", "start"),
    [
        ("is the owner nice?", "I don't have that information"),
        ("what's your favourite colour?", "Sorry, I can only help with appointments"),
    ],
)
async def test_odd_questions(asked: str, start: str) -> None:
    call = Conversation()
    turn = await call.say(asked)
    assert turn.text.startswith(start)
    assert turn.tools == []


async def test_the_one_after_an_offered_day_is_a_week_later() -> None:
    call = Conversation()
    await call.say("can I get a beard trim next Friday")
    turn = await call.say("no, not that one, the one after")
    assert turn.arguments("check_availability")["date"] == "2026-12-11"


async def test_a_move_at_the_same_time_keeps_the_booked_time() -> None:
    call = Conversation()
    await call.book_directly("2026-12-02T13:00", service="blow dry", name="Kim", phone=CALLER)
    await call.say("can we move my booking to Thursday")
    turn = await call.say("same time")
    assert turn.arguments("check_availability")["time"] == "13:00"
    assert turn.text.endswith("move your blow dry to Thursday, December 3rd at 1 PM?")


@pytest.mark.parametrize("said", ["I want my hair done", "can you do my hair on Friday"])
async def test_wanting_ones_hair_done_is_a_booking(said: str) -> None:
    call = Conversation()
    turn = await call.say(said)
    assert turn.text.startswith("Which service would you like")


async def test_a_short_weekday_is_a_day() -> None:
    call = Conversation()
    await call.say("colour")
    turn = await call.say("wed")
    assert turn.arguments("check_availability")["date"] == "2026-12-02"


async def test_what_is_not_understood_mid_booking_is_not_called_off_topic() -> None:
    call = Conversation()
    await call.say("a haircut please")
    turn = await call.say("blah blah")
    assert turn.text == "Sorry, I didn't catch that. What day would you like to come in?"


async def test_long_lines_are_not_repeated_word_for_word() -> None:
    call = Conversation()
    first = await call.say("I'd like to book something")
    assert first.text == "Which service would you like, haircut, colour, blow dry or beard trim?"
    again = await call.say("erm")
    assert again.text == "Sorry, I didn't catch that. Which service would you like?"
    call = Conversation()
    joke = await call.say("tell me a joke")
    assert joke.text.startswith("Sorry, I can only help with appointments")
    news = await call.say("what's in the news?")
    assert news.text.startswith("Sorry, I can't help with that.")


async def test_no_to_the_day_question_drops_the_booking() -> None:
    call = Conversation()
    await call.say("what are your prices?")
    await call.say("haircut")
    turn = await call.say("no")
    assert turn.text == "No problem. Is there anything else I can help with?"
    bye = await call.say("no thanks")
    assert isinstance(bye.action, EndCall)


async def test_a_service_asked_about_mid_booking_is_answered_not_swapped_in() -> None:
    call = Conversation()
    first = await call.say("can I book a haircut Friday at 10?")
    assert first.text.startswith(
        "Good news, Friday, December 4th at 10 AM is free for your haircut."
    )
    turn = await call.say("Is there a person who does beards as well?")
    assert turn.text.startswith("A beard trim takes 20 minutes and costs 20 dollars.")
    await call.say("Sam")
    done = await call.say("yes")
    assert done.arguments("book_appointment")["service"] == "haircut"


async def test_are_you_a_robot_is_not_a_question_nobody_answers() -> None:
    call = Conversation()
    turn = await call.say("Am I talking to a robot?")
    assert "I don't have that information" not in turn.text
    assert "This is Maple Street Hair." not in turn.text


@pytest.mark.parametrize("said", ["Hi, um, are you a real person?", "hello, is this a robot?"])
async def test_a_greeting_before_are_you_a_robot_gets_one_answer(said: str) -> None:
    turn = await Conversation().say(said)
    assert "virtual assistant" in turn.text
    assert "Hello!" not in turn.text, turn.text
    assert turn.text.endswith("How can I help you today?"), turn.text


# -- a withheld caller ID ------------------------------------------------------------------


@pytest.mark.parametrize("number", ["anonymous", "+191755519001", None])
async def test_a_caller_without_a_usable_number_is_booked_under_the_name(
    number: str | None,
) -> None:
    call = Conversation(caller_phone=number)
    await _to_confirm(call, "Luca")
    done = await call.say("yes")
    assert done.tools == ["book_appointment"]
    assert "booked" in done.text, done.text
    [booking] = call.repo.bookings
    assert (booking.customer_name, booking.customer_phone) == ("Luca", None)
