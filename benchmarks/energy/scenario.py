"""The benchmark site, its tariffs, the shipped weather/load weeks and the EV pattern.

Everything here is documented in README.md beside this file; numbers are chosen to look
like a typical single-family home with PV, a home battery and one EV.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ev_charging_system.energy.models import (
    STEP,
    STEPS_PER_DAY,
    BatteryConfig,
    FlatTariff,
    GridConfig,
    SiteConfig,
    SolarConfig,
    Tariff,
    TimeOfUseTariff,
    TimeOfUseWindow,
    VehicleConfig,
)

FloatArray = NDArray[np.float64]
DATA_DIR = Path(__file__).resolve().parent / "data"
SEASONS = ("winter", "spring", "summer", "autumn")
HISTORY_DAYS = 7
WEEK_STEPS = 7 * STEPS_PER_DAY

PV_PEAK_KW = 10.0
ANNUAL_LOAD_MWH = 4.5  # a four-person household
FLEXIBLE_SHARE = 0.25  # part of the household load that could be switched off

# Energy per km by season (winter: heating and cold battery).
KWH_PER_KM = {"winter": 0.22, "spring": 0.18, "summer": 0.17, "autumn": 0.19}
INITIAL_EV_SOC_KWH = 36.0
INITIAL_BATTERY_SOC_KWH = 5.0


def site_config() -> SiteConfig:
    return SiteConfig(
        solar=SolarConfig(peak_kw=PV_PEAK_KW),
        battery=BatteryConfig(
            capacity_kwh=10.0,
            max_charge_kw=5.0,
            max_discharge_kw=5.0,
            round_trip_efficiency=0.9,
            min_soc=0.1,
            max_soc=1.0,
        ),
        grid=GridConfig(import_limit_kw=17.0, export_limit_kw=7.0),
        vehicles=(
            VehicleConfig(
                vehicle_id="ev1",
                battery_capacity_kwh=60.0,
                max_charge_kw=11.0,
                min_current_a=6.0,
                phases=3,
                voltage_v=230.0,
                charge_efficiency=0.9,
                target_soc=0.8,
                max_soc=1.0,
            ),
        ),
        timezone="UTC",  # the data are on local clock time; UTC just means "no DST"
    )


def tariffs() -> dict[str, Tariff]:
    return {
        "flat": FlatTariff(import_price=0.32, feed_in_price=0.08),
        "time-of-use": TimeOfUseTariff(
            default_import_price=0.32,
            windows=(
                TimeOfUseWindow(time(22, 0), time(6, 0), 0.22),
                TimeOfUseWindow(time(17, 0), time(21, 0), 0.42),
            ),
            feed_in_price=0.08,
        ),
    }


@dataclass(frozen=True, slots=True)
class Trip:
    depart: int  # step index in the replayed week (car leaves at the start of this step)
    back: int  # first step at home again
    energy_kwh: float


@dataclass(frozen=True, slots=True)
class Week:
    season: str
    start: datetime  # first replayed step
    pv_kw: FloatArray  # HISTORY_DAYS days of history, then the replayed week
    critical_kw: FloatArray
    flexible_kw: FloatArray
    trips: tuple[Trip, ...]  # in the replayed week (and the first one after it)
    history_steps: int = HISTORY_DAYS * STEPS_PER_DAY

    def plugged(self) -> NDArray[np.bool_]:
        mask = np.ones(WEEK_STEPS, dtype=bool)
        for trip in self.trips:
            mask[max(trip.depart, 0) : min(trip.back, WEEK_STEPS)] = False
        return mask

    def next_departure(self, step: int) -> int:
        return next(t.depart for t in self.trips if t.depart >= step)


def load_week(season: str) -> Week:
    with (DATA_DIR / f"{season}.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    pv = np.array([float(r["pv_kw_per_kwp"]) for r in rows]) * PV_PEAK_KW
    household = np.array([float(r["household_kw_per_mwh_a"]) for r in rows]) * ANNUAL_LOAD_MWH
    first = datetime.fromisoformat(rows[0]["start_local"]).replace(tzinfo=UTC)
    start = first + timedelta(days=HISTORY_DAYS)
    return Week(
        season=season,
        start=start,
        pv_kw=pv,
        critical_kw=household * (1.0 - FLEXIBLE_SHARE),
        flexible_kw=household * FLEXIBLE_SHARE,
        trips=ev_trips(season),
    )


def ev_trips(season: str) -> tuple[Trip, ...]:
    """A commuter's week (Mon = day 0), jittered reproducibly per season.

    Mon/Tue/Thu/Fri: leave 07:15 +-30 min, back 17:45 +-60 min, 30-60 km.
    Wed: home office (car stays plugged in from Tuesday evening to Thursday morning).
    Sat: errands, leave 10:00 +-60 min for 3-5 h, 20-50 km.
    Sun: excursion, leave 13:00 +-60 min for 4-6 h, 60-120 km.
    The week after starts with Monday's commute again (its departure is the deadline for
    the last replayed session).
    """
    rng = random.Random(f"ev-pattern-{season}")
    per_km = KWH_PER_KM[season]

    def step_of(day: int, at: time, jitter_min: int) -> int:
        minutes = at.hour * 60 + at.minute + rng.randint(-jitter_min, jitter_min)
        return day * STEPS_PER_DAY + round(minutes / 15)

    trips = []
    for day in (0, 1, 3, 4):
        depart = step_of(day, time(7, 15), 30)
        back = step_of(day, time(17, 45), 60)
        trips.append(Trip(depart, back, rng.uniform(30, 60) * per_km))
    depart = step_of(5, time(10, 0), 60)
    trips.append(Trip(depart, depart + rng.randint(12, 20), rng.uniform(20, 50) * per_km))
    depart = step_of(6, time(13, 0), 60)
    trips.append(Trip(depart, depart + rng.randint(16, 24), rng.uniform(60, 120) * per_km))
    depart = step_of(7, time(7, 15), 30)
    trips.append(Trip(depart, depart + 40, rng.uniform(30, 60) * per_km))
    return tuple(sorted(trips, key=lambda t: t.depart))


def step_time(week: Week, step: int) -> datetime:
    return week.start + step * STEP
