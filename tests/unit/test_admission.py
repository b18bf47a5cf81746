"""A reconnect storm is admitted at the pace connections are set up; the rest are told
when to come back, counted and logged, never dropped silently."""

from __future__ import annotations

import logging

import pytest

from ev_charging_system.core.admission import AdmissionPolicy, ConnectionAdmission, Ticket
from ev_charging_system.core.rate_limit import RateLimit, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_beyond_the_pending_bound_a_handshake_is_refused_with_a_retry_after() -> None:
    clock = Clock()
    admission = ConnectionAdmission(AdmissionPolicy(max_pending=2), clock)
    first, second = admission.try_admit(), admission.try_admit()
    assert isinstance(first, Ticket) and isinstance(second, Ticket)

    refused = admission.try_admit()
    assert isinstance(refused, int) and refused >= 1

    first.done()
    assert isinstance(admission.try_admit(), Ticket)
    counts = admission.counts()
    assert (counts.admitted, counts.refused, counts.pending) == (3, 1, 2)


def test_retry_after_spreads_the_backlog_over_the_measured_setup_rate() -> None:
    clock = Clock()
    admission = ConnectionAdmission(AdmissionPolicy(max_pending=10), clock)
    # One connection starts every 0.1 s and takes 1 s to set up: 10 at a time, all the
    # bound allows, so 10 per second is what the process manages.
    started: list[Ticket] = []
    for _ in range(60):
        if len(started) >= 10:
            started[-10].done()  # the one started 1 s ago
        ticket = admission.try_admit()
        assert isinstance(ticket, Ticket)
        started.append(ticket)
        clock.now += 0.1
    assert admission.counts().pending == 10
    waits = [wait for _ in range(200) if isinstance(wait := admission.try_admit(), int)]
    assert len(waits) == 200
    # 200 refused + 10 pending at 10/s: the last are told about 21 s, the first 1-2 s,
    # and never more than the rate come back in any one second.
    assert waits[0] <= 2
    assert 19 <= waits[-1] <= 22
    assert max(waits.count(second) for second in set(waits)) <= 11


def test_stations_returning_slowly_do_not_keep_the_pace_slow() -> None:
    """Told to come back at a slow pace, stations return at it: counting set-ups alone
    would measure that pace, not what the process could do, and keep the storm slow."""
    clock = Clock()
    admission = ConnectionAdmission(AdmissionPolicy(max_pending=50), clock)
    for _ in range(50):  # 10 per second come back, each set up in 0.1 s
        ticket = admission.try_admit()
        assert isinstance(ticket, Ticket)
        clock.now += 0.1
        ticket.done()
    for _ in range(50):
        assert isinstance(admission.try_admit(), Ticket)
    waits = [wait for _ in range(1000) if isinstance(wait := admission.try_admit(), int)]
    # 50 at a time, 0.1 s each: 500/s; the 1,050 in hand take about 2 s, not 100.
    assert len(waits) == 1000
    assert max(waits) <= 3
    assert max(waits.count(second) for second in set(waits)) <= 501


def test_a_storm_of_more_than_a_minute_is_told_at_most_a_minute() -> None:
    clock = Clock()
    admission = ConnectionAdmission(AdmissionPolicy(max_pending=1), clock)
    assert isinstance(admission.try_admit(), Ticket)
    waits = [admission.try_admit() for _ in range(5000)]
    assert max(w for w in waits if isinstance(w, int)) == 60


def test_an_admitted_handshake_that_never_completes_is_counted_lost_and_frees_its_place() -> None:
    clock = Clock()
    admission = ConnectionAdmission(AdmissionPolicy(max_pending=1, hold_seconds=15), clock)
    assert isinstance(admission.try_admit(), Ticket)  # its station vanishes
    assert isinstance(admission.try_admit(), int)
    clock.now += 16
    assert isinstance(admission.try_admit(), Ticket)
    assert admission.counts().lost == 1


def test_a_start_rate_holds_even_with_room_to_spare() -> None:
    clock = Clock()
    admission = ConnectionAdmission(AdmissionPolicy(max_pending=0, rate_per_second=5), clock)
    outcomes = [admission.try_admit() for _ in range(8)]
    assert sum(isinstance(o, Ticket) for o in outcomes) == 5
    clock.now += 1
    assert sum(isinstance(admission.try_admit(), Ticket) for _ in range(8)) == 5


def test_refusals_are_logged_once_per_interval_with_their_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    admission = ConnectionAdmission(AdmissionPolicy(max_pending=1, log_interval_seconds=10), clock)
    with caplog.at_level(logging.WARNING, logger="ev_charging_system.core.admission"):
        admission.try_admit()
        for _ in range(300):
            admission.try_admit()
            clock.now += 0.01  # 3 s of refusals: not yet an interval
        assert caplog.records == []
        clock.now += 8
        admission.try_admit()
    [line] = caplog.records
    assert "301 handshakes refused" in line.getMessage()


def test_a_token_bucket_lets_a_burst_through_then_paces_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(RateLimit(per_second=10, burst=3), clock)
    assert [bucket.reserve() for _ in range(3)] == [0, 0, 0]
    assert bucket.reserve() == pytest.approx(0.1)
    assert bucket.reserve() == pytest.approx(0.2)  # borrowed ahead: waits add up
    clock.now += 0.2
    assert bucket.reserve() == pytest.approx(0.1)


def test_at_the_first_instant_of_a_storm_the_spread_follows_the_prior_not_a_trickle() -> None:
    clock = Clock()
    admission = ConnectionAdmission(AdmissionPolicy(max_pending=50), clock)
    for _ in range(50):
        assert isinstance(admission.try_admit(), Ticket)
    waits = [wait for _ in range(1950) if isinstance(wait := admission.try_admit(), int)]
    # Nothing set up yet: 50 at a time, a quarter second each, is 200/s; 2,000 take 10 s.
    assert max(waits) == 10
