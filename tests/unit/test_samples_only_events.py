"""2.0.1 Updated events that only add samples to a running transaction are group-committed
without a unit of work; whatever a station sends, the outcome is the unit-of-work path's."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.events import DomainEvent
from ev_charging_system.business_logic.transaction_event_service import TransactionEventService
from ev_charging_system.models.transaction import RawSampledValue, TransactionEventInput
from tests.unit.fakes import FakeClock, FakeStore, FakeUnitOfWork

CONTEXTS = ("Sample.Periodic", "Transaction.Begin", "Transaction.End", None)


class RecordedEvents:
    def __init__(self) -> None:
        self.published: list[DomainEvent] = []

    def publish(self, event: DomainEvent) -> None:
        self.published.append(event)


async def service_on(
    store: FakeStore, clock: FakeClock, events: RecordedEvents | None = None
) -> TransactionEventService:
    auth = AuthService(lambda: FakeUnitOfWork(store), clock)
    await auth.create_id_tag("CARD")
    return TransactionEventService(lambda: FakeUnitOfWork(store), clock, auth, events=events)


def fresh_store() -> FakeStore:
    store = FakeStore()
    store.seed_station("CP")
    return store


def event(
    clock: FakeClock,
    kind: str,
    seq: int,
    minutes: int,
    readings: tuple[tuple[int, int, str | None], ...] = (),
    **fields: Any,
) -> TransactionEventInput:
    """An event at `minutes` after the clock's now; readings are (Wh, minutes, context)."""
    return TransactionEventInput(
        charge_point_id="CP",
        event_type=kind,
        ocpp_transaction_id="T-1",
        seq_no=seq,
        timestamp=clock.now + timedelta(minutes=minutes),
        trigger_reason="MeterValuePeriodic" if kind == "Updated" else "Authorized",
        meter_values=tuple(
            RawSampledValue(
                timestamp=clock.now + timedelta(minutes=at), value=str(wh), context=context
            )
            for wh, at, context in readings
        ),
        **fields,
    )


def started(clock: FakeClock) -> TransactionEventInput:
    return event(
        clock, "Started", 0, 0, ((1_000, 0, "Transaction.Begin"),), id_tag="CARD", connector_id=1
    )


async def test_a_sessions_periodic_updates_are_group_committed_and_its_energy_is_exact() -> None:
    store, clock = fresh_store(), FakeClock()
    service = await service_on(store, clock)
    await service.handle(started(clock))
    for n in range(1, 11):
        answer = await service.handle(
            event(clock, "Updated", n, n, ((1_000 + 100 * n, n, "Sample.Periodic"),))
        )
        assert not answer.replayed
    ended = event(clock, "Ended", 11, 11, ((2_100, 11, "Transaction.End"),))
    await service.handle(replace(ended, stopped_reason="EVDisconnected"))

    assert service.event_batches().writes == 10  # every Updated, none of the others
    [transaction] = store.transactions.values()
    assert transaction.energy_wh == 1_100
    assert len(store.samples) == 12
    assert len(store.transaction_events) == 12


async def test_an_update_sent_again_stores_nothing_and_is_answered_as_a_replay() -> None:
    store, clock = fresh_store(), FakeClock()
    events = RecordedEvents()
    service = await service_on(store, clock, events)
    await service.handle(started(clock))
    update = event(clock, "Updated", 1, 5, ((1_500, 5, "Sample.Periodic"),))
    first = await service.handle(update)
    published = len(events.published)
    again = await service.handle(update)

    assert not first.replayed and again.replayed
    assert len(store.samples) == 2
    assert len(events.published) == published  # nothing happened the second time
    assert service.event_batches().writes == 2


async def test_an_update_that_moves_the_sessions_start_reading_goes_through_a_unit_of_work() -> (
    None
):
    store, clock = fresh_store(), FakeClock()
    service = await service_on(store, clock)
    await service.handle(replace(started(clock), meter_values=()))
    await service.handle(event(clock, "Updated", 1, 5, ((1_500, 5, "Sample.Periodic"),)))
    # The station's queued Begin reading arrives late, in an Updated event.
    await service.handle(event(clock, "Updated", 2, 6, ((1_000, 0, "Transaction.Begin"),)))

    [transaction] = store.transactions.values()
    assert transaction.meter_start_wh == 1_000
    assert service.event_batches().writes == 0  # the first Updated set meter_start, too


async def test_after_a_reconnect_the_first_update_reads_the_session_again() -> None:
    store, clock = fresh_store(), FakeClock()
    service = await service_on(store, clock)
    await service.handle(started(clock))
    await service.handle(event(clock, "Updated", 1, 1, ((1_100, 1, None),)))
    service.station_connected("CP")  # it may have sent events to another node meanwhile
    await service.handle(event(clock, "Updated", 2, 2, ((1_200, 2, None),)))
    await service.handle(event(clock, "Updated", 3, 3, ((1_300, 3, None),)))

    assert service.event_batches().writes == 2  # seqNo 1 and 3; 2 read the session again


# Mostly what a station sends in a session (periodic readings in later Updated events),
# with the odd things real ones do now and then: replays, late Begin readings, readings
# from before the start, offline events, an EVSE named late, a reconnect, an early end.
reading = st.tuples(
    st.integers(min_value=0, max_value=5_000),
    st.integers(min_value=-3, max_value=30),
    st.sampled_from((*["Sample.Periodic"] * 6, *CONTEXTS)),
)
station_event = st.tuples(
    st.sampled_from(("Started", *["Updated"] * 12, "Ended")),
    st.integers(min_value=0, max_value=20),  # seqNo: repeats are replays
    st.integers(min_value=-2, max_value=30),  # minutes
    st.lists(reading, max_size=3).map(tuple),
    st.sampled_from((*[None] * 6, 1, 2)),  # EVSE
    st.sampled_from((*[False] * 6, True)),  # offline
    st.sampled_from((*[False] * 8, True)),  # reconnect before it
)
a_session = st.lists(station_event, min_size=1, max_size=12).map(
    lambda events: [("Started", 0, 0, ((1_000, 0, "Transaction.Begin"),), 1, False, False), *events]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a_session)
async def test_whatever_a_station_sends_both_paths_agree(
    sent: list[
        tuple[str, int, int, tuple[tuple[int, int, str | None], ...], int | None, bool, bool]
    ],
) -> None:
    """The reference forgets the running transaction before every event, so each one
    takes the unit-of-work path; the service under test keeps it between them."""
    clock = FakeClock()
    outcomes = []
    for forget_always in (False, True):
        store, events = fresh_store(), RecordedEvents()
        service = await service_on(store, clock, events)
        answers = []
        for kind, seq, minutes, readings, evse, offline, reconnect in sent:
            if forget_always or reconnect:
                service.station_connected("CP")
            fields: dict[str, Any] = {"connector_id": evse, "offline": offline}
            if kind == "Started":
                fields["id_tag"] = "CARD"
            answer = await service.handle(event(clock, kind, seq, minutes, readings, **fields))
            answers.append((answer.replayed, answer.id_tag_info))
        if not forget_always:
            event_batches = service.event_batches()
        outcomes.append(
            (
                answers,
                sorted(store.transactions.values(), key=lambda t: t.id),
                sorted(store.samples, key=lambda s: (s.timestamp, s.measurand, s.context or "")),
                store.transaction_events,
                [(type(e).__name__, getattr(e, "energy_wh", None)) for e in events.published],
            )
        )
    assert outcomes[0] == outcomes[1], sent
    target(event_batches.writes)  # search towards sessions that take the batched path
