"""``planner run``, ``planner compare`` and ``planner report``: simulate a scenario (with today's
service on the same calls and the appraisal), compare two, and write the report."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from planner.economics.appraisal import Headline
    from planner.scenario.model import Scenario
    from planner.sim.kpis import Estimate
    from planner.store.files import FileTarget

from planner.cli import common
from planner.cli.common import (
    Force,
    Workers,
    app,
    fail,
    folder_errors,
    kpi_table,
    load,
    open_results_folder,
    plain,
    police_table,
    refuse_too_big,
    replication_workers,
    shown,
    simulate_with_progress,
    workers_for,
    write_json,
    write_text,
    writing,
    wrote,
)
from planner.limits import MAX_REPLICATIONS, MAX_SEED


@app.command()
def run(
    scenario_file: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    replications: Annotated[
        int | None, typer.Option(min=1, max=MAX_REPLICATIONS, help="Override [run] replications.")
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
    force: Force = False,
    workers: Workers = None,
) -> None:
    """Simulate a scenario: KPI table with intervals; the results folder written whole, the
    call log streamed to it (memory does not grow with replications)."""
    from planner.sim.event_log import DiscardLog

    scenario = load(scenario_file)
    text = scenario_file.read_text("utf-8")  # a regular file of UTF-8, as load found it
    folder = open_results_folder(out_dir or Path("results") / scenario_file.stem, "run", scenario)
    with_baseline_run = scenario.dispatch.policy != "baseline" and bool(scenario.fleet.units)
    if not force:
        refuse_too_big(scenario, replications, 2 if with_baseline_run else 1)
    n = workers_for(workers, scenario, replications, 2 if with_baseline_run else 1, force)
    with writing(folder) as stage, replication_workers(n) as pool:
        results = simulate_with_progress(
            scenario,
            replications,
            seed,
            f"simulating {scenario_file.name}",
            log_to=stage.file("events.parquet"),
            executor=pool,
        )
        common.out.print(
            kpi_table(
                results.kpis,
                f"{scenario.scenario.name} — {len(results.per_replication)} replications",
            )
        )
        if (police := police_table(results.kpis)) is not None:
            common.out.print(police)
        if scenario.callers.frequent_share > 0:
            common.out.print(_cohort_table(results.by_cohort))
        summary = results.summary()
        economics: Headline | None = None
        if with_baseline_run:
            from planner.economics.appraisal import appraise, headline
            from planner.sim.compare import baseline_of, with_baseline

            base = simulate_with_progress(
                baseline_of(scenario),
                replications,
                seed,
                "simulating today's service (baseline)",
                log_to=DiscardLog(),
                executor=pool,
            )
            summary = with_baseline(results, base)
            appraisal = appraise(scenario, results.per_replication, base.per_replication)
            economics = headline(scenario, appraisal, results.kpis)
            common.out.print(_economics_table(economics, scenario))
        stage.write("kpis.csv", lambda p: results.kpis.to_csv(p, index=False))
        stage.write("cohorts.csv", lambda p: results.by_cohort.to_csv(p, index=False))
        summary = dataclasses.replace(summary, scenario_file=str(scenario_file))
        stage.write("summary.json", lambda p: write_json(p, summary.to_json()))
        stage.write("scenario.toml", lambda p: write_text(p, text))
        if economics is not None:
            stage.write("economics.json", lambda p: write_json(p, economics.to_json()))
    wrote(stage)


def _cohort_table(by_cohort: pd.DataFrame) -> Table:
    """The KPIs of the frequent callers' calls beside those of the people who call once."""
    table = Table("", "frequent callers", "people who call once", "unit", title="By caller")
    wide = by_cohort.pivot(index="kpi", columns="cohort", values="mean")
    for _, row in by_cohort[by_cohort["cohort"] == "frequent"].iterrows():
        share = row["unit"] == "share"
        whole = row["unit"] in ("per year", "h per year")  # counts a year: no decimals
        cells = [
            "–" if math.isnan(v) else f"{v:.1%}" if share else f"{v:,.0f}" if whole else f"{v:,.1f}"
            for v in (wide.loc[row["kpi"], "frequent"], wide.loc[row["kpi"], "once"])
        ]
        table.add_row(row["label"], *cells, "" if share else row["unit"])
    return table


def _economics_table(e: Headline, scenario: Scenario) -> Table:
    """What the service buys against today's, and its appraisal (R-109)."""
    from planner.sim.kpis import Estimate

    def row(label: str, v: float | Estimate, fmt: str, unit: str) -> tuple[str, str, str, str]:
        scale = 1e6 if "million" in unit else 1.0
        if isinstance(v, Estimate):
            lo, hi = fmt.format(v.low / scale), fmt.format(v.high / scale)
            return (label, fmt.format(v.mean / scale), f"{lo} – {hi}", unit)
        return (label, fmt.format(float(v) / scale), "", unit)

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
        row("Cost of the service", e.cost_per_year, "{:,.1f}", "NOK million / year"),
        row("Staff", e.fte, "{:,.1f}", "FTE"),
        row("Police officer-hours freed", e.police_hours_freed, "{:,.0f}", "h / year"),
        row("... as police FTE", e.police_fte_freed, "{:,.1f}", "FTE"),
        row(
            "Patients not driven in a police car",
            e.police_car_transports_avoided,
            "{:,.0f}",
            "per year",
        ),
        row(
            "Encounters with uniformed police avoided",
            e.police_encounters_avoided,
            "{:,.0f}",
            "per year",
        ),
        row("Net present value", e.npv, "{:,.1f}", "NOK million"),
        row("Net cost per year", e.annual_net_cost, "{:,.1f}", "NOK million / year"),
        row("Break-even price of a police hour", e.break_even_police_hour, "{:,.0f}", "NOK / h"),
        row("Cost per health-first response", e.cost_per_health_first_response, "{:,.0f}", "NOK"),
        row("Probability NPV > 0 (Monte Carlo)", e.probability_npv_positive, "{:.1%}", ""),
        *(
            row(f"Urgent police response (P1), {d}: 90th percentile less by", v, "{:,.1f}", "min")
            for d, v in e.p1_p90_minutes_gained.items()
        ),
        *(
            row(f"Urgent police response (P1), {d}: more within target by", v, "{:.2%}", "")
            for d, v in e.p1_within_target_gained.items()
        ),
    ):
        table.add_row(*r)
    if e.p1_p90_minutes_gained:
        table.caption = "The urgent police response gained is counted, not priced."
    return table


@app.command()
def compare(
    a: Annotated[Path, typer.Argument(help="Scenario A (e.g. the baseline).")],
    others: Annotated[
        list[Path], typer.Argument(help="Scenario B, and any more, each compared with A.")
    ],
    replications: Annotated[
        int | None, typer.Option(min=2, max=MAX_REPLICATIONS, help="Replications for both.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, max=MAX_SEED, help="Seed for both (default: A's).")
    ] = None,
    force: Force = False,
    workers: Workers = None,
) -> None:
    """Paired differences on the same calls (common random numbers), with intervals: each of
    B (and any more) against A, side by side."""
    from planner.sim.compare import paired_differences, police_hours_freed
    from planner.sim.event_log import DiscardLog
    from planner.sim.kpis import by_hour_of

    sa = load(a)
    loaded = [(b, load(b)) for b in others]
    for b, sb in loaded:
        _same_calls(a, sa, b, sb)
    seed = sa.run.seed if seed is None else seed
    reps = replications or max(sa.run.replications, 2)
    runs = 1 + len(loaded)
    if not force:
        refuse_too_big(sa, reps, runs)
    with replication_workers(workers_for(workers, sa, reps, runs, force)) as pool:
        ra = simulate_with_progress(
            sa, reps, seed, f"simulating {a.name}", log_to=DiscardLog(), executor=pool
        )
        rs = [
            simulate_with_progress(
                sb, reps, seed, f"simulating {b.name}", log_to=DiscardLog(), executor=pool
            )
            for b, sb in loaded
        ]
    diffs = [paired_differences(ra, rb).set_index("kpi") for rb in rs]
    letters = [chr(ord("B") + k) for k in range(len(loaded))]
    names = " and ".join(sb.scenario.name for _, sb in loaded)
    table = Table(
        "KPI",
        f"A: {a.stem}",
        *(f"{x}: {b.stem}" for x, (b, _) in zip(letters, loaded, strict=True)),
        *(f"{x} − A (95 % interval)" for x in letters),
        "unit",
        title=f"{names} against {sa.scenario.name} — {reps} paired replications",
    )
    first = diffs[0]
    for key in first.index:
        by_hour = by_hour_of(str(key).partition(".")[0]) is not None  # their own table
        if by_hour or not all(key in d.index for d in diffs):
            continue
        r = first.loc[key]
        unit = r["unit"]
        cells = [shown(d.loc[key, "b"], unit) for d in diffs]
        changes = [
            f"{shown(d.loc[key, 'difference'], unit)} "
            f"({shown(d.loc[key, 'ci_low'], unit)} – {shown(d.loc[key, 'ci_high'], unit)})"
            for d in diffs
        ]
        table.add_row(
            r["label"], shown(r["a"], unit), *cells, *changes, "" if unit == "share" else unit
        )
    common.out.print(table)
    if (hours := _by_hour_table(diffs, letters)) is not None:
        common.out.print(hours)
    fte = sa.costs.police_fte_hours
    for x, (b, _), rb in zip(letters, loaded, rs, strict=True):
        freed, lo, hi = police_hours_freed(ra, rb)
        common.out.print(
            f"Police officer-hours freed by {x} ({b.stem}): {freed:,.0f} a year (95 % interval "
            f"{lo:,.0f} – {hi:,.0f}), {freed / fte:.1f} police FTE"
        )


def _by_hour_table(diffs: list[pd.DataFrame], letters: list[str]) -> Table | None:
    """The patrols' busy share by hour of day in A, and each scenario's paired change, by police
    district (``police.model = "patrols"``); None without patrols."""
    from planner.sim.kpis import by_hour_of

    keys = [k for k in diffs[0].index if by_hour_of(str(k).partition(".")[0]) is not None]
    if not keys:
        return None
    districts = list(dict.fromkeys(str(k).partition(".")[2] for k in keys))
    table = Table(
        "hour",
        *(f"{d}: A" for d in districts),
        *(f"{d}: {x} − A (95 % interval)" for d in districts for x in letters),
        title="Patrols' busy share of their time on duty, by hour of day",
    )
    for hour in range(24):
        row = [f"{hour:02d}–{hour + 1:02d}"]
        row += [
            shown(diffs[0].loc[f"patrol_utilisation_h{hour:02d}.{d}", "a"], "share")
            for d in districts
        ]
        for d in districts:
            for diff in diffs:
                r = diff.loc[f"patrol_utilisation_h{hour:02d}.{d}"]
                row.append(
                    f"{shown(r['difference'], 'share')} "
                    f"({shown(r['ci_low'], 'share')} – {shown(r['ci_high'], 'share')})"
                )
        table.add_row(*row)
    return table


def _same_calls(a: Path, sa: Scenario, b: Path, sb: Scenario) -> None:
    """Refuse, in one line, two scenarios whose differences could not be paired call by call."""
    from planner.sim.compare import calls_differ

    differ = calls_differ(sa, sb)
    if not differ:
        return
    shown = [f"{path} {va!r} in A, {vb!r} in B" for path, va, vb in differ[:3]]
    if len(differ) > 3:
        shown.append(f"and {len(differ) - 3} more")
    fail(
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
    from planner.report.document import report_of
    from planner.report.folder import Bundle, ReportError, load_bundle
    from planner.report.from_store import load_store_bundle
    from planner.store.database import DEFAULT_PATH
    from planner.store.files import write_atomically

    if fmt not in ("html", "pdf"):
        fail([f"--format: must be html or pdf, got {fmt!r}"])
    from_store = store_path is not None or scenario is not None
    if from_store == (results_dir is not None):
        fail(["report: give a results folder, or --scenario (and --store) for a swept one"])
    if from_store and scenario is None:
        fail(["--scenario: which scenario of the store to report on (`planner store list`)"])
    where = results_dir or store_path or DEFAULT_PATH
    with common.err.status(plain(f"composing the report on {where}")):
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
            fail([str(exc)])
            raise  # unreachable
    if fmt == "html":
        from planner.report.render import to_html

        page = to_html(composed)
        write_atomically(target, lambda p: write_text(p, page), mode=checked.mode)
    else:
        from planner.report.render import write_pdf

        write_atomically(target, lambda p: write_pdf(composed, p), mode=checked.mode)
    common.out.print(f"wrote {target}")


def _report_target(path: Path, option: str) -> FileTarget:
    """The report file to write: absent, or a report planner wrote (one line otherwise)."""
    from planner.store.files import file_target

    with folder_errors():
        return file_target(path, option)
