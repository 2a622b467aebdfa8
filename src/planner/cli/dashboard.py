"""``planner dashboard``: the dashboard served on this machine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    pass

from planner.cli.common import app, fail


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
        fail([str(exc)])
