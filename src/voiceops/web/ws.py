"""The Retell LLM WebSocket: one read loop per call, nothing else on it.

The loop receives a frame, parses it (``retell/messages.py``), feeds the sans-I/O
:class:`~voiceops.retell.session.CallSession` and executes the actions it returns: send a
frame, start a turn as the connection's single owned task, cancel and await a superseded
turn. ``ping_pong`` is answered inline, so no turn can delay a keepalive (protocol 3.1).

Authentication (protocol 2.1: Retell sends no auth headers): an optional shared secret,
given as the path segment before the call id (``/llm-websocket/<secret>/<call_id>``) or as
``?secret=``, compared in constant time; and an optional IP allowlist. A refused socket is
accepted and closed with 1008 (policy violation). Close codes are decided here only.

While the instance drains (``web/drain.py``) a new socket is refused at the upgrade with
HTTP 503: no socket opens, so Retell's next attempt goes to another instance.

The edge (``web/guard.py``): a call id that is not 1 to 128 characters of
``[A-Za-z0-9_-]`` is refused with 1008, and ``call_details`` are kept under the socket's
call id whatever call they name, if any; every socket has a budget of bad frames
(reported at a bounded rate, and past ``VOICEOPS_WS_BAD_FRAME_LIMIT`` within
``VOICEOPS_WS_BAD_FRAME_WINDOW_S`` the socket is closed with 1008); and the read loop
yields to the other calls every few frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
from collections.abc import Callable

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from voiceops.agent.prompts import caller_name_from, render_greeting
from voiceops.agent.turn import TurnRunner
from voiceops.calls import LiveCalls, StatePersister
from voiceops.config import Settings
from voiceops.core.callevents import CallEvent, EventSink
from voiceops.core.clock import Clock, utc_now_ms
from voiceops.core.errors import FrameTooLarge, MalformedFrame
from voiceops.core.profile import AgentProfile
from voiceops.core.state import CallState
from voiceops.core.transcript import CallObject
from voiceops.logs import CallLogger, clip, mask_value, printable
from voiceops.metrics import Metrics
from voiceops.retell.messages import parse_inbound
from voiceops.retell.session import (
    Action,
    CallSession,
    CancelTurn,
    DetailsReceived,
    Ignored,
    Phase,
    Send,
    StartTurn,
)
from voiceops.speech import clean
from voiceops.web.drain import Drain
from voiceops.web.guard import FrameGuard, call_id_refusal

log = logging.getLogger("voiceops.ws")

CLOSE_POLICY = 1008
CLOSE_GOING_AWAY = 1001
BEGIN_WAIT_S = 1.0
"""How long the begin message waits for ``call_details`` before greeting without a name."""
CANCEL_WAIT_S = 2.0

CallDetailsHook = Callable[[str, CallObject, CallState], None]


class Connection:
    """One accepted Retell socket for one call: the ``CallLink`` of its turns."""

    def __init__(
        self,
        websocket: WebSocket,
        call_id: str,
        session: CallSession,
        state: CallState,
        guard: FrameGuard,
    ) -> None:
        self.websocket = websocket
        self.call_id = call_id
        self.session = session
        self.state = state
        self.guard = guard
        self.turn: asyncio.Task[None] | None = None
        self.log = CallLogger(log, call_id)
        self._closed = False

    async def send(self, text: str) -> None:
        if self._closed:
            return
        try:
            await self.websocket.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            # The peer went away mid-send; the read loop sees the disconnect and cleans up.
            self._closed = True
            self.log.info("send failed, socket gone (%s)", type(exc).__name__)

    async def cancel_turn(self) -> None:
        task, self.turn = self.turn, None
        if task is None or task.done():
            return
        task.cancel()
        try:
            await asyncio.wait_for(task, CANCEL_WAIT_S)
        except (asyncio.CancelledError, TimeoutError):
            pass
        except Exception:
            self.log.exception("superseded turn failed while stopping")

    async def interrupt(self, content: str, *, end_call: bool = False) -> bool:
        """Speak ``content`` now, cutting in (protocol 4.4). The running turn is cancelled:
        Retell drops any response in flight when an interrupt arrives."""
        if self._closed or self.session.phase is not Phase.OPEN:
            return False
        await self.cancel_turn()
        await self.send(self.session.interrupt_frames(clean(content), end_call=end_call))
        return True

    async def close_for_bad_frames(self) -> None:
        """The peer spent its budget of bad frames: close with 1008 (policy violation)."""
        await self.cancel_turn()
        self._closed = True
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await self.websocket.close(CLOSE_POLICY)

    async def close_superseded(self) -> None:
        """Retell re-dialled this call: the new socket owns it now."""
        await self.cancel_turn()
        self._closed = True
        # The old socket is often dead already (that is why Retell re-dialled).
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await self.websocket.close(CLOSE_GOING_AWAY)


class RetellEndpoint:
    """The ASGI WebSocket endpoint for ``/llm-websocket/{call_id}``."""

    def __init__(
        self,
        *,
        settings: Settings,
        profile: AgentProfile,
        runner: TurnRunner,
        live: LiveCalls,
        persister: StatePersister,
        events: EventSink,
        metrics: Metrics,
        on_call_details: CallDetailsHook | None = None,
        clock: Clock,
        drain: Drain | None = None,
    ) -> None:
        self.settings = settings
        self.profile = profile
        self.runner = runner
        self.live = live
        self.persister = persister
        self.events = events
        self.metrics = metrics
        self.on_call_details = on_call_details
        self.clock = clock
        self.monotonic = clock.monotonic
        self.drain = drain
        self._networks = [ipaddress.ip_network(n, strict=False) for n in settings.ws_allow_ips]
        self._secret = (
            settings.ws_secret.get_secret_value().encode() if settings.ws_secret else None
        )
        if settings.ws_secret is not None:
            mask_value(settings.ws_secret.get_secret_value())

    # --- authentication -----------------------------------------------------------------

    def _client_ip(self, websocket: WebSocket) -> str | None:
        if self.settings.trust_forwarded_for:
            forwarded = websocket.headers.get("x-forwarded-for")
            if forwarded:
                return forwarded.split(",")[0].strip()
        return websocket.client.host if websocket.client else None

    def _refusal(self, websocket: WebSocket) -> str | None:
        """Why this socket is refused, or ``None`` when it may proceed."""
        if self._networks:
            host = self._client_ip(websocket)
            try:
                address = ipaddress.ip_address(host or "")
            except ValueError:
                return "client address unknown"
            if not any(address in net for net in self._networks):
                return "client address not allowed"
        if self._secret is not None:
            given = websocket.path_params.get("secret") or websocket.query_params.get("secret")
            if not given or not hmac.compare_digest(given.encode(), self._secret):
                return "missing or wrong secret"
        return None

    # --- the loop -----------------------------------------------------------------------

    async def __call__(self, websocket: WebSocket) -> None:
        call_id = str(websocket.path_params.get("call_id", ""))
        if self.drain is not None and self.drain.draining:
            await self._refuse_draining(websocket, call_id)
            return
        await websocket.accept()
        bad_id = call_id_refusal(call_id)
        refusal = bad_id or self._refusal(websocket)
        if refusal is not None:
            self.metrics.ws_connections.labels(outcome="refused").inc()
            # Only a valid call id goes into the line's call field.
            log.warning(
                "refused socket: %s", refusal, extra={"call_id": "-" if bad_id else call_id}
            )
            await websocket.close(CLOSE_POLICY)
            return

        conn = await self._open(websocket, call_id)
        session, state = conn.session, conn.state
        reason = "peer closed"
        try:
            await self._execute(conn, session.connect())
            reason = await self._read_loop(conn)
        finally:
            await conn.cancel_turn()
            session.close()
            self.live.detach(call_id, conn, state)
            self.persister.mark(state)
            self.metrics.live_calls.dec()
            self.events.emit(
                CallEvent(
                    call_id,
                    "call_disconnected",
                    payload={"reason": reason},
                    created_at=self.clock.now(),
                )
            )
            conn.log.info("socket closed: %s", reason)

    async def _open(self, websocket: WebSocket, call_id: str) -> Connection:
        """The call's connection, on its saved state when Retell re-dialled (the greeting
        is not said again), taking over from an older socket of the same call."""
        state, resumed = await self._state_for(call_id)
        greeting = self._greeting if self.settings.speak_first and not resumed else None
        session = CallSession(
            call_id,
            greeting=greeting,
            resumed=resumed,
            # Retell may re-send the request that was open when the old socket died; accept
            # that id again (an answer to an id Retell already closed is dropped harmlessly).
            last_response_id=state.last_response_id - 1 if resumed else 0,
        )
        guard = FrameGuard(
            self.clock,
            limit=self.settings.ws_bad_frame_limit,
            window_s=self.settings.ws_bad_frame_window_s,
        )
        conn = Connection(websocket, call_id, session, state, guard)
        previous = self.live.attach(call_id, conn)
        if previous is not None:
            await previous.close_superseded()
        self.metrics.ws_connections.labels(outcome="resumed" if resumed else "new").inc()
        self.metrics.live_calls.inc()
        self.events.emit(
            CallEvent(
                call_id,
                "call_resumed" if resumed else "call_connected",
                payload={"profile_version": self.profile.version},
                created_at=self.clock.now(),
            )
        )
        conn.log.info("socket open%s", " (resumed)" if resumed else "")
        return conn

    async def _refuse_draining(self, websocket: WebSocket, call_id: str) -> None:
        self.metrics.ws_connections.labels(outcome="refused").inc()
        named = call_id if call_id_refusal(call_id) is None else "-"
        log.info("refused socket: draining", extra={"call_id": named})
        await websocket.send_denial_response(PlainTextResponse("draining\n", status_code=503))

    async def _read_loop(self, conn: Connection) -> str:
        websocket, session = conn.websocket, conn.session
        begin_deadline = self.monotonic() + BEGIN_WAIT_S
        while True:
            if websocket.client_state is not WebSocketState.CONNECTED:
                return "closed by server"
            if conn.guard.exceeded:
                return await self._close_for_bad_frames(conn)
            try:
                if session.phase is Phase.AWAITING_DETAILS:
                    remaining = begin_deadline - self.monotonic()
                    if remaining <= 0:
                        await self._execute(conn, session.begin_deadline_passed())
                        continue
                    try:
                        message = await asyncio.wait_for(websocket.receive(), remaining)
                    except TimeoutError:
                        await self._execute(conn, session.begin_deadline_passed())
                        continue
                else:
                    message = await websocket.receive()
            except (WebSocketDisconnect, RuntimeError, OSError) as exc:
                return f"receive failed ({type(exc).__name__})"
            if message["type"] == "websocket.disconnect":
                return f"peer closed ({message.get('code', 1005)})"
            if conn.guard.received():
                await asyncio.sleep(0)  # a burst of frames must not hold the other calls
            received_at = self.monotonic()
            text = message.get("text")
            if text is None:
                self._bad_frame(conn, "binary", "binary frames are not part of the protocol")
                continue
            try:
                parsed = parse_inbound(text, max_bytes=self.settings.max_frame_bytes)
            except FrameTooLarge as exc:
                self._bad_frame(conn, "too_large", str(exc))
                continue
            except MalformedFrame as exc:
                self._bad_frame(conn, "malformed", str(exc))
                continue
            await self._execute(conn, session.receive(parsed), received_at)

    async def _execute(
        self, conn: Connection, actions: list[Action], received_at: float | None = None
    ) -> None:
        for action in actions:
            if isinstance(action, Send):
                if action.kind == "begin" and conn.session.begin_content:
                    # Saved before it is said: a crash right after must not make the
                    # re-dial to another instance greet the caller a second time.
                    conn.state.greeted = True
                    await self.persister.save_now(conn.state)
                await conn.send(action.text)
                if action.kind == "ping_pong":
                    self.metrics.pings.inc()
            elif isinstance(action, StartTurn):
                # At most one live turn per call: the session always cancels the older
                # one first, so any leftover task here is already finished.
                await conn.cancel_turn()
                started = received_at if received_at is not None else self.monotonic()
                conn.turn = asyncio.create_task(
                    self._run_turn(conn, action, started),
                    name=f"turn-{conn.call_id}-{action.request.response_id}",
                )
            elif isinstance(action, CancelTurn):
                conn.log.debug(
                    "response %d superseded by %d", action.response_id, action.superseded_by
                )
                await conn.cancel_turn()
            elif isinstance(action, Ignored):
                self._bad_frame(conn, action.kind, action.detail)
            elif isinstance(action, DetailsReceived):
                call = self._own_call(conn, action.call)
                conn.state.call = call.model_dump(mode="json", exclude_none=True)
                if self.on_call_details is not None:
                    self.on_call_details(conn.call_id, call, conn.state)

    async def _run_turn(self, conn: Connection, action: StartTurn, started: float) -> None:
        try:
            await self.runner.run(conn, action.request, started)
        finally:
            if conn.session.phase is not Phase.CLOSED:
                self.persister.mark(conn.state)

    def _bad_frame(self, conn: Connection, kind: str, detail: str) -> None:
        """Count a bad frame; log and record it unless the guard holds reports back."""
        self.metrics.bad_frames.labels(kind=kind).inc()
        report = conn.guard.bad_frame(kind)
        if report is None:
            return
        detail = clip(printable(detail))
        more = f" ({report.held_back} more since the last report)" if report.held_back else ""
        conn.log.warning("bad frame (%s): %s%s", kind, detail, more)
        payload: dict[str, object] = {"kind": kind, "detail": detail}
        if report.held_back:
            payload["held_back"] = report.held_back
        self.events.emit(
            CallEvent(conn.call_id, "bad_frame", payload=payload, created_at=self.clock.now())
        )

    async def _close_for_bad_frames(self, conn: Connection) -> str:
        guard = conn.guard
        reason = f"more than {guard.limit} bad frames in {guard.window_s:g} s"
        conn.log.warning("closing socket with 1008: %s; %s", reason, guard.summary())
        await conn.close_for_bad_frames()
        return reason

    def _own_call(self, conn: Connection, call: CallObject) -> CallObject:
        """The call object of ``call_details``, under this socket's call id: one that names
        another call must not write that call's record, and one that names none is still
        this call's."""
        if call.call_id == conn.call_id:
            return call
        if call.call_id is not None:
            conn.log.info(
                "call_details names call %s; recorded under this socket's id", call.call_id
            )
        return call.model_copy(update={"call_id": conn.call_id})

    # --- state --------------------------------------------------------------------------

    async def _state_for(self, call_id: str) -> tuple[CallState, bool]:
        """The call's state and whether this connection resumes it (no second greeting)."""
        state = self.live.recent(call_id)
        if state is None:
            state = await self.persister.load(call_id)
        if state is not None:
            age_s = utc_now_ms(self.clock) / 1000 - state.updated_at_ms / 1000
            if not state.ended and age_s <= self.settings.call_resume_window_s:
                return state, True
        return CallState(call_id=call_id, profile_version=self.profile.version), False

    def _greeting(self, call: CallObject | None) -> str:
        return render_greeting(self.profile, caller_name_from(call))
