"""One HiGHS instance kept across the solves of one plan: bounds change, the basis stays.

A plan solves the same model several times: the LP relaxation, a few rounded variants
(the same LP with some bounds fixed) and a small MILP over what the relaxation left
open. Passing the model once and changing only bounds lets HiGHS restart the dual
simplex from the previous basis (a rounded variant takes a handful of iterations instead
of a full solve), and the MILP starts from the best rounded schedule, so a time limit can
only return something at least as good. That is most of what keeps a tick's solve
within its budget on a busy 2-core machine; `scipy.optimize.milp` would rebuild
everything per call.

Pure in the sense that matters here: arrays in, arrays out, no site objects.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from highspy._core import _Highs
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Outcomes of one run (Run.status), in the vocabulary of milp_model's Solution.
OPTIMAL = "optimal"
TIME_LIMIT = "time_limit"  # stopped by the limit; `x` is the best found, if any
INFEASIBLE = "infeasible"
UNBOUNDED = "unbounded"
ERROR = "error"

_MS = highspy.HighsModelStatus
_STATUS = {
    _MS.kOptimal: OPTIMAL,
    _MS.kTimeLimit: TIME_LIMIT,
    _MS.kIterationLimit: TIME_LIMIT,
    _MS.kSolutionLimit: TIME_LIMIT,
    _MS.kInterrupt: TIME_LIMIT,
    _MS.kInfeasible: INFEASIBLE,
    _MS.kUnbounded: UNBOUNDED,
    _MS.kUnboundedOrInfeasible: INFEASIBLE,
}
# `kind` codes (milp_model's): 0 continuous, 1 integer, 2 semi-continuous, the same
# numbers as HighsVarType's kContinuous, kInteger, kSemiContinuous.


@dataclass(frozen=True, slots=True)
class Run:
    status: str
    message: str
    x: FloatArray | None = None  # None: no feasible point
    fun: float = float("nan")
    row_dual: FloatArray | None = None  # LP runs only
    dual_bound: float | None = None  # MIP runs only: the proven bound

    @property
    def feasible(self) -> bool:
        return self.x is not None and self.status in (OPTIMAL, TIME_LIMIT)


class HighsSession:
    """minimise cost.x  s.t.  row_lower <= A x <= row_upper,  lower <= x <= upper."""

    def __init__(
        self,
        cost: FloatArray,
        matrix: Any,  # scipy sparse, any format
        row_lower: FloatArray,
        row_upper: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        *,
        mip_rel_gap: float,
    ) -> None:
        csc = matrix.tocsc()
        n_cols, n_rows = len(cost), len(row_lower)
        self._n = n_cols
        self._all = np.arange(n_cols, dtype=np.int32)
        self._kind = np.zeros(n_cols, dtype=np.int64)
        # The bare solver: highspy's Python `Highs` wrapper installs a Python callback
        # (for Ctrl-C) that HiGHS calls during every run, which then waits for the GIL
        # held by the event loop; measured at up to 0.5 s per plan inside the service.
        self._highs = _Highs()
        h = self._highs
        for name, value in (
            ("output_flag", False),
            # One thread: the machine's other core serves the event loop (or the other
            # benchmark process); a tick's small model gains nothing from more.
            ("threads", 1),
            ("mip_rel_gap", mip_rel_gap),
            ("random_seed", 0),
            # Symmetry detection costs a few ms per MILP and finds nothing in a site
            # model (no two cars or steps are interchangeable).
            ("mip_detect_symmetry", False),
        ):
            h.setOptionValue(name, value)
        lp = highspy.HighsLp()
        lp.num_col_ = n_cols
        lp.num_row_ = n_rows
        lp.col_cost_ = np.asarray(cost, dtype=np.float64)
        lp.col_lower_ = np.asarray(lower, dtype=np.float64)
        lp.col_upper_ = np.asarray(upper, dtype=np.float64)
        lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
        lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = n_cols
        lp.a_matrix_.num_row_ = n_rows
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(np.float64)
        status = h.passModel(lp)
        if status == highspy.HighsStatus.kError:
            raise ValueError("HiGHS refused the model (non-finite or inconsistent data)")

    def lp(self, lower: FloatArray, upper: FloatArray, time_limit_s: float) -> Run:
        """The LP with these bounds (every variable continuous); warm-started."""
        self._set_kind(None)
        self._set_bounds(lower, upper)
        return self._run(time_limit_s, mip=False)

    def mip(
        self,
        lower: FloatArray,
        upper: FloatArray,
        kind: IntArray,
        time_limit_s: float,
        start: FloatArray | None = None,
    ) -> Run:
        """The MILP with these bounds and integrality, from `start` (a feasible x) if given."""
        self._set_kind(kind)
        self._set_bounds(lower, upper)
        if start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = np.asarray(start, dtype=np.float64)
            solution.value_valid = True
            self._highs.setSolution(solution)
        return self._run(time_limit_s, mip=True)

    # ------------------------------------------------------------------------ internals

    def _set_bounds(self, lower: FloatArray, upper: FloatArray) -> None:
        self._highs.changeColsBounds(
            self._n,
            self._all,
            np.asarray(lower, dtype=np.float64),
            np.asarray(upper, dtype=np.float64),
        )

    def _set_kind(self, kind: IntArray | None) -> None:
        wanted = np.zeros(self._n, dtype=np.int64) if kind is None else np.asarray(kind)
        changed = np.flatnonzero(wanted != self._kind)
        if len(changed) == 0:
            return
        self._highs.changeColsIntegrality(
            len(changed), changed.astype(np.int32), wanted[changed].astype(np.uint8)
        )
        self._kind = wanted.copy()

    def _run(self, time_limit_s: float, *, mip: bool) -> Run:
        h = self._highs
        h.setOptionValue("time_limit", max(1e-3, float(time_limit_s)))
        started = time.perf_counter()
        try:
            h.run()
        except (RuntimeError, ValueError) as exc:  # e.g. NaN slipped into a bound
            return Run(ERROR, f"{type(exc).__name__}: {exc}")
        model_status = h.getModelStatus()
        status = _STATUS.get(model_status, ERROR)
        message = f"{h.modelStatusToString(model_status)} in {time.perf_counter() - started:.3f} s"
        info = h.getInfo()
        has_point = info.primal_solution_status == highspy.kSolutionStatusFeasible
        if status not in (OPTIMAL, TIME_LIMIT) or not has_point:
            return Run(status, message)
        solution = h.getSolution()
        x = np.array(solution.col_value, dtype=np.float64)
        fun = float(info.objective_function_value)
        if mip:
            bound = float(info.mip_dual_bound)
            return Run(status, message, x, fun, dual_bound=bound if np.isfinite(bound) else None)
        duals = np.array(solution.row_dual, dtype=np.float64) if solution.dual_valid else None
        return Run(status, message, x, fun, row_dual=duals)
