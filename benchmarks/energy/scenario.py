"""The two benchmark datasets: sites, tariffs, weather/load weeks, EV trips, appliance jobs.

Everything here is documented in README.md beside this file.

- `greensboro`: the original dataset. PV from NREL's TMY3 for Greensboro, NC (humid
  subtropical, 36 N), household = BDEW H25 standard load profile (an average of many
  German homes, smooth), a family with a commuter car and a second car.
- `amsterdam`: PV from the IWEC typical year of Amsterdam (maritime, 52 N, dull winters),
  household = one stochastic 2-person home (CREST model via richardsonpy: spiky, one
  kettle at a time), a shift worker's car and a weekend car; daylight-saving changes
  inside the spring and autumn weeks. The planner was not tuned on it.

Trip and job times are local clock times; step indices count 15-minute steps from the
first replayed step (UTC), so a daylight-saving change shifts them by four steps.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from ev_charging_system.energy.models import (
    STEP,
    STEPS_PER_DAY,
    BatteryConfig,
    CircuitConfig,
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


@dataclass(frozen=True, slots=True)
class Trip:
    depart: int  # step index in the replayed week (the car leaves at the start of it)
    back: int  # first step at home again
    energy_kwh: float


@dataclass(frozen=True, slots=True)
class Job:
    """A deferrable appliance run: known from `earliest` (when the user sets it up)."""

    load_id: str
    earliest: int  # step index
    deadline: int  # step index by which it must be done (exclusive)
    power_kw: float
    energy_kwh: float
    interruptible: bool


@dataclass(frozen=True, slots=True)
class Week:
    dataset: str
    season: str
    start: datetime  # first replayed step, UTC
    pv_kw: FloatArray  # HISTORY_DAYS days of history, then the replayed week
    critical_kw: FloatArray
    flexible_kw: FloatArray
    trips: dict[str, tuple[Trip, ...]]  # per vehicle, in the week and the first after it
    jobs: tuple[Job, ...]
    history_steps: int = HISTORY_DAYS * STEPS_PER_DAY

    def plugged(self, vehicle_id: str) -> NDArray[np.bool_]:
        mask = np.ones(WEEK_STEPS, dtype=bool)
        for trip in self.trips[vehicle_id]:
            mask[max(trip.depart, 0) : min(trip.back, WEEK_STEPS)] = False
        return mask

    def next_departure(self, vehicle_id: str, step: int) -> int:
        return next(t.depart for t in self.trips[vehicle_id] if t.depart >= step)


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    config: SiteConfig
    initial_battery_kwh: float
    initial_ev_kwh: dict[str, float]
    load_week: Callable[[str], Week]


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


def datasets() -> dict[str, Dataset]:
    return {"greensboro": _greensboro(), "amsterdam": _amsterdam()}


# ------------------------------------------------------------------------------- helpers


class _Clock:
    """Local clock times of one replayed week -> step indices from its first step."""

    def __init__(self, start: datetime, tz: ZoneInfo) -> None:
        self.start = start
        self.tz = tz
        self.monday = start.astimezone(tz).date()

    def step(
        self, day: int, at: time, jitter_min: int = 0, rng: random.Random | None = None
    ) -> int:
        minutes = at.hour * 60 + at.minute + (rng.randint(-jitter_min, jitter_min) if rng else 0)
        # Wall-clock arithmetic (07:15 stays 07:15 across a DST change), then to UTC.
        local_wall = datetime.combine(self.monday + timedelta(days=day), time(0)) + timedelta(
            minutes=minutes
        )
        moment = local_wall.replace(tzinfo=self.tz).astimezone(UTC)
        return round((moment - self.start) / STEP)


def _read(
    path: Path, column_time: str, tz: ZoneInfo | None
) -> tuple[datetime, list[dict[str, str]]]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = datetime.fromisoformat(rows[0][column_time])
    first = (
        first.replace(tzinfo=tz).astimezone(UTC) if tz is not None else first.replace(tzinfo=UTC)
    )
    return first, rows


def _daily_jobs(clock: _Clock, make: Callable[[int], list[Job]]) -> tuple[Job, ...]:
    jobs: list[Job] = []
    for day in range(7):
        jobs += make(day)
    return tuple(jobs)


# ---------------------------------------------------------------------------- greensboro

_GREENSBORO_TZ = ZoneInfo("Etc/GMT+5")  # the TMY3 file's local standard time, UTC-5
_KWH_PER_KM = {"winter": 0.22, "spring": 0.18, "summer": 0.17, "autumn": 0.19}


def _greensboro() -> Dataset:
    config = SiteConfig(
        solar=SolarConfig(
            peak_kw=10.0,
            latitude=36.1,
            longitude=-79.95,
            tilt_deg=30.0,
            azimuth_deg=180.0,
            altitude_m=273.0,
        ),
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
                phases=3,
                target_soc=0.8,
                circuit_id="garage",
            ),
            VehicleConfig(
                vehicle_id="ev2",
                battery_capacity_kwh=40.0,
                max_charge_kw=7.4,
                phases=1,
                target_soc=0.7,
                circuit_id="garage",
            ),
        ),
        circuits=(CircuitConfig("garage", 16.0),),
        timezone="Etc/GMT+5",
    )

    def load_week(season: str) -> Week:
        first, rows = _read(DATA_DIR / f"{season}.csv", "start_local", _GREENSBORO_TZ)
        pv = np.array([float(r["pv_kw_per_kwp"]) for r in rows]) * 10.0
        household = np.array([float(r["household_kw_per_mwh_a"]) for r in rows]) * 4.5
        start = first + timedelta(days=HISTORY_DAYS)
        clock = _Clock(start, _GREENSBORO_TZ)
        return Week(
            dataset="greensboro",
            season=season,
            start=start,
            pv_kw=pv,
            critical_kw=household * 0.75,
            flexible_kw=household * 0.25,
            trips={"ev1": _commuter(clock, season), "ev2": _second_car(clock, season)},
            jobs=_daily_jobs(clock, lambda day: _greensboro_jobs(clock, day)),
        )

    return Dataset("greensboro", config, 5.0, {"ev1": 36.0, "ev2": 20.0}, load_week)


def _commuter(clock: _Clock, season: str) -> tuple[Trip, ...]:
    """The original commuter week (Mon = day 0), jittered reproducibly per season."""
    rng = random.Random(f"ev-pattern-{season}")
    per_km = _KWH_PER_KM[season]
    trips = []
    for day in (0, 1, 3, 4):
        depart = clock.step(day, time(7, 15), 30, rng)
        back = clock.step(day, time(17, 45), 60, rng)
        trips.append(Trip(depart, back, rng.uniform(30, 60) * per_km))
    depart = clock.step(5, time(10, 0), 60, rng)
    trips.append(Trip(depart, depart + rng.randint(12, 20), rng.uniform(20, 50) * per_km))
    depart = clock.step(6, time(13, 0), 60, rng)
    trips.append(Trip(depart, depart + rng.randint(16, 24), rng.uniform(60, 120) * per_km))
    depart = clock.step(7, time(7, 15), 30, rng)
    trips.append(Trip(depart, depart + 40, rng.uniform(30, 60) * per_km))
    return tuple(sorted(trips, key=lambda t: t.depart))


def _second_car(clock: _Clock, season: str) -> tuple[Trip, ...]:
    """Part-time job Tue/Thu mornings, Saturday shopping."""
    rng = random.Random(f"ev2-pattern-{season}")
    per_km = _KWH_PER_KM[season] * 0.9
    trips = []
    for day in (1, 3):
        depart = clock.step(day, time(8, 30), 30, rng)
        back = clock.step(day, time(13, 0), 60, rng)
        trips.append(Trip(depart, back, rng.uniform(20, 45) * per_km))
    depart = clock.step(5, time(9, 0), 60, rng)
    trips.append(Trip(depart, depart + rng.randint(8, 14), rng.uniform(10, 30) * per_km))
    depart = clock.step(8, time(8, 30), 30, rng)
    trips.append(Trip(depart, depart + 20, 5.0))
    return tuple(sorted(trips, key=lambda t: t.depart))


def _greensboro_jobs(clock: _Clock, day: int) -> list[Job]:
    dishwasher = Job(
        f"dishwasher-d{day}",
        clock.step(day, time(20, 0)),
        clock.step(day + 1, time(7, 0)),
        power_kw=1.0,
        energy_kwh=1.5,
        interruptible=False,
    )
    water = Job(
        f"water-heater-d{day}",
        clock.step(day, time(0, 0)),
        clock.step(day, time(18, 0)),
        power_kw=2.0,
        energy_kwh=3.0,
        interruptible=True,
    )
    return [dishwasher, water]


# ----------------------------------------------------------------------------- amsterdam

_AMSTERDAM_TZ = ZoneInfo("Europe/Amsterdam")
_HEAT_PUMP_KWH = {"winter": 6.0, "spring": 3.0, "summer": 1.0, "autumn": 4.0}
_AMS_KWH_PER_KM = {"winter": 0.21, "spring": 0.17, "summer": 0.16, "autumn": 0.18}


def _amsterdam() -> Dataset:
    config = SiteConfig(
        solar=SolarConfig(
            peak_kw=6.0,
            latitude=52.30,
            longitude=4.77,
            tilt_deg=35.0,
            azimuth_deg=225.0,
            altitude_m=0.0,
        ),
        battery=BatteryConfig(
            capacity_kwh=8.0,
            max_charge_kw=4.0,
            max_discharge_kw=4.0,
            round_trip_efficiency=0.88,
            min_soc=0.1,
            max_soc=1.0,
        ),
        grid=GridConfig(import_limit_kw=17.0, export_limit_kw=5.0),
        vehicles=(
            VehicleConfig(
                vehicle_id="ev1",
                battery_capacity_kwh=64.0,
                max_charge_kw=11.0,
                phases=3,
                target_soc=0.8,
                circuit_id="driveway",
            ),
            VehicleConfig(
                vehicle_id="ev2",
                battery_capacity_kwh=50.0,
                max_charge_kw=7.4,
                phases=1,
                target_soc=0.6,
                circuit_id="driveway",
            ),
        ),
        circuits=(CircuitConfig("driveway", 13.8),),  # 3 x 20 A
        timezone="Europe/Amsterdam",
    )

    def load_week(season: str) -> Week:
        first, rows = _read(DATA_DIR / "amsterdam" / f"{season}.csv", "start_utc", None)
        pv = np.array([float(r["pv_kw_per_kwp"]) for r in rows]) * 6.0
        household = np.array([float(r["household_kw"]) for r in rows])
        start = first + timedelta(days=HISTORY_DAYS)
        clock = _Clock(start, _AMSTERDAM_TZ)
        return Week(
            dataset="amsterdam",
            season=season,
            start=start,
            pv_kw=pv,
            critical_kw=household * 0.8,
            flexible_kw=household * 0.2,
            trips={"ev1": _shift_worker(clock, season), "ev2": _weekend_car(clock, season)},
            jobs=_daily_jobs(clock, lambda day: _amsterdam_jobs(clock, day, season)),
        )

    return Dataset("amsterdam", config, 4.0, {"ev1": 30.0, "ev2": 35.0}, load_week)


def _shift_worker(clock: _Clock, season: str) -> tuple[Trip, ...]:
    """Early shift Mon-Fri (leave ~05:45, back ~15:00), a Saturday visit."""
    rng = random.Random(f"ams-ev1-{season}")
    per_km = _AMS_KWH_PER_KM[season]
    trips = []
    for day in range(5):
        depart = clock.step(day, time(5, 45), 20, rng)
        back = clock.step(day, time(15, 0), 45, rng)
        trips.append(Trip(depart, back, rng.uniform(25, 45) * per_km))
    depart = clock.step(5, time(14, 0), 60, rng)
    trips.append(Trip(depart, depart + rng.randint(12, 24), rng.uniform(30, 70) * per_km))
    depart = clock.step(7, time(5, 45), 20, rng)
    trips.append(Trip(depart, depart + 36, 8.0))
    return tuple(sorted(trips, key=lambda t: t.depart))


def _weekend_car(clock: _Clock, season: str) -> tuple[Trip, ...]:
    """A long Wednesday trip, Saturday errands, a Sunday outing."""
    rng = random.Random(f"ams-ev2-{season}")
    per_km = _AMS_KWH_PER_KM[season] * 1.1
    trips = []
    depart = clock.step(2, time(9, 0), 45, rng)
    trips.append(Trip(depart, clock.step(2, time(18, 0), 60, rng), rng.uniform(60, 100) * per_km))
    depart = clock.step(5, time(11, 0), 60, rng)
    trips.append(Trip(depart, depart + rng.randint(12, 20), rng.uniform(15, 30) * per_km))
    depart = clock.step(6, time(10, 0), 60, rng)
    trips.append(Trip(depart, clock.step(6, time(20, 0), 60, rng), rng.uniform(80, 150) * per_km))
    depart = clock.step(9, time(9, 0), 45, rng)
    trips.append(Trip(depart, depart + 36, 10.0))
    return tuple(sorted(trips, key=lambda t: t.depart))


def _amsterdam_jobs(clock: _Clock, day: int, season: str) -> list[Job]:
    jobs = [
        Job(
            f"heat-pump-buffer-d{day}",
            clock.step(day, time(0, 0)),
            clock.step(day, time(22, 0)),
            power_kw=1.5,
            energy_kwh=_HEAT_PUMP_KWH[season],
            interruptible=True,
        )
    ]
    if day in (0, 2, 4, 5):
        jobs.append(
            Job(
                f"washing-machine-d{day}",
                clock.step(day, time(8, 0)),
                clock.step(day, time(18, 0)),
                power_kw=0.5,
                energy_kwh=1.0,
                interruptible=False,
            )
        )
    return jobs


def step_time(week: Week, step: int) -> datetime:
    return week.start + step * STEP
