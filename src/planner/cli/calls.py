"""``planner calls``: check a trust's call log against the schema and the region, and make a
log from the model to try the way in on (docs/call-log.md).

A log stays on this machine: these commands read it and write what they found beside it, and
send nothing anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from planner.calllog.schema import TIMEZONE
from planner.cli import common
from planner.cli.common import fail, folder_errors

if TYPE_CHECKING:
    import pandas as pd

    from planner.calllog.check import CheckedLog, RegionIndex
    from planner.calllog.fit import Calibration, Fitted, NotFitted
    from planner.calllog.mapping import Mapping
    from planner.scenario.model import Scenario

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
LogArgument = Annotated[
    Path, typer.Argument(help="The call log: CSV (.csv, .csv.gz), or Parquet (.parquet).")
]
RegionOption = Annotated[str, typer.Option("--region", help="Region the calls are in.")]
ReportOption = Annotated[
    Path | None,
    typer.Option(
        "--report", help="Write the calibration report here too (.html or .pdf; see --lang)."
    ),
]
LangOption = Annotated[str, typer.Option("--lang", help="The report's language: nb or en.")]


def _report_target(report: Path | None, lang: str) -> None:
    """Refuse, before any work, a report that could not be written."""
    from planner.store.files import file_target

    if report is None:
        return
    if report.suffix.lower() not in (".html", ".pdf"):
        fail([f"--report: {report.name!r} must end in .html or .pdf"])
    if lang not in ("nb", "en"):
        fail([f"--lang: must be nb or en, got {lang!r}"])
    with folder_errors():
        file_target(report, "--report")


def _write_report(report: Path, composed: Any) -> None:
    from planner.report.calibration import write
    from planner.store.files import write_atomically

    with folder_errors():
        write_atomically(report, lambda tmp: write(composed, tmp))  # the temporary's suffix too
    common.out.print(f"wrote {report}")


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


def _checked(log: Path, mapping: Mapping, index: RegionIndex) -> CheckedLog:
    """The log read and checked; a log refused whole is one line naming the file."""
    from planner.calllog.check import LogRefused, check_log
    from planner.calllog.reading import read_log

    try:
        return check_log(read_log(log, mapping), mapping, index)
    except LogRefused as exc:
        text = str(exc)
        fail([text if text.startswith(str(log)) else f"{log}: {text}"])
        raise  # unreachable: fail raises


def _date(text: str, option: str) -> pd.Timestamp:
    """A date given on the command line (one line naming the option if it is none)."""
    import pandas as pd

    try:
        return pd.Timestamp(text)
    except ValueError:
        fail([f"{option}: {text!r} is not a date (YYYY-MM-DD)"])
        raise  # unreachable: fail raises


def _region_index(name: str) -> RegionIndex:
    from planner.calllog.check import RegionIndex
    from planner.geo.geodata import available_regions, load_region

    if name not in available_regions():
        fail([f"--region: {name!r} is not built; choose one of {', '.join(available_regions())}"])
    return RegionIndex.of(load_region(name))


@calls_app.command("check")
def calls_check(
    log: LogArgument,
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
    from planner.store.calllog import check_targets, write_parquet, write_rejects

    if out is not None and out.suffix.lower() not in (".parquet", ".pq"):
        fail([f"--out: {out.name!r} must end in .parquet"])
    rejects = rejects or log.with_name(log.name + ".rejects.csv")
    with folder_errors():
        check_targets((rejects, "--rejects"), (out, "--out"))
    m = _mapping(mapping)
    index = _region_index(region)
    checked = _checked(log, m, index)
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
    out: Annotated[
        Path, typer.Option("--out", help="The log to write: .csv, .csv.gz or .parquet.")
    ],
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

    from planner.calllog.synth import Dirt, ScenarioFacts, synth_log
    from planner.scenario.loading import replaced
    from planner.store.calllog import check_targets, write_log_csv, write_parquet

    name = out.name.lower()
    suffix = ".csv" if name.endswith((".csv", ".csv.gz")) else out.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        fail([f"--out: {out.name!r} must end in .csv, .csv.gz or .parquet"])
    monday = _date(start, "--start")
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
    made = synth_log(
        results.log,
        ScenarioFacts.of(s),
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


@common.app.command("calibrate")
def calibrate(
    log: LogArgument,
    out: Annotated[Path, typer.Option("--out", help="The calibrated scenario to write (.toml).")],
    mapping: MappingOption = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region", help="Region the calls are in (default: --scenario's, or oslo_akershus)."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="Fit to the calls before this date (YYYY-MM-DD), keeping the rest for a backtest.",
        ),
    ] = None,
    base: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            help="Scenario whose other settings the calibrated one keeps (default: the "
            "defaults, in --region).",
        ),
    ] = None,
    report: ReportOption = None,
    lang: LangOption = "nb",
) -> None:
    """Fit a scenario's demand and time parameters to a call log, each with its source."""
    import tomllib

    import tomli_w

    from planner.calllog.fit import CALIBRATED_MARK, scenario_data
    from planner.scenario.loading import ScenarioError, scenario_from_dict
    from planner.store.files import file_target, write_atomically

    if out.suffix.lower() != ".toml":
        fail([f"--out: {out.name!r} must end in .toml"])
    end = None if until is None else _date(until, "--until").tz_localize(TIMEZONE)
    with folder_errors():
        file_target(out, "--out", _calibrated_by_us)
    _report_target(report, lang)
    m = _mapping(mapping)
    if base is not None:
        s = common.load(base)
        raw = tomllib.loads(base.read_text("utf-8"))
        if region is not None and s.region.name != region:
            fail([f"--region: {region!r}, but --scenario {base} is in {s.region.name!r}"])
        region = s.region.name
    else:
        region = region or "oslo_akershus"
        raw = {"region": {"name": region}}
        s = scenario_from_dict(raw)
    index = _region_index(region)
    checked = _checked(log, m, index)
    try:
        fitted = _calibration(s, checked, end)
    except ValueError as exc:
        fail([f"{log}: {exc}"])
    kept, refused = _valid(s, fitted)
    data = scenario_data(kept, raw, log.name, f"Calibrated from {log.name}")
    try:
        scenario_from_dict(data)
    except ScenarioError as exc:  # a fitted value outside the model's limits
        fail([f"{out}: the calibrated scenario is not valid: {exc.problems[0]}"])
    header = [
        f"{CALIBRATED_MARK} from {log.name} ({kept.calls:,} calls, {kept.span}; "
        f"{checked.accepted:,} of {checked.read:,} rows accepted by the check).",
        "# Every fitted value's source, interval and fit is in [scenario.sources].",
        "# Not fitted (the defaults stand):",
        *[f"#   {n.path}: {n.why}" for n in (*kept.not_fitted, *refused)],
    ]
    text = "\n".join(header) + "\n\n" + tomli_w.dumps(data)
    with folder_errors():
        write_atomically(out, lambda tmp: _write_text(tmp, text))

    table = Table(title=f"{log.name}: {kept.span}")
    table.add_column("parameter", overflow="fold")
    for column in ("default", "fitted", "95 % interval", "n"):
        table.add_column(column)
    for f in kept.fitted:
        table.add_row(f.path, _brief(f.default), _brief(f.value), _interval(f), f"{f.n:,}")
    common.out.print(table)
    for n in (*kept.not_fitted, *refused):
        common.out.print(f"not fitted: {n.path}: {n.why}")
    common.out.print(f"wrote {out} ({len(kept.fitted)} parameters fitted)")
    if report is not None:
        import dataclasses

        from planner.report.calibration import compose

        shown = dataclasses.replace(kept, not_fitted=(*kept.not_fitted, *refused))
        _write_report(report, compose(checked.calls, checked, shown, log.name, lang, end))


def _calibration(s: Scenario, checked: CheckedLog, until: pd.Timestamp | None) -> Calibration:
    """The log's calls (before ``until``) fitted in the scenario's region, its values the
    defaults they replace."""
    from planner.calllog.fit import calibrate

    zones = s.geodata.zones
    codes, people = zones["zone_code"].astype(str), zones["population"].astype(float)
    # the region's own catchments: an override the log confirms is fitted again, one it
    # contradicts is not
    catchments = dict(zip(codes, zones["facility"].astype(str), strict=True))
    return calibrate(
        checked.calls,
        dict(zip(codes, people, strict=True)),
        _flat(s.content()),
        until,
        s.triage.screening_false_positive,
        unread=checked.rejected_for_data,
        catchments=catchments,
    )


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _calibrated_by_us(path: Path) -> bool:
    from planner.calllog.fit import CALIBRATED_MARK
    from planner.store.calllog import begins_with

    return begins_with(path, CALIBRATED_MARK)


def _flat(data: dict[str, object], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        out[path] = value
        if isinstance(value, dict) and "dist" not in value:
            out.update(_flat(value, path + "."))
    return out


def _valid(scenario: Scenario, calibration: Calibration) -> tuple[Calibration, list[NotFitted]]:
    """The calibration with each fitted value the scenario accepts; the others, not fitted
    with the model's reason (a time whose spread is beyond the model's limits, say)."""
    import dataclasses
    import re

    from pydantic import ValidationError

    from planner.calllog.fit import NotFitted
    from planner.scenario.loading import replaced

    groups: dict[str, list[Fitted]] = {}  # the kinds' shares are checked together (they sum to 1)
    for f in calibration.fitted:
        groups.setdefault(re.sub(r"^situations\.[^.]+\.share$", "shares", f.path), []).append(f)
    kept: list[Fitted] = []
    refused: list[NotFitted] = []
    for group in groups.values():
        try:
            replaced(scenario, {f.path: f.value for f in group})
            kept.extend(group)
        except (ValidationError, KeyError) as exc:
            first = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            why = f"the fitted value is outside the model: {first}"
            refused.extend(NotFitted(f.path, why) for f in group)
    order = {f.path: i for i, f in enumerate(calibration.fitted)}
    kept.sort(key=lambda f: order[f.path])
    return dataclasses.replace(calibration, fitted=tuple(kept)), refused


def _brief(value: object) -> str:
    if isinstance(value, dict) and "dist" in value:
        spread = f", sd {value['sd']:g}" if "sd" in value else ""
        mean = f"mean {value['mean']:g}" if "mean" in value else f"{len(value['values'])} values"
        return f"{value['dist']} {mean}{spread}"
    if isinstance(value, dict):
        if not value:
            return "{}"
        nums = [v for v in value.values() if isinstance(v, float | int)]
        return f"{len(value)} values, {min(nums):.3g}–{max(nums):.3g}" if nums else str(value)
    if isinstance(value, list | tuple):
        return f"{len(value)} weights, {min(value):.3g}–{max(value):.3g}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _interval(f: Fitted) -> str:
    low, high = f.low, f.high
    if low is None or isinstance(low, dict | list):
        return ""
    return f"{low:.4g} – {high:.4g}"


@common.app.command("backtest")
def backtest_command(
    scenario: Annotated[Path, typer.Argument(help="The calibrated scenario (planner calibrate).")],
    log: Annotated[Path, typer.Argument(help="The call log it was calibrated from.")],
    start: Annotated[
        str, typer.Option("--from", help="The held-out period begins this date (YYYY-MM-DD).")
    ],
    mapping: MappingOption = None,
    replications: Annotated[
        int, typer.Option("--replications", min=19, max=999, help="Simulations of the period.")
    ] = 99,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Write the calibration report (the log's calls before --from fitted again) "
            "with the backtest's verdicts and plots (.html or .pdf).",
        ),
    ] = None,
    lang: LangOption = "nb",
) -> None:
    """Simulate a held-out period of the log and compare: a plain verdict per figure.

    The period is simulated in its own year (``demand.year``): the calibrated rate, grown from
    its base year at the scenario's growth per year."""
    import pandas as pd

    from planner.calllog.backtest import ALPHA, backtest
    from planner.calllog.synth import ScenarioFacts, calls_of
    from planner.scenario.loading import replaced

    begin = _date(start, "--from").tz_localize(TIMEZONE)
    _report_target(report, lang)
    s = common.load(scenario)
    m = _mapping(mapping)
    index = _region_index(s.region.name)
    checked = _checked(log, m, index)
    calls = checked.calls
    held = calls[calls["call_time"] >= begin]
    if len(held) == 0:
        fail([f"--from: no accepted call of {log} is on or after {start}"])
    end = (held["call_time"].max() + pd.Timedelta(days=1)).normalize()
    # the simulation begins on a Monday at least a week before, its calls before --from unused
    monday = (begin - pd.Timedelta(days=7 + begin.day_of_week)).normalize()
    days = (end - monday).total_seconds() / 86400
    middle = begin + (end - begin) / 2
    run = replaced(
        s,
        {"run.horizon_days": round(days, 6), "run.warmup_days": 0.0,
         "run.replications": replications, "demand.year": middle.year},
    )  # fmt: skip
    results = common.simulate_with_progress(run, None, None, f"simulating {days:.0f} days")
    facts = ScenarioFacts.of(s)
    sims = [
        calls_of(part.reset_index(drop=True), facts, monday.tz_localize(None))
        for _, part in results.log.groupby("replication", sort=True)
    ]
    unread = checked.rejected_for_data
    share = checked.accepted / (checked.accepted + unread) if checked.accepted else 1.0
    from planner.scenario.loading import scenario_from_dict

    # the calls before --from fitted again, in the region's defaults: the rate's error (which
    # the volume's range carries) and the report's calibration
    defaults = scenario_from_dict({"region": {"name": s.region.name}})
    try:
        training: Calibration | None = _calibration(defaults, checked, begin)
    except ValueError:  # no call before --from
        training = None
    error = training.rate_error() if training is not None else 0.0
    result = backtest(held, sims, begin, end, list(index.zone_codes), share, error)
    verdicts = result.verdicts
    table = Table(title=f"{log.name} from {start} to {end - pd.Timedelta(days=1):%Y-%m-%d}")
    table.add_column("figure", overflow="fold")
    for column in ("the log", "simulated", "test", "p", "verdict"):
        table.add_column(column)
    for v in verdicts:
        p = "" if v.p_value is None else f"{v.p_value:.3f}"
        table.add_row(v.figure, v.observed, v.simulated, v.statistic, p, v.word)
    common.out.print(table)
    differ = sum(not v.agrees for v in verdicts)
    common.out.print(
        f"{len(verdicts) - differ} of {len(verdicts)} figures agree with the simulation "
        f"(a test's p at least {ALPHA:g}, or inside the range)"
    )
    if report is not None:
        from planner.report.calibration import BacktestRun, compose

        if training is None:
            fail([f"--report: no accepted call of {log} is before {start}, so none to fit"])
            return
        run_of = BacktestRun(result, begin, end, replications)
        _write_report(report, compose(calls, checked, training, log.name, lang, begin, run_of))
