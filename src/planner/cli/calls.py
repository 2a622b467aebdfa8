"""``planner calls``: check a trust's call log against the schema and the region, and make a
log from the model to try the way in on (docs/call-log.md).

A log stays on this machine: these commands read it and write what they found beside it, and
send nothing anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from planner.cli import common
from planner.cli.common import fail, folder_errors

if TYPE_CHECKING:
    from planner.calllog.check import RegionIndex
    from planner.calllog.mapping import Mapping

calls_app = typer.Typer(
    help="Check a call log, or make one from the model (nothing leaves this machine).",
    no_args_is_help=True,
)
common.app.add_typer(calls_app, name="calls")

MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="TOML file that maps the source's columns and codes to the schema (default: the "
        "log is in the schema already).",
    ),
]
RegionOption = Annotated[str, typer.Option("--region", help="Region the calls are in.")]


def _mapping(path: Path | None) -> Mapping:
    from planner.calllog.mapping import MappingError
    from planner.calllog.reading import read_mapping

    try:
        return read_mapping(path)
    except MappingError as exc:
        assert path is not None or exc.lines
        more = len(exc.lines) - 1
        first = exc.lines[0]
        fail([first + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")])
        raise  # unreachable: fail raises


def _region_index(name: str) -> RegionIndex:
    from planner.calllog.check import RegionIndex
    from planner.geo.geodata import available_regions, load_region

    if name not in available_regions():
        fail([f"--region: {name!r} is not built; choose one of {', '.join(available_regions())}"])
    return RegionIndex.of(load_region(name))


@calls_app.command("check")
def calls_check(
    log: Annotated[Path, typer.Argument(help="The call log: CSV, or Parquet (.parquet).")],
    mapping: MappingOption = None,
    region: RegionOption = "oslo_akershus",
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            help="CSV of the rejected rows, with their row number and reasons (default: "
            "LOG.rejects.csv beside the log).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Parquet file of the accepted calls, in the schema."),
    ] = None,
) -> None:
    """Read every row of a call log: accepted, or rejected with its reasons (nothing dropped)."""
    from planner.calllog.check import LogRefused, check_log
    from planner.calllog.reading import read_log
    from planner.store.calllog import check_targets, write_parquet, write_rejects

    if out is not None and out.suffix.lower() not in (".parquet", ".pq"):
        fail([f"--out: {out.name!r} must end in .parquet"])
    rejects = rejects or log.with_name(log.name + ".rejects.csv")
    with folder_errors():
        check_targets((rejects, "--rejects"), (out, "--out"))
    m = _mapping(mapping)
    index = _region_index(region)
    try:
        checked = check_log(read_log(log, m), m, index)
    except LogRefused as exc:
        text = str(exc)
        fail([text if text.startswith(str(log)) else f"{log}: {text}"])
    with folder_errors():
        write_rejects(rejects, checked.rejects)
        if out is not None:
            write_parquet(out, checked.calls, "planner calls check")

    table = Table("rows", "count", "share", title=f"{log.name} ({m.name})")
    table.add_row("read", f"{checked.read:,}", "")
    share = (lambda k: f"{k / checked.read:.1%}") if checked.read else (lambda _k: "")
    table.add_row("accepted", f"{checked.accepted:,}", share(checked.accepted))
    table.add_row("rejected", f"{len(checked.rejects):,}", share(len(checked.rejects)))
    for problem, count in checked.rejected_by().items():
        table.add_row(f"  {problem}", f"{count:,}", share(count) if count else "")
    common.out.print(table)
    common.out.print(f"wrote {rejects} ({len(checked.rejects):,} rejected rows)")
    if out is not None:
        common.out.print(f"wrote {out} ({checked.accepted:,} calls)")


@calls_app.command("synth")
def calls_synth(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML whose calls the log records.")],
    out: Annotated[Path, typer.Option("--out", help="The log to write: .csv or .parquet.")],
    years: Annotated[
        float, typer.Option("--years", min=0.01, max=10, help="Years of calls.")
    ] = 1.0,
    mapping: MappingOption = None,
    dirt: Annotated[
        float,
        typer.Option(
            "--dirt",
            min=0.0,
            max=0.5,
            help="Share of rows made dirty, evenly of six kinds: duplicates, missing times, "
            "missing call time, outside the region, unknown codes, times out of order.",
        ),
    ] = 0.0,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Default: the scenario's.")
    ] = None,
    start: Annotated[
        str, typer.Option("--start", help="The Monday the log begins (YYYY-MM-DD).")
    ] = "2024-01-01",
) -> None:
    """Make a call log from the model: the scenario's calls over some years, as a log."""
    import numpy as np
    import pandas as pd

    from planner.calllog.synth import Dirt, synth_log
    from planner.scenario.loading import replaced
    from planner.store.calllog import check_targets, write_log_csv, write_parquet

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        fail([f"--out: {out.name!r} must end in .csv or .parquet"])
    try:
        monday = pd.Timestamp(start)
    except ValueError:
        fail([f"--start: {start!r} is not a date (YYYY-MM-DD)"])
    if monday.weekday() != 0 or monday != monday.normalize():
        fail([f"--start: {start} is not a Monday at midnight (the model's week begins then)"])
    with folder_errors():
        check_targets((out, "--out"))
    m = _mapping(mapping)
    s = common.load(scenario)
    run = replaced(
        s,
        {
            "run.horizon_days": round(years * 365.0, 6),
            "run.warmup_days": 0.0,
            "run.replications": 1,
            **({"run.seed": seed} if seed is not None else {}),
        },
    )
    results = common.simulate_with_progress(run, None, None, "simulating the calls")
    region = s.geodata
    cells = region.cells.set_index("cell_id").loc[:, ["lon", "lat"]].to_numpy(float)
    zones = region.zones
    made = synth_log(
        results.log,
        cells,
        dict(zip(zones["zone_code"].astype(str), zones["facility"].astype(str), strict=True)),
        {k: v.urgency for k, v in s.situations.items()},
        s.police.officers_per_patrol,
        monday,
        np.random.Generator(np.random.PCG64(np.random.SeedSequence([run.run.seed, 0xD127]))),
        Dirt.evenly(dirt),
        m,
    )
    with folder_errors():
        if suffix == ".csv":
            write_log_csv(out, made.text, m.delimiter, m.encoding)
        else:
            write_parquet(out, made.text, "planner calls synth")
    dirty = int((made.dirt != "").sum())
    span = f"{years:g} year{'s' * (years != 1)}"
    common.out.print(
        f"wrote {out}: {len(made.text):,} calls over {span} from {start}"
        + (f", {dirty:,} of them dirty" if dirty else "")
    )
