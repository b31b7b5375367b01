"""The turns outside a task: the caller's opening words, a question with nothing under way,
yes or no to the agent's open questions, the end of a call, and the catch-all.

:class:`IdleSteps` is one part of :class:`~voiceops.flow.dialogue.Dialogue`: what a turn
does when no booking, move or cancellation explains it (``_idle``), what is off topic or
not understood (``_redirect``), replies to "would you like to book one?" and "anything
else?", and whether the caller is done ("that's all, thanks").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from voiceops.flow.answers import AnswerSteps
from voiceops.flow.callback import asks_more
from voiceops.flow.slots import SlotFilling
from voiceops.flow.steps import Say, Step
from voiceops.flow.wording import off_topic, we_do

if TYPE_CHECKING:
    from voiceops.flow.state import Awaiting
    from voiceops.flow.understand import Understanding

SHORT_NO_WORDS = 3
"""A "no" of at most this many words to "anything else?" ends the call."""
IDLE: tuple[Awaiting | None, ...] = (None, "anything_else")
"""What the agent waits for when no task is under way."""
_DONE = re.compile(
    r"\b(?:that's (?:all|it|everything)|that is (?:all|it)|that'll be all|that will be all"
    r"|nothing else|i'm done|i am done|i'm all set|all set"
    r"|i(?:'ll|ll| will) (?:call|ring|phone) (?:you |you guys |again )?back)\b"
)
"""Closers that end the call whatever was asked; "no thanks" only answers the question."""

_MORE = re.compile(
    r"^(?:\w+ )?(?:yes|yeah|yep|yup|ya)\b|\b(?:actually|also|one more|another|something else"
    r"|one other|question|wait)\b"
)
"""Thanks with more to come ("yes thanks, and …", "thanks, one more thing"): no goodbye."""
_PUT_OFF = re.compile(r"\b(?:think|let you know|get back|call|ring|check|see how|not sure|later)\b")
"""A day said while putting the booking off ("I'll think about it, maybe next week")."""
_SEE_YOU = re.compile(r"\bsee you\b(?! (?:have|do|got|are)\b)")
""""See you Saturday", "see you then": the caller is going."""
_POLITE = frozenset({"thanks", "greeting"})

_NO_INFORMATION = (
    "I don't have that information — I can have someone call you back. Would you like that?"
)


class IdleSteps(AnswerSteps, SlotFilling):
    """The part of the dialogue for turns outside a task."""

    def _closes(self, u: Understanding) -> bool:
        """ "That's it, thanks", "no, that's all": the caller is done, whatever was asked."""
        if not u.closing or u.intents - {"thanks"} or u.faq or u.service is not None:
            return False
        if not u.when.empty or u.question:
            return False
        if u.affirm and self.state.awaiting in ("confirm", "confirm_cancel"):
            # "Yes, that's it" to a read-back: a yes, not a goodbye.
            return False
        # "No thanks" answers a yes/no question; "that's all" ends the call wherever it comes.
        return self.state.awaiting in IDLE or bool(_DONE.search(u.text))

    def _idle(self, u: Understanding) -> list[Step]:
        """A turn with no task under way and no question answered."""
        state = self.state
        if u.off_topic:
            return self._redirect(u)
        if u.service is not None and (u.question or u.offered_asked):
            # "Do you do colour?": what it is and costs, then an offer to book it.
            said = [Say(we_do(u.service, u.offered_asked))] if u.offered_asked else []
            return said + self._service_info(u.service, follow_up=True)
        if u.service is not None or u.when.has_date or u.when.at is not None:
            # "A haircut, please" or "tomorrow at 3": the caller wants to come in.
            self._begin_booking()
            _, remarks = self._apply(u)
            return remarks + self._advance()
        if u.when_is_that and state.last_booked:
            return [Say(f"It's {state.last_booked}."), *self._ask("anything_else")]
        if u.unknown_question:
            # "Hey, do you sell shampoo?": the question, not the greeting before it.
            state.question = u.text[:200]
            return [Say(_NO_INFORMATION), *self._ask("callback_offer", say=False)]
        if "ask" in u.intents:
            state.awaiting = None
            return [Say("Sure, go ahead.")]
        if "thanks" in u.intents:
            return [Say("You're welcome."), *self._ask("anything_else")]
        if "greeting" in u.intents or (u.affirm and state.awaiting in IDLE):
            state.awaiting = None
            greeting = "greeting" in u.intents
            return [
                Say(
                    "Hello! What can I help you with today?"
                    if greeting
                    else "Sure, what can I help you with?"
                )
            ]
        if u.deny and state.awaiting in IDLE and len(u.text.split()) <= SHORT_NO_WORDS:
            return self._goodbye()
        return self._redirect(u)

    def _redirect(self, u: Understanding) -> list[Step]:
        """The catch-all for what is off topic (not a failure: the question stands, and no
        person is offered for it); a plain "didn't catch that" for the rest."""
        state = self.state
        if u.off_topic or (u.question and not u.unknown_question):
            said = state.asked.get("off_topic", 0)
            state.asked["off_topic"] = said + 1
            line = "Sorry, I can't help with that." if said else off_topic(self.profile)
            return [Say(line), Say(self._question(state.awaiting))]
        return self._not_understood("Sorry, I didn't catch that.")

    def _on_book_offer(self, u: Understanding) -> list[Step] | None:
        service = self.state.slots.service
        # "Not today, maybe Saturday morning?" asks for Saturday; "no thanks, I'll think
        # about it next week" asks for nothing.
        timed = _timed(u) and not (u.closing or _PUT_OFF.search(u.text))
        asks = self._asks(u)
        if asks and u.when.at is None and "book" not in u.intents:
            timed = False  # "how much is it on a Saturday?" asks, it books nothing
        if (
            (u.affirm or "book" in u.intents or timed)
            and not u.offered_asked
            and (timed or not asks)
        ):
            # "Yes", or a day or time for it ("can I do Saturday the 19th at 1?"): the
            # service offered, booked; a question with the day ("and how long does it
            # take?") answered first.
            info = self._info(u, follow_up=False) if asks else []
            self._begin_booking()
            self.state.slots.service = u.service or service
            _, remarks = self._apply(u)
            return info + remarks + self._advance()
        if u.deny and not (timed or u.service):
            # "No thanks", "no, I'll call next week": nothing booked.
            self.state.slots.service = None
            if asks_more(u):
                self.state.awaiting = None
                return None
            return [Say("No problem."), *self._ask("anything_else")]
        return None

    def _on_anything_else(self, u: Understanding) -> list[Step] | None:
        # A short "no" closes the call; "no, one more question" does not.
        short = len(u.text.split()) <= SHORT_NO_WORDS
        if u.deny and short and not u.intents and not u.has_slot_value and not u.faq:
            return self._goodbye()
        done = _thanks_only(u) or (_SEE_YOU.search(u.text) and not u.question)
        if done and not (u.trailing or _MORE.search(u.text) or u.intents - _POLITE):
            # "Cheers", "no that's great, thanks", "see you Saturday": nothing more to ask.
            business = self.profile.business_name
            return self._goodbye(f"You're welcome. Thanks for calling {business}.")
        return None


def _timed(u: Understanding) -> bool:
    """A day or a time asked for ("Saturday the 19th at 1", "what about Friday morning")."""
    when = u.when
    return (
        when.has_date
        or when.at is not None
        or when.part is not None
        or u.first_thing
        or u.from_now is not None
    )


def _thanks_only(u: Understanding) -> bool:
    """Thanks and nothing asked or given ("thanks, that's great", "no, that's lovely, thank
    you")."""
    return (
        "thanks" in u.intents
        and not (u.has_slot_value or u.question or u.faq or u.unknown_question)
        and u.social is None
        and not u.off_topic
    )
