"""The site's configuration, tariff and policy: applied to the coordinator and kept.

Changing the site goes through here so the coordinator and the stored copy never
disagree: the coordinator validates first (a bad value changes nothing), then the new
settings are stored, and on start-up the stored settings are restored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ev_charging_system.energy.coordinator import Coordinator, DeferrableLoadStatus
from ev_charging_system.energy.models import (
    CircuitConfig,
    DeferrableLoadConfig,
    DeferrableLoadState,
    SiteConfig,
    Tariff,
    VehicleConfig,
)


@dataclass(frozen=True, slots=True)
class StoredSite:
    config: SiteConfig
    tariff: Tariff
    policy: str
    # Deferrable jobs' progress as last stored after a plan (`history_store`); read with
    # the settings, written by the plan recorder, never by `save`.
    progress: tuple[DeferrableLoadState, ...] = ()


class SiteSettingsStore(Protocol):
    async def load(self) -> StoredSite | None: ...

    async def save(self, site: StoredSite) -> None: ...


class SiteSettingsService:
    def __init__(self, coordinator: Coordinator, store: SiteSettingsStore) -> None:
        self._coordinator = coordinator
        self._store = store

    async def restore(self) -> bool:
        """Apply the stored settings, if any; True when something was restored."""
        stored = await self._store.load()
        if stored is None:
            return False
        self._coordinator.reconfigure(stored.config)
        self._coordinator.set_tariff(stored.tariff)
        self._coordinator.set_policy(stored.policy)
        self._coordinator.restore_progress(stored.progress)
        return True

    def current(self) -> StoredSite:
        c = self._coordinator
        return StoredSite(c.config, c.tariff, c.policy)

    async def reconfigure(self, config: SiteConfig) -> StoredSite:
        self._coordinator.reconfigure(config)
        return await self._save()

    async def set_tariff(self, tariff: Tariff) -> StoredSite:
        self._coordinator.set_tariff(tariff)
        return await self._save()

    async def set_policy(self, policy: str) -> StoredSite:
        self._coordinator.set_policy(policy)
        return await self._save()

    # ---------------------------------------- vehicles, circuits and deferrable loads
    # Each validates in the coordinator first (a refused change changes nothing), then
    # the whole site configuration is stored, as for `reconfigure`.

    async def upsert_vehicle(self, vehicle: VehicleConfig) -> VehicleConfig:
        """Add a vehicle at a charge point (or replace its configuration)."""
        self._coordinator.upsert_vehicle(vehicle)
        await self._save()
        return vehicle

    async def remove_vehicle(self, vehicle_id: str) -> None:
        self._coordinator.remove_vehicle(vehicle_id)
        await self._save()

    def list_vehicles(self) -> tuple[VehicleConfig, ...]:
        return self._coordinator.config.vehicles

    async def set_circuits(self, circuits: tuple[CircuitConfig, ...]) -> tuple[CircuitConfig, ...]:
        """Replace the circuits the charge points share (limits in kW)."""
        self._coordinator.set_circuits(circuits)
        await self._save()
        return circuits

    async def add_deferrable_load(self, load: DeferrableLoadConfig) -> DeferrableLoadStatus:
        status = self._coordinator.add_deferrable_load(load)
        await self._save()
        return status

    async def remove_deferrable_load(self, load_id: str) -> None:
        self._coordinator.remove_deferrable_load(load_id)
        await self._save()

    def list_deferrable_loads(self) -> list[DeferrableLoadStatus]:
        return self._coordinator.deferrable_loads()

    async def _save(self) -> StoredSite:
        site = self.current()
        await self._store.save(site)
        return site
