"""The four site agents: small objects holding a measured state and a setpoint.

Every change goes through `validated_*` first, which builds the complete new state or
raises `PhysicalLimitError`; only then is it assigned in one statement. So a rejected
request never leaves an agent half-updated, and the coordinator can validate several
agents before committing any of them (the seed's `/coordinate` updates four at once).

An agent does no planning. The vehicle agent is the only one that talks to hardware:
when bound to a connector its setpoint goes out through the `ChargerControl` port and its
measurements come back from the station's meter values; unbound, it simulates.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Protocol

from ev_charging_system.energy.errors import PhysicalLimitError
from ev_charging_system.energy.models import (
    BatteryConfig,
    BatteryState,
    DeferrableLoadConfig,
    DeferrableLoadState,
    LoadState,
    PowerMode,
    SolarConfig,
    SolarState,
    VehicleConfig,
    VehicleState,
    signed,
)
from ev_charging_system.energy.physics import battery_soc_after
from ev_charging_system.energy.validation import finite, non_negative, within

# PV modules briefly deliver more than their rating at cloud edges; beyond this factor a
# reading is a wiring or unit error (W sent as kW), not weather.
PV_OVERSHOOT = 1.25
# Measured battery power may overshoot the rating a little (inverter tolerance).
POWER_TOLERANCE = 1.05


class ChargerControl(Protocol):
    """The port through which a bound vehicle's setpoint reaches its charge point.

    The OCPP adapter implements it with SetChargingProfile (1.6 TxProfile / 2.0.1
    TxProfile) in W, whatever the station's protocol version. 0 W pauses charging.
    """

    async def apply_power_limit(
        self, charge_point_id: str, connector_id: int, watts: float
    ) -> None: ...


def _hours_between(earlier: datetime | None, later: datetime) -> float:
    if earlier is None:
        return 0.0
    return max(0.0, (later - earlier).total_seconds() / 3600.0)


# ------------------------------------------------------------------------------------ solar


class SolarAgent:
    def __init__(self, config: SolarConfig, state: SolarState | None = None) -> None:
        self.config = config
        self._state = state or SolarState()

    def sample(self) -> SolarState:
        return self._state

    def validated_measurement(self, production_kw: float, at: datetime | None) -> SolarState:
        limit = self.config.peak_kw * PV_OVERSHOOT
        within("solar.production_kw", production_kw, 0.0, limit, " kW")
        return SolarState(production_kw=float(production_kw), measured_at=at)

    def update(self, production_kw: float, at: datetime | None = None) -> SolarState:
        self._state = self.validated_measurement(production_kw, at)
        return self._state

    def commit(self, state: SolarState) -> None:
        self._state = state

    def reconfigure(self, config: SolarConfig) -> None:
        self.config = config


# ---------------------------------------------------------------------------------- battery


class BatteryAgent:
    """A stationary battery; simulated (SoC integrates the setpoint) unless measured."""

    def __init__(self, config: BatteryConfig, state: BatteryState | None = None) -> None:
        self.config = config
        self._state = state or BatteryState(
            state_of_charge_kwh=config.min_energy_kwh, capacity_kwh=config.capacity_kwh
        )

    def sample(self) -> BatteryState:
        return self._state

    def validated_measurement(
        self,
        *,
        state_of_charge_kwh: float | None = None,
        capacity_kwh: float | None = None,
        power_kw: float | None = None,
        at: datetime | None = None,
    ) -> tuple[BatteryState, BatteryConfig]:
        """The new state and (if the capacity changed) config; raises before changing anything."""
        config = self.config
        if capacity_kwh is not None:
            non_negative("battery.capacity_kwh", capacity_kwh)
            config = dataclasses.replace(config, capacity_kwh=float(capacity_kwh))
        soc = (
            self._state.state_of_charge_kwh if state_of_charge_kwh is None else state_of_charge_kwh
        )
        soc = within("battery.state_of_charge_kwh", soc, 0.0, config.capacity_kwh, " kWh")
        power = self._state.power_kw if power_kw is None else power_kw
        within(
            "battery.power_kw",
            power,
            -config.max_discharge_kw * POWER_TOLERANCE,
            config.max_charge_kw * POWER_TOLERANCE,
            " kW",
        )
        state = dataclasses.replace(
            self._state,
            state_of_charge_kwh=soc,
            capacity_kwh=config.capacity_kwh,
            power_kw=float(power),
            measured_at=at or self._state.measured_at,
        )
        return state, config

    def update(
        self,
        *,
        state_of_charge_kwh: float | None = None,
        capacity_kwh: float | None = None,
        power_kw: float | None = None,
        at: datetime | None = None,
    ) -> BatteryState:
        state, config = self.validated_measurement(
            state_of_charge_kwh=state_of_charge_kwh,
            capacity_kwh=capacity_kwh,
            power_kw=power_kw,
            at=at,
        )
        self.commit(state, config)
        return state

    def commit(self, state: BatteryState, config: BatteryConfig | None = None) -> None:
        if config is not None:
            self.config = config
        self._state = state

    def validated_setpoint(self, mode: PowerMode, power_kw: float) -> BatteryState:
        non_negative("battery.power_kw", power_kw)
        if mode is PowerMode.CHARGE:
            within("battery.power_kw", power_kw, 0.0, self.config.max_charge_kw, " kW")
        elif mode is PowerMode.DISCHARGE:
            within("battery.power_kw", power_kw, 0.0, self.config.max_discharge_kw, " kW")
        else:
            power_kw = 0.0
        return dataclasses.replace(self._state, mode=mode, setpoint_kw=float(power_kw))

    def control(self, mode: PowerMode, power_kw: float) -> BatteryState:
        self._state = self.validated_setpoint(mode, power_kw)
        return self._state

    def reconfigure(self, config: BatteryConfig) -> None:
        if self._state.state_of_charge_kwh > config.capacity_kwh + 1e-9:
            raise PhysicalLimitError(
                "battery.capacity_kwh",
                f"{config.capacity_kwh:g} kWh is below the measured state of charge "
                f"{self._state.state_of_charge_kwh:g} kWh",
            )
        self.config = config
        self._state = dataclasses.replace(self._state, capacity_kwh=config.capacity_kwh)

    def advance(self, now: datetime) -> BatteryState:
        """Simulate the time since the last measurement: the setpoint held, BMS limits kept."""
        hours = _hours_between(self._state.measured_at, now)
        if hours <= 0:
            self._state = dataclasses.replace(self._state, measured_at=now)
            return self._state
        soc0 = self._state.state_of_charge_kwh
        power = signed(self._state.mode, self._state.setpoint_kw)
        soc = battery_soc_after(self.config, soc0, power, hours)
        # The BMS stops at the SoC limits (but does not yank a battery that was already
        # outside them back in).
        if power > 0:
            soc = min(soc, max(self.config.max_energy_kwh, soc0))
        elif power < 0:
            soc = max(soc, min(self.config.min_energy_kwh, soc0))
        # Average power actually flowing, which is less than the setpoint if a limit hit.
        eta = self.config.one_way_efficiency
        delta = soc - soc0
        actual = delta / (eta * hours) if power > 0 else delta * eta / hours
        self._state = dataclasses.replace(
            self._state, state_of_charge_kwh=soc, power_kw=actual, measured_at=now
        )
        return self._state


# ---------------------------------------------------------------------------------- vehicle


class VehicleAgent:
    """One EV at one connector. Bound: a real station; unbound: simulated."""

    def __init__(
        self,
        config: VehicleConfig,
        charger: ChargerControl | None = None,
        state: VehicleState | None = None,
    ) -> None:
        self.config = config
        self._charger = charger
        self._last_register_wh: float | None = None
        self._pushed_w: float | None = None  # last limit the station accepted
        self._state = state or VehicleState(
            vehicle_id=config.vehicle_id, capacity_kwh=config.battery_capacity_kwh
        )
        self._state = dataclasses.replace(self._state, bound=self.bound)

    @property
    def vehicle_id(self) -> str:
        return self.config.vehicle_id

    @property
    def bound(self) -> bool:
        return (
            self._charger is not None
            and self.config.charge_point_id is not None
            and self.config.connector_id is not None
        )

    def sample(self) -> VehicleState:
        return self._state

    def bind(self, charger: ChargerControl, charge_point_id: str, connector_id: int) -> None:
        self.config = dataclasses.replace(
            self.config, charge_point_id=charge_point_id, connector_id=connector_id
        )
        self._charger = charger
        self._last_register_wh = None
        self._pushed_w = None
        self._state = dataclasses.replace(self._state, bound=True)

    def unbind(self) -> None:
        self._charger = None
        self.config = dataclasses.replace(self.config, charge_point_id=None, connector_id=None)
        self._state = dataclasses.replace(self._state, bound=False)

    def reconfigure(self, config: VehicleConfig) -> None:
        if config.vehicle_id != self.config.vehicle_id:
            raise PhysicalLimitError("vehicle.vehicle_id", "cannot be changed")
        if self._state.state_of_charge_kwh > config.battery_capacity_kwh + 1e-9:
            raise PhysicalLimitError(
                "vehicle.battery_capacity_kwh",
                f"{config.battery_capacity_kwh:g} kWh is below the vehicle's state of charge",
            )
        self.config = config
        self._state = dataclasses.replace(
            self._state, capacity_kwh=config.battery_capacity_kwh, bound=self.bound
        )

    def validated_measurement(
        self,
        *,
        connected: bool | None = None,
        state_of_charge_kwh: float | None = None,
        departure: datetime | None = None,
        target_soc_kwh: float | None = None,
        at: datetime | None = None,
    ) -> VehicleState:
        state = self._state
        capacity = self.config.battery_capacity_kwh
        soc = state.state_of_charge_kwh if state_of_charge_kwh is None else state_of_charge_kwh
        soc = within("vehicle.state_of_charge_kwh", soc, 0.0, capacity, " kWh")
        if target_soc_kwh is not None:
            within("vehicle.target_soc_kwh", target_soc_kwh, 0.0, capacity, " kWh")
        if departure is not None and departure.tzinfo is None:
            raise PhysicalLimitError("vehicle.departure", "must be timezone-aware")
        now_connected = state.connected if connected is None else connected
        if not now_connected:
            # Unplugged: the session is over, nothing may stay commanded.
            return dataclasses.replace(
                state,
                connected=False,
                state_of_charge_kwh=soc,
                power_kw=0.0,
                session_energy_kwh=0.0,
                departure=None,
                target_soc_kwh=None,
                mode=PowerMode.IDLE,
                setpoint_kw=0.0,
                measured_at=at or state.measured_at,
            )
        new_session = not state.connected
        return dataclasses.replace(
            state,
            connected=True,
            state_of_charge_kwh=soc,
            session_energy_kwh=0.0 if new_session else state.session_energy_kwh,
            departure=departure
            if departure is not None
            else (None if new_session else state.departure),
            target_soc_kwh=target_soc_kwh
            if target_soc_kwh is not None
            else (None if new_session else state.target_soc_kwh),
            measured_at=at or state.measured_at,
        )

    def update(
        self,
        *,
        connected: bool | None = None,
        state_of_charge_kwh: float | None = None,
        departure: datetime | None = None,
        target_soc_kwh: float | None = None,
        at: datetime | None = None,
    ) -> VehicleState:
        self._state = self.validated_measurement(
            connected=connected,
            state_of_charge_kwh=state_of_charge_kwh,
            departure=departure,
            target_soc_kwh=target_soc_kwh,
            at=at,
        )
        return self._state

    def commit(self, state: VehicleState) -> None:
        self._state = state

    def validated_setpoint(self, mode: PowerMode, power_kw: float) -> VehicleState:
        non_negative("vehicle.power_kw", power_kw)
        config = self.config
        if mode is PowerMode.IDLE or power_kw == 0:
            return dataclasses.replace(self._state, mode=PowerMode.IDLE, setpoint_kw=0.0)
        if not self._state.connected:
            raise PhysicalLimitError("vehicle.mode", f"{mode} needs a connected vehicle")
        if mode is PowerMode.CHARGE:
            within("vehicle.power_kw", power_kw, config.min_charge_kw, config.max_charge_kw, " kW")
        else:
            if config.max_discharge_kw <= 0:
                raise PhysicalLimitError("vehicle.mode", "this vehicle/charger cannot discharge")
            within("vehicle.power_kw", power_kw, 0.0, config.max_discharge_kw, " kW")
        return dataclasses.replace(self._state, mode=mode, setpoint_kw=float(power_kw))

    def control(self, mode: PowerMode, power_kw: float) -> VehicleState:
        self._state = self.validated_setpoint(mode, power_kw)
        return self._state

    async def push_setpoint(self, *, force: bool = False) -> bool:
        """Send the setpoint to the bound connector; True if something was sent.

        Only a changed limit is sent (the station keeps its charging profile), unless
        `force`. After a failure the next call sends again.
        """
        if not self.bound or self._charger is None:
            return False
        assert self.config.charge_point_id is not None and self.config.connector_id is not None
        watts = round(max(0.0, signed(self._state.mode, self._state.setpoint_kw)) * 1000.0, 1)
        if not force and self._pushed_w is not None and abs(self._pushed_w - watts) < 1.0:
            return False
        self._pushed_w = None
        await self._charger.apply_power_limit(
            self.config.charge_point_id, self.config.connector_id, watts
        )
        self._pushed_w = watts
        return True

    def on_meter_values(
        self,
        at: datetime,
        *,
        power_w: float | None = None,
        energy_register_wh: float | None = None,
        soc_percent: float | None = None,
    ) -> VehicleState:
        """Measurements from the bound station (OCPP MeterValues/TransactionEvent).

        Stations send what they send; a bad sample is clamped, not rejected, because
        rejecting it would only lose the good fields of the same message.
        """
        state = self._state
        session = state.session_energy_kwh
        soc = state.state_of_charge_kwh
        if energy_register_wh is not None:
            finite("vehicle.energy_register_wh", energy_register_wh)
            previous = self._last_register_wh
            self._last_register_wh = energy_register_wh
            if previous is not None and energy_register_wh >= previous:
                delta_kwh = (energy_register_wh - previous) / 1000.0
                session += delta_kwh
                # Without a SoC reading (most AC stations), estimate it from the energy.
                soc += delta_kwh * self.config.charge_efficiency
        if soc_percent is not None:
            finite("vehicle.soc_percent", soc_percent)
            soc = min(max(soc_percent, 0.0), 100.0) / 100.0 * self.config.battery_capacity_kwh
        power_kw = state.power_kw
        if power_w is not None:
            finite("vehicle.power_w", power_w)
            power_kw = max(0.0, power_w / 1000.0)
        self._state = dataclasses.replace(
            state,
            power_kw=power_kw,
            session_energy_kwh=session,
            state_of_charge_kwh=min(max(soc, 0.0), self.config.battery_capacity_kwh),
            measured_at=at,
        )
        return self._state

    def advance(self, now: datetime) -> VehicleState:
        """Simulate the time since the last measurement (only when not bound)."""
        state = self._state
        hours = _hours_between(state.measured_at, now)
        if self.bound or hours <= 0 or not state.connected:
            self._state = dataclasses.replace(
                state, measured_at=now if not self.bound else state.measured_at
            )
            return self._state
        power = signed(state.mode, state.setpoint_kw)
        eta = self.config.charge_efficiency
        delta_kwh = power * eta * hours if power >= 0 else power / eta * hours
        soc = min(max(state.state_of_charge_kwh + delta_kwh, 0.0), self.config.battery_capacity_kwh)
        delivered = (soc - state.state_of_charge_kwh) / eta if power >= 0 else 0.0
        self._state = dataclasses.replace(
            state,
            state_of_charge_kwh=soc,
            power_kw=power if soc != state.state_of_charge_kwh else 0.0,
            session_energy_kwh=state.session_energy_kwh + max(0.0, delivered),
            measured_at=now,
        )
        return self._state


# ------------------------------------------------------------------------------------- load


class LoadAgent:
    """Household/site consumption, split into critical and flexible (sheddable) parts."""

    def __init__(self, state: LoadState | None = None) -> None:
        self._state = state or LoadState()

    def sample(self) -> LoadState:
        return self._state

    def validated_measurement(
        self,
        *,
        critical_load_kw: float | None = None,
        flexible_load_kw: float | None = None,
        at: datetime | None = None,
    ) -> LoadState:
        state = self._state
        critical = state.critical_load_kw if critical_load_kw is None else critical_load_kw
        flexible = state.flexible_load_kw if flexible_load_kw is None else flexible_load_kw
        non_negative("load.critical_load_kw", critical)
        non_negative("load.flexible_load_kw", flexible)
        return dataclasses.replace(
            state,
            critical_load_kw=float(critical),
            flexible_load_kw=float(flexible),
            # Cannot keep more switched off than there is.
            shed_kw=min(state.shed_kw, float(flexible)),
            measured_at=at or state.measured_at,
        )

    def update(
        self,
        *,
        critical_load_kw: float | None = None,
        flexible_load_kw: float | None = None,
        at: datetime | None = None,
    ) -> LoadState:
        self._state = self.validated_measurement(
            critical_load_kw=critical_load_kw, flexible_load_kw=flexible_load_kw, at=at
        )
        return self._state

    def commit(self, state: LoadState) -> None:
        self._state = state

    def validated_shed(self, shed_kw: float) -> LoadState:
        within("load.shed_kw", shed_kw, 0.0, self._state.flexible_load_kw, " kW")
        return dataclasses.replace(self._state, shed_kw=float(shed_kw))

    def shed(self, shed_kw: float) -> LoadState:
        self._state = self.validated_shed(shed_kw)
        return self._state


# ------------------------------------------------------------------------------ deferrable


class LoadSwitch(Protocol):
    """The port through which a deferrable load is switched (a relay, a smart plug, an
    appliance's API). `power_kw` 0 switches it off."""

    async def set_load_power(self, load_id: str, power_kw: float) -> None: ...


class DeferrableLoadAgent:
    """A job with an energy, a window and a switch; it counts the energy it has received.

    The delivered energy is integrated from the setpoint in force (an appliance switched
    on draws its rated power), so a job knows how much is left without a meter of its own.
    """

    def __init__(
        self,
        config: DeferrableLoadConfig,
        switch: LoadSwitch | None = None,
        state: DeferrableLoadState | None = None,
    ) -> None:
        self.config = config
        self._switch = switch
        self._pushed_kw: float | None = None
        self._state = state or DeferrableLoadState(load_id=config.load_id)

    @property
    def load_id(self) -> str:
        return self.config.load_id

    def sample(self) -> DeferrableLoadState:
        return self._state

    @property
    def remaining_kwh(self) -> float:
        return max(0.0, self.config.energy_kwh - self._state.delivered_kwh)

    @property
    def done(self) -> bool:
        return self.remaining_kwh <= 1e-6

    def reconfigure(self, config: DeferrableLoadConfig) -> None:
        if config.load_id != self.config.load_id:
            raise PhysicalLimitError("deferrable.load_id", "cannot be changed")
        self.config = config

    def restore(self, stored: DeferrableLoadState) -> None:
        """Progress stored before a restart. The setpoint is not restored: no energy is
        counted until the next plan sets one (the appliance's state meanwhile is unknown)."""
        if stored.load_id != self.load_id:
            raise PhysicalLimitError("deferrable.load_id", "belongs to another job")
        delivered = min(self.config.energy_kwh, max(0.0, stored.delivered_kwh))
        self._state = DeferrableLoadState(
            load_id=self.load_id, delivered_kwh=delivered, started=stored.started
        )
        self._pushed_kw = None

    def advance(self, now: datetime) -> DeferrableLoadState:
        """Count the energy received since the last call at the setpoint in force."""
        state = self._state
        hours = _hours_between(state.measured_at, now)
        delivered = min(self.config.energy_kwh, state.delivered_kwh + state.power_kw * hours)
        power = state.power_kw
        if delivered >= self.config.energy_kwh - 1e-6:
            power = 0.0  # the appliance finishes its programme by itself
        self._state = dataclasses.replace(
            state, delivered_kwh=delivered, power_kw=power, measured_at=now
        )
        return self._state

    def validated_setpoint(self, power_kw: float) -> DeferrableLoadState:
        within("deferrable.power_kw", power_kw, 0.0, self.config.power_kw, " kW")
        state = self._state
        if self.done:
            power_kw = 0.0
        if state.started and not self.config.interruptible and not self.done and power_kw <= 0:
            raise PhysicalLimitError(
                "deferrable.power_kw",
                f"{self.load_id} cannot be interrupted once started",
            )
        started = state.started or power_kw > 0
        return dataclasses.replace(state, power_kw=float(power_kw), started=started)

    def control(self, power_kw: float) -> DeferrableLoadState:
        self._state = self.validated_setpoint(power_kw)
        return self._state

    async def push_setpoint(self) -> bool:
        """Switch the appliance if the setpoint changed; True if something was sent."""
        if self._switch is None:
            return False
        power = self._state.power_kw
        if self._pushed_kw is not None and abs(self._pushed_kw - power) < 1e-6:
            return False
        self._pushed_kw = None
        await self._switch.set_load_power(self.load_id, power)
        self._pushed_kw = power
        return True
