"""Prometheus metrics of one voiceops process, on a registry of its own.

One :class:`Metrics` is built by the app factory and passed to whoever counts; there is no
global registry, so several apps (tests) can live in one process. ``/metrics`` serves it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Buckets for per-turn stages: the server's own share is milliseconds, the LLM's is seconds.
_FAST = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0)
# The server's own share of a turn: a few milliseconds, finely.
_OVERHEAD = (0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05)
_OVERHEAD_TAIL = (0.075, 0.1, 0.25, 0.5, 1.0)


class Metrics:
    """Every metric of the process, grouped by what it watches: turns, calls and their
    sockets, storage, the runtime (event loop, collector)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._turns(self.registry)
        self._calls(self.registry)
        self._storage(self.registry)
        self._runtime(self.registry)

    def _turns(self, r: CollectorRegistry) -> None:
        self.turn_first_chunk = Histogram(
            "voiceops_turn_first_chunk_seconds",
            "Turn request received to first speakable response chunk sent.",
            registry=r,
            buckets=_FAST,
        )
        self.turn_overhead = Histogram(
            "voiceops_turn_overhead_seconds",
            "The server's own share of a turn: time to the first speakable chunk minus the"
            " wait for the LLM's first token.",
            registry=r,
            buckets=_OVERHEAD + _OVERHEAD_TAIL,
        )
        self.llm_first_token = Histogram(
            "voiceops_llm_first_token_seconds",
            "LLM request sent to first streamed token.",
            registry=r,
            buckets=_FAST,
        )
        self.tool_seconds = Histogram(
            "voiceops_tool_seconds", "Tool run time.", ["tool"], registry=r, buckets=_FAST
        )
        self.turn_seconds = Histogram(
            "voiceops_turn_seconds",
            "Turn request received to content_complete sent.",
            registry=r,
            buckets=_FAST,
        )
        self.turns = Counter("voiceops_turns", "Turns started.", ["kind"], registry=r)
        self.turns_superseded = Counter(
            "voiceops_turns_superseded", "Turns cancelled by a newer response_id.", registry=r
        )
        self.fillers = Counter("voiceops_fillers", "Holding lines spoken.", registry=r)
        self.fallbacks = Counter(
            "voiceops_fallbacks",
            "Turns answered by the flow brain after an LLM failure.",
            ["reason"],
            registry=r,
        )
        self.llm_errors = Counter(
            "voiceops_llm_errors", "LLM failures by kind.", ["kind"], registry=r
        )

    def _calls(self, r: CollectorRegistry) -> None:
        self.live_calls = Gauge("voiceops_live_calls", "Open Retell sockets.", registry=r)
        self.escalations = Counter(
            "voiceops_escalations", "Escalations to a human.", ["trigger", "outcome"], registry=r
        )
        self.bad_frames = Counter(
            "voiceops_bad_frames", "Inbound frames refused or not understood.", ["kind"], registry=r
        )
        self.ws_connections = Counter(
            "voiceops_ws_connections", "Retell socket connections.", ["outcome"], registry=r
        )
        self.pings = Counter("voiceops_ping_pongs", "Keepalives answered.", registry=r)
        self.webhooks = Counter(
            "voiceops_webhook_deliveries", "Webhook deliveries accepted.", ["event"], registry=r
        )
        self.webhook_duplicates = Counter(
            "voiceops_webhook_duplicates", "Webhook retries recognised as duplicates.", registry=r
        )
        self.webhook_rejected = Counter(
            "voiceops_webhook_rejected", "Webhook deliveries refused.", ["reason"], registry=r
        )

    def _storage(self, r: CollectorRegistry) -> None:
        self.event_queue_depth = Gauge(
            "voiceops_event_queue_depth", "Events waiting to be written.", registry=r
        )
        self.event_journal_bytes = Gauge(
            "voiceops_event_journal_bytes", "Size of the local overflow journal.", registry=r
        )
        self.events_written = Counter(
            "voiceops_events_written", "Call events written to the database.", registry=r
        )
        self.event_write_errors = Counter(
            "voiceops_event_write_errors", "Failed batch writes (retried).", registry=r
        )
        self.dead_lettered = Counter(
            "voiceops_dead_lettered",
            "Rows the database refused for their content (call events, call states), kept in"
            " the dead_letters table instead of retried.",
            ["kind"],
            registry=r,
        )
        self.alert_evaluations = Counter(
            "voiceops_alert_evaluations",
            "Alert evaluation ticks of this instance: done, skipped (another instance held the"
            " lock) or failed (the database was away).",
            ["outcome"],
            registry=r,
        )
        self.alert_notifications = Counter(
            "voiceops_alert_notifications",
            "Alert notification attempts by channel and outcome (sent, retry, failed).",
            ["channel", "outcome"],
            registry=r,
        )

    def _runtime(self, r: CollectorRegistry) -> None:
        self.loop_lag = Histogram(
            "voiceops_event_loop_lag_seconds",
            "How late a loop timer due every 100 ms ran: what every call waited at that moment.",
            registry=r,
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.gc_pause = Histogram(
            "voiceops_gc_pause_seconds",
            "Pauses of the cyclic garbage collector, by generation.",
            ["generation"],
            registry=r,
            buckets=(0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5),
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
