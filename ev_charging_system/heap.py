"""The cyclic garbage collector and the event loop: keep it short, and show when it is not.

A full collection walks every object the process holds and stops the loop while it does.
After start-up that is about 390,000 objects (the framework, driver, solver and pandas
modules), a walk of 0.2-0.6 s on this project's 2-core machine, paid again at every full
collection: with 10,000 stations connected, those pauses were the p99 latency. Freezing
the start-up heap moves it where the collector never looks; objects made afterwards
(stations, sessions) are collected as before.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

LONG_PAUSE_SECONDS = 0.1
LOG_INTERVAL_SECONDS = 60.0


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
                    "garbage collection paused the event loop %.0f ms (generation %d; "
                    "%d such pauses since the last report)",
                    seconds * 1000,
                    generation,
                    self._long_since_logged,
                )
                self._last_logged = now
                self._long_since_logged = 0
