"""Worker processes on this machine, for replications (``simulate(workers=...)``, ``planner run
--workers``), sweeps and the dashboard: one definition of how they start and end."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import threading
import time

PARENT_CHECK_SECONDS = 1.0
"""How often a worker checks that the process that started it is still alive."""


def default_workers() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def process_pool(workers: int) -> cf.ProcessPoolExecutor:
    """Worker processes on this machine, started by 'spawn': a fresh interpreter each, so no
    open store connection or lock is inherited from the parent (as fork would); each ends when
    the process that started it does."""
    return cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )


def exit_with_parent(parent: int) -> None:
    """Run in each worker: end it when its parent dies (SIGKILL, out of memory), which would
    otherwise leave it orphaned, holding memory and a core, until the machine restarts."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
