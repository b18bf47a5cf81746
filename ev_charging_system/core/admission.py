"""Admission of new station connections during a reconnect storm.

After a CSMS restart or a network outage every station reconnects at once. Each new
connection costs a credential check, a connection record and a boot: accepted all at
once they queue on the database pool, their handshakes time out and the stations retry,
which makes the storm last longer. Instead, at most `max_pending` connections are being
set up at a time (and, if configured, at most `rate_per_second` start per second); a
handshake beyond that is refused at once with HTTP 503 and a Retry-After naming the next
free moment at the rate connections are actually being set up (measured), so refused
stations come back one after another.

Nothing is dropped silently: refusals are counted and logged once per interval, and so
are admitted handshakes that never reached the point where the connection is recorded
(the station gave up or its handshake timed out).
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ev_charging_system.core.rate_limit import RateLimit, TokenBucket

logger = logging.getLogger(__name__)

# How long an admitted handshake may take to be recorded before it is counted as lost
# (websockets' own opening-handshake timeout is 10 s).
DEFAULT_HOLD_SECONDS = 15.0
MEASURE_WINDOW_SECONDS = 5.0
MAX_WAIT = 60  # seconds: the longest Retry-After given
# Until enough connections have been set up to measure the rate (the first second of a
# storm), setting one up is assumed to take this long: max_pending of them per this.
PRIOR_SETUP_SECONDS = 0.25
MEASURED_AFTER = 20  # connections set up within the window before the measure is trusted
# The shortest setup the capacity estimate assumes (a setup measured faster than this, on
# an idle process, must not promise thousands per second).
MIN_SETUP_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class AdmissionPolicy:
    max_pending: int  # connections being set up at once; 0 = no limit
    rate_per_second: float = 0.0  # new connections per second at most; 0 = no limit
    log_interval_seconds: float = 10.0
    hold_seconds: float = DEFAULT_HOLD_SECONDS


@dataclass(frozen=True, slots=True)
class AdmissionCounts:
    """Since the process started (metrics read them)."""

    admitted: int
    refused: int
    lost: int  # admitted, but the connection was never recorded
    pending: int


class Ticket:
    """An admitted connection being set up; `done()` once it is recorded (or refused)."""

    __slots__ = ("_admission", "admitted_at", "deadline", "settled")

    def __init__(self, admission: ConnectionAdmission, admitted_at: float, hold: float) -> None:
        self._admission = admission
        self.admitted_at = admitted_at
        self.deadline = admitted_at + hold
        self.settled = False

    def done(self) -> None:
        if not self.settled:
            self.settled = True
            self._admission._settled(self)


class ConnectionAdmission:
    def __init__(
        self,
        policy: AdmissionPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._next_slot = clock()
        self._pending: set[Ticket] = set()
        rate = policy.rate_per_second
        self._starts = TokenBucket(RateLimit(rate, max(1, math.ceil(rate))), clock)
        # When connections were set up, and how long each took (the measure)
        self._recorded: deque[tuple[float, float]] = deque()
        self._admitted = self._refused = self._lost = 0
        self._refused_since_log = self._lost_since_log = 0
        self._logged_at = clock()

    def counts(self) -> AdmissionCounts:
        return AdmissionCounts(self._admitted, self._refused, self._lost, len(self._pending))

    def try_admit(self) -> Ticket | int:
        """A ticket for a connection to set up now, or the seconds it should wait."""
        now = self._clock()
        self._expire(now)
        policy = self._policy
        if 0 < policy.max_pending <= len(self._pending) or not self._starts.take():
            return self._refuse(now)
        ticket = Ticket(self, now, policy.hold_seconds)
        self._pending.add(ticket)
        self._admitted += 1
        self._maybe_log(now)
        return ticket

    def measured_rate(self) -> float:
        """Connections that can be set up per second, as measured lately (at least 1).

        How many were set up per second, over the span the recent set-ups cover (not the
        whole window: a storm's first second would read as a trickle), or, if more, what
        the pending bound allows at the time a setup lately took (Little's law: bound /
        duration). The count alone measures how many stations came back: once a storm's
        stations are told to return at a slow pace, it would read that pace and keep them
        slow while the process idles. Before there are enough set-ups, the configured
        rate or a prior from the pending bound stands in.
        """
        now = self._clock()
        _trim(self._recorded, now - MEASURE_WINDOW_SECONDS)
        policy = self._policy
        recorded = self._recorded
        if len(recorded) >= MEASURED_AFTER:
            span = max(0.5, now - recorded[0][0])
            rate = len(recorded) / span
            if policy.max_pending > 0:
                took = max(MIN_SETUP_SECONDS, sum(d for _, d in recorded) / len(recorded))
                rate = max(rate, policy.max_pending / took)
        elif policy.rate_per_second > 0:
            rate = policy.rate_per_second
        else:
            rate = max(policy.max_pending, 1) / PRIOR_SETUP_SECONDS
        if policy.rate_per_second > 0:
            rate = min(rate, policy.rate_per_second)
        return max(1.0, rate)

    def _refuse(self, now: float) -> int:
        self._refused += 1
        self._refused_since_log += 1
        # Each refused station is given the next free moment at the rate connections are
        # being set up (after those in hand): a queue kept by the stations themselves, so
        # they come back one after another rather than all at once again.
        rate = self.measured_rate()
        after_pending = now + len(self._pending) / rate
        self._next_slot = min(max(self._next_slot, after_pending) + 1 / rate, now + MAX_WAIT)
        self._maybe_log(now)
        return max(1, math.ceil(self._next_slot - now - 1e-9))

    def _settled(self, ticket: Ticket) -> None:
        now = self._clock()
        if ticket in self._pending:
            self._pending.discard(ticket)
            self._recorded.append((now, now - ticket.admitted_at))
        self._maybe_log(now)

    def _expire(self, now: float) -> None:
        expired = [ticket for ticket in self._pending if ticket.deadline <= now]
        for ticket in expired:
            self._pending.discard(ticket)
            ticket.settled = True
        self._lost += len(expired)
        self._lost_since_log += len(expired)

    def _maybe_log(self, now: float) -> None:
        if now - self._logged_at < self._policy.log_interval_seconds:
            return
        if self._refused_since_log or self._lost_since_log:
            logger.warning(
                "OCPP admission: %d handshakes refused with 503 + Retry-After and %d admitted "
                "ones never completed in the last %.0f s (%d being set up, about %.0f/s)",
                self._refused_since_log,
                self._lost_since_log,
                now - self._logged_at,
                len(self._pending),
                self.measured_rate(),
            )
        self._refused_since_log = self._lost_since_log = 0
        self._logged_at = now


def _trim(times: deque[tuple[float, float]], before: float) -> None:
    while times and times[0][0] < before:
        times.popleft()
