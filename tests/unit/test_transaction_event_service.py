"""OCPP 2.0.1 TransactionEvents: one transaction per id, whatever the order or repetition."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.transaction_event_service import TransactionEventService
from ev_charging_system.models.id_token import AuthorizationStatus
from ev_charging_system.models.transaction import RawSampledValue, TransactionEventInput
from tests.unit.fakes import FakeClock, FakeStore, FakeUnitOfWork


@pytest.fixture
def store() -> FakeStore:
    store = FakeStore()
    store.seed_station("CP")  # sessions belong to a station, as the database insists
    return store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def service(store: FakeStore, clock: FakeClock) -> TransactionEventService:
    auth = AuthService(lambda: FakeUnitOfWork(store), clock)
    await auth.create_id_tag("CARD")
    return TransactionEventService(lambda: FakeUnitOfWork(store), clock, auth)


def make_events(clock: FakeClock) -> dict[str, TransactionEventInput]:
    def reading(wh: int, minutes: int, context: str) -> tuple[RawSampledValue, ...]:
        return (
            RawSampledValue(
                timestamp=clock.now + timedelta(minutes=minutes),
                value=str(wh),
                context=context,
            ),
        )

    def event(kind: str, seq: int, minutes: int, **fields: object) -> TransactionEventInput:
        return TransactionEventInput(
            charge_point_id="CP",
            event_type=kind,
            ocpp_transaction_id="T-1",
            seq_no=seq,
            timestamp=clock.now + timedelta(minutes=minutes),
            trigger_reason="Test",
            **fields,  # type: ignore[arg-type]
        )

    return {
        "started": event(
            "Started",
            0,
            0,
            id_tag="CARD",
            connector_id=1,
            meter_values=reading(100, 0, "Transaction.Begin"),
        ),
        "updated": event("Updated", 1, 10, meter_values=reading(600, 10, "Sample.Periodic")),
        "ended": event(
            "Ended",
            2,
            20,
            stopped_reason="EVDisconnected",
            meter_values=reading(900, 20, "Transaction.End"),
        ),
    }


@pytest.mark.parametrize("order", list(itertools.permutations(["started", "updated", "ended"])))
async def test_any_arrival_order_gives_the_same_transaction(
    service: TransactionEventService, store: FakeStore, clock: FakeClock, order: tuple[str, ...]
) -> None:
    events = make_events(clock)
    for name in order:
        await service.handle(events[name])
    [transaction] = store.transactions.values()
    assert transaction.energy_wh == 800
    assert transaction.started_at == clock.now
    assert transaction.stopped_at == clock.now + timedelta(minutes=20)
    assert transaction.id_tag == "CARD"
    assert transaction.stop_reason == "EVDisconnected"
    assert transaction.authorization_status is AuthorizationStatus.ACCEPTED


async def test_a_replayed_event_changes_nothing(
    service: TransactionEventService, store: FakeStore, clock: FakeClock
) -> None:
    events = make_events(clock)
    await service.handle(events["started"])
    replay = await service.handle(events["started"])
    assert replay.replayed
    assert replay.id_tag_info is not None and replay.id_tag_info.accepted
    assert len(store.samples) == 1


async def test_a_second_session_with_the_same_card_is_concurrent(
    service: TransactionEventService, clock: FakeClock
) -> None:
    first = make_events(clock)["started"]
    await service.handle(first)
    from dataclasses import replace

    second = await service.handle(replace(first, ocpp_transaction_id="T-2", connector_id=2))
    assert second.id_tag_info is not None
    assert second.id_tag_info.status is AuthorizationStatus.CONCURRENT_TX


async def test_a_session_without_a_token_is_unknown_until_one_arrives(
    service: TransactionEventService, store: FakeStore, clock: FakeClock
) -> None:
    from dataclasses import replace

    events = make_events(clock)
    await service.handle(replace(events["started"], id_tag=None))
    [transaction] = store.transactions.values()
    assert transaction.authorization_status is AuthorizationStatus.UNKNOWN
    await service.handle(replace(events["updated"], id_tag="CARD"))
    [transaction] = store.transactions.values()
    assert (transaction.id_tag, transaction.authorization_status) == (
        "CARD",
        AuthorizationStatus.ACCEPTED,
    )
