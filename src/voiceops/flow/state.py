"""The flow brain's dialogue state, as kept in ``CallState.flow`` between turns.

One :class:`FlowState` per call: the task under way, what the agent is waiting to hear,
the slots filled so far, the times or bookings it has just read out, failed attempts per
question, and a callback request being collected. It is persisted after every turn and
reloaded on reconnect (possibly in another process), so it is a pydantic model that dumps to
plain JSON types (dates as ISO strings). A stored state that no longer validates (an older
layout, a hand-edited row) is dropped with a warning rather than failing the call: the
caller hears a fresh question, never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from voiceops.flow.when import DayPart

log = logging.getLogger("voiceops.flow")

Task = Literal["book", "reschedule", "cancel", "lookup", "callback"]
Awaiting = Literal[
    "service",
    "day",
    "time",
    "name",
    "offer",
    "confirm",
    "change",
    "which_booking",
    "confirm_cancel",
    "lookup_name",
    "new_or_team",
    "info_service",
    "book_offer",
    "human_offer",
    "callback_name",
    "callback_phone",
    "callback_reason",
    "callback_offer",
    "anything_else",
]
"""What the agent's last question asked for; it decides how the next reply is read."""
Priority = Literal["low", "medium", "high"]
Topic = Literal["price", "duration", "hours", "services"]
"""A question answered outside a task, asked again for something else ("and a blowout?")."""

STATE_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=False)


class Offer(_Model):
    """A free slot read out to the caller."""

    start: datetime
    """Caller-local wall time (naive), as the tools take it."""
    spoken: str


class BookingRef(_Model):
    """An existing booking the caller may move, cancel or ask about."""

    booking_id: str
    service: str
    start: datetime
    """Caller-local wall time (naive)."""
    spoken: str


class Slots(_Model):
    service: str | None = None
    day: date | None = None
    days: int = 1
    at: time | None = None
    part: DayPart | None = None
    earliest: bool = False
    name: str | None = None
    start: datetime | None = None
    """A start the tools said is free (caller-local, naive); set once availability agrees."""
    spoken: str | None = None
    """The tools' spoken form of ``start``, for the read-back."""
    by_phone: bool = False
    """No name given: booked under the number the caller is calling from."""
    from_closed: bool = False
    """The day asked for was a closed day and this one is the next open day."""
    suggested: str | None = None
    """The service that what the caller said sounds like ("my hair is a mess": a haircut),
    asked about before it is taken."""
    then: list[str] = Field(default_factory=list)
    """Further services asked for in the same breath, booked one after another."""
    then_names: list[str] = Field(default_factory=list)
    """Who each of ``then`` is for, when it is for someone else ("me and my daughter")."""
    then_times: list[datetime] = Field(default_factory=list)
    """When each of ``then`` starts (straight after the one before, or at its own day and
    time), for the read-back."""
    then_days: list[date | None] = Field(default_factory=list)
    then_ats: list[time | None] = Field(default_factory=list)
    """The day and time said for each of ``then`` ("and a beard trim on Friday at 10")."""
    own_time: bool = False
    """This one was asked for at its own day and time, not straight after the one before."""
    closed_day: date | None = None
    """A closed day asked for and moved off, for "the Tuesday after" (it) to count from."""
    agreed: bool = False
    """The caller already agreed to this one in an earlier read-back ("book them")."""
    near: time | None = None
    """A time to look around without asking for it exactly ("in an hour")."""
    after: time | None = None
    """The earliest start the caller can make ("my bus gets in at 9:30"), whatever the day."""
    before: time | None = None
    """When the appointment must be over by ("I pick the kids up at 3")."""
    again_from: datetime | None = None
    """The caller's earlier booking this one books again: "same time" is its time."""
    unsure: bool = False
    """The caller only said they can't keep the booking ("something's come up"): once it is
    found, moving it or cancelling it is asked."""
    same_time: bool = False
    """ "Same time" said before the booking to move was found: its time, once it is."""
    same_day: bool = False
    """ "Same day" said of a move: the booking's weekday, once it is found."""
    move_days: int | None = None
    """Days to move the booking by ("a week later": 7, "a day earlier": -1)."""
    move_weekday: int | None = None
    """ "The Friday after" said of a move: that weekday after the booking's day."""
    move_minutes: int | None = None
    """Minutes to move the booking's time by ("an hour later"), when no time was said."""
    other_than: datetime | None = None
    """Free times asked for beyond this one ("anything later?"): before it when ``sooner``."""
    sooner: bool = False

    then_fit: bool = False
    """The services to follow straight after ``start`` were checked and are free."""
    unfit: list[datetime] = Field(default_factory=list)
    """Starts after which the services to follow did not fit: not offered again."""
    offer_then: int | None = None
    """The times read out are for ``then[offer_then]``, taken at its own day and time."""

    def clear_time(self) -> None:
        self.start = None
        self.spoken = None
        self.then_fit = False


class Clues(_Model):
    """What the caller said about a booking they have, to tell it from their others."""

    service: str | None = None
    days: list[date] = Field(default_factory=list)
    weekdays: list[int] = Field(default_factory=list)
    at: time | None = None
    part: DayPart | None = None


class CallbackDraft(_Model):
    reason: str
    """Why a person is needed (from the rule or the flow), prefixed to the caller's words."""
    priority: Priority = "medium"
    name: str | None = None
    phone: str | None = None
    use_caller_number: bool = False
    caller_number_declined: bool = False
    """The caller said the number they are calling from is not the one to use."""
    topic: str | None = None
    """What the caller says it is about."""


class FlowState(_Model):
    version: int = STATE_VERSION
    task: Task | None = None
    awaiting: Awaiting | None = None
    resume: Awaiting | None = None
    """The question to return to after a detour (an offer of a human the caller declined)."""
    slots: Slots = Field(default_factory=Slots)
    offers: list[Offer] = Field(default_factory=list)
    bookings: list[BookingRef] = Field(default_factory=list)
    target: BookingRef | None = None
    clues: Clues | None = None
    """What the caller said about the booking they mean, kept until it is found."""
    attempts: dict[str, int] = Field(default_factory=dict)
    callback: CallbackDraft | None = None
    callback_recorded: bool = False
    user_turns: int = 0
    """How many caller utterances of the transcript this state already reflects."""
    reminders: int = 0
    """Reminders spoken since the caller last said something."""
    greeted: bool = False
    last_topic: Topic | None = None
    """The question last answered outside a task, for follow-ups ("what about Sunday?")."""
    last_service: str | None = None
    """The service last booked or moved, for "how much will that be?" afterwards."""
    question: str | None = None
    """A question nothing here answers, kept for the callback the caller may accept."""
    asked: dict[str, int] = Field(default_factory=dict)
    """How often each question was asked this call, so a repeat is worded differently."""
    since_recap: int = 0
    """Agent turns of the booking under way since it last said back what it has so far
    (counting this one): at :data:`~voiceops.flow.base.RECAP_EVERY` it says it again."""
    stylist: str | None = None
    """A stylist the caller asked for by name: that name said again is not the caller's."""
    last_said: str | None = None
    """The agent's last words in full, for "what?" when the caller cut them short."""
    last_booked: str | None = None
    """The spoken time of the booking last made or moved, for "what time is that?"."""
    last_start: datetime | None = None
    """Its start (caller-local, naive), for "another one next week, same time"."""
    row_of: Awaiting | None = None
    row: int = 0
    """How many turns in a row the agent has asked for ``row_of`` (``flow/again.py``)."""

    @classmethod
    def load(
        cls,
        raw: Mapping[str, Any],
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger] = log,
    ) -> FlowState:
        """The state stored in ``CallState.flow``; a fresh one when empty or unreadable."""
        if not raw:
            return cls()
        try:
            state = cls.model_validate(raw)
        except ValidationError as exc:
            logger.warning(
                "dropping unreadable flow state (%d errors, first at %s)",
                exc.error_count(),
                ".".join(str(p) for p in exc.errors()[0]["loc"]),
            )
            return cls()
        if state.version != STATE_VERSION:
            logger.warning("dropping flow state of version %s", state.version)
            return cls()
        return state

    def dump(self) -> dict[str, Any]:
        """Plain JSON types only (dates and times as ISO strings)."""
        return self.model_dump(mode="json")

    def finish_task(self) -> None:
        """Forget the task's slots and lists; the caller's name stays for later tasks."""
        name, by_phone = self.slots.name, self.slots.by_phone
        self.task = None
        self.slots = Slots(name=name, by_phone=by_phone)
        self.offers = []
        self.bookings = []
        self.target = None
        self.clues = None
        self.attempts = {}
        self.resume = None
        self.last_topic = None
