"""The site's configuration, tariff and policy: applied to the coordinator and kept.

Changing the site goes through here so the coordinator and the stored copy never
disagree: the coordinator validates first (a bad value changes nothing), then the new
settings are stored, and on start-up the stored settings are restored.

The grid import limit has one source of truth (docs/ARCHITECTURE.md, "The planner's grid
limit"): the energy planner's site's grid connection limit (Sites), when it has one. The
import limit of these settings is only the fallback for a planner site without one: it is
kept as stored, and the coordinator plans with the site's limit in its place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol

from ev_charging_system.energy.coordinator import Coordinator, DeferrableLoadStatus
from ev_charging_system.energy.errors import PhysicalLimitError
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


# The energy planner's site's grid connection limit in kW; None when it has none.
SiteGridLimit = Callable[[], Awaitable[float | None]]


async def _no_site_limit() -> None:
    return None


class SiteSettingsService:
    def __init__(
        self,
        coordinator: Coordinator,
        store: SiteSettingsStore,
        site_grid_limit: SiteGridLimit = _no_site_limit,
    ) -> None:
        self._coordinator = coordinator
        self._store = store
        self._site_grid_limit = site_grid_limit
        # These settings' own import limit: in force while the planner's site has no limit.
        self._own_import_kw = coordinator.config.grid.import_limit_kw
        self._site_kw: float | None = None
        self._reading = asyncio.Lock()  # the last site limit read is the one applied

    async def restore(self) -> bool:
        """Apply the stored settings, if any, and the planner's site's grid limit; True
        when stored settings were restored."""
        stored = await self._store.load()
        async with self._reading:
            self._site_kw = await self._site_grid_limit()
            if stored is None:
                self._coordinator.reconfigure(self._in_force(self._coordinator.config))
                return False
            self._own_import_kw = stored.config.grid.import_limit_kw
            self._coordinator.reconfigure(self._in_force(stored.config))
        self._coordinator.set_tariff(stored.tariff)
        self._coordinator.set_policy(stored.policy)
        self._coordinator.restore_progress(stored.progress)
        return True

    async def refresh_grid_limit(self) -> StoredSite:
        """Read the planner's site's grid limit again (it changed, or another site became
        the planner's) and plan with it from the next plan on."""
        async with self._reading:
            self._site_kw = await self._site_grid_limit()
            self._coordinator.reconfigure(self._in_force(self._coordinator.config))
        # What is stored does not change; in a cluster the save is announced, and every
        # other node restores, reading the site's limit itself (cluster/site_sync.py).
        return await self._save()

    @property
    def site_grid_limit_kw(self) -> float | None:
        """The planner's site's grid limit as last read (None: these settings' own)."""
        return self._site_kw

    def current(self) -> StoredSite:
        c = self._coordinator
        return StoredSite(c.config, c.tariff, c.policy)

    async def reconfigure(self, config: SiteConfig) -> StoredSite:
        """Replace the configuration. Its import limit is refused when the planner's site
        has another one: that limit is changed on the site, in one place only."""
        wanted = config.grid.import_limit_kw
        if self._site_kw is not None and wanted != self._site_kw:
            raise PhysicalLimitError(
                "grid.import_limit_kw",
                f"is the energy planner's site's grid connection limit, {self._site_kw:g} kW; "
                "change it on that site (Sites, PUT /api/sites/{site_id}), or clear it there "
                "to set one here",
            )
        self._coordinator.reconfigure(config)
        if self._site_kw is None:
            self._own_import_kw = wanted
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

    def _in_force(self, config: SiteConfig) -> SiteConfig:
        """`config` with the import limit the planner obeys: the site's, else its own."""
        limit = self._own_import_kw if self._site_kw is None else self._site_kw
        return replace(config, grid=replace(config.grid, import_limit_kw=limit))

    async def _save(self) -> StoredSite:
        site = self.current()
        own = replace(site.config.grid, import_limit_kw=self._own_import_kw)
        await self._store.save(replace(site, config=replace(site.config, grid=own)))
        return site
