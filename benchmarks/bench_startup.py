"""How long a new process takes to be ready: ``import planner`` and ``planner --help``, beside
a bare Python and ``import simpy`` (the engine's own library) in the same run.

Each is started ``RUNS`` times as a fresh process; the median wall time is reported, and the
ratio to a bare ``python -c pass``. The issue's bound: both under 0.5 s.

Run from the project root: ``python benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 15


def seconds(cmd: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    py = sys.executable
    planner = Path(py).with_name("planner")
    exe = str(planner) if planner.exists() else shutil.which("planner") or "planner"
    rows = [
        ("python -c pass", [py, "-c", "pass"]),
        ("python -c 'import simpy'", [py, "-c", "import simpy"]),
        ("python -c 'import planner'", [py, "-c", "import planner"]),
        ("planner --help", [exe, "--help"]),
    ]
    bare = None
    print(f"{'process':32} {'median s':>9} {'× bare':>7}  ({RUNS} runs each)")
    for label, cmd in rows:
        s = seconds(cmd)
        bare = bare or s
        print(f"{label:32} {s:9.3f} {s / bare:7.1f}")


if __name__ == "__main__":
    main()
