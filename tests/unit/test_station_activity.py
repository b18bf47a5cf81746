"""Stations coming, booting, reporting and going: their records share commits (a reconnect
storm's bulk), and each station still gets exactly its own outcome."""

from __future__ import annotations

import asyncio

import pytest

from ev_charging_system.business_logic.device_management_service import (
    DeviceManagementService,
    RegistrationPolicy,
    StatusReport,
)
from ev_charging_system.business_logic.group_commit import BatchStats
from ev_charging_system.business_logic.last_seen import LastSeenTracker
from ev_charging_system.models.charge_point import (
    BootInfo,
    RegistrationStatus,
    StationChannel,
    UnknownStationPolicy,
)
from ev_charging_system.models.station_event import EventKind
from tests.unit.fakes import ConstraintViolationError, FakeClock, FakeStore, FakeUnitOfWork

HEARTBEAT, RETRY = 300, 60
BOOT = BootInfo("Acme", "X1", firmware_version="1.2")


def service(store: FakeStore, policy: UnknownStationPolicy) -> DeviceManagementService:
    return DeviceManagementService(
        lambda: FakeUnitOfWork(store),
        FakeClock(),
        RegistrationPolicy(policy, HEARTBEAT, RETRY),
        LastSeenTracker(),
    )


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def devices(store: FakeStore) -> DeviceManagementService:
    return service(store, UnknownStationPolicy.ACCEPT)


def available(connector_id: int) -> StatusReport:
    return StatusReport(connector_id=connector_id, status="Available", error_code="NoError")


async def test_stations_connecting_at_once_share_one_commit(
    store: FakeStore, devices: DeviceManagementService
) -> None:
    ids = [f"CP-{n:02}" for n in range(30)]
    await asyncio.gather(*(devices.station_connected(i, "1.6") for i in ids))
    assert devices.activity_batches() == BatchStats(batches=1, writes=30, largest=30, split=0)
    assert store.commits == 1
    assert sorted(store.charge_points) == ids
    assert [e.charge_point_id for e in store.events] == ids
    assert {e.kind for e in store.events} == {EventKind.CONNECTED}
    assert [(c.charge_point_id, c.status) for c in store.status_changes] == [
        (i, "Online") for i in ids
    ]


async def test_a_record_refused_by_the_database_costs_no_other_station_its_answer(
    store: FakeStore, devices: DeviceManagementService
) -> None:
    outcomes = await asyncio.gather(
        devices.status_notification("CP-UNKNOWN", available(1)),  # no such station
        devices.station_connected("CP-1", "1.6"),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], ConstraintViolationError)
    assert outcomes[1] is None
    assert devices.activity_batches().split == 1  # failed together, then written alone
    assert list(store.charge_points) == ["CP-1"]
    assert [c.charge_point_id for c in store.status_changes] == ["CP-1"]


async def test_a_station_that_comes_boots_reports_and_goes_leaves_its_history_in_order(
    store: FakeStore, devices: DeviceManagementService
) -> None:
    await devices.station_connected("CP-1", "1.6")
    booted = await devices.boot("CP-1", BOOT)
    await devices.status_notification("CP-1", available(0))
    await devices.status_notification("CP-1", available(1))
    await devices.status_notification(
        "CP-1", StatusReport(connector_id=1, status="Faulted", error_code="GroundFailure")
    )
    await devices.station_disconnected("CP-1", "closed (1000)")

    assert (booted.status, booted.interval_seconds) == (RegistrationStatus.ACCEPTED, HEARTBEAT)
    station = store.charge_points["CP-1"]
    assert (station.boot, station.ocpp_version) == (BOOT, "1.6")
    assert station.last_boot_at == booted.current_time
    assert [(c.connector_id, c.status) for c in station.connectors] == [
        (0, "Available"),
        (1, "Faulted"),
    ]
    assert [(c.connector_id, c.status, c.info) for c in store.status_changes] == [
        (0, "Online", "OCPP 1.6"),
        (0, "Available", None),
        (1, "Available", None),
        (1, "Faulted", None),
        (0, "Offline", "closed (1000)"),
    ]
    assert [(e.kind, e.detail) for e in store.events] == [
        (EventKind.CONNECTED, {"ocpp": "1.6"}),
        (
            EventKind.BOOT,
            {
                "vendor": "Acme",
                "model": "X1",
                "firmware_version": "1.2",
                "registration_status": "Accepted",
                "reason": None,
            },
        ),
        (
            EventKind.DISCONNECTED,
            {"reason": "closed (1000)", "replaced_by_newer_connection": False},
        ),
    ]


async def test_a_connection_replaced_by_a_newer_one_is_no_offline_entry(
    store: FakeStore, devices: DeviceManagementService
) -> None:
    await devices.station_connected("CP-1", "2.0.1")
    await devices.station_disconnected("CP-1", "replaced", went_offline=False)
    assert [c.status for c in store.status_changes] == ["Online"]
    assert store.events[-1].detail == {"reason": "replaced", "replaced_by_newer_connection": True}


async def test_a_new_station_gets_the_policy_status_and_keeps_what_the_operator_set(
    store: FakeStore,
) -> None:
    devices = service(store, UnknownStationPolicy.PENDING)
    await devices.station_connected("CP-1", "1.6")
    pending = await devices.boot("CP-1", BOOT, reason="PowerUp")
    assert (pending.status, pending.interval_seconds) == (RegistrationStatus.PENDING, RETRY)
    assert store.events[-1].detail["registration_status"] == "Pending"
    assert store.events[-1].detail["reason"] == "PowerUp"

    await devices.set_registration_status("CP-1", RegistrationStatus.ACCEPTED)
    await devices.station_connected("CP-1", "2.0.1")  # a reconnect changes the version only
    accepted = await devices.boot("CP-1", BOOT)
    assert accepted.status is RegistrationStatus.ACCEPTED
    assert store.charge_points["CP-1"].ocpp_version == "2.0.1"


async def test_a_boot_of_a_station_whose_connection_was_not_recorded_registers_it(
    store: FakeStore, devices: DeviceManagementService
) -> None:
    result = await devices.boot("CP-NEW", BOOT)
    assert result.status is RegistrationStatus.ACCEPTED
    assert store.charge_points["CP-NEW"].boot == BOOT
    assert [e.kind for e in store.events] == [EventKind.BOOT]


async def test_handshake_lookups_of_unremembered_stations_share_one_read(
    store: FakeStore,
) -> None:
    opened: list[FakeUnitOfWork] = []

    def unit_of_work() -> FakeUnitOfWork:
        opened.append(FakeUnitOfWork(store))
        return opened[-1]

    devices = DeviceManagementService(
        unit_of_work,
        FakeClock(),
        RegistrationPolicy(UnknownStationPolicy.ACCEPT, HEARTBEAT, RETRY),
        LastSeenTracker(),
    )
    for n in range(20):
        store.seed_station(f"CP-{n:02}")
    plain = StationChannel(tls=False)
    refusals = await asyncio.gather(
        *(devices.check_station_access(f"CP-{n:02}", None, plain) for n in range(25))
    )
    assert refusals == [None] * 25  # 20 known without a password, 5 unknown (let through)
    assert len(opened) == 1
    assert await devices.check_station_access("CP-00", None, plain) is None
    assert len(opened) == 1  # remembered: no read
    assert await devices.check_station_access("CP-24", None, plain) is None
    assert len(opened) == 2  # an unknown id is read again: it may be registered any moment
