"""Derive the benchmark's 15-minute PV and household-load CSVs from published data.

Run from the repository root with pvlib and demandlib installed (NOT needed by the
project itself; use a throwaway virtualenv):

    python -m venv /tmp/datavenv && /tmp/datavenv/bin/pip install pvlib demandlib
    /tmp/datavenv/bin/python benchmarks/energy/derive_data.py

Sources (both shipped inside the PyPI packages, no download at run time):
- PV: the TMY3 file ``723170TYA.CSV`` (Greensboro Piedmont Triad Intl., NC, USA) from
  NREL's NSRDB, shipped in ``pvlib/data``. Hourly GHI/DNI/DHI, air temperature, wind.
- Load: the BDEW H25 household standard load profile (2025 revision, 15-min values),
  shipped in ``demandlib/bdew/bdew_data/h25.csv`` and evaluated with ``demandlib.bdew.H25``.

See README.md beside this file for the derivation and licences.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

YEAR = 2025  # calendar used to place the typical-year data (weekdays, BDEW months)
# Each window is 14 days starting on a Monday: 7 days of forecast history + 7 replayed.
WINDOWS = {
    "winter": "2025-01-13",
    "spring": "2025-04-07",
    "summer": "2025-07-07",
    "autumn": "2025-10-06",
}
DAYS = 14
OUT_DIR = Path(__file__).resolve().parent / "data"


def _pv_per_kwp(pvlib: Any, pd: Any) -> Any:
    """15-minute AC power of a 1 kWp south-facing 30 degree array, in kW (local std time)."""
    path = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"
    hourly, meta = pvlib.iotools.read_tmy3(str(path), coerce_year=YEAR, map_variables=True)
    location = pvlib.location.Location(
        meta["latitude"], meta["longitude"], tz="Etc/GMT+5", altitude=meta["altitude"]
    )
    # Etc/GMT+5 is UTC-5 without daylight saving: the TMY3 file is in local standard time.
    # TMY3 values are averages over the hour ENDING at the stamp. Build the four
    # 15-minute intervals of each hour, labelled by their start, with a clear-sky model
    # evaluated at the interval midpoints.
    start = hourly.index[0] - pd.Timedelta(hours=1)
    index = pd.date_range(start, periods=len(hourly) * 4, freq="15min")
    mid = index + pd.Timedelta(minutes=7.5)
    clear = location.get_clearsky(mid, model="ineichen")
    clear.index = index
    hour_of = index.floor("h") + pd.Timedelta(hours=1)  # hour-ending label of each quarter

    def upsample(column: str) -> Any:
        # Keep each hour's measured energy and give it the clear-sky shape inside the hour:
        # value_15 = hourly_value * clear_15 / mean(clear over the hour).
        clear_mean = clear[column].groupby(hour_of).transform("mean")
        measured = hourly[column].reindex(hour_of).to_numpy()
        shape = (clear[column] / clear_mean.where(clear_mean > 1.0)).fillna(0.0).to_numpy()
        # Hours with measured light but (almost) no clear-sky light (sunrise/sunset) keep
        # a flat profile instead of being dropped.
        flat = (clear_mean <= 1.0).to_numpy()
        values = measured * shape
        values[flat] = measured[flat]
        return pd.Series(values, index=index).clip(lower=0.0)

    ghi, dni, dhi = upsample("ghi"), upsample("dni"), upsample("dhi")
    temp_air = pd.Series(hourly["temp_air"].reindex(hour_of).to_numpy(), index=index)
    wind = pd.Series(hourly["wind_speed"].reindex(hour_of).to_numpy(), index=index)
    solpos = location.get_solarposition(mid)
    solpos.index = index
    dni_extra = pvlib.irradiance.get_extra_radiation(index)
    poa = pvlib.irradiance.get_total_irradiance(
        surface_tilt=30,
        surface_azimuth=180,
        solar_zenith=solpos["apparent_zenith"],
        solar_azimuth=solpos["azimuth"],
        dni=dni,
        ghi=ghi,
        dhi=dhi,
        dni_extra=dni_extra,
        model="haydavies",
    )
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_glass"]
    cell_temp = pvlib.temperature.sapm_cell(poa["poa_global"], temp_air, wind, **params)
    pdc0_w = 1000.0  # 1 kWp
    dc = pvlib.pvsystem.pvwatts_dc(poa["poa_global"], cell_temp, pdc0_w, -0.0037)
    losses = pvlib.pvsystem.pvwatts_losses() / 100.0  # PVWatts default: 14.08 %
    ac = pvlib.inverter.pvwatts(dc * (1.0 - losses), pdc0_w / 0.96, eta_inv_nom=0.96)
    return (ac.clip(lower=0.0) / 1000.0).fillna(0.0)


def _household_per_mwh(demandlib_bdew: Any, pd: Any) -> Any:
    """15-minute household power in kW for an annual consumption of 1 MWh."""
    index = pd.date_range(f"{YEAR}-01-01", f"{YEAR + 1}-01-01", freq="15min", inclusive="left")
    profile = demandlib_bdew.H25(index)  # kW for 1 GWh/a
    return profile / 1_000_000.0 * 1000.0


def main() -> None:
    pd = importlib.import_module("pandas")
    pvlib = importlib.import_module("pvlib")
    bdew = importlib.import_module("demandlib.bdew")
    pv = _pv_per_kwp(pvlib, pd)
    pv.index = pv.index.tz_localize(None)  # local standard time of the TMY3 site
    load = _household_per_mwh(bdew, pd)
    OUT_DIR.mkdir(exist_ok=True)
    for season, first_day in WINDOWS.items():
        start = pd.Timestamp(first_day)
        index = pd.date_range(start, periods=DAYS * 96, freq="15min")
        frame = pd.DataFrame(
            {
                "pv_kw_per_kwp": pv.reindex(index).fillna(0.0).round(4),
                "household_kw_per_mwh_a": load.reindex(index).round(5),
            },
            index=index,
        )
        frame.index.name = "start_local"
        frame.to_csv(OUT_DIR / f"{season}.csv", date_format="%Y-%m-%dT%H:%M")
        print(
            f"{season}: {len(frame)} rows, PV {frame.pv_kw_per_kwp.sum() / 4:.1f} kWh/kWp, "
            f"load {frame.household_kw_per_mwh_a.sum() / 4:.2f} kWh per MWh/a"
        )


if __name__ == "__main__":
    main()
