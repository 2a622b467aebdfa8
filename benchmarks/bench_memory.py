"""Peak memory of a run: the call log streamed to Parquet against the log kept in memory.

Each measurement is a fresh process doing what `planner run` does: the scenario and today's
service (its baseline) on the same calls, R replications each, the scenario's call log written
to events.parquet. "streamed" sends the log to the file one replication at a time
(``simulate(log_to=path)``, the baseline's log to ``DiscardLog``); "in memory" is the old path
(``simulate`` keeps both logs, then ``log.to_parquet``). Peak RSS is the child's
``ru_maxrss``, read by a small wrapper process of its own so no other run is mixed in. The
scenario is Oslo/Akershus over 30 days (the warm-up week included: about 1,450 calls a
replication), so 1,000 replications finish in minutes on 2 cores. Streamed, the peak must be
flat within 20 % from 10 to 1,000 replications; the script exits 1 otherwise.

    python benchmarks/bench_memory.py [--function] [REPLICATIONS ...]   # default 10 100 1000

"streamed" is the real command, ``python -m planner run --force``; ``--function`` measures
``simulate(log_to=)`` in a bare process instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HORIZON_DAYS = 30.0
FLAT = 0.20

RUN = """
import sys
from pathlib import Path
from planner import load_scenario
from planner.sim.compare import baseline_of
from planner.sim.event_log import DiscardLog
from planner.sim.run import simulate
scenario_file, reps, out, mode = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
s = load_scenario(scenario_file)
if mode == "streamed":
    simulate(s, reps, log_to=out / "events.parquet")
    simulate(baseline_of(s), reps, log_to=DiscardLog())
else:
    results, base = simulate(s, reps), simulate(baseline_of(s), reps)
    results.log.to_parquet(out / "events.parquet", index=False)
"""

MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
if done.returncode:
    sys.exit(done.stderr[-2000:])
print(json.dumps(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
"""


def peak_rss(argv: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one fresh process running ``argv``."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - started
    kib = json.loads(done.stdout)  # Linux reports ru_maxrss in KiB
    return kib * 1024 / 1e6, seconds


def command(mode: str, scenario: Path, replications: int, out: Path, cli: bool) -> list[str]:
    if cli and mode == "streamed":
        return [sys.executable, "-m", "planner", "run", str(scenario), "--replications",
                str(replications), "--out", str(out), "--force"]  # fmt: skip
    return [sys.executable, "-c", RUN, str(scenario), str(replications), str(out), mode]


def main() -> None:
    args = sys.argv[1:]
    cli = "--function" not in args
    counts = [int(a) for a in args if a != "--function"] or [10, 100, 1000]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario = folder / "oslo_30_days.toml"
        text = (ROOT / "simulations" / "oslo_akershus.toml").read_text("utf-8")
        scenario.write_text(f"{text}\n[run]\nhorizon_days = {HORIZON_DAYS}\n", "utf-8")
        print(
            f"peak RSS of a run (scenario + baseline, R replications each): Oslo/Akershus, "
            f"{HORIZON_DAYS:g} days; streamed via {'planner run' if cli else 'simulate(log_to=)'}"
        )
        print(f"{'R':>6} {'streamed MB':>12} {'s':>7} {'in memory MB':>13} {'s':>7} {'ratio':>6}")
        streamed = []
        for r in counts:
            row = []
            for mode in ("streamed", "memory"):
                out = folder / f"{mode}_{r}"
                out.mkdir()
                row.append(peak_rss(command(mode, scenario, r, out, cli)))
            (s_mb, s_s), (m_mb, m_s) = row
            streamed.append(s_mb)
            print(f"{r:>6} {s_mb:>12.0f} {s_s:>7.1f} {m_mb:>13.0f} {m_s:>7.1f} {m_mb / s_mb:>6.2f}")
    spread = max(streamed) / min(streamed) - 1
    verdict = "flat" if spread <= FLAT else "NOT flat"
    print(
        f"streamed peak RSS from {counts[0]} to {counts[-1]} replications: +{spread:.0%} "
        f"({verdict}, limit {FLAT:.0%})"
    )
    if spread > FLAT:
        sys.exit(1)


if __name__ == "__main__":
    main()
