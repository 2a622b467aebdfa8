"""``planner geodata``: build the region's geodata from the open sources, import roads from
OpenStreetMap, list and draw what was built, and check drive times against published ones."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from planner.geo.region import Region

from planner.cli import common
from planner.cli.common import fail, geodata_app, plain


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
    from planner.geo.geodata import geodata_dir

    root = geodata_dir()
    started = time.perf_counter()
    try:
        with common.out.status("building geodata") as status:
            reports = build_all(
                sources,
                root / "curated",
                out_dir or root,
                region,
                progress=lambda m: status.update(plain(m)),
            )
    except BuildError as exc:
        fail([f"geodata build: {exc}"])
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
    common.out.print(table)
    common.out.print(f"built in {time.perf_counter() - started:.1f} s")


def _region(name: str) -> Region:
    from planner.geo.geodata import available_regions, load_region

    if name not in available_regions():
        fail([f"--region: {name!r} is not built; choose one of {', '.join(available_regions())}"])
    return load_region(name)


@geodata_app.command("map")
def geodata_map(
    out_file: Annotated[Path, typer.Option("--out", help="PNG (or SVG/PDF) file to write.")],
    region: Annotated[str, typer.Option(help="Region to draw.")] = "oslo_akershus",
) -> None:
    """Draw zones shaded by population, receiving facilities, candidate bases and police."""
    from planner.report.maps import draw_region

    if out_file.suffix.lower() not in {".png", ".svg", ".pdf"}:
        fail([f"--out: {out_file.name!r} must end in .png, .svg or .pdf"])
    draw_region(_region(region), out_file)
    common.out.print(f"wrote {out_file}")


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
        fail([f"what: {what!r} is not one of zones, bases, receiving, police, districts"])
    table = Table(*[str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        table.add_row(*[str(v) for v in row])
    common.out.print(table)


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
    common.out.print(table)
    common.out.print(f"{int(cmp['within'].sum())} of {len(cmp)} within ±{TOLERANCE:.0%}")


@geodata_app.command("import-osm")
def geodata_import_osm(
    pbf: Annotated[Path, typer.Argument(help="OpenStreetMap extract (.osm.pbf).")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for road_nodes.csv and road_edges.csv.")
    ],
) -> None:
    """Build a drivable road network from an OpenStreetMap extract."""
    from planner.geo.osm import OsmError, import_osm
    from planner.store.files import write_atomically

    if not pbf.is_file():
        fail([f"{pbf}: no such file"])
    try:
        with common.out.status(plain(f"reading {pbf.name}")):
            net = import_osm(pbf)
    except OsmError as exc:
        fail([f"{pbf}: {exc}"])
    write_atomically(out_dir / "osm_nodes.csv", lambda p: net.nodes.to_csv(p, index=False))
    write_atomically(out_dir / "osm_edges.csv", lambda p: net.edges.to_csv(p, index=False))
    common.out.print(f"wrote {len(net.nodes):,} nodes and {len(net.edges):,} edges to {out_dir}")
