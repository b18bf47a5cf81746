"""Garbage-collector pauses are measured per generation, and long ones logged sparingly."""

from __future__ import annotations

import gc
import logging
import subprocess
import sys

import pytest

from ev_charging_system.heap import CollectorPauses


class SteppingClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_every_collection_is_reported_with_its_generation_and_length() -> None:
    reports: list[tuple[int, float]] = []
    clock = SteppingClock()
    pauses = CollectorPauses(
        lambda generation, seconds: reports.append((generation, seconds)), clock
    )
    pauses._on_collection("start", {"generation": 2})
    clock.now += 0.25
    pauses._on_collection("stop", {"generation": 2, "collected": 0})
    [(generation, seconds)] = reports
    assert generation == 2
    assert seconds == pytest.approx(0.25)


def test_long_pauses_are_logged_once_a_minute_with_how_many_there_were(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = SteppingClock()
    pauses = CollectorPauses(lambda generation, seconds: None, clock)
    caplog.set_level(logging.WARNING, logger="ev_charging_system.heap")
    for _ in range(5):  # five long full collections within a minute
        pauses._on_collection("start", {"generation": 2})
        clock.now += 0.3
        pauses._on_collection("stop", {"generation": 2})
        clock.now += 5
    clock.now += 60
    pauses._on_collection("start", {"generation": 2})
    clock.now += 0.2
    pauses._on_collection("stop", {"generation": 2})
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2
    assert "300 ms (generation 2, 0 objects freed" in lines[0]
    assert "1 such pauses" in lines[0]
    assert "5 such pauses" in lines[1]


def test_short_collections_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    clock = SteppingClock()
    pauses = CollectorPauses(lambda generation, seconds: None, clock)
    caplog.set_level(logging.WARNING, logger="ev_charging_system.heap")
    pauses._on_collection("start", {"generation": 0})
    clock.now += 0.002
    pauses._on_collection("stop", {"generation": 0})
    assert caplog.records == []


def test_installed_it_sees_real_collections_and_uninstalled_it_does_not() -> None:
    reports: list[int] = []
    pauses = CollectorPauses(lambda generation, seconds: reports.append(generation))
    pauses.install()
    try:
        gc.collect(1)
    finally:
        pauses.uninstall()
    assert 1 in reports
    seen = len(reports)
    gc.collect(1)
    assert len(reports) == seen


def test_a_frozen_start_up_heap_is_left_out_of_full_collections() -> None:
    # In a process of its own: what is frozen stays frozen for the process's life.
    script = (
        "import gc, time\n"
        "from ev_charging_system.heap import freeze_startup_heap\n"
        "import sqlalchemy, fastapi, pydantic\n"
        "frozen = freeze_startup_heap()\n"
        "tracked = len(gc.get_objects())\n"
        "print(frozen, tracked)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    frozen, tracked = (int(value) for value in result.stdout.split())
    assert frozen > 50_000  # the imported frameworks
    assert tracked < frozen / 10  # what a full collection still walks


PACING_SCENARIO = """
import asyncio
import gc
import weakref
from ev_charging_system.heap import (
    YOUNG_COLLECTIONS_PER_MIDDLE, CollectorPacing, CollectorPauses,
)

class Clock:
    now = 0.0
    def __call__(self):
        return self.now

class Connection:
    pass

async def scenario():
    clock = Clock()
    pacing = CollectorPacing(check_seconds=3600, reclaim_seconds=600, clock=clock)
    pauses = CollectorPauses(lambda generation, seconds: pacing.collection_finished(generation))
    pauses.install()
    before = gc.get_threshold()
    pacing.start()
    young_limit, middle_limit, old_limit = gc.get_threshold()
    assert (young_limit, old_limit) == (before[0], before[2])
    assert middle_limit == YOUNG_COLLECTIONS_PER_MIDDLE, "middle collections come sooner"
    gc.collect(0)
    await asyncio.sleep(0)
    assert gc.get_freeze_count() == 0, "a collection of the youngest generation freezes nothing"

    waiting = Connection()  # a station's pending wait, alive until its next message
    gc.collect(1)
    await asyncio.sleep(0)
    assert gc.get_freeze_count() > 0, "the survivors of a middle collection are frozen"
    assert not any(o is waiting for o in gc.get_objects()), "no collection walks them again"
    gc.unfreeze()

    old = Connection()
    old.self_reference = old  # a cycle: only the collector can free it
    gone = weakref.ref(old)
    gc.collect()
    await asyncio.sleep(0)
    frozen = gc.get_freeze_count()
    assert frozen > 0, "the survivors of a full collection are frozen"
    assert not any(o is old for o in gc.get_objects()), "full collections no longer walk them"

    del old  # the station left: its connection is garbage, but frozen
    gc.collect()
    assert gone() is not None, "frozen garbage waits for the reclaim"
    pacing.step()
    assert gone() is not None, "no reclaim before it is due"
    clock.now += 601
    pacing.step()
    assert gone() is None, "the reclaim freed it"
    assert gc.get_freeze_count() > 0, "and froze what is alive again"
    await pacing.stop()
    assert gc.get_threshold() == before, "the collector's own pace is back"
    pauses.uninstall()
    print("ok", frozen)

asyncio.run(scenario())
"""


def test_survivors_of_a_full_collection_are_frozen_and_reclaimed_on_schedule() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PACING_SCENARIO], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
