"""The ``planner`` command line: a thin shell over the core, one module per group of commands
(``scenario``, ``run``, ``sweep``, ``optimise``, ``calls``, ``dashboard``, ``geodata``); what
they share is in ``common``.

Every user error ends the same way: one line per problem on stderr, naming the field or file,
exit code 2, no traceback, nothing half-written.
"""

from __future__ import annotations

import sys

import typer

from planner.cli import common
from planner.cli.common import UserError, app, printable

# importing a group registers its commands on the app, in the order `planner --help` lists them
# isort: off
from planner.cli import scenario, run, sweep, optimise, calls, dashboard, geodata  # noqa: F401
# isort: on


def main() -> None:
    """Entry point: run the app, turning user errors into lines on stderr and exit code 2.

    Click's own errors (a value out of range, a missing argument, an unknown option) are one
    line too, ``planner <command>: <problem>``, rather than Typer's boxed usage message."""
    usage_error, click_error, no_args = _click_errors()
    try:
        code = app(prog_name="planner", standalone_mode=False)
    except UserError as exc:
        for line in exc.lines:
            common.err.print(printable(line), markup=False, emoji=False)
        sys.exit(2)
    except no_args:
        sys.exit(2)  # a command group given no command: its help is printed already
    except usage_error as exc:
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "planner"
        common.err.print(f"{where}: {' '.join(exc.format_message().split())}")  # type: ignore[attr-defined]
        sys.exit(2)
    except click_error as exc:
        common.err.print(f"planner: {' '.join(exc.format_message().split())}")  # type: ignore[attr-defined]
        sys.exit(getattr(exc, "exit_code", 1))
    except typer.Abort:
        common.err.print("planner: aborted")
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
