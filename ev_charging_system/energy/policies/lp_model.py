"""The site's linear program: build it from arrays, solve it with HiGHS, read it back.

Pure: arrays in, arrays out; no site objects, no clock. The same model serves the
receding-horizon planner (24 h from now, one known EV session) and the benchmark's
perfect-foresight optimum (a whole week, every EV session known).

Per step t (length dt hours), all powers in kW, averaged over the step:

    variables   imp, exp       grid import / export            0..limit
                ch, dis        battery charge / discharge      0..rating
                soc            battery energy at end of t      min..max kWh
                shed           flexible load switched off      0..flexible_t
                curt           PV not produced                 0..pv_t
                ev_v           charging power of vehicle v     0..available_v,t
                e_v            energy in vehicle v at end of t  ..max kWh
                short_v,j      kWh missing at deadline j       >= 0
                on_v,t         charger on (binary), first few steps only

    balance     imp - exp + dis - ch - curt + shed - sum_v ev_v = critical + flexible - pv
    battery     soc_t = soc_{t-1} + eta_c*dt*ch - dt/eta_d*dis
    vehicle     e_t = e_{t-1} + eta_v*dt*ev_t - trip_t
    deadline    e_{k_j} + short_j >= target_j
    min power   min*on_t <= ev_t <= available_t*on_t        (binary steps only)

    minimise    sum_t dt*(p_imp*imp - p_feed*exp + wear*(ch+dis) + shed_penalty*shed)
                + short_penalty*sum(short) + tiny early-charging bias
                - terminal_value_battery*soc_T - sum_v terminal_value_v*e_v,T

Why an LP with a handful of binaries, not a full MILP: everything is linear except the
charger's minimum current (0 or >= 6 A). Only the first steps are ever executed (the plan
is recomputed every tick), so on/off binaries are used only there (`binary_steps`); later
steps are the LP relaxation. Simultaneous charge and discharge (or import and export) is
never cheaper while prices are positive and efficiency < 1; should negative prices make
it so, the first step's net value is what gets executed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# HiGHS status codes as scipy.optimize.milp reports them.
_STATUS = {0: "optimal", 1: "time_limit", 2: "infeasible", 3: "unbounded", 4: "error"}
EARLY_BIAS_PER_KWH = 1e-4  # breaks ties towards acting earlier (see the cost terms)
CURTAIL_COST_PER_KWH = 1e-5  # breaks ties towards producing rather than curtailing


@dataclass(frozen=True, slots=True)
class VehicleModel:
    available_kw: FloatArray  # per step: max charging power, 0 while not plugged in
    min_kw: float
    energy0_kwh: float
    max_energy_kwh: float
    efficiency: float
    trip_kwh: FloatArray  # per step: energy leaving the battery at the end of the step
    deadlines: tuple[tuple[int, float], ...] = ()  # (step, kWh wanted at end of step)
    binary_steps: int = 0
    terminal_value: float = 0.0  # per kWh left in the vehicle after the last step


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

    @property
    def steps(self) -> int:
        return len(self.pv_kw)


@dataclass(frozen=True, slots=True)
class Solution:
    status: str  # optimal | time_limit | infeasible | unbounded | error
    message: str
    solve_s: float
    objective: float = float("nan")
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

    @property
    def ok(self) -> bool:
        return self.status == "optimal"


# Fixed per-step blocks, then two blocks per vehicle.
_IMP, _EXP, _CH, _DIS, _SOC, _SHED, _CURT = range(7)
_FIXED_BLOCKS = 7


class _Builder:
    """Accumulates COO triplets; one `add` per constraint family keeps it vectorised."""

    def __init__(self) -> None:
        self.rows: list[IntArray] = []
        self.cols: list[IntArray] = []
        self.vals: list[FloatArray] = []

    def add(self, rows: IntArray, cols: IntArray, vals: FloatArray | float) -> None:
        self.rows.append(rows)
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=np.float64), rows.shape))

    def matrix(self, n_rows: int, n_cols: int) -> coo_array:
        return coo_array(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(n_rows, n_cols),
        )


def solve(model: SiteModel, time_limit_s: float) -> Solution:
    """Build and solve; never raises for a solver outcome (status says what happened)."""
    started = time.perf_counter()
    n_steps = model.steps
    n_vehicles = len(model.vehicles)
    t = np.arange(n_steps)
    dt = model.dt_h

    def var(block: int) -> IntArray:
        return block * n_steps + t

    n_step_vars = (_FIXED_BLOCKS + 2 * n_vehicles) * n_steps
    short_offsets: list[int] = []
    n_short = 0
    for vehicle in model.vehicles:
        short_offsets.append(n_step_vars + n_short)
        n_short += len(vehicle.deadlines)
    binary_offsets: list[int] = []
    n_binary = 0
    first_binary = n_step_vars + n_short
    for vehicle in model.vehicles:
        binary_offsets.append(first_binary + n_binary)
        n_binary += min(vehicle.binary_steps, n_steps)
    n_vars = first_binary + n_binary

    lower = np.zeros(n_vars)
    upper = np.full(n_vars, np.inf)
    cost = np.zeros(n_vars)
    integrality = np.zeros(n_vars, dtype=np.int64)

    upper[var(_IMP)] = model.import_limit_kw
    upper[var(_EXP)] = model.export_limit_kw
    upper[var(_CH)] = model.battery_charge_kw
    upper[var(_DIS)] = model.battery_discharge_kw
    # A battery measured outside its SoC window must not make the problem infeasible.
    lower[var(_SOC)] = min(model.battery_min_kwh, model.battery_energy0_kwh)
    upper[var(_SOC)] = max(model.battery_max_kwh, model.battery_energy0_kwh)
    upper[var(_SHED)] = model.flexible_kw
    upper[var(_CURT)] = model.pv_kw

    cost[var(_IMP)] = model.import_price * dt
    cost[var(_EXP)] = -model.feed_in_price * dt
    # Ties in time (a flat tariff makes "store PV now or in an hour" equal) go to acting
    # earlier: the forecast of later steps is less certain than the measurement now, and
    # postponing storage on a sunny forecast wastes PV when the sun does not come.
    earlier = EARLY_BIAS_PER_KWH * dt * (t / max(n_steps, 1))
    cost[var(_CH)] = model.battery_wear_cost * dt + earlier
    cost[var(_DIS)] = model.battery_wear_cost * dt + earlier
    cost[var(_SHED)] = model.shed_penalty * dt
    cost[var(_CURT)] = CURTAIL_COST_PER_KWH * dt
    cost[_SOC * n_steps + n_steps - 1] -= model.battery_terminal_value

    builder = _Builder()
    row_lower: list[FloatArray] = []
    row_upper: list[FloatArray] = []
    n_rows = 0

    # Power balance, rows 0..n_steps-1.
    balance = t
    for block, sign in ((_IMP, 1.0), (_EXP, -1.0), (_DIS, 1.0), (_CH, -1.0), (_CURT, -1.0)):
        builder.add(balance, var(block), sign)
    builder.add(balance, var(_SHED), 1.0)
    net_demand = model.critical_kw + model.flexible_kw - model.pv_kw
    row_lower.append(net_demand)
    row_upper.append(net_demand)
    n_rows += n_steps

    # Battery energy, rows n_steps..2T-1.
    rows = n_rows + t
    builder.add(rows, var(_SOC), 1.0)
    builder.add(rows[1:], var(_SOC)[:-1], -1.0)
    builder.add(rows, var(_CH), -model.battery_eta_charge * dt)
    builder.add(rows, var(_DIS), dt / model.battery_eta_discharge)
    rhs = np.zeros(n_steps)
    rhs[0] = model.battery_energy0_kwh
    row_lower.append(rhs)
    row_upper.append(rhs)
    n_rows += n_steps

    for v, vehicle in enumerate(model.vehicles):
        power = (_FIXED_BLOCKS + 2 * v) * n_steps + t
        energy = power + n_steps
        builder.add(balance, power, -1.0)
        upper[power] = vehicle.available_kw
        lower[energy] = -np.inf  # a late vehicle may arrive emptier than planned
        upper[energy] = max(vehicle.max_energy_kwh, vehicle.energy0_kwh)
        # Earlier is (very slightly) better: ties go to charging sooner (deadlines).
        cost[power] = earlier
        cost[energy[-1]] -= vehicle.terminal_value

        rows = n_rows + t
        builder.add(rows, energy, 1.0)
        builder.add(rows[1:], energy[:-1], -1.0)
        builder.add(rows, power, -vehicle.efficiency * dt)
        rhs = -vehicle.trip_kwh.astype(np.float64)
        rhs[0] += vehicle.energy0_kwh
        row_lower.append(rhs)
        row_upper.append(rhs)
        n_rows += n_steps

        if vehicle.deadlines:
            k = len(vehicle.deadlines)
            steps = np.array([d[0] for d in vehicle.deadlines], dtype=np.int64)
            targets = np.array([d[1] for d in vehicle.deadlines], dtype=np.float64)
            shorts = short_offsets[v] + np.arange(k)
            rows = n_rows + np.arange(k)
            builder.add(rows, energy[steps], 1.0)
            builder.add(rows, shorts, 1.0)
            cost[shorts] = model.short_penalty
            row_lower.append(targets)
            row_upper.append(np.full(k, np.inf))
            n_rows += k

        b = min(vehicle.binary_steps, n_steps)
        if b:
            on = binary_offsets[v] + np.arange(b)
            integrality[on] = 1
            upper[on] = 1.0
            rows = n_rows + np.arange(b)
            # ev - min*on >= 0   and   ev - available*on <= 0
            builder.add(rows, power[:b], 1.0)
            builder.add(rows, on, -vehicle.min_kw)
            row_lower.append(np.zeros(b))
            row_upper.append(np.full(b, np.inf))
            n_rows += b
            rows = n_rows + np.arange(b)
            builder.add(rows, power[:b], 1.0)
            builder.add(rows, on, -vehicle.available_kw[:b])
            row_lower.append(np.full(b, -np.inf))
            row_upper.append(np.zeros(b))
            n_rows += b

    matrix = builder.matrix(n_rows, n_vars).tocsr()
    remaining = max(1e-3, time_limit_s - (time.perf_counter() - started))
    try:
        result = milp(
            cost,
            constraints=LinearConstraint(
                matrix, np.concatenate(row_lower), np.concatenate(row_upper)
            ),
            integrality=integrality if n_binary else None,
            bounds=Bounds(lower, upper),
            options={"time_limit": remaining, "presolve": True},
        )
    except (ValueError, RuntimeError) as exc:  # malformed input (e.g. NaN in a bound)
        return Solution("error", f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
    elapsed = time.perf_counter() - started
    status = _STATUS.get(int(result.status), "error")
    if status != "optimal" or result.x is None:
        return Solution(status, str(result.message), elapsed)

    x = np.asarray(result.x, dtype=np.float64)
    blocks = x[:n_step_vars].reshape(-1, n_steps)
    fixed = blocks[:_FIXED_BLOCKS]
    vehicle_blocks = blocks[_FIXED_BLOCKS:]
    shorts_out = tuple(
        x[short_offsets[v] : short_offsets[v] + len(vehicle.deadlines)]
        for v, vehicle in enumerate(model.vehicles)
    )
    return Solution(
        status="optimal",
        message=str(result.message),
        solve_s=elapsed,
        objective=float(result.fun),
        grid_import=fixed[_IMP],
        grid_export=fixed[_EXP],
        charge=fixed[_CH],
        discharge=fixed[_DIS],
        soc=fixed[_SOC],
        shed=fixed[_SHED],
        curtail=fixed[_CURT],
        ev_power=vehicle_blocks[0::2] if n_vehicles else np.zeros((0, n_steps)),
        ev_energy=vehicle_blocks[1::2] if n_vehicles else np.zeros((0, n_steps)),
        ev_short=shorts_out,
    )
