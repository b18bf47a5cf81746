"""Scripted answers, follow-up messages and observed calls: the misbehaviour switches.

A test scripts how a station answers a CSMS-initiated call, per action:

    station.behave("Reset", Behaviour.REJECT)                # the negative answer
    station.behave("GetConfiguration", Behaviour.NO_ANSWER, times=1)

Behaviours:

- NORMAL      answer like a healthy station, including the follow-up messages.
- REJECT      the action's negative answer (status Rejected, UnlockFailed, Unknown, ...) and
              no follow-up. Only actions listed in the station's `rejectable` accept it.
- CALL_ERROR  a CALLERROR frame (GenericError unless `error=` says otherwise).
- NO_ANSWER   the call is recorded and nothing is ever sent back for it. The station keeps
              reading: later frames (other CSMS calls, answers to its own calls) are served
              normally, so the CSMS times out on exactly this call and nothing else.
- HANG        a frozen station: the read loop stops at this call until `release()`. The
              library reads frames one at a time (`ChargePoint.start()` awaits each one), so
              nothing after it is read either: no other CSMS call is answered and the
              station's own calls time out. After `release()` the call is answered, late.
- DROP        the TCP connection is aborted when the call arrives (no close frame, as when
              the network fails); the CSMS sees an abnormal closure (1006).

Why the interception happens in `route_message` and not inside the `@on` handlers: the
library always sends something once a handler returns, so "never answer" cannot be
expressed by a handler without blocking the whole read loop (that is HANG).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from ocpp import routing
from ocpp.exceptions import GenericError, OCPPError
from ocpp.messages import Call, unpack

from tools.station_sim.library import LibraryChargePoint

logger = logging.getLogger(__name__)

FollowUp = Callable[[], Awaitable[None]]
Handler = TypeVar("Handler", bound=Callable[..., Any])


def on(action: str) -> Callable[[Handler], Handler]:
    """The library's `@on`, typed: the handler keeps its signature for mypy."""
    decorator: Callable[[Handler], Handler] = routing.on(action)
    return decorator


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Behaviour(StrEnum):
    NORMAL = "normal"
    REJECT = "reject"
    CALL_ERROR = "call_error"
    NO_ANSWER = "no_answer"
    HANG = "hang"
    DROP = "drop"


@dataclass
class _Rule:
    behaviour: Behaviour
    error: OCPPError
    remaining: int | None  # calls left before the action answers normally again


_NORMAL = _Rule(Behaviour.NORMAL, GenericError(), None)


class ScriptedChargePoint(LibraryChargePoint):
    """Station-side base class: records every CSMS call and answers it as scripted.

    Put it before the version's ChargePoint in the bases. Handlers check `rejecting()`
    before their normal answer, and queue follow-up messages with `follow_up()`: these
    start only after the answer has been sent, in their own task, because awaiting
    `self.call()` inside a handler would block the read loop that must read its answer.
    """

    rejectable: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, station_id: str, connection: Any, response_timeout: float = 30) -> None:
        super().__init__(station_id, connection, response_timeout=response_timeout)
        self.received: list[tuple[str, dict[str, Any]]] = []
        """Every CSMS call as (action, camelCase payload), whatever the behaviour."""
        self.background_errors: list[Exception] = []
        """Errors of follow-up messages (e.g. the CSMS answered StartTransaction with a
        CALLERROR); a follow-up stops at its first error."""
        self.step_delay = 0.0
        """Seconds between the steps of a slow operation (firmware update, log upload)."""
        self._rules: dict[str, _Rule] = {}
        self._current = _NORMAL
        self._hang: asyncio.Event | None = None
        self._arrivals = asyncio.Condition()
        self._follow_ups: list[FollowUp] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # --- scripting -------------------------------------------------------------------

    def behave(
        self,
        action: str,
        behaviour: Behaviour,
        *,
        error: OCPPError | None = None,
        times: int | None = None,
    ) -> None:
        """Answer the next `times` calls of `action` (all of them if None) this way."""
        if action not in self.route_map:
            raise ValueError(f"{type(self).__name__} does not handle {action}")
        if behaviour is Behaviour.REJECT and action not in self.rejectable:
            raise ValueError(f"{action} has no negative answer: use Behaviour.CALL_ERROR")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        failure = error or GenericError(description=f"Simulated failure of {action}")
        self._rules[action] = _Rule(behaviour, failure, times)

    def release(self) -> None:
        """Let a station frozen by Behaviour.HANG read frames again."""
        if self._hang is not None:
            self._hang.set()

    def rejecting(self) -> bool:
        """True while handling a call scripted to get its negative answer."""
        return self._current.behaviour is Behaviour.REJECT

    # --- observing -------------------------------------------------------------------

    def calls_of(self, action: str) -> list[dict[str, Any]]:
        """Payloads of the CSMS calls of `action` received so far, oldest first."""
        return [payload for name, payload in self.received if name == action]

    async def wait_for_call(
        self, action: str, count: int = 1, within: float = 5.0
    ) -> dict[str, Any]:
        """Wait until `count` calls of `action` have arrived; return the `count`-th payload."""
        async with asyncio.timeout(within), self._arrivals:
            await self._arrivals.wait_for(lambda: len(self.calls_of(action)) >= count)
        return self.calls_of(action)[count - 1]

    async def settle(self, within: float = 5.0) -> None:
        """Wait until every follow-up message sequence has finished."""
        async with asyncio.timeout(within):
            while self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop_follow_ups(self) -> None:
        """Cancel the follow-ups still running (the connection is going away)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- follow-ups ------------------------------------------------------------------

    def follow_up(self, work: FollowUp) -> None:
        """Run `work()` in the background once the answer to the current call is sent.

        Queue it as the handler's last step: it runs whenever the handler returned.
        """
        self._follow_ups.append(work)

    def spawn(self, work: FollowUp) -> None:
        """Run `work()` in the background now, tracked like a follow-up."""
        task = asyncio.create_task(self._run_follow_up(work), name=f"{self.id} follow-up")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _start_follow_ups(self) -> None:
        work, self._follow_ups = self._follow_ups, []
        for item in work:
            self.spawn(item)

    async def _run_follow_up(self, work: FollowUp) -> None:
        try:
            await work()
        except Exception as error:
            # Kept for the test to inspect instead of an unretrieved task exception.
            logger.warning("%s: follow-up failed: %r", self.id, error)
            self.background_errors.append(error)

    async def _pause(self) -> None:
        await asyncio.sleep(self.step_delay)

    # --- routing ---------------------------------------------------------------------

    async def route_message(self, raw_msg: str | bytes) -> None:
        call = _readable_call(raw_msg)
        if call is None:  # an answer to our own call, or garbage: the library's business
            await super().route_message(raw_msg)
            return
        await self._record(call)
        self._current = self._take_rule(call.action)
        self._follow_ups = []  # nothing left over from a call whose answer failed
        try:
            if await self._intercepted(call):
                return
            await super().route_message(raw_msg)
        finally:
            self._current = _NORMAL
        self._start_follow_ups()

    async def _record(self, call: Call) -> None:
        self.received.append((call.action, call.payload))
        async with self._arrivals:
            self._arrivals.notify_all()

    def _take_rule(self, action: str) -> _Rule:
        rule = self._rules.get(action, _NORMAL)
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining == 0:
                del self._rules[action]
        return rule

    async def _intercepted(self, call: Call) -> bool:
        """Apply the scripted behaviour; True when the library must not answer the call."""
        behaviour = self._current.behaviour
        if behaviour is Behaviour.NO_ANSWER:
            logger.info("%s: leaving %s %s unanswered", self.id, call.action, call.unique_id)
            return True
        if behaviour is Behaviour.DROP:
            await self._drop_connection()
            return True
        if behaviour is Behaviour.CALL_ERROR:
            # The same frame the library sends when a handler raises this error.
            await self._send(call.create_call_error(self._current.error).to_json())
            return True
        if behaviour is Behaviour.HANG:
            self._hang = asyncio.Event()
            await self._hang.wait()
        return False

    async def _drop_connection(self) -> None:
        transport = getattr(self._connection, "transport", None)
        if transport is not None:
            transport.abort()  # no close frame: what a network failure looks like
        else:
            await self._connection.close()


def _readable_call(raw_msg: str | bytes) -> Call | None:
    try:
        message = unpack(raw_msg)
    except OCPPError:
        return None
    return message if isinstance(message, Call) else None
