"""Alarms raised and cleared by rules over the domain events and the network's state.

Events make alarms immediate (a connector reports Faulted: an alarm at once); a periodic
sweep makes them right (a station offline longer than the limit, the database, anything
an event that was dropped would have changed, and alarms stored while the database was
away). At most one alarm per rule and station/connector is active; seeing the condition
again counts an occurrence. Conditions that hold no state (a meter reading that went
backwards) clear when acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from ev_charging_system.business_logic.device_management_service import DeviceManagementService
from ev_charging_system.business_logic.events import (
    AlarmCleared,
    AlarmRaised,
    CommandCompleted,
    ConnectorStatusChanged,
    DomainEvent,
    EventBus,
    EventFilter,
    MeterAnomalyDetected,
    PlanChanged,
    StationBooted,
    StationConnected,
    StationDisconnected,
    StationRegistrationChanged,
    Subscription,
    SubscriptionClosedError,
)
from ev_charging_system.business_logic.ports import AlarmNotifier, AlarmStore, StorageHealth
from ev_charging_system.models.alarm import SEVERITY_OF, Alarm, AlarmRule, Severity, alarm_key
from ev_charging_system.models.charge_point import ChargePointView
from ev_charging_system.models.errors import ConflictError, NotFoundError

logger = logging.getLogger(__name__)

FAULTED = "Faulted"
FAILED_OUTCOMES = frozenset({"timeout", "call_error", "failed"})
# Rules whose condition is a past event, not a state that could end: acknowledging clears.
ONE_SHOT = frozenset({AlarmRule.IMPLAUSIBLE_METER_VALUE})
WATCHED = frozenset(
    kind.type
    for kind in (
        StationConnected,
        StationDisconnected,
        StationBooted,
        StationRegistrationChanged,
        ConnectorStatusChanged,
        CommandCompleted,
        PlanChanged,
        MeterAnomalyDetected,
    )
)


@dataclass(frozen=True, slots=True)
class AlarmPolicy:
    offline_after: timedelta = timedelta(minutes=10)
    sweep_every: timedelta = timedelta(seconds=30)
    enabled: frozenset[AlarmRule] = field(default_factory=lambda: frozenset(AlarmRule))


class AlarmService:
    def __init__(
        self,
        store: AlarmStore,
        events: EventBus,
        devices: DeviceManagementService,
        clock: Callable[[], datetime],
        policy: AlarmPolicy | None = None,
        storage: StorageHealth | None = None,
        notifier: AlarmNotifier | None = None,
    ) -> None:
        self._store = store
        self._events = events
        self._devices = devices
        self._clock = clock
        self.policy = policy or AlarmPolicy()
        self._storage = storage
        self._notifier = notifier
        self._active: dict[str, Alarm] = {}
        self._unsaved: dict[
            tuple[str, datetime], Alarm
        ] = {}  # changes the database did not take yet
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._offline_timers: dict[str, asyncio.TimerHandle] = {}

    # --- running -------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            for alarm in await self._store.active():
                self._active[alarm.key] = alarm
        except Exception:
            logger.warning("alarms: the active alarms could not be read; starting empty")
        subscription = self._events.subscribe(EventFilter.of(types=WATCHED), max_queued=10_000)
        self._spawn(self._follow(subscription))
        self._spawn(self._sweep_periodically())

    async def stop(self) -> None:
        for timer in self._offline_timers.values():
            timer.cancel()
        self._offline_timers.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _follow(self, subscription: Subscription) -> None:
        try:
            while True:
                event = await subscription.next()
                try:
                    await self.on_event(event)
                except Exception:
                    logger.exception("alarms: could not evaluate %s", event.type)
        except SubscriptionClosedError:
            return
        finally:
            subscription.close()

    async def _sweep_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.policy.sweep_every.total_seconds())
            try:
                await self.sweep()
            except Exception:
                logger.exception("alarms: the periodic check failed")

    # --- rules ---------------------------------------------------------------------------

    async def on_event(self, event: DomainEvent) -> None:
        station = event.charge_point_id
        match event:
            case StationConnected():
                self._cancel_offline_timer(station)
                await self.clear(AlarmRule.STATION_OFFLINE, station)
            case StationDisconnected() if not event.replaced_by_newer_connection and station:
                self._start_offline_timer(station)
            case StationBooted() | StationRegistrationChanged():
                if event.registration_status == "Rejected":
                    await self.raise_alarm(
                        AlarmRule.BOOT_REJECTED,
                        f"{station} was refused (registration Rejected)",
                        station,
                    )
                elif event.registration_status == "Accepted":
                    await self.clear(AlarmRule.BOOT_REJECTED, station)
            case ConnectorStatusChanged():
                if event.status == FAULTED:
                    detail = ", ".join(x for x in (event.error_code, event.info) if x)
                    await self.raise_alarm(
                        AlarmRule.CONNECTOR_FAULTED,
                        f"connector {event.connector_id} of {station} is Faulted ({detail})",
                        station,
                        event.connector_id,
                    )
                else:
                    await self.clear(AlarmRule.CONNECTOR_FAULTED, station, event.connector_id)
            case CommandCompleted():
                if event.outcome in FAILED_OUTCOMES:
                    await self.raise_alarm(
                        AlarmRule.COMMAND_FAILED,
                        f"{event.action} to {station} failed ({event.outcome.replace('_', ' ')})",
                        station,
                    )
                elif event.outcome == "answered":
                    await self.clear(AlarmRule.COMMAND_FAILED, station)
            case PlanChanged():
                if event.fell_back:
                    await self.raise_alarm(
                        AlarmRule.PLANNER_FALLBACK,
                        f"the planner fell back from {event.requested_policy} to "
                        f"{event.policy}: {event.reason}",
                    )
                else:
                    await self.clear(AlarmRule.PLANNER_FALLBACK)
            case MeterAnomalyDetected():
                await self.raise_alarm(
                    AlarmRule.IMPLAUSIBLE_METER_VALUE,
                    f"implausible meter value on {station}: {event.detail}",
                    station,
                    event.connector_id,
                )

    async def sweep(self) -> None:
        """Bring the alarms in line with the state: offline stations, faulted connectors,
        the database; and store what the database missed."""
        if self._storage is not None:
            if self._storage.available:
                await self.clear(AlarmRule.DATABASE_UNREACHABLE)
            else:
                await self.raise_alarm(
                    AlarmRule.DATABASE_UNREACHABLE, "the database is not answering"
                )
                return  # nothing below can be read now
        await self._store_unsaved()
        now = self._clock()
        offline_since = now - self.policy.offline_after
        # A page at a time, giving the loop back in between: with 10,000 stations the
        # sweep read and walked all of them in one go, holding station messages for about
        # half a second every `sweep_every` (the 10,000-station benchmark's p99).
        async for page in self._devices.charge_points_in_pages():
            for view in page:
                await self._sweep_station(view, offline_since)
            await asyncio.sleep(0)

    async def _sweep_station(self, view: ChargePointView, offline_since: datetime) -> None:
        station = view.charge_point
        if view.online:
            await self._clear_if_active(AlarmRule.STATION_OFFLINE, station.id)
            faulted = {c.connector_id for c in station.connectors if c.status == FAULTED}
            for connector in station.connectors:
                if connector.connector_id in faulted:
                    await self.raise_alarm(
                        AlarmRule.CONNECTOR_FAULTED,
                        f"connector {connector.connector_id} of {station.id} is Faulted "
                        f"({connector.error_code})",
                        station.id,
                        connector.connector_id,
                        repeat=False,
                    )
                else:
                    await self._clear_if_active(
                        AlarmRule.CONNECTOR_FAULTED, station.id, connector.connector_id
                    )
        elif station.last_seen_at is not None and station.last_seen_at <= offline_since:
            await self._raise_offline(station.id, station.last_seen_at)

    async def _clear_if_active(
        self, rule: AlarmRule, charge_point_id: str, connector_id: int | None = None
    ) -> None:
        """The sweep's clear: almost every station has nothing to clear, so look first
        instead of taking the lock tens of thousands of times."""
        if alarm_key(rule, charge_point_id, connector_id) in self._active:
            await self.clear(rule, charge_point_id, connector_id)

    def _start_offline_timer(self, station: str) -> None:
        self._cancel_offline_timer(station)
        loop = asyncio.get_running_loop()
        self._offline_timers[station] = loop.call_later(
            self.policy.offline_after.total_seconds(),
            lambda: self._spawn(self._still_offline(station)),
        )

    def _cancel_offline_timer(self, station: str | None) -> None:
        timer = self._offline_timers.pop(station or "", None)
        if timer is not None:
            timer.cancel()

    async def _still_offline(self, station: str) -> None:
        self._offline_timers.pop(station, None)
        view = await self._devices.get_charge_point(station)
        if not view.online:
            await self._raise_offline(station, view.charge_point.last_seen_at)

    async def _raise_offline(self, station: str, last_seen: datetime | None) -> None:
        since = f" since {last_seen.isoformat(timespec='seconds')}" if last_seen else ""
        await self.raise_alarm(
            AlarmRule.STATION_OFFLINE, f"{station} is offline{since}", station, repeat=False
        )

    # --- changes -------------------------------------------------------------------------

    async def raise_alarm(
        self,
        rule: AlarmRule,
        message: str,
        charge_point_id: str | None = None,
        connector_id: int | None = None,
        *,
        repeat: bool = True,
    ) -> Alarm | None:
        """Raise (or, when active, count again unless `repeat` is False) an alarm."""
        if rule not in self.policy.enabled:
            return None
        now = self._clock()
        async with self._lock:
            key = alarm_key(rule, charge_point_id, connector_id)
            active = self._active.get(key)
            if active is not None:
                if repeat:
                    active.occurrences += 1
                    active.last_raised_at = now
                    active.message = message
                    await self._save(active)
                return active
            alarm = Alarm(
                rule=rule,
                severity=SEVERITY_OF[rule],
                message=message,
                raised_at=now,
                charge_point_id=charge_point_id,
                connector_id=connector_id,
            )
            self._active[key] = alarm
            await self._save(alarm)
        logger.warning("alarm raised: %s", message)
        self._events.publish(
            AlarmRaised(
                at=now,
                charge_point_id=charge_point_id,
                alarm_id=str(alarm.id or key),
                rule=rule.value,
                severity=alarm.severity.value,
                message=message,
            )
        )
        self._notify(alarm, "raised")
        return alarm

    async def clear(
        self, rule: AlarmRule, charge_point_id: str | None = None, connector_id: int | None = None
    ) -> Alarm | None:
        async with self._lock:
            alarm = self._active.pop(alarm_key(rule, charge_point_id, connector_id), None)
            if alarm is None:
                return None
            alarm.cleared_at = self._clock()
            await self._save(alarm)
        logger.info("alarm cleared: %s", alarm.message)
        self._publish_cleared(alarm)
        self._notify(alarm, "cleared")
        return alarm

    async def acknowledge(self, alarm_id: int, by: str) -> Alarm:
        async with self._lock:
            alarm = next((a for a in self._active.values() if a.id == alarm_id), None)
            if alarm is None:
                stored = await self._store.get(alarm_id)
                if stored is None:
                    raise NotFoundError("alarm", alarm_id)
                raise ConflictError(f"alarm {alarm_id} has already cleared")
            if alarm.acknowledged_at is None:
                alarm.acknowledged_at = self._clock()
                alarm.acknowledged_by = by
            cleared = alarm.rule in ONE_SHOT
            if cleared:
                alarm.cleared_at = alarm.acknowledged_at
                self._active.pop(alarm.key, None)
            await self._save(alarm)
        if cleared:
            self._publish_cleared(alarm)
            self._notify(alarm, "cleared")
        return replace(alarm)

    async def page(
        self, *, active_only: bool, charge_point_id: str | None, limit: int, offset: int
    ) -> tuple[list[Alarm], int]:
        return await self._store.page(
            active_only=active_only, charge_point_id=charge_point_id, limit=limit, offset=offset
        )

    def active(self) -> list[Alarm]:
        """What is wrong now, most severe and newest first (from memory: cheap)."""
        rank = {severity: n for n, severity in enumerate(Severity)}
        alarms = sorted(self._active.values(), key=lambda a: a.raised_at, reverse=True)
        return sorted(alarms, key=lambda a: rank[a.severity])

    # --- plumbing ------------------------------------------------------------------------

    async def _save(self, alarm: Alarm) -> None:
        try:
            if alarm.id is None:
                alarm.id = (await self._store.add(alarm)).id
            else:
                await self._store.update(alarm)
        except Exception:
            # The database may be the very thing that is down: keep it, store it later.
            self._unsaved[_occurrence(alarm)] = alarm
        else:
            self._unsaved.pop(_occurrence(alarm), None)

    async def _store_unsaved(self) -> None:
        async with self._lock:
            for alarm in list(self._unsaved.values()):
                await self._save(alarm)

    def _publish_cleared(self, alarm: Alarm) -> None:
        self._events.publish(
            AlarmCleared(
                at=alarm.cleared_at or self._clock(),
                charge_point_id=alarm.charge_point_id,
                alarm_id=str(alarm.id or alarm.key),
                rule=alarm.rule.value,
            )
        )

    def _notify(self, alarm: Alarm, change: str) -> None:
        if self._notifier is not None:
            self._spawn(self._notifier.notify(replace(alarm), change))


def _occurrence(alarm: Alarm) -> tuple[str, datetime]:
    """One raising of an alarm (its key may be raised again after it cleared)."""
    return alarm.key, alarm.raised_at
