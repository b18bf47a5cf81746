"""The periodic alarm sweep over a whole network: it still finds every offline station and
faulted connector, and it gives the event loop back between pages of stations, so station
messages are answered while it runs (with 10,000 stations it once held the loop for about
half a second every 30 s)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

from ev_charging_system.business_logic.alarm_service import AlarmPolicy, AlarmService
from ev_charging_system.business_logic.device_management_service import (
    STATION_PAGE,
    DeviceManagementService,
    RegistrationPolicy,
)
from ev_charging_system.business_logic.event_bus import InProcessEventBus
from ev_charging_system.business_logic.last_seen import LastSeenTracker
from ev_charging_system.models.alarm import AlarmRule
from ev_charging_system.models.charge_point import (
    ChargePoint,
    ConnectorStatus,
    RegistrationStatus,
    UnknownStationPolicy,
)
from tests.unit.fakes import FakeClock, FakeStore, FakeUnitOfWork, MemoryAlarmStore

OFFLINE_AFTER = timedelta(minutes=10)


class CountingPresence:
    """Online stations; counts how many stations the sweep has looked at so far."""

    def __init__(self, online: set[str]) -> None:
        self.online = online
        self.looked_at = 0

    def is_online(self, charge_point_id: str) -> bool:
        self.looked_at += 1
        return charge_point_id in self.online

    def online_ids(self) -> frozenset[str]:
        return frozenset(self.online)


class Network:
    def __init__(self, stations: int, online: set[str]) -> None:
        self.store = FakeStore()
        self.clock = FakeClock()
        self.presence = CountingPresence(online)
        self.ids = [f"CP-{number:05d}" for number in range(stations)]
        self.alarm_store = MemoryAlarmStore()

        def uow() -> FakeUnitOfWork:
            return FakeUnitOfWork(self.store)

        self.uow = uow
        devices = DeviceManagementService(
            uow,
            self.clock,
            RegistrationPolicy(UnknownStationPolicy.ACCEPT, 300, 60),
            LastSeenTracker(),
            presence=self.presence,
        )
        self.alarms = AlarmService(
            self.alarm_store,
            InProcessEventBus(),
            devices,
            self.clock,
            AlarmPolicy(offline_after=OFFLINE_AFTER),
        )

    async def install(self, faulted: dict[str, int]) -> None:
        """Every station seen an hour ago, with two connectors (one Faulted if listed)."""
        seen = self.clock() - timedelta(hours=1)
        async with self.uow() as uow:
            for station_id in self.ids:
                await uow.charge_points.add(
                    ChargePoint(station_id, RegistrationStatus.ACCEPTED, seen, last_seen_at=seen)
                )
                for connector_id in (1, 2):
                    status = "Faulted" if faulted.get(station_id) == connector_id else "Available"
                    await uow.charge_points.save_connector_status(
                        station_id,
                        ConnectorStatus(connector_id, status, "GroundFailure", seen),
                    )
            await uow.commit()

    def active(self, rule: AlarmRule) -> set[tuple[str | None, int | None]]:
        return {
            (alarm.charge_point_id, alarm.connector_id)
            for alarm in self.alarm_store.alarms.values()
            if alarm.active and alarm.rule is rule
        }


async def test_the_sweep_finds_offline_stations_and_faulted_connectors_on_every_page() -> None:
    stations = 2 * STATION_PAGE + 100
    network = Network(stations, online=set())
    last = network.ids[-1]  # on the last, short page
    network.presence.online = {network.ids[0], last}
    await network.install(faulted={last: 2, network.ids[1]: 1})

    await network.alarms.sweep()

    offline = {station for station, _ in network.active(AlarmRule.STATION_OFFLINE)}
    assert offline == set(network.ids) - {network.ids[0], last}
    # An offline station's faults are not its alarms; an online one's are.
    assert network.active(AlarmRule.CONNECTOR_FAULTED) == {(last, 2)}

    # The station comes back and its connector recovers: the next sweep clears both.
    network.presence.online.add(network.ids[STATION_PAGE + 5])
    async with network.uow() as uow:
        await uow.charge_points.save_connector_status(
            last, ConnectorStatus(2, "Available", "NoError", network.clock())
        )
        await uow.commit()
    await network.alarms.sweep()

    assert network.ids[STATION_PAGE + 5] not in {
        station for station, _ in network.active(AlarmRule.STATION_OFFLINE)
    }
    assert len(network.active(AlarmRule.STATION_OFFLINE)) == stations - 3
    assert network.active(AlarmRule.CONNECTOR_FAULTED) == set()


async def test_the_sweep_gives_the_loop_back_between_pages_of_stations() -> None:
    stations = 4 * STATION_PAGE
    network = Network(stations, online=set())
    network.presence.online = set(network.ids)  # the common case: all online, all fine
    await network.install(faulted={})
    seen_between: list[int] = []  # stations looked at, each time another task got a turn

    async def station_messages() -> None:
        while True:
            seen_between.append(network.presence.looked_at)
            await asyncio.sleep(0)

    other = asyncio.create_task(station_messages())
    await asyncio.sleep(0)
    await network.alarms.sweep()
    other.cancel()

    assert network.presence.looked_at == stations
    runs = [later - earlier for earlier, later in itertools.pairwise(seen_between)]
    assert max(runs) <= STATION_PAGE, f"the sweep held the loop for {max(runs)} stations"
    assert seen_between[-1] == stations
