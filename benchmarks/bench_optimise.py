"""Location model on the full region: time to proven optimality, and MCLP against spopt."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from planner import load_scenario
from planner.optimise.coverage import CoverageModel
from planner.optimise.loop import instance

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    t0 = time.perf_counter()
    inst = instance(load_scenario(ROOT / "simulations" / "oslo_akershus.toml"))
    print(
        f"region instance: {len(inst.calls_per_cell):,} cells x {len(inst.bases)} candidate bases "
        f"(built in {time.perf_counter() - t0:.2f} s)"
    )
    for busy in (0.0, 0.4):
        t = time.perf_counter()
        model = inst.coverage()
        results = [model.solve(p, busy) for p in range(1, 11)]
        total = time.perf_counter() - t
        proven = all(r.optimal for r in results)
        print(
            f"MEXCLP busy={busy}: p = 1..10 all {'proven optimal' if proven else 'NOT proven'} in "
            f"{total:.2f} s in all (p = 10 alone {results[-1].seconds:.2f} s; "
            f"{len(model.weights)} merged demand groups)"
        )
    weights = np.round(inst.calls_per_cell * 100)
    t = time.perf_counter()
    ours = CoverageModel.from_cost_matrix(inst.response, weights, 20.0, inst.bases).solve(
        10, max_per_base=1
    )
    mine = time.perf_counter() - t
    try:
        import pulp
        import spopt.locate as locate
    except ImportError:
        print(f"MCLP p=10, 20 min: planner {mine:.3f} s; spopt not installed")
        return
    t = time.perf_counter()
    model = locate.MCLP.from_cost_matrix(inst.response, weights, 20.0, p_facilities=10)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    theirs = time.perf_counter() - t
    same = ours.objective == float(model.problem.objective.value())
    print(
        f"MCLP p=10, 20 min, same instance: planner {mine:.3f} s, spopt (CBC) {theirs:.3f} s "
        f"-> {theirs / mine:.1f}x faster; objectives equal: {same}"
    )


if __name__ == "__main__":
    main()
