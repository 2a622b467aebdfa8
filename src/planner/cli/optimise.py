"""``planner optimize``: the smallest service that meets a target, checked in the simulation,
and the sizing frontier."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd


from planner.cli import common
from planner.cli.common import (
    app,
    fail,
    finite,
    kpi_table,
    load,
    one_line,
    open_results_folder,
    plain,
    write_text,
    writing,
    wrote,
)
from planner.limits import MAX_SEED


@app.command()
def optimize(
    scenario_file: Annotated[Path, typer.Argument(help="Scenario TOML file to start from.")],
    target: Annotated[
        str, typer.Option(help="Goal on one KPI, e.g. 'share_health_first>=0.9'.")
    ] = "share_health_first>=0.9",
    budget: Annotated[
        float | None,
        typer.Option(min=0, callback=finite, help="Most the service may cost, NOK a year."),
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
        fail([f"--target: {exc}"])
    scenario = load(scenario_file)  # validated before anything reads or changes its tables
    try:
        raw = parse_toml(read_bytes(scenario_file), str(scenario_file))
    except ScenarioError as exc:
        fail(one_line(exc.problems, scenario_file))
        raise  # unreachable
    if max_units is not None:
        raw.setdefault("optimise", {})["max_units"] = max_units
    if scenario.region.kind != "geodata":
        fail([f"{scenario_file}: region.kind: the optimiser needs a geodata region"])
    folder = open_results_folder(
        out_dir or Path("results") / f"{scenario_file.stem}-optimised", "optimise", scenario
    )

    def said(message: object) -> None:
        common.err.print(plain(str(message)))

    with common.err.status("optimising") as status:
        outcome = optimise(
            raw,
            goal,
            budget,
            replications,
            seed,
            progress=said,
        )
        best = outcome.best
        table = None
        if frontier:
            status.update("sizing frontier")
            table, _ = sizing_frontier(
                raw,
                max_units,
                replications,
                seed,
                progress=said,
            )
    common.out.print(plain(outcome.stopped, style="bold"))
    p = best.proposal
    common.out.print(
        f"proposal: {len(p.vehicles)} vehicles at "
        f"{', '.join(f'{b}×{n}' for b, n in p.bases.items())}; "
        f"{p.roster.unit_hours_per_week} unit-hours a week; NOK {p.cost_per_year:,.0f} a year"
    )
    common.out.print(kpi_table(best.results.kpis, "the proposal in the simulation"))
    data = scenario_overrides(
        raw, p, f"{scenario.scenario.name} (optimised: {goal})", outcome.stopped
    )
    text = tomli_w.dumps(data)
    rounds = pd_frame([r.row(goal) for r in outcome.rounds])
    roster = pd_frame(p.roster.table())
    if table is not None:
        common.out.print(_frontier_table(table))
    with writing(folder) as stage:
        stage.write("optimised.toml", lambda f: write_text(f, text))
        stage.write("rounds.csv", lambda f: rounds.to_csv(f, index=False))
        stage.write("roster.csv", lambda f: roster.to_csv(f, index=False))
        if table is not None:
            fig = frontier_figure(table)
            stage.write("frontier.csv", lambda f: table.to_csv(f, index=False))
            stage.write("frontier.png", lambda f: fig.savefig(f, format="png", dpi=120))
    wrote(stage)


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
