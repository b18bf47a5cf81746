"""Where the gap to perfect foresight comes from: one dataset, week and tariff, day by day.

    .venv/bin/python -m benchmarks.energy.diagnose greensboro winter flat [--oracle]

Runs `optimize` (and with `--oracle` the same planner on the true PV/load ahead) and the
perfect-foresight optimum, then prints the cost split into its components (import cost,
export revenue, shortfall, the value credited for the battery's and the cars' energy
gained, battery throughput) and, per local day, what each imported, exported, put into
each car and left in the battery. A diagnostic; nothing here is written to RESULTS.md.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from benchmarks.energy.scenario import datasets, step_time, tariffs
from benchmarks.energy.simulate import (
    END_VALUE,
    Metrics,
    forecaster_for,
    oracle_forecast,
    run_perfect_foresight,
    run_policy,
)
from ev_charging_system.energy.models import STEP_HOURS
from ev_charging_system.energy.policies import OptimizePolicy


def _components(name: str, m: Metrics) -> str:
    return (
        f"{name:10s} cost {m.cost:7.2f} = import {m.import_cost:6.2f} - export "
        f"{m.export_revenue:5.2f} + short {m.ev_short_kwh + m.job_short_kwh:4.2f} - battery "
        f"{m.battery_end_value:5.2f} - cars {m.ev_end_value:5.2f}; import {m.import_kwh:5.1f} "
        f"kWh, export {m.export_kwh:5.1f} kWh, battery throughput "
        f"{m.battery_throughput_kwh:5.1f} kWh, above target at departures "
        f"{m.ev_beyond_target_kwh:5.1f} kWh"
    )


def _days(m: Metrics, week_start: object, tz: object, ids: list[str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(lambda: [0.0] * (5 + 2 * len(ids)))
    for k, row in enumerate(m.trace):
        day = step_time(week_start, k).astimezone(tz).strftime("%a")  # type: ignore[arg-type]
        d = out[day]
        d[0] += row["import_kw"] * row["price"] * STEP_HOURS
        d[1] += row["import_kw"] * STEP_HOURS
        d[2] += row["export_kw"] * STEP_HOURS
        d[3] = row["battery_soc"]
        d[4] += row["pv_kw"] * STEP_HOURS
        for v, vid in enumerate(ids):
            d[5 + 2 * v] += row[f"{vid}_kw"] * STEP_HOURS
            d[6 + 2 * v] = row[f"{vid}_soc"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("tariff", choices=list(tariffs()))
    parser.add_argument("seasons", nargs="+")
    parser.add_argument("--oracle", action="store_true")
    parser.add_argument("--days", action="store_true", help="print the day-by-day table")
    parser.add_argument("--legacy-end-value", action="store_true")
    args = parser.parse_args()
    END_VALUE["rule"] = "mean-import" if args.legacy_end_value else "replacement"
    dataset = datasets()[args.dataset]
    tariff = tariffs()[args.tariff]
    ids = [v.vehicle_id for v in dataset.config.vehicles]
    totals: dict[str, Metrics] = defaultdict(Metrics)
    for season in args.seasons:
        week = dataset.load_week(season)
        runs: dict[str, Metrics] = {}
        forecast, _ = forecaster_for(dataset)
        runs["optimize"] = run_policy(OptimizePolicy(), week, tariff, dataset, forecast)
        if args.oracle:
            runs["oracle"] = run_policy(OptimizePolicy(), week, tariff, dataset, oracle_forecast)
        runs["perfect"], status, gap = run_perfect_foresight(week, tariff, dataset, 60.0)
        print(f"perfect foresight: {status}, gap {gap}")
        # Hindsight pinned to optimize's end state: the difference to the free optimum is
        # what the end state is worth; optimize minus this one is operation.
        last = runs["optimize"].trace[-1]
        end = {"battery": last["battery_soc"], **{vid: last[f"{vid}_soc"] for vid in ids}}
        runs["perf@end"], status, gap = run_perfect_foresight(week, tariff, dataset, 60.0, end)
        print(f"perfect foresight at optimize's end state: {status}, gap {gap}")
        print(f"== {args.dataset} {season} {args.tariff}")
        for name, m in runs.items():
            print(_components(name, m))
            totals[name].add(m)
        if args.days:
            _print_days(runs, week, dataset.config.tz, ids)
    if len(args.seasons) > 1:
        print(f"== {args.dataset} {args.tariff} total")
        for name, m in totals.items():
            print(_components(name, m))
    perfect = totals["perfect"]
    for name, m in totals.items():
        share = (m.cost - perfect.cost) / perfect.import_cost * 100
        print(f"{name:10s} gap {m.cost - perfect.cost:+6.2f} = {share:+5.1f} % of perfect's import")


def _print_days(runs: dict[str, Metrics], week: object, tz: object, ids: list[str]) -> None:
    days = {name: _days(m, week, tz, ids) for name, m in runs.items()}
    header = "day  policy      imp EUR  imp kWh  exp kWh  batt@end  PV kWh" + "".join(
        f"  {vid} kWh  {vid}@end" for vid in ids
    )
    print(header)
    for day in days["perfect"]:
        for name in runs:
            d = days[name][day]
            cars = "".join(f"  {d[5 + 2 * v]:7.1f}  {d[6 + 2 * v]:7.1f}" for v in range(len(ids)))
            print(
                f"{day}  {name:10s} {d[0]:7.2f}  {d[1]:7.1f}  {d[2]:7.1f}  {d[3]:8.1f}  "
                f"{d[4]:6.1f}{cars}"
            )
    trips = {
        vid: [(t.depart, t.back, round(t.energy_kwh, 1)) for t in week.trips[vid]]  # type: ignore[attr-defined]
        for vid in ids
    }
    print("trips (depart step, back step, kWh):", trips)


if __name__ == "__main__":
    main()
