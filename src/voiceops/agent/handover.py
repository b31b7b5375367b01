"""Handing a call to a person: the escalation rules every turn runs before any brain, and
the transfer itself (the closing frame with ``transfer_number``, the pending transfer kept
in the call's state, re-asserted when the caller talks over it, the escalation event).
"""

from __future__ import annotations

from voiceops.agent.deps import TurnDeps
from voiceops.agent.escalation import detect_escalation
from voiceops.agent.speaker import CallLink, Speaker
from voiceops.core.actions import Transfer
from voiceops.core.caller import CallerClock
from voiceops.core.callevents import CallEvent
from voiceops.core.events import EscalationTrigger
from voiceops.core.state import CallState, PendingTransfer
from voiceops.retell.messages import ReminderRequired, ResponseRequired
from voiceops.tools.handoff import plan_transfer

MAX_TRANSFER_ATTEMPTS = 3
"""How many times a dropped transfer is re-asserted before the agent takes a callback."""


class Handover:
    """The escalation rules and transfers of every call of one process."""

    def __init__(self, deps: TurnDeps) -> None:
        self.deps = deps

    async def rules(
        self,
        link: CallLink,
        request: ResponseRequired | ReminderRequired,
        kind: str,
        out: Speaker,
        clock: CallerClock,
    ) -> str | EscalationTrigger | None:
        """A pending transfer re-asserted, or a rule-based escalation carried out: the
        turn's outcome. Otherwise the trigger the brain must know about (a callback to
        take), or ``None``."""
        deps = self.deps
        state = link.state
        pending = state.pending_transfer
        if pending is not None:
            if pending.attempts < MAX_TRANSFER_ATTEMPTS:
                # A new request before the call ended means the caller barged in over the
                # transfer line and Retell dropped the transfer: say it again, re-issue it.
                pending.attempts += 1
                await self._transfer(out, state, pending.number, pending.message)
                self._event(link, out.response_id, pending.reason, pending.trigger, "reasserted")
                return "transfer_reasserted"
            # The transfer keeps not happening (a number Retell cannot dial, a caller who
            # keeps talking over it): stop looping and let the brain take a callback.
            state.pending_transfer = None
            self._event(
                link, out.response_id, pending.reason, pending.trigger, "transfer_abandoned"
            )
            return EscalationTrigger(
                reason=pending.reason, trigger="model", priority="high", detail="transfer failed"
            )
        if kind != "response":
            return None
        trigger = detect_escalation(request.transcript, deps.profile.escalation)
        if trigger is None:
            return None
        plan = plan_transfer(deps.profile, clock, trigger.reason, trigger.priority, trigger.trigger)
        if plan is not None:
            await self.apply_transfer(link, out, plan)
            return "transfer"
        self._event(link, out.response_id, trigger.reason, trigger.trigger, "callback")
        return trigger

    async def apply_transfer(self, link: CallLink, out: Speaker, transfer: Transfer) -> None:
        state = link.state
        state.pending_transfer = PendingTransfer(
            number=transfer.number,
            message=transfer.message,
            reason=transfer.reason,
            priority=transfer.priority,
            trigger=transfer.trigger,
            response_id=out.response_id,
        )
        state.escalated = True
        await self._transfer(out, state, transfer.number, transfer.message)
        self._event(
            link,
            out.response_id,
            transfer.reason,
            transfer.trigger,
            "transfer",
            priority=transfer.priority,
            number=transfer.number,
        )

    async def _transfer(self, out: Speaker, state: CallState, number: str, message: str) -> None:
        await out.finish(
            message,
            transfer_number=number,
            show_transferee_as_caller=self.deps.profile.transfer.show_transferee_as_caller,
        )

    def _event(
        self,
        link: CallLink,
        response_id: int,
        reason: str,
        trigger: str,
        outcome: str,
        *,
        priority: str = "medium",
        number: str | None = None,
    ) -> None:
        """Record an escalation, once: where the transfer is sent (whoever decided it, the
        ``escalate`` tool included, which records none of its own), re-asserted or given
        up, or where a rule's callback is handed to the brain."""
        self.deps.metrics.escalations.labels(trigger=trigger, outcome=outcome).inc()
        payload: dict[str, object] = {
            "reason": reason[:200],  # the model writes it: bounded, as the tools bound theirs
            "trigger": trigger,
            "priority": priority,
            "outcome": outcome,
        }
        if number is not None:
            payload["transfer_number"] = number
        self.deps.events.emit(
            CallEvent(
                link.call_id,
                "escalation",
                created_at=self.deps.clock.now(),
                turn_index=link.state.turns,
                response_id=response_id,
                payload=payload,
            )
        )
