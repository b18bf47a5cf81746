"""Group commit: writes that arrive while a commit is in flight share the next one.

A station's message is acknowledged only once its data is durable, so each one waits for
a commit. Committing them one by one costs a transaction (and its round trips) per
message; under load most of that time is spent waiting for the database, not working.
Here the first write goes out at once (no added latency when idle); writes that arrive
meanwhile are queued and written together, in one transaction, as soon as it returns.

If a shared batch fails for a reason other than the database being unavailable (a row
the database refuses), each write of it is retried alone, so one station's odd data
never costs another station its acknowledgement.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ev_charging_system.business_logic.bounded import DeadlineExceededError, within
from ev_charging_system.models.errors import StorageUnavailableError

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# One batch is one INSERT; beyond this many writes the statement itself gets slow.
DEFAULT_MAX_BATCH = 500
# Batches committing at once. While one waits for the database (its commit, the disk)
# the next is already on its way: two keep the database busy without a queue of them.
DEFAULT_IN_FLIGHT = 2
# Event-loop turns a new writer lets pass before it takes its first batch. A station's
# frame becomes a write a few turns after it is read (the connection's reader, then the
# call's task, then its handler); waiting those turns lets every message read in the same
# turn share the batch. A batch costs about 1 ms of CPU whatever its size (session,
# statement, driver; 25 us per message on top): under load, single-message batches were
# most of a MeterValues message's cost. When idle the wait is microseconds.
DEFAULT_GATHER_TURNS = 3


@dataclass(frozen=True, slots=True)
class BatchStats:
    """What the batches did so far (metrics read it)."""

    batches: int
    writes: int
    largest: int
    split: int  # batches that failed together and were retried one write at a time


class GroupCommit(Generic[Item, Result]):
    """Calls `flush` with every write waiting, one batch at a time.

    `flush` gets the items of a batch and returns one result per item, in order, after
    they are committed. A batch waits at most `timeout_seconds` for the database.
    """

    def __init__(
        self,
        flush: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        timeout_seconds: float,
        max_batch: int = DEFAULT_MAX_BATCH,
        in_flight: int = DEFAULT_IN_FLIGHT,
        gather_turns: int = DEFAULT_GATHER_TURNS,
    ) -> None:
        self._flush = flush
        self._timeout = timeout_seconds
        self._max_batch = max_batch
        self._in_flight = in_flight
        self._gather_turns = gather_turns
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writers: set[asyncio.Task[None]] = set()
        self._batches = self._writes = self._largest = self._split = 0

    def stats(self) -> BatchStats:
        return BatchStats(self._batches, self._writes, self._largest, self._split)

    async def submit(self, item: Item) -> Result:
        """Write `item` in the next batch and return its result once committed.

        A caller that stops waiting (cancelled, e.g. by its own deadline) is left out of
        any batch not yet started; one already started may still commit it.
        """
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if len(self._writers) < self._in_flight:
            self._writers.add(asyncio.create_task(self._write_all()))
        return await future

    async def _write_all(self) -> None:
        try:
            for _ in range(self._gather_turns):
                await asyncio.sleep(0)
            while self._waiting:
                batch = [entry for entry in self._waiting[: self._max_batch] if not entry[1].done()]
                del self._waiting[: self._max_batch]
                if batch:
                    await self._write(batch)
        finally:
            # Here, not in a done callback: a write submitted right after this one's last
            # batch must find the writer gone, or it would wait for no one.
            current = asyncio.current_task()
            if current is not None:
                self._writers.discard(current)

    async def _write(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        self._batches += 1
        self._writes += len(batch)
        self._largest = max(self._largest, len(batch))
        try:
            results = await self._bounded([item for item, _ in batch])
        except StorageUnavailableError as error:
            _fail(batch, error)
            return
        except Exception as error:
            if len(batch) == 1:
                _fail(batch, error)
                return
            self._split += 1
            # The error's name only: a driver's message carries the batch's every parameter.
            logger.warning(
                "a batch of %d writes failed (%s); writing each alone",
                len(batch),
                type(error).__name__,
            )
            for entry in batch:
                await self._write([entry])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _bounded(self, items: list[Item]) -> Sequence[Result]:
        try:
            return await within(self._timeout, self._flush(items))
        except DeadlineExceededError as error:
            raise StorageUnavailableError(f"a batch of writes waited: {error}") from error


def _fail(batch: list[tuple[Item, asyncio.Future[Result]]], error: BaseException) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)
