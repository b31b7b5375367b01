"""The per-call Retell state machine: parsed frames in, actions out. No I/O, no awaits.

Implements sections 4-5 of ``reference/retell-protocol.md``:

* on connect, a ``config`` frame (4.1) and the begin message, ``response_id`` 0 (5.1 step 2).
  The begin message is held until ``call_details`` arrives (to greet by name) or until
  :meth:`CallSession.begin_deadline_passed` is called; a resumed call begins with ``""``
  so a reconnect never greets twice (section 11, "Reconnect semantics");
* ``ping_pong`` is answered from here, so the socket loop answers it without waiting for
  any turn (3.1, 4.2);
* ``response_required`` / ``reminder_required`` start a turn; a higher ``response_id``
  cancels the running one (5.2). :meth:`CallSession.response_frame` is the single gate every
  response frame passes: it returns ``None`` for a superseded or already closed id, so no
  stale frame can reach the wire (4.3 rules 2 and 3);
* ``update_only`` and ``call_details`` update the call's view and never cancel a turn (3.3).

The socket adapter (``web/ws.py``) executes the returned actions.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from voiceops.core.errors import InvalidState
from voiceops.core.transcript import CallObject
from voiceops.retell.messages import (
    AgentInterruptOut,
    CallDetails,
    ConfigBody,
    ConfigOut,
    Inbound,
    PingPongIn,
    PingPongOut,
    ReminderRequired,
    ResponseOut,
    ResponseRequired,
    ToolCallInvocationOut,
    ToolCallResultOut,
    UnknownInbound,
    UpdateOnly,
)

BEGIN_RESPONSE_ID = 0


class Phase(enum.Enum):
    NEW = "new"
    """Accepted, nothing sent yet."""
    AWAITING_DETAILS = "awaiting_details"
    """``config`` sent; the begin message waits for ``call_details`` (or its deadline)."""
    OPEN = "open"
    """Begin message sent; turns may run."""
    CLOSED = "closed"


# --- actions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    """Send this text frame now. ``kind`` names it for metrics: ``config``, ``begin``,
    ``ping_pong``."""

    text: str
    kind: str = "frame"


@dataclass(frozen=True, slots=True)
class StartTurn:
    request: ResponseRequired | ReminderRequired


@dataclass(frozen=True, slots=True)
class CancelTurn:
    """Stop the turn for ``response_id`` now (its LLM stream included) and await it."""

    response_id: int
    superseded_by: int


@dataclass(frozen=True, slots=True)
class Ignored:
    """An inbound frame that was understood but not acted upon; log and count it."""

    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class DetailsReceived:
    call: CallObject


Action = Send | StartTurn | CancelTurn | Ignored | DetailsReceived


class CallSession:
    """State of one Retell connection for one call.

    ``greeting`` renders the begin message from the call object (``None`` when Retell sent
    no details in time); ``None`` instead of a callable means: wait for the caller.
    """

    def __init__(
        self,
        call_id: str,
        *,
        greeting: Callable[[CallObject | None], str] | None,
        resumed: bool = False,
        wait_for_details: bool = True,
        auto_reconnect: bool = True,
        last_response_id: int = BEGIN_RESPONSE_ID,
    ) -> None:
        self.call_id = call_id
        self.phase = Phase.NEW
        self.resumed = resumed
        self.call: CallObject | None = None
        self.latest_response_id = max(last_response_id, BEGIN_RESPONSE_ID)
        self.open_response_id: int | None = None
        self.begin_content: str | None = None
        self._greeting = greeting
        self._wait_for_details = wait_for_details and greeting is not None and not resumed
        self._auto_reconnect = auto_reconnect
        self._interrupt_id = 0

    # --- connection lifecycle -----------------------------------------------------------

    def connect(self) -> list[Action]:
        """Frames to send right after accepting the socket."""
        self._expect("connect", Phase.NEW)
        config = ConfigOut(
            config=ConfigBody(
                auto_reconnect=self._auto_reconnect,
                call_details=True,
                transcript_with_tool_calls=True,
            )
        )
        actions: list[Action] = [Send(config.to_json(), "config")]
        if self._wait_for_details:
            self.phase = Phase.AWAITING_DETAILS
        else:
            actions.append(self._begin())
        return actions

    def begin_deadline_passed(self) -> list[Action]:
        """``call_details`` did not come in time: greet without a name."""
        if self.phase is not Phase.AWAITING_DETAILS:
            return []
        return [self._begin()]

    def close(self) -> None:
        self.phase = Phase.CLOSED
        self.open_response_id = None

    def _begin(self) -> Send:
        if self.resumed or self._greeting is None:
            content = ""
        else:
            content = self._greeting(self.call)
        self.begin_content = content
        self.phase = Phase.OPEN
        frame = ResponseOut(response_id=BEGIN_RESPONSE_ID, content=content, content_complete=True)
        return Send(frame.to_json(), "begin")

    # --- inbound ------------------------------------------------------------------------

    def receive(self, message: Inbound) -> list[Action]:
        """Feed one parsed frame; returns what to do, in order."""
        if self.phase is Phase.CLOSED:
            raise InvalidState("receive a frame", Phase.OPEN, self.phase)
        if isinstance(message, PingPongIn):
            return [Send(PingPongOut(timestamp=message.timestamp).to_json(), "ping_pong")]
        if isinstance(message, UpdateOnly):
            # Neither parsed nor kept: it holds the whole call (twice, with word timings),
            # so keeping the newest one would cost memory in proportion to each call's
            # length; turns use their own request's transcript.
            return []
        if isinstance(message, ResponseRequired | ReminderRequired):
            return self._turn_request(message)
        if isinstance(message, CallDetails):
            self.call = message.call
            actions: list[Action] = [DetailsReceived(message.call)]
            if self.phase is Phase.AWAITING_DETAILS:
                actions.append(self._begin())
            return actions
        if isinstance(message, UnknownInbound):
            return [Ignored("unknown_interaction_type", str(message.interaction_type)[:64])]
        raise AssertionError(f"unhandled inbound frame {type(message).__name__}")

    def _turn_request(self, request: ResponseRequired | ReminderRequired) -> list[Action]:
        rid = request.response_id
        if rid <= self.latest_response_id:
            # Retell's ids only grow; an old or repeated id is a stale duplicate.
            return [Ignored("stale_request", f"response_id {rid} <= {self.latest_response_id}")]
        actions: list[Action] = []
        if self.phase is Phase.AWAITING_DETAILS:
            # The caller spoke before call_details came: the begin message cannot wait.
            actions.append(self._begin())
        if self.open_response_id is not None:
            actions.append(CancelTurn(self.open_response_id, superseded_by=rid))
        self.latest_response_id = rid
        self.open_response_id = rid
        actions.append(StartTurn(request))
        return actions

    # --- outbound gate ------------------------------------------------------------------

    def is_current(self, response_id: int) -> bool:
        """True while ``response_id`` is the newest request and still open."""
        return self.open_response_id == response_id and self.phase is Phase.OPEN

    def response_frame(
        self,
        response_id: int,
        content: str,
        *,
        complete: bool,
        end_call: bool = False,
        transfer_number: str | None = None,
        show_transferee_as_caller: bool = False,
        no_interruption_allowed: bool = False,
    ) -> str | None:
        """The serialised ``response`` frame, or ``None`` if this id may no longer speak.

        Closing (``complete=True``) ends the id: later calls for it return ``None``.
        """
        if not self.is_current(response_id):
            return None
        if complete:
            self.open_response_id = None
        return ResponseOut(
            response_id=response_id,
            content=content,
            content_complete=complete,
            end_call=True if end_call else None,
            transfer_number=transfer_number,
            show_transferee_as_caller=(
                True if transfer_number and show_transferee_as_caller else None
            ),
            no_interruption_allowed=True if no_interruption_allowed else None,
        ).to_json()

    def tool_invocation_frame(
        self, response_id: int, tool_call_id: str, name: str, arguments: str
    ) -> str | None:
        if not self.is_current(response_id):
            return None
        return ToolCallInvocationOut(
            tool_call_id=tool_call_id, name=name, arguments=arguments
        ).to_json()

    def tool_result_frame(
        self, response_id: int, tool_call_id: str, content: str, successful: bool
    ) -> str | None:
        if not self.is_current(response_id):
            return None
        return ToolCallResultOut(
            tool_call_id=tool_call_id, content=content, successful=successful
        ).to_json()

    def interrupt_frames(
        self, content: str, *, end_call: bool = False, transfer_number: str | None = None
    ) -> str:
        """A complete ``agent_interrupt`` (4.4): server-initiated speech that cuts in.

        It also cancels any response in flight on Retell's side, so the open id is closed.
        """
        self._expect("interrupt", Phase.OPEN)
        self._interrupt_id += 1
        self.open_response_id = None
        return AgentInterruptOut(
            interrupt_id=self._interrupt_id,
            content=content,
            content_complete=True,
            no_interruption_allowed=True,
            end_call=True if end_call else None,
            transfer_number=transfer_number,
        ).to_json()

    def _expect(self, action: str, phase: Phase) -> None:
        if self.phase is not phase:
            raise InvalidState(action, phase, self.phase)
