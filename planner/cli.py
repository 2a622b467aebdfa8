"""The ``planner`` command line: a thin shell over the core.

Every user error ends the same way: one line per problem on stderr, naming the field or file,
exit code 2, no traceback, nothing half-written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from planner.region import Region
    from planner.scenario import Scenario
    from planner.simulation import Results

app = typer.Typer(
    help="Size, place and appraise a psychiatric ambulance service for Oslo and Akershus.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
geodata_app = typer.Typer(
    help="Build, inspect and draw the region's geodata.", no_args_is_help=True
)
app.add_typer(geodata_app, name="geodata")

out = Console()
err = Console(stderr=True, highlight=False, soft_wrap=True)


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
    from planner.scenario_file import ScenarioError, load_scenario

    problems: list[str] = []
    for f in files:
        try:
            s = load_scenario(f)
        except ScenarioError as exc:
            problems += [p if p.startswith(str(f)) else f"{f}: {p}" for p in exc.problems]
            continue
        units = len(s.fleet.units)
        where = s.region.name if s.region.kind == "geodata" else "abstract"
        out.print(
            f"[green]✓[/green] {f}: {s.scenario.name} — region {where}, "
            f"policy {s.dispatch.policy}, {units} unit{'s' if units != 1 else ''}, "
            f"{s.run.replications} replications"
        )
    if problems:
        _fail(problems)


@app.command()
def schema() -> None:
    """Print the JSON Schema of a scenario (units and sources included)."""
    from planner.scenario import Scenario

    print(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2, ensure_ascii=False))


@app.command()
def params(
    grep: Annotated[str, typer.Option(help="Show only parameters whose path contains this.")] = "",
) -> None:
    """List every parameter with its default, unit and source."""
    from planner.parameters import registry

    table = Table("parameter", "default", "unit", "source", show_lines=False)
    for p in registry().values():
        if grep in p.path:
            value = json.dumps(p.value, ensure_ascii=False)
            table.add_row(
                p.path, value if len(value) < 50 else value[:47] + "...", p.unit, p.source
            )
    out.print(table)


def _load(path: Path) -> Scenario:
    from planner.scenario_file import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as exc:
        _fail([p if p.startswith(str(path)) else f"{path}: {p}" for p in exc.problems])
        raise  # unreachable: _fail raises


def _simulate_with_progress(
    scenario: Scenario, replications: int | None, seed: int | None, label: str
) -> Results:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from planner.simulation import simulate

    total = replications or scenario.run.replications
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        return simulate(
            scenario, replications, seed, progress=lambda done, _n: bar.update(task, completed=done)
        )


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
    seed: Annotated[int | None, typer.Option(min=0, help="Override [run] seed.")] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for events.parquet, summary.json, kpis.csv (default results/<name>).",
        ),
    ] = None,
) -> None:
    """Simulate a scenario: KPI table with intervals; event log and summary written atomically."""
    from planner.files import write_atomically

    scenario = _load(scenario_file)
    results = _simulate_with_progress(
        scenario, replications, seed, f"simulating {scenario_file.name}"
    )
    out.print(
        _kpi_table(
            results.kpis, f"{scenario.scenario.name} — {len(results.per_replication)} replications"
        )
    )
    summary = results.summary() | {"scenario_file": str(scenario_file)}
    written = ["events.parquet", "kpis.csv", "summary.json", "scenario.toml"]
    economics: dict[str, object] | None = None
    if scenario.dispatch.policy != "baseline" and scenario.fleet.units:
        from planner.compare import baseline_of, with_baseline
        from planner.economics import appraise, headline

        base = _simulate_with_progress(
            baseline_of(scenario), replications, seed, "simulating today's service (baseline)"
        )
        summary = with_baseline(results, base) | {"scenario_file": str(scenario_file)}
        appraisal = appraise(scenario, results.per_replication, base.per_replication)
        economics = headline(scenario, appraisal, results.kpis)
        out.print(_economics_table(economics, scenario))
        written.append("economics.json")
    folder = out_dir or Path("results") / scenario_file.stem
    write_atomically(folder / "events.parquet", lambda p: results.log.to_parquet(p, index=False))
    write_atomically(folder / "kpis.csv", lambda p: results.kpis.to_csv(p, index=False))
    write_atomically(
        folder / "summary.json",
        lambda p: _write_text(p, json.dumps(summary, indent=1, ensure_ascii=False)),
    )
    if economics is not None:
        payload = json.dumps(economics, indent=1, ensure_ascii=False)
        write_atomically(folder / "economics.json", lambda p: _write_text(p, payload))
    text = scenario_file.read_text("utf-8")
    write_atomically(folder / "scenario.toml", lambda p: _write_text(p, text))
    out.print(f"wrote {folder}/: {', '.join(written)}")


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
    seed: Annotated[int | None, typer.Option(min=0, help="Seed for both (default: A's).")] = None,
) -> None:
    """Paired differences B − A on the same calls (common random numbers), with intervals."""
    from planner.compare import paired_differences, police_hours_freed

    sa, sb = _load(a), _load(b)
    seed = sa.run.seed if seed is None else seed
    reps = replications or max(sa.run.replications, 2)
    ra = _simulate_with_progress(sa, reps, seed, f"simulating {a.name}")
    rb = _simulate_with_progress(sb, reps, seed, f"simulating {b.name}")
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


@app.command()
def report(
    results_dir: Annotated[Path, typer.Argument(help="A results folder from `planner run`.")],
    fmt: Annotated[str, typer.Option("--format", help="html or pdf.")] = "html",
    lang: Annotated[str, typer.Option(help="nb (Norwegian bokmål) or en.")] = "nb",
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Report file (default RESULTS/report-<lang>.<format>)."),
    ] = None,
) -> None:
    """A short report for decision-makers: headline, map, frontier, sensitivity, assumptions."""
    from planner.files import write_atomically
    from planner.report import ReportError
    from planner.report import report as compose_report

    if fmt not in ("html", "pdf"):
        _fail([f"--format: must be html or pdf, got {fmt!r}"])
    with err.status(f"composing the report on {results_dir}"):
        try:
            composed = compose_report(results_dir, lang)
        except ReportError as exc:
            _fail([str(exc)])
            raise  # unreachable
    target = out_file or results_dir / f"report-{lang}.{fmt}"
    if fmt == "html":
        from planner.report import to_html

        page = to_html(composed)
        write_atomically(target, lambda p: _write_text(p, page))
    else:
        from planner.report import write_pdf

        write_atomically(target, lambda p: write_pdf(composed, p))
    out.print(f"wrote {target}")


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

    from planner.geobuild import BuildError, build_all
    from planner.region import geodata_dir

    root = geodata_dir()
    started = time.perf_counter()
    try:
        with out.status("building geodata") as status:
            reports = build_all(
                sources,
                root / "curated",
                out_dir or root,
                region,
                progress=lambda m: status.update(m),
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
    from planner.region import available_regions, load_region

    if name not in available_regions():
        _fail([f"--region: {name!r} is not built; choose one of {', '.join(available_regions())}"])
    return load_region(name)


@geodata_app.command("map")
def geodata_map(
    out_file: Annotated[Path, typer.Option("--out", help="PNG (or SVG/PDF) file to write.")],
    region: Annotated[str, typer.Option(help="Region to draw.")] = "oslo_akershus",
) -> None:
    """Draw zones shaded by population, receiving facilities, candidate bases and police."""
    from planner.maps import draw_region

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
    from planner.drive_times import TOLERANCE, compare_reference

    cmp = compare_reference()
    table = Table("origin", "destination", "reference min", "model min", "error", "source")
    for r in cmp.itertuples():
        colour = "green" if r.within else "red"
        table.add_row(
            r.origin,
            r.destination,
            f"{r.minutes:.0f}",
            f"{r.model:.0f}",
            f"[{colour}]{r.error:+.0%}[/{colour}]",
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
        float | None, typer.Option(min=0, help="Most the service may cost, NOK a year.")
    ] = None,
    replications: Annotated[
        int | None, typer.Option(min=1, max=10_000, help="Replications per simulated proposal.")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Override [run] seed.")] = None,
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

    from planner.charts import frontier_figure
    from planner.files import write_atomically
    from planner.optimise import Target, optimise, scenario_overrides
    from planner.optimise import frontier as sizing_frontier
    from planner.scenario_file import ScenarioError, parse_toml, read_bytes

    try:
        goal = Target.parse(target)
    except ValueError as exc:
        _fail([f"--target: {exc}"])
    try:
        raw = parse_toml(read_bytes(scenario_file), str(scenario_file))
    except ScenarioError as exc:
        _fail(exc.problems)
    if max_units is not None:
        raw.setdefault("optimise", {})["max_units"] = max_units
    scenario = _load(scenario_file)
    if scenario.region.kind != "geodata":
        _fail([f"{scenario_file}: region.kind: the optimiser needs a geodata region"])
    folder = out_dir or Path("results") / f"{scenario_file.stem}-optimised"
    with err.status("optimising") as status:
        outcome = optimise(raw, goal, budget, replications, seed, progress=lambda m: err.print(m))
        best = outcome.best
        table = None
        if frontier:
            status.update("sizing frontier")
            table, _ = sizing_frontier(
                raw, max_units, replications, seed, progress=lambda m: err.print(m)
            )
    out.print(f"[bold]{outcome.stopped}[/bold]")
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
    write_atomically(folder / "optimised.toml", lambda f: _write_text(f, text))
    rounds = pd_frame([r.row(goal) for r in outcome.rounds])
    write_atomically(folder / "rounds.csv", lambda f: rounds.to_csv(f, index=False))
    roster = pd_frame(p.roster.table())
    write_atomically(folder / "roster.csv", lambda f: roster.to_csv(f, index=False))
    written = ["optimised.toml", "rounds.csv", "roster.csv"]
    if table is not None:
        write_atomically(folder / "frontier.csv", lambda f: table.to_csv(f, index=False))
        fig = frontier_figure(table)
        write_atomically(folder / "frontier.png", lambda f: fig.savefig(f, format="png", dpi=120))
        written += ["frontier.csv", "frontier.png"]
        out.print(_frontier_table(table))
    out.print(f"wrote {folder}/" + ", ".join(written))


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
    from planner.osm import OsmError, import_osm, write_network

    if not pbf.is_file():
        _fail([f"{pbf}: no such file"])
    try:
        with out.status(f"reading {pbf.name}"):
            net = import_osm(pbf)
    except OsmError as exc:
        _fail([f"{pbf}: {exc}"])
    write_network(net, out_dir)
    out.print(f"wrote {len(net.nodes):,} nodes and {len(net.edges):,} edges to {out_dir}")


def main() -> None:
    """Entry point: run the app, turning user errors into lines on stderr and exit code 2."""
    try:
        app()
    except UserError as exc:
        for line in exc.lines:
            err.print(line, markup=False)
        sys.exit(2)
