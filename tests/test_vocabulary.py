"""The business's spoken vocabulary has one home: every part that says the weekly hours,
a clock time or reads a phone number says it the same way.

These are behaviour tests: each drives the callers (the prompt, the tools, the speech
filter, the caller's zone, the log mask, the booking lookup) and checks they agree, so a
second rendering added anywhere shows up as a disagreement.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tests.agent.test_prompts import make_ctx
from tests.tools.support import make_profile, make_toolbox
from voiceops.agent.prompts import render_system_prompt
from voiceops.core.caller import zone_for_number
from voiceops.core.phone import possible_phone, read_phone
from voiceops.masking import mask_phone
from voiceops.speech import clean
from voiceops.tools.timefmt import spoken_clock, spoken_week

NEW_YORK = ZoneInfo("America/New_York")


async def _opening_hours_said(**profile_overrides: object) -> str:
    toolbox, _, _ = make_toolbox(profile=make_profile(**profile_overrides))
    outcome = await toolbox.run("get_opening_hours", json.dumps({}))
    spoken = json.loads(outcome.result.model_dump_json())["spoken"]
    assert isinstance(spoken, str)
    return spoken


async def test_prompt_and_opening_hours_tool_say_the_same_week() -> None:
    hours = {"mon": ["09:00-12:00", "13:00-17:30"], "tue": ["09:00-17:30"], "sat": ["00:00-12:00"]}
    profile = make_profile(opening_hours=hours)
    week = spoken_week(profile.opening_hours)
    assert week == (
        "Monday 9 AM to noon and 1 PM to 5:30 PM, Tuesday 9 AM to 5:30 PM, "
        "Saturday midnight to noon; closed Wednesday, Thursday, Friday and Sunday"
    )
    prompt = render_system_prompt(make_ctx(profile)).static
    assert f"Opening hours, America/New_York time: {week}." in prompt
    assert (await _opening_hours_said(opening_hours=hours)).startswith(f"We're open {week}.")


@pytest.mark.parametrize(
    ("at", "said"),
    [(time(12), "noon"), (time(0), "midnight"), (time(14), "2 PM"), (time(9, 30), "9:30 AM")],
)
def test_every_clock_time_is_said_by_one_function(at: time, said: str) -> None:
    assert spoken_clock(at) == said
    # The model's own 24-hour text, through the speech filter.
    assert clean(f"Open {at:%H:%M}-23:00.") == f"Open {said} to 11 PM."
    # The prompt's clock facts: the business's time right now.
    now = datetime.combine(date(2026, 12, 1), at, tzinfo=NEW_YORK).astimezone(UTC)
    prompt = render_system_prompt(make_ctx(make_profile(), now=now))
    assert f"Now for the caller: Tuesday, December 1st (2026-12-01), {said}," in prompt.text


def test_noon_in_the_models_text_is_said_as_the_tools_say_it() -> None:
    assert clean("We're open 12:00-17:00 on Saturday.") == ("We're open noon to 5 PM on Saturday.")
    assert clean("Last slot 00:00.") == "Last slot midnight."


UK = "+44 20 7183 8750"


async def test_one_reading_of_a_number_for_tools_speech_zone_mask_and_lookup() -> None:
    toolbox, repo, _ = make_toolbox(caller_phone=None)
    booked = await toolbox.run(
        "book_appointment",
        json.dumps(
            {
                "service": "haircut",
                "start": "2026-12-02T10:00",
                "customer_name": "Ann Lee",
                "customer_phone": UK,
            }
        ),
    )
    assert booked.result.status == "confirmed"
    (stored,) = repo.bookings
    phone = read_phone(UK)
    assert phone is not None
    assert stored.customer_phone == phone.e164 == "+442071838750"
    assert clean(f"Call {stored.customer_phone}.") == "Call plus 4 4, 2 0, 7 1 8 3, 8 7 5 0."
    assert zone_for_number(UK, NEW_YORK) == ZoneInfo("Europe/London")
    assert mask_phone(stored.customer_phone) == "+44******8750"
    # Found by its digits however it is written.
    assert await repo.find_bookings(phone="+44 (20) 7183-8750") == [stored]


async def test_a_number_that_cannot_exist_is_refused_and_not_grouped() -> None:
    short = "+44 20 7"
    assert read_phone(short) is not None and possible_phone(short) is None
    toolbox, repo, _ = make_toolbox(caller_phone=None)
    refused = await toolbox.run(
        "book_appointment",
        json.dumps(
            {
                "service": "haircut",
                "start": "2026-12-02T10:00",
                "customer_name": "Ann Lee",
                "customer_phone": short,
            }
        ),
    )
    assert refused.result.status != "confirmed"
    assert "not a possible phone number" in (refused.result.error or "")
    assert repo.bookings == []
    assert clean(f"Call {short}.") == "Call plus 44 20 7."  # not grouped as a number
    assert zone_for_number(short, NEW_YORK) is None
