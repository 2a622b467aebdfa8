"""Where to put units: maximal expected covering location (MEXCLP), solved exactly by CP-SAT.

Daskin's MEXCLP counts a demand cell covered k times as worth (1 - q) q^(k-1) of its demand for
the k-th cover, where q is the chance a unit is busy: a second unit in reach helps only when the
first is out. With q = 0 it is Church and ReVelle's MCLP. Several units may share a base.

Cells whose sets of covering bases are identical are merged before solving (their weights add):
the optimum is unchanged and the region's 3,584 cells shrink to a few hundred rows, which is
what makes the full region solve to proven optimality in well under a second.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np
from ortools.sat.python import cp_model

# CP-SAT takes integer objective coefficients: fractional weights are scaled so the largest
# coefficient is about this big; the optimum is then exact up to a relative 1e-9 per term.
_SCALE_TARGET = 1e9


class InfeasiblePlacement(ValueError):
    """No placement satisfies the constraints (e.g. more units than base places)."""


@dataclass(frozen=True)
class Placement:
    counts: dict[str, int]  # base id -> units there (bases with none left out)
    objective: float  # expected covered demand, in the weights' units
    covered_share: float  # objective / total demand
    optimal: bool  # CP-SAT proved optimality
    seconds: float

    @property
    def units(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class CoverageModel:
    """A covering problem: demand groups, which bases reach them, and the total demand.

    ``solve(units, busy=q)`` is Daskin's MEXCLP, written as an integer programme::

        maximise    Σ_g Σ_{k=1..K}  w_g · (1 − q) · q^(k−1) · y_gk
        subject to  Σ_j x_j  =  units
                    Σ_k y_gk  ≤  Σ_{j covers g} x_j          for every demand group g
                    y_g(k+1)  ≤  y_gk                         (covers counted in order)
                    x_j ∈ {0, …, cap},  y_gk ∈ {0, 1}

    where ``x_j`` is the units at base ``j``, ``y_gk`` says group ``g`` is covered at least
    ``k`` times, ``w_g`` is its demand (``weights``), ``cap`` is ``max_per_base`` (default:
    ``units``) and ``K = units`` (``K = 1`` when ``q = 0``: Church and ReVelle's MCLP). CP-SAT
    solves it with integer coefficients (weights scaled when they are fractional).
    """

    weights: np.ndarray  # demand of each group (cells with the same covering bases)
    covers: np.ndarray  # bool [groups, bases]
    base_ids: tuple[str, ...]
    total: float  # all demand, covered or not

    @classmethod
    def from_cost_matrix(
        cls,
        cost: np.ndarray,
        weights: np.ndarray,
        threshold: float,
        base_ids: Sequence[str] | None = None,
    ) -> CoverageModel:
        """``cost`` is [cells, bases] minutes; a base covers a cell within ``threshold``."""
        cost = np.asarray(cost, dtype=float)
        weights = np.asarray(weights, dtype=float)
        if cost.ndim != 2 or cost.shape[0] != weights.shape[0]:
            raise ValueError("cost must be [cells, bases] with one weight per cell")
        if (weights < 0).any() or not np.isfinite(weights).all():
            raise ValueError("weights must be finite and non-negative")
        ids = tuple(base_ids) if base_ids is not None else tuple(map(str, range(cost.shape[1])))
        if len(ids) != cost.shape[1]:
            raise ValueError("one base id per column of cost")
        reach = cost <= threshold
        keep = reach.any(axis=1) & (weights > 0)
        rows, inverse = np.unique(reach[keep], axis=0, return_inverse=True)
        grouped = np.bincount(inverse.ravel(), weights=weights[keep], minlength=len(rows))
        return cls(grouped, rows, ids, float(weights.sum()))

    def expected_coverage(self, counts: np.ndarray, busy: float = 0.0) -> float:
        """The MEXCLP objective of a placement given as units per base."""
        k = self.covers.astype(int) @ np.asarray(counts, dtype=int)
        if busy == 0.0:
            return float(self.weights[k > 0].sum())
        return float((self.weights * (1.0 - busy**k)).sum())

    def solve(
        self,
        units: int,
        busy: float = 0.0,
        max_per_base: int | None = None,
        time_limit: float = 60.0,
        workers: int = 2,
    ) -> Placement:
        """Place ``units`` units to maximise expected covered demand."""
        if units < 1:
            raise ValueError("units must be at least 1")
        if not 0.0 <= busy < 1.0:
            raise ValueError("busy must be in [0, 1)")
        nb = len(self.base_ids)
        cap = units if max_per_base is None else min(units, max_per_base)
        if cap * nb < units:
            raise InfeasiblePlacement(f"{units} units do not fit {nb} bases of {cap} each")
        t0 = time.perf_counter()
        depth = 1 if busy == 0.0 else units  # beyond the first cover only MEXCLP pays
        gain = np.array([(1.0 - busy) * busy**k for k in range(depth)])  # per unit of demand
        coef = self.weights[:, None] * gain[None, :]
        scale = 1.0 if _integral(coef) else _SCALE_TARGET / max(float(coef.max()), 1e-12)

        m = cp_model.CpModel()
        x = [m.new_int_var(0, cap, f"x{j}") for j in range(nb)]
        m.add(sum(x) == units)
        terms = []
        for g in range(len(self.weights)):
            reach = np.flatnonzero(self.covers[g])
            y = [m.new_bool_var(f"y{g}_{k}") for k in range(depth)]
            m.add(sum(y) <= sum(x[j] for j in reach))
            for k in range(depth - 1):  # covers are counted in order: symmetry breaking
                m.add_implication(y[k + 1], y[k])
            terms += [round(coef[g, k] * scale) * y[k] for k in range(depth)]
        m.maximize(sum(terms))
        for j, n in enumerate(self._greedy(units, busy, cap)):
            m.add_hint(x[j], int(n))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = time_limit
        solver.parameters.num_workers = workers
        status = solver.solve(m)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise InfeasiblePlacement(f"no placement found ({solver.status_name(status)})")
        counts = np.array([solver.value(v) for v in x])
        objective = self.expected_coverage(counts, busy)
        return Placement(
            counts={self.base_ids[j]: int(n) for j, n in enumerate(counts) if n > 0},
            objective=objective,
            covered_share=objective / self.total if self.total > 0 else 0.0,
            optimal=status == cp_model.OPTIMAL,
            seconds=time.perf_counter() - t0,
        )

    def _greedy(self, units: int, busy: float, cap: int) -> np.ndarray:
        """Add units one at a time where they gain most: a good first solution to start from."""
        counts = np.zeros(len(self.base_ids), dtype=int)
        for _ in range(units):
            best, best_j = -1.0, 0
            for j in np.flatnonzero(counts < cap):
                counts[j] += 1
                value = self.expected_coverage(counts, busy)
                counts[j] -= 1
                if value > best:
                    best, best_j = value, int(j)
            counts[best_j] += 1
        return counts

    def brute_force(self, units: int, busy: float = 0.0, max_per_base: int | None = None) -> float:
        """The optimum by enumerating every placement: for checking the solver on small cases."""
        cap = units if max_per_base is None else max_per_base
        best = -1.0
        for combo in combinations_with_replacement(range(len(self.base_ids)), units):
            counts = np.bincount(np.array(combo), minlength=len(self.base_ids))
            if counts.max() <= cap:
                best = max(best, self.expected_coverage(counts, busy))
        return best

    def order(self, placement: Placement, busy: float = 0.0) -> list[str]:
        """The placement's units as a list of bases, most valuable first.

        Used to give the units that are on duty in fewer hours the less valuable bases.
        """
        left = np.array([placement.counts.get(b, 0) for b in self.base_ids])
        chosen = np.zeros_like(left)
        out: list[str] = []
        while left.sum() > 0:
            gains = []
            for j in np.flatnonzero(left > 0):
                chosen[j] += 1
                gains.append((self.expected_coverage(chosen, busy), -int(j)))
                chosen[j] -= 1
            _, neg_j = max(gains)
            chosen[-neg_j] += 1
            left[-neg_j] -= 1
            out.append(self.base_ids[-neg_j])
        return out


def _integral(values: np.ndarray) -> bool:
    # all(), not max(): a model with no demand in reach has no coefficients at all
    return bool(np.all(np.abs(values - np.round(values)) < 1e-9) and np.all(values < 2**50))
