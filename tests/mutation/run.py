#!/usr/bin/env python
"""Mutation-test planner's core modules with mutmut and report the score per module.

    python tests/mutation/run.py                      # the ten core modules (pyproject's only_mutate)
    python tests/mutation/run.py kpis distributions   # just these (``kpis``, ``planner/sim/kpis.py``
                                                      # and ``planner.sim.kpis`` all mean the same)
    python tests/mutation/run.py --report-only        # the table again, from the last results
    python tests/mutation/run.py --fail-under 85      # exit 1 if any chosen module is below 85 %

Every mutant of the chosen modules is tested afresh (mutmut is given their names), so the score
reflects the tests as they are now. Results stay in ``mutants/`` (git-ignored): the survivors'
diffs in ``mutants/mutation-survivors.md``, the table in ``mutants/mutation-scores.json``.
Configuration: ``[tool.mutmut]`` in pyproject.toml; background: tests/mutation/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = 85.0  # per cent of mutants killed, per module (the target)
DETECTED = ("killed", "timeout")  # a mutant the tests notice; everything else is a gap
COLUMNS = ("killed", "timeout", "survived", "no tests", "not checked", "other")


def configured_modules() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return list(tomllib.load(f)["tool"]["mutmut"]["only_mutate"])


def as_path(name: str) -> str:
    """``kpis``, ``sim.kpis``, ``planner.sim.kpis``, ``src/planner/sim/kpis.py`` ->
    ``src/planner/sim/kpis.py``; a bare name is looked up among the configured modules."""
    name = name.removesuffix(".py").replace("/", ".").replace("\\", ".").removeprefix("src.")
    if "." not in name:
        found = [p for p in configured_modules() if Path(p).stem == name]
        if len(found) == 1:
            return found[0]
    if not name.startswith("planner."):
        name = "planner." + name
    return "src/" + name.replace(".", "/") + ".py"


def module_of(path: str) -> str:
    """``src/planner/sim/kpis.py`` -> ``planner.sim.kpis`` (mutmut's name for the module)."""
    return path.removesuffix(".py").removeprefix("src/").replace("/", ".")


def mutmut_command() -> list[str]:
    beside = Path(sys.executable).parent / "mutmut"
    exe = str(beside) if beside.exists() else shutil.which("mutmut")
    if exe is None:
        sys.exit("mutmut is not installed in this environment (pip install 'mutmut>=3.8,<3.9')")
    return [exe]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MUTANT_UNDER_TEST", None)
    # Python processes the tests start in other folders must import the mutated copy, not the
    # editable install (which points at the checkout); see pythonpath/sitecustomize.py.
    extra = [str(ROOT / "mutants" / "src"), str(ROOT / "tests" / "mutation" / "pythonpath")]
    env["PYTHONPATH"] = os.pathsep.join([*extra, *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_mutmut(
    paths: list[str], max_children: int, again: bool = False, also: list[str] | None = None
) -> float:
    """Run mutmut on every mutant of ``paths``; with ``again``, only on the mutants of every
    function that the last results show with a mutant not killed (or not tested), and of the
    functions ``also`` names (``planner.sim.engine.xǁEngineǁ_eta``: a function changed since)."""
    names = [module_of(p) + ".*" for p in paths]
    if again:
        functions = {key.rsplit("__mutmut_", 1)[0] for p in paths for key in left_to_test(p)}
        names = sorted(f"{f}__mutmut_*" for f in functions | set(also or ()))
        if not names:
            print("every mutant of these modules is already killed", flush=True)
            return 0.0
    cmd = [*mutmut_command(), "run", "--max-children", str(max_children), *names]
    return _mutmut(cmd)


def left_to_test(path: str) -> list[str]:
    """Mutants of ``path`` with no result, or one other than killed / timed out."""
    from mutmut.stats import status_by_exit_code

    results = load_results(path) or {}
    return sorted(key for key, code in results.items() if status_by_exit_code[code] not in DETECTED)


def refresh_copy() -> None:
    """Bring mutmut's copy of ``src/`` up to date for every file it does not mutate.

    mutmut 3.8 copies a file into ``mutants/`` only when the copy is missing, and remakes only
    the modules it mutates: a module or data file changed since the first run (the defaults,
    the scenario schema) would stay as it was, and the tests would run against old code."""
    mutated = {ROOT / p for p in configured_modules()}
    src, copy = ROOT / "src", ROOT / "mutants" / "src"
    for path in src.rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts or path in mutated:
            continue
        target = copy / path.relative_to(src)
        if not target.exists() or target.read_bytes() != path.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    for target in copy.rglob("*.py"):  # a module removed from src/ is removed from the copy
        if "__pycache__" not in target.parts and not (src / target.relative_to(copy)).exists():
            target.unlink()


def _mutmut(cmd: list[str]) -> float:
    # mutants/src must exist before mutmut starts: Python skips, for good, a PYTHONPATH folder that
    # is missing at start-up, and the tests would then import the editable checkout instead.
    (ROOT / "mutants" / "src").mkdir(parents=True, exist_ok=True)
    refresh_copy()
    # mutmut 3.8 keeps its record of which tests call which function and adds to it only for
    # tests that are new: a function added since (or renamed) shows as "no tests" although the
    # tests call it. Collecting that record afresh takes under a minute; a stale one misleads.
    (ROOT / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    print("$", " ".join(cmd), flush=True)
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env=environment(), check=False)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"mutmut run failed (exit {done.returncode}); see its output above")
    return elapsed


def function_of(key: str) -> str:
    """``planner.sim.kpis.xǁSummaryǁmean__mutmut_3`` -> ``Summary.mean``."""
    name = key.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
    if name.startswith("xǁ"):
        return ".".join(part for part in name[2:].split("ǁ") if part)
    return name.removeprefix("x_")


def load_results(path: str) -> dict[str, int | None] | None:
    meta = ROOT / "mutants" / (path + ".meta")
    if not meta.is_file():
        return None
    with open(meta, encoding="utf-8") as f:
        return dict(json.load(f)["exit_code_by_key"])


def _w(column: str) -> int:
    return max(8, len(column))


def changed_lines(diff: str) -> str:
    lines = [
        line.strip()
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return "  ".join(lines)


def report(paths: list[str], elapsed: float | None, fail_under: float | None) -> int:
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    os.chdir(ROOT)  # mutmut's helpers read mutants/ relative to the working directory
    rows: list[dict[str, object]] = []
    survivors: list[tuple[str, str, str, str]] = []  # module, key, status, diff
    missing = []
    for path in paths:
        results = load_results(path)
        if results is None:
            missing.append(path)
            continue
        counts: Counter[str] = Counter()
        for key, code in sorted(results.items()):
            status = status_by_exit_code[code]
            counts[status if status in COLUMNS else "other"] += 1
            if status not in DETECTED:
                try:
                    diff = get_diff_for_mutant(key, path=path)
                except Exception as exc:  # a report, not a gate: show what we have
                    diff = f"(no diff: {exc})"
                survivors.append((module_of(path), key, status, diff))
        total = sum(counts.values())
        detected = sum(counts[s] for s in DETECTED)
        score = 100.0 * detected / total if total else float("nan")
        rows.append({"module": module_of(path), "total": total, "score": score, **counts})

    width = max([len(str(r["module"])) for r in rows] + [len("module"), len("all")])
    header = f"{'module':<{width}} " + " ".join(
        f"{c:>{_w(c)}}" for c in (*COLUMNS, "total", "score")
    )
    print()
    print(header)
    print("-" * len(header))
    for r in rows:
        cells = " ".join(f"{r.get(c, 0):>{_w(c)}}" for c in (*COLUMNS, "total"))
        flag = "" if float(str(r["score"])) >= TARGET else "  < target"
        print(f"{r['module']:<{width}} {cells} {r['score']:>7.1f}%{flag}")
    overall: Counter[str] = Counter()
    for r in rows:
        overall.update({c: int(str(r.get(c, 0))) for c in (*COLUMNS, "total")})
    if rows:
        score = 100.0 * sum(overall[s] for s in DETECTED) / overall["total"]
        print("-" * len(header))
        cells = " ".join(f"{overall[c]:>{_w(c)}}" for c in (*COLUMNS, "total"))
        print(f"{'all':<{width}} {cells} {score:>7.1f}%")
    print(f"\nscore = (killed + timeout) / total; target {TARGET:.0f} % per module")
    if elapsed is not None:
        print(f"mutmut run took {elapsed:.0f} s")
    for path in missing:
        print(f"{path}: no results yet (run without --report-only)")

    if survivors:
        print(f"\n{len(survivors)} mutants not killed:")
        for _module, key, status, diff in survivors:
            print(f"  {key}  [{status}]  {changed_lines(diff)[:110]}")
    (ROOT / "mutants").mkdir(exist_ok=True)
    out = ROOT / "mutants" / "mutation-survivors.md"
    with open(out, "w", encoding="utf-8") as f:
        f.write("# Mutants the tests did not kill\n\n")
        f.write("Inspect one with `mutmut show NAME`; put it on disk with `mutmut apply NAME`\n")
        f.write("(then undo that with git).\n")
        for module, key, status, diff in survivors:
            f.write(f"\n## {key} ({status})\n\n{module}: `{function_of(key)}`\n\n")
            f.write(f"```diff\n{diff}\n```\n")
    with open(ROOT / "mutants" / "mutation-scores.json", "w", encoding="utf-8") as f:
        json.dump({"elapsed_seconds": elapsed, "modules": rows}, f, indent=2)
    print(f"\ndiffs: {out.relative_to(ROOT)}")

    if fail_under is not None:
        below = [r["module"] for r in rows if float(str(r["score"])) < fail_under]
        if below or missing:
            print(f"below {fail_under:.0f} %: {', '.join(map(str, below + missing))}")
            return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "modules", nargs="*", help="modules to mutate (default: all in only_mutate)"
    )
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutants (default 2)")
    parser.add_argument("--report-only", action="store_true", help="only print the last results")
    parser.add_argument(
        "--again",
        action="store_true",
        help="test again only the functions with a mutant not killed in the last results "
        "(valid while tests are only added: a killed mutant stays killed)",
    )
    parser.add_argument(
        "--also",
        nargs="*",
        default=[],
        metavar="FUNCTION",
        help="with --again: functions changed since the last results, all of whose mutants are "
        "tested again (names as mutmut gives them, e.g. 'planner.sim.kpis.x_interval')",
    )
    parser.add_argument("--fail-under", type=float, metavar="PCT", help="exit 1 below this score")
    args = parser.parse_args()

    configured = configured_modules()
    paths = [as_path(m) for m in args.modules] or configured
    unknown = [p for p in paths if p not in configured]
    if unknown:
        sys.exit(f"not in [tool.mutmut] only_mutate: {', '.join(unknown)}")
    elapsed = (
        None if args.report_only else run_mutmut(paths, args.max_children, args.again, args.also)
    )
    return report(paths, elapsed, args.fail_under)


if __name__ == "__main__":
    sys.exit(main())
