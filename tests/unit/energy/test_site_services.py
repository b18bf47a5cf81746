"""Service methods a REST route or MCP tool calls: deferrable loads, vehicles, circuits."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from ev_charging_system.energy.coordinator import Coordinator
from ev_charging_system.energy.errors import (
    PhysicalLimitError,
    UnknownDeferrableLoadError,
    UnknownVehicleError,
)
from ev_charging_system.energy.history import MeasuredSlot
from ev_charging_system.energy.history_store import HistoryKeepingRecorder
from ev_charging_system.energy.models import (
    CircuitConfig,
    DeferrableLoadConfig,
    DeferrableLoadState,
    SiteConfig,
    VehicleConfig,
)
from ev_charging_system.energy.policies import default_policies
from ev_charging_system.energy.recorder import InMemoryPlanRecorder
from ev_charging_system.energy.site_settings import SiteSettingsService, StoredSite

from .factories import FLAT
from .test_agents import FakeCharger
from .test_coordinator import Clock


class MemoryStore:
    """The settings store, and (like the SQL one: the same table) where the plan
    recorder keeps the deferrable jobs' progress."""

    def __init__(self) -> None:
        self.saved: StoredSite | None = None
        self.progress: tuple[DeferrableLoadState, ...] = ()
        self.progress_writes = 0
        self.slots: list[MeasuredSlot] = []

    async def load(self) -> StoredSite | None:
        if self.saved is None:
            return None
        return dataclasses.replace(self.saved, progress=self.progress)

    async def save(self, site: StoredSite) -> None:
        self.saved = site

    async def save_progress(self, jobs: tuple[DeferrableLoadState, ...]) -> None:
        self.progress = jobs
        self.progress_writes += 1

    async def save_slots(self, slots: list[MeasuredSlot]) -> None:
        self.slots += slots


class HistoryPart:
    """The HistoryStore port over a MemoryStore (its `save` is the settings' save)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def save(self, slots: list[MeasuredSlot]) -> None:
        await self.store.save_slots(slots)

    async def load(self, since_slot: int) -> list[MeasuredSlot]:
        return [s for s in self.store.slots if s[0] >= since_slot]

    async def save_progress(self, jobs: tuple[DeferrableLoadState, ...]) -> None:
        await self.store.save_progress(jobs)


class FakeSwitch:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    async def set_load_power(self, load_id: str, power_kw: float) -> None:
        self.calls.append((load_id, power_kw))


def _setup(
    switch: FakeSwitch | None = None,
    charger: FakeCharger | None = None,
    store: MemoryStore | None = None,
    clock: Clock | None = None,
) -> tuple[Coordinator, SiteSettingsService, MemoryStore, Clock]:
    clock = clock or Clock()
    store = store or MemoryStore()
    recorder = HistoryKeepingRecorder(InMemoryPlanRecorder(), HistoryPart(store))
    coordinator = Coordinator(
        config=SiteConfig(vehicles=()),
        tariff=FLAT,
        recorder=recorder,
        clock=clock,
        policies=default_policies(),
        policy="optimize",
        charger=charger,
        load_switch=switch,
    )
    recorder.attach(coordinator.history)
    return coordinator, SiteSettingsService(coordinator, store), store, clock


def _dishwasher(clock: Clock, hours: float = 10.0) -> DeferrableLoadConfig:
    return DeferrableLoadConfig(
        "dishwasher",
        power_kw=1.0,
        energy_kwh=1.5,
        earliest_start=clock.now,
        deadline=clock.now + timedelta(hours=hours),
    )


async def test_a_deferrable_load_is_added_planned_switched_and_stored() -> None:
    switch = FakeSwitch()
    coordinator, service, store, clock = _setup(switch)
    status = await service.add_deferrable_load(_dishwasher(clock, hours=1.5))
    assert status.remaining_kwh == 1.5 and not status.done
    assert (
        store.saved is not None and store.saved.config.deferrable_loads[0].load_id == "dishwasher"
    )
    # Only 1.5 h to the deadline for a 1.5 h run: it must start now.
    plan = await coordinator.tick()
    assert plan.actions.deferrable("dishwasher") is not None
    assert switch.calls == [("dishwasher", 1.0)]
    clock.advance(timedelta(minutes=45))
    await coordinator.tick()
    assert service.list_deferrable_loads()[0].state.delivered_kwh == pytest.approx(0.75)
    clock.advance(timedelta(minutes=45))
    await coordinator.tick()
    assert service.list_deferrable_loads()[0].done
    assert switch.calls[-1] == ("dishwasher", 0.0)


async def test_deferrable_loads_are_validated_and_removable() -> None:
    _coordinator, service, store, clock = _setup()
    with pytest.raises(PhysicalLimitError, match=r"needs 1\.50 h"):
        DeferrableLoadConfig(
            "x", 1.0, 1.5, earliest_start=clock.now, deadline=clock.now + timedelta(hours=1)
        )
    past = dataclasses.replace(
        _dishwasher(clock),
        earliest_start=clock.now - timedelta(hours=5),
        deadline=clock.now - timedelta(hours=1),
    )
    with pytest.raises(PhysicalLimitError, match="past"):
        await service.add_deferrable_load(past)
    await service.add_deferrable_load(_dishwasher(clock))
    with pytest.raises(PhysicalLimitError, match="already exists"):
        await service.add_deferrable_load(_dishwasher(clock))
    await service.remove_deferrable_load("dishwasher")
    assert service.list_deferrable_loads() == []
    assert store.saved is not None and store.saved.config.deferrable_loads == ()
    with pytest.raises(UnknownDeferrableLoadError):
        await service.remove_deferrable_load("dishwasher")


async def test_several_charge_points_with_their_vehicles_and_a_shared_circuit() -> None:
    charger = FakeCharger()
    coordinator, service, store, clock = _setup(charger=charger)
    await service.set_circuits((CircuitConfig("garage", 11.0),))
    for vehicle_id, station in (("a", "CP-1"), ("b", "CP-2")):
        await service.upsert_vehicle(
            VehicleConfig(
                vehicle_id=vehicle_id,
                charge_point_id=station,
                connector_id=1,
                circuit_id="garage",
            )
        )
    assert [v.vehicle_id for v in service.list_vehicles()] == ["a", "b"]
    assert store.saved is not None and len(store.saved.config.vehicles) == 2
    for vehicle_id, hours in (("a", 2), ("b", 3)):
        coordinator.vehicle(vehicle_id).update(
            connected=True,
            state_of_charge_kwh=20.0,
            departure=clock.now + timedelta(hours=hours),
            target_soc_kwh=40.0,
        )
    plan = await coordinator.tick()
    powers = {v.vehicle_id: v.power_kw for v in plan.actions.vehicles}
    assert powers["a"] + powers["b"] <= 11.0 + 1e-6
    assert {call[0] for call in charger.calls} <= {"CP-1", "CP-2"}
    # A circuit still in use cannot disappear; an unknown vehicle cannot be removed.
    with pytest.raises(PhysicalLimitError, match="unknown circuit"):
        await service.set_circuits(())
    with pytest.raises(UnknownVehicleError):
        await service.remove_vehicle("c")
    await service.remove_vehicle("b")
    assert [v.vehicle_id for v in service.list_vehicles()] == ["a"]


async def test_two_vehicles_cannot_share_one_connector() -> None:
    _, service, _, _ = _setup()
    await service.upsert_vehicle(VehicleConfig("a", charge_point_id="CP-1", connector_id=1))
    with pytest.raises(PhysicalLimitError, match="same charge point connector"):
        await service.upsert_vehicle(VehicleConfig("b", charge_point_id="CP-1", connector_id=1))


async def test_stored_settings_with_jobs_and_circuits_are_restored() -> None:
    _coordinator, service, store, clock = _setup()
    await service.set_circuits((CircuitConfig("garage", 11.0),))
    await service.add_deferrable_load(_dishwasher(clock))
    fresh, _, _, _ = _setup()
    assert await SiteSettingsService(fresh, store).restore()  # the same store after a restart
    assert fresh.config.circuits == (CircuitConfig("garage", 11.0),)
    assert [d.config.load_id for d in fresh.deferrable_loads()] == ["dishwasher"]


async def test_a_jobs_progress_survives_a_restart() -> None:
    switch = FakeSwitch()
    coordinator, service, store, clock = _setup(switch)
    heater = DeferrableLoadConfig(
        "heater",
        power_kw=2.0,
        energy_kwh=3.0,
        earliest_start=clock.now,
        deadline=clock.now + timedelta(hours=1.5),  # exactly the run: on from now
        interruptible=True,
    )
    await service.add_deferrable_load(heater)
    await service.add_deferrable_load(_dishwasher(clock, hours=1.5))  # must start now too
    await coordinator.tick()
    assert store.progress == (
        DeferrableLoadState("heater", 0.0, started=True),
        DeferrableLoadState("dishwasher", 0.0, started=True),
    )
    clock.advance(timedelta(minutes=30))
    await coordinator.tick()
    assert [job.delivered_kwh for job in store.progress] == pytest.approx([1.0, 0.5])
    writes = store.progress_writes

    # A restart: a new coordinator on the same store takes the jobs up where they were.
    clock.advance(timedelta(minutes=2))
    fresh, fresh_service, _, _ = _setup(FakeSwitch(), store=store, clock=clock)
    assert await fresh_service.restore()
    jobs = {job.config.load_id: job for job in fresh_service.list_deferrable_loads()}
    assert jobs["heater"].remaining_kwh == pytest.approx(2.0)
    assert jobs["dishwasher"].remaining_kwh == pytest.approx(1.0)
    assert jobs["dishwasher"].state.started  # a started programme is not started again
    plan = await fresh.tick()
    # The dishwasher runs on as a fixed load; the heater gets what it still needs.
    assert plan.actions.deferrable("dishwasher").power_kw == pytest.approx(1.0)  # type: ignore[union-attr]
    assert plan.actions.deferrable("heater").power_kw == pytest.approx(2.0)  # type: ignore[union-attr]
    assert store.progress_writes == writes + 1  # written again only because it changed
    await fresh.tick()
    assert store.progress_writes == writes + 1  # same clock, nothing changed


async def test_progress_of_a_job_no_longer_configured_is_ignored() -> None:
    coordinator, service, store, clock = _setup()
    await service.add_deferrable_load(_dishwasher(clock))
    await coordinator.tick()
    await service.remove_deferrable_load("dishwasher")
    store.progress = (DeferrableLoadState("dishwasher", 1.0, started=True),)
    fresh, fresh_service, _, _ = _setup(store=store, clock=clock)
    assert await fresh_service.restore()
    assert fresh.deferrable_loads() == []


async def test_the_planner_sites_grid_limit_is_planned_with_and_the_own_one_kept() -> None:
    coordinator, _, store, _ = _setup()
    site_limit: list[float | None] = [None]

    async def planner_site_limit() -> float | None:
        return site_limit[0]

    service = SiteSettingsService(coordinator, store, planner_site_limit)
    own = coordinator.config
    await service.reconfigure(
        dataclasses.replace(own, grid=dataclasses.replace(own.grid, import_limit_kw=20.0))
    )
    site_limit[0] = 8.0  # set on the planner's site
    await service.refresh_grid_limit()
    assert coordinator.config.grid.import_limit_kw == 8.0
    assert store.saved is not None and store.saved.config.grid.import_limit_kw == 20.0
    # Another import limit in the energy settings contradicts the site's: refused, and
    # nothing changes; the site's own value with other changes is accepted.
    other = dataclasses.replace(
        coordinator.config, grid=dataclasses.replace(coordinator.config.grid, import_limit_kw=9.0)
    )
    with pytest.raises(PhysicalLimitError, match="site"):
        await service.reconfigure(other)
    assert coordinator.config.grid.import_limit_kw == 8.0
    cheaper_shedding = dataclasses.replace(coordinator.config.load, shed_penalty_per_kwh=0.5)
    await service.reconfigure(dataclasses.replace(coordinator.config, load=cheaper_shedding))
    assert store.saved.config.grid.import_limit_kw == 20.0
    assert store.saved.config.load.shed_penalty_per_kwh == 0.5
    # A restart: the stored settings, with the site's limit in force.
    restarted, _, _, _ = _setup(store=store)
    assert await SiteSettingsService(restarted, store, planner_site_limit).restore()
    assert restarted.config.grid.import_limit_kw == 8.0
    # The site's limit cleared: the energy settings' own is in force again.
    site_limit[0] = None
    await service.refresh_grid_limit()
    assert coordinator.config.grid.import_limit_kw == 20.0
