"""What every ``planner`` command shares: the app, the consoles, loading a scenario, one-line
errors, progress of a simulation, tables of KPIs and writing a results folder whole.

Every user error ends the same way: one line per problem on stderr, naming the field or file,
exit code 2, no traceback, nothing half-written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from concurrent.futures import Executor

    import pandas as pd

    from planner.scenario.model import Scenario
    from planner.sim.event_log import LogSink
    from planner.sim.run import Results
    from planner.store.files import Kind, ResultsFolder, Stage


app = typer.Typer(
    help="Size, place and appraise a psychiatric ambulance service for Oslo and Akershus.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
geodata_app = typer.Typer(
    help="Build, inspect and draw the region's geodata.", no_args_is_help=True
)
app.add_typer(geodata_app, name="geodata")


class PlainConsole(Console):
    """A console that prints every string as it is written: rich markup (``[bold]``, ``[/]``,
    ``[link=...]``) and emoji codes in a scenario's name or a path are shown, never obeyed, and
    control characters (a terminal escape, a line break) are shown escaped, in messages, table
    titles, headers and cells alike. Styled output is built from rich ``Text`` instead."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs.update(markup=False, emoji=False)
        return super().render_str(printable(text), **kwargs)


out = PlainConsole(soft_wrap=True)  # a message is one line at any width; tables fit the width
err = PlainConsole(stderr=True, highlight=False, soft_wrap=True)


def plain(text: object, style: str = "") -> Text:
    """User text (a name, a path) for a spinner or styled line: never read as markup."""
    return Text(printable(str(text)), style=style)


def _version(value: bool) -> None:
    if value:
        from planner.version import planner_version

        out.print(f"planner {planner_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


def finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, got {value}")
    return value


class UserError(Exception):
    """Bad input from the user: reported as lines, exit code 2."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def fail(lines: list[str]) -> None:
    raise UserError(lines)


def ok(message: str) -> Text:
    """A green tick and a message that is printed as written (names may hold brackets)."""
    return Text.assemble(("✓", "green"), " ", plain(message))


def one_line(problems: list[str], path: Path) -> list[str]:
    """The first problem, naming the file, and how many more `planner validate` would list."""
    first = problems[0] if problems[0].startswith(str(path)) else f"{path}: {problems[0]}"
    more = len(problems) - 1
    if more:
        first += f" (and {more} more problem{'s' if more > 1 else ''}: planner validate {path})"
    return [first]


def load(path: Path) -> Scenario:
    from planner.scenario.loading import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as exc:
        fail(one_line(exc.problems, path))
        raise  # unreachable: fail raises


def simulate_with_progress(
    scenario: Scenario,
    replications: int | None,
    seed: int | None,
    label: str,
    log_to: Path | LogSink | None = None,
    executor: Executor | None = None,
) -> Results:
    """Simulate with progress on stderr (a bar on a terminal, plain lines in a log); the call
    log kept, streamed to ``log_to`` (a Parquet file) or dropped (a ``DiscardLog``); the
    replications run on ``executor`` if one is given (the same figures, bit for bit)."""
    from planner.cli.progress import progress
    from planner.sim.run import simulate

    total = replications or scenario.run.replications
    with progress(err, printable(label), total, noun="replications") as tick:
        return simulate(
            scenario,
            replications,
            seed,
            progress=lambda _done, _n: tick(),
            log_to=log_to,
            executor=executor,
        )


Force = Annotated[
    bool,
    typer.Option("--force", help="Run even if it would exceed this machine's memory or 8 hours."),
]

Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        max=256,
        help="Processes the replications run in (1: here, one after another). Default: one "
        "per core when the run is long enough to pay for starting them. The figures are the "
        "same, bit for bit.",
    ),
]


def workers_for(
    workers: int | None,
    scenario: Scenario,
    replications: int | None,
    simulations: int,
    force: bool = False,
) -> int:
    """How many worker processes a run's replications get: ``workers`` if asked (refused in one
    line if they would not fit in the memory free, unless ``force``), else one per core when the
    run is expected to take over ``budget.WORTH_WORKERS_SECONDS`` — as many as fit in memory
    (``budget.auto_workers``)."""
    from planner.sim.budget import (
        auto_workers,
        available_memory,
        estimate_run,
        expected_calls,
        format_bytes,
        seconds_per_call_of,
        workers_that_fit,
    )

    if workers is None:
        return auto_workers(scenario, replications, simulations)
    calls = expected_calls(scenario)
    reps = replications or scenario.run.replications
    run = estimate_run(calls, reps, simulations, seconds_per_call=seconds_per_call_of(scenario))
    free = available_memory()
    fit = workers_that_fit(calls, run, free, workers)
    if fit < workers and not force and free is not None:
        each = estimate_run(calls, 1).peak_bytes
        fail(
            [
                f"--workers {workers}: {workers} worker processes need about "
                f"{format_bytes(each * workers)} beside the run; this machine has "
                f"{format_bytes(free)} free; use --workers {fit}, or pass --force"
            ]
        )
    return workers


@contextmanager
def replication_workers(workers: int) -> Iterator[Executor | None]:
    """``workers`` worker processes for a run's replications (None: they run here)."""
    if workers <= 1:
        yield None
        return
    from planner.processes import process_pool

    with process_pool(workers) as pool:
        yield pool


def refuse_too_big(scenario: Scenario, replications: int | None, simulations: int) -> None:
    """One line, before anything runs, if the run would exceed this machine's memory or the time
    a run may take unasked (``--force`` skips this)."""
    from planner.sim.budget import run_refusal

    asked = f"--replications {replications}" if replications is not None else None
    reps = replications or scenario.run.replications
    if reason := run_refusal(scenario, reps, simulations=simulations, asked=asked):
        fail([reason])


def write_text(path: Path, text: str) -> None:
    path.write_text(text, "utf-8")


def shown(value: float, unit: str) -> str:
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "share":
        return f"{value:.1%}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def kpi_table(kpis: pd.DataFrame, title: str) -> Table:
    """The run's KPIs (not the police districts': ``police_table``)."""
    table = Table("KPI", "mean", "95 % interval", "unit", title=title)
    for r in kpis[~kpis["kpi"].str.contains(".", regex=False)].itertuples():
        ci = f"{shown(r.ci_low, r.unit)} – {shown(r.ci_high, r.unit)}"
        table.add_row(r.label, shown(r.mean, r.unit), ci, "" if r.unit == "share" else r.unit)
    return table


def police_table(kpis: pd.DataFrame) -> Table | None:
    """The police districts' KPIs (``police.model = "patrols"``), a column per district, each
    figure with its 95 % interval; None for a run without them."""
    from planner.sim.kpis import PATROL_KPIS

    keyed = kpis[kpis["kpi"].str.contains(".", regex=False)]
    if keyed.empty:
        return None
    parts = keyed["kpi"].str.partition(".")
    mine = parts[0].isin(list(PATROL_KPIS))
    if not mine.any():
        return None
    districts = list(dict.fromkeys(parts.loc[mine, 2]))
    table = Table("", *districts, "unit", title="Police districts (patrols simulated)")
    by_key = keyed.set_index("kpi")
    for base, (label, unit, _better) in PATROL_KPIS.items():
        cells = []
        for d in districts:
            r = by_key.loc[f"{base}.{d}"] if f"{base}.{d}" in by_key.index else None
            if r is None:
                cells.append("–")
                continue
            interval = f"{shown(r['ci_low'], unit)} – {shown(r['ci_high'], unit)}"
            cells.append(f"{shown(r['mean'], unit)} ({interval})")
        table.add_row(label[0].upper() + label[1:], *cells, "" if unit == "share" else unit)
    return table


def _region_name(scenario: Scenario) -> str:
    return scenario.region.name if scenario.region.kind == "geodata" else "abstract"


def open_results_folder(path: Path, kind: Kind, scenario: Scenario) -> ResultsFolder:
    """The results folder a command will write, checked before any simulation (one line if
    planner must not write there)."""
    from planner.store.files import results_folder

    with folder_errors():
        return results_folder(path, kind, scenario.scenario.name, _region_name(scenario))


@contextmanager
def folder_errors() -> Iterator[None]:
    """A FolderError (where planner must not or cannot write) is one line and exit code 2."""
    from planner.store.files import FolderError

    try:
        yield
    except FolderError as exc:
        fail([str(exc)])


@contextmanager
def writing(folder: ResultsFolder) -> Iterator[Stage]:
    """Stage a results folder and swap it in whole; a failure is one line, the old one kept."""
    with folder_errors(), folder.staged() as stage:
        yield stage


def wrote(stage: Stage) -> None:
    """Say what a results folder now holds: what was written, and what was kept."""
    assert stage.committed is not None
    c = stage.committed
    line = f"wrote {stage.folder.path}/: {', '.join(stage.names)}"
    if c.kept is not None:
        what = "run" if c.kept.kind == "run" else "optimisation"
        kept = ", ".join(f.name for f in c.kept.files)
        line += f"; kept the {what} of the same scenario ({kept})"
    if c.dropped is not None:
        what = "run" if c.dropped.kind == "run" else "optimisation"
        line += f"; dropped the {what} of {c.dropped.scenario!r} in {c.dropped.region}"
    out.print(line)


def write_json(path: Path, data: object) -> None:
    write_text(path, json.dumps(data, indent=1, ensure_ascii=False))


def printable(line: str) -> str:
    """A problem stays on one line even when it quotes a key or value holding a line break or
    another control character (TOML allows them in quoted keys): those are shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
