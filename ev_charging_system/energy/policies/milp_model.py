"""The site's mixed-integer model: build it from arrays, solve it with HiGHS, read it back.

Pure: arrays in, arrays out; no site objects, no clock. The same model serves the
receding-horizon planner (24 h from now, the known EV sessions and deferrable loads) and
the benchmark's perfect-foresight optimum (a whole week, every EV trip known).

Per step t (length dt hours), all powers in kW, averaged over the step:

    variables   imp, exp       grid import / export            0..limit
                ch, dis        battery charge / discharge      0..rating
                soc            battery energy at end of t      min..max kWh
                shed           flexible load switched off      0..flexible_t
                curt           PV not produced                 0..pv_t
                ev_v           charging power of vehicle v     0, or min_v,t..available_v,t
                e_v            energy in vehicle v at end of t  ..max kWh
                q_d            power of deferrable load d      (see below)
                short_*        kWh missing at a deadline       >= 0 (penalised)

    balance     imp - exp + dis - ch - curt + shed - sum ev - sum q = critical + flexible - pv
    battery     soc_t = soc_{t-1} + eta_c*dt*ch - dt/eta_d*dis
    vehicle     e_t = e_{t-1} + eta_v*dt*ev_t - trip_t;  e_{k_j} + short_j >= target_j
    circuits    sum_{v on circuit c} ev_v,t <= limit_c

Where the model is mixed-integer, and why each integer is exact, not decoration:
- **Charger minimum current, every step.** IEC 61851 cannot signal less than 6 A, so a
  charger delivers 0 or at least min_v. Each ev_v,t is a semi-continuous variable
  (HiGHS: x = 0 or lb <= x <= ub), over the whole horizon, not only the first steps: a
  plan that assumes the car can take 1 kW later on pushes small remainders around and
  ends up short or overshooting. A step the car leaves part-way through has both bounds
  scaled by the share of the step it is plugged in.
- **Grid import/export exclusivity.** Importing and exporting the same kWh nets
  (p_feed - p_imp) per kWh: never profitable while p_feed < p_imp, so there the LP is
  already exact and no binary is added. At steps where p_feed >= p_imp (negative import
  prices of dynamic tariffs), a binary u_t forces imp <= I*u_t, exp <= E*(1-u_t).
- **Battery charge/discharge exclusivity.** Cycling in the same step only burns energy
  (efficiency < 1) and costs wear: it can pay only when consuming energy earns money,
  i.e. at a negative import or feed-in price. Binaries are added at those steps only.
- **Deferrable loads.** Interruptible ones (water heater, heat-pump buffer) take any
  average power 0..P per step (a relay switched within the step) and must receive their
  energy inside their window. Non-interruptible ones (dishwasher, washing machine) start
  once and then run their fixed profile: one binary per allowed start step, exactly one
  chosen (or none when the deadline lies beyond the horizon).

Objective:

    minimise    sum_t dt*(p_imp*imp - p_feed*exp + wear*(ch+dis) + shed_penalty*shed)
                + short_penalty*sum(short) + tiny early-acting bias
                + tiny late-import bias (grid energy at one price: bought as late as free)
                - battery_terminal_value*soc_T
                - sum_v (core_value_v*core_v + extra_value_v*extra_v)

with e_v,T = core_v + extra_v, core_v <= core_cap_v (the driver's target), extra_v >= 0:
energy in a car is worth something only up to the target; beyond it, only what it would
have earned as export (so surplus PV may top a car up, grid or battery energy never does).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_array

from ev_charging_system.energy.policies.highs_session import (
    ERROR,
    INFEASIBLE,
    OPTIMAL,
    TIME_LIMIT,
    UNBOUNDED,
    HighsSession,
    Run,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

EARLY_BIAS_PER_KWH = 1e-4  # breaks ties towards acting earlier (see the cost terms)
# Breaks ties between importing now and importing later towards later (see _build); larger
# than the early bias, so a car charged from the grid is charged as late as is free.
LATE_IMPORT_BIAS_PER_KWH = 3e-4
CURTAIL_COST_PER_KWH = 1e-5  # breaks ties towards producing rather than curtailing
# Relative MIP gap at which HiGHS may stop: 1e-4 of a day's cost is far below what any
# forecast error moves, and it keeps the solver from proving the last cent.
MIP_REL_GAP = 1e-4
# A rounded schedule within this much (price units over the horizon) of the LP bound is
# accepted as optimal: one cent a day is far below what any forecast error moves.
GAP_TOLERANCE = 0.01
# HiGHS's limit for the small MILP of step 3 (see solve). Started from the rounded
# schedule it can only improve on it; in the benchmark's plans, beyond 30 ms it gains
# about a thousandth of a plan's cost while it sets the tail of the solve time.
NEIGHBOURHOOD_LIMIT_S = 0.03
# Until a first schedule exists, the relaxation and each rounding LP get at least this
# long, even past the time limit: on a busy machine a process can be descheduled for
# longer than a tick's budget before the solver starts (the benchmark saw plans whose
# relaxation was left 1 ms), and without any schedule the heuristic would decide. At
# most four such LPs: the overrun is bounded, well inside the coordinator's budget.
FIRST_SCHEDULE_FLOOR_S = 0.05

# Outcomes of a solve (Solution.status): OPTIMAL, INFEASIBLE, UNBOUNDED, ERROR and
# TIME_LIMIT (stopped by the limit without any feasible solution) as HiGHS says, and:
FEASIBLE = "feasible"  # a schedule above the gap tolerance; its gap to the bound is known
TIME_LIMIT_FEASIBLE = "time_limit_feasible"  # stopped by the limit; best solution kept
__all__ = [
    "ERROR",
    "FEASIBLE",
    "INFEASIBLE",
    "OPTIMAL",
    "TIME_LIMIT",
    "TIME_LIMIT_FEASIBLE",
    "UNBOUNDED",
    "DeferrableModel",
    "SiteModel",
    "Solution",
    "VehicleModel",
    "solve",
]


@dataclass(frozen=True, slots=True)
class VehicleModel:
    available_kw: FloatArray  # per step: max average charging power, 0 while not plugged in
    min_kw: float  # the charger's minimum power while charging (0: no minimum)
    energy0_kwh: float
    max_energy_kwh: float
    efficiency: float
    trip_kwh: FloatArray  # per step: energy leaving the battery at the end of the step
    deadlines: tuple[tuple[int, float], ...] = ()  # (step, kWh wanted at end of step)
    # Share of each step the car is plugged in (bounds are scaled by it); None: 1 wherever
    # available_kw > 0.
    plugged_share: FloatArray | None = None
    core_cap_kwh: float = np.inf  # energy at the end worth `core_value` per kWh
    core_value: float = 0.0
    extra_value: float = 0.0  # per kWh above core_cap_kwh
    circuit: int | None = None  # index into SiteModel.circuit_limits_kw
    # Per step, the least average power of a step the charger is on in; None: min_kw x
    # plugged share. A step longer than the charger's control interval may run part of
    # its length only, so its least average is lower (see the planner's time grid).
    min_step_kw: FloatArray | None = None


@dataclass(frozen=True, slots=True)
class DeferrableModel:
    """One deferrable load: interruptible (any power 0..power_kw per step) or a fixed run.

    `allowed` marks the steps an interruptible load may run in (the share of each step
    inside its window), or the steps a non-interruptible run may start at. A
    non-interruptible run draws `profile_kw[j]` in the j-th step after its start.
    """

    power_kw: float
    energy_kwh: float  # still to deliver within the horizon (interruptible)
    allowed: FloatArray  # per step, see above
    interruptible: bool
    profile_kw: FloatArray = field(default_factory=lambda: np.empty(0))
    must_start: bool = True  # non-interruptible: False when the deadline is past the horizon


@dataclass(frozen=True, slots=True)
class SiteModel:
    dt_h: float
    pv_kw: FloatArray
    critical_kw: FloatArray
    flexible_kw: FloatArray
    import_price: FloatArray
    feed_in_price: FloatArray
    battery_energy0_kwh: float
    battery_min_kwh: float
    battery_max_kwh: float
    battery_charge_kw: float
    battery_discharge_kw: float
    battery_eta_charge: float
    battery_eta_discharge: float
    import_limit_kw: float
    export_limit_kw: float  # np.inf when unlimited
    shed_penalty: float
    short_penalty: float
    battery_wear_cost: float = 0.0
    battery_terminal_value: float = 0.0
    vehicles: tuple[VehicleModel, ...] = ()
    deferrables: tuple[DeferrableModel, ...] = ()
    circuit_limits_kw: tuple[float, ...] = ()
    fixed_load_kw: FloatArray | None = None  # e.g. a deferrable run already under way
    # Length of each step in hours when they differ (the planner's coarser far horizon);
    # None: every step is `dt_h` long. Powers stay averages over their step.
    step_hours: FloatArray | None = None
    # The least the battery may hold at the horizon's end; None: its minimum. (The
    # benchmark's diagnosis pins hindsight to a policy's end state with it.)
    battery_final_min_kwh: float | None = None

    @property
    def steps(self) -> int:
        return len(self.pv_kw)

    @property
    def durations(self) -> FloatArray:
        if self.step_hours is None:
            return np.full(self.steps, self.dt_h)
        return np.asarray(self.step_hours, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Solution:
    status: str  # see the module constants
    message: str
    solve_s: float
    objective: float = float("nan")
    mip_gap: float | None = None
    n_integer: int = 0  # binaries + semi-continuous variables in the model
    grid_import: FloatArray = field(default_factory=lambda: np.empty(0))
    grid_export: FloatArray = field(default_factory=lambda: np.empty(0))
    charge: FloatArray = field(default_factory=lambda: np.empty(0))
    discharge: FloatArray = field(default_factory=lambda: np.empty(0))
    soc: FloatArray = field(default_factory=lambda: np.empty(0))
    shed: FloatArray = field(default_factory=lambda: np.empty(0))
    curtail: FloatArray = field(default_factory=lambda: np.empty(0))
    ev_power: FloatArray = field(default_factory=lambda: np.empty((0, 0)))  # [vehicle, step]
    ev_energy: FloatArray = field(default_factory=lambda: np.empty((0, 0)))
    ev_short: tuple[FloatArray, ...] = ()  # per vehicle, one value per deadline
    deferrable_power: FloatArray = field(default_factory=lambda: np.empty((0, 0)))
    deferrable_short: FloatArray = field(default_factory=lambda: np.empty(0))
    # Steps where the raw solver answer imported and exported (before netting), or
    # charged and discharged the battery, at once (> 1 W each).
    simultaneous_grid_steps: int = 0
    simultaneous_battery_steps: int = 0

    @property
    def ok(self) -> bool:
        """A feasible schedule exists (proven optimal, or the best found within the limit)."""
        return self.status in (OPTIMAL, FEASIBLE, TIME_LIMIT_FEASIBLE)


class _Builder:
    """Accumulates variables and COO triplets; one `add` per constraint family."""

    def __init__(self) -> None:
        self.lower: list[FloatArray] = []
        self.upper: list[FloatArray] = []
        self.cost: list[FloatArray] = []
        self.kind: list[IntArray] = []
        self.n_vars = 0
        self.rows: list[IntArray] = []
        self.cols: list[IntArray] = []
        self.vals: list[FloatArray] = []
        self.row_lower: list[FloatArray] = []
        self.row_upper: list[FloatArray] = []
        self.n_rows = 0

    def variables(
        self,
        n: int,
        lower: FloatArray | float = 0.0,
        upper: FloatArray | float = np.inf,
        cost: FloatArray | float = 0.0,
        kind: int = 0,
    ) -> IntArray:
        index = np.arange(self.n_vars, self.n_vars + n, dtype=np.int64)
        self.n_vars += n
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (n,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (n,)).copy())
        self.cost.append(np.broadcast_to(np.asarray(cost, dtype=np.float64), (n,)).copy())
        self.kind.append(np.full(n, kind, dtype=np.int64))
        return index

    def rows_block(self, n: int, lower: FloatArray | float, upper: FloatArray | float) -> IntArray:
        index = np.arange(self.n_rows, self.n_rows + n, dtype=np.int64)
        self.n_rows += n
        self.row_lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (n,)).copy())
        self.row_upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (n,)).copy())
        return index

    def add(self, rows: IntArray, cols: IntArray, vals: FloatArray | float) -> None:
        self.rows.append(rows)
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=np.float64), rows.shape))

    def matrix(self) -> coo_array:
        return coo_array(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.n_rows, self.n_vars),
        )


def solve(
    model: SiteModel,
    time_limit_s: float,
    *,
    gap_tolerance: float = GAP_TOLERANCE,
    exhaustive: bool = False,
) -> Solution:
    """Build and solve; never raises for a solver outcome (status says what happened).

    1. The LP relaxation: a lower bound, and marginal energy prices.
    2. A rounded schedule re-optimised as an LP with every integer decision fixed: an
       upper bound. Within `gap_tolerance` (price units over the horizon) of the bound it
       is optimal up to that tolerance: status `optimal`.
    3. Otherwise a small MILP over the decisions the relaxation left fractional
       (relaxation-induced neighbourhood); within tolerance: `optimal`, else `feasible`
       with the gap reported.
    4. Only with `exhaustive` (the benchmark's week-long hindsight optimum), or when no
       schedule was found so far, HiGHS's full branch-and-bound runs with the remaining
       time; when the limit strikes, the best schedule found is kept
       (`time_limit_feasible`).
    """
    started = time.perf_counter()
    try:
        b, index = _build(model)
        problem = _Problem.of(b)
        session = problem.session()
    except (ValueError, FloatingPointError) as exc:
        return Solution(ERROR, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
    n_integer = int(np.count_nonzero(problem.kind))

    def remaining() -> float:
        return time_limit_s - (time.perf_counter() - started)

    def finish(
        status: str, message: str, x: FloatArray | None, fun: float, gap: float | None
    ) -> Solution:
        elapsed = time.perf_counter() - started
        if x is None:
            return Solution(status, message, elapsed, n_integer=n_integer)
        return _solution(model, index, status, message, elapsed, x, fun, gap, n_integer)

    relaxed = session.lp(
        problem.relaxed_lower(), problem.upper, max(remaining(), FIRST_SCHEDULE_FLOOR_S)
    )
    if relaxed.status != OPTIMAL or relaxed.x is None:
        return finish(relaxed.status, f"LP relaxation: {relaxed.message}", None, np.nan, None)
    bound = relaxed.fun
    if n_integer == 0:
        return finish(OPTIMAL, relaxed.message, relaxed.x, bound, None)
    balance = index["balance"]
    prices = relaxed.row_dual[balance] if relaxed.row_dual is not None else np.zeros(0)

    incumbent = _dive(
        model, index, problem, session, relaxed.x, prices, remaining, bound + gap_tolerance
    )
    if incumbent is not None and incumbent[1] - bound <= gap_tolerance:
        return finish(
            OPTIMAL,
            f"rounded LP within {incumbent[1] - bound:.2g} of the relaxation bound",
            incumbent[0],
            incumbent[1],
            _gap(incumbent[1], bound),
        )

    # Relaxation-induced neighbourhood: keep every integer decision the relaxation already
    # took integrally, branch only on the few it left fractional. Small and fast; it
    # starts from the rounded schedule (when that lies inside the neighbourhood), so it
    # can only improve on it. Bounded on its own: a tick should not wait for the last cent.
    lower, upper, kind = _neighbourhood(problem, relaxed.x)
    local = session.mip(
        lower,
        upper,
        kind,
        min(remaining(), NEIGHBOURHOOD_LIMIT_S),
        start=incumbent[0] if incumbent is not None else None,
    )
    incumbent = _better(local, incumbent)
    if incumbent is not None and incumbent[1] - bound <= gap_tolerance:
        return finish(
            OPTIMAL,
            f"neighbourhood MILP within {incumbent[1] - bound:.2g} of the relaxation bound",
            incumbent[0],
            incumbent[1],
            _gap(incumbent[1], bound),
        )

    if incumbent is not None and not exhaustive:
        # Branch-and-bound over the whole horizon rarely finishes within a tick's budget
        # and has not improved executed costs in the benchmark: keep the neighbourhood's
        # answer and report its distance to the bound.
        return finish(
            FEASIBLE,
            f"best of rounding and neighbourhood search, {incumbent[1] - bound:.2g} above "
            "the relaxation bound",
            incumbent[0],
            incumbent[1],
            _gap(incumbent[1], bound),
        )

    exact = session.mip(
        problem.lower,
        problem.upper,
        problem.kind,
        remaining(),
        start=incumbent[0] if incumbent is not None else None,
    )
    candidates: list[tuple[FloatArray, float]] = []
    if exact.feasible and exact.x is not None:
        candidates.append((exact.x, exact.fun))
    if incumbent is not None:
        candidates.append(incumbent)
    if not candidates:
        return finish(exact.status, exact.message, None, np.nan, None)
    x, fun = min(candidates, key=lambda c: c[1])
    # Anything but a proven optimum (the limit struck, or the MILP failed numerically
    # while a rounded schedule exists) keeps the best schedule found, with its gap.
    status = OPTIMAL if exact.status == OPTIMAL else TIME_LIMIT_FEASIBLE
    best_bound = max(bound, exact.dual_bound) if exact.dual_bound is not None else bound
    return finish(status, exact.message, x, fun, _gap(fun, best_bound))


def _better(run: Run, best: tuple[FloatArray, float] | None) -> tuple[FloatArray, float] | None:
    """The run's point if it is feasible and cheaper than `best`, else `best`."""
    if run.feasible and run.x is not None and (best is None or run.fun < best[1]):
        return run.x, run.fun
    return best


def _gap(primal: float, bound: float) -> float:
    return max(0.0, primal - bound) / max(1.0, abs(primal))


@dataclass(frozen=True, slots=True)
class _Problem:
    cost: FloatArray
    matrix: Any
    row_lower: FloatArray
    row_upper: FloatArray
    lower: FloatArray
    upper: FloatArray
    kind: IntArray

    @classmethod
    def of(cls, b: _Builder) -> _Problem:
        return cls(
            cost=np.concatenate(b.cost),
            matrix=b.matrix().tocsc(),
            row_lower=np.concatenate(b.row_lower),
            row_upper=np.concatenate(b.row_upper),
            lower=np.concatenate(b.lower),
            upper=np.concatenate(b.upper),
            kind=np.concatenate(b.kind),
        )

    def relaxed_lower(self) -> FloatArray:
        # A semi-continuous variable relaxes to [0, ub].
        return np.where(self.kind == 2, 0.0, self.lower)

    def session(self) -> HighsSession:
        return HighsSession(
            self.cost,
            self.matrix,
            self.row_lower,
            self.row_upper,
            self.relaxed_lower(),
            self.upper,
            mip_rel_gap=MIP_REL_GAP,
        )


def _dive(
    model: SiteModel,
    index: dict[str, IntArray],
    problem: _Problem,
    session: HighsSession,
    x: FloatArray,
    prices: FloatArray,
    remaining: Callable[[], float],
    good_enough: float,
) -> tuple[FloatArray, float] | None:
    """Round the relaxation once, re-solve the LP around it; the best of three variants
    (stopping at the first whose objective is `good_enough`).

    - a deferrable run starts where it costs least at the relaxation's marginal energy
      prices (`prices`, per kW over a step); exclusivity binaries round to the larger flow;
    - a charger step at or above its minimum stays on, at zero stays off; of the steps the
      relaxation filled only partly, the fullest are switched on until they can carry
      (ceil) or nearly carry (floor) the energy the relaxation put there, or none (off);
      the rest off.
    None when no variant is feasible.
    """
    best: tuple[FloatArray, float] | None = None
    semi = problem.kind == 2
    binary = problem.kind == 1
    # "off" (every partial step off, the rest re-balanced) is the safe one, tried only
    # when the others fail: with soft deadlines it is feasible whenever the relaxation is.
    for mode in ("ceil", "floor", "off"):
        if best is not None and (mode == "off" or best[1] <= good_enough):
            break
        lower = problem.lower.copy()
        upper = problem.upper.copy()
        lower[binary] = upper[binary] = np.round(x[binary])
        for d, load in enumerate(model.deferrables):
            starts = index[f"start{d}"] if not load.interruptible else np.empty(0, np.int64)
            if len(starts) == 0:
                continue
            weights = x[starts]
            choice = np.zeros(len(starts))
            if load.must_start or weights.sum() >= 0.5:
                steps = index[f"startstep{d}"]
                cost = np.array([_run_cost(load, model, int(k), prices) for k in steps])
                if len(prices) == 0 or not np.all(np.isfinite(cost)):
                    cost = -weights
                choice[int(np.argmin(cost))] = 1.0
            lower[starts] = upper[starts] = choice
        for v in range(len(model.vehicles)):
            power = index[f"ev{v}"]
            is_semi = semi[power]
            if not np.any(is_semi):
                continue
            p = x[power]
            minimum = problem.lower[power]
            on = is_semi & (p >= minimum - 1e-7)
            partial = is_semi & ~on & (p > 1e-7)
            energy = float(p[partial].sum())
            order = np.flatnonzero(partial)[np.argsort(-p[partial], kind="stable")]
            carried = 0.0
            for k in order:
                if mode == "off":
                    enough = True
                elif mode == "ceil":
                    enough = carried >= energy - 1e-9
                else:
                    enough = carried + minimum[k] > energy + 1e-9
                if enough:
                    break
                on[k] = True
                carried += minimum[k]
            off = is_semi & ~on
            lower[power[on]] = minimum[on]
            lower[power[off]] = upper[power[off]] = 0.0
        limit = remaining() if best is not None else max(remaining(), FIRST_SCHEDULE_FLOOR_S)
        fixed = session.lp(lower, upper, limit)
        best = _better(fixed, best)
    return best


def _run_cost(load: DeferrableModel, model: SiteModel, start: int, prices: FloatArray) -> float:
    # `prices` are the balance rows' duals: per kW of average power over a step.
    power = run_power_from(load.profile_kw, model.dt_h, model.durations, start)
    end = min(len(prices), start + len(power))
    return float(np.dot(power[: end - start], prices[start:end]))


def _neighbourhood(problem: _Problem, x: FloatArray) -> tuple[FloatArray, FloatArray, IntArray]:
    lower = problem.lower.copy()
    upper = problem.upper.copy()
    kind = problem.kind.copy()
    semi = kind == 2
    binary = kind == 1
    zero = x <= 1e-7
    at_least_min = x >= problem.lower - 1e-7
    # Semi-continuous at 0 stays off; at or above its minimum stays on (lb = minimum).
    upper[semi & zero] = 0.0
    lower[semi & zero] = 0.0
    kind[semi & (zero | at_least_min)] = 0
    integral = binary & (np.abs(x - np.round(x)) <= 1e-7)
    lower[integral] = upper[integral] = np.round(x[integral])
    kind[integral] = 0
    return lower, upper, kind


def _solution(
    model: SiteModel,
    index: dict[str, IntArray],
    status: str,
    message: str,
    elapsed: float,
    x: FloatArray,
    fun: float,
    gap: float | None,
    n_integer: int,
) -> Solution:
    # Where importing and exporting differ in price by less than the solver's tolerance,
    # a vertex may carry both; only the net flow matters to the balance and netting never
    # costs more (p_feed < p_imp there), so report the net.
    imp, exp = x[index["imp"]], x[index["exp"]]
    both = np.minimum(imp, exp)
    ch, dis = x[index["ch"]], x[index["dis"]]
    return Solution(
        status=status,
        message=message,
        solve_s=elapsed,
        objective=fun,
        mip_gap=gap,
        n_integer=n_integer,
        grid_import=imp - both,
        grid_export=exp - both,
        charge=x[index["ch"]],
        discharge=x[index["dis"]],
        soc=x[index["soc"]],
        shed=x[index["shed"]],
        curtail=x[index["curt"]],
        ev_power=_rows(x, index, "ev", len(model.vehicles), model.steps),
        ev_energy=_rows(x, index, "e", len(model.vehicles), model.steps),
        ev_short=tuple(x[index[f"short{v}"]] for v in range(len(model.vehicles))),
        deferrable_power=_deferrable_power(x, index, model),
        deferrable_short=np.array(
            [float(x[index[f"dshort{d}"]].sum()) for d in range(len(model.deferrables))]
        ),
        simultaneous_grid_steps=int(np.count_nonzero(both > 1e-3)),
        simultaneous_battery_steps=int(np.count_nonzero(np.minimum(ch, dis) > 1e-3)),
    )


def _rows(x: FloatArray, index: dict[str, IntArray], name: str, n: int, steps: int) -> FloatArray:
    if n == 0:
        return np.zeros((0, steps))
    return np.vstack([x[index[f"{name}{v}"]] for v in range(n)])


def _deferrable_power(x: FloatArray, index: dict[str, IntArray], model: SiteModel) -> FloatArray:
    out = np.zeros((len(model.deferrables), model.steps))
    for d, load in enumerate(model.deferrables):
        if load.interruptible:
            out[d] = x[index[f"q{d}"]]
        else:
            out[d] = _run_power(x[index[f"start{d}"]], index[f"startstep{d}"], load, model)
    return out


def _run_power(
    weights: FloatArray, start_steps: IntArray, load: DeferrableModel, model: SiteModel
) -> FloatArray:
    power = np.zeros(model.steps)
    durations = model.durations
    for weight, k in zip(weights, start_steps, strict=True):
        if weight < 1e-9:
            continue
        run = run_power_from(load.profile_kw, model.dt_h, durations, int(k))
        power[int(k) : int(k) + len(run)] += weight * run
    return power


def run_power_from(
    profile_kw: FloatArray, profile_dt_h: float, durations: FloatArray, start: int
) -> FloatArray:
    """Average power, per step from `start` on, of a run that begins at step `start` and
    draws `profile_kw[j]` during its j-th `profile_dt_h` interval. With steps of the
    profile's own length this is the profile itself; a longer step gets the run's energy
    inside it spread over its length. Steps are never shorter than the profile's, so the
    run ends within len(profile_kw) steps (fewer when the horizon ends first)."""
    steps = np.asarray(durations[start : start + len(profile_kw)], dtype=np.float64)
    edges = np.concatenate([[0.0], np.cumsum(steps)])
    run_edges = np.arange(len(profile_kw) + 1) * profile_dt_h
    energy = np.concatenate([[0.0], np.cumsum(profile_kw * profile_dt_h)])
    delivered = np.interp(edges, run_edges, energy)
    power: FloatArray = np.diff(delivered) / steps
    power[np.abs(power) < 1e-12] = 0.0
    return power


def _build(model: SiteModel) -> tuple[_Builder, dict[str, IntArray]]:
    n = model.steps
    dt = model.durations
    b = _Builder()
    idx: dict[str, IntArray] = {}
    # Ties in time (a flat tariff makes "store PV now or in an hour" equal) go to acting
    # earlier: later forecasts are less certain than the measurement now.
    begins = np.concatenate([[0.0], np.cumsum(dt)[:-1]])
    earlier = EARLY_BIAS_PER_KWH * dt * (begins / max(float(np.sum(dt)), 1e-9))
    imp_price = model.import_price
    feed_price = model.feed_in_price

    # Grid energy bought now or later at the same price: later. Energy from the grid is
    # certain whenever it is bought, PV is not; bought later, it is bought only if the
    # sun the forecast missed has not come by then (a car due tomorrow afternoon is not
    # charged from the grid tonight when the morning may bring it for free). PV used now
    # keeps the early bias: it is there now and may not be later.
    sooner = LATE_IMPORT_BIAS_PER_KWH * dt * (1.0 - begins / max(float(np.sum(dt)), 1e-9))
    idx["imp"] = b.variables(n, 0.0, model.import_limit_kw, imp_price * dt + sooner)
    idx["exp"] = b.variables(n, 0.0, model.export_limit_kw, -feed_price * dt)
    wear = model.battery_wear_cost * dt + earlier
    idx["ch"] = b.variables(n, 0.0, model.battery_charge_kw, wear)
    idx["dis"] = b.variables(n, 0.0, model.battery_discharge_kw, wear)
    soc_cost = np.zeros(n)
    soc_cost[-1] = -model.battery_terminal_value
    # A battery measured outside its SoC window must not make the problem infeasible.
    soc_lower = np.full(n, min(model.battery_min_kwh, model.battery_energy0_kwh))
    soc_upper = max(model.battery_max_kwh, model.battery_energy0_kwh)
    if model.battery_final_min_kwh is not None:
        soc_lower[-1] = min(max(soc_lower[-1], model.battery_final_min_kwh), soc_upper)
    idx["soc"] = b.variables(n, soc_lower, soc_upper, soc_cost)
    idx["shed"] = b.variables(n, 0.0, model.flexible_kw, model.shed_penalty * dt)
    idx["curt"] = b.variables(n, 0.0, model.pv_kw, CURTAIL_COST_PER_KWH * dt)

    # Power balance.
    net_demand = model.critical_kw + model.flexible_kw - model.pv_kw
    if model.fixed_load_kw is not None:
        net_demand = net_demand + model.fixed_load_kw
    balance = b.rows_block(n, net_demand, net_demand)
    idx["balance"] = balance
    for name, sign in (("imp", 1.0), ("exp", -1.0), ("dis", 1.0), ("ch", -1.0), ("curt", -1.0)):
        b.add(balance, idx[name], sign)
    b.add(balance, idx["shed"], 1.0)

    # Battery energy.
    rhs = np.zeros(n)
    rhs[0] = model.battery_energy0_kwh
    rows = b.rows_block(n, rhs, rhs)
    b.add(rows, idx["soc"], 1.0)
    b.add(rows[1:], idx["soc"][:-1], -1.0)
    b.add(rows, idx["ch"], -model.battery_eta_charge * dt)
    b.add(rows, idx["dis"], dt / model.battery_eta_discharge)

    _exclusivity(b, idx, model)
    circuit_members: dict[int, list[IntArray]] = {}
    for v, vehicle in enumerate(model.vehicles):
        _vehicle(b, idx, model, v, vehicle, balance, earlier)
        if vehicle.circuit is not None:
            circuit_members.setdefault(vehicle.circuit, []).append(idx[f"ev{v}"])
    for c, members in circuit_members.items():
        limit = model.circuit_limits_kw[c]
        rows = b.rows_block(n, -np.inf, limit)
        for power in members:
            b.add(rows, power, 1.0)
    for d, load in enumerate(model.deferrables):
        _deferrable(b, idx, model, d, load, balance, earlier)
    return b, idx


def _exclusivity(b: _Builder, idx: dict[str, IntArray], model: SiteModel) -> None:
    n, dt = model.steps, model.durations
    # Grid: only where exporting pays at least as much as importing costs.
    grid_steps = np.flatnonzero(model.feed_in_price >= model.import_price)
    if len(grid_steps):
        k = len(grid_steps)
        u = b.variables(k, 0.0, 1.0, 0.0, kind=1)
        # Big-M for export: what could possibly leave the site in that step.
        export_cap = model.pv_kw[grid_steps] + model.battery_discharge_kw
        export_cap = np.minimum(export_cap, model.export_limit_kw)
        rows = b.rows_block(k, -np.inf, 0.0)
        b.add(rows, idx["imp"][grid_steps], 1.0)
        b.add(rows, u, -model.import_limit_kw)
        rows = b.rows_block(k, -np.inf, export_cap)
        b.add(rows, idx["exp"][grid_steps], 1.0)
        b.add(rows, u, export_cap)
    # Battery: only where consuming energy earns money.
    negative = (model.import_price < 0) | (model.feed_in_price < 0)
    battery_steps = np.flatnonzero(negative)
    if len(battery_steps) and model.battery_charge_kw > 0 and model.battery_discharge_kw > 0:
        k = len(battery_steps)
        u = b.variables(k, 0.0, 1.0, 0.0, kind=1)
        rows = b.rows_block(k, -np.inf, 0.0)
        b.add(rows, idx["ch"][battery_steps], 1.0)
        b.add(rows, u, -model.battery_charge_kw)
        rows = b.rows_block(k, -np.inf, model.battery_discharge_kw)
        b.add(rows, idx["dis"][battery_steps], 1.0)
        b.add(rows, u, model.battery_discharge_kw)
    del n, dt


def _vehicle(
    b: _Builder,
    idx: dict[str, IntArray],
    model: SiteModel,
    v: int,
    vehicle: VehicleModel,
    balance: IntArray,
    earlier: FloatArray,
) -> None:
    n, dt = model.steps, model.durations
    available = np.maximum(np.asarray(vehicle.available_kw, dtype=np.float64), 0.0)
    share = (
        np.where(available > 0, 1.0, 0.0)
        if vehicle.plugged_share is None
        else np.clip(np.asarray(vehicle.plugged_share, dtype=np.float64), 0.0, 1.0)
    )
    minimum = (
        vehicle.min_kw * share
        if vehicle.min_step_kw is None
        else np.asarray(vehicle.min_step_kw, dtype=np.float64)
    )
    # Semi-continuous where the minimum can be reached; where it cannot, the car cannot
    # charge at all (a charger never runs below its minimum current).
    chargeable = (available > 0) & (available >= minimum - 1e-9)
    upper = np.where(chargeable, available, 0.0)
    lower = np.where(chargeable & (minimum > 1e-9), np.minimum(minimum, upper), 0.0)
    semi = lower > 0
    power = b.variables(n, 0.0, upper, earlier)
    # Semi-continuous variables carry their minimum as lower bound (HiGHS semantics).
    b.lower[-1] = lower
    b.kind[-1] = np.where(semi, 2, 0).astype(np.int64)
    idx[f"ev{v}"] = power
    b.add(balance, power, -1.0)

    energy = b.variables(n, -np.inf, max(vehicle.max_energy_kwh, vehicle.energy0_kwh))
    idx[f"e{v}"] = energy
    rhs = -np.asarray(vehicle.trip_kwh, dtype=np.float64)
    rhs = rhs.copy()
    rhs[0] += vehicle.energy0_kwh
    rows = b.rows_block(n, rhs, rhs)
    b.add(rows, energy, 1.0)
    b.add(rows[1:], energy[:-1], -1.0)
    b.add(rows, power, -vehicle.efficiency * dt)

    k = len(vehicle.deadlines)
    shorts = b.variables(k, 0.0, np.inf, model.short_penalty)
    idx[f"short{v}"] = shorts
    if k:
        steps = np.array([d[0] for d in vehicle.deadlines], dtype=np.int64)
        targets = np.array([d[1] for d in vehicle.deadlines], dtype=np.float64)
        rows = b.rows_block(k, targets, np.inf)
        b.add(rows, energy[steps], 1.0)
        b.add(rows, shorts, 1.0)

    # Terminal value: e_T = core + extra, core worth more but capped at the target.
    # Finite bounds on both parts: with equal values a free pair would be a zero-cost ray.
    top = max(vehicle.max_energy_kwh, vehicle.energy0_kwh)
    bottom = min(0.0, vehicle.energy0_kwh - float(np.sum(vehicle.trip_kwh)))
    core = b.variables(1, bottom, min(vehicle.core_cap_kwh, top), -vehicle.core_value)
    extra = b.variables(1, 0.0, top - bottom, -vehicle.extra_value)
    rows = b.rows_block(1, 0.0, 0.0)
    b.add(rows, energy[-1:], 1.0)
    b.add(rows, core, -1.0)
    b.add(rows, extra, -1.0)


def _deferrable(
    b: _Builder,
    idx: dict[str, IntArray],
    model: SiteModel,
    d: int,
    load: DeferrableModel,
    balance: IntArray,
    earlier: FloatArray,
) -> None:
    n, dt = model.steps, model.durations
    allowed = np.clip(np.asarray(load.allowed, dtype=np.float64), 0.0, 1.0)
    short = b.variables(1, 0.0, np.inf, model.short_penalty)
    idx[f"dshort{d}"] = short
    if load.interruptible:
        q = b.variables(n, 0.0, load.power_kw * allowed, earlier)
        idx[f"q{d}"] = q
        b.add(balance, q, -1.0)
        rows = b.rows_block(1, load.energy_kwh, np.inf)
        b.add(np.repeat(rows, n), q, dt)
        b.add(rows, short, 1.0)
        return
    starts = np.flatnonzero(allowed > 0.5).astype(np.int64)
    idx[f"startstep{d}"] = starts
    length = len(load.profile_kw)
    if len(starts) == 0 or length == 0:
        idx[f"start{d}"] = b.variables(0)
        return
    # Later starts cost a hair more: ties go to running earlier.
    start = b.variables(len(starts), 0.0, 1.0, EARLY_BIAS_PER_KWH * starts / max(n, 1), kind=1)
    idx[f"start{d}"] = start
    # Load in step t = sum over starts k <= t of (the run's power in t, started at k) * start_k.
    rows_list, cols_list, vals_list = [], [], []
    for j, k in enumerate(starts):
        power = run_power_from(load.profile_kw, model.dt_h, dt, int(k))
        steps = int(k) + np.flatnonzero(power > 0)
        rows_list.append(balance[steps])
        cols_list.append(np.full(len(steps), start[j]))
        vals_list.append(-power[steps - int(k)])
    b.add(np.concatenate(rows_list), np.concatenate(cols_list), np.concatenate(vals_list))
    # Exactly one start (or at most one when the deadline lies beyond the horizon); a run
    # that cannot start in time is reported as a shortfall of its whole energy.
    energy = float(np.sum(load.profile_kw) * model.dt_h)
    if load.must_start:
        rows = b.rows_block(1, 1.0, 1.0)
        b.add(np.repeat(rows, len(starts)), start, 1.0)
        b.add(rows, short, 1.0 / max(energy, 1e-9))
    else:
        rows = b.rows_block(1, -np.inf, 1.0)
        b.add(np.repeat(rows, len(starts)), start, 1.0)
