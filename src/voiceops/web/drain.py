"""Draining an instance before it stops, so that a deploy drops no call.

uvicorn's own answer to SIGTERM closes every WebSocket with 1012 ("service restart"), and
Retell re-dials only after an abnormal close (1006) or missed keepalives
(``reference/retell-protocol.md`` 2.3): a 1012 ends the call. Instead, on the first SIGTERM
or SIGINT the instance drains:

1. **It stops taking calls.** ``/healthz`` answers 503 with ``"status": "draining"`` (a load
   balancer takes the instance out), and a new call socket is refused at the upgrade with
   HTTP 503 (``web/ws.py``), so Retell's next attempt lands elsewhere. Everything else
   (webhooks, metrics, operator speech) keeps being served.
2. **Live calls go on** until each ends by itself, for at most ``VOICEOPS_DRAIN_TIMEOUT_S``.
   A second SIGTERM or SIGINT cuts the wait short.
3. **What is left is handed to another instance**, in waves of :data:`WAVE_SIZE` calls
   :data:`WAVE_INTERVAL_S` apart. Each wave's call states are saved and written (the
   persister skips its usual linger), and only once nothing is left to write are their
   sockets reset at the TCP level, with no closing frame: Retell sees 1006, re-dials, and
   the instance it reaches resumes the call from the database without a second greeting
   (protocol 5.4). The check that nothing is pending and the resets run with no await
   between them, so no turn can slip in unsaved. The waves keep the re-dials from landing
   on the other instances all at once: their state loads queue for the database, and a
   load that takes too long starts the call afresh.
4. **Then uvicorn's own shutdown runs**: the listener closes, and the lifespan stops the
   event writer and the state persister, which write what they still hold.

:class:`Drain` is the state of it (shared with ``/healthz`` and the socket endpoint) and the
sequence above; :class:`DrainingServer` is the ``uvicorn.Server`` that runs it on a signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import socket
import struct
from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import FrameType

import uvicorn

from voiceops.calls import LiveCalls, StatePersister
from voiceops.core.callevents import CallEvent, EventSink
from voiceops.core.clock import Clock

log = logging.getLogger("voiceops.drain")

POLL_S = 0.1
"""How often the drain looks at the live calls (uvicorn's own main loop ticks this often)."""
SAVE_TIMEOUT_S = 5.0
"""How much longer than its waves' pacing the hand-over may wait, in all, for call states
to be written; past it the sockets are reset anyway (the database is away: the persister
keeps trying at exit)."""
WAVE_SIZE = 20
WAVE_INTERVAL_S = 0.1
"""Calls handed over per wave, and the pause between waves: about 200 calls a second.
Handing 200 calls over at once, on a 2-core machine shared by both instances, PostgreSQL
and the fake Retell (load average 5 to 7), the instance they were re-dialled to started
41, 49 and 95 of them afresh in three runs: their state loads queued past their 1 s
bound. In waves, none in three runs, for 1.4 s more."""

Reset = Callable[[Collection[str] | None], int]
"""Resets the sockets of the given calls (``None``: every WebSocket still open) without a
closing frame and returns how many it reset (:meth:`DrainingServer.reset_call_sockets`)."""


class DrainPhase(enum.Enum):
    SERVING = "serving"
    DRAINING = "draining"
    """Refusing new calls, waiting for the live ones."""
    DONE = "done"
    """The remaining calls were handed over; the process is on its way out."""


@dataclass(frozen=True, slots=True)
class DrainReport:
    """How a drain went: logged at the end, returned for tests."""

    reason: str
    """``"no live calls"``, ``"timed out"`` or ``"cut short"``."""
    waited_s: float
    """From the start of the drain to the end of the wait for the live calls."""
    handover_s: float
    """From there to the last socket reset."""
    ended: int
    """Calls that ended by themselves during the drain."""
    dropped: tuple[str, ...]
    """Call ids whose sockets were reset for Retell to re-dial elsewhere."""
    states_saved: bool
    """Whether every dropped call's state was written before its socket was reset."""


class Drain:
    """The drain of one process: its phase, and :meth:`run`, the sequence of the module
    docstring.

    :meth:`begin` and :meth:`cut_short` only set fields, so a signal handler may call them.
    The app's lifespan binds the drain to the live calls, the state persister and the event
    sink once they exist (:meth:`bind`); a drain never bound has nothing to wait for.
    """

    def __init__(
        self,
        *,
        timeout_s: float,
        clock: Clock,
        poll_s: float = POLL_S,
        wave_size: int = WAVE_SIZE,
        wave_interval_s: float = WAVE_INTERVAL_S,
    ) -> None:
        if timeout_s < 0:
            raise ValueError("the drain timeout cannot be negative")
        if wave_size < 1:
            raise ValueError("a wave holds at least one call")
        self.timeout_s = timeout_s
        self.phase = DrainPhase.SERVING
        self._clock = clock
        self._poll_s = poll_s
        self._wave_size = wave_size
        self._wave_interval_s = wave_interval_s
        self._started: float | None = None
        self._cut_short = False
        self._live: LiveCalls | None = None
        self._persister: StatePersister | None = None
        self._events: EventSink | None = None

    def bind(self, *, live: LiveCalls, persister: StatePersister, events: EventSink) -> None:
        self._live = live
        self._persister = persister
        self._events = events

    @property
    def draining(self) -> bool:
        """True from :meth:`begin` on: refuse new calls, report 503 on ``/healthz``."""
        return self.phase is not DrainPhase.SERVING

    def begin(self) -> None:
        """Stop taking calls now; idempotent."""
        if self.phase is DrainPhase.SERVING:
            self.phase = DrainPhase.DRAINING
            self._started = self._clock.monotonic()

    def cut_short(self) -> None:
        """Stop waiting for the live calls: hand them over at once (a second signal)."""
        self.begin()
        self._cut_short = True

    async def run(self, reset: Reset) -> DrainReport:
        """Drain: wait for the live calls (up to the timeout, or until :meth:`cut_short`),
        then hand those left over in waves: write their states, then ``reset`` their
        sockets, with nothing unwritten and no await in between. Last, ``reset`` whatever
        socket is still open (one accepted just before the drain and not yet a call)."""
        self.begin()
        assert self._started is not None
        live = self._live
        start_count = len(live) if live is not None else 0
        if start_count:
            log.info(
                "draining: %d live calls, new calls refused; handing over what is left in %.0fs",
                start_count,
                max(0.0, self._started + self.timeout_s - self._clock.monotonic()),
            )
        reason = await self._wait()
        waited = round(self._clock.monotonic() - self._started, 3)
        remaining = list(live.connections) if live is not None else []
        waves = range(0, len(remaining), self._wave_size)
        handover_start = self._clock.monotonic()
        save_by = handover_start + SAVE_TIMEOUT_S + len(waves) * self._wave_interval_s
        handed: list[str] = []
        saved = True
        for first in waves:
            if first:
                await self._clock.sleep(self._wave_interval_s)
            wave = remaining[first : first + self._wave_size]
            wave_saved, wave = await self._save(wave, save_by - self._clock.monotonic())
            saved = saved and wave_saved
            # Nothing is pending and nothing has run since the check: reset now.
            for call_id in wave:
                self._emit(call_id, reason, waited)
            reset(wave)
            handed.extend(wave)
        stray = reset(None)
        handover = round(self._clock.monotonic() - handover_start, 3)
        if handed or stray:
            log.info(
                "drain %s after %.1fs: reset %d call sockets in %.1fs for Retell to re-dial "
                "elsewhere",
                reason,
                waited,
                len(handed) + stray,
                handover,
            )
        elif start_count:
            log.info("drain done after %.1fs: every call ended", waited)
        self.phase = DrainPhase.DONE
        return DrainReport(
            reason=reason,
            waited_s=waited,
            handover_s=handover,
            ended=max(0, start_count - len(handed)),
            dropped=tuple(handed),
            states_saved=saved,
        )

    async def _wait(self) -> str:
        assert self._started is not None
        deadline = self._started + self.timeout_s
        while True:
            if self._live is None or not len(self._live):
                return "no live calls"
            if self._cut_short:
                return "cut short"
            if self._clock.monotonic() >= deadline:
                return "timed out"
            await self._clock.sleep(self._poll_s)

    async def _save(self, wave: list[str], timeout_s: float) -> tuple[bool, list[str]]:
        """Write the states of the calls of ``wave`` (and anything else pending) within
        ``timeout_s``; returns whether all was written, and the calls of ``wave`` still
        live when it returns."""
        persister, live = self._persister, self._live
        if persister is None or live is None:
            return False, []
        for call_id in wave:
            conn = live.connections.get(call_id)
            if conn is not None:
                persister.mark(conn.state)
        written = await persister.flush(max(0.0, timeout_s))
        if not written:
            log.error(
                "drain: %d call states and records not written in time; resetting %d "
                "sockets anyway (those calls may be greeted again where Retell re-dials them)",
                persister.pending,
                len(wave),
            )
        # A call that ended while the states were written is not there any more.
        return written, [call_id for call_id in wave if call_id in live.connections]

    def _emit(self, call_id: str, reason: str, waited: float) -> None:
        if self._events is not None:
            self._events.emit(
                CallEvent(
                    call_id,
                    "call_drained",
                    payload={"reason": reason, "after_s": waited},
                    created_at=self._clock.now(),
                )
            )


def reset(transport: asyncio.Transport) -> None:
    """Close ``transport``'s connection with a TCP reset: no closing frame, no FIN, so the
    peer's WebSocket reports 1006 at once instead of waiting for a handshake."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class DrainingServer(uvicorn.Server):
    """``uvicorn.Server`` with a drain in front of its shutdown.

    The first SIGTERM or SIGINT begins the drain (at once, from the handler: ``/healthz``
    turns 503 before the next request) and ends the main loop as uvicorn would; a second
    one during the drain cuts it short. Once the drain is done, uvicorn's handling applies
    again (a further Ctrl-C forces the exit). Shutting down for any other reason drains
    too.
    """

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self.drain = drain
        self.report: DrainReport | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.drain.phase is DrainPhase.SERVING:
            self.drain.begin()
            super().handle_exit(sig, frame)
        elif self.drain.phase is DrainPhase.DRAINING:
            self.drain.cut_short()
        else:
            super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.report = await self.drain.run(self.reset_call_sockets)
        # Let the reset connections report their loss before uvicorn shuts the rest down,
        # so none of them is sent a closing frame.
        await asyncio.sleep(0)
        await super().shutdown(sockets=sockets)

    def reset_call_sockets(self, call_ids: Collection[str] | None = None) -> int:
        """Reset the open WebSocket connections of ``call_ids`` (``None``: all of them);
        see :func:`reset`. A connection's call is the ``call_id`` its route matched, in the
        connection's scope, cut as ``web/ws.py`` cuts it."""
        count = 0
        for connection in list(self.server_state.connections):
            scope = getattr(connection, "scope", None)
            if not isinstance(scope, dict) or scope.get("type") != "websocket":
                continue
            if connection.transport.is_closing():
                continue  # reset in an earlier wave, or closing of its own accord
            if call_ids is not None:
                call_id = str(scope.get("path_params", {}).get("call_id", ""))[:128]
                if call_id not in call_ids:
                    continue
            reset(connection.transport)
            count += 1
        return count
