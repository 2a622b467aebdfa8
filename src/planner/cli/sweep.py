"""``planner sweep`` and ``planner store``: many scenarios × replications into the results store,
and what the store holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from planner.store.database import Store
    from planner.sweep.grid import Sweep

from planner.cli import common
from planner.cli.common import app, fail, one_line, printable, shown

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
        fail(["--workers: local processes only; a Dask cluster (--scheduler) has its own"])
    if scheduler is not None and (why := scheduler_problem(scheduler)):
        fail([f"--scheduler: {why}"])
    try:
        plan = load_sweep(sweep_file)
    except ScenarioError as exc:
        fail(one_line(exc.problems, sweep_file))
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
            common.err.print(
                f"{sweep_file}: {len(plan.scenarios)} scenarios × {plan.replications} "
                f"replications = {len(items):,}; {len(items) - len(todo):,} already in "
                f"{store_path}, skipped; running {len(todo):,} on {pool.name} (run {run_id})"
                + _again(todo, stored, broken),
                markup=False,
            )
            status, died = "failed", None
            finished = 0
            try:
                label = printable(f"sweep {plan.name}")
                with progress(common.err, label, len(todo), "stored") as tick:
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
                common.err.print(
                    f"sweep stopped: a worker process died ({died}); "
                    f"{len(items) - len(todo) + finished:,} of {len(items):,} replications are "
                    "stored; run the same command again to resume",
                    markup=False,
                )
                raise typer.Exit(1)
            if status == "interrupted":
                common.err.print(
                    f"interrupted; what is stored stays: run `planner sweep {sweep_file}` "
                    "again to finish",
                    markup=False,
                )
                raise typer.Exit(130)
            common.out.print(_sweep_table(store, plan))
    except (StoreError, ExecutorError) as exc:
        fail([str(exc)])


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
            cells.append(f"{shown(m, unit)} ({shown(lo, unit)}–{shown(hi, unit)})")
        freed = ""
        if s.baseline_hash is not None:  # baseline − scenario: the hours this service frees
            d = paired_table(per, reps[s.baseline_hash]).set_index("kpi")
            m, lo, hi = d.loc["police_officer_hours", ["difference", "ci_low", "ci_high"]]
            freed = f"{shown(m, 'h')} ({shown(lo, 'h')}–{shown(hi, 'h')})"
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
        fail([str(exc)])
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
    common.out.print(t)
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
    common.out.print(t)
    if problems:  # listed, and said: one line each, exit code 2
        fail(problems)


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
        fail([str(exc)])
    said = f"upgraded from schema {was}" if was else "already"
    common.out.print(f"{store_path}: {said} at schema {SCHEMA_VERSION}", markup=False)
