"""One station's outgoing calls: queued, one in flight, timed out, failed fast on disconnect."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from ev_charging_system.core.command_dispatcher import CommandDispatcher
from ev_charging_system.models import commands as c
from ev_charging_system.models.errors import (
    CommandQueueFullError,
    CommandTimeoutError,
    StationCallError,
    StationOfflineError,
)


class EchoTranslator:
    def request(self, command: c.Command) -> Any:
        return command

    def result(self, command: c.Command, response: Any) -> c.CommandResult:
        return c.CommandResult(str(response))


class ScriptedStation:
    """Answers calls the way a test tells it to, recording how many ran at once."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.answer: Any = "Accepted"
        self.delay = 0.0
        self.called = asyncio.Event()

    async def call(self, request: Any) -> Any:
        self.called.set()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if isinstance(self.answer, Exception):
                raise self.answer
            return self.answer
        finally:
            self.in_flight -= 1


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until `condition` holds (a bounded number of turns, no clock)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


def dispatcher(
    station: ScriptedStation, timeout: float = 1, max_queued: int = 8
) -> CommandDispatcher:
    return CommandDispatcher("CP", station, EchoTranslator(), timeout, max_queued)


async def test_commands_run_one_at_a_time_and_all_get_their_answer() -> None:
    station = ScriptedStation()
    station.delay = 0.01
    calls = dispatcher(station)
    results = await asyncio.gather(*(calls.submit(c.ClearCache()) for _ in range(5)))
    assert [r.status for r in results] == ["Accepted"] * 5
    assert station.most_in_flight == 1
    await calls.close("test over")


async def test_a_station_that_never_answers_times_out() -> None:
    station = ScriptedStation()
    station.delay = 10
    calls = dispatcher(station, timeout=0.05)
    with pytest.raises(CommandTimeoutError, match="did not answer"):
        await calls.submit(c.Reset())
    await calls.close("test over")


async def test_a_call_error_reaches_the_caller_with_its_code() -> None:
    station = ScriptedStation()
    station.answer = StationCallError("CP", "Reset", "NotSupported", "no resets here")
    calls = dispatcher(station)
    with pytest.raises(StationCallError) as error:
        await calls.submit(c.Reset())
    assert error.value.code == "NotSupported"
    await calls.close("test over")


async def test_a_disconnect_fails_the_call_in_flight_and_the_queue_at_once() -> None:
    station = ScriptedStation()
    station.delay = 10
    calls = dispatcher(station)
    waiting = [asyncio.create_task(calls.submit(c.ClearCache())) for _ in range(3)]
    await asyncio.wait_for(station.called.wait(), 1)
    await calls.close("connection lost")
    for task in waiting:
        with pytest.raises(StationOfflineError, match="connection lost"):
            await task
    with pytest.raises(StationOfflineError):
        await calls.submit(c.ClearCache())


async def test_a_full_queue_refuses_more_work() -> None:
    station = ScriptedStation()
    station.delay = 10
    calls = dispatcher(station, max_queued=1)
    first = asyncio.create_task(calls.submit(c.ClearCache()))
    await asyncio.wait_for(station.called.wait(), 1)  # in flight: the queue is empty again
    second = asyncio.create_task(calls.submit(c.ClearCache()))
    await until(lambda: calls.queued == 1)
    with pytest.raises(CommandQueueFullError):
        await calls.submit(c.ClearCache())
    await calls.close("test over")
    for task in (first, second):
        with pytest.raises(StationOfflineError):
            await task
