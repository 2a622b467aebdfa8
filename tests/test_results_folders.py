"""Results folders (issue 13): a results folder is always one whole run, ``--out`` never replaces
what planner did not write, a frontier reaches a report only from the same scenario and region,
and a tampered results folder is one line naming the file.

The kill test runs ``planner run`` in a subprocess that wraps planner.store.files' own functions to
SIGKILL itself at one point of the write phase (no hook in the production code), then checks
the folder is the old run or the new run, whole, and that the next run removes the leftovers.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import tomli_w

from planner.store.files import (
    REPORT_GENERATOR,
    mismatch,
    read_manifest,
    results_folder,
    written_by_planner,
)

ROOT = Path(__file__).resolve().parent.parent
TINY: dict[str, Any] = {  # one unit, an abstract region, two days: a run takes a second
    "region": {"kind": "abstract", "population": 100_000, "travel_minutes": 0.0},
    "run": {"horizon_days": 2, "warmup_days": 0, "replications": 1},
    "fleet": {"units": [{"name": "U1", "base": "base", "shift": "always"}]},
    "dispatch": {"policy": "health-first"},
}
BERGEN: dict[str, Any] = {  # a geodata region, for the report
    "region": {"name": "bergen"},
    "run": {"horizon_days": 2, "warmup_days": 0, "replications": 2},
    "fleet": {"units": [{"name": "A", "base": "hb_sandviken", "shift": "day"}]},
    "dispatch": {"policy": "health-first"},
}
RUN_FILES = [
    "cohorts.csv", "economics.json", "events.parquet", "kpis.csv", "scenario.toml", "summary.json"
]  # fmt: skip
FRONTIER = pd.DataFrame(
    {
        "units": [1, 2],
        "cost_per_year": [20e6, 40e6],
        "share_health_first": [0.25, 0.46],
        "share_health_first_low": [0.24, 0.45],
        "share_health_first_high": [0.26, 0.47],
        "police_hours_freed": [13e3, 24e3],
        "police_hours_freed_low": [12.9e3, 23.8e3],
        "police_hours_freed_high": [13.1e3, 24.2e3],
    }
)


def _scenario(path: Path, base: dict[str, Any], name: str, **over: Any) -> Path:
    data = {**base, "scenario": {"name": name}, **over}
    path.write_text(tomli_w.dumps(data), "utf-8")
    return path


def _planner(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from planner.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def _one_line(r: Any, expected: str) -> None:
    """Exit code 2 and exactly the expected line on stderr, nothing else."""
    assert r.code == 2, (r.code, r.out[-500:], r.err[-1500:])
    assert r.err.splitlines() == [expected], r.err


def _tree(top: Path) -> dict[str, tuple[int, int, int, int]]:
    """Every entry under ``top`` (not following links) with its type, size, mtime and inode."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            seen[str(p.relative_to(top))] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino)
    return seen


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "run.json").read_text("utf-8")))


def _restamp(folder: Path) -> None:
    """Rewrite run.json for the files as they are now: a tamperer who also fixes the manifest."""
    m = _manifest(folder)
    for part in (m, m.get("optimise")):
        for f in part["files"] if part else []:
            f["size"] = (folder / f["name"]).stat().st_size
            f["sha256"] = _sha(folder / f["name"])
    (folder / "run.json").write_text(json.dumps(m), "utf-8")


def _siblings(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir() if p.name != target.name)


# -- what a run writes ------------------------------------------------------------------------


def test_run_writes_a_manifest_of_every_file_and_leaves_nothing_beside(
    cli: Any, tmp_path: Path
) -> None:
    f = _scenario(tmp_path / "tiny.toml", TINY, "tiny")
    out = tmp_path / "results" / "tiny"
    r = cli("run", f, "--out", out)
    assert r.code == 0, r.err
    m = _manifest(out)
    assert (m["tool"], m["kind"], m["scenario"], m["region"]) == (
        "planner",
        "run",
        "tiny",
        "abstract",
    )
    assert "optimise" not in m and len(m["run_id"]) == 32 and m["created"].endswith("+00:00")
    assert m["files"] == [
        {"name": n, "size": (out / n).stat().st_size, "sha256": _sha(out / n)} for n in RUN_FILES
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted([*RUN_FILES, "run.json"])
    assert _siblings(out) == []
    wrote = "events.parquet, kpis.csv, cohorts.csv, summary.json, scenario.toml, economics.json"
    assert f"wrote {out}/: {wrote}" in r.out


def test_a_baseline_only_run_does_not_keep_the_previous_economics(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("run", _scenario(tmp_path / "a.toml", TINY, "service"), "--out", out).code == 0
    assert (out / "economics.json").is_file()
    today = _scenario(tmp_path / "b.toml", TINY, "today", dispatch={"policy": "baseline"})
    r = cli("run", today, "--out", out)
    assert r.code == 0, r.err
    assert not (out / "economics.json").exists()
    assert [f["name"] for f in _manifest(out)["files"]] == [
        "cohorts.csv",
        "events.parquet",
        "kpis.csv",
        "scenario.toml",
        "summary.json",
    ]
    assert json.loads((out / "summary.json").read_text())["scenario"] == "today"


# -- killed while writing ---------------------------------------------------------------------

KILLER = r"""
import os, signal, sys
import planner.store.files as files

point, k = sys.argv[1], int(sys.argv[2])


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if point == "file":  # after the k-th results file is written into the staging folder
    written, real_write = [0], files.Stage.write

    def write(self, name, fn):
        real_write(self, name, fn)
        written[0] += 1
        if written[0] == k:
            die()

    files.Stage.write = write
elif point == "manifest":  # every file written, before the manifest
    files._write_manifest = lambda staging, manifest: die()
elif point == "swap":  # the manifest written, before the swap
    files._swap = lambda staging, target: die()
elif point == "exchanged":  # swapped in, the old folder not yet removed
    real_exchange = files.exchange

    def exchange(a, b):
        if real_exchange(a, b):
            die()
        return False

    files.exchange = exchange
else:  # the fallback without RENAME_EXCHANGE: between its renames, or after both
    files.exchange = lambda a, b: False
    real_rename = os.rename

    def rename(src, dst):
        real_rename(src, dst)
        if point == "aside" and ".aside-" in os.fspath(dst):
            die()
        if point == "renamed" and ".staging-" in os.fspath(src):
            die()

    os.rename = rename

from planner.cli import main

sys.argv = ["planner", *sys.argv[3:]]
main()
"""


def _state(target: Path) -> str | None:
    """The scenario of the one whole run at ``target``, or None if there is no folder."""
    if not target.exists():
        return None
    m = read_manifest(target)
    assert m is not None and m.run is not None, sorted(os.listdir(target))
    assert mismatch(target, m) is None
    summary = json.loads((target / "summary.json").read_text("utf-8"))
    assert summary["scenario"] == m.run.scenario
    assert summary["seed"] == int(m.run.scenario.split()[-1])  # each run has its own seed
    names = sorted(os.listdir(target))
    assert names == sorted([*RUN_FILES, "run.json"]), names
    return m.run.scenario


def test_a_run_killed_anywhere_in_its_writes_leaves_the_old_run_or_the_new_whole(
    tmp_path: Path,
) -> None:
    target = tmp_path / "results" / "out"  # the scenario files are kept out of its folder

    def run(n: int, point: str | None = None, k: int = 0) -> None:
        f = _scenario(tmp_path / f"s{n}.toml", TINY, f"run {n}")
        args = ["run", str(f), "--seed", str(n), "--out", str(target)]
        if point is None:
            done = _planner(*args, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            return
        done = subprocess.run(
            [sys.executable, "-c", KILLER, point, str(k), *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        assert done.returncode == -signal.SIGKILL, (point, done.returncode, done.stderr[-2000:])

    run(1)
    assert _state(target) == "run 1"
    steps = [  # (run, where it is killed, what the folder then holds)
        (2, "file", 1, "run 1"),
        (3, "file", 3, "run 1"),
        (4, "manifest", 0, "run 1"),
        (5, "swap", 0, "run 1"),
        (6, "exchanged", 0, "run 6"),
        (7, "aside", 0, None),  # between the fallback's renames: no folder until the next run
        (8, "file", 1, "run 6"),  # ... which puts the old one back first
        (9, "renamed", 0, "run 9"),
    ]
    before: list[str] = []
    for n, point, k, holds in steps:
        run(n, point, k)
        assert _state(target) == holds, (n, point)
        left = _siblings(target)
        assert left, (n, point)  # a killed writer leaves its staging (or the old folder)
        assert not set(before) & set(left), (n, before, left)  # the previous ones were removed
        if point == "aside":
            (aside,) = [target.parent / x for x in left if ".aside-" in x]
            assert read_manifest(aside).run.scenario == "run 6"  # type: ignore[union-attr]
        before = left
    run(10)
    assert _state(target) == "run 10"
    assert _siblings(target) == []


def test_leftovers_of_a_live_writer_or_not_planners_are_kept(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    live = tmp_path / f".out.staging-{os.getpid()}-0123abcd"  # this process: still writing
    live.mkdir()
    (live / ".planner-staging").write_text("{}")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    foreign = tmp_path / f".out.staging-{dead}-0123abcd"  # a dead pid, but not planner's
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    stale = tmp_path / f".out.staging-{dead}-4567cdef"  # a dead planner's
    stale.mkdir()
    (stale / ".planner-staging").write_text("{}")
    (stale / "events.parquet").write_bytes(b"half")
    assert cli("run", _scenario(tmp_path / "t.toml", TINY, "tiny"), "--out", out).code == 0
    assert live.is_dir() and (foreign / "thesis.tex").read_text() == "mine"
    assert not stale.exists()


def test_a_temporary_report_file_left_by_a_dead_writer_is_removed(
    cli: Any, bergen_run: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(bergen_run, folder)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    tmp = folder / f".report-en.html.tmp-{dead}-89abcdef.html"
    tmp.write_text("half a report")
    r = cli("report", folder, "--lang", "en")
    assert r.code == 0, r.err
    assert not tmp.exists() and written_by_planner(folder / "report-en.html")


# -- --out never replaces what is not planner's -------------------------------------------------


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder this process cannot write in (immutable when run as root)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(ro)], check=False).returncode != 0:
            pytest.skip("running as root where chattr +i is not available")
    else:
        ro.chmod(0o555)
    try:
        yield ro
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(ro)], check=False)
        ro.chmod(0o755)


def _out_cases(tmp: Path, ro: Path) -> dict[str, tuple[Path, str]]:
    """Each refused --out, as set up in ``tmp``, and its line."""
    (tmp / "mine").mkdir()
    (tmp / "mine" / "thesis.tex").write_text("mine")
    (tmp / "a-file").write_text("mine")
    (tmp / "link").symlink_to(tmp / "mine")
    run = tmp / "a-run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"tool": "planner", "kind": "run", "files": []}))
    (run / "notes.txt").write_text("mine")
    (tmp / "not-a-manifest").mkdir()
    (tmp / "not-a-manifest" / "run.json").write_text("[1, 2]")
    return {
        "device": (Path("/dev/null"), "--out: /dev/null is a device or other special file, not a folder"),
        "symlink": (tmp / "link", f"--out: {tmp / 'link'} is a symbolic link; planner does not replace one"),
        "file": (tmp / "a-file", f"--out: {tmp / 'a-file'} is a file, not a results folder"),
        "parent file": (tmp / "a-file" / "out", f"--out: {tmp / 'a-file'} is not a folder, so {tmp / 'a-file' / 'out'} cannot be made in it"),
        "deep parent file": (tmp / "a-file" / "x" / "out", f"--out: {tmp / 'a-file'} is not a folder, so {tmp / 'a-file' / 'x' / 'out'} cannot be made in it"),
        "empty path": (Path(""), "--out: '.' names no file or folder of its own (an empty path, . or ..); give a name"),
        "dot dot": (Path(".."), "--out: '..' names no file or folder of its own (an empty path, . or ..); give a name"),
        "not ours": (tmp / "mine", f"--out: {tmp / 'mine'} is a folder planner did not write (no run.json); give another or empty it"),
        "bad manifest": (tmp / "not-a-manifest", f"--out: {tmp / 'not-a-manifest' / 'run.json'}: not a planner manifest (the whole file: Input should be an object); planner keeps that folder"),
        "foreign manifest": (run, f"--out: {run / 'run.json'}: not a planner manifest (planner_version: Field required (and 4 more)); planner keeps that folder"),
        "read-only parent": (ro / "out", f"--out: cannot write in {ro} (a read-only folder)"),
    }  # fmt: skip


CASES = [
    "device",
    "symlink",
    "file",
    "parent file",
    "deep parent file",
    "empty path",
    "dot dot",
    "not ours",
    "bad manifest",
    "foreign manifest",
    "read-only parent",
]


@pytest.mark.parametrize("case", CASES)
def test_run_refuses_an_out_that_is_not_its_own_before_simulating(
    case: str, cli: Any, tmp_path: Path, read_only: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # "", "." and ".." are taken from here
    f = _scenario(tmp_path / "tiny.toml", TINY, "tiny")
    out, line = _out_cases(tmp_path, read_only)[case]
    before = _tree(tmp_path)
    _one_line(cli("run", f, "--out", out), line)  # one line: no simulation started either
    assert _tree(tmp_path) == before
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_a_run_folder_with_a_file_not_planners_is_kept(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    f = _scenario(tmp_path / "tiny.toml", TINY, "tiny")
    assert cli("run", f, "--out", out).code == 0
    (out / "notes.txt").write_text("mine")
    before = _tree(tmp_path)
    _one_line(
        cli("run", f, "--out", out),
        f"--out: {out} holds 'notes.txt', which planner did not write; move it away or give "
        "another --out",
    )
    assert _tree(tmp_path) == before


def test_an_empty_folder_is_taken(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir(mode=0o750)
    assert cli("run", _scenario(tmp_path / "t.toml", TINY, "tiny"), "--out", out).code == 0
    assert _manifest(out)["scenario"] == "tiny"
    assert stat.S_IMODE(out.stat().st_mode) == 0o750  # the folder's mode is kept


def test_optimize_refuses_its_out_before_optimising(cli: Any, tmp_path: Path) -> None:
    f = _scenario(tmp_path / "b.toml", BERGEN, "bergen small")
    _one_line(
        cli("optimize", f, "--out", "/dev/null"),
        "--out: /dev/null is a device or other special file, not a folder",
    )
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


# -- the report file ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bergen_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of a small Bergen scenario, two replications."""
    top = tmp_path_factory.mktemp("bergen")
    f = _scenario(top / "bergen.toml", BERGEN, "bergen small")
    done = _planner("run", f, "--out", top / "run", cwd=top)
    assert done.returncode == 0, done.stderr
    return top / "run"


def test_report_refuses_an_out_file_that_is_not_its_own(
    cli: Any, bergen_run: Path, tmp_path: Path
) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "notes.html").write_text("<html>mine</html>")
    ours = tmp_path / "ours.html"
    ours.write_text(f'<html><head><meta name="generator" content="{REPORT_GENERATOR} 0.0">')
    (tmp_path / "link.html").symlink_to(ours)
    locked = tmp_path / "locked.html"
    locked.write_text(ours.read_text())
    locked.chmod(0o444)
    (tmp_path / "a-file").write_text("mine")
    cases = {
        tmp_path / "dir": "is a folder; give a file name",
        Path("/dev/null"): "is a device or other special file, not a file",
        tmp_path / "link.html": "is a symbolic link; planner does not replace one",
        tmp_path / "notes.html": "exists and planner did not write it; give another name or "
        "remove it",
        locked: "is read-only or another user's; planner keeps it",
    }
    before = _tree(tmp_path)
    for path, what in cases.items():
        _one_line(cli("report", bergen_run, "--out", path), f"--out: {path} {what}")
    inner = tmp_path / "a-file" / "r.html"
    _one_line(
        cli("report", bergen_run, "--out", inner),
        f"--out: {tmp_path / 'a-file'} is not a folder, so {inner} cannot be made in it",
    )
    assert _tree(tmp_path) == before
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_report_replaces_its_own_file_keeping_its_mode(
    cli: Any, bergen_run: Path, tmp_path: Path
) -> None:
    ours = tmp_path / "r.pdf"
    ours.write_bytes(b"%PDF-1.4\n1 0 obj << /Creator (" + REPORT_GENERATOR.encode() + b" 0.0) >>")
    ours.chmod(0o640)
    assert written_by_planner(ours)
    r = cli("report", bergen_run, "--format", "pdf", "--lang", "en", "--out", ours)
    assert r.code == 0, r.err
    assert stat.S_IMODE(ours.stat().st_mode) == 0o640
    assert ours.stat().st_size > 10_000 and written_by_planner(ours)  # a whole report now
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.pdf"]


# -- the frontier -------------------------------------------------------------------------------


def _attach_frontier(folder: Path, scenario: str, region: str) -> None:
    """What `planner optimize --out FOLDER` writes, through the same API, without optimising."""
    with results_folder(folder, "optimise", scenario, region).staged() as stage:
        stage.write("frontier.csv", lambda p: FRONTIER.to_csv(p, index=False))
        stage.write("optimised.toml", lambda p: p.write_text("# proposal\n"))


def test_optimize_into_a_run_folder_brings_its_frontier_to_the_report(
    cli: Any, bergen_run: Path, tmp_path: Path
) -> None:
    from planner.report.folder import load_bundle

    folder = tmp_path / "run"
    shutil.copytree(bergen_run, folder)
    f = _scenario(tmp_path / "b.toml", BERGEN, "bergen small")
    r = cli("optimize", f, "--replications", "1", "--max-units", "2", "--out", folder)
    assert r.code == 0, r.err
    m = _manifest(folder)
    assert m["run_id"] == _manifest(bergen_run)["run_id"]  # the run is kept, as it was
    assert [x["name"] for x in m["files"]] == RUN_FILES
    assert (m["optimise"]["kind"], m["optimise"]["scenario"], m["optimise"]["region"]) == (
        "optimise",
        "bergen small",
        "bergen",
    )
    optimised = ["frontier.csv", "frontier.png", "optimised.toml", "roster.csv", "rounds.csv"]
    assert [x["name"] for x in m["optimise"]["files"]] == optimised
    assert "kept the run of the same scenario" in r.out
    frontier = load_bundle(folder).frontier
    assert frontier is not None
    assert list(frontier["units"]) == [1, 2]
    # running the same scenario again keeps the optimisation; another scenario drops it
    assert cli("run", f, "--seed", "9", "--out", folder).code == 0
    assert _manifest(folder)["optimise"]["run_id"] == m["optimise"]["run_id"]
    assert load_bundle(folder).frontier is not None
    other = _scenario(tmp_path / "o.toml", BERGEN, "bergen other")
    assert cli("run", other, "--out", folder).code == 0
    assert "optimise" not in _manifest(folder)
    assert not (folder / "frontier.csv").exists() and load_bundle(folder).frontier is None


def test_a_frontier_of_another_region_never_reaches_a_run_report(cli: Any, tmp_path: Path) -> None:
    from planner.report.folder import load_bundle

    folder = tmp_path / "out"
    _attach_frontier(folder, "bergen small", "bergen")  # optimize left a Bergen frontier here
    assert _manifest(folder)["kind"] == "optimise"
    _one_line(
        cli("report", folder),
        f"{folder}: holds an optimisation and no run (run `planner run SCENARIO --out {folder}` "
        "first)",
    )
    oslo = {
        **BERGEN,
        "region": {"name": "oslo_akershus"},
        "run": {**BERGEN["run"], "replications": 1},
    }
    oslo["fleet"] = {"units": [{"name": "A", "base": "oslo_legevakt", "shift": "day"}]}
    r = cli("run", _scenario(tmp_path / "oslo.toml", oslo, "bergen small"), "--out", folder)
    assert r.code == 0, r.err
    assert "optimise" not in _manifest(folder) and not (folder / "frontier.csv").exists()
    assert "; dropped the optimisation of 'bergen small' in bergen" in r.out
    assert load_bundle(folder).frontier is None


def test_a_frontier_not_in_the_manifest_is_ignored(bergen_run: Path, tmp_path: Path) -> None:
    from planner.report.folder import load_bundle

    folder = tmp_path / "run"
    shutil.copytree(bergen_run, folder)
    FRONTIER.to_csv(folder / "frontier.csv", index=False)  # put there by hand
    assert load_bundle(folder).frontier is None


# -- tampered results folders -------------------------------------------------------------------


def _json(obj: Any) -> Any:
    return lambda p: p.write_text(json.dumps(obj), "utf-8")


def _edit_summary(change: Any) -> Any:
    def edit(p: Path) -> None:
        s = json.loads(p.read_text("utf-8"))
        change(s)
        p.write_text(json.dumps(s), "utf-8")

    return edit


def _ragged(s: dict[str, Any]) -> None:
    s["per_replication"]["share_health_first"].pop()


def _unpaired(s: dict[str, Any]) -> None:
    s["baseline"]["per_replication"] = {
        k: v[:1] for k, v in s["baseline"]["per_replication"].items()
    }


def _no_kpi(s: dict[str, Any]) -> None:
    del s["per_replication"]["police_officer_hours"]


def _events_without_zone(p: Path) -> None:
    pd.read_parquet(p).drop(columns="zone").to_parquet(p)


def _events_text_flags(p: Path) -> None:
    pd.read_parquet(p).astype({"health_first": str}).to_parquet(p)


S = "summary.json: not a run's summary"
TAMPERED = [  # (file, how, the line after the folder's path)
    ("summary.json", _json(42), f"{S} (the whole file: Input should be a valid dictionary)"),
    ("summary.json", _json(None), f"{S} (the whole file: Input should be a valid dictionary)"),
    ("summary.json", lambda p: p.write_text("NaN"), f"{S} (the whole file: Input should be a valid dictionary)"),
    ("summary.json", lambda p: p.write_text("{"), "summary.json: not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ("summary.json", lambda p: p.write_bytes(b"\xff\xfe"), "summary.json: not valid JSON ('utf-8' codec can't decode byte 0xff in position 0: invalid start byte)"),
    ("summary.json", lambda p: p.write_text("1" * 5000), "summary.json: not valid JSON (Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase the limit)"),
    ("summary.json", _edit_summary(lambda s: s.update(kpis="a table")), f"{S} (kpis: Input should be a valid list)"),
    ("summary.json", _edit_summary(lambda s: s.update(per_replication=[1, 2])), f"{S} (per_replication: Input should be a valid dictionary)"),
    ("summary.json", _edit_summary(lambda s: s["per_replication"]["share_health_first"].__setitem__(0, "high")), f"{S} (per_replication.share_health_first[0]: Input should be a valid number)"),
    ("summary.json", _edit_summary(lambda s: s["baseline"].update(kpis=None)), f"{S} (baseline.kpis: Input should be a valid list)"),
    ("summary.json", _edit_summary(_ragged), "summary.json: per_replication: lists of [1, 2] values, not one length of at least one"),
    ("summary.json", _edit_summary(_unpaired), "summary.json: per_replication and baseline.per_replication are not paired"),
    ("summary.json", _edit_summary(_no_kpi), "summary.json: per_replication has no 'police_officer_hours'"),
    ("summary.json", _edit_summary(lambda s: s.pop("baseline")), "summary.json: has no baseline to compare against (a baseline-only scenario, or written by an older planner; run it again)"),
    ("events.parquet", lambda p: p.write_bytes(b""), "events.parquet: not a Parquet event log (Parquet file size is 0 bytes)"),
    ("events.parquet", lambda p: p.write_bytes(b"PAR1 garbage " * 100), "events.parquet: not a Parquet event log (Parquet magic bytes not found in footer. Either the file is corrupted or this is not a parquet file.)"),
    ("events.parquet", _events_without_zone, "events.parquet: has no column 'zone'"),
    ("events.parquet", _events_text_flags, "events.parquet: column 'health_first' is large_string, not bool"),
    ("frontier.csv", lambda p: p.write_text("a,b\n1,2\n"), "frontier.csv: has no column 'units'"),
    ("frontier.csv", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "frontier.csv: binary data, not a CSV table"),
    ("frontier.csv", lambda p: p.write_text(""), "frontier.csv: not a CSV table (No columns to parse from file)"),
    ("frontier.csv", lambda p: p.write_text(FRONTIER.assign(units="many").to_csv(index=False)), "frontier.csv: column 'units' holds something other than numbers"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "how", "line"), TAMPERED)
def test_a_tampered_file_is_one_line_naming_it(
    name: str, how: Any, line: str, cli: Any, bergen_run: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(bergen_run, folder)
    _attach_frontier(folder, "bergen small", "bergen")
    how(folder / name)
    _restamp(folder)
    before = _tree(tmp_path)
    _one_line(cli("report", folder), f"{folder}/{line}")
    assert _tree(tmp_path) == before  # no report written


def test_a_folder_that_is_not_one_whole_run_is_one_line(
    cli: Any, bergen_run: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(bergen_run, folder)
    again = f"run it again: planner run SCENARIO --out {folder}"
    (folder / "notes.txt").write_text("unlisted files are ignored")
    (folder / "summary.json").write_text("{}")  # another summary, same folder: a mix
    size = next(f["size"] for f in _manifest(folder)["files"] if f["name"] == "summary.json")
    _one_line(
        cli("report", folder),
        f"{folder}: not one whole run (summary.json has 2 bytes, run.json lists {size:,}); {again}",
    )
    shutil.copy(bergen_run / "summary.json", folder / "summary.json")
    events = bytearray((folder / "events.parquet").read_bytes())
    events[100] ^= 1
    (folder / "events.parquet").write_bytes(events)
    _one_line(
        cli("report", folder),
        f"{folder}: not one whole run (events.parquet is not the file run.json lists (SHA-256 "
        f"differs)); {again}",
    )
    shutil.copy(bergen_run / "events.parquet", folder / "events.parquet")
    (folder / "kpis.csv").unlink()
    _one_line(cli("report", folder), f"{folder}: not one whole run (kpis.csv is missing); {again}")
    (folder / "run.json").unlink()
    _one_line(
        cli("report", folder),
        f"{folder}: not one whole run (no run.json: written by an older planner or not by "
        f"planner); {again}",
    )
