"""The garbage collector is paused while a replication runs and left as it was found after it:
on, off, after a failure, and when replications in two threads overlap."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from planner.sim.run import collector_paused


@pytest.fixture(autouse=True)
def _collector_on_after() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:  # pragma: no cover - the suite runs with the collector on
        gc.disable()


def test_paused_inside_and_on_again_after() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_on_again_after_a_failure() -> None:
    gc.enable()
    with pytest.raises(RuntimeError, match="boom"), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_two_threads_overlapping_leave_it_on_when_the_last_ends() -> None:
    # A pauses, B pauses (finding it off), A ends: still paused for B; B ends: on again.
    # Without the count, B would put back the "off" it found and leave the collector off.
    gc.enable()
    a_in, b_in, a_out, b_out = (threading.Event() for _ in range(4))
    seen: dict[str, bool] = {}

    def a() -> None:
        with collector_paused():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b() -> None:
        a_in.wait(5)
        with collector_paused():
            b_in.set()
            a_out.wait(5)
            seen["while B runs, after A ended"] = gc.isenabled()
        b_out.set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert b_out.is_set()
    assert seen == {"while B runs, after A ended": False}
    assert gc.isenabled()


def test_a_run_leaves_the_collector_as_it_was() -> None:
    from planner import load_scenario, simulate
    from planner.scenario.loading import replaced

    s = load_scenario(Path(__file__).parents[1] / "simulations" / "mmc_check.toml")
    short = replaced(s, {"run.horizon_days": 14, "run.warmup_days": 0, "run.replications": 2})
    gc.enable()
    simulate(short)
    assert gc.isenabled()
    gc.disable()
    simulate(short)
    assert not gc.isenabled()
