"""The cyclic garbage collector and the event loop: keep its pauses short, and show them.

A full collection walks every object the process holds and stops the loop while it does.
After start-up that is about 390,000 objects (the framework, driver, solver and pandas
modules), a walk of 0.2-0.6 s on this project's 2-core machine; with 10,000 stations
connected it is millions of objects, and full collections of 0.3-2.4 s came several times
a minute while stations connected (benchmarks/ocpp_load, steady part): they were the p99.

So `python main.py` (never a test process, which builds and drops applications):
- freezes its start-up heap once it listens: the collector never walks it again;
- after each collection of the middle generation or a full one, freezes what survived it
  (`CollectorPacing`): the next full collection walks only what was made since, not every
  connected station again. Freezing after full collections only was not enough: each
  message leaves objects that live until the station's next one (about 20 s at 10,000
  stations: the waits of its connection), about 100,000 of them piled up in the old
  generation between two full collections, and each full collection walked them for
  150-290 ms (10,000-station run, loaded machine; the run's p99);
- once every `RECLAIM_SECONDS` thaws the frozen heap and collects it in one go, so that
  cyclic garbage among objects frozen while alive (a station's old connection) is
  reclaimed: one long pause per interval, logged, instead of several a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

LONG_PAUSE_SECONDS = 0.1
LOG_INTERVAL_SECONDS = 60.0
CHECK_SECONDS = 5.0
RECLAIM_SECONDS = 900.0
# Collections of this generation and older have their survivors frozen (CollectorPacing).
FREEZE_FROM_GENERATION = 1
# Young collections between two of the middle generation while pacing (CPython's default
# is 10). The middle generation gathers what young collections saw survive: with 10,000
# stations each young collection passes on thousands of connection waits, and ten of them
# made a middle collection of ~50,000 objects (25-130 ms on the loaded machine). A middle
# collection after every third walks a fraction of that, and freezes it sooner.
YOUNG_COLLECTIONS_PER_MIDDLE = 2


def freeze_startup_heap() -> int:
    """Collect what is garbage now, then exempt every live object from later collections.

    For the process that runs the system (main.py) once it has started, never in a
    process that builds and drops applications (tests): what is frozen is never
    collected, should it become garbage later."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info("%d start-up objects exempted from garbage collection", frozen)
    return frozen


class CollectorPauses:
    """Times each collection; reports it, and logs long ones (at most once a minute)."""

    def __init__(
        self,
        report: Callable[[int, float], None],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._report = report
        self._clock = clock
        self._started = 0.0
        self._last_logged = float("-inf")
        self._long_since_logged = 0

    def install(self) -> None:
        if self._on_collection not in gc.callbacks:
            gc.callbacks.append(self._on_collection)

    def uninstall(self) -> None:
        if self._on_collection in gc.callbacks:
            gc.callbacks.remove(self._on_collection)

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        now = self._clock()
        if phase == "start":
            self._started = now
            return
        seconds = now - self._started
        generation = int(info.get("generation", 0))
        self._report(generation, seconds)
        if seconds >= LONG_PAUSE_SECONDS:
            self._long_since_logged += 1
            if now - self._last_logged >= LOG_INTERVAL_SECONDS:
                logger.warning(
                    "garbage collection paused the event loop %.0f ms (generation %d, "
                    "%d objects freed, %d frozen; %d such pauses since the last report)",
                    seconds * 1000,
                    generation,
                    int(info.get("collected", 0)),
                    gc.get_freeze_count(),
                    self._long_since_logged,
                )
                self._last_logged = now
                self._long_since_logged = 0


class CollectorPacing:
    """Freezes the survivors of each collection of generation `FREEZE_FROM_GENERATION` or
    older; reclaims the frozen heap now and then.

    Fed by `CollectorPauses` (which generation ran). The freeze is scheduled on the event
    loop, right after the collection, never done inside the collector's callback (which
    may run on any thread); a freeze only once a periodic check came round let several
    full collections in a row walk the same unfrozen stations (10,000-station run).
    Survivors of the youngest generation's collections are not frozen: most of them are
    a message's short-lived work, and cycles among them would wait for the reclaim."""

    def __init__(
        self,
        check_seconds: float = CHECK_SECONDS,
        reclaim_seconds: float = RECLAIM_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check_seconds = check_seconds
        self._reclaim_seconds = reclaim_seconds
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._freeze_scheduled = False
        self._task: asyncio.Task[None] | None = None
        self._last_reclaim = clock()
        self._thresholds: tuple[int, int, int] | None = None  # the collector's, before start

    def collection_finished(self, generation: int) -> None:
        loop = self._loop
        if generation >= FREEZE_FROM_GENERATION and loop is not None and not self._freeze_scheduled:
            self._freeze_scheduled = True
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._freeze)

    def _freeze(self) -> None:
        self._freeze_scheduled = False
        gc.freeze()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._last_reclaim = self._clock()
        self._thresholds = gc.get_threshold()
        young, _, old = self._thresholds
        gc.set_threshold(young, YOUNG_COLLECTIONS_PER_MIDDLE, old)
        self._task = asyncio.create_task(self._run(), name="garbage-collector pacing")

    async def stop(self) -> None:
        self._loop = None
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._check_seconds)
            self.step()

    def step(self) -> None:
        """One check: reclaim the whole heap when it is due."""
        if self._clock() - self._last_reclaim >= self._reclaim_seconds:
            self.reclaim()

    def reclaim(self) -> int:
        """Collect the whole heap once (one long pause), then freeze what is alive."""
        started = time.perf_counter()
        gc.unfreeze()
        freed = gc.collect()
        gc.freeze()
        self._last_reclaim = self._clock()
        logger.info(
            "garbage collection over the whole heap: %d objects freed, %d kept, %.0f ms",
            freed,
            gc.get_freeze_count(),
            (time.perf_counter() - started) * 1000,
        )
        return freed
