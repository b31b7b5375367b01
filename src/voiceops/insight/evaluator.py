"""The alert evaluator: every ``alert_interval_s`` it measures each enabled rule, opens or
resolves incidents, and sends the notifications that are due.

One tick (:meth:`AlertService.evaluate_once`):

1. measure every enabled rule over its window (reads only, ``insight/alerts.py``);
2. under the alerts lock (``store/alerts.py``: a PostgreSQL advisory lock, which another
   instance fails to take and skips its tick; on SQLite the write lock) re-read the open
   incidents and decide: a rule at or over its threshold with no open incident opens
   one, unless its previous incident resolved less than its cool-down ago; a rule back
   under it resolves its incident (with too little data to judge, nothing changes); a
   disabled rule's open incident is resolved. Each opening and resolution queues one
   notification per channel of the rule that is configured, in the same transaction;
3. send the due notifications (``insight/notify.py``), each claimed by one instance.

So several instances on one database open each incident once and send each notification
once. The ticks run on the app's :class:`~voiceops.core.clock.Clock`; a database that is
away fails the tick, which is logged and tried again at the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx2

from voiceops.config import Settings
from voiceops.core.clock import Clock
from voiceops.core.errors import StorageError
from voiceops.core.profile import AgentProfile
from voiceops.insight.alerts import KINDS, Context, Reading, default_rules, measure
from voiceops.insight.cost import PriceTable
from voiceops.insight.notify import (
    Deliverer,
    channels_configured,
    payload,
    summary,
    test_payload,
)
from voiceops.metrics import Metrics
from voiceops.store.alerts import AlertStore, EvaluationTx, Incident, Rule, evaluation_lock
from voiceops.store.db import Database

log = logging.getLogger("voiceops.alerts")


@dataclass(slots=True)
class Outcome:
    """What one evaluation decided (``None`` from :meth:`AlertService.evaluate` when
    another instance held the lock)."""

    opened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    cooling: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """Rules whose measuring raised (logged); the others were judged."""


class AlertService:
    """Rules, incidents and notifications for one app (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Clock,
        profile: Callable[[], AgentProfile],
        backlog: Callable[[], int],
        transport: httpx2.AsyncBaseTransport | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.settings = settings
        self.clock = clock
        self.profile = profile
        self.store = AlertStore(db, clock=clock)
        self.deliverer = Deliverer(
            self.store, settings, clock=clock, transport=transport, metrics=metrics
        )
        try:
            prices = PriceTable.with_overrides(settings.llm_prices)
        except (ValueError, ArithmeticError) as exc:
            log.warning("VOICEOPS_LLM_PRICES refused (%s): the cost rule uses list prices", exc)
            prices = PriceTable.with_overrides({})
        self.context = Context(settings, clock, profile, backlog, prices)
        self._task: asyncio.Task[None] | None = None

    # --- one tick -----------------------------------------------------------------------

    async def evaluate_once(self) -> Outcome | None:
        """Evaluate the rules, then send what is due. Raises :class:`StorageError` when
        the database is away."""
        outcome = await self.evaluate()
        await self.deliverer.run_due()
        return outcome

    async def evaluate(self) -> Outcome | None:
        now = self.clock.now()
        rules = await self.store.rules()
        outcome = Outcome()
        readings: dict[int, Reading] = {}
        for rule in rules:
            if not rule.enabled:
                continue
            try:
                readings[rule.id] = await measure(self.db, self.context, rule, now)
            except StorageError:
                raise
            except Exception:
                log.exception("alert rule %r could not be measured", rule.name)
                outcome.failed.append(rule.name)
        async with evaluation_lock(self.db) as conn:
            if conn is None:
                log.debug("another instance is evaluating the alert rules")
                return None
            tx = EvaluationTx(conn, now)
            open_now = await tx.open_incidents()
            resolved_at = await tx.last_resolved()
            for rule in rules:
                incident = open_now.get(rule.id)
                reading = readings.get(rule.id)
                if not rule.enabled or reading is None:
                    if incident is not None and not rule.enabled:
                        await self._resolve(tx, rule, incident, None, outcome)
                    continue
                await tx.checked(rule.id, reading.value)
                breaching = reading.breaching(rule)
                if breaching and incident is None:
                    last = resolved_at.get(rule.id)
                    if last is not None and now < last + timedelta(seconds=rule.cooldown_s):
                        outcome.cooling.append(rule.name)
                        continue
                    await self._open(tx, rule, reading, outcome)
                elif breaching is False and incident is not None:
                    await self._resolve(tx, rule, incident, reading.value, outcome)
        for name in outcome.opened:
            log.warning("alert firing: %s", name)
        for name in outcome.resolved:
            log.info("alert resolved: %s", name)
        return outcome

    async def _open(self, tx: EvaluationTx, rule: Rule, reading: Reading, out: Outcome) -> None:
        kind = KINDS[rule.kind]
        assert reading.value is not None
        text = summary(rule, kind.label, kind.unit, "firing", reading.value)
        incident_id = await tx.open(rule, reading.value, text)
        incident = Incident(
            incident_id, rule.id, "firing", tx.now, None, reading.value, None, rule.threshold, text
        )
        await self._notify(tx, rule, incident, "firing", text)
        out.opened.append(rule.name)

    async def _resolve(
        self, tx: EvaluationTx, rule: Rule, incident: Incident, value: float | None, out: Outcome
    ) -> None:
        kind = KINDS[rule.kind]
        await tx.resolve(incident, value)
        if value is None:
            text = f"{kind.label}: the rule was disabled"
        else:
            text = summary(rule, kind.label, kind.unit, "resolved", value)
        done = Incident(
            incident.id,
            rule.id,
            "resolved",
            incident.opened_at,
            tx.now,
            incident.value,
            value,
            incident.threshold,
            incident.summary,
        )
        await self._notify(tx, rule, done, "resolved", text)
        out.resolved.append(rule.name)

    async def _notify(
        self, tx: EvaluationTx, rule: Rule, incident: Incident, status: str, text: str
    ) -> None:
        kind = KINDS[rule.kind]
        body = payload(
            rule=rule,
            label=kind.label,
            unit=kind.unit,
            incident=incident,
            status=status,
            text=text,
            business=self.profile().business_name,
            console_url=self.settings.alert_console_url,
        )
        configured = channels_configured(self.settings)
        for channel in rule.channels:
            if channel in configured:
                await self.store.queue(tx.conn, incident.id, status, channel, body)

    # --- the console's test button ------------------------------------------------------

    async def send_test(self, by: str) -> list[str]:
        """Queue a test notification on every configured channel and send the due ones
        now; returns the channels queued."""
        channels = channels_configured(self.settings)
        body = test_payload(self.profile().business_name, by, self.clock.now())
        async with self.db.transaction("queue a test notification") as conn:
            for channel in channels:
                await self.store.queue(conn, None, "test", channel, body)
        await self.deliverer.run_due()
        return list(channels)

    # --- the background task ------------------------------------------------------------

    async def seed(self) -> None:
        """Give a new database the default rules."""
        added = await self.store.seed(default_rules(self.settings))
        if added:
            log.info("alert rules: %d default rules added", added)

    def start(self) -> None:
        interval = self.settings.alert_interval_s
        if interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(interval), name="voiceops-alerts")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, interval: float) -> None:
        while True:
            await self.clock.sleep(interval)
            outcome = "failed"
            try:
                outcome = "skipped" if await self.evaluate_once() is None else "done"
            except StorageError as exc:
                log.warning("alert evaluation skipped, will retry: %s", exc)
            except Exception:
                log.exception("alert evaluation failed; will retry")
            if self.metrics is not None:
                self.metrics.alert_evaluations.labels(outcome=outcome).inc()


async def open_alerts(
    stack: contextlib.AsyncExitStack,
    *,
    db: Database,
    settings: Settings,
    clock: Clock,
    profile: Callable[[], AgentProfile],
    backlog: Callable[[], int],
    metrics: Metrics,
) -> AlertService:
    """Seed the default rules on a new database, start the evaluator (stopped by
    ``stack``) and return the service."""
    service = AlertService(
        db, settings, clock=clock, profile=profile, backlog=backlog, metrics=metrics
    )
    try:
        await service.seed()
    except StorageError as exc:
        log.warning("alert rules not seeded (%s); the evaluator will run on what exists", exc)
    service.start()
    stack.push_async_callback(service.stop)
    return service
