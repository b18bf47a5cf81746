"""The EventBus port over NATS: every node's consumers see every node's events.

Local consumers are served by the in-process bus exactly as in a single process (publish
never waits; a slow consumer loses its oldest events). In addition each local event is
queued for NATS on this node's subject, which the cluster's event log (a JetStream
stream, event_log.py) keeps for a window; this node reads that log with an ordered
consumer and delivers the other nodes' events to its local consumers (its own were
delivered at once), so nothing is seen twice. Per station the order holds: a station's
events come from the one node holding it, through one ordered queue and one connection.

Between nodes nothing in the window is lost: after a NATS blip the ordered consumer
resumes after the last event it saw, and this node's own events wait in the client's
buffer (bounded: beyond it they are dropped and counted). `subscribe_from` serves the log
itself, with positions every node shares (SSE `Last-Event-ID`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from ev_charging_system.business_logic.event_bus import InProcessEventBus, QueueSubscription
from ev_charging_system.business_logic.events import DomainEvent, EventFilter
from ev_charging_system.cluster.codec import CodecError, decode_event, encode_event
from ev_charging_system.cluster.event_log import (
    LogSubscription,
    ensure_stream,
    position_of,
    replay,
)
from ev_charging_system.cluster.subjects import Subjects
from ev_charging_system.cluster.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

# Told about every event another node published, before local consumers (presence).
RemoteEventTap = Callable[[str, DomainEvent], None]


class NatsEventBus:
    def __init__(
        self,
        node_id: str,
        subjects: Subjects,
        max_outgoing: int = 10_000,
        replay_seconds: float = 300.0,
        heartbeat_seconds: float = 1.0,
    ) -> None:
        self._local = InProcessEventBus()
        self._node_id = node_id
        self._subjects = subjects
        self._replay_seconds = replay_seconds
        # The log consumer's idle heartbeat: two missed ones (a silent link) and it
        # resumes from its last sequence.
        self._heartbeat_seconds = heartbeat_seconds
        self._outgoing: asyncio.Queue[DomainEvent] = asyncio.Queue(maxsize=max_outgoing)
        self._sender: asyncio.Task[None] | None = None
        self._subscription: JetStreamContext.PushSubscription | None = None
        self._js: JetStreamContext | None = None
        self._log_subscriptions: list[LogSubscription] = []
        self.last_sequence = 0  # of the log, as far as this node has read it
        self._taps: list[RemoteEventTap] = []
        self._local_taps: list[Callable[[DomainEvent], None]] = []
        self.sent = 0
        self.received = 0
        self.outgoing_dropped = 0

    # --- the EventBus port ------------------------------------------------------------

    @property
    def published(self) -> int:
        return self._local.published

    @property
    def subscriber_count(self) -> int:
        return self._local.subscriber_count

    @property
    def dropped(self) -> int:
        return self._local.dropped

    @property
    def dropped_total(self) -> int:
        """Events lost by local subscribers since start (for metrics)."""
        return self._local.dropped_total

    def publish(self, event: DomainEvent) -> None:
        self._local.publish(event)
        for tap in self._local_taps:
            try:
                tap(event)
            except Exception:
                logger.exception("cluster: event tap failed")
        try:
            self._outgoing.put_nowait(event)
        except asyncio.QueueFull:
            self.outgoing_dropped += 1
            if self.outgoing_dropped % 1000 == 1:
                logger.warning(
                    "cluster: %d events not sent to other nodes (queue full)",
                    self.outgoing_dropped,
                )

    def subscribe(self, event_filter: EventFilter, max_queued: int) -> QueueSubscription:
        return self._local.subscribe(event_filter, max_queued)

    def subscribe_from(
        self, position: str | None, event_filter: EventFilter, max_queued: int
    ) -> LogSubscription:
        """The log in its order (this node's events too, as logged), each event with its
        position; after `position` first what the log still holds from there."""
        after = position_of(position)
        replaying = after is not None and self._js is not None
        subscription = LogSubscription(event_filter, max_queued, replaying)
        self._log_subscriptions = [s for s in self._log_subscriptions if not s.closed]
        self._log_subscriptions.append(subscription)
        if replaying and self._js is not None and after is not None:
            subscription.replay = asyncio.create_task(
                replay(self._js, self._subjects, subscription, after), name="cluster-replay"
            )
        return subscription

    # --- NATS -------------------------------------------------------------------------

    def add_remote_tap(self, tap: RemoteEventTap) -> None:
        """`tap(node_id, event)` for every event another node published."""
        self._taps.append(tap)

    def add_local_tap(self, tap: Callable[[DomainEvent], None]) -> None:
        """`tap(event)` for every event this node publishes."""
        self._local_taps.append(tap)

    async def start(self, nats: Client) -> None:
        self._js = nats.jetstream()
        await ensure_stream(self._js, self._subjects, self._replay_seconds)
        # From now on: what happened before this node joined is not its news.
        self.last_sequence = (await self._js.stream_info(self._subjects.stream)).state.last_seq
        # An ordered consumer re-creates itself after a gap, from the last sequence it
        # delivered (from the log's start if it had delivered none: `_received` skips
        # what this node has had already).
        self._subscription = await self._js.subscribe(
            self._subjects.all_events,
            stream=self._subjects.stream,
            cb=self._received,
            ordered_consumer=True,
            idle_heartbeat=self._heartbeat_seconds,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=self.last_sequence + 1,
            ),
            pending_msgs_limit=100_000,
        )
        self._sender = asyncio.create_task(self._send(nats), name="cluster-event-sender")

    async def stop(self, drain_seconds: float = 2.0) -> None:
        """Stop listening, then send what is still queued (this node's last disconnects)
        for at most `drain_seconds`."""
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
            self._subscription = None
        for subscription in self._log_subscriptions:
            subscription.close()
        if self._sender is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outgoing.join(), drain_seconds)
            await cancel_and_wait(self._sender)
            self._sender = None

    async def _send(self, nats: Client) -> None:
        subject = self._subjects.events_of(self._node_id)
        while True:
            event = await self._outgoing.get()
            try:
                # publish() only appends to the client's buffer (flushed by its own task);
                # while NATS is away the client buffers up to its pending size.
                await nats.publish(subject, encode_event(event))
                self.sent += 1
            except Exception as error:  # a full buffer, a closed client: count and go on
                self.outgoing_dropped += 1
                logger.warning("cluster: could not send %s to other nodes: %s", event.type, error)
            finally:
                self._outgoing.task_done()

    async def _received(self, message: Msg) -> None:
        node_id = message.subject.rsplit(".", 1)[-1]
        sequence = message.metadata.sequence.stream
        if sequence <= self.last_sequence:
            return  # delivered before a consumer reset, or from before this node joined
        self.last_sequence = sequence
        try:
            event = decode_event(message.data)
        except CodecError as error:
            logger.warning("cluster: unreadable event from node %s: %s", node_id, error)
            return
        if node_id != self._node_id:  # our own were delivered locally when published
            self.received += 1
            for tap in self._taps:
                try:
                    tap(node_id, event)
                except Exception:
                    logger.exception("cluster: event tap failed")
            self._local.publish(event)
        for subscription in self._log_subscriptions:
            subscription.offer(sequence, event)
