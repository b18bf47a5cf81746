"""What a plugged-in vehicle needs: its departure time and target energy for this session.

A session may carry its own departure and target (set by the driver through REST);
otherwise the vehicle's configured daily departure time and target SoC apply.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from ev_charging_system.energy.models import VehicleConfig, VehicleState


def departure_for(
    state: VehicleState, config: VehicleConfig, now: datetime, tz: tzinfo
) -> datetime:
    """This session's departure, or the next configured daily departure after `now`."""
    if state.departure is not None:
        return state.departure
    local_now = now.astimezone(tz)
    candidate = local_now.replace(
        hour=config.departure_time.hour,
        minute=config.departure_time.minute,
        second=0,
        microsecond=0,
    )
    if candidate <= local_now:
        candidate += timedelta(days=1)
    return candidate


def target_for(state: VehicleState, config: VehicleConfig) -> float:
    """Energy (kWh in the battery) the driver wants at departure."""
    if state.target_soc_kwh is not None:
        return min(state.target_soc_kwh, config.max_energy_kwh)
    return config.target_energy_kwh


def missing_energy_kwh(state: VehicleState, config: VehicleConfig) -> float:
    return max(0.0, target_for(state, config) - state.state_of_charge_kwh)
