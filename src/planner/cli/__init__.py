"""The ``planner`` command line: a thin shell over the core.

Every user error ends the same way: one line per problem on stderr, naming the field or file,
exit code 2, no traceback, nothing half-written.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    import pandas as pd

    from planner.geo.region import Region
    from planner.scenario.model import Scenario
    from planner.sim.event_log import LogSink
    from planner.sim.run import Results
    from planner.store.database import Store
    from planner.store.files import FileTarget, Kind, ResultsFolder, Stage
    from planner.sweep.grid import Sweep

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

MAX_SEED = 2**63 - 1
"""Largest seed (as [run] seed): the command-line options are bounded the same way."""


class PlainConsole(Console):
    """A console that prints every string as it is written: rich markup (``[bold]``, ``[/]``,
    ``[link=...]``) and emoji codes in a scenario's name or a path are shown, never obeyed, and
    control characters (a terminal escape, a line break) are shown escaped, in messages, table
    titles, headers and cells alike. Styled output is built from rich ``Text`` instead."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs.update(markup=False, emoji=False)
        return super().render_str(_printable(text), **kwargs)


out = PlainConsole(soft_wrap=True)  # a message is one line at any width; tables fit the width
err = PlainConsole(stderr=True, highlight=False, soft_wrap=True)


def _plain(text: object, style: str = "") -> Text:
    """User text (a name, a path) for a spinner or styled line: never read as markup."""
    return Text(_printable(str(text)), style=style)


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


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, got {value}")
    return value


class UserError(Exception):
    """Bad input from the user: reported as lines, exit code 2."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def _fail(lines: list[str]) -> None:
    raise UserError(lines)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario TOML files.")],
) -> None:
    """Check scenario files: every problem on its own line, exit code 2 if any."""
    from planner.scenario.loading import ScenarioError, load_scenario, parse_toml, read_bytes
    from planner.sweep.grid import load_sweep

    problems: list[str] = []
    for f in files:
        try:
            if "sweep" in parse_toml(read_bytes(f), str(f)):
                plan = load_sweep(f)
                items = len(plan.scenarios) * plan.replications
                out.print(
                    _ok(
                        f"{f}: sweep {plan.name} — {len(plan.scenarios)} scenarios × "
                        f"{plan.replications} replications = {items:,} work items, "
                        f"seed {plan.seed}"
                    )
                )
                continue
            s = load_scenario(f)
        except ScenarioError as exc:
            problems += [p if p.startswith(str(f)) else f"{f}: {p}" for p in exc.problems]
            continue
        units = len(s.fleet.units)
        where = s.region.name if s.region.kind == "geodata" else "abstract"
        out.print(
            _ok(
                f"{f}: {s.scenario.name} — region {where}, policy {s.dispatch.policy}, "
                f"{units} unit{'s' if units != 1 else ''}, {s.run.replications} replications"
            )
        )
    if problems:
        _fail(problems)


def _ok(message: str) -> Text:
    """A green tick and a message that is printed as written (names may hold brackets)."""
    return Text.assemble(("✓", "green"), " ", _plain(message))


@app.command()
def schema() -> None:
    """Print the JSON Schema of a scenario (units and sources included)."""
    from planner.scenario.model import Scenario

    print(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2, ensure_ascii=False))


@app.command()
def params(
    grep: Annotated[str, typer.Option(help="Show only parameters whose path contains this.")] = "",
) -> None:
    """List every parameter with its default, unit, limits and source."""
    from planner.scenario.model import field_limits
    from planner.scenario.parameters import registry

    table = Table("parameter", "default", "unit", "limits", "source", show_lines=False)
    for p in registry().values():
        if grep in p.path:
            value = json.dumps(p.value, ensure_ascii=False)
            table.add_row(
                p.path,
                value if len(value) < 50 else value[:47] + "...",
                p.unit,
                field_limits(p.path),
                p.source,
            )
    out.print(table)


def _one_line(problems: list[str], path: Path) -> list[str]:
    """The first problem, naming the file, and how many more `planner validate` would list."""
    first = problems[0] if problems[0].startswith(str(path)) else f"{path}: {problems[0]}"
    more = len(problems) - 1
    if more:
        first += f" (and {more} more problem{'s' if more > 1 else ''}: planner validate {path})"
    return [first]


def _load(path: Path) -> Scenario:
    from planner.scenario.loading import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as exc:
        _fail(_one_line(exc.problems, path))
        raise  # unreachable: _fail raises


def _simulate_with_progress(
    scenario: Scenario,
    replications: int | None,
    seed: int | None,
    label: str,
    log_to: Path | LogSink | None = None,
) -> Results:
    """Simulate with progress on stderr (a bar on a terminal, plain lines in a log); the call
    log kept, streamed to ``log_to`` (a Parquet file) or dropped (a ``DiscardLog``)."""
    from planner.cli.progress import progress
    from planner.sim.run import simulate

    total = replications or scenario.run.replications
    with progress(err, _printable(label), total, noun="replications") as tick:
        return simulate(
            scenario, replications, seed, progress=lambda _done, _n: tick(), log_to=log_to
        )


def _refuse_too_big(scenario: Scenario, replications: int | None, simulations: int) -> None:
    """One line, before anything runs, if the run would exceed this machine's memory or the time
    a run may take unasked (``--force`` skips this)."""
    from planner.sim.budget import run_refusal

    asked = f"--replications {replications}" if replications is not None else None
    reps = replications or scenario.run.replications
    if reason := run_refusal(scenario, reps, simulations=simulations, asked=asked):
        _fail([reason])


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, "utf-8")


def _fmt(value: float, unit: str) -> str:
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "share":
        return f"{value:.1%}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def _kpi_table(kpis: pd.DataFrame, title: str) -> Table:
    table = Table("KPI", "mean", "95 % interval", "unit", title=title)
    for r in kpis.itertuples():
        ci = f"{_fmt(r.ci_low, r.unit)} – {_fmt(r.ci_high, r.unit)}"
        table.add_row(r.label, _fmt(r.mean, r.unit), ci, "" if r.unit == "share" else r.unit)
    return table


@app.command()
def run(
    scenario_file: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    replications: Annotated[
        int | None, typer.Option(min=1, max=100_000, help="Override [run] replications.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, max=MAX_SEED, help="Override [run] seed.")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for events.parquet, summary.json, kpis.csv (default results/<name>).",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Run even if it would exceed this machine's memory or 8 hours."
        ),
    ] = False,
) -> None:
    """Simulate a scenario: KPI table with intervals; the results folder written whole, the
    call log streamed to it (memory does not grow with replications)."""
    from planner.sim.event_log import DiscardLog

    scenario = _load(scenario_file)
    text = scenario_file.read_text("utf-8")  # a regular file of UTF-8, as _load found it
    folder = _results_folder(out_dir or Path("results") / scenario_file.stem, "run", scenario)
    with_baseline_run = scenario.dispatch.policy != "baseline" and bool(scenario.fleet.units)
    if not force:
        _refuse_too_big(scenario, replications, 2 if with_baseline_run else 1)
    with _writing(folder) as stage:
        results = _simulate_with_progress(
            scenario,
            replications,
            seed,
            f"simulating {scenario_file.name}",
            log_to=stage.file("events.parquet"),
        )
        out.print(
            _kpi_table(
                results.kpis,
                f"{scenario.scenario.name} — {len(results.per_replication)} replications",
            )
        )
        summary = results.summary() | {"scenario_file": str(scenario_file)}
        economics: dict[str, object] | None = None
        if with_baseline_run:
            from planner.economics.appraisal import appraise, headline
            from planner.sim.compare import baseline_of, with_baseline

            base = _simulate_with_progress(
                baseline_of(scenario),
                replications,
                seed,
                "simulating today's service (baseline)",
                log_to=DiscardLog(),
            )
            summary = with_baseline(results, base) | {"scenario_file": str(scenario_file)}
            appraisal = appraise(scenario, results.per_replication, base.per_replication)
            economics = headline(scenario, appraisal, results.kpis)
            out.print(_economics_table(economics, scenario))
        stage.write("kpis.csv", lambda p: results.kpis.to_csv(p, index=False))
        stage.write("summary.json", lambda p: _write_json(p, summary))
        stage.write("scenario.toml", lambda p: _write_text(p, text))
        if economics is not None:
            stage.write("economics.json", lambda p: _write_json(p, economics))
    _wrote(stage)


def _region_name(scenario: Scenario) -> str:
    return scenario.region.name if scenario.region.kind == "geodata" else "abstract"


def _results_folder(path: Path, kind: Kind, scenario: Scenario) -> ResultsFolder:
    """The results folder a command will write, checked before any simulation (one line if
    planner must not write there)."""
    from planner.store.files import results_folder

    with _folder_errors():
        return results_folder(path, kind, scenario.scenario.name, _region_name(scenario))


@contextmanager
def _folder_errors() -> Iterator[None]:
    """A FolderError (where planner must not or cannot write) is one line and exit code 2."""
    from planner.store.files import FolderError

    try:
        yield
    except FolderError as exc:
        _fail([str(exc)])


@contextmanager
def _writing(folder: ResultsFolder) -> Iterator[Stage]:
    """Stage a results folder and swap it in whole; a failure is one line, the old one kept."""
    with _folder_errors(), folder.staged() as stage:
        yield stage


def _wrote(stage: Stage) -> None:
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


def _write_json(path: Path, data: object) -> None:
    _write_text(path, json.dumps(data, indent=1, ensure_ascii=False))


def _economics_table(e: dict[str, object], scenario: Scenario) -> Table:
    """What the service buys against today's, and its appraisal (R-109)."""

    def row(label: str, key: str, fmt: str, unit: str) -> tuple[str, str, str, str]:
        v = e[key]
        scale = 1e6 if "million" in unit else 1.0
        if isinstance(v, list):
            lo, hi = fmt.format(v[1] / scale), fmt.format(v[2] / scale)
            return (label, fmt.format(v[0] / scale), f"{lo} – {hi}", unit)
        return (label, fmt.format(float(v) / scale), "", unit)  # type: ignore[arg-type]

    a = scenario.appraisal
    table = Table(
        "against today's service",
        "mean",
        "95 % interval",
        "unit",
        title=(
            f"What it buys, and its appraisal: {a.horizon_years} years at "
            f"{a.discount_rate:.0%} real, tax-financing cost {a.tax_financing_cost:.0%}"
        ),
    )
    for r in (
        row("Cost of the service", "cost_per_year", "{:,.1f}", "NOK million / year"),
        row("Staff", "fte", "{:,.1f}", "FTE"),
        row("Police officer-hours freed", "police_hours_freed", "{:,.0f}", "h / year"),
        row("... as police FTE", "police_fte_freed", "{:,.1f}", "FTE"),
        row(
            "Patients not driven in a police car",
            "police_car_transports_avoided",
            "{:,.0f}",
            "per year",
        ),
        row(
            "Encounters with uniformed police avoided",
            "police_encounters_avoided",
            "{:,.0f}",
            "per year",
        ),
        row("Net present value", "npv", "{:,.1f}", "NOK million"),
        row("Net cost per year", "annual_net_cost", "{:,.1f}", "NOK million / year"),
        row("Break-even price of a police hour", "break_even_police_hour", "{:,.0f}", "NOK / h"),
        row("Cost per health-first response", "cost_per_health_first_response", "{:,.0f}", "NOK"),
        row("Probability NPV > 0 (Monte Carlo)", "probability_npv_positive", "{:.1%}", ""),
    ):
        table.add_row(*r)
    return table


@app.command()
def compare(
    a: Annotated[Path, typer.Argument(help="Scenario A (e.g. the baseline).")],
    b: Annotated[Path, typer.Argument(help="Scenario B.")],
    replications: Annotated[
        int | None, typer.Option(min=2, max=100_000, help="Replications for both.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, max=MAX_SEED, help="Seed for both (default: A's).")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Run even if it would exceed this machine's memory or 8 hours."
        ),
    ] = False,
) -> None:
    """Paired differences B − A on the same calls (common random numbers), with intervals."""
    from planner.sim.compare import paired_differences, police_hours_freed
    from planner.sim.event_log import DiscardLog

    sa, sb = _load(a), _load(b)
    _same_calls(a, sa, b, sb)
    seed = sa.run.seed if seed is None else seed
    reps = replications or max(sa.run.replications, 2)
    if not force:
        _refuse_too_big(sa, reps, 2)
    ra = _simulate_with_progress(sa, reps, seed, f"simulating {a.name}", log_to=DiscardLog())
    rb = _simulate_with_progress(sb, reps, seed, f"simulating {b.name}", log_to=DiscardLog())
    diff = paired_differences(ra, rb)
    table = Table(
        "KPI",
        f"A: {a.stem}",
        f"B: {b.stem}",
        "B − A",
        "95 % interval",
        "unit",
        title=f"{sb.scenario.name} against {sa.scenario.name} — {reps} paired replications",
    )
    for r in diff.itertuples():
        ci = f"{_fmt(r.ci_low, r.unit)} – {_fmt(r.ci_high, r.unit)}"
        table.add_row(
            r.label,
            _fmt(r.a, r.unit),
            _fmt(r.b, r.unit),
            _fmt(r.difference, r.unit),
            ci,
            "" if r.unit == "share" else r.unit,
        )
    out.print(table)
    freed, lo, hi = police_hours_freed(ra, rb)
    fte = sa.costs.police_fte_hours
    out.print(
        f"Police officer-hours freed: {freed:,.0f} a year (95 % interval {lo:,.0f} – {hi:,.0f}), "
        f"{freed / fte:.1f} police FTE"
    )


def _same_calls(a: Path, sa: Scenario, b: Path, sb: Scenario) -> None:
    """Refuse, in one line, two scenarios whose differences could not be paired call by call."""
    from planner.sim.compare import calls_differ

    differ = calls_differ(sa, sb)
    if not differ:
        return
    shown = [f"{path} {va!r} in A, {vb!r} in B" for path, va, vb in differ[:3]]
    if len(differ) > 3:
        shown.append(f"and {len(differ) - 3} more")
    _fail(
        [
            f"compare: {a} and {b} do not meet the same calls ({'; '.join(shown)}): paired "
            "differences need the same region, demand and run.horizon_days"
        ]
    )


@app.command()
def report(
    results_dir: Annotated[
        Path | None, typer.Argument(help="A results folder from `planner run`.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="html or pdf.")] = "html",
    lang: Annotated[str, typer.Option(help="nb (Norwegian bokmål) or en.")] = "nb",
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Report file (default RESULTS/report-<lang>.<format>; from a store "
            "report-<hash>-<lang>.<format> here).",
        ),
    ] = None,
    store_path: Annotated[
        Path | None,
        typer.Option("--store", help="Report from a results store (`planner sweep`) instead."),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(help="With --store: the scenario's name, hash or hash prefix."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(min=0, max=MAX_SEED, help="With --store: the seed, if stored under several."),
    ] = None,
) -> None:
    """A short report for decision-makers: headline, map, frontier, sensitivity, assumptions."""
    from planner.report.document import Bundle, ReportError, load_bundle, report_of
    from planner.report.from_store import load_store_bundle
    from planner.store.database import DEFAULT_PATH
    from planner.store.files import write_atomically

    if fmt not in ("html", "pdf"):
        _fail([f"--format: must be html or pdf, got {fmt!r}"])
    from_store = store_path is not None or scenario is not None
    if from_store == (results_dir is not None):
        _fail(["report: give a results folder, or --scenario (and --store) for a swept one"])
    if from_store and scenario is None:
        _fail(["--scenario: which scenario of the store to report on (`planner store list`)"])
    where = results_dir or store_path or DEFAULT_PATH
    with err.status(_plain(f"composing the report on {where}")):
        try:
            bundle: Bundle = (
                load_bundle(results_dir)
                if results_dir is not None
                else load_store_bundle(where, str(scenario), seed)
            )
            if out_file is not None:
                target = out_file
            elif results_dir is not None:
                target = results_dir / f"report-{lang}.{fmt}"
            else:
                target = Path(f"report-{bundle.scenario_file.split()[-1]}-{lang}.{fmt}")
            checked = _report_target(target, "--out" if out_file is not None else "report")
            composed = report_of(bundle, lang)
        except ReportError as exc:
            _fail([str(exc)])
            raise  # unreachable
    if fmt == "html":
        from planner.report.document import to_html

        page = to_html(composed)
        write_atomically(target, lambda p: _write_text(p, page), mode=checked.mode)
    else:
        from planner.report.document import write_pdf

        write_atomically(target, lambda p: write_pdf(composed, p), mode=checked.mode)
    out.print(f"wrote {target}")


def _report_target(path: Path, option: str) -> FileTarget:
    """The report file to write: absent, or a report planner wrote (one line otherwise)."""
    from planner.store.files import file_target

    with _folder_errors():
        return file_target(path, option)


SWEEP_TABLE_KPIS = {
    "share_health_first": "met health-first",
    "response_median": "median response, min",
    "unit_missions_per_year": "missions / year",
}
"""KPIs `planner sweep` shows for each scenario at the end (all are in the store)."""


@app.command()
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep TOML file (see README).")],
    store_path: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="Results store (DuckDB file; default planner.duckdb here), created if absent.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=512, help="Local worker processes (default: one per core)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="A Dask scheduler, e.g. tcp://HOST:8786, instead of local processes."),
    ] = None,
    keep_logs: Annotated[
        bool, typer.Option("--keep-logs", help="Also store every call (for maps and reports).")
    ] = False,
) -> None:
    """Run a grid of scenario variations × replications into the results store, resumably.

    What the store already holds (same scenario and model, seed and replication) is skipped, so
    a sweep that was killed is finished by running it again; with --keep-logs, a replication
    stored without its call log is run again (same figures) and stored with it.
    """
    from planner.cli.progress import progress
    from planner.scenario.loading import ScenarioError
    from planner.store.database import DEFAULT_PATH, Store, StoredScenario, StoreError
    from planner.sweep.executors import (
        ExecutorError,
        WorkerDied,
        dask_pool,
        local_pool,
        run_items,
        scheduler_problem,
    )
    from planner.sweep.grid import load_sweep

    if workers is not None and scheduler is not None:
        _fail(["--workers: local processes only; a Dask cluster (--scheduler) has its own"])
    if scheduler is not None and (why := scheduler_problem(scheduler)):
        _fail([f"--scheduler: {why}"])
    try:
        plan = load_sweep(sweep_file)
    except ScenarioError as exc:
        _fail(_one_line(exc.problems, sweep_file))
        raise  # unreachable
    text = sweep_file.read_bytes().decode("utf-8")  # read and checked by load_sweep
    items = plan.work_items()
    store_path = store_path or DEFAULT_PATH
    try:
        pool_cm = dask_pool(scheduler) if scheduler else local_pool(workers)
        with pool_cm as pool, Store.open(store_path) as store:
            # read first: a store found damaged here is refused before anything is written
            stored, broken = _stored_and_broken(store, plan)
            run_id = store.begin_run(
                sweep_name=plan.name,
                sweep_file=str(sweep_file),
                sweep_text=text,
                seed=plan.seed,
                replications=plan.replications,
                executor=pool.name,
                keep_logs=keep_logs,
                scenarios=[
                    StoredScenario(s.hash, s.scenario.scenario.name, s.toml, s.baseline_hash)
                    for s in plan.scenarios
                ],
            )
            todo = [
                i for i in items if i not in stored or i in broken or (keep_logs and not stored[i])
            ]
            leftover = set(stored) | broken  # rows a replication run again replaces
            store.set_counts(run_id, len(items), len(items) - len(todo))
            err.print(
                f"{sweep_file}: {len(plan.scenarios)} scenarios × {plan.replications} "
                f"replications = {len(items):,}; {len(items) - len(todo):,} already in "
                f"{store_path}, skipped; running {len(todo):,} on {pool.name} (run {run_id})"
                + _again(todo, stored, broken),
                markup=False,
            )
            status, died = "failed", None
            finished = 0
            try:
                label = _printable(f"sweep {plan.name}")
                with progress(err, label, len(todo), "stored") as tick:
                    for r in run_items(pool, plan, todo, keep_logs):
                        store.add_replication(
                            run_id,
                            hash=r.hash,
                            seed=r.seed,
                            replication=r.replication,
                            kpis=r.kpis,
                            seconds=r.seconds,
                            executor=pool.name,
                            worker=r.worker,
                            log=r.log,
                            replace=(r.hash, r.seed, r.replication) in leftover,
                        )
                        finished += 1
                        tick()
                status = "done"
            except KeyboardInterrupt:
                status = "interrupted"
            except WorkerDied as exc:
                died = str(exc)
            finally:
                store.finish_run(run_id, status)
            if died is not None:  # not the user's input: exit code 1, as for any failure
                err.print(
                    f"sweep stopped: a worker process died ({died}); "
                    f"{len(items) - len(todo) + finished:,} of {len(items):,} replications are "
                    "stored; run the same command again to resume",
                    markup=False,
                )
                raise typer.Exit(1)
            if status == "interrupted":
                err.print(
                    f"interrupted; what is stored stays: run `planner sweep {sweep_file}` "
                    "again to finish",
                    markup=False,
                )
                raise typer.Exit(130)
            out.print(_sweep_table(store, plan))
    except (StoreError, ExecutorError) as exc:
        _fail([str(exc)])


def _stored_and_broken(
    store: Store, plan: Sweep
) -> tuple[dict[tuple[str, int, int], bool], set[tuple[str, int, int]]]:
    """What the store holds of a sweep's work (each with whether its call log is stored) and
    which of it is not whole (KPI rows deleted, say: see ``Store.damaged``), to run again."""
    hashes = [s.hash for s in plan.scenarios]
    damaged = store.damaged(hashes, plan.seed, calls=True)
    return store.stored(hashes, plan.seed), {(d.hash, d.seed, d.replication) for d in damaged}


def _again(
    todo: list[tuple[str, int, int]],
    stored: dict[tuple[str, int, int], bool],
    broken: set[tuple[str, int, int]],
) -> str:
    """What the sweep's first line says of the work it runs again, if any."""
    redo = sum(i in broken for i in todo)
    logs = sum(i in stored and i not in broken for i in todo)  # stored without their log
    said = [f"{redo:,} of them again, not whole in the store"] if redo else []
    said += [f"{logs:,} of them again, to store their call logs"] if logs else []
    return "".join(f"; {x}" for x in said)


def _sweep_table(store: Store, plan: Sweep) -> Table:
    """KPI means with 95 % intervals per scenario; police hours freed against today's service
    on the same calls (paired by replication)."""
    from planner.sim.compare import paired_table
    from planner.sim.kpis import KPI_BY_KEY, interval

    table = Table(
        "scenario",
        "hash",
        "reps",
        *SWEEP_TABLE_KPIS.values(),
        "police h freed / year",
        title=f"sweep {plan.name}: means and 95 % intervals, seed {plan.seed}",
    )
    store.require_whole([s.hash for s in plan.scenarios], plan.seed)
    reps = {s.hash: store.per_replication(s.hash, plan.seed, checked=True) for s in plan.scenarios}
    for s in plan.scenarios:
        per = reps[s.hash]
        cells = []
        for key in SWEEP_TABLE_KPIS:
            unit = KPI_BY_KEY[key].unit
            m, lo, hi = interval(per[key].to_numpy())
            cells.append(f"{_fmt(m, unit)} ({_fmt(lo, unit)}–{_fmt(hi, unit)})")
        freed = ""
        if s.baseline_hash is not None:  # baseline − scenario: the hours this service frees
            d = paired_table(per, reps[s.baseline_hash]).set_index("kpi")
            m, lo, hi = d.loc["police_officer_hours", ["difference", "ci_low", "ci_high"]]
            freed = f"{_fmt(m, 'h')} ({_fmt(lo, 'h')}–{_fmt(hi, 'h')})"
        table.add_row(s.label, s.hash[:8], str(len(per)), *cells, freed)
    return table


store_app = typer.Typer(
    help="Look into, or upgrade, a results store (`planner sweep`).", no_args_is_help=True
)
app.add_typer(store_app, name="store")
StorePath = Annotated[
    Path | None,
    typer.Option("--store", help="Results store (DuckDB file; default planner.duckdb here)."),
]


@store_app.command("list")
def store_list(
    store_path: StorePath = None,
    run_id: Annotated[
        int | None, typer.Option("--run", help="Only the scenarios of this run.")
    ] = None,
) -> None:
    """The store's sweep runs, and its scenarios with how many replications each has."""
    from planner.store.database import DEFAULT_PATH, Store, StoreError

    store_path = store_path or DEFAULT_PATH
    try:
        with Store.open(store_path, read_only=True) as store:
            runs = store.runs()
            scenarios = store.scenarios(run_id)
            problems = _store_problems(store, scenarios)
    except StoreError as exc:
        _fail([str(exc)])
    t = Table(
        "run",
        "sweep",
        "file",
        "executor",
        "planned",
        "skipped",
        "done",
        "started",
        "status",
        title=f"runs in {store_path}",
    )
    for r in runs.itertuples():
        t.add_row(
            str(r.run_id),
            r.sweep_name,
            r.sweep_file,
            r.executor,
            str(r.planned),
            str(r.skipped),
            str(r.done),
            str(r.started)[:19],
            r.status,
        )
    out.print(t)
    t = Table(
        "hash",
        "name",
        "replications",
        "seeds",
        "baseline",
        title="scenarios" + (f" of run {run_id}" if run_id is not None else ""),
    )
    for r in scenarios.itertuples():
        seeds = ", ".join(str(x) for x in (r.seeds if r.seeds is not None else []))
        t.add_row(r.hash[:12], r.name, str(r.replications), seeds, (r.baseline_hash or "")[:12])
    out.print(t)
    if problems:  # listed, and said: one line each, exit code 2
        _fail(problems)


def _store_problems(store: Store, scenarios: pd.DataFrame) -> list[str]:
    """One line per listed scenario (and seed) whose replications are not whole or whose
    stored TOML cannot be read: what `planner report --store` would refuse."""
    from planner.store.database import toml_problem

    hashes = list(scenarios["hash"])
    lines = store.damage_lines(hashes)
    for h, toml in zip(hashes, scenarios["toml"], strict=True):
        if why := toml_problem(toml, f"{store.path}: scenario {h[:12]}'s stored TOML"):
            lines.append(why)
    return lines


@store_app.command("upgrade")
def store_upgrade(store_path: StorePath = None) -> None:
    """Bring a store written by an older planner to this planner's schema (one transaction)."""
    from planner.store.database import DEFAULT_PATH, SCHEMA_VERSION, Store, StoreError

    store_path = store_path or DEFAULT_PATH
    try:
        with Store.open(store_path, create=False) as store:
            was = store.upgraded_from
    except StoreError as exc:
        _fail([str(exc)])
    said = f"upgraded from schema {was}" if was else "already"
    out.print(f"{store_path}: {said} at schema {SCHEMA_VERSION}", markup=False)


def _default_sources() -> Path:
    return Path("..") / "shared" / "geodata-sources"


@geodata_app.command("build")
def geodata_build(
    sources: Annotated[
        Path, typer.Option(help="Folder with the raw open sources.")
    ] = _default_sources(),
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Where to write (default: the project's geodata/).")
    ] = None,
    region: Annotated[
        list[str] | None, typer.Option(help="Region(s) to build; default all.")
    ] = None,
) -> None:
    """Derive zones, demand cells, facilities and the road graph from the raw sources."""
    import time

    from planner.geo.build import BuildError, build_all
    from planner.geo.region import geodata_dir

    root = geodata_dir()
    started = time.perf_counter()
    try:
        with out.status("building geodata") as status:
            reports = build_all(
                sources,
                root / "curated",
                out_dir or root,
                region,
                progress=lambda m: status.update(_plain(m)),
            )
    except BuildError as exc:
        _fail([f"geodata build: {exc}"])
    table = Table(
        "region",
        "zones",
        "cells",
        "population",
        "grid pop. 2015",
        "facilities",
        "road nodes",
        "road edges",
    )
    for r in reports:
        table.add_row(
            r.region,
            str(r.zones),
            f"{r.cells:,}",
            f"{r.population:,}",
            f"{r.grid_population_2015:,}",
            ", ".join(f"{k} {v}" for k, v in r.facilities.items()),
            str(r.road_nodes),
            str(r.road_edges),
        )
    out.print(table)
    out.print(f"built in {time.perf_counter() - started:.1f} s")


def _region(name: str) -> Region:
    from planner.geo.region import available_regions, load_region

    if name not in available_regions():
        _fail([f"--region: {name!r} is not built; choose one of {', '.join(available_regions())}"])
    return load_region(name)


@geodata_app.command("map")
def geodata_map(
    out_file: Annotated[Path, typer.Option("--out", help="PNG (or SVG/PDF) file to write.")],
    region: Annotated[str, typer.Option(help="Region to draw.")] = "oslo_akershus",
) -> None:
    """Draw zones shaded by population, receiving facilities, candidate bases and police."""
    from planner.report.maps import draw_region

    if out_file.suffix.lower() not in {".png", ".svg", ".pdf"}:
        _fail([f"--out: {out_file.name!r} must end in .png, .svg or .pdf"])
    draw_region(_region(region), out_file)
    out.print(f"wrote {out_file}")


@geodata_app.command("list")
def geodata_list(
    what: Annotated[str, typer.Argument(help="zones | bases | receiving | police | districts")],
    region: Annotated[str, typer.Option(help="Region.")] = "oslo_akershus",
) -> None:
    """List a region's zones, facilities or police districts."""
    r = _region(region)
    if what == "zones":
        frame = r.zones.drop(columns="geometry")
    elif what in ("bases", "receiving", "police"):
        kind = {"bases": "base"}.get(what, what)
        frame = r.facilities[r.facilities["kind"] == kind][
            ["id", "name", "zone_code", "lat", "lon", "source"]
        ]
    elif what == "districts":
        frame = r.districts
    else:
        _fail([f"what: {what!r} is not one of zones, bases, receiving, police, districts"])
    table = Table(*[str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        table.add_row(*[str(v) for v in row])
    out.print(table)


@geodata_app.command("drive-times")
def geodata_drive_times() -> None:
    """Compare the road model with the reference drive-time table."""
    from planner.geo.drive_times import TOLERANCE, compare_reference

    cmp = compare_reference()
    table = Table("origin", "destination", "reference min", "model min", "error", "source")
    for r in cmp.itertuples():
        colour = "green" if r.within else "red"
        table.add_row(
            r.origin,
            r.destination,
            f"{r.minutes:.0f}",
            f"{r.model:.0f}",
            Text(f"{r.error:+.0%}", style=colour),
            str(r.source)[:60],
        )
    out.print(table)
    out.print(f"{int(cmp['within'].sum())} of {len(cmp)} within ±{TOLERANCE:.0%}")


@app.command()
def optimize(
    scenario_file: Annotated[Path, typer.Argument(help="Scenario TOML file to start from.")],
    target: Annotated[
        str, typer.Option(help="Goal on one KPI, e.g. 'share_health_first>=0.9'.")
    ] = "share_health_first>=0.9",
    budget: Annotated[
        float | None,
        typer.Option(min=0, callback=_finite, help="Most the service may cost, NOK a year."),
    ] = None,
    replications: Annotated[
        int | None, typer.Option(min=1, max=10_000, help="Replications per simulated proposal.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, max=MAX_SEED, help="Override [run] seed.")
    ] = None,
    frontier: Annotated[
        bool, typer.Option(help="Also compute the sizing frontier for 1..max units.")
    ] = True,
    max_units: Annotated[
        int | None, typer.Option(min=1, max=60, help="Override [optimise] max_units.")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the results (default results/<name>-optimised)."),
    ] = None,
) -> None:
    """Smallest fleet, bases and roster that meet a target, checked in the simulation."""
    import tomli_w

    from planner.optimise.loop import Target, optimise, scenario_overrides
    from planner.optimise.loop import frontier as sizing_frontier
    from planner.report.charts import frontier_figure
    from planner.scenario.loading import ScenarioError, parse_toml, read_bytes

    try:
        goal = Target.parse(target)
    except ValueError as exc:
        _fail([f"--target: {exc}"])
    scenario = _load(scenario_file)  # validated before anything reads or changes its tables
    try:
        raw = parse_toml(read_bytes(scenario_file), str(scenario_file))
    except ScenarioError as exc:
        _fail(_one_line(exc.problems, scenario_file))
        raise  # unreachable
    if max_units is not None:
        raw.setdefault("optimise", {})["max_units"] = max_units
    if scenario.region.kind != "geodata":
        _fail([f"{scenario_file}: region.kind: the optimiser needs a geodata region"])
    folder = _results_folder(
        out_dir or Path("results") / f"{scenario_file.stem}-optimised", "optimise", scenario
    )
    with err.status("optimising") as status:
        outcome = optimise(
            raw, goal, budget, replications, seed, progress=lambda m: err.print(_plain(str(m)))
        )
        best = outcome.best
        table = None
        if frontier:
            status.update("sizing frontier")
            table, _ = sizing_frontier(
                raw, max_units, replications, seed, progress=lambda m: err.print(_plain(str(m)))
            )
    out.print(_plain(outcome.stopped, style="bold"))
    p = best.proposal
    out.print(
        f"proposal: {len(p.vehicles)} vehicles at "
        f"{', '.join(f'{b}×{n}' for b, n in p.bases.items())}; "
        f"{p.roster.unit_hours_per_week} unit-hours a week; NOK {p.cost_per_year:,.0f} a year"
    )
    out.print(_kpi_table(best.results.kpis, "the proposal in the simulation"))
    data = scenario_overrides(
        raw, p, f"{scenario.scenario.name} (optimised: {goal})", outcome.stopped
    )
    text = tomli_w.dumps(data)
    rounds = pd_frame([r.row(goal) for r in outcome.rounds])
    roster = pd_frame(p.roster.table())
    if table is not None:
        out.print(_frontier_table(table))
    with _writing(folder) as stage:
        stage.write("optimised.toml", lambda f: _write_text(f, text))
        stage.write("rounds.csv", lambda f: rounds.to_csv(f, index=False))
        stage.write("roster.csv", lambda f: roster.to_csv(f, index=False))
        if table is not None:
            fig = frontier_figure(table)
            stage.write("frontier.csv", lambda f: table.to_csv(f, index=False))
            stage.write("frontier.png", lambda f: fig.savefig(f, format="png", dpi=120))
    _wrote(stage)


def pd_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows)


def _frontier_table(table: pd.DataFrame) -> Table:
    t = Table(title="Sizing frontier (each point simulated)")
    for col in ("units", "bases", "NOK M/yr", "health-first", "p90 min", "police h freed"):
        t.add_column(col)
    for r in table.itertuples():
        t.add_row(
            str(r.units),
            str(r.bases),
            f"{r.cost_per_year / 1e6:,.1f}",
            f"{r.share_health_first:.0%}",
            f"{r.response_p90:.0f}",
            f"{r.police_hours_freed:,.0f}",
        )
    return t


@geodata_app.command("import-osm")
def geodata_import_osm(
    pbf: Annotated[Path, typer.Argument(help="OpenStreetMap extract (.osm.pbf).")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for road_nodes.csv and road_edges.csv.")
    ],
) -> None:
    """Build a drivable road network from an OpenStreetMap extract."""
    from planner.geo.osm import OsmError, import_osm, write_network

    if not pbf.is_file():
        _fail([f"{pbf}: no such file"])
    try:
        with out.status(_plain(f"reading {pbf.name}")):
            net = import_osm(pbf)
    except OsmError as exc:
        _fail([f"{pbf}: {exc}"])
    write_network(net, out_dir)
    out.print(f"wrote {len(net.nodes):,} nodes and {len(net.edges):,} edges to {out_dir}")


@app.command()
def dashboard(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1 to serve it on.")
    ] = 8501,
) -> None:
    """Serve the planners' dashboard at http://127.0.0.1:PORT, to this machine only."""
    from planner.dashboard.serve import ServeError, run

    try:
        run(port)
    except ServeError as exc:
        _fail([str(exc)])


def main() -> None:
    """Entry point: run the app, turning user errors into lines on stderr and exit code 2.

    Click's own errors (a value out of range, a missing argument, an unknown option) are one
    line too, ``planner <command>: <problem>``, rather than Typer's boxed usage message."""
    usage_error, click_error, no_args = _click_errors()
    try:
        code = app(prog_name="planner", standalone_mode=False)
    except UserError as exc:
        for line in exc.lines:
            err.print(_printable(line), markup=False, emoji=False)
        sys.exit(2)
    except no_args:
        sys.exit(2)  # a command group given no command: its help is printed already
    except usage_error as exc:
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "planner"
        err.print(f"{where}: {' '.join(exc.format_message().split())}")  # type: ignore[attr-defined]
        sys.exit(2)
    except click_error as exc:
        err.print(f"planner: {' '.join(exc.format_message().split())}")  # type: ignore[attr-defined]
        sys.exit(getattr(exc, "exit_code", 1))
    except typer.Abort:
        err.print("planner: aborted")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _click_errors() -> tuple[type[Exception], type[Exception], type[Exception]]:
    """Click's UsageError, ClickException and NoArgsIsHelpError as the installed Typer raises
    them (newer Typers carry their own copy of click, older ones use click itself)."""
    mro = {c.__name__: c for c in typer.BadParameter.__mro__}
    usage, click_error = mro["UsageError"], mro["ClickException"]
    no_args = getattr(sys.modules[usage.__module__], "NoArgsIsHelpError", None)
    return usage, click_error, no_args or _NeverRaised


class _NeverRaised(Exception):
    """Stands in for an exception class the installed click does not have."""


def _printable(line: str) -> str:
    """A problem stays on one line even when it quotes a key or value holding a line break or
    another control character (TOML allows them in quoted keys): those are shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
