"""Resource-updated notifications for station status.

Clients subscribe in the way their protocol revision offers:
- 2026-07-28: `subscriptions/listen` with resource URIs, served by the SDK itself from a
  `SubscriptionBus`; we publish `ResourceUpdated` events on that bus;
- 2025-11-25 and earlier: `resources/subscribe` / `resources/unsubscribe`, which the SDK
  does not implement; `LegacySubscriptions` keeps who asked and notifies their session.

What changed is pushed by the services as domain events (station connected, connector
status changed, session started ...); nothing polls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated, ServerEvent

from ev_charging_system.business_logic.events import EventBus, EventFilter
from ev_charging_system.llm_integration.mcp_resources import (
    ACTIVE_ALARMS_URI,
    AVAILABLE_CONNECTORS_URI,
    station_status_uri,
)

logger = logging.getLogger(__name__)

MAX_LEGACY_SUBSCRIPTIONS = 1_000  # per process; the oldest is dropped beyond this


class CountingBus:
    """The SDK's in-process bus, counting open listen streams (so we poll only for them)."""

    def __init__(self) -> None:
        self._bus = InMemorySubscriptionBus()
        self.listeners = 0

    async def publish(self, event: ServerEvent) -> None:
        await self._bus.publish(event)

    def subscribe(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        unsubscribe = self._bus.subscribe(listener)
        self.listeners += 1
        done = False

        def release() -> None:
            nonlocal done
            if not done:
                done = True
                self.listeners -= 1
                unsubscribe()

        return release


def always_alive(_session_key: str) -> bool:
    return True


class LegacySubscriptions:
    """`resources/subscribe` for handshake-era clients over streamable HTTP."""

    def __init__(self, session_alive: Callable[[str], bool] = always_alive) -> None:
        # (uri, session key) -> the session to notify; insertion order = age.
        self._sessions: dict[tuple[str, str], ServerSession] = {}
        # Notifying a closed session fails silently, so ask whether it still exists:
        # otherwise a client that left without unsubscribing would keep us polling.
        self.session_alive = session_alive

    def active(self) -> int:
        """Subscriptions of sessions that still exist (forgets the others)."""
        for key in [k for k in self._sessions if not self.session_alive(k[1])]:
            del self._sessions[key]
        return len(self._sessions)

    @staticmethod
    def _key(ctx: ServerRequestContext[Any, Any]) -> str:
        # The Mcp-Session-Id names the client's session across requests; the ServerSession
        # object itself is rebuilt for every request.
        headers = getattr(ctx.request, "headers", None)
        session_id = headers.get("mcp-session-id") if headers is not None else None
        return session_id or f"in-process:{id(ctx.session)}"

    async def subscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        key = (str(params.uri), self._key(ctx))
        self._sessions.pop(key, None)
        self._sessions[key] = ctx.session
        while len(self._sessions) > MAX_LEGACY_SUBSCRIPTIONS:
            self._sessions.pop(next(iter(self._sessions)))
        return types.EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        self._sessions.pop((str(params.uri), self._key(ctx)), None)
        return types.EmptyResult()

    async def notify(self, uri: str) -> None:
        for key, session in [(k, s) for k, s in self._sessions.items() if k[0] == uri]:
            try:
                await session.send_resource_updated(uri)
            except Exception as error:  # the client went away: forget it
                logger.debug("dropping resource subscription %s: %s", key, error)
                self._sessions.pop(key, None)


# Events after which a station's status resource (and the free connectors) read differently.
STATUS_EVENTS = frozenset(
    {
        "station.connected",
        "station.disconnected",
        "station.booted",
        "station.registration_changed",
        "connector.status_changed",
        "transaction.started",
        "transaction.ended",
    }
)
# Events after which the active alarms read differently.
ALARM_EVENTS = frozenset({"alarm.raised", "alarm.cleared"})
MAX_QUEUED_EVENTS = 1_000


class StationStatusFeed:
    """Turns domain events into resource-updated notifications for subscribers."""

    def __init__(self, events: EventBus) -> None:
        self._events = events
        self.bus = CountingBus()
        self.legacy = LegacySubscriptions()

    def has_subscribers(self) -> bool:
        return self.bus.listeners > 0 or self.legacy.active() > 0

    async def notify_station_changed(self, charge_point_id: str) -> None:
        for uri in (station_status_uri(charge_point_id), AVAILABLE_CONNECTORS_URI):
            await self.notify(uri)

    async def notify(self, uri: str) -> None:
        await self.bus.publish(ResourceUpdated(uri=uri))
        await self.legacy.notify(uri)

    async def run(self) -> None:
        subscription = self._events.subscribe(
            EventFilter(types=STATUS_EVENTS | ALARM_EVENTS), max_queued=MAX_QUEUED_EVENTS
        )
        try:
            while True:
                event = await subscription.next()
                if not self.has_subscribers():
                    continue
                try:
                    if event.type in ALARM_EVENTS:
                        await self.notify(ACTIVE_ALARMS_URI)
                    elif event.charge_point_id is not None:
                        await self.notify_station_changed(event.charge_point_id)
                except Exception:
                    logger.exception("resource update notification failed")
        finally:
            subscription.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self.run(), name="mcp-station-status-feed")
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
