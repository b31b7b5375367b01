"""Filling a booking's slots from what the caller says: service, day, time, name.

:class:`SlotFilling` takes each utterance's values into the
:class:`~voiceops.flow.state.Slots` (:meth:`SlotFilling._apply`), in any order and
corrected at will: a service named (or turned down), a day or a day turned down, a clock
time or a part of the day, the relative phrases ("the one after", "in an hour", "push it
back an hour", "the Tuesday after" the day in hand), two services or two people, a name.
``flow/booking.py`` builds the booking dialogue on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from voiceops.flow.base import DialogueBase
from voiceops.flow.bounds import within
from voiceops.flow.lexicon import lexicon_for, likely_service, services_in
from voiceops.flow.moving import settle, take_marks
from voiceops.flow.othertimes import asks_other_times, look_beyond
from voiceops.flow.steps import Say, Step
from voiceops.flow.when import part_of
from voiceops.flow.wording import join_and, with_article
from voiceops.tools.booking import intervals_on
from voiceops.tools.timefmt import spoken_date, weekday_name

if TYPE_CHECKING:
    from voiceops.flow.understand import Understanding
    from voiceops.flow.when import When


_ADDED = re.compile(
    r"\b(?:as well|too|also|straight after|right after|after that|plus|at the same time"
    r"|(?:can|could|may) my \w+ (?:come|have|get|book)|for my \w+ (?:as well|too|also))\b"
)
"""A second service added to the one in hand, not put in its place: "a beard trim as well",
"can my husband come in at the same time for a beard trim?"."""


class SlotFilling(DialogueBase):
    """Taking what the caller said into the booking's slots."""

    moved_from: datetime | None = None
    """What a move said relative to the booking is counted from: the new time agreed so
    far, else the booking's own start (set by each :meth:`_apply`)."""

    def _begin_booking(self) -> None:
        state = self.state
        state.finish_task()
        state.task = "book"
        state.since_recap = 1
        if state.slots.name is None and self.caller_name:
            state.slots.name = self.caller_name

    def _apply(self, u: Understanding) -> tuple[bool, list[Step]]:
        """Put the utterance's values into the slots; returns (changed, remarks to say)."""
        state = self.state
        had_time = state.slots.start is not None
        target = state.target.start if state.target is not None else None
        self.moved_from = state.slots.start or target
        remarks: list[Step] = []
        changed = False
        for part in (
            self._apply_service,
            self._apply_day,
            self._apply_time,
            self._apply_relative,
            self._apply_move,
            self._apply_people,
        ):
            took = part(u, remarks)
            changed = changed or took
        if changed:
            state.offers = []
            # What the caller agreed to in a read-back is no longer what is asked for.
            state.slots.agreed = False
            # A time already agreed has changed: the next answer says the new one in full.
            self.corrected = self.corrected or had_time
        return changed, remarks

    def _apply_service(self, u: Understanding, remarks: list[Step]) -> bool:
        state, slots = self.state, self.state.slots
        before = slots.service
        changed = self._drop_services(u, remarks) if state.task == "book" else False
        changed = self._suggested(u) or changed
        services = list(u.services)
        if (
            not services
            and u.service
            and slots.service not in (None, u.service)
            and not slots.then
            and _ADDED.search(u.text)
        ):
            services = [slots.service or "", u.service]  # "and a beard trim straight after"
        if u.service and state.task == "book" and u.service != slots.service and not services:
            if u.service in slots.then:
                # "The blow dry instead": the one asked for after, now the only one.
                self._keep_following(lambda s: s != u.service)
            elif before not in (None, u.service) and state.awaiting != "confirm":
                # A switch is said back at once (the read-back would say it anyway).
                remarks.append(Say(f"Okay, {with_article(u.service)} instead."))
                self.switched = u.service
            slots.service = u.service
            slots.clear_time()
            state.attempts.pop("service", None)
            changed = True
        if services and state.task == "book" and not slots.then:
            # "A beard trim and a haircut": this one now, the others straight after, or
            # each at its own day and time when one was said for each.
            slots.service, slots.then = services[0], services[1:]
            if u.service_whens:
                self._take_service_whens(u)
                each = join_and([f"the {service}" for service in services])
                remarks.append(Say(f"I can book {each}, each at its own time."))
            else:
                remarks.append(
                    Say(
                        f"I can book the {services[0]} now and the"
                        f" {join_and(services[1:])} straight after."
                    )
                )
            changed = True
        return changed

    def _suggested(self, u: Understanding) -> bool:
        """ "My hair is a mess": a haircut suggested (asked about before it is taken); a yes
        to it takes it, a no drops it (the services are listed next)."""
        state, slots = self.state, self.state.slots
        if state.task != "book" or slots.service is not None or u.service is not None:
            return False
        if slots.suggested is not None and state.awaiting == "service":
            if u.affirm and not u.deny:
                slots.service, slots.suggested = slots.suggested, None
                return True
            if u.deny:
                slots.suggested = None
                return True
        likely = likely_service(u.text, lexicon_for(self.profile))
        if likely is not None and likely != slots.suggested:
            slots.suggested = likely
            return True
        return False

    def _drop_services(self, u: Understanding, remarks: list[Step]) -> bool:
        """Services put off ("the colour can wait", "skip the beard trim") or left out ("just
        the blow dry") come off the booking; True when one did."""
        slots = self.state.slots
        named = services_in(u.text, lexicon_for(self.profile))
        asked = [slots.service, *slots.then] if slots.service else []
        gone = [s for s in asked if s in named.dropped]
        if named.only and u.service is not None:
            gone = [s for s in asked if s != u.service]
        if not gone:
            return False
        self._keep_following(lambda s: s not in gone)
        if slots.service in gone:
            slots.service = None
            if slots.then and u.service is None:
                slots.service = slots.then[0]
                self._keep_following(lambda s: s != slots.service)
            slots.clear_time()
        slots.then_fit = False
        kept = [s for s in (slots.service, *slots.then) if s] if u.service is None else []
        if kept:
            # "Skip the colour": what is left, said; a service named instead is read back.
            remarks.append(Say(f"Sure, just the {join_and(list(dict.fromkeys(kept)))}."))
        return True

    def _keep_following(self, keep: Callable[[str], bool]) -> None:
        """Keep the services to follow that ``keep`` says, with their names, days and times."""
        slots = self.state.slots
        kept = [i for i, s in enumerate(slots.then) if keep(s)]

        def pick(values: list[Any]) -> list[Any]:
            return [values[i] for i in kept if i < len(values)]

        slots.then_names, slots.then_days = pick(slots.then_names), pick(slots.then_days)
        slots.then_ats, slots.then_times = pick(slots.then_ats), pick(slots.then_times)
        slots.then = pick(slots.then)

    def _take_service_whens(self, u: Understanding) -> None:
        """Each further service at the day and time said with it (the first one's are taken
        by :meth:`_apply_day` and :meth:`_apply_time`)."""
        slots = self.state.slots
        whens = dict(u.service_whens)
        slots.then_days = [whens[s].day if s in whens else None for s in slots.then]
        slots.then_ats = [whens[s].at if s in whens else None for s in slots.then]
        slots.clear_time()

    def _apply_day(self, u: Understanding, remarks: list[Step]) -> bool:
        state, slots, when = self.state, self.state.slots, u.when
        changed = False
        if when.rejected_day is not None and when.rejected_day == slots.day and when.day is None:
            slots.day = None
            slots.clear_time()
            remarks.append(Say(f"Okay, not {weekday_name(when.rejected_day)}."))
            changed = True
        if when.past:
            slots.day = None
            slots.clear_time()
            remarks.append(Say("That day has already passed."))
            self._bump("day")
            changed = True
        if when.earliest and not slots.earliest:
            if slots.day is None or when.day is not None:
                slots.earliest, slots.day, slots.days = True, None, 1
            # With a day in hand, "what's the earliest then?" is that day's first times.
            slots.clear_time()
            changed = True
        day = self._anchored(u)
        if day is not None and (day, when.days) != (slots.day, slots.days):
            # Attempts at the day are cleared only once the tools accept it.
            slots.day, slots.days, slots.earliest = day, when.days, False
            slots.near, slots.closed_day = None, None
            slots.clear_time()
            changed = True
        if u.unresolved:
            remarks.append(Say("I'm not sure which day you mean."))
            slots.day = None
            slots.clear_time()
            changed = True
        if u.next_weekday and when.day is not None:
            remarks.append(Say(f"That's {spoken_date(when.day)}."))
        if state.task == "book" and u.service_whens:
            changed = self._apply_service_day(u) or changed
        return changed

    def _apply_service_day(self, u: Understanding) -> bool:
        """With a day and time per service, the first service's are the booking's."""
        slots = self.state.slots
        first = dict(u.service_whens).get(slots.service or "")
        if first is None or first.day is None or first.day == slots.day:
            return False
        slots.day, slots.days = first.day, first.days
        slots.clear_time()
        return True

    def _anchored(self, u: Understanding) -> date | None:
        """The day said, with "the Tuesday after" put after the day in hand (a closed day
        just turned down, or the day asked for), when there is one."""
        slots = self.state.slots
        anchor = slots.closed_day or slots.day
        if u.weekday_after is None or anchor is None:
            return u.when.day
        ahead = (u.weekday_after - anchor.weekday()) % 7 or 7
        return anchor + timedelta(days=ahead)

    def _apply_time(self, u: Understanding, remarks: list[Step]) -> bool:
        state, slots, when = self.state, self.state.slots, u.when
        if u.service_whens and state.task == "book":
            first = dict(u.service_whens).get(slots.service or "")
            when = first if first is not None and first.at is not None else when
        changed = False
        if when.rejected_time is not None and when.rejected_time == slots.at and when.at is None:
            slots.at = None
            slots.clear_time()
            changed = True
        if when.at is not None and when.at != slots.at:
            slots.at, slots.part, slots.near = when.at, when.part, None
            slots.clear_time()
            state.attempts.pop("time", None)
            changed = True
        elif when.at is None and when.part is not None and when.part != slots.part:
            slots.part = when.part
            if slots.at is not None and part_of(slots.at) != when.part:
                slots.at = None
            slots.clear_time()
            changed = True
        if (when.after or when.before) and self._take_bounds(when):
            changed = True
        if u.first_thing and when.at is None:
            opening = intervals_on(self.profile, slots.day or self.today)
            if opening and opening[0].start != slots.at:
                slots.at, slots.part = opening[0].start, "morning"
                slots.clear_time()
                changed = True
        return changed

    def _take_bounds(self, when: When) -> bool:
        """The earliest start or the latest end said ("not before 10"); an exact time said
        before that falls outside them goes."""
        slots = self.state.slots
        after, before = when.after or slots.after, when.before or slots.before
        if (after, before) == (slots.after, slots.before):
            return False
        slots.after, slots.before = after, before
        kind = self.profile.service(slots.service or "")
        minutes = kind.duration_min if kind else self.profile.booking.slot_step_min
        moment = datetime.combine(slots.day or self.today, slots.at) if slots.at else None
        if when.at is None and moment and not within(moment, minutes, after, before):
            slots.at = None
        slots.clear_time()
        return True

    def _apply_relative(self, u: Understanding, remarks: list[Step]) -> bool:
        state, slots, when = self.state, self.state.slots, u.when
        changed = False
        target = state.target
        if u.same_time and state.task == "reschedule" and target is not None and when.at is None:
            # "Move it to Thursday, same time": the time in hand, else the booking's own.
            slots.at, slots.part = slots.at or target.start.time(), None
            changed = True
        elif u.same_time and state.task == "reschedule" and target is None and when.at is None:
            slots.same_time = True  # "I have a trim on Friday, same time Tuesday?": when found
        moving = state.task == "reschedule"
        if u.one_after and when.day is None and (slots.day or state.offers) and not moving:
            # "Not that one, the one after": the day offered or asked for, a week on.
            day = slots.day or state.offers[0].start.date()
            slots.day, slots.days = day + timedelta(days=7), 1
            changed = True
        if u.from_now is not None and when.day is None:
            # "In an hour": today, the free times from then on.
            moment = self.clock.now_local.replace(tzinfo=None) + timedelta(minutes=u.from_now)
            slots.day, slots.days, slots.at, slots.part = moment.date(), 1, None, None
            slots.near, slots.earliest = moment.time().replace(second=0, microsecond=0), False
            changed = True
        if u.shift is not None and slots.at is not None and when.at is None:
            # "Push it back an hour": the same day, the time moved.
            moved = datetime.combine(slots.day or self.today, slots.at) + timedelta(minutes=u.shift)
            slots.day, slots.at = moved.date(), moved.time()
            changed = True
        if u.business_time and self.clock.zones_differ and slots.at is not None:
            # "I mean New York time": the clock time said is the business's wall clock.
            theirs = datetime.combine(slots.day or self.today, slots.at)
            ours = theirs.replace(tzinfo=self.clock.business_zone).astimezone(self.clock.zone)
            slots.day, slots.at = ours.date(), ours.time().replace(tzinfo=None)
            changed = True
        if changed:
            slots.clear_time()
        return changed

    def _apply_move(self, u: Understanding, remarks: list[Step]) -> bool:
        """What is said of a move relative to the booking ("same day next week", "a week
        later", "an hour later"), and times beyond those in hand ("anything later?")."""
        state, slots = self.state, self.state.slots
        way = asks_other_times(u.text) if u.shift is None else None
        if way is not None and state.task in ("book", "reschedule"):
            moving = state.target.start if state.target is not None else None
            return look_beyond(slots, way, state.offers, moving)
        if state.task != "reschedule":
            return False
        marked = take_marks(slots, u.text)
        if u.shift is not None and u.when.at is None and slots.at is None:
            slots.move_minutes, marked = u.shift, True
        if marked and self.moved_from is not None:
            # Said of the booking found (or the new time in hand): resolved now.
            settle(slots, self.moved_from)
        if marked:
            slots.clear_time()
        return marked

    def _apply_people(self, u: Understanding, remarks: list[Step]) -> bool:
        state, slots = self.state, self.state.slots
        changed = False
        if u.two_people and state.task == "book" and slots.service and not slots.then:
            # One chair at a time: the second appointment straight after the first.
            slots.then = [slots.service]
            head = "We can only do one at a time, so I" if u.same_time else "I"
            remarks.append(
                Say(f"{head} can book two {slots.service}s, one straight after the other.")
            )
            changed = True
        elif (
            u.same_time
            and state.task == "book"
            and slots.then
            and slots.start is None
            and not any(isinstance(r, Say) and "straight after" in r.text for r in remarks)
        ):
            # "At the same time?" for a second person: one chair, so one after the other.
            remarks.append(Say("We can only do one at a time, so one straight after the other."))
        if u.names and state.task == "book" and slots.then:
            # "I'm Lena and she's Mia": the first name is this booking's, the rest the next.
            slots.name, slots.by_phone = u.names[0], False
            slots.then_names = list(u.names[1 : 1 + len(slots.then)])
            state.attempts.pop("name", None)
            changed = True
        name = u.name
        if name is not None and u.surname_only and slots.name and " " not in slots.name:
            name = f"{slots.name} {name}"  # "Siobhan", then "and the surname's Kelly"
        if name is not None and name != slots.name:
            if state.awaiting in ("service", "day"):
                # Given before it was asked for: taken, and said so.
                said = "Thanks, {}." if slots.name is None else "Okay, it's under {} now."
                remarks.append(Say(said.format(name.split()[0] if not slots.name else name)))
            slots.name, slots.by_phone = name, False
            state.attempts.pop("name", None)
            changed = True
        return changed
