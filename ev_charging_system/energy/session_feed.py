"""Measurements from real charging sessions into the vehicle agents bound to them.

Implements the business layer's SessionObserver port (structurally): stored OCPP sessions
and meter samples of a bound connector become the vehicle agent's measured state.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from ev_charging_system.energy.coordinator import Coordinator, Measurements
from ev_charging_system.energy.errors import PhysicalLimitError
from ev_charging_system.models.transaction import MeterSample

logger = logging.getLogger(__name__)

POWER = "Power.Active.Import"
ENERGY = "Energy.Active.Import.Register"
SOC = "SoC"


def _latest(samples: Sequence[MeterSample], measurand: str, unit: str | None) -> float | None:
    matching = [
        s
        for s in samples
        if s.measurand == measurand
        and s.phase is None
        and s.value is not None
        and (unit is None or s.unit == unit)
    ]
    if not matching:
        return None
    latest = max(matching, key=lambda s: s.timestamp)
    return float(latest.value) if latest.value is not None else None


class VehicleSessionFeed:
    def __init__(self, coordinator: Coordinator) -> None:
        self._coordinator = coordinator

    def session_changed(
        self,
        charge_point_id: str,
        connector_id: int,
        active: bool,
        at: datetime,
        register_wh: float | None = None,
    ) -> None:
        vehicle = self._coordinator.vehicle_at(charge_point_id, connector_id)
        if vehicle is None:
            return
        self._coordinator.update_measurements(
            Measurements(vehicle_id=vehicle.vehicle_id, vehicle_connected=active)
        )
        if register_wh is not None:
            # 1.6 carries the register in Start/StopTransaction, not in a meter sample.
            vehicle.on_meter_values(at, energy_register_wh=register_wh)

    def meter_samples(
        self, charge_point_id: str, connector_id: int, samples: Sequence[MeterSample]
    ) -> None:
        vehicle = self._coordinator.vehicle_at(charge_point_id, connector_id)
        if vehicle is None or not samples:
            return
        try:
            vehicle.on_meter_values(
                max(s.timestamp for s in samples),
                power_w=_latest(samples, POWER, "W"),
                energy_register_wh=_latest(samples, ENERGY, "Wh"),
                soc_percent=_latest(samples, SOC, None),
            )
        except PhysicalLimitError as error:
            # A station's odd sample must not break the OCPP message that carried it.
            logger.warning("%s/%s: meter values ignored: %s", charge_point_id, connector_id, error)
