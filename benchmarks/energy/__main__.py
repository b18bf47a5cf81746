"""Energy planning benchmark: `python -m benchmarks.energy` from the repository root.

Two datasets (see scenario.py and README.md) x two tariffs, each replayed step by step
(15 minutes) with forecasts only from the past, through `optimize`, a persistence MPC
(the same MILP with "tomorrow = today"), `pv_surplus`, and the perfect-foresight optimum.
The datasets run in parallel processes (one per core). Prints one table per dataset and
tariff plus the target checks, and writes them to benchmarks/energy/RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import numpy as np
import scipy

from benchmarks.energy.scenario import SEASONS, datasets, tariffs
from benchmarks.energy.simulate import (
    END_VALUE,
    Metrics,
    forecaster_for,
    oracle_forecast,
    persistence_forecast,
    run_perfect_foresight,
    run_policy,
)
from ev_charging_system.energy.policies import OptimizePolicy, PvSurplusPolicy, PvSurplusSettings

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
PERFECT = "perfect foresight"
PERSISTENCE = "MPC tomorrow=today"
ORACLE = "MPC real PV/load ahead"  # --diagnose only: not a controller, a measure
TARGETS = {"flat": 1.0, "time-of-use": 4.0}  # % above perfect foresight
P95_TARGET_MS = 100.0
PF_TIME_LIMIT_S = 60.0


def _highs_version() -> str:
    return importlib.metadata.version("highspy")


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run_dataset(
    name: str, seasons: list[str], diagnose: bool = False, end_value: str = "replacement"
) -> tuple[str, dict[str, dict[str, Metrics]], list[str]]:
    """All policies on one dataset; returns per tariff and policy the summed metrics."""
    END_VALUE["rule"] = end_value  # this process's (a pool worker's) accounting
    dataset = datasets()[name]
    weeks = [dataset.load_week(season) for season in seasons]
    surplus = PvSurplusSettings(enable_delay=timedelta(0), disable_delay=timedelta(0))
    results: dict[str, dict[str, Metrics]] = {}
    notes: list[str] = []
    started = time.perf_counter()
    for tariff_name, tariff in tariffs().items():
        per_policy: dict[str, Metrics] = {}
        policies = ["optimize", PERSISTENCE, "pv_surplus", PERFECT]
        if diagnose:
            policies.insert(2, ORACLE)
        for policy_name in policies:
            total = Metrics()
            for week in weeks:
                if policy_name == PERFECT:
                    metrics, status, gap = run_perfect_foresight(
                        week, tariff, dataset, PF_TIME_LIMIT_S
                    )
                    total.statuses[status] += 1
                    if gap is not None and gap > 1e-4:
                        notes.append(
                            f"{name}/{tariff_name}/{week.season}: perfect foresight "
                            f"{status}, {gap * 100:.2f} % from its bound"
                        )
                elif policy_name == "optimize":
                    forecast, tracker = forecaster_for(dataset)
                    metrics = run_policy(OptimizePolicy(), week, tariff, dataset, forecast)
                    metrics.forecast = dict(vars_of(tracker.accuracy()))
                elif policy_name == PERSISTENCE:
                    metrics = run_policy(
                        OptimizePolicy(), week, tariff, dataset, persistence_forecast
                    )
                elif policy_name == ORACLE:
                    metrics = run_policy(OptimizePolicy(), week, tariff, dataset, oracle_forecast)
                else:
                    metrics = run_policy(PvSurplusPolicy(surplus), week, tariff, dataset, None)
                if policy_name == "optimize":
                    total.forecast = _merge_forecast(total.forecast, metrics.forecast)
                total.add(metrics)
            per_policy[policy_name] = total
            print(
                f"  {name:10s} {tariff_name:12s} {policy_name:20s} done "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
        results[tariff_name] = per_policy
    return name, results, notes


def vars_of(accuracy: object) -> dict[str, float | None]:
    return {
        key: getattr(accuracy, key)
        for key in (
            "pv_mae_hour_ahead_kw",
            "pv_mae_day_ahead_kw",
            "load_mae_hour_ahead_kw",
            "load_mae_day_ahead_kw",
            "pv_bias_day_ahead_kw",
        )
    }


def _merge_forecast(
    total: dict[str, float | None], new: dict[str, float | None]
) -> dict[str, float | None]:
    # Mean over weeks (each week's figure is a mean over its 7 days).
    merged: dict[str, float | None] = {}
    count = total.get("_weeks") or 0.0
    for key, value in new.items():
        old = total.get(key)
        if value is None:
            merged[key] = old
        elif old is None:
            merged[key] = value
        else:
            merged[key] = (old * count + value) / (count + 1)
    merged["_weeks"] = count + 1
    return merged


def _table(name: str, tariff_name: str, results: dict[str, Metrics]) -> list[str]:
    perfect = results[PERFECT].cost
    lines = [
        f"### {name}, {tariff_name} tariff",
        "",
        "| policy | cost | above perfect | vs perfect | vs perfect's import cost | "
        "EV short kWh | jobs short kWh | EV above target kWh | "
        "plans with 0 < EV < min | plan steps imp+exp / ch+dis | solver outcomes | "
        "solve p50 ms | p95 ms | p95 ms (24 h plans) | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for policy, m in results.items():
        gap = (m.cost - perfect) / abs(perfect) * 100 if perfect else float("nan")
        # The net cost can be near zero (export and stored energy credited), which makes
        # a ratio to it meaningless; the ratio to what perfect foresight pays for its
        # imports is the stable one.
        of_import = (m.cost - perfect) / results[PERFECT].import_cost * 100
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(m.statuses.items()))
        lines.append(
            f"| {policy} | {m.cost:.2f} | {m.cost - perfect:+.2f} | {gap:+.1f} % | "
            f"{of_import:+.1f} % | {m.ev_short_kwh:.2f} | "
            f"{m.job_short_kwh:.2f} | {m.ev_beyond_target_kwh:.1f} | {m.plans_below_min} | "
            f"{m.simultaneous_steps} | {outcomes} | {_p(m.solve_ms, 50):.1f} | "
            f"{_p(m.solve_ms, 95):.1f} | {_p(m.solve_ms_24h, 95):.1f} | "
            f"{max(m.solve_ms) if m.solve_ms else float('nan'):.0f} |"
        )
    return lines


def _checks(name: str, tariff_name: str, results: dict[str, Metrics]) -> list[str]:
    m, perfect = results["optimize"], results[PERFECT]
    gap = (m.cost - perfect.cost) / abs(perfect.cost) * 100
    target = TARGETS[tariff_name]
    p95 = _p(m.solve_ms_24h, 95)
    heuristic = m.statuses.get("heuristic", 0)

    def verdict(ok: bool) -> str:
        return "MET" if ok else "MISSED"

    of_import = (m.cost - perfect.cost) / perfect.import_cost * 100
    return [
        f"- {name}/{tariff_name}: optimize {gap:+.2f} % vs perfect foresight "
        f"({m.cost - perfect.cost:+.2f} in cost, {of_import:+.1f} % of its import cost) "
        f"(target <= {target:g} %): {verdict(gap <= target)}",
        f"- {name}/{tariff_name}: EV shortfall {m.ev_short_kwh:.2f} kWh, appliance "
        f"shortfall {m.job_short_kwh:.2f} kWh (target 0): "
        f"{verdict(m.ev_short_kwh < 0.01 and m.job_short_kwh < 0.01)}",
        f"- {name}/{tariff_name}: plans with an EV between 0 and its minimum: "
        f"{m.plans_below_min}; plan steps importing+exporting or charging+discharging: "
        f"{m.simultaneous_steps} (target 0, 0): "
        f"{verdict(m.plans_below_min == 0 and m.simultaneous_steps == 0)}",
        f"- {name}/{tariff_name}: solve p95 (24 h plans) {p95:.1f} ms (target <= "
        f"{P95_TARGET_MS:g} ms): {verdict(p95 <= P95_TARGET_MS)}; departure-aware "
        f"fallbacks {heuristic}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seasons", nargs="*", default=list(SEASONS), choices=SEASONS)
    parser.add_argument("--datasets", nargs="*", default=list(datasets()))
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="also run the MPC on the real PV and load ahead (how much of the gap is "
        "forecast error); never written to RESULTS.md",
    )
    parser.add_argument(
        "--legacy-end-value",
        action="store_true",
        help="value energy left at the week's end the old way (mean import price, nothing "
        "above a car's target), to compare with old results; never written to RESULTS.md",
    )
    args = parser.parse_args(argv)
    end_value = "mean-import" if args.legacy_end_value else "replacement"
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=min(2, len(args.datasets))) as pool:
        futures = [
            pool.submit(run_dataset, name, args.seasons, args.diagnose, end_value)
            for name in args.datasets
        ]
        outcomes = [future.result() for future in futures]
    output = [
        "# Energy planning benchmark results",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}, HiGHS {_highs_version()} "
        "(highspy). "
        "Command: `.venv/bin/python -m benchmarks.energy`. "
        f"Weeks per dataset: {', '.join(args.seasons)}.",
        "",
        "Cost = grid import cost - feed-in revenue + 1 per kWh missing at an EV departure "
        "or appliance deadline - value of the energy gained in storage over each week, at "
        "what it would cost to put back (battery and cars up to their targets: the week's "
        "cheapest import price; cars above their targets: the feed-in price). "
        "'vs perfect' = (cost - perfect-foresight cost) / |perfect-foresight cost| (the "
        "issue's measure; misleading where that cost is near zero), 'vs perfect's import "
        "cost' = the same difference / what perfect foresight pays for its grid imports. "
        "Solve times are wall-clock per plan (model build, solve, plan extraction), both "
        "datasets running at once on the 2 cores.",
        "",
    ]
    checks: list[str] = []
    forecast_lines = [
        "| dataset | PV MAE 1 h ahead kW | PV MAE 24 h ahead kW | PV bias 24 h kW | "
        "load MAE 1 h ahead kW | load MAE 24 h ahead kW |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    all_notes: list[str] = []
    for name, results, notes in outcomes:
        all_notes += notes
        for tariff_name, per_policy in results.items():
            output += [*_table(name, tariff_name, per_policy), ""]
            checks += _checks(name, tariff_name, per_policy)
        f = next(iter(results.values()))["optimize"].forecast

        def fmt(key: str, f: dict[str, float | None] = f) -> str:
            value = f.get(key)
            return "n/a" if value is None else f"{value:.3f}"

        forecast_lines.append(
            f"| {name} | {fmt('pv_mae_hour_ahead_kw')} | {fmt('pv_mae_day_ahead_kw')} | "
            f"{fmt('pv_bias_day_ahead_kw')} | {fmt('load_mae_hour_ahead_kw')} | "
            f"{fmt('load_mae_day_ahead_kw')} |"
        )
    output += [
        "## Forecast error (optimize's forecaster, flat-tariff run)",
        "",
        *forecast_lines,
        "",
    ]
    output += ["## Targets", "", *checks, ""]
    if all_notes:
        output += ["## Notes", "", *(f"- {n}" for n in all_notes), ""]
    output.append(f"Benchmark wall time: {time.perf_counter() - started:.0f} s.")
    text = "\n".join(output) + "\n"
    print(text)
    complete = len(args.seasons) == len(SEASONS) and len(args.datasets) == 2
    if not args.no_write and not args.diagnose and not args.legacy_end_value and complete:
        RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
