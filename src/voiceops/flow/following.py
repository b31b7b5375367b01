"""The services asked for with the first one: where each falls, and whether it is free.

"A beard trim and a haircut" books the second straight after the first; "a colour on
Wednesday at 10 and a beard trim on Saturday at 11" books each at its own day and time.
Either way every further service is checked free before the read-back, so nothing is
promised (or booked) that cannot be kept: one that doesn't fit straight after moves the
first; one whose own time is taken gets its own free times offered, and the caller picks
one (or names another time, or lets it go) before either is booked. Once the caller agrees,
the first is booked and the rest follow (:meth:`FollowingSteps._book_next`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING

from voiceops.core.ports import ToolStatus
from voiceops.flow.slots import SlotFilling
from voiceops.flow.steps import Call, Say, Step, result_of
from voiceops.flow.wording import with_article
from voiceops.tools.booking import intervals_on
from voiceops.tools.results import Availability, ToolFailure
from voiceops.tools.timefmt import spoken_clock, weekday_name

if TYPE_CHECKING:
    from voiceops.core.ports import ToolOutcome
    from voiceops.flow.state import Offer, Slots
    from voiceops.flow.understand import Understanding
    from voiceops.tools.results import SlotView


class FollowingSteps(SlotFilling):
    """Checking, offering and booking the services that follow the first."""

    # --- hand-overs, implemented by ``flow/booking.py`` ---------------------------------

    def _availability(self) -> Call:
        """Check the first service's day and time."""
        raise NotImplementedError

    def _offers_from(self, views: Sequence[SlotView]) -> list[Offer]:
        raise NotImplementedError

    def _picked(self, u: Understanding, offers: list[Offer]) -> Offer | None:
        """The offer the caller chose, if one."""
        raise NotImplementedError

    # --- where each falls, and checking it ----------------------------------------------

    def _following_starts(self) -> list[datetime]:
        """Where each further service falls: at its own day and time when one was said,
        else straight after the one before, on the slot step."""
        slots = self.state.slots
        if not slots.then or slots.start is None:
            return []
        step = self.profile.booking.slot_step_min
        starts: list[datetime] = []
        at = slots.start
        for i, before in enumerate([slots.service or "", *slots.then[:-1]]):
            own_day, own_at = _own(slots, i)
            if own_at is not None:
                at = datetime.combine(own_day or at.date(), own_at)
            else:
                kind = self.profile.service(before)
                at += timedelta(minutes=kind.duration_min if kind else step)
                at += timedelta(minutes=-(at.minute % step) % step)
            starts.append(at)
        return starts

    def _following_check(self, index: int) -> Call:
        slots = self.state.slots
        starts = slots.then_times[index]
        args = {
            "service": slots.then[index],
            "date": starts.date().isoformat(),
            "days": 1,
            "time": starts.strftime("%H:%M"),
        }
        return Call("check_availability", args, then=partial(self._after_following, index))

    def _after_following(self, index: int, outcome: ToolOutcome) -> list[Step]:
        """The next service is free: check the one after, or read back. It is not: one
        straight after moves the first (other times offered for it); one at its own time
        gets other times of its own offered, the first staying where it is."""
        slots = self.state.slots
        result = result_of(outcome, Availability)
        if result.status is ToolStatus.SUPERSEDED:
            return []
        if isinstance(result, ToolFailure) or result.status is not ToolStatus.OK:
            return self._tool_refused("availability", result, ask="day")
        wanted = slots.then_times[index]
        if any(self._wall(view) == wanted for view in result.slots):
            return self._fitted(index)
        if _own(slots, index)[1] is not None:
            return self._offer_following(index, wanted, self._offers_from(result.slots))
        first, service = slots.start, slots.then[index]
        if first is not None:
            slots.unfit.append(first)
            slots.near = first.time()
        slots.at = None
        slots.clear_time()
        which = f"second {service}" if service == slots.service else service
        said = f"Sorry, the {which} wouldn't fit straight after, at {spoken_clock(wanted.time())}."
        return [Say(said), self._availability()]

    def _fitted(self, index: int) -> list[Step]:
        """``then[index]`` is free where it falls: check the next one, or read back."""
        slots = self.state.slots
        if index + 1 < len(slots.then):
            return [self._following_check(index + 1)]
        slots.then_fit = True
        return self._advance()

    def _offer_following(self, index: int, wanted: datetime, offers: list[Offer]) -> list[Step]:
        """``then[index]`` is taken at its own day and time: its free times, before anything
        is booked. The first one keeps its time."""
        state, slots = self.state, self.state.slots
        service = slots.then[index]
        day = wanted.date()
        if intervals_on(self.profile, day):
            at = spoken_clock(wanted.time())
            head = f"Sorry, the {service} isn't free on {weekday_name(day)} at {at}."
        else:
            head = f"We're closed on {weekday_name(day)}s, so the {service} can't be then."
        slots.offer_then = index
        state.offers = sorted(offers, key=lambda o: o.start)
        if not state.offers:
            state.awaiting = "offer"
            return [Say(head), Say(f"Which other day would suit you for the {service}?")]
        self.offer_for = service
        self._recapped()
        return [Say(head), *self._ask("offer")]

    def _on_following_offer(self, u: Understanding) -> list[Step] | None:
        """A reply to the times offered for a following service (``slots.offer_then``)."""
        state, slots = self.state, self.state.slots
        index = slots.offer_then
        if index is None or index >= len(slots.then):
            slots.offer_then = None
            return None
        service = slots.then[index]
        chosen = self._picked(u, state.offers) if state.offers else None
        if chosen is not None:
            _set_own(slots, index, chosen.start.date(), chosen.start.time())
            slots.offer_then, state.offers = None, []
            state.attempts.pop("offer", None)
            said = f"Great, {with_article(service)} on {chosen.spoken}."
            return [Say(said), *self._fitted(index)]
        day, at = u.when.day, u.when.at
        if day is not None or at is not None:
            # Another day or time for it: check that one.
            own_day, own_at = _own(slots, index)
            _set_own(slots, index, day or own_day, at or own_at)
            slots.offer_then, state.offers = None, []
            slots.then_times = self._following_starts()
            return [self._following_check(index)]
        if u.deny and not u.has_slot_value:
            # Not at any of those: the first on its own, the rest another time.
            dropped = slots.then[index:]
            del slots.then[index:], slots.then_days[index:], slots.then_ats[index:]
            del slots.then_names[index:]
            slots.offer_then, state.offers = None, []
            slots.then_fit = True
            left = " and ".join(f"the {s}" for s in dropped)
            return [Say(f"No problem, I'll leave {left} for now."), *self._advance()]
        if u.affirm and not u.has_slot_value:
            return [Say("Which one would you like?"), *self._ask("offer", say=False)]
        return None

    # --- booking them, once agreed ------------------------------------------------------

    def _book_next(self, done: Slots, start: datetime) -> list[Step]:
        """The next service asked for with the one just booked (``done``, which started at
        ``start``): at its own time, or straight after; the caller already agreed to it."""
        nxt = done.then_times[0] if done.then_times else None
        if nxt is None:
            kind = self.profile.service(done.service or "")
            step = self.profile.booking.slot_step_min
            nxt = start + timedelta(minutes=kind.duration_min if kind else step)
            nxt += timedelta(minutes=-(nxt.minute % step) % step)
        self._begin_booking()
        slots = self.state.slots
        slots.name, slots.by_phone = done.name, done.by_phone
        if done.then_names:
            slots.name, slots.by_phone = done.then_names[0], False
            slots.then_names = done.then_names[1:]
        slots.agreed, slots.own_time = True, any(done.then_ats)
        slots.service, slots.then = done.then[0], done.then[1:]
        slots.then_times = done.then_times[1:]
        slots.then_days, slots.then_ats = done.then_days[1:], done.then_ats[1:]
        slots.then_fit = done.then_fit
        slots.day, slots.at = nxt.date(), nxt.time()
        return [self._availability()]


def _own(slots: Slots, index: int) -> tuple[date | None, time | None]:
    """The day and time said for ``then[index]``, if any."""
    day = slots.then_days[index] if index < len(slots.then_days) else None
    at = slots.then_ats[index] if index < len(slots.then_ats) else None
    return day, at


def _set_own(slots: Slots, index: int, day: date | None, at: time | None) -> None:
    """Give ``then[index]`` its own day and time (the lists padded as needed)."""
    while len(slots.then_days) <= index:
        slots.then_days.append(None)
    while len(slots.then_ats) <= index:
        slots.then_ats.append(None)
    slots.then_days[index], slots.then_ats[index] = day, at
