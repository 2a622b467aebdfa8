"""Economics and report: Monte Carlo draws per second, and the time to write each report.

Run from the project root: python benchmarks/bench_economics.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from planner import load_scenario, simulate
from planner.economics.appraisal import appraise, inputs, monte_carlo
from planner.report.document import report, to_html, write_pdf
from planner.sim.compare import baseline_of

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    scenario = load_scenario(ROOT / "simulations" / "oslo_akershus.toml")
    res = simulate(scenario, replications=5)
    base = simulate(baseline_of(scenario), replications=5)
    a = appraise(scenario, res.per_replication, base.per_replication)
    x = inputs(scenario)
    x |= {f"sim.{c}": float(a.per_rep[c].mean()) for c in a.per_rep.columns.drop("replication")}
    for draws in (10_000, 100_000):
        t = timed(lambda d=draws: monte_carlo(x, a.per_rep, draws=d, seed=1))
        print(f"Monte Carlo {draws:>7,} draws: {t * 1000:7.1f} ms  ({draws / t:,.0f} draws/s)")
    t = timed(lambda: appraise(scenario, res.per_replication, base.per_replication))
    print(f"whole appraisal (point, per replication, tornado, 10,000 draws): {t * 1000:.1f} ms")

    import json

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        res.log.to_parquet(folder / "events.parquet", index=False)
        summary = res.summary() | {
            "baseline": {"per_replication": base.per_replication.to_dict(orient="list")}
        }
        (folder / "summary.json").write_text(json.dumps(summary))
        (folder / "scenario.toml").write_text(
            (ROOT / "simulations" / "oslo_akershus.toml").read_text()
        )
        t_compose = timed(lambda: report(folder, "nb"), repeat=3)
        composed = report(folder, "nb")
        t_html = timed(lambda: to_html(composed), repeat=3)
        t_pdf = timed(lambda: write_pdf(composed, folder / "r.pdf"), repeat=3)
        print(
            f"report: read and compose {t_compose:.2f} s; HTML {t_html * 1000:.0f} ms; "
            f"PDF {t_pdf * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
