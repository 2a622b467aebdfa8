"""Checking and calibrating a call log of 100,000 calls over five years (the issue's target: under
30 s and 1 GB), beside the least any tool must do with the same file in the same run: pandas
reading it (``read_csv`` of every cell as text), and scipy fitting the same times on scene
(``stats.gamma.fit`` and ``stats.lognorm.fit`` per kind).

The log is made here by ``planner calls synth`` (the default service over five years, at the
rate that gives about 100,000 calls, 3 % dirt, in the AMK example's own columns) in a temporary
folder. Peak memory is the process's maximum resident set (``resource.getrusage``), read in a
fresh process per step so one step's peak is not another's.

Run from the project root: ``python benchmarks/bench_calllog.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "examples" / "mappings" / "amk_oslo.toml"

STEP = r"""
import json, resource, sys, time
from pathlib import Path
what, log, mapping, out = sys.argv[1:5]
t0 = time.perf_counter()
if what == "pandas":
    import pandas as pd
    frame = pd.read_csv(log, sep=";", dtype=str, keep_default_na=False, na_values=[""])
    n = len(frame)
elif what == "scipy":
    import numpy as np, pandas as pd
    from scipy import stats
    frame = pd.read_csv(log, sep=";", dtype=str, keep_default_na=False, na_values=[""])
    t = {c: pd.to_datetime(frame[c], format="%d.%m.%Y %H:%M", errors="coerce")
         for c in ("Fremme", "Avreist")}
    minutes = (t["Avreist"] - t["Fremme"]).dt.total_seconds() / 60
    n = 0
    for kind, rows in frame.groupby("Hendelsestype").groups.items():
        x = np.maximum(minutes[rows].dropna().to_numpy(), 0.25)
        if len(x) >= 30:
            stats.gamma.fit(x, floc=0)
            stats.lognorm.fit(x, floc=0)
            n += len(x)
else:
    from planner.cli import main
    sys.argv = ["planner", *what.split(), log, "--mapping", mapping, "--out", out]
    try:
        main()
    except SystemExit as exc:
        assert not exc.code, exc.code
    n = 0
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak": peak, "n": n}))
"""


def step(what: str, log: Path, out: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", STEP, what, str(log), str(MAPPING), str(out)],
        capture_output=True, text=True, check=True, cwd=out.parent,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log = folder / "five_years.csv"
        scenario = folder / "busier.toml"
        # the default service at the rate that gives about 20,000 calls a year
        text = (ROOT / "simulations" / "oslo_akershus.toml").read_text("utf-8")
        scenario.write_text(text + "\n[demand]\nrate_per_1000_per_year = 12.3\n", "utf-8")
        subprocess.run(
            [sys.executable, "-m", "planner", "calls", "synth", str(scenario), "--out", str(log),
             "--years", "5", "--dirt", "0.03", "--mapping", str(MAPPING)],
            check=True, capture_output=True, cwd=folder,
        )  # fmt: skip
        rows = sum(1 for _ in log.open(encoding="utf-8")) - 1
        print(f"log: {rows:,} rows over 5 years, {log.stat().st_size / 1e6:.1f} MB")
        read = step("pandas", log, folder / "unused.parquet")
        check = step("calls check", log, folder / "calls.parquet")
        fits = step("scipy", log, folder / "unused.parquet")
        calibrate = step("calibrate", log, folder / "fitted.toml")
    both = check["seconds"] + calibrate["seconds"]
    for label, figures in (
        ("pandas read_csv, every cell as text", read),
        ("scipy gamma + lognormal fits per kind", fits),
        ("planner calls check", check),
        ("planner calibrate (check included)", calibrate),
    ):
        print(f"{label:38} {figures['seconds']:6.2f} s, peak {figures['peak'] / 1e6:5.0f} MB")
    print(
        f"check + calibrate: {both:.2f} s (target < 30 s); calibrate / read_csv = "
        f"{calibrate['seconds'] / read['seconds']:.1f}x, calibrate / scipy's fits = "
        f"{calibrate['seconds'] / fits['seconds']:.1f}x"
    )


if __name__ == "__main__":
    main()
