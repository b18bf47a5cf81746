"""The in-process event bus: one bounded queue per consumer, drop-oldest when full.

A slow consumer (an SSE client on a bad network) must never hold up the OCPP path that
publishes, so `publish` only appends to queues. When a queue is full its oldest event is
discarded and the consumer's `dropped` counter grows; the consumer can tell its client.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from ev_charging_system.business_logic.events import (
    DomainEvent,
    EventFilter,
    SubscriptionClosedError,
)

logger = logging.getLogger(__name__)


class QueueSubscription:
    def __init__(self, bus: InProcessEventBus, event_filter: EventFilter, max_queued: int) -> None:
        if max_queued < 1:
            raise ValueError("a subscription needs room for at least one event")
        self._bus = bus
        self.filter = event_filter
        self._queue: deque[DomainEvent] = deque(maxlen=max_queued)
        self._ready = asyncio.Event()
        self._dropped = 0
        self.closed = False

    @property
    def dropped(self) -> int:
        return self._dropped

    def offer(self, event: DomainEvent) -> bool:
        """Queue the event; True when that pushed the oldest one out."""
        full = len(self._queue) == self._queue.maxlen
        if full:
            self._dropped += 1  # deque(maxlen) pushes the oldest out on append
        self._queue.append(event)
        self._ready.set()
        return full

    async def next(self) -> DomainEvent:
        while not self._queue:
            if self.closed:
                raise SubscriptionClosedError("subscription closed")
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._bus.forget(self)
            self._ready.set()


class InProcessEventBus:
    def __init__(self) -> None:
        self._subscriptions: list[QueueSubscription] = []
        self.published = 0
        self.dropped_total = 0  # events lost by any subscriber since start (for metrics)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    @property
    def dropped(self) -> int:
        """Events lost by subscribers that are still open."""
        return sum(s.dropped for s in self._subscriptions)

    def publish(self, event: DomainEvent) -> None:
        self.published += 1
        for subscription in tuple(self._subscriptions):
            if subscription.filter.matches(event):
                try:
                    if subscription.offer(event):
                        self.dropped_total += 1
                except Exception:  # a consumer's bug must not reach the publisher
                    logger.exception("event consumer failed; dropping it")
                    subscription.close()

    def subscribe(self, event_filter: EventFilter, max_queued: int) -> QueueSubscription:
        subscription = QueueSubscription(self, event_filter, max_queued)
        self._subscriptions.append(subscription)
        return subscription

    def forget(self, subscription: QueueSubscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
