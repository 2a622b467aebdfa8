"""Progress of long work on stderr: a rich bar with ETA on a terminal, plain lines in a log.

On a terminal the bar redraws in place; redirected to a file or CI log it would print nothing
until the end, so there a line is printed each time another ``LINE_STEP`` of the work is done
(and at the end) — enough to follow a sweep in a log, or for a script to watch it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

LINE_STEP = 0.05
"""Share of the work between two plain progress lines (when stderr is not a terminal)."""


class Tick(Protocol):
    def __call__(self) -> None: ...


def _duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


@contextmanager
def progress(
    console: Console,
    label: str,
    total: int,
    noun: str = "done",
    lines: bool = True,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[Tick]:
    """Yield a function to call once per finished item; ``lines=False``: silent off a terminal.

    A plain line reads ``{label}: {noun} {done}/{total} ({share}), {rate}/s, ETA h:mm:ss``, one
    for the first item, then every ``LINE_STEP`` of the total and at the end; it is printed as
    it is (no markup, no wrapping), so a log holds one line per report.
    """
    if console.is_terminal:
        with Progress(
            TextColumn("{task.description}", markup=False),  # a label may hold brackets
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(label, total=total)
            yield lambda: bar.advance(task)
        return
    if not lines:
        yield lambda: None
        return
    started = clock()
    state = {"done": 0, "shown": -1}
    step = max(1, round(total * LINE_STEP))

    def tick() -> None:
        state["done"] += 1
        done = state["done"]
        if done // step == state["shown"] // step and done != total:
            return
        state["shown"] = done
        elapsed = clock() - started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else 0.0
        console.print(
            f"{label}: {noun} {done}/{total} ({done / total:.0%}), {rate:.1f}/s, "
            f"ETA {_duration(left)}",
            markup=False,
            highlight=False,
            emoji=False,
            soft_wrap=True,
        )

    yield tick
