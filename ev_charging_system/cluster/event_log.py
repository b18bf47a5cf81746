"""The cluster's event log: a JetStream stream of every node's domain events.

Every node publishes its events on `<cluster>.events.<node>`; the stream
`<cluster>_events` keeps them, in one order, for CLUSTER_EVENT_REPLAY_SECONDS (and at most
MAX_LOG_BYTES). Each node reads it with an ordered consumer, which notices a gap (a NATS
blip, a lost message) and resumes after the last sequence it saw: a node back on NATS gets
what it missed instead of losing it. The stream sequence is an event's position, the same
on every node, so an SSE client that reconnects to any node with `Last-Event-ID` gets the
events after it (`LogSubscription`).

Per-station order holds: a station's events come from the node holding it, through one
FIFO queue and one connection, and the stream keeps arrival order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy, DiscardPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from ev_charging_system.business_logic.events import (
    DomainEvent,
    EventFilter,
    SubscriptionClosedError,
)
from ev_charging_system.cluster.codec import CodecError, decode_event
from ev_charging_system.cluster.subjects import Subjects

logger = logging.getLogger(__name__)

MAX_LOG_BYTES = 512 * 1024 * 1024
REPLAY_WAIT_SECONDS = 5.0  # for each replayed message; NATS away longer: give up, tell


async def ensure_stream(js: JetStreamContext, subjects: Subjects, keep_seconds: float) -> None:
    """Create the stream, or bring its window in line with this node's settings."""
    config = StreamConfig(
        name=subjects.stream,
        subjects=[subjects.all_events],
        storage=StorageType.FILE,  # survives a NATS restart: positions stay meaningful
        max_age=keep_seconds,
        max_bytes=MAX_LOG_BYTES,
        discard=DiscardPolicy.OLD,
        num_replicas=1,
    )
    try:
        info = await js.stream_info(subjects.stream)
    except NotFoundError:
        try:
            await js.add_stream(config)
            return
        except BadRequestError:  # another node created it meanwhile
            info = await js.stream_info(subjects.stream)
    if info.config.max_age != keep_seconds or info.config.max_bytes != MAX_LOG_BYTES:
        await js.update_stream(config)


def position_of(text: str | None) -> int | None:
    """A Last-Event-ID as a stream sequence; anything else (another server's id) is None."""
    if text is None or not text.strip().isdigit():
        return None
    return int(text.strip())


class LogSubscription:
    """Events in the log's order with their positions; bounded, drop-oldest like the
    in-process subscriptions, but a replay waits for room instead of dropping."""

    def __init__(self, event_filter: EventFilter, max_queued: int, replaying: bool) -> None:
        if max_queued < 1:
            raise ValueError("a subscription needs room for at least one event")
        self.filter = event_filter
        self._max = max_queued
        self._queue: deque[tuple[int, DomainEvent]] = deque()
        self._held: deque[tuple[int, DomainEvent]] = deque()  # live, while replaying
        self._replaying = replaying
        self._replayed_up_to = 0  # live events at or before this came with the replay
        self._changed = asyncio.Event()
        self._dropped = 0
        self._position: int | None = None
        self.closed = False
        self.replay: asyncio.Task[None] | None = None

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def position(self) -> str | None:
        return None if self._position is None else str(self._position)

    def offer(self, sequence: int, event: DomainEvent) -> None:
        """A live event from the log."""
        if self.closed or not self.filter.matches(event):
            return
        if self._replaying:
            self._held.append((sequence, event))
            if len(self._held) > self._max:
                self._held.popleft()
                self._dropped += 1
            return
        if sequence <= self._replayed_up_to:
            return
        self._append(sequence, event)

    def _append(self, sequence: int, event: DomainEvent) -> None:
        if len(self._queue) >= self._max:
            self._queue.popleft()
            self._dropped += 1
        self._queue.append((sequence, event))
        self._changed.set()

    async def replayed(self, sequence: int, event: DomainEvent) -> None:
        """An event from before the subscription: wait for room rather than drop it."""
        if not self.filter.matches(event):
            return
        while len(self._queue) >= self._max and not self.closed:
            self._changed.clear()
            await self._changed.wait()
        self._append(sequence, event)

    def missed(self, count: int) -> None:
        """Events the log no longer holds (older than its window)."""
        self._dropped += count
        self._changed.set()

    def replay_done(self, up_to: int) -> None:
        """The replay covered the log up to `up_to`; live events after it follow."""
        self._replayed_up_to = up_to
        self._replaying = False
        for sequence, event in self._held:
            if sequence > up_to:
                self._append(sequence, event)
        self._held.clear()
        self._changed.set()

    async def next(self) -> DomainEvent:
        while not self._queue:
            if self.closed:
                raise SubscriptionClosedError("subscription closed")
            self._changed.clear()
            await self._changed.wait()
        sequence, event = self._queue.popleft()
        self._position = sequence
        self._changed.set()  # room for a waiting replay
        return event

    def close(self) -> None:
        self.closed = True
        self._changed.set()
        if self.replay is not None:
            self.replay.cancel()


async def replay(
    js: JetStreamContext, subjects: Subjects, subscription: LogSubscription, after: int
) -> None:
    """Feed `subscription` the logged events after `after`, then its held live ones."""
    up_to = after
    try:
        state = (await js.stream_info(subjects.stream)).state
        if after > state.last_seq:
            # Not a position of this log (another cluster's, or the stream was made anew):
            # nothing to replay, and no live event to hold back.
            up_to = state.last_seq
            return
        up_to = state.last_seq
        start = max(after + 1, state.first_seq)
        if start > after + 1:
            subscription.missed(start - after - 1)
        if start <= state.last_seq:
            await _read(js, subjects, subscription, start, state.last_seq)
    except asyncio.CancelledError:
        raise
    except Exception as error:
        logger.warning("cluster: could not replay events after %d: %s", after, error)
        subscription.missed(max(up_to - after, 1))
    finally:
        subscription.replay_done(up_to)


async def _read(
    js: JetStreamContext, subjects: Subjects, subscription: LogSubscription, start: int, last: int
) -> None:
    consumer = await js.subscribe(
        subjects.all_events,
        stream=subjects.stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start),
    )
    try:
        while True:
            message = await consumer.next_msg(timeout=REPLAY_WAIT_SECONDS)
            sequence = message.metadata.sequence.stream
            if sequence > last:
                return
            try:
                await subscription.replayed(sequence, decode_event(message.data))
            except CodecError as error:
                logger.warning("cluster: unreadable logged event %d: %s", sequence, error)
            if sequence >= last:
                return
    finally:
        await consumer.unsubscribe()
