"""The flow brain end to end at the brain level: real tool box, real in-memory repository.

Each test is a phone conversation with a fixed clock (Tuesday 1 December 2026, 9 AM in New
York unless said otherwise); the demo salon is open Tuesday to Saturday.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.flow.support import (
    CALLER,
    FRONT_DESK,
    MON_1800_NY,
    OTHER,
    Conversation,
)
from voiceops.core.actions import EndCall, Transfer
from voiceops.core.events import EscalationTrigger, TextChunk, ToolFinished, ToolStarted
from voiceops.core.transcript import TranscriptEntry, Utterance


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# -- greeting ---------------------------------------------------------------------------------


async def test_greets_when_the_caller_has_said_nothing() -> None:
    call = Conversation()
    turn = await call.turn()
    assert turn.text == "Thanks for calling Maple Street Hair, this is Ava. How can I help?"
    assert turn.tools == []
    again = await call.turn()
    assert again.text == "How can I help you today?"


async def test_greets_a_known_caller_by_name() -> None:
    call = Conversation(dynamic_variables={"caller_name": "Priya"})
    turn = await call.turn()
    assert turn.text.startswith("Hi Priya, thanks for calling Maple Street Hair")


# -- booking ----------------------------------------------------------------------------------


async def test_books_after_filling_slots_over_several_turns_in_any_order() -> None:
    call = Conversation()
    first = await call.say("Hi, I'd like to make an appointment")
    assert first.text == "Which service would you like, haircut, colour, blow dry or beard trim?"
    second = await call.say("Friday at 3 if you can")
    assert second.tools == []
    assert second.text.startswith("Which service would you like")
    third = await call.say("a beard trim")
    assert third.arguments("check_availability") == {
        "service": "beard trim",
        "date": "2026-12-04",
        "days": 1,
        "time": "15:00",
    }
    assert third.text == (
        "Good news, Friday, December 4th at 3 PM is free for your beard trim."
        " What name should I put the booking under?"
    )
    fourth = await call.say("Sam Smith")
    assert fourth.text == (
        "Just to confirm, a beard trim on Friday, December 4th at 3 PM for Sam Smith."
        " Shall I book it?"
    )
    assert call.repo.bookings == []
    done = await call.say("yes please")
    assert done.arguments("book_appointment") == {
        "service": "beard trim",
        "start": "2026-12-04T15:00",
        "customer_name": "Sam Smith",
    }
    assert done.text == (
        "You're all set. Your beard trim is booked for Friday, December 4th at 3 PM."
        " Is there anything else I can help with?"
    )
    [booking] = call.repo.bookings
    assert (booking.service, booking.customer_name, booking.customer_phone) == (
        "beard trim",
        "Sam Smith",
        CALLER,
    )
    assert booking.start_utc == utc(2026, 12, 4, 20)


async def test_one_sentence_with_everything_goes_straight_to_the_read_back() -> None:
    call = Conversation()
    turn = await call.say("My name is Sam, can I book a haircut next Friday at half past two?")
    assert turn.tools == ["check_availability"]
    assert turn.text.endswith(
        "Just to confirm, a haircut on Friday, December 4th at 2:30 PM for Sam. Shall I book it?"
    )


async def test_corrections_are_taken_before_booking() -> None:
    call = Conversation()
    await call.say("I'd like a haircut tomorrow at 10, my name is Sam")
    moved = await call.say("no, Thursday")
    assert moved.arguments("check_availability")["date"] == "2026-12-03"
    assert "Thursday, December 3rd at 10 AM for Sam" in moved.text
    later = await call.say("actually make it 4pm")
    assert "Thursday, December 3rd at 4 PM for Sam" in later.text
    change = await call.say("no")
    assert (
        change.text == "No problem. What would you like to change, the day, the time or the name?"
    )
    ask = await call.say("the name")
    assert ask.text == "What name should I put the booking under?"
    renamed = await call.say("Alex Jones")
    assert renamed.tools == []
    assert "Thursday, December 3rd at 4 PM for Alex Jones" in renamed.text
    await call.say("yes")
    [booking] = call.repo.bookings
    assert booking.customer_name == "Alex Jones"
    assert booking.start_utc == utc(2026, 12, 3, 21)


async def test_a_taken_time_gets_the_nearest_free_slots_from_the_tools() -> None:
    call = Conversation()
    await call.book_directly("2026-12-04T15:00")
    turn = await call.say("Can I get a haircut on Friday at 3pm?")
    free = turn.result("check_availability")
    assert free["requested_free"] is False
    assert turn.text == (
        "Sorry, 3 PM on Friday isn't available. On Friday, December 4th I have 2 PM, 2:30 PM"
        " or 3:30 PM. Which would suit you?"
    )
    # Every time offered came from the tool, none was made up.
    offered = sorted(str(slot["start_local"])[:16] for slot in free["slots"])
    assert offered == ["2026-12-04T14:00", "2026-12-04T14:30", "2026-12-04T15:30"]
    pick = await call.say("the second one")
    assert pick.text == (
        "Great, Friday, December 4th at 2:30 PM for your haircut."
        " What name should I put the booking under?"
    )
    await call.say("Sam")
    await call.say("yes")
    mine = [b for b in call.repo.bookings if b.customer_name == "Sam"]
    assert [b.start_utc for b in mine] == [utc(2026, 12, 4, 19, 30)]


async def test_a_time_taken_between_read_back_and_yes_offers_alternatives() -> None:
    call = Conversation()
    read_back = await call.say("a colour on Saturday at 11 for Jo")
    assert read_back.text.endswith("Shall I book it?")
    await call.book_directly("2026-12-05T11:00", service="colour")
    taken = await call.say("yes")
    assert taken.result("book_appointment")["status"] == "slot_taken"
    assert taken.text.startswith("Sorry, that time has just been taken. ")
    assert taken.text.endswith("Which would suit you?")
    chosen = await call.say("the first one")
    assert chosen.text.startswith("Just to confirm, a colour on ")
    await call.say("yes")
    mine = [b for b in call.repo.bookings if b.customer_name == "Jo"]
    assert len(mine) == 1
    assert mine[0].status == "confirmed"


async def test_a_day_with_nothing_free_says_so_and_offers_the_nearest_days() -> None:
    call = Conversation()
    await call.book_directly("2026-12-02T09:00", phone=OTHER)
    for hour in range(9, 17):
        for minute in (0, 30):
            start = f"2026-12-02T{hour:02d}:{minute:02d}"
            if start != "2026-12-02T09:00":
                await call.book_directly(start, phone=f"+1212555{hour:02d}{minute:02d}")
    turn = await call.say("a haircut on Wednesday please")
    assert turn.text.startswith("I don't have anything free on Wednesday. ")
    assert "Which would suit you?" in turn.text


async def test_a_part_of_the_day_narrows_the_offers() -> None:
    call = Conversation()
    turn = await call.say("a blow dry tomorrow afternoon")
    assert turn.arguments("check_availability")["time"] == "14:00"
    assert turn.text.startswith("On Wednesday, December 2nd I have ")
    assert " AM" not in turn.text


async def test_a_caller_in_london_books_in_their_own_time() -> None:
    call = Conversation(caller_zone="Europe/London")
    turn = await call.say("a haircut tomorrow at 3pm please, it's for Sam")
    assert turn.arguments("check_availability")["time"] == "15:00"
    assert turn.text.endswith(
        "Just to confirm, a haircut on Wednesday, December 2nd at 3 PM your time, that's 10 AM"
        " here in New York for Sam. Shall I book it?"
    )
    await call.say("yes")
    [booking] = call.repo.bookings
    assert booking.start_utc == utc(2026, 12, 2, 15)
    assert booking.caller_zone == "Europe/London"


async def test_tomorrow_is_the_callers_tomorrow() -> None:
    # 9 AM Tuesday in New York is already 1 AM Wednesday in Sydney.
    call = Conversation(caller_zone="Australia/Sydney")
    turn = await call.say("can I book a beard trim tomorrow")
    assert turn.arguments("check_availability")["date"] == "2026-12-03"


# -- existing bookings ------------------------------------------------------------------------


async def test_reschedule_may_overlap_the_booking_being_moved() -> None:
    call = Conversation()
    # A 90-minute colour from 10 AM; moving it half an hour later overlaps itself only.
    await call.book_directly("2026-12-03T10:00", service="colour", name="Sam", phone=CALLER)
    await call.say("I need to move my appointment")
    asked = await call.say("Thursday at 10:30")
    assert "isn't available" not in asked.text
    assert asked.text.endswith(
        "Just to confirm, move your colour to Thursday, December 3rd at 10:30 AM?"
    )
    done = await call.say("yes")
    assert done.tools == ["reschedule_appointment"]
    assert "10:30 AM" in done.text


async def test_reschedules_the_callers_booking() -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam", phone=CALLER)
    found = await call.say("I need to move my appointment")
    assert found.tools == ["find_booking"]
    assert found.text == (
        "I see your haircut on Thursday, December 3rd at 10 AM."
        " What day would you like to move it to?"
    )
    asked = await call.say("Saturday at 11")
    moving = found.result("find_booking")["bookings"][0]["booking_id"]  # type: ignore[index]
    assert asked.arguments("check_availability") == {
        "service": "haircut",
        "date": "2026-12-05",
        "days": 1,
        "time": "11:00",
        "exclude_booking_id": moving,
    }
    assert asked.text.endswith(
        "Just to confirm, move your haircut to Saturday, December 5th at 11 AM?"
    )
    done = await call.say("yes")
    assert done.text.startswith("I've moved your haircut to Saturday, December 5th at 11 AM.")
    [booking] = call.repo.bookings
    assert booking.start_utc == utc(2026, 12, 5, 16)
    assert booking.status == "confirmed"


async def test_cancels_after_reading_the_booking_back() -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam", phone=CALLER)
    ask = await call.say("please cancel my booking")
    assert ask.text == "I see your haircut on Thursday, December 3rd at 10 AM. Shall I cancel it?"
    done = await call.say("yes")
    assert done.text == (
        "I've cancelled your haircut on Thursday, December 3rd at 10 AM."
        " Would you like to book another time?"
    )
    assert [b.status for b in call.repo.bookings] == ["cancelled"]
    nothing = await call.say("no thanks")
    assert nothing.text == "No problem. Is there anything else I can help with?"


async def test_keeps_the_booking_when_the_caller_says_no() -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam", phone=CALLER)
    await call.say("cancel my appointment")
    kept = await call.say("no, leave it")
    assert kept.text == "Okay, I'll leave it as it is. Is there anything else I can help with?"
    assert [b.status for b in call.repo.bookings] == ["confirmed"]


async def test_finds_a_booking_by_name_when_the_number_has_none() -> None:
    call = Conversation()
    await call.book_directly("2026-12-04T12:00", service="colour", name="Sam Smith", phone=OTHER)
    first = await call.say("what's my booking?")
    assert first.text == (
        "I can't find a booking for the number you're calling from. What name is the booking under?"
    )
    found = await call.say("Sam Smith")
    assert found.arguments("find_booking") == {"customer_name": "Sam Smith"}
    assert found.text == (
        "You're booked for a colour on Friday, December 4th at noon."
        " Is there anything else I can help with?"
    )


async def test_asks_which_booking_when_there_are_several() -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam", phone=CALLER)
    await call.book_directly("2026-12-05T13:00", service="colour", name="Sam", phone=CALLER)
    which = await call.say("I want to cancel")
    assert which.text == (
        "I see your haircut on Thursday, December 3rd at 10 AM and your colour on Saturday,"
        " December 5th at 1 PM. Which one do you mean?"
    )
    chosen = await call.say("the colour")
    assert chosen.text == "I see your colour on Saturday, December 5th at 1 PM. Shall I cancel it?"
    await call.say("yes")
    statuses = {b.service: b.status for b in call.repo.bookings}
    assert statuses == {"haircut": "confirmed", "colour": "cancelled"}


# -- questions --------------------------------------------------------------------------------


async def test_prices_and_hours_are_spoken_from_the_tools() -> None:
    call = Conversation()
    price = await call.say("how much is a colour?")
    info = price.result("get_service_info")
    spoken = info["services"][0]["spoken"]
    assert price.text == f"{spoken} Would you like to book a colour?"
    assert "120 dollars" in price.text
    hours = await call.say("no, but what time do you close on Saturday?")
    assert hours.arguments("get_opening_hours") == {"date": "2026-12-05"}
    # The day asked about, from the tool's hours of that weekday.
    assert hours.result("get_opening_hours")["days"]["sat"] == [["10:00", "16:00"]]
    assert hours.text == (
        "On Saturday we're open 10 AM to 4 PM. Is there anything else I can help with?"
    )


async def test_a_price_question_without_a_service_gives_every_price() -> None:
    call = Conversation()
    ask = await call.say("how much do you charge?")
    assert ask.tools == ["get_service_info"]
    assert ask.text == (
        "A haircut is 45 dollars, a colour 120 dollars, a blow dry 35 dollars and a beard trim"
        " 20 dollars. Would you like to book an appointment?"
    )
    answer = await call.say("how long is a blow dry?")
    assert answer.text.startswith("A blow dry takes 45 minutes and costs 35 dollars.")


async def test_a_duration_question_without_a_service_asks_which() -> None:
    call = Conversation()
    ask = await call.say("how long does it take?")
    assert ask.tools == []
    assert ask.text == (
        "We offer haircut, colour, blow dry and beard trim."
        " Which service would you like to know about?"
    )
    answer = await call.say("a blow dry")
    assert answer.text.startswith("A blow dry takes 45 minutes and costs 35 dollars.")


async def test_a_service_asked_about_gets_its_facts_and_an_offer_to_book() -> None:
    call = Conversation()
    turn = await call.say("do you do blow drys?")
    assert turn.tools == ["get_service_info"]
    assert turn.text == (
        "Yes, we do. A blow dry takes 45 minutes and costs 35 dollars."
        " Would you like to book a blow dry?"
    )
    yes = await call.say("yes, on Saturday")
    assert yes.arguments("check_availability")["service"] == "blow dry"


async def test_a_follow_up_question_asks_the_same_thing_again() -> None:
    call = Conversation()
    await call.say("what are your opening hours?")
    sunday = await call.say("what about Sunday?")
    assert sunday.arguments("get_opening_hours") == {"date": "2026-12-06"}
    assert (
        sunday.text == "We're closed on Sundays and Mondays; we're open again Tuesday from 9 AM."
        " Is there anything else I can help with?"
    )
    await call.say("how much is a haircut?")
    colour = await call.say("and a colour?")
    assert colour.arguments("get_service_info") == {"service": "colour"}


async def test_never_mind_drops_the_task_under_way() -> None:
    call = Conversation()
    await call.say("I want a haircut on Friday")
    dropped = await call.say("actually, forget it")
    assert dropped.text == "No problem. Is there anything else I can help with?"
    assert call.flow["task"] is None
    assert isinstance((await call.say("no")).action, EndCall)


async def test_answers_faq_and_then_goes_back_to_the_booking() -> None:
    call = Conversation()
    await call.say("I'd like a haircut")
    turn = await call.say("is there parking nearby?")
    assert turn.text == (
        "There's free street parking on Maple Street, and a public lot behind the bakery."
        " What day would you like to come in?"
    )


# -- trouble ----------------------------------------------------------------------------------


async def test_unintelligible_audio_is_asked_again() -> None:
    call = Conversation()
    await call.say("a haircut please")
    again = await call.say("(unintelligible audio)")
    assert again.text == "Sorry, I didn't catch that. What day would you like to come in?"
    moving = await call.say("Saturday")
    assert moving.tools == ["check_availability"]
    assert call.flow["attempts"] == {}


async def test_a_day_in_the_past_is_refused_and_twice_offers_a_person() -> None:
    call = Conversation()
    await call.say("a haircut please")
    first = await call.say("yesterday")
    assert first.tools == []
    assert first.text == "That day has already passed. What day would you like to come in?"
    second = await call.say("last Friday then")
    assert second.text == (
        "That day has already passed. I'm sorry, I'm having trouble with this."
        " Would you like someone from the team to help you?"
    )


async def test_off_topic_gets_a_short_polite_redirect() -> None:
    call = Conversation()
    turn = await call.say("what's the weather going to be like?")
    assert turn.tools == []
    assert turn.text == (
        "Sorry, I can only help with appointments and questions about Maple Street Hair."
        " How can I help you today?"
    )


async def test_two_failed_attempts_at_one_question_offer_a_person() -> None:
    call = Conversation()
    await call.say("a haircut please")
    await call.say("(unintelligible audio)")
    offer = await call.say("purple monkey dishwasher")
    assert offer.text == (
        "I'm sorry, I'm having trouble with this. Would you like someone from the team to help you?"
    )
    transfer = await call.say("yes please")
    assert transfer.arguments("escalate")["reason"] == "caller needed help with the day"
    assert transfer.action == Transfer(
        number=FRONT_DESK,
        message="Connecting you with the front desk now.",
        reason="caller needed help with the day",
        priority="medium",
        trigger="model",
    )


async def test_declining_the_person_goes_back_to_the_question() -> None:
    call = Conversation()
    await call.say("a haircut please")
    await call.say("(unintelligible audio)")
    await call.say("(unintelligible audio)")
    back = await call.say("no, let's keep going")
    assert back.text == "Okay, let's try again. What day would you like to come in?"
    assert call.flow["attempts"] == {}


async def test_after_hours_a_person_becomes_a_callback_request() -> None:
    call = Conversation(now=MON_1800_NY)
    offer = await call.say("can I talk to someone at the front desk?")
    assert offer.tools == ["escalate"]
    assert offer.result("escalate")["status"] == "callback_required"
    assert offer.text.startswith("Our team is away right now, but someone can call you back.")
    assert offer.action is None
    number = await call.say("Dana Lee")
    assert number.text == "Is the number you're calling from the best one to reach you?"
    topic = await call.say("yes")
    assert topic.text == "And briefly, what is it about?"
    done = await call.say("I was overcharged last week")
    assert done.arguments("request_callback") == {
        "name": "Dana Lee",
        "reason": "caller asked for a person: i was overcharged last week",
        "priority": "medium",
    }
    assert done.text.startswith("Thank you, Dana Lee. Someone from the team will call you back.")
    [request] = call.repo.callbacks
    assert (request.name, request.phone) == ("Dana Lee", CALLER)


async def test_an_escalation_rule_without_transfer_collects_a_callback_in_one_go() -> None:
    call = Conversation(now=MON_1800_NY)
    trigger = EscalationTrigger(
        reason="caller is frustrated", trigger="frustration", priority="high"
    )
    offer = await call.say("this is useless, I want a manager", escalation=trigger)
    assert offer.tools == []
    assert offer.text.endswith(
        "Can I take your name, the best number to reach you, and what it's about?"
    )
    done = await call.say("Dana, 212 555 0199, it's about a refund")
    assert done.arguments("request_callback") == {
        "name": "Dana",
        "reason": "caller is frustrated: a refund",
        "priority": "high",
        "phone": "+12125550199",
    }
    [request] = call.repo.callbacks
    assert request.phone == "+12125550199"
    repeat = await call.say("I still want a manager", escalation=trigger)
    assert repeat.tools == []
    assert repeat.text.startswith("I've passed your details to the team")
    assert len(call.repo.callbacks) == 1


# -- silence, goodbyes ------------------------------------------------------------------------


async def test_reminders_check_in_once_then_wait_without_changing_anything() -> None:
    call = Conversation()
    await call.say("a blow dry please")
    before = call.flow
    first = await call.turn(kind="reminder")
    assert first.text == "Are you still there? What day would you like to come in?"
    second = await call.turn(kind="reminder")
    assert second.text == "I'm still here whenever you're ready."
    after = call.flow
    assert after["slots"] == before["slots"]
    assert after["attempts"] == before["attempts"]
    assert after["awaiting"] == "day"
    back = await call.say("Saturday morning")
    assert back.tools == ["check_availability"]


async def test_goodbye_ends_the_call_through_the_end_call_tool() -> None:
    call = Conversation()
    turn = await call.say("that's all, thanks, bye")
    assert turn.tools == ["end_call"]
    assert turn.action == EndCall("Thanks for calling Maple Street Hair. Have a great day!")


async def test_no_after_anything_else_is_a_goodbye() -> None:
    call = Conversation()
    await call.say("what time do you open on Friday?")
    turn = await call.say("no")
    assert isinstance(turn.action, EndCall)


# -- fallback, reconnects, staleness ----------------------------------------------------------


async def test_fallback_with_empty_state_continues_the_llm_conversation() -> None:
    call = Conversation(greeted=True)
    call.transcript = [
        Utterance(role="agent", content="Thanks for calling Maple Street Hair. How can I help?"),
        Utterance(role="user", content="Hi, I want to book a colour for Thursday"),
        Utterance(role="agent", content="Sure! What time on Thursday would you like?"),
        Utterance(role="user", content="around 2 in the afternoon"),
        Utterance(role="agent", content="2 PM is free. What name should I put it under?"),
    ]
    turn = await call.say("Priya Patel", fallback_reason="timeout")
    assert turn.text == (
        "Good news, that time is free. Just to confirm, a colour on Thursday, December 3rd at"
        " 2 PM for Priya Patel. Shall I book it?"
    )
    await call.say("yes")
    [booking] = call.repo.bookings
    assert (booking.service, booking.customer_name) == ("colour", "Priya Patel")
    assert booking.start_utc == utc(2026, 12, 3, 19)


async def test_fallback_does_not_redo_what_the_llm_already_booked() -> None:
    lines = [
        ("agent", "Thanks for calling Maple Street Hair. How can I help?"),
        ("user", "Can I book a haircut on Friday at 11 for Sam?"),
        ("agent", "Friday at 11 AM is free. Shall I book it?"),
        ("user", "yes"),
        ("agent", "You're booked for Friday at 11 AM. Anything else?"),
    ]
    woven = [TranscriptEntry(role=role, content=text) for role, text in lines]
    woven[4:4] = [
        TranscriptEntry(
            role="tool_call_invocation", tool_call_id="c1", name="book_appointment", arguments="{}"
        ),
        TranscriptEntry(
            role="tool_call_result", tool_call_id="c1", content='{"status":"confirmed"}'
        ),
    ]
    call = Conversation(greeted=True, woven=woven)
    call.transcript = [Utterance(role=role, content=text) for role, text in lines]
    turn = await call.say("is there parking?", fallback_reason="http_5xx")
    assert turn.tools == []
    assert turn.text == (
        "There's free street parking on Maple Street, and a public lot behind the bakery."
        " Is there anything else I can help with?"
    )


async def test_the_state_survives_a_reconnect_to_another_process() -> None:
    call = Conversation()
    await call.say("a haircut on Friday at 11")
    # Retell re-dials; a new process loads the stored JSON and the transcript.
    resumed = Conversation(
        repo=call.repo, transcript=list(call.transcript), stored_flow=call.stored_flow, greeted=True
    )
    turn = await resumed.say("Sam")
    assert turn.text == (
        "Just to confirm, a haircut on Friday, December 4th at 11 AM for Sam. Shall I book it?"
    )


async def test_unreadable_stored_state_starts_afresh() -> None:
    call = Conversation(stored_flow=json.dumps({"version": 1, "slots": "garbage"}))
    turn = await call.say("I'd like a haircut")
    assert turn.text == "What day would you like to come in?"


async def test_a_superseded_turn_books_nothing_and_keeps_no_state() -> None:
    call = Conversation()
    await call.say("a haircut on Friday at 11 for Sam")
    before = call.stored_flow
    stale = await call.say("yes", current=False)
    assert "book_appointment" not in stale.tools
    assert call.repo.bookings == []
    assert call.stored_flow == before
    call.transcript.pop()  # Retell's next request carries the caller's full turn instead
    await call.say("yes, book it")
    assert len(call.repo.bookings) == 1


async def test_tool_events_pair_up_with_flow_ids_in_order() -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam", phone=CALLER)
    turn = await call.say("can I move my appointment to Saturday at 11?")
    tool_events = [e for e in turn.events if isinstance(e, ToolStarted | ToolFinished)]
    rid = call.response_id
    assert [(type(e).__name__, e.tool_call_id, e.name) for e in tool_events] == [
        ("ToolStarted", f"flow_{rid}_1", "find_booking"),
        ("ToolFinished", f"flow_{rid}_1", "find_booking"),
        ("ToolStarted", f"flow_{rid}_2", "check_availability"),
        ("ToolFinished", f"flow_{rid}_2", "check_availability"),
    ]
    finished = [e for e in tool_events if isinstance(e, ToolFinished)]
    assert all(e.successful for e in finished)
    # Chunks join into clean sentences: each after the first starts with a space.
    chunks = [e.text for e in turn.events if isinstance(e, TextChunk)]
    assert all(chunk.startswith(" ") for chunk in chunks[1:])
    assert not chunks[0].startswith(" ")


async def test_the_day_of_the_booking_and_the_new_day_in_one_sentence() -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam", phone=CALLER)
    await call.book_directly("2026-12-04T10:00", service="colour", name="Sam", phone=CALLER)
    turn = await call.say("I need to move my Friday appointment to Saturday")
    assert turn.text.startswith("I see your colour on Friday, December 4th at 10 AM. ")
    assert turn.arguments("check_availability")["date"] == "2026-12-05"


async def test_naming_the_bookings_own_day_asks_where_to_move_it() -> None:
    call = Conversation()
    await call.book_directly("2026-12-03T10:00", name="Sam", phone=CALLER)
    turn = await call.say("can I reschedule my Thursday appointment?")
    assert turn.tools == ["find_booking"]
    assert turn.text.endswith("What day would you like to move it to?")


async def test_a_longer_no_is_not_a_goodbye() -> None:
    call = Conversation()
    await call.say("what time do you open on Friday?")
    more = await call.say("no, I have another question")
    assert more.action is None
    assert more.text == "Sure, go ahead."
    answer = await call.say("is there parking?")
    assert answer.text.startswith("There's free street parking")
