"""Figures that mean what they say: the M/M/c check scenario against Erlang C, utilisation that
cannot pass 100 %, the baseline against its sources, and results that are never stale.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from planner import load_scenario
from planner.sim.kpis import interval
from planner.sim.run import simulate
from planner.version import digest_of

ROOT = Path(__file__).resolve().parent.parent
SIMS = ROOT / "simulations"


@pytest.mark.slow
def test_the_mmc_check_scenario_is_the_mm3_queue_of_erlang_c() -> None:
    """lambda = 2 / h, 1 / mu = 60 min, c = 3: offered 2 Erlang. Erlang C by hand:
    sum_{k<3} 2^k / k! = 5, 2^3 / 3! x 3 / (3 - 2) = 4, so P(wait) = 4 / 9 and
    Wq = P(wait) / (c mu - lambda) = (4 / 9) / (1 / 60) = 26.67 min; utilisation 2 / 3."""
    r = simulate(load_scenario(SIMS / "mmc_check.toml"))
    warm = r.scenario.run.warmup_days * 1440.0
    log = r.log[r.log["t_arrival"] >= warm]
    assert log["health_first"].all()
    assert (log["transport_mode"] == "none").all() and not log["police_involved"].any()
    # no delay but the queue: response = wait, on scene for the exponential time
    assert np.allclose(log["response_minutes"], log["queue_minutes"])
    per = log.groupby("replication")
    p_wait = per["queue_minutes"].apply(lambda q: float((q > 0).mean())).to_numpy()
    _, lo, hi = interval(p_wait)
    assert lo <= 4 / 9 <= hi
    _, lo, hi = interval(per["queue_minutes"].mean().to_numpy())
    assert lo <= 4 / 9 * 60 <= hi
    _, lo, hi = interval(r.per_replication["unit_utilisation"].to_numpy())
    assert lo <= 2 / 3 <= hi
    assert r.kpi("calls_per_year") == pytest.approx(2 * 8760, rel=0.01)
    assert r.kpi("overtime_unit_hours") == 0.0


SCENARIOS = sorted(
    p.stem for p in SIMS.glob("*.toml") if "sweep" not in tomllib.loads(p.read_text())
)


@pytest.mark.parametrize("name", SCENARIOS)
def test_hourly_utilisation_never_exceeds_one_on_a_shipped_scenario(name: str) -> None:
    r = simulate(load_scenario(SIMS / f"{name}.toml"), replications=2)
    util = r.utilisation[~np.isnan(r.utilisation)]
    assert (util <= 1.0 + 1e-12).all(), util.max()
    if r.scenario.fleet.units:
        assert len(util) > 0
        assert r.kpi("unit_utilisation") <= 1.0


def test_the_baseline_reproduces_its_sources() -> None:
    """Police spend about 1.5 patrol-hours per psychiatric mission (Stavanger 2017) and drive
    about 80 % of transported patients (Amsterdam before its psychiatric ambulance)."""
    r = simulate(load_scenario(SIMS / "baseline.toml"), replications=4)
    assert r.kpi("patrol_hours_per_police_mission") == pytest.approx(1.5, abs=0.05)
    assert r.kpi("share_police_car") == pytest.approx(0.80, abs=0.01)
    # officer-hours are two officers' patrol-hours
    assert r.kpi("police_officer_hours") == pytest.approx(2 * r.kpi("police_patrol_hours"))


def test_more_police_car_transports_today_means_more_police_hours_in_the_baseline() -> None:
    base = load_scenario(SIMS / "baseline.toml")
    runs = {}
    for share in (0.5, 1.0):
        s = base.model_copy(
            update={"dispatch": base.dispatch.model_copy(update={"police_car_share_today": share})}
        )
        runs[share] = simulate(s, replications=2)
    # the other calls are identical (common random numbers): only police-car time differs, and
    # the drive back to the station, from the facility rather than from the scene (the 3 %)
    a, b = runs[0.5], runs[1.0]
    assert (a.log["t_arrival"] == b.log["t_arrival"]).all()
    assert a.kpi("share_police_car") < b.kpi("share_police_car")
    extra = b.kpi("police_car_officer_hours") - a.kpi("police_car_officer_hours")
    more = b.kpi("police_officer_hours") - a.kpi("police_officer_hours")
    assert extra > 0
    assert more == pytest.approx(1.034 * extra, rel=0.002)


def _package_copy(tmp_path: Path) -> Path:
    import planner

    src = Path(planner.__file__).parent
    dst = tmp_path / "planner"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def test_the_model_digest_follows_the_model_code_and_data_only(tmp_path: Path) -> None:
    pkg = _package_copy(tmp_path)
    before = digest_of(pkg)
    assert digest_of(pkg) == before
    for shell in ("cli/__init__.py", "report/document.py", "store/files.py", "dashboard/app.py"):
        (pkg / shell).write_text((pkg / shell).read_text("utf-8") + "\n# a shell\n", "utf-8")
    (pkg / "data" / "report_text.toml").write_text("# words\n", "utf-8")
    assert digest_of(pkg) == before, "a shell or its words are not the model"
    engine = pkg / "sim" / "engine.py"
    engine.write_text(engine.read_text("utf-8").replace("max(end,", "min(end,"), "utf-8")
    after_engine = digest_of(pkg)
    assert after_engine != before
    (pkg / "data" / "defaults.toml").write_text("# changed\n", "utf-8")
    assert digest_of(pkg) not in (before, after_engine)


def test_the_scenario_hash_covers_the_model_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    from planner.sweep import grid as sweep

    s = load_scenario(SIMS / "mmc_check.toml")
    before = sweep.scenario_hash(s)
    monkeypatch.setattr(sweep, "model_digest", lambda: "another model")
    assert sweep.scenario_hash(s) != before


@pytest.mark.shell
@pytest.mark.parametrize("columns", ["20", "80", "200"])
def test_a_message_is_one_line_at_any_width(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    from rich.console import Console

    import planner.cli.common as cli_module

    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr(cli_module, "out", Console(soft_wrap=True))
    folder = tmp_path / ("a-long-folder-name-" * 4)
    res = cli("run", SIMS / "mmc_check.toml", "--replications", "2", "--out", folder)
    assert res.code == 0, res.err
    wrote = [line for line in res.out.splitlines() if line.startswith("wrote ")]
    assert len(wrote) == 1 and wrote[0].endswith("economics.json")
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\nreplications = -1\n", "utf-8")
    res = cli("run", bad, "--out", folder / "x")
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1


@pytest.mark.slow
def test_littles_law_against_the_rate_and_the_time_in_system_of_theory() -> None:
    """L = lambda W with lambda = 2 / h from the scenario and W = Wq + 1 / mu = 26.67 + 60 min
    from Erlang C (not from the log): 2 / 60 x 86.67 = 2.889 calls in the system on average."""
    r = simulate(load_scenario(SIMS / "mmc_check.toml"))
    warm, end = r.scenario.run.warmup_days * 1440.0, r.scenario.run.horizon_days * 1440.0
    per_rep = []
    for _, log in r.log.groupby("replication"):
        a = np.clip(log["t_arrival"].to_numpy(), warm, end)
        b = np.clip(log["t_scene_end"].to_numpy(), warm, end)
        per_rep.append(float((b - a).sum()) / (end - warm))  # time-average number in system
    _, lo, hi = interval(np.array(per_rep))
    assert lo <= 2 / 60 * (4 / 9 * 60 + 60) <= hi


# -- survivors of the mutation run, killed ------------------------------------------------------


def test_interval_of_one_and_of_no_replication() -> None:
    mean, lo, hi = interval(np.array([7.0]))
    assert mean == 7.0 and np.isnan(lo) and np.isnan(hi)
    assert all(np.isnan(v) for v in interval(np.array([np.nan, np.nan])))
    # two values 1 and 3: mean 2, sd sqrt(2), half-width t(0.975, 1) x sqrt(2) / sqrt(2) = 12.706
    mean, lo, hi = interval(np.array([1, 3]))
    assert (mean, lo, hi) == pytest.approx((2.0, 2.0 - 12.7062047, 2.0 + 12.7062047))


def test_busy_time_before_a_units_first_mission_is_not_counted() -> None:
    """One unit on duty all week; one mission 90-150 min after a warm-up of 60 min: 60 busy
    minutes, 30 in hour 1 and 30 in hour 2, none in the hour before."""
    import pandas as pd

    from planner.sim.kpis import Period, busy_by_hour

    log = pd.DataFrame({"unit": [0], "t_dispatch": [90.0], "t_unit_free": [150.0]})
    busy, duty = busy_by_hour(log, Period(60.0, 240.0, np.ones((1, 168), bool), 1650.0, 2))
    assert busy[:4].tolist() == [0.0, 30.0, 30.0, 0.0]
    assert duty[:4].tolist() == [0.0, 60.0, 60.0, 60.0]


def test_a_call_arriving_at_the_end_of_the_warm_up_is_counted_by_zone() -> None:
    import pandas as pd

    from planner.sim.kpis import by_group

    log = pd.DataFrame(
        {
            "replication": [0, 0, 0],
            "t_arrival": [59.0, 60.0, 61.0],
            "zone": ["A", "A", "A"],
            "response_minutes": [100.0, 10.0, 20.0],
        }
    )
    row = by_group(log, 60.0, "zone").iloc[0]
    assert row["calls"] == 2 and row["median"] == 15.0 and row["p90"] == pytest.approx(19.0)
