"""Answers to questions, in a booking or outside one: prices and durations, opening hours
and the last start of a day, the service list, FAQ entries, services not offered.

Prices, durations and hours are spoken from the catalogue and hours tools
(``get_service_info``, ``get_opening_hours``); the last start of a day ("how late can I get
a haircut on Friday?") from the profile's opening hours and the service's length, as the
booking tools count them. :class:`AnswerSteps` is one part of
:class:`~voiceops.flow.dialogue.Dialogue`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from voiceops.core.ports import ToolStatus
from voiceops.flow.base import DialogueBase
from voiceops.flow.hours import MAX_DAYS_NAMED, asked_days, hours_on_days
from voiceops.flow.steps import Call, Say, Step, result_of
from voiceops.flow.wording import (
    SERVICES_LISTED,
    hours_now,
    not_offered,
    prices_sentence,
    services_sentence,
    with_article,
)
from voiceops.tools.booking import intervals_on
from voiceops.tools.results import OpeningHours, ServiceInfo
from voiceops.tools.timefmt import spoken_clock, spoken_duration, weekday_name, zone_place

if TYPE_CHECKING:
    from voiceops.core.ports import ToolOutcome
    from voiceops.flow.state import Topic
    from voiceops.flow.understand import Understanding


@dataclass(frozen=True, slots=True)
class _Priced:
    steps: list[Step]
    offer: str | None
    """The service to offer to book after its price, if any."""


class AnswerSteps(DialogueBase):
    """The part of the dialogue that answers questions."""

    def _info(self, u: Understanding, *, follow_up: bool) -> list[Step]:
        """Answers to questions (prices, hours, FAQ, services) in the utterance, if any.

        With ``follow_up`` the answers end with a question (book one? anything else?);
        without, the caller's task goes on after them.
        """
        state = self.state
        steps: list[Step] = []
        offer_booking: str | None = None
        missing = u.service is None and (u.not_offered or u.unlisted)
        if u.intents & {"price", "duration"} and not missing:
            # "Do you do keratin, how much is it?": no price list for what is not offered.
            priced = self._prices(u)
            if isinstance(priced, list):
                return priced  # every price, or which service?
            steps.extend(priced.steps)
            offer_booking = priced.offer
        steps.extend(self._hours(u))
        if "hours" in u.intents and u.service is not None and not u.latest:
            offer_booking = u.service  # "I need a haircut, what days are you open?"
        if u.latest and u.service is not None and u.service != state.last_service:
            offer_booking = u.service
        if u.faq:
            steps.append(Say(u.faq))
            if u.service is not None and offer_booking is None:
                # "Do you do kids' haircuts?": the answer, then an offer to book one.
                offer_booking = u.service
        if u.not_offered is not None or u.unlisted:
            steps.append(Say(not_offered(self.profile, u.not_offered or u.offered_asked)))
            offer_booking = offer_booking or ""
        elif u.unknown_question and not follow_up:
            steps.append(Say("I don't have that information, but the team can tell you."))
        if u.stylist is not None:
            steps.append(Say(self._stylist_line(u.stylist)))
            offer_booking = offer_booking or ""
        if "services" in u.intents:
            steps.append(Say(services_sentence(self.profile)))
            offer_booking = offer_booking or ""
        if not steps or not follow_up:
            return steps
        if "hours" in u.intents:
            state.last_topic = "hours"
        elif u.intents & {"price", "duration"}:
            state.last_topic = "price" if "price" in u.intents else "duration"
        elif "services" in u.intents:
            state.last_topic = "services"
        if offer_booking is not None and state.task is None:
            state.slots.service = offer_booking or None
            return [*steps, *self._ask("book_offer")]
        return [*steps, *self._ask("anything_else")]

    @staticmethod
    def _asks(u: Understanding) -> bool:
        """A question to answer ("okay, and how much is a haircut?"), not a yes to an offer."""
        return bool(u.intents & {"price", "duration", "hours", "services"} or u.faq)

    def _continued(self, u: Understanding, topic: Topic) -> Understanding:
        """ "And a blowout?", "what about colour?" after a price: the same question for what
        is named now. An "okay" before it is no yes to the booking offered."""
        if u.intents - {"thanks", "greeting"}:
            return u
        if topic != "hours" and u.service is None and not u.when.empty:
            return u  # "What about Friday morning?" after a price: a time asked for
        if topic == "services" and u.service is not None:
            topic = "price"  # "And a blow dry?" after the list: what it costs
        return replace(u, intents=u.intents | {topic}, affirm=False)

    def _stylist_line(self, stylist: str) -> str:
        """A stylist asked for: the profile knows nobody's days, so say so (shorter again)."""
        said = self.state.asked.get("stylist", 0)
        self.state.asked["stylist"] = said + 1
        if said:
            return f"Sorry, I can't see when {stylist} is in."
        return "I can't book a particular stylist or see who's in, but I can book the time for you."

    def _prices(self, u: Understanding) -> _Priced | list[Step]:
        """Each price or length asked for; the whole list, or "which service?", as the
        turn's only answer when no service is named."""
        state = self.state
        service = (
            u.service
            or state.slots.service
            or (state.target.service if state.target else None)
            or state.last_service
        )
        few = len(self.profile.services) <= SERVICES_LISTED
        if service is None and "price" in u.intents and few:
            # "What are your prices?": every price at once, from the catalogue tool.
            state.last_topic = "price"
            return [
                Call("get_service_info", {}, then=self._all_prices),
                *self._ask("book_offer" if state.task is None else "anything_else", say=False),
            ]
        if service is None:
            return [Say(services_sentence(self.profile)), *self._ask("info_service")]
        steps: list[Step] = []
        for each in u.services or (service,):
            # "A haircut and a beard trim, how much?": each one's price.
            # "And how long does it take?" after its price: the length alone, not both again.
            told = state.asked.get(f"info:{each}", 0)
            length_only = bool(told) and "price" not in u.intents
            steps.extend(self._service_info(each, follow_up=False, length_only=length_only))
        offer = service if service != state.last_service and not u.services else None
        return _Priced(steps, offer)

    def _hours(self, u: Understanding) -> list[Step]:
        """The hours asked for: the last start of a service on a day, the hours of the days
        named (opening and closing both, "how late are you open?" too), or today's."""
        latest = self._latest(u) if u.latest else None
        if latest is not None:
            return [Say(latest)]
        if "hours" not in u.intents:
            return []
        days = asked_days(u.when)
        week = u.week_hours or len(days) > MAX_DAYS_NAMED
        # "Are you open on Sunday?", "this weekend?": those days; "what days?": the week.
        args: dict[str, Any] = {"date": days[0].isoformat()} if days and not week else {}
        if days:
            self.closed_said = not intervals_on(self.profile, days[0])
        asked = [] if week else days
        return [Call("get_opening_hours", args, then=partial(self._after_hours, week, asked))]

    def _latest(self, u: Understanding) -> str | None:
        """ "How late can I get a haircut on Friday?": when that day closes, and the last
        start of the service that still ends by then (the profile's hours)."""
        day = u.when.day
        kind = self.profile.service(u.service or self.state.slots.service or "")
        if day is None or kind is None or len(asked_days(u.when)) > 1:
            # "What time do you open tomorrow, and how late are you there?": the day's
            # hours, opening and closing, from the hours tool.
            return None
        hours = intervals_on(self.profile, day)
        name = weekday_name(day)
        if not hours:
            return f"We're closed on {name}s."
        closes = hours[-1].end
        line = f"On {name}s we're open until {spoken_clock(closes)}"
        step = self.profile.booking.slot_step_min
        last = datetime.combine(day, closes) - timedelta(minutes=kind.duration_min)
        last -= timedelta(minutes=last.minute % step)
        return f"{line}, so the last {kind.name} starts at {spoken_clock(last.time())}."

    def _service_info(
        self, service: str, *, follow_up: bool, length_only: bool = False
    ) -> list[Step]:
        """What ``service`` costs and how long it takes, from the catalogue tool; only how
        long with ``length_only`` ("and how long does it take?" after the price)."""

        def said(outcome: ToolOutcome) -> list[Step]:
            result = result_of(outcome, ServiceInfo)
            if isinstance(result, ServiceInfo) and result.status is ToolStatus.OK:
                view = result.services[0] if result.services else None
                if view is not None and length_only:
                    length = spoken_duration(view.duration_min)
                    return [Say(f"{with_article(view.name).capitalize()} takes {length}.")]
                if view is not None and view.spoken:
                    return [Say(view.spoken.rstrip(".") + ".")]
            return [Say("Sorry, I can't look that up right now.")]

        told = f"info:{service}"
        self.state.asked[told] = self.state.asked.get(told, 0) + 1
        steps: list[Step] = [Call("get_service_info", {"service": service}, then=said)]
        if follow_up:
            if self.state.task is None:
                self.state.slots.service = service
                self.state.last_topic = "price"
                steps.extend(self._ask("book_offer"))
            else:
                steps.extend(self._advance())
        return steps

    def _all_prices(self, outcome: ToolOutcome) -> list[Step]:
        result = result_of(outcome, ServiceInfo)
        if isinstance(result, ServiceInfo) and result.status is ToolStatus.OK and result.services:
            return [Say(prices_sentence(result.services)), Say(self._question(self.state.awaiting))]
        return [Say("Sorry, I can't look that up right now.")]

    def _after_hours(self, week: bool, days: list[date], outcome: ToolOutcome) -> list[Step]:
        result = result_of(outcome, OpeningHours)
        if isinstance(result, OpeningHours) and result.spoken:
            if week:
                return [Say(result.spoken)]
            if days:
                # Booking at the same time names the next open day itself.
                again = self.state.task not in ("book", "reschedule")
                said = hours_on_days(result, days, self.today, next_open=again)
                here = f" That's {zone_place(self.clock.business_zone)} time."
                return [Say(said + (here if self.clock.zones_differ else ""))]
            return [Say(hours_now(result, self.clock))]
        return [Say("Sorry, I can't look up our hours right now.")]

    # --- answers to its own questions ---------------------------------------------------

    def _on_info_service(self, u: Understanding) -> list[Step] | None:
        if u.service is None:
            return None
        self.state.attempts.pop("info_service", None)
        return self._service_info(u.service, follow_up=True)
