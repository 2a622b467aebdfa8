"""Economics against hand-computed cases; the report's PDF against the run's own figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner import load_scenario
from planner.economics.appraisal import (
    Range,
    annual_hours_per_fte,
    annuity_factor,
    effects,
    evaluate,
    fte_per_seat,
    monte_carlo,
    probability_positive,
    service,
    tornado,
    unit_hour_cost,
)

ROOT = Path(__file__).resolve().parent.parent


def _toy(**over: float) -> dict[str, float]:
    """One unit 24/7 with a crew of 3, round numbers, so every figure can be done by hand."""
    x = {
        "costs.nurse_monthly_wage": 50_000.0,
        "costs.paramedic_monthly_wage": 50_000.0,
        "costs.crew_paramedics": 1.0,
        "costs.shift_supplement": 0.0,
        "costs.social_cost_rate": 0.0,
        "costs.weekly_hours": 40.0,
        "costs.leave_weeks": 0.0,
        "costs.public_holidays": 0.0,
        "costs.absence_rate": 0.0,
        "costs.vehicle_per_year": 100_000.0,
        "costs.base_per_year": 0.0,
        "costs.overhead_rate": 0.0,
        "costs.overtime_supplement": 0.5,
        "costs.police_officer_hour": 800.0,
        "costs.police_fte_hours": 1_600.0,
        "appraisal.discount_rate": 0.04,
        "appraisal.tax_financing_cost": 0.20,
        "appraisal.horizon_years": 10.0,
        "appraisal.benefit_growth_per_year": 0.0,
        "service.unit_hours": 8_760.0,
        "service.crew": 3.0,
        "service.vehicles": 1.0,
        "service.bases": 1.0,
        "sim.police_hours_factor": 1.0,
        "sim.officer_hours_freed": 5_000.0,
        "sim.health_first_responses": 2_000.0,
    }
    return x | over


def test_overtime_is_paid_at_the_hourly_wage_with_its_supplement() -> None:
    # 100 unit-hours past the shift, crew of 3 at NOK 50,000 a month on a 40 h week:
    # 600,000 / (40 x 365/7) = 287.67 NOK/h each, x 1.5 supplement x 3 persons = 1,294.52 NOK/h;
    # with 30 % social costs x 1.3
    hourly = 600_000 / (40 * 365 / 7)
    no_overtime = evaluate(_toy())
    out = evaluate(_toy(**{"sim.overtime_unit_hours": 100.0}))
    assert out["overtime_cost"] == pytest.approx(100 * 3 * hourly * 1.5)
    assert out["cost_per_year"] - no_overtime["cost_per_year"] == pytest.approx(
        100 * 3 * hourly * 1.5
    )
    social = evaluate(_toy(**{"sim.overtime_unit_hours": 100.0, "costs.social_cost_rate": 0.3}))
    assert social["overtime_cost"] == pytest.approx(100 * 3 * hourly * 1.5 * 1.3)


def test_a_police_car_share_not_simulated_scales_the_police_car_hours_freed() -> None:
    # 5,000 officer-hours freed, 1,200 of them on police-car transports simulated at a share of
    # 0.8: at 1.0 those are 1,500 (x 1.25), so 5,300 are freed; at 0.4, 600, so 4,400
    x = _toy(**{"sim.police_car_officer_hours_freed": 1_200.0})
    x |= {"sim.police_car_share_simulated": 0.8, "dispatch.police_car_share_today": 0.8}
    assert evaluate(x)["police_hours_freed"] == pytest.approx(5_000.0)
    high = evaluate(x | {"dispatch.police_car_share_today": 1.0})
    assert high["police_hours_freed"] == pytest.approx(5_300.0)
    assert high["police_value_per_year"] == pytest.approx(5_300.0 * 800)
    low = evaluate(x | {"dispatch.police_car_share_today": 0.4})
    assert low["police_hours_freed"] == pytest.approx(4_400.0)


def test_annuity_factor_at_r109_rate() -> None:
    # (1 - 1.04^-10) / 0.04 = 8.110896
    assert annuity_factor(0.04, 10) == pytest.approx(8.110896, abs=1e-6)
    assert annuity_factor(0.0, 7) == pytest.approx(7.0)
    # one year: a single flow discounted once
    assert annuity_factor(0.04, 1) == pytest.approx(1 / 1.04)


def test_benefits_growing_at_the_discount_rate_are_worth_n_over_one_plus_r() -> None:
    x = _toy(**{"appraisal.benefit_growth_per_year": 0.04})
    out = evaluate(x)
    # each year's benefit 4 M x 1.04^(t-1) / 1.04^t = 4 M / 1.04
    assert out["pv_benefit"] == pytest.approx(10 * 4_000_000 / 1.04)


def test_fte_arithmetic_by_hand() -> None:
    costs = load_scenario(ROOT / "simulations" / "oslo_akershus.toml").costs
    # 35.5 h x (365/7 - 5 weeks leave - 10/5 weeks of public holidays) = 1,602.57 h
    assert annual_hours_per_fte(costs) == pytest.approx(35.5 * (365 / 7 - 5 - 2))
    # a 24/7 seat: 8,760 h / (1,602.57 h x 0.93) = 5.878 FTE
    assert fte_per_seat(costs) == pytest.approx(8760 / (35.5 * (365 / 7 - 7) * 0.93))
    assert 5.0 < fte_per_seat(costs) < 6.5  # MODEL.md: about 5-6 FTE per crew seat


def test_toy_appraisal_by_hand() -> None:
    out = evaluate(_toy())
    hours = 40 * 365 / 7  # 2,085.7 h a year, no leave, no absence
    assert out["fte"] == pytest.approx(8760 * 3 / hours)  # 12.6
    assert out["staff_cost"] == pytest.approx(12.6 * 600_000)  # 7,560,000
    assert out["cost_per_year"] == pytest.approx(7_660_000)
    assert out["police_value_per_year"] == pytest.approx(4_000_000)
    af = 8.110896
    assert out["pv_cost"] == pytest.approx(7_660_000 * af, rel=1e-6)
    assert out["tax_financing_cost"] == pytest.approx(0.2 * 7_660_000 * af, rel=1e-6)
    assert out["npv"] == pytest.approx((4_000_000 - 1.2 * 7_660_000) * af, rel=1e-6)
    # annuity of the net cost: 1.2 x 7.66 M - 4 M
    assert out["annual_net_cost"] == pytest.approx(5_192_000)
    assert out["break_even_police_hour"] == pytest.approx(1.2 * 7_660_000 / 5_000)
    assert out["break_even_police_hours"] == pytest.approx(1.2 * 7_660_000 / 800)
    assert out["cost_per_health_first_response"] == pytest.approx(3_830)
    assert out["police_fte_freed"] == pytest.approx(5_000 / 1_600)


def test_tax_financing_cost_is_charged_on_the_service_only() -> None:
    with_tax, without = evaluate(_toy()), evaluate(_toy(**{"appraisal.tax_financing_cost": 0.0}))
    assert with_tax["npv"] - without["npv"] == pytest.approx(-0.2 * with_tax["pv_cost"])
    assert with_tax["pv_benefit"] == without["pv_benefit"]


def test_unit_hour_cost_matches_the_appraisal_staff_cost() -> None:
    x = _toy(**{"costs.overhead_rate": 0.15, "costs.shift_supplement": 0.1})
    out = evaluate(x)
    per_hour = unit_hour_cost(x, 3.0)
    assert per_hour * 8760 == pytest.approx(out["staff_cost"] + out["overhead_cost"])
    # a crew of 2 is one nurse and one paramedic: two thirds of a crew of 3 at equal pay
    assert unit_hour_cost(x, 2.0) == pytest.approx(per_hour * 2 / 3)


def test_service_quantities_of_the_default_fleet() -> None:
    s = service(load_scenario(ROOT / "simulations" / "oslo_akershus.toml"))
    # 14-02 (12 h), 07-19 (12 h), 14-02 (12 h) and 17-03 (10 h), every day
    assert s.unit_hours == pytest.approx((12 + 12 + 12 + 10) * 365)
    assert (s.vehicles, s.bases, s.crew) == (4, 3, 3.0)


def test_tornado_ranks_by_swing_and_moves_the_right_way() -> None:
    r = (
        Range("costs.police_officer_hour", "price", "pris", 600, 1200, "NOK/h", "t"),
        Range("costs.vehicle_per_year", "vehicle", "bil", 0, 200_000, "NOK", "t"),
    )
    tab = tornado(_toy(), r)
    assert list(tab["input"]) == ["costs.police_officer_hour", "costs.vehicle_per_year"]
    price = tab.iloc[0]
    # 600 NOK/h less on 5,000 h a year for 10 years: 1 M x 8.1109 lower; 1.2 M higher
    assert price["npv_high"] - price["npv_base"] == pytest.approx(400 * 5000 * 8.110896, rel=1e-6)
    assert price["npv_low"] < price["npv_base"] < price["npv_high"]
    vehicle = tab.iloc[1]
    assert vehicle["npv_high"] < vehicle["npv_low"]  # dearer vehicles, lower NPV


def test_monte_carlo_is_seeded_and_keeps_common_draws() -> None:
    price = Range("costs.police_officer_hour", "price", "pris", 600, 3000, "NOK/h", "t")
    wage = Range("costs.nurse_monthly_wage", "wage", "lønn", 40_000, 60_000, "NOK", "t")
    a = monte_carlo(_toy(), draws=2_000, seed=7, over=(price,))
    b = monte_carlo(_toy(), draws=2_000, seed=7, over=(price,))
    pd.testing.assert_frame_equal(a, b)
    c = monte_carlo(_toy(), draws=2_000, seed=8, over=(price,))
    assert not a["npv"].equals(c["npv"])
    # adding an input leaves the draws of the others unchanged: benefits are identical
    d = monte_carlo(_toy(), draws=2_000, seed=7, over=(price, wage))
    np.testing.assert_array_equal(a["benefit_per_year"], d["benefit_per_year"])
    assert not a["cost_per_year"].equals(d["cost_per_year"])
    # break-even price is 1,838.4 NOK/h: P(NPV > 0) = P(price > 1,838.4) under the triangle
    p = probability_positive(a)
    lo, mode, hi, x = 600.0, 800.0, 3000.0, 1.2 * 7_660_000 / 5_000
    exact = (hi - x) ** 2 / ((hi - lo) * (hi - mode))
    assert p == pytest.approx(exact, abs=0.03)


def test_effects_need_paired_replications() -> None:
    a = pd.DataFrame({"replication": [0, 1], "police_officer_hours": [1.0, 2.0]})
    b = pd.DataFrame({"replication": [0, 2], "police_officer_hours": [1.0, 2.0]})
    with pytest.raises(ValueError, match="paired"):
        effects(a, b)


# -- the command line: run, report, and the PDF's headline against the run's figures ------------


def _planner(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from planner.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


@pytest.fixture(scope="module")
def default_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results") / "default"
    done = _planner(
        "run",
        str(ROOT / "simulations" / "oslo_akershus.toml"),
        "--replications",
        "3",
        "--out",
        str(out),
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return out


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_run_writes_paired_baseline_and_economics(default_results: Path) -> None:
    summary = json.loads((default_results / "summary.json").read_text())
    econ = json.loads((default_results / "economics.json").read_text())
    base = pd.DataFrame(summary["baseline"]["per_replication"])
    scen = pd.DataFrame(summary["per_replication"])
    freed = (base["police_officer_hours"] - scen["police_officer_hours"]).mean()
    assert econ["police_hours_freed"][0] == pytest.approx(freed)
    assert econ["police_hours_freed"][1] < freed < econ["police_hours_freed"][2]
    assert econ["share_health_first"][0] == pytest.approx(scen["share_health_first"].mean())
    assert freed > 0 and econ["police_car_transports_avoided"][0] > 0
    assert 0.0 <= econ["probability_npv_positive"] <= 1.0


def test_pdf_headline_equals_the_results(default_results: Path, tmp_path: Path) -> None:
    econ = json.loads((default_results / "economics.json").read_text())
    pdf = tmp_path / "report.pdf"
    done = _planner(
        "report",
        str(default_results),
        "--format",
        "pdf",
        "--lang",
        "en",
        "--out",
        str(pdf),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    body = " ".join(_pdf_text(pdf).split())
    expected = {
        "cost": f"{econ['cost_per_year'] / 1e6:,.1f} NOK million",
        "hours": f"{round(econ['police_hours_freed'][0]):,}",
        "hours low": f"{round(econ['police_hours_freed'][1]):,}",
        "fte": f"{econ['police_fte_freed'][0]:.1f}",
        "health-first": f"{econ['share_health_first'][0] * 100:.1f} %",
        "police car": f"{round(econ['police_car_transports_avoided'][0]):,}",
        "units": f"{econ['vehicles']} vehicles at {econ['bases']} bases",
        "npv": f"{econ['npv'][0] / 1e6:,.1f} NOK million".replace("-", "\N{MINUS SIGN}"),
    }
    missing = {k: v for k, v in expected.items() if v not in body}
    assert not missing, missing
    assert "Assumptions and sources" in body and "R-109" in body


def test_norwegian_report_is_the_default(default_results: Path, tmp_path: Path) -> None:
    econ = json.loads((default_results / "economics.json").read_text())
    done = _planner("report", str(default_results), "--format", "pdf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    body = " ".join(_pdf_text(default_results / "report-nb.pdf").split())
    hours = f"{round(econ['police_hours_freed'][0]):,}".replace(",", " ")
    assert "Frigjorte polititimer" in body and hours in body
    assert body.index("Beslutningen") < body.index("Frigjorte polititimer")
    assert f"{hours} polititimer frigjort" in body and "Ordforklaring" in body
    html_done = _planner("report", str(default_results), "--format", "html", cwd=tmp_path)
    assert html_done.returncode == 0, html_done.stderr
    page = (default_results / "report-nb.html").read_text("utf-8")
    assert '<html lang="nb">' in page and hours in page and "data:image/png;base64," in page
    # the first page opens with the decision: the default fleet (simulations/oslo_akershus.toml)
    # at named bases, the cost, the hours freed and the response time against today's police
    decision = page[page.index('<div class="decision">') : page.index("</div>")]
    assert page.index('<div class="decision">') < page.index("<table>")
    assert "4 psykiatriske ambulanser, stasjonert ved Oslo legevakt, Aker (2)" in decision
    assert "Vakter: kveld (2), dag (1) og sen (1)." in decision
    cost = f"{econ['cost_per_year'] / 1e6:,.1f}".replace(",", " ").replace(".", ",")
    assert f"Kostnad: {cost} mill. kr i året." in decision
    assert f"{hours} polititimer frigjort" in decision
    median = f"{econ['response_median'][0]:.1f}".replace(".", ",")
    assert f"median {median} min til første hjelp på stedet" in decision
    assert "Netto nåverdi (NNV)" in decision and "Nullpunktspris" in decision
    # each uncertainty chart with a reading guide under it
    assert page.index("Slik leses figuren: hver stolpe") > page.index("Følsomhet: netto")
    assert "Slik leses figuren: søylene" in page


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["nowhere"], "nowhere"),
        (["{results}", "--format", "docx"], "--format"),
        (["{results}", "--lang", "de"], "--lang"),
    ],
)
def test_report_bad_input_is_one_line_exit_2(
    args: list[str], field: str, default_results: Path, tmp_path: Path
) -> None:
    before = sorted(p.name for p in default_results.iterdir())
    done = _planner("report", *[a.format(results=default_results) for a in args], cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0] and "Traceback" not in done.stderr
    assert sorted(p.name for p in default_results.iterdir()) == before


def test_units_sharing_a_vehicle_are_costed_once() -> None:
    from planner import scenario_from_dict

    shifts = {
        "early": {"start_hour": 7, "hours": 12, "days": ["mon", "tue"]},
        "late": {"start_hour": 19, "hours": 12, "days": ["mon", "tue"]},
    }
    units = [
        {"name": "A day", "base": "oslo_legevakt", "shift": "early", "vehicle": "a"},
        {"name": "A night", "base": "oslo_legevakt", "shift": "late", "vehicle": "a"},
        {"name": "B", "base": "ahus", "shift": "early"},
    ]
    s = service(
        scenario_from_dict(
            {"dispatch": {"policy": "health-first"}, "fleet": {"shifts": shifts, "units": units}}
        )
    )
    assert (s.vehicles, s.bases) == (2, 2)
    assert s.unit_hours == pytest.approx(3 * 12 * 2 * 365 / 7)


def test_report_shows_the_frontier_when_the_results_have_one(
    default_results: Path, tmp_path: Path
) -> None:
    import shutil

    folder = tmp_path / "with-frontier"
    shutil.copytree(default_results, folder)
    page = lambda: (folder / "report-en.html").read_text("utf-8")  # noqa: E731
    assert _planner("report", str(folder), "--lang", "en", cwd=tmp_path).returncode == 0
    without = page().count("data:image/png;base64,")
    assert "What each extra unit buys" not in page()  # no frontier, no section
    assert "planner optimize" not in page()  # no instructions in a decision document
    # the reproduction line gives what reproduces the figures: file, replications and seed
    summary = json.loads((folder / "summary.json").read_text())
    line = f"planner run scenario.toml --replications {summary['replications']} --seed {summary['seed']}"
    assert line in page() and str(Path.cwd()) not in page()  # no path of this machine
    table = pd.DataFrame(
        {
            "units": [1, 2],
            "cost_per_year": [20e6, 40e6],
            "share_health_first": [0.25, 0.46],
            "share_health_first_low": [0.24, 0.45],
            "share_health_first_high": [0.26, 0.47],
            "police_hours_freed": [13e3, 24e3],
            "police_hours_freed_low": [12.9e3, 23.8e3],
            "police_hours_freed_high": [13.1e3, 24.2e3],
        }
    )
    from planner.store.files import results_folder

    s = load_scenario(folder / "scenario.toml")  # as `planner optimize --out FOLDER` adds it
    with results_folder(folder, "optimise", s.scenario.name, s.region.name).staged() as stage:
        stage.write("frontier.csv", lambda p: table.to_csv(p, index=False))
    assert _planner("report", str(folder), "--lang", "en", cwd=tmp_path).returncode == 0
    assert page().count("data:image/png;base64,") == without + 1
    assert "What each extra unit buys" in page()
