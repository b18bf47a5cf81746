"""Derive the second benchmark dataset ("amsterdam"): a maritime climate, a 2-person home.

NOT needed by the project; run it once in a throwaway virtualenv (offline, nothing is
downloaded at run time; the pip/source packages carry the data):

    python -m venv /tmp/datavenv
    /tmp/datavenv/bin/pip install pvlib==0.16.1 richardsonpy==0.2.3 pandas
    /tmp/datavenv/bin/pip download --no-deps --no-binary :all: pvlib==0.16.1 -d /tmp/pvsrc
    tar xzf /tmp/pvsrc/pvlib-0.16.1.tar.gz -C /tmp/pvsrc
    /tmp/datavenv/bin/python benchmarks/energy/derive_amsterdam.py \
        /tmp/pvsrc/pvlib-0.16.1/tests/data/NLD_Amsterdam062400_IWEC.epw

Sources:
- Weather: ``NLD_Amsterdam062400_IWEC.epw`` (Amsterdam Schiphol, 52.30 N 4.77 E, IWEC
  typical year, ASHRAE; EnergyPlus weather format) from pvlib's source distribution
  (``tests/data``). Hourly GHI/DNI/DHI, air temperature, wind.
- Household: one 2-occupant home simulated with richardsonpy 0.2.3 (the CREST
  occupancy and appliance model of Richardson et al., Energy and Buildings 2008/2010),
  1-minute resolution, lighting driven by the same weather file's irradiance, seeded.

Timestamps of the CSVs are UTC (``start_utc``); the household follows Europe/Amsterdam
clock time including daylight saving (its activity profile is mapped to UTC slot by
slot), the sun follows UTC. See README.md beside this file.
"""

from __future__ import annotations

import importlib
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

YEAR = 2025
TZ = ZoneInfo("Europe/Amsterdam")
# 14 days each starting on a Monday: 7 days of history + the replayed week. Spring and
# autumn contain the daylight-saving changes (Sun 30 Mar and Sun 26 Oct 2025).
WINDOWS = {
    "winter": "2025-01-20",
    "spring": "2025-03-17",
    "summer": "2025-06-16",
    "autumn": "2025-10-13",
}
DAYS = 14
LATITUDE, LONGITUDE, ALTITUDE = 52.30, 4.77, -2.0
TILT, AZIMUTH = 35.0, 225.0  # a south-west roof
OCCUPANTS = 2
OUT_DIR = Path(__file__).resolve().parent / "data" / "amsterdam"


def _weather(pvlib: Any, pd: Any, path: str) -> Any:
    data, meta = pvlib.iotools.read_epw(path, coerce_year=YEAR)
    # EPW values are averages over the hour ENDING at the stamp, in local standard time.
    data.index = data.index.tz_convert("UTC")
    return data, meta


def _pv_per_kwp(pvlib: Any, pd: Any, hourly: Any) -> Any:
    """15-minute AC power of 1 kWp (south-west, 35 degrees), indexed by interval start UTC."""
    location = pvlib.location.Location(LATITUDE, LONGITUDE, tz="UTC", altitude=ALTITUDE)
    start = hourly.index[0] - pd.Timedelta(hours=1)
    index = pd.date_range(start, periods=len(hourly) * 4, freq="15min")
    mid = index + pd.Timedelta(minutes=7.5)
    clear = location.get_clearsky(mid, model="ineichen")
    clear.index = index
    hour_of = index.floor("h") + pd.Timedelta(hours=1)

    def upsample(column: str) -> Any:
        clear_mean = clear[column].groupby(hour_of).transform("mean")
        measured = hourly[column].reindex(hour_of).to_numpy()
        shape = (clear[column] / clear_mean.where(clear_mean > 1.0)).fillna(0.0).to_numpy()
        flat = (clear_mean <= 1.0).to_numpy()
        values = measured * shape
        values[flat] = measured[flat]
        return pd.Series(values, index=index).clip(lower=0.0)

    ghi, dni, dhi = upsample("ghi"), upsample("dni"), upsample("dhi")
    temp_air = pd.Series(hourly["temp_air"].reindex(hour_of).to_numpy(), index=index)
    wind = pd.Series(hourly["wind_speed"].reindex(hour_of).to_numpy(), index=index)
    solpos = location.get_solarposition(mid)
    solpos.index = index
    poa = pvlib.irradiance.get_total_irradiance(
        surface_tilt=TILT,
        surface_azimuth=AZIMUTH,
        solar_zenith=solpos["apparent_zenith"],
        solar_azimuth=solpos["azimuth"],
        dni=dni,
        ghi=ghi,
        dhi=dhi,
        dni_extra=pvlib.irradiance.get_extra_radiation(index),
        model="haydavies",
    )
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["close_mount_glass_glass"]
    cell = pvlib.temperature.sapm_cell(poa["poa_global"], temp_air, wind, **params)
    dc = pvlib.pvsystem.pvwatts_dc(poa["poa_global"], cell, 1000.0, -0.0037)
    losses = pvlib.pvsystem.pvwatts_losses() / 100.0
    ac = pvlib.inverter.pvwatts(dc * (1.0 - losses), 1000.0 / 0.96, eta_inv_nom=0.96)
    return (ac.clip(lower=0.0) / 1000.0).fillna(0.0), ghi, dhi


def _household_kw(pd: Any, ghi: Any, dhi: Any) -> Any:
    """1-minute CREST household power over the year (local clock time), in kW."""
    import numpy as np

    occupancy = importlib.import_module("richardsonpy.classes.occupancy")
    electric = importlib.import_module("richardsonpy.classes.electric_load")
    random.seed(20250101)
    np.random.seed(20250101)
    first_weekday = datetime(YEAR, 1, 1).isoweekday()  # 1 = Monday
    occ = occupancy.Occupancy(number_occupants=OCCUPANTS, initial_day=first_weekday)
    # Lighting needs irradiance per minute (kW/m2), on local clock time like the occupants:
    # take the UTC weather of the standard-time year (close enough for switching lights).
    local_minutes = pd.date_range(f"{YEAR}-01-01", periods=365 * 1440, freq="1min", tz="UTC")
    direct = ((ghi - dhi).clip(lower=0.0) / 1000.0).reindex(local_minutes, method="ffill")
    diffuse = (dhi / 1000.0).reindex(local_minutes, method="ffill")
    load = electric.ElectricLoad(
        occ_profile=occ.occupancy,
        total_nb_occ=OCCUPANTS,
        q_direct=direct.fillna(0.0).to_numpy(),
        q_diffuse=diffuse.fillna(0.0).to_numpy(),
        timestep=60,
        initial_day=first_weekday,
    )
    return np.asarray(load.loadcurve, dtype=float) / 1000.0  # W -> kW, minute by minute


def main() -> None:
    pd = importlib.import_module("pandas")
    pvlib = importlib.import_module("pvlib")
    import numpy as np

    hourly, _ = _weather(pvlib, pd, sys.argv[1])
    pv, ghi, dhi = _pv_per_kwp(pvlib, pd, hourly)
    minutes = _household_kw(pd, ghi, dhi)  # index: minute of the local (clock) year
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for season, first_day in WINDOWS.items():
        local_start = datetime.fromisoformat(first_day).replace(tzinfo=TZ)
        start = local_start.astimezone(UTC)
        rows = []
        for k in range(DAYS * 96):
            slot = start + timedelta(minutes=15 * k)
            local = slot.astimezone(TZ)
            minute = (local.timetuple().tm_yday - 1) * 1440 + local.hour * 60 + local.minute
            household = float(np.mean(minutes[minute : minute + 15]))
            stamp = pd.Timestamp(slot)
            pv_value = float(pv.get(stamp, 0.0))
            rows.append((slot.strftime("%Y-%m-%dT%H:%M"), round(pv_value, 4), round(household, 4)))
        out = OUT_DIR / f"{season}.csv"
        with out.open("w") as handle:
            handle.write("start_utc,pv_kw_per_kwp,household_kw\n")
            for row in rows:
                handle.write(f"{row[0]},{row[1]},{row[2]}\n")
        pv_kwh = sum(r[1] for r in rows) / 4
        load_kwh = sum(r[2] for r in rows) / 4
        print(f"{season}: {len(rows)} rows, PV {pv_kwh:.1f} kWh/kWp, household {load_kwh:.1f} kWh")


if __name__ == "__main__":
    main()
