"""People: a transfer to the team, or a callback request taken when nobody can answer.

An escalation (the caller asks for a person, a rule fires, the dialogue gives up) runs the
``escalate`` tool with a reason naming whom the caller asked for: a transfer ends the turn;
otherwise the caller hears why nobody can take the call and is asked for name, number and
topic, in any order and several at once, before ``request_callback`` records it. A number
the tool refuses is asked for again. "Are you a robot?" gets the truth and the offer of a
person, not a transfer.
"""

from __future__ import annotations

import re
from functools import partial
from typing import TYPE_CHECKING, Any

from voiceops.agent.intent import person_request
from voiceops.core.actions import Transfer
from voiceops.core.ports import ToolStatus
from voiceops.flow.base import MAX_FAILED_ATTEMPTS, DialogueBase
from voiceops.flow.state import CallbackDraft
from voiceops.flow.steps import Call, Finish, Say, Step, result_of
from voiceops.flow.wording import who_i_am
from voiceops.tools.handoff import callback_line, why_no_transfer
from voiceops.tools.results import CallbackRecorded, Escalated, ToolFailure

if TYPE_CHECKING:
    from voiceops.core.ports import ToolOutcome
    from voiceops.flow.state import Priority
    from voiceops.flow.understand import Understanding

_TOPIC_MAX = 200
_TOPIC = re.compile(r"\b(?:about|regarding|concerning|because)\s+(?P<topic>.+)$")


def _phone_refused(result: CallbackRecorded | ToolFailure) -> bool:
    """The callback was refused for its number (missing, or not a phone number)."""
    if isinstance(result, ToolFailure):
        return "phone" in result.arguments
    return result.phone_refused


class CallbackSteps(DialogueBase):
    """The part of the dialogue that hands the caller to people."""

    def _on_callback_offer(self, u: Understanding) -> list[Step] | None:
        state = self.state
        if u.question and asks_more(u) and not u.has_slot_value:
            # "Ok, what's the address?": a new question, answered; "ok" was no yes to a call.
            state.question, state.awaiting = None, None
            return None
        if u.affirm and not u.has_slot_value:
            topic, state.question = state.question, None
            state.finish_task()
            state.task = "callback"
            state.callback = CallbackDraft(
                reason="caller asked something the profile does not answer",
                priority="low",
                name=state.slots.name,
                topic=topic,
            )
            return [Say("Sure."), *self._callback_next()]
        if u.deny and not u.has_slot_value:
            state.question = None
            if asks_more(u):
                # "No, that's fine. Do you have parking?": the new question is answered.
                state.awaiting = None
                return None
            return [Say("No problem."), *self._ask("anything_else")]
        return None

    def _asked_for(self, text: str) -> str:
        """The escalation reason for the caller's request for a person in ``text``: whom
        they asked for and what about, which picks the number (``tools/handoff.py``)."""
        request = person_request(text, self.profile.escalation)
        return request.reason if request is not None else "caller asked for a person"

    def _who_i_am(self) -> list[Step]:
        """The honest answer to "are you a robot?", with what the agent can do about it:
        put the caller through when someone can take the call, else take a message."""
        reachable = why_no_transfer(self.profile, self.clock, "caller asked for a person") is None
        return [Say(who_i_am(self.profile, can_transfer=reachable))]

    def _escalate(self, reason: str, priority: Priority) -> list[Step]:
        return [
            Call(
                "escalate",
                {"reason": reason, "priority": priority},
                then=partial(self._after_escalate, reason, priority),
            )
        ]

    def _after_escalate(self, reason: str, priority: Priority, outcome: ToolOutcome) -> list[Step]:
        if isinstance(outcome.action, Transfer):
            self.state.awaiting = None
            return [Finish(outcome.action)]
        result = result_of(outcome, Escalated)
        if result.status is ToolStatus.SUPERSEDED:
            return []
        why = result.why if isinstance(result, Escalated) and result.why else "unavailable"
        return self._start_callback(reason, priority, why, None)

    def _escalation_callback(self, u: Understanding) -> list[Step]:
        trigger = self.escalation
        assert trigger is not None
        if self.state.callback_recorded:
            return [
                Say("I've passed your details to the team, and someone will call you back."),
                *self._ask("anything_else"),
            ]
        why = why_no_transfer(self.profile, self.clock, trigger.reason) or "unavailable"
        return self._start_callback(trigger.reason, trigger.priority, why, u)

    def _start_callback(
        self, reason: str, priority: Priority, why: str, u: Understanding | None
    ) -> list[Step]:
        state = self.state
        state.finish_task()
        state.task = "callback"
        state.callback = CallbackDraft(reason=reason, priority=priority, name=state.slots.name)
        state.awaiting = "callback_name"
        if u is not None:
            self._fill_callback(u)
        # The callback line asks for name, number and topic at once; wait for the first
        # one still missing without asking again.
        return [Say(callback_line(self.profile, self.clock, why)), *self._callback_next(quiet=True)]

    def _fill_callback(self, u: Understanding) -> bool:
        """Take name, number and topic from ``u``; True when anything was taken."""
        draft = self.state.callback
        assert draft is not None
        awaiting = self.state.awaiting
        took = False
        if u.name is not None:
            draft.name, took = u.name, True
        if u.phone is not None:
            draft.phone, draft.use_caller_number, took = u.phone, False, True
        elif u.caller_number and self.caller_phone:
            draft.use_caller_number, took = True, True
        elif awaiting == "callback_phone" and self.caller_phone and not draft.phone:
            if u.affirm:
                draft.use_caller_number, took = True, True
            elif u.deny:
                draft.caller_number_declined, took = True, True
        topic = _TOPIC.search(u.text)
        if topic is not None:
            draft.topic, took = topic.group("topic")[:_TOPIC_MAX], True
        elif awaiting == "callback_reason" and u.text and not took:
            draft.topic, took = u.text[:_TOPIC_MAX], True
        return took

    def _on_callback(self, u: Understanding) -> list[Step]:
        state = self.state
        draft = state.callback
        if draft is None:
            state.finish_task()
            return self._ask("anything_else")
        awaiting = state.awaiting
        if u.unintelligible or not self._fill_callback(u):
            if awaiting is not None and self._bump(awaiting) >= MAX_FAILED_ATTEMPTS:
                # Nobody can be put through (that is why we are here): take what we have.
                return self._callback_next(give_up=True)
            apology = "Sorry, I didn't catch that."
            return [Say(apology), *self._callback_next()]
        return self._callback_next()

    def _callback_next(self, *, give_up: bool = False, quiet: bool = False) -> list[Step]:
        """Ask for the first missing detail, or record the request when all are in."""
        state = self.state
        draft = state.callback
        assert draft is not None
        say = not quiet
        if not draft.name and not give_up:
            return self._ask("callback_name", say=say)
        has_number = bool(draft.phone) or (draft.use_caller_number and self.caller_phone)
        if not has_number:
            if give_up and self.caller_phone:
                draft.use_caller_number = True
            elif give_up:
                state.finish_task()
                state.callback = None
                return [
                    Say("I'm sorry, I couldn't take your details."),
                    Say("Please call us back during opening hours."),
                    *self._ask("anything_else", say=False),
                ]
            else:
                return self._ask("callback_phone", say=say)
        if not draft.topic and not give_up:
            return self._ask("callback_reason", say=say)
        args: dict[str, Any] = {
            "name": draft.name or "unknown caller",
            "reason": f"{draft.reason}: {draft.topic}" if draft.topic else draft.reason,
            "priority": draft.priority,
        }
        if draft.phone and not draft.use_caller_number:
            args["phone"] = draft.phone
        return [Call("request_callback", args, then=self._after_callback)]

    def _after_callback(self, outcome: ToolOutcome) -> list[Step]:
        state = self.state
        result = result_of(outcome, CallbackRecorded)
        status = result.status
        if status is ToolStatus.SUPERSEDED:
            return []
        draft = state.callback
        if status is ToolStatus.RECORDED:
            name = draft.name if draft is not None and draft.name else None
            state.callback_recorded = True
            state.callback = None
            state.finish_task()
            thanks = f"Thank you, {name}." if name else "Thank you."
            return [
                Say(f"{thanks} Someone from the team will call you back."),
                *self._ask("anything_else"),
            ]
        self._log.info("flow: callback refused with status %s", status.value)
        if draft is not None and _phone_refused(result):
            draft.phone, draft.use_caller_number, draft.caller_number_declined = None, False, True
            return [Say("Sorry, I couldn't use that number."), *self._ask("callback_phone")]
        state.callback = None
        state.finish_task()
        return [
            Say("Sorry, I couldn't record that just now."),
            Say("Please call us back during opening hours."),
            *self._ask("anything_else", say=False),
        ]


def asks_more(u: Understanding) -> bool:
    """A "no" with a new question in it ("no thanks, do you have parking?")."""
    return bool(
        u.faq
        or u.not_offered
        or u.unlisted
        or u.unknown_question
        or u.intents - {"thanks", "greeting"}
    )
