"""``planner validate``, ``planner schema`` and ``planner params``: a scenario file checked, the
scenario schema, and every parameter with its unit, default and source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    pass

from planner.cli import common
from planner.cli.common import app, fail, ok


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
                common.out.print(
                    ok(
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
        common.out.print(
            ok(
                f"{f}: {s.scenario.name} — region {where}, policy {s.dispatch.policy}, "
                f"{units} unit{'s' if units != 1 else ''}, {s.run.replications} replications"
            )
        )
    if problems:
        fail(problems)


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
    common.out.print(table)
