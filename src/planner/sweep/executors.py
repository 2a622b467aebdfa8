"""Where a sweep's work items run: local processes, or a Dask cluster.

Both are ``concurrent.futures`` executors (Dask's through ``Client.get_executor``), so the
sweep drives them the same way and gets each result as soon as it is finished. A work item
carries everything it needs (scenario text, seed, replication), so the executor changes only
the speed, never a result.
"""

from __future__ import annotations

import concurrent.futures as cf
import re
import signal
import time
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from planner.processes import default_workers, process_pool
from planner.sweep.grid import ItemResult, Sweep, run_item

IN_FLIGHT_PER_WORKER = 4
"""Work items submitted ahead per worker: keeps workers busy without queueing a whole sweep
(memory, and a Ctrl-C that must cancel thousands of futures)."""
DASK_CONNECT_SECONDS = 10
"""How long to wait for a Dask scheduler before giving up with a one-line error."""


class ExecutorError(Exception):
    """An executor that cannot be started or reached; one line for the user."""


EXIT_CODE_SECONDS = 2.0
"""How long to wait for a dead worker's exit code, to say how it died."""


class WorkerDied(Exception):
    """A local worker process ended abruptly (killed, out of memory) and took the pool with it;
    the message says how, in a few words. What was stored before stays."""


def _how_it_died(processes: Iterable[Any]) -> str:
    """How a broken pool's worker ended, from the exit codes of its processes (the pool
    terminates the others with SIGTERM once one dies, so another cause is preferred)."""
    processes = list(processes)
    deadline = time.monotonic() + EXIT_CODE_SECONDS
    # the pool's own thread may be reaping the dead worker: its exit code shows once it has
    while not (codes := [p.exitcode for p in processes if p.exitcode not in (None, 0)]):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    codes.sort(key=lambda c: c == -signal.SIGTERM)
    if not codes:
        return "it ended abruptly"
    if codes[0] >= 0:
        return f"exit code {codes[0]}"
    try:
        name = signal.Signals(-codes[0]).name
    except ValueError:
        name = f"signal {-codes[0]}"
    return f"killed by {name}" + (", out of memory?" if codes[0] == -signal.SIGKILL else "")


@dataclass(frozen=True)
class Pool:
    executor: cf.Executor
    slots: int  # workers (processes or Dask threads) that run items at the same time
    name: str  # how the store records it: "local:2" or "dask:tcp://host:8786"


@contextmanager
def local_pool(workers: int | None = None) -> Iterator[Pool]:
    """A pool of ``process_pool`` workers (one per core unless told), shut down on leaving."""
    n = workers or default_workers()
    with process_pool(n) as executor:
        try:
            yield Pool(executor, n, f"local:{n}")
        except BaseException:
            executor.shutdown(wait=True, cancel_futures=True)
            raise


_SCHEDULER = re.compile(
    r"(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)"
    r":(?P<port>[0-9]{1,5})"
)
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
"""How a Dask scheduler's address may start (``tcp://`` if it names none)."""


def scheduler_problem(address: str) -> str | None:
    """Why an address cannot be a Dask scheduler's ([scheme://]host:port), or None; checked
    before any work, so a typo is one line at once rather than a wait for a timeout."""
    m = _SCHEDULER.fullmatch(address)
    if m is None:
        shown = address if len(address) <= 60 else address[:57] + "..."
        return f"{shown!r} is not a scheduler address like tcp://HOST:8786"
    if m["scheme"] is not None and m["scheme"] not in SCHEDULER_SCHEMES:
        return f"{m['scheme']}:// is not a Dask protocol ({', '.join(SCHEDULER_SCHEMES)})"
    if not 1 <= int(m["port"]) <= 65535:
        return f"port {m['port']} is not between 1 and 65535"
    return None


@contextmanager
def dask_pool(address: str) -> Iterator[Pool]:
    """A Dask distributed cluster's workers (``dask scheduler`` / ``dask worker``, or a
    LocalCluster); each needs planner installed."""
    from distributed import Client

    try:
        client = Client(address, timeout=DASK_CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExecutorError(
            f"--scheduler: cannot reach a Dask scheduler at {address} ({reason})"
        ) from None
    try:
        slots = max(1, sum(client.nthreads().values()))
        yield Pool(client.get_executor(pure=False), slots, f"dask:{address}")
    finally:
        client.close()


def run_items(
    pool: Pool, sweep: Sweep, items: Iterable[tuple[str, int, int]], keep_logs: bool
) -> Iterator[ItemResult]:
    """Run work items and yield each result as it finishes (in any order).

    Raises WorkerDied when a local worker process dies (the pool cannot go on without it).
    """
    models = {s.hash: s.model for s in sweep.scenarios}
    pending: set[cf.Future[Any]] = set()
    queue = iter(items)
    window = pool.slots * IN_FLIGHT_PER_WORKER
    processes: dict[int, Any] = {}  # a local pool's workers, kept to say how one died

    def top_up() -> None:
        for h, seed, r in queue:
            pending.add(pool.executor.submit(run_item, models[h], h, seed, r, keep_logs))
            if len(pending) >= window:
                break
        # a private attribute (hence the default): the pool forgets its workers once broken
        processes.update(getattr(pool.executor, "_processes", None) or {})

    try:
        top_up()
        while pending:
            finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for f in finished:
                pending.discard(f)
                yield f.result()
            top_up()
    except BrokenProcessPool:  # from a result or a submit, once a worker has died
        raise WorkerDied(_how_it_died(processes.values())) from None
    finally:
        for f in pending:
            f.cancel()
