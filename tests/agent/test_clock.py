"""Caller zone resolution: metadata, dynamic variables, phone number, business zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import parse as parse_number
from phonenumbers import timezone as number_zones

from tests.tools.support import LONDON, NEW_YORK, make_profile
from voiceops.core.caller import resolve_caller_clock, zone_for_number
from voiceops.core.transcript import CallObject

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
PROFILE = make_profile()


def call(**fields: Any) -> CallObject:
    return CallObject(call_id="c1", **fields)


@pytest.mark.parametrize("key", ["caller_timezone", "timezone", "time_zone"])
def test_metadata_wins(key: str) -> None:
    clock = resolve_caller_clock(
        call(
            metadata={key: "Asia/Tokyo"},
            retell_llm_dynamic_variables={key: LONDON},
            from_number="+442071838750",
        ),
        PROFILE,
        NOW,
    )
    assert clock.zone == ZoneInfo("Asia/Tokyo")
    assert clock.source == "metadata"
    assert clock.business_zone == ZoneInfo(NEW_YORK)
    assert clock.now_utc == NOW
    assert clock.now_local.hour == 23
    assert clock.zones_differ


def test_dynamic_variables_when_metadata_has_none() -> None:
    clock = resolve_caller_clock(
        call(metadata={"other": 1}, retell_llm_dynamic_variables={"time_zone": " Europe/Paris "}),
        PROFILE,
        NOW,
    )
    assert clock.zone == ZoneInfo("Europe/Paris")
    assert clock.source == "dynamic_variables"


@pytest.mark.parametrize(
    "garbage",
    [
        "Mars/Olympus_Mons",
        "",
        "   ",
        "../../etc/passwd",
        "localtime",
        "EST5EDT/../x",
        42,
        None,
        ["Europe/London"],
        {"zone": "Europe/London"},
        "Europe/London" * 10,
        "America",
        "zone.tab",
        "tzdata.zi",
        "posix/Europe/London",
        "right/UTC",
        "/usr/share/zoneinfo/Europe/London",
        "Europe/London\x00",
    ],
)
def test_invalid_zone_values_fall_through(garbage: object) -> None:
    clock = resolve_caller_clock(
        call(
            metadata={"caller_timezone": garbage},
            retell_llm_dynamic_variables={"timezone": garbage},
            from_number="+442071838750",
        ),
        PROFILE,
        NOW,
    )
    assert clock.zone == ZoneInfo(LONDON)
    assert clock.source == "phone_number"


def test_uk_caller_of_a_new_york_business() -> None:
    clock = resolve_caller_clock(
        call(direction="inbound", from_number="+442071838750", to_number="+12125550142"),
        PROFILE,
        NOW,
    )
    assert clock.zone == ZoneInfo(LONDON)
    assert clock.source == "phone_number"
    assert clock.now_local.hour == 14
    assert clock.now_business.hour == 9


def test_outbound_calls_use_the_dialled_number() -> None:
    clock = resolve_caller_clock(
        call(direction="outbound", from_number="+12125550142", to_number="+61291234567"),
        PROFILE,
        NOW,
    )
    assert clock.zone == ZoneInfo("Australia/Sydney")


def test_several_zones_including_the_business_zone_pick_the_business_zone() -> None:
    # A US toll-free number maps to every North American zone, New York among them.
    clock = resolve_caller_clock(call(from_number="+18005551234"), PROFILE, NOW)
    assert clock.zone == ZoneInfo(NEW_YORK)
    assert clock.source == "phone_number"
    moscow = make_profile(business_zone="Europe/Moscow")
    assert zone_for_number("+79161234567", ZoneInfo("Europe/Moscow")) == ZoneInfo("Europe/Moscow")
    assert resolve_caller_clock(call(from_number="+79161234567"), moscow, NOW).zone == (
        ZoneInfo("Europe/Moscow")
    )


def test_several_zones_without_the_business_zone_pick_the_first_stably() -> None:
    # An Australian mobile spans several zones; New York is not among them.
    candidates = number_zones.time_zones_for_number(parse_number("+61412345678"))
    assert len(candidates) > 1
    picks = {
        resolve_caller_clock(call(from_number="+61412345678"), PROFILE, NOW).zone for _ in range(3)
    }
    assert picks == {ZoneInfo(candidates[0])}


@pytest.mark.parametrize(
    "number", ["not a number", "+15555555555", "12345", "+", "", "+99912345678", "0" * 40]
)
def test_unusable_numbers_fall_back_to_the_business_zone(number: str) -> None:
    clock = resolve_caller_clock(call(from_number=number), PROFILE, NOW)
    assert clock.zone == ZoneInfo(NEW_YORK)
    assert clock.source == "business"
    assert not clock.zones_differ


def test_no_call_or_web_call_uses_the_business_zone() -> None:
    assert resolve_caller_clock(None, PROFILE, NOW).source == "business"
    assert resolve_caller_clock(call(call_type="web_call"), PROFILE, NOW).source == "business"


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        resolve_caller_clock(None, PROFILE, datetime(2026, 12, 1, 14))


def test_now_is_normalised_to_utc() -> None:
    local_now = NOW.astimezone(ZoneInfo("Asia/Tokyo"))
    clock = resolve_caller_clock(None, PROFILE, local_now)
    assert clock.now_utc.tzinfo == UTC
    assert clock.now_utc == NOW


_ANY_VALUE = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=80),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=2),
)


@given(
    metadata=st.one_of(
        st.none(),
        st.dictionaries(
            st.sampled_from(["caller_timezone", "timezone", "time_zone", "x"]), _ANY_VALUE
        ),
    ),
    dynamic=st.one_of(
        st.none(),
        st.dictionaries(
            st.sampled_from(["caller_timezone", "timezone", "time_zone", "y"]), _ANY_VALUE
        ),
    ),
    number=st.one_of(
        st.none(), st.text(max_size=40), st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)
    ),
    direction=st.sampled_from([None, "inbound", "outbound", "sideways"]),
)
def test_resolution_never_raises_and_always_yields_a_real_zone(
    metadata: dict[str, Any] | None,
    dynamic: dict[str, Any] | None,
    number: str | None,
    direction: str | None,
) -> None:
    clock = resolve_caller_clock(
        call(
            metadata=metadata,
            retell_llm_dynamic_variables=dynamic,
            from_number=number,
            to_number=number,
            direction=direction,
        ),
        PROFILE,
        NOW,
    )
    assert ZoneInfo(clock.zone.key) == clock.zone
    assert clock.source in ("metadata", "dynamic_variables", "phone_number", "business")
