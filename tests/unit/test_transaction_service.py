"""Session bookkeeping: replays, unknown ids and odd meters never corrupt energy."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.transaction_service import TransactionService
from ev_charging_system.models.id_token import AuthorizationStatus
from ev_charging_system.models.station_event import EventKind
from ev_charging_system.models.transaction import RawSampledValue, TransactionFilter
from tests.unit.fakes import FakeClock, FakeStore, FakeUnitOfWork


@pytest.fixture
def store() -> FakeStore:
    store = FakeStore()
    for station in ("CP", "CP-A", "CP-B"):  # sessions belong to a station, as the database insists
        store.seed_station(station)
    return store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(store: FakeStore, clock: FakeClock) -> TransactionService:
    auth = AuthService(lambda: FakeUnitOfWork(store), clock)
    return TransactionService(lambda: FakeUnitOfWork(store), clock, auth)


async def test_a_replayed_start_keeps_its_first_answer(
    service: TransactionService, store: FakeStore, clock: FakeClock
) -> None:
    first = await service.start("CP", 1, "UNKNOWN", 0, clock.now)
    replay = await service.start("CP", 1, "UNKNOWN", 0, clock.now)
    assert replay.replayed and replay.transaction.id == first.transaction.id
    assert replay.id_tag_info.status is AuthorizationStatus.INVALID
    assert len(store.transactions) == 1


async def test_energy_is_counted_once_even_if_the_stop_is_repeated(
    service: TransactionService, store: FakeStore, clock: FakeClock
) -> None:
    started = await service.start("CP", 1, "T", 1_000, clock.now)
    clock.advance(hours=1)
    first = await service.stop("CP", started.transaction.id, 8_000, clock.now)
    again = await service.stop("CP", started.transaction.id, 99_000, clock.now)
    assert first.transaction is not None and first.transaction.energy_wh == 7_000
    assert again.replayed
    assert store.transactions[started.transaction.id].meter_stop_wh == 8_000
    assert [e.kind for e in store.events] == [EventKind.REPEATED_STOP]


async def test_another_stations_transaction_cannot_be_stopped(
    service: TransactionService, store: FakeStore, clock: FakeClock
) -> None:
    started = await service.start("CP-A", 1, "T", 0, clock.now)
    result = await service.stop("CP-B", started.transaction.id, 5_000, clock.now)
    assert result.transaction is None
    assert store.transactions[started.transaction.id].active
    assert store.events[0].kind is EventKind.UNKNOWN_TRANSACTION_STOP


async def test_a_meter_that_runs_backwards_gives_zero_energy_and_a_warning(
    service: TransactionService, store: FakeStore, clock: FakeClock
) -> None:
    started = await service.start("CP", 1, "T", 50_000, clock.now)
    result = await service.stop("CP", started.transaction.id, 10, clock.now)
    assert result.transaction is not None and result.transaction.energy_wh == 0
    assert store.events[0].kind is EventKind.METER_ANOMALY


async def test_transaction_data_on_stop_is_kept_with_the_transaction(
    service: TransactionService, store: FakeStore, clock: FakeClock
) -> None:
    started = await service.start("CP", 2, "T", 0, clock.now)
    end = clock.now + timedelta(minutes=30)
    data = [RawSampledValue(timestamp=end, value="1.5", unit="kWh", context="Transaction.End")]
    await service.stop("CP", started.transaction.id, 1_500, end, transaction_data=data)
    detail = await service.get_transaction(started.transaction.id)
    assert [(s.value, s.unit, s.connector_id) for s in detail.meter_samples] == [
        (Decimal("1500.0"), "Wh", 2)
    ]


async def test_page_size_is_bounded(service: TransactionService) -> None:
    with pytest.raises(ValueError, match="limit"):
        await service.list_transactions(TransactionFilter(limit=10_000))
