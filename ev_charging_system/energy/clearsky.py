"""What the configured PV array would produce under a clear sky, per 15-minute slot.

pvlib computes the sun's position (NREL SPA), clear-sky irradiance (Ineichen with the
Linke turbidity climatology pvlib ships) and its transposition onto the array's plane
(Hay-Davies); the array then delivers `peak_kw` x POA / 1000 W/m2 x `SYSTEM_FACTOR`,
capped at `peak_kw`. Temperature, soiling and inverter details are left out on purpose:
the forecast multiplies this by a clear-sky index learned from the array's own
measurements, which absorbs whatever constant factor the real array differs by.

Values are averages over each slot, evaluated at the slot's midpoint, and cached per UTC
day (a forecast asks for the same slots every minute).
"""

from __future__ import annotations

import importlib
import warnings
from collections import OrderedDict
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ev_charging_system.energy.models import STEP, STEPS_PER_DAY, SolarConfig

FloatArray = NDArray[np.float64]

# PVWatts' default system losses (14 %) on top of the plane-of-array irradiance.
SYSTEM_FACTOR = 0.86
_CACHED_DAYS = 64


def _pvlib() -> tuple[Any, Any]:
    # pvlib and pandas ship no type information; they are used through this one door.
    return importlib.import_module("pvlib"), importlib.import_module("pandas")


class ClearSkyArray:
    """Clear-sky AC power of one array; `power_kw(first_slot, n)` per 15-minute slot."""

    def __init__(self, solar: SolarConfig) -> None:
        if not solar.located:
            raise ValueError("a clear-sky model needs the array's latitude and longitude")
        self.solar = solar
        self._days: OrderedDict[int, FloatArray] = OrderedDict()

    def power_kw(self, first_slot: int, n: int) -> FloatArray:
        """Clear-sky power for slots first_slot .. first_slot+n-1 (slots since the epoch)."""
        if n <= 0:
            return np.empty(0)
        first_day = first_slot // STEPS_PER_DAY
        last_day = (first_slot + n - 1) // STEPS_PER_DAY
        days = np.concatenate([self._day(d) for d in range(first_day, last_day + 1)])
        offset = first_slot - first_day * STEPS_PER_DAY
        return days[offset : offset + n]

    def _day(self, day: int) -> FloatArray:
        cached = self._days.get(day)
        if cached is not None:
            self._days.move_to_end(day)
            return cached
        values = self._compute(day)
        self._days[day] = values
        if len(self._days) > _CACHED_DAYS:
            self._days.popitem(last=False)
        return values

    def _compute(self, day: int) -> FloatArray:
        # pvlib 0.16 still calls pandas' DatetimeIndex.dayofyear, deprecated in pandas 3:
        # nothing an operator could act on.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*dayofyear is deprecated.*")
            return self._compute_day(day)

    def _compute_day(self, day: int) -> FloatArray:
        pvlib, pd = _pvlib()
        solar = self.solar
        step_s = int(STEP.total_seconds())
        start = pd.Timestamp(day * STEPS_PER_DAY * step_s, unit="s", tz="UTC")
        midpoints = pd.date_range(
            start + pd.Timedelta(seconds=step_s / 2), periods=STEPS_PER_DAY, freq=f"{step_s}s"
        )
        location = pvlib.location.Location(
            solar.latitude, solar.longitude, altitude=solar.altitude_m
        )
        position = location.get_solarposition(midpoints)
        sky = location.get_clearsky(midpoints, model="ineichen", solar_position=position)
        poa = pvlib.irradiance.get_total_irradiance(
            surface_tilt=solar.tilt_deg,
            surface_azimuth=solar.azimuth_deg,
            solar_zenith=position["apparent_zenith"],
            solar_azimuth=position["azimuth"],
            dni=sky["dni"],
            ghi=sky["ghi"],
            dhi=sky["dhi"],
            dni_extra=pvlib.irradiance.get_extra_radiation(midpoints),
            model="haydavies",
        )
        irradiance = np.nan_to_num(np.asarray(poa["poa_global"], dtype=np.float64), nan=0.0)
        power = solar.peak_kw * np.clip(irradiance, 0.0, None) / 1000.0 * SYSTEM_FACTOR
        return np.minimum(power, solar.peak_kw)
