"""One station's outgoing calls: a bounded queue, one call in flight, a timeout each.

Calls run in their own task, never inside a message handler, so the station's read loop
keeps reading (the answer arrives through it). When the connection drops, the call in
flight and everything queued fail at once with StationOfflineError.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ev_charging_system.models.commands import Command, CommandResult
from ev_charging_system.models.errors import (
    CommandError,
    CommandQueueFullError,
    CommandTimeoutError,
    StationOfflineError,
)

logger = logging.getLogger(__name__)


class CommandTranslator(Protocol):
    """How one OCPP version spells a version-neutral command and its answer."""

    def request(self, command: Command) -> Any: ...

    def result(self, command: Command, response: Any) -> CommandResult: ...


class Caller(Protocol):
    async def call(self, request: Any) -> Any:
        """Send `request`, return the station's answer; raise a CommandError otherwise
        (StationCallError for a CALLERROR, StationAnswerInvalidError, ...)."""


# Runs just before a command's request is sent, e.g. to remember what a later message
# from the station will refer to (2.0.1 remoteStartId -> id token).
BeforeSend = Callable[[Command, Any], Awaitable[None]]


@dataclasses.dataclass(slots=True)
class _Pending:
    command: Command
    request: Any
    future: asyncio.Future[CommandResult]


class CommandDispatcher:
    def __init__(
        self,
        charge_point_id: str,
        caller: Caller,
        translator: CommandTranslator,
        timeout: float,
        max_queued: int = 32,
        before_send: BeforeSend | None = None,
    ) -> None:
        self._charge_point_id = charge_point_id
        self._caller = caller
        self._translator = translator
        self._timeout = timeout
        self._before_send = before_send
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=max_queued)
        self._current: _Pending | None = None
        self._worker: asyncio.Task[None] | None = None
        self._closed_reason: str | None = None

    @property
    def queued(self) -> int:
        """Commands waiting behind the one in flight."""
        return self._queue.qsize()

    async def submit(self, command: Command) -> CommandResult:
        if self._closed_reason is not None:
            raise StationOfflineError(self._charge_point_id, self._closed_reason)
        request = self._translator.request(command)  # may raise CommandNotSupportedError
        pending = _Pending(command, request, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            raise CommandQueueFullError(
                f"charge point {self._charge_point_id!r} has {self._queue.qsize()} commands "
                "waiting; try again later"
            ) from None
        if self._worker is None:
            self._worker = asyncio.create_task(self._work(), name=f"calls:{self._charge_point_id}")
        return await pending.future

    async def _work(self) -> None:
        while True:
            pending = await self._queue.get()
            if pending.future.done():  # the caller gave up while it waited
                continue
            self._current = pending
            try:
                outcome = await self._call(pending)
            finally:
                self._current = None
            _settle(pending.future, outcome)

    async def _call(self, pending: _Pending) -> CommandResult | CommandError:
        action = type(pending.request).__name__
        try:
            async with asyncio.timeout(self._timeout):
                if self._before_send is not None:
                    await self._before_send(pending.command, pending.request)
                response = await self._caller.call(pending.request)
        except TimeoutError:
            return CommandTimeoutError(self._charge_point_id, action, self._timeout)
        except CommandError as error:
            return error
        except Exception as error:
            logger.exception("%s: %s could not be sent", self._charge_point_id, action)
            return CommandError(
                f"charge point {self._charge_point_id!r}: {action} could not be sent: {error}"
            )
        try:
            return self._translator.result(pending.command, response)
        except Exception as error:
            logger.exception("%s: unreadable answer to %s", self._charge_point_id, action)
            return CommandError(
                f"charge point {self._charge_point_id!r} sent an unreadable answer to {action}: "
                f"{error}"
            )

    async def close(self, reason: str) -> None:
        """The connection is gone: fail what is in flight and queued."""
        self._closed_reason = f"disconnected ({reason})"
        error_of: Callable[[], CommandError] = lambda: StationOfflineError(  # noqa: E731
            self._charge_point_id, self._closed_reason or "disconnected"
        )
        in_flight = self._current  # read before cancelling: the worker clears it on its way out
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if in_flight is not None:
            _settle(in_flight.future, error_of())
        while not self._queue.empty():
            _settle(self._queue.get_nowait().future, error_of())


def _settle(future: asyncio.Future[CommandResult], outcome: CommandResult | CommandError) -> None:
    if future.done():
        return
    if isinstance(outcome, CommandError):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
