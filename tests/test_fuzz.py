"""Fuzzing, round two (issue 13): the families of hostile input the structural fuzzing of
test_hostile_inputs.py does not generate, through the real entry point, in this process.

- extreme numbers in every numeric field of a scenario: ±0, subnormals, ±1e308, ±inf, nan,
  integers past 2**63 and integer literals of more than 4,300 digits;
- rich markup (``[/]``, ``[link=…]``, ``[bold]``), terminal escapes and control characters
  (``\\x1b[31m``, ``\\r``, ``\\x00``, bidi overrides) in every string and every key: names, zone
  names, ids, shift names;
- special files (a FIFO, links to /dev/zero and /dev/urandom, a folder, a dangling link, a link
  loop, a socket, an unreadable file) wherever a command takes a path;
- every option of validate, run, compare, optimize, sweep, report, store list, store upgrade and
  params, with random values (commands that would simulate get an input that fails validation,
  so only option handling and validation run).

The property of every case: exit code 0 or 2; no traceback (no exception escapes the entry
point, no "Traceback" in the output); if the exit code is 2, each line on stderr is one problem
(starting with the file's name where the command read one, and exactly one line for a command
other than validate); no line printed holds a raw control character. A scenario that validates
is also run (1 replication, one day of an abstract region, or Bergen), through `planner run` for
the first of them and through the core for the rest, so what validation lets through must not
crash the simulation. Each case has a time limit: a hang is a failure.

The number of cases each test ran is added to the session's tally, which the end of the pytest
run prints ("fuzzing: N generated cases, 0 tracebacks").
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import os
import shutil
import signal
import socket
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import strategies as st

from planner.scenario.parameters import deep_merge, default_values

ROOT = Path(__file__).resolve().parent.parent

NUMBER_EXAMPLES = 700
STRING_EXAMPLES = 500
OPTION_EXAMPLES = 700
RUNS_THROUGH_THE_CLI = 40
"""Scenarios that validate and are run through `planner run` (the rest through the core)."""
COMPARES = 8
"""Scenarios with hostile names that validate and are compared (with themselves) too."""
SECONDS_PER_CASE = 120
MOST_REPLICATIONS = 500  # a valid scenario of more is run with this many

TINY: dict[str, Any] = {  # an abstract region, one unit, one day: a replication in 40 ms
    "scenario": {"name": "tiny"},
    "region": {"kind": "abstract", "population": 1_000_000, "travel_minutes": 10.0},
    "run": {"horizon_days": 1, "warmup_days": 0, "replications": 1},
    "fleet": {"units": [{"name": "U1", "base": "base", "shift": "always"}]},
    "dispatch": {"policy": "health-first"},
}
BERGEN: dict[str, Any] = {  # a geodata region: zone names, base and district ids
    "scenario": {"name": "bergen"},
    "region": {"name": "bergen"},
    "run": {"horizon_days": 1, "warmup_days": 0, "replications": 1},
    "demand": {"zone_rate_factors": {"460101": 1.2}},
    "police": {"patrols": {"vest": 14}},
    "fleet": {
        "shifts": {"late": {"start_hour": 11, "hours": 12, "days": ["mon", "sat"]}},
        "units": [{"name": "A", "base": "hb_sandviken", "shift": "late"}],
    },
    "dispatch": {"policy": "health-first"},
}


def _full(base: dict[str, Any]) -> dict[str, Any]:
    """Every field of a scenario written out: the defaults, then the base."""
    return deep_merge(default_values(), base)


Path_ = tuple[str | int, ...]


def _leaves(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list) and node:
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    else:
        yield path, node


def _tables(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, str]]:
    """(path of a table, one of its keys) for every key of every table."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path, k
            yield from _tables(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _tables(v, (*path, i))


def _field(path: Path_) -> str:
    """A path's field: list positions folded, so a 168-value profile is one field, not 168."""
    return ".".join("[]" if isinstance(p, int) else p for p in path)


def _get(data: Any, path: Path_) -> Any:
    for p in path:
        data = data[p]
    return data


SENTINEL = "@@fuzz-literal@@"


def _with_literal(data: dict[str, Any], path: Path_, literal: str) -> bytes:
    """The scenario as TOML with the value at ``path`` written as ``literal`` (a TOML number
    Python could not write: ``nan``, ``-0.0``, a 5,000-digit integer)."""
    d = copy.deepcopy(data)
    _get(d, path[:-1])[path[-1]] = SENTINEL
    text = tomli_w.dumps(d)
    assert text.count(f'"{SENTINEL}"') == 1
    return text.replace(f'"{SENTINEL}"', literal).encode("utf-8")


# -- the property ------------------------------------------------------------------------------


class Hung(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def hung(signum: int, frame: Any) -> None:
        raise Hung(f"no answer in {seconds} s")

    old = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _raw_control(text: str) -> list[str]:
    """Lines holding a character that is not printable (a control, format or separator)."""
    return [line for line in text.split("\n") if not line.isprintable()]


def _check(r: Any, *, origin: str | None = None, one_line: bool = True) -> None:
    """The property every case must have (see the module's docstring)."""
    said = f"exit {r.code}\n--- stdout\n{r.out[-1500:]}\n--- stderr\n{r.err[-3000:]}"
    assert "Traceback" not in r.out + r.err, said
    assert r.code in (0, 2), said
    assert not _raw_control(r.out) and not _raw_control(r.err), _raw_control(r.out) + _raw_control(
        r.err
    )
    if r.code == 2:
        lines = r.err.splitlines()
        assert lines and all(line.strip() for line in lines), said
        if one_line:
            assert len(lines) == 1, said
        if origin is not None:
            assert all(line.startswith(f"{origin}: ") for line in lines), said


def _call(cli: Any, *args: object) -> Any:
    with _time_limit(SECONDS_PER_CASE):
        return cli(*args)


class _Runs:
    """Runs a scenario that validated: through `planner run` while the budget lasts, then
    through the core (the simulation, today's service on the same calls, the appraisal)."""

    def __init__(self, cli: Any, folder: Path, budget: int) -> None:
        self.cli, self.folder, self.budget = cli, folder, budget
        self.through_cli = self.through_core = 0

    def run(self, f: Path) -> None:
        from planner.scenario.loading import load_scenario

        # thousands of replications of a valid scenario say no more than a few hundred, and
        # would not finish within a case's time
        reps = min(load_scenario(f).run.replications, MOST_REPLICATIONS)
        if self.through_cli < self.budget:
            self.through_cli += 1
            out = self.folder / f"run{self.through_cli}"
            _check(_call(self.cli, "run", f, "--out", out, "--replications", reps), one_line=False)
            return
        from planner.economics.appraisal import appraise, headline
        from planner.sim.compare import baseline_of
        from planner.sim.run import simulate

        self.through_core += 1
        s = load_scenario(f)
        with _time_limit(SECONDS_PER_CASE):
            results = simulate(s, replications=reps)
            results.summary()
            if s.dispatch.policy != "baseline" and s.fleet.units:
                base = simulate(baseline_of(s), replications=reps)
                headline(
                    s, appraise(s, results.per_replication, base.per_replication), results.kpis
                )


# -- 1. extreme numbers in every numeric field ---------------------------------------------------

EXTREME_LITERALS = [
    # floats: signed zeros, subnormals, the edges of a double, infinities, not-a-number
    "0.0", "-0.0", "+0.0", "5e-324", "-5e-324", "2.2250738585072014e-308", "1e-308", "1e-100",
    "1e100", "1e308", "-1e308", "1.7976931348623157e308", "-1.7976931348623157e308", "1e309",
    "inf", "-inf", "+inf", "nan", "-nan", "+nan",
    # integers: zero, the edges of 32 and 64 bits, past them, and past Python's 4,300 digits
    "0", "-0", "1", "-1", str(2**31), str(2**53 + 1), str(2**63 - 1), str(2**63), str(2**64),
    str(-(2**63) - 1), "1" + "0" * 30, "9" * 4300, "9" * 4301, "-" + "9" * 4301, "1" + "0" * 6000,
    "0x7fffffffffffffff", "0o777", "0b1", "1_000_000",
]  # fmt: skip


def _float_literal(x: float) -> str:
    text = repr(x)
    return text if any(c in text for c in ".ein") else f"{text}.0"


extreme = st.one_of(
    st.sampled_from(EXTREME_LITERALS),
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True).map(_float_literal),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
)


def _numeric_fields(data: dict[str, Any]) -> dict[str, list[Path_]]:
    fields: dict[str, list[Path_]] = {}
    for path, value in _leaves(data):
        if isinstance(value, int | float) and not isinstance(value, bool):
            fields.setdefault(_field(path), []).append(path)
    return fields


def test_extreme_numbers_in_every_numeric_field(fast_cli, fuzz, tmp_path: Path, capsys) -> None:
    data = _full(TINY)
    fields = _numeric_fields(data)
    assert len(fields) > 100  # every numeric field of a scenario, not a chosen few
    # a number under an unknown key is read (and refused) too
    unknown = {**data, "zz_unknown": {"n": 1}}
    fields["zz_unknown.n"] = [("zz_unknown", "n")]
    f = tmp_path / "numbers.toml"
    runs = _Runs(fast_cli, tmp_path, RUNS_THROUGH_THE_CLI)
    accepted: set[str] = set()

    def check_one(case: tuple[Path_, str]) -> None:
        path, literal = case
        f.write_bytes(_with_literal(unknown if path[0] == "zz_unknown" else data, path, literal))
        r = _call(fast_cli, "validate", f)
        _check(r, origin=str(f), one_line=False)
        if r.code == 0:
            accepted.add(_field(path))
            runs.run(f)

    cases = st.sampled_from(sorted(fields)).flatmap(
        lambda name: st.tuples(st.sampled_from(fields[name]), extreme)
    )
    tried = fuzz(cases, NUMBER_EXAMPLES, check_one)
    with capsys.disabled():
        print(
            f"\n{tried} extreme numbers in {len(fields)} numeric fields: {len(accepted)} fields "
            f"took one; {runs.through_cli} run by `planner run`, {runs.through_core} by the core"
        )
    assert tried >= NUMBER_EXAMPLES * 0.9


# -- 2. markup and control characters in every string and key -----------------------------------

MARKUP = ["[/]", "[link=http://x]", "[link=https://evil.example]x[/link]", "[bold]", "[/bold]",
          "[red]x", ":smile:", "\\[", "][", "[", "]", "**b**", "![i](http://x/i.png)", "<b>"]  # fmt: skip
CONTROL = ["\x1b[31m", "\x1b]8;;http://x\x1b\\", "\x1b[2J", "\r", "\x00", "\n", "\t", "\x07",
           "\x08", "\x7f", "\x9b", "\x85", "\u202e", "\u202d", "\u2066", "\u2069", "\u200b",
           "\ufeff", "\u2028", "\u2029", "\x1c"]  # fmt: skip

hostile_text = st.lists(
    st.one_of(
        st.sampled_from(MARKUP + CONTROL),
        st.text(alphabet=string.ascii_letters + " .-_/", max_size=4),
        st.text(max_size=3),
    ),
    min_size=1,
    max_size=4,
).map("".join)


def _string_targets(data: dict[str, Any]) -> list[tuple[str, Path_]]:
    """("value", path) of every string, and ("key", path + key) of every key of every table;
    ("rename", …) for names a scenario refers to elsewhere (the unit's shift)."""
    targets: list[tuple[str, Path_]] = [
        ("value", path) for path, value in _leaves(data) if isinstance(value, str)
    ]
    targets += [("key", (*path, key)) for path, key in _tables(data)]
    targets.append(("rename", ("fleet", "shifts", "late")))
    return targets


def _with_text(data: dict[str, Any], target: tuple[str, Path_], text: str) -> dict[str, Any]:
    kind, path = target
    d = copy.deepcopy(data)
    parent = _get(d, path[:-1])
    if kind == "value":
        parent[path[-1]] = text
    else:  # a key renamed; "rename" renames what refers to it too
        parent[text] = parent.pop(path[-1])
        if kind == "rename":
            for unit in d["fleet"]["units"]:
                if unit["shift"] == path[-1]:
                    unit["shift"] = text
    return d


def test_markup_and_control_characters_in_every_string(
    fast_cli, fuzz, tmp_path: Path, capsys
) -> None:
    data = _full(BERGEN)
    targets = _string_targets(data)
    assert len(targets) > 200
    f = tmp_path / "strings.toml"
    runs = _Runs(fast_cli, tmp_path, RUNS_THROUGH_THE_CLI)
    compared = 0

    def check_one(case: tuple[tuple[str, Path_], str]) -> None:
        nonlocal compared
        target, text = case
        f.write_bytes(tomli_w.dumps(_with_text(data, target, text)).encode("utf-8"))
        r = _call(fast_cli, "validate", f)
        _check(r, origin=str(f), one_line=False)
        if r.code == 0:
            runs.run(f)
            if compared < COMPARES:  # names in a comparison's table, after two simulations
                compared += 1
                _check(_call(fast_cli, "compare", f, f, "--replications", "1"), one_line=False)
        else:  # refused before anything ran: one line from `planner run`
            _check(_call(fast_cli, "run", f, "--out", tmp_path / "never"), origin=str(f))
            assert not (tmp_path / "never").exists()

    # half the cases in the names a scenario may hold anything in: shown, never obeyed
    names = [t for t in targets if t[1][-1] in ("name", "description", "label") or t[0] == "rename"]
    assert len(names) >= 10
    cases = st.tuples(st.one_of(st.sampled_from(names), st.sampled_from(targets)), hostile_text)
    tried = fuzz(cases, STRING_EXAMPLES, check_one)
    with capsys.disabled():
        print(
            f"\n{tried} hostile strings in {len(targets)} strings and keys: {runs.through_cli} "
            f"run by `planner run`, {runs.through_core} by the core, {compared} compared"
        )
    assert tried >= STRING_EXAMPLES * 0.9


# -- 3. special files wherever a path is taken --------------------------------------------------


def _special_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Special files made in a folder, by kind, and the kinds that cannot be made here."""
    made: dict[str, Path] = {}
    skipped = []
    fifo = folder / "fifo.toml"
    os.mkfifo(fifo)
    made["a FIFO"] = fifo
    for device in ("/dev/zero", "/dev/urandom"):
        if Path(device).exists():
            link = folder / f"{Path(device).name}.toml"
            link.symlink_to(device)
            made[f"a link to {device}"] = link
    made["a folder"] = folder / "folder.toml"
    made["a folder"].mkdir()
    (made["a folder"] / "notes.txt").write_text("not planner's", "utf-8")  # nor for --out
    made["a dangling link"] = folder / "dangling.toml"
    made["a dangling link"].symlink_to(folder / "nowhere")
    a, b = folder / "loop_a.toml", folder / "loop_b.toml"
    a.symlink_to(b)
    b.symlink_to(a)
    made["a link loop"] = a
    sock = folder / "s.sock"
    if len(str(sock)) < 100:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(sock))
        made["a socket"] = sock
    else:
        skipped.append("a socket (the folder's path is too long for one)")
    locked = folder / "locked.toml"
    locked.write_text('[scenario]\nname = "x"\n', "utf-8")
    locked.chmod(0)
    if os.access(locked, os.R_OK):
        skipped.append("an unreadable file (running as root: every file is readable)")
    else:
        made["an unreadable file"] = locked
    made["a path holding NUL"] = folder / "nul\x00.toml"
    made["a path too long"] = folder / ("x" * 5000)
    return made, skipped


def test_special_files_wherever_a_path_is_taken(fast_cli, fuzz, tmp_path: Path, capsys) -> None:
    (tmp_path / "in").mkdir()
    made, skipped = _special_files(tmp_path / "in")
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(tomli_w.dumps(TINY), "utf-8")
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        '[sweep]\nname = "s"\nreplications = 1\nseed = 1\n'
        f'base = "{ROOT / "simulations" / "bergen.toml"}"\n[base.run]\nhorizon_days = 1\n',
        "utf-8",
    )
    devices = {k for k in made if "/dev/" in k}
    # (arguments with X for the special file, whether X is a file the command reads)
    uses: list[tuple[list[object], bool]] = [
        (["validate", "X"], True),
        (["validate", tiny, "X"], True),
        (["run", "X"], True),
        (["compare", "X", tiny], True),
        (["compare", tiny, "X"], True),
        (["optimize", "X"], True),
        (["sweep", "X"], True),
        (["sweep", sweep, "--store", "X", "--workers", "1"], False),
        (["report", "X"], False),
        (["report", "--store", "X", "--scenario", "s"], False),
        (["store", "list", "--store", "X"], False),
        (["store", "upgrade", "--store", "X"], False),
        (["run", tiny, "--out", "X"], False),  # never a device: `--out` must not replace one
    ]
    cases = [
        (kind, args, reads)
        for (args, reads), kind in itertools.product(uses, made)
        if not (kind in devices and "--out" in args)
    ]

    def check_one(case: tuple[str, list[object], bool]) -> None:
        kind, args, reads = case
        x = made[kind]
        r = _call(fast_cli, *[x if a == "X" else a for a in args])
        # refused: a special file is no input, and `--out` is no special file
        _check(r, origin=str(x) if reads and "NUL" not in kind else None, one_line=False)
        assert r.code == 2, (kind, args, r.out[-300:], r.err[-300:])
        if reads and args[0] != "validate":
            assert len(r.err.splitlines()) == 1, r.err

    tried = fuzz(cases, len(cases), check_one)
    with capsys.disabled():
        print(
            f"\n{tried} special files × commands, each refused in one line: {', '.join(made)}"
            + (f"; not tried: {'; '.join(skipped)}" if skipped else "")
        )
    assert tried == len(cases)


@pytest.mark.parametrize("use", ["report", "run --out"])
def test_a_path_too_long_is_one_line(cli, tmp_path: Path, use: str) -> None:
    # found by this fuzzing: an OSError (ENAMETOOLONG) traceback in planner/store/files.py, now one line
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(tomli_w.dumps(TINY), "utf-8")
    long = tmp_path / ("x" * 5000)
    args = ["report", long] if use == "report" else ["run", tiny, "--out", long]
    _check(cli(*args))


# -- 4. every option of the commands, with random values ------------------------------------------

COMMANDS = [
    ("validate",),
    ("run",),
    ("compare",),
    ("optimize",),
    ("sweep",),
    ("report",),
    ("store", "list"),
    ("store", "upgrade"),
    ("params",),
]
"""Every command but `dashboard` (it serves until stopped), `schema` (no options) and the
`geodata` ones (they build or draw a region's files from its sources)."""


def _parameters() -> dict[tuple[str, ...], list[Any]]:
    """Each command's click parameters, found by introspecting the app (no `--help` parsing):
    a new option is fuzzed without this file changing."""
    import typer.main

    from planner.cli import app

    group: Any = typer.main.get_command(app)
    out = {}
    for path in COMMANDS:
        command = group
        for name in path:
            command = command.commands[name]
        out[path] = list(command.params)
    return out


OPTION_VALUES = ["0", "-5", "9223372036854775808", "1e3", "0x10", "٣", " 3 ", "+4", "2.5", "nan",
                 "inf", "-inf", "1e309", "-0", "", " ", "--", "-", "--bogus", "tcp://",
                 "http://h:1", "html", "pdf", "nb", "en", "share_health_first>=0.9", "x<=",
                 ">=1", "units<=nan"]  # fmt: skip
option_value = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(OPTION_VALUES),
    hostile_text,
    st.text(max_size=12),
)


def test_every_option_with_random_values(fast_cli, fuzz, tmp_path: Path, capsys) -> None:
    params = _parameters()
    assert sum(len(p) for p in params.values()) >= 25
    broken = tmp_path / "broken.toml"  # fails validation at once: nothing is simulated
    broken.write_text('[run]\nreplications = "many"\n', "utf-8")
    broken_sweep = tmp_path / "broken_sweep.toml"
    broken_sweep.write_text('[sweep]\nname = ""\n', "utf-8")
    valid = tmp_path / "tiny.toml"  # for validate only, which does not simulate
    valid.write_text(tomli_w.dumps(TINY), "utf-8")
    files = [broken, broken_sweep, tmp_path / "absent.toml", tmp_path]
    folder = tmp_path / "work"
    folder.mkdir()
    codes: dict[int, int] = {}

    @st.composite
    def invocation(draw: Any) -> list[str]:
        path = draw(st.sampled_from(COMMANDS))
        args: list[str] = list(path)
        for p in params[path]:
            if p.param_type_name == "argument":
                choices = files + ([valid] if path == ("validate",) else [])
                n = draw(st.integers(0, 3)) if p.nargs == -1 else draw(st.sampled_from([0, 1, 1]))
                for _ in range(n):  # sometimes missing: one line too
                    use_text = draw(st.booleans()) and draw(st.booleans())
                    args.append(
                        draw(hostile_text) if use_text else str(draw(st.sampled_from(choices)))
                    )
            elif draw(st.booleans()):
                if p.is_flag:
                    args.append(draw(st.sampled_from([*p.opts, *p.secondary_opts])))
                else:
                    args += [p.opts[0], draw(option_value)]
        if draw(st.integers(0, 9)) == 0:  # an unknown option, or a stray argument
            args.insert(
                draw(st.integers(len(path), len(args))), draw(st.sampled_from(["--zz", "-q", "x"]))
            )
        if path in (("run",), ("compare",)) and draw(st.integers(0, 4)) == 0:
            return _simulating(args, draw)
        # no simulation starts: a command that would simulate reads a file refused at once
        if path in (("run",), ("compare",), ("optimize",), ("sweep",)):
            args = [str(broken) if a == str(valid) else a for a in args]
        return args

    def _simulating(args: list[str], draw: Any) -> list[str]:
        """Some `run` and `compare` lines on the tiny scenario, simulated: one or two
        replications, any seed, a results folder named by random text in the work folder."""
        out = [args[0], str(valid)] + ([str(valid)] if args[0] == "compare" else [])
        if draw(st.booleans()):
            out += ["--replications", draw(st.sampled_from(["1", "2", "0", "-1", "x", ""]))]
        if draw(st.booleans()):
            edges = st.sampled_from(["0", "1", str(2**63 - 1), str(2**63), "-5", "1e3"])
            out += ["--seed", draw(st.one_of(edges, option_value))]
        if args[0] == "run" and draw(st.booleans()):
            out += ["--out", str(folder / ("out" + draw(hostile_text).replace("/", "_")))]
        return out

    simulated = 0

    def check_one(args: list[str]) -> None:
        nonlocal simulated
        before = sorted(p.name for p in tmp_path.iterdir())
        with contextlib.chdir(folder):
            r = _call(fast_cli, *args)
        codes[r.code] = codes.get(r.code, 0) + 1
        _check(r, one_line=args[0] != "validate")
        real = str(valid) in args and args[0] in ("run", "compare")
        if args[0] in ("run", "compare", "optimize", "sweep") and not real:
            assert r.code == 2, (args, r.err)
        assert sorted(p.name for p in tmp_path.iterdir()) == before, args
        if real:  # what a run wrote stays in the work folder; cleared for the next case
            simulated += r.code == 0
            for p in folder.iterdir():
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        assert not any(folder.iterdir()), (args, list(folder.iterdir()))

    tried = fuzz(invocation(), OPTION_EXAMPLES, check_one)
    with capsys.disabled():
        print(
            f"\n{tried} command lines with random options and values: exit codes "
            + ", ".join(f"{c}: {n}" for c, n in sorted(codes.items()))
            + f"; {simulated} simulated the tiny scenario"
        )
    assert tried >= OPTION_EXAMPLES * 0.9
