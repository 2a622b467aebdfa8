"""One name for each figure across the dashboard, the report and the command line, in each
language; no two KPIs under one name; and the report's assumptions table in bokmål."""

from __future__ import annotations

import re

import pytest
from test_dashboard import ROOT

from planner.dashboard.text import _raw, words
from planner.report.document import assumption_rows
from planner.report.document import text as report_text
from planner.scenario.loading import load_scenario
from planner.sim.kpis import KPIS

# (dashboard words, report words) that name the same figure
SAME_FIGURE = {
    "police hours freed": (
        ["police_freed", "metric_police_hours_freed", "map_scale_police_hours_freed"],
        ["police_hours", "frontier_hours_title"],
    ),
    "patients not driven in a police car": (["car_avoided"], ["police_car"]),
    "uniformed encounters avoided": (["encounters_avoided"], ["encounters"]),
    "health-first share": (["health_first", "metric_share_health_first"], ["health_first"]),
}


def _name(label: str) -> str:
    """A figure's name without its unit: "(…)" and a trailing "per år", "a year"."""
    name = re.sub(r"\s*\(.*?\)", "", label).strip()
    name = re.sub(r"\s+(per år|a year|per year|mot i dag|against today)$", "", name)
    return name.lower()


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize("figure", sorted(SAME_FIGURE))
def test_a_figure_has_one_name_in_dashboard_and_report(lang: str, figure: str) -> None:
    ui, report = SAME_FIGURE[figure]
    w, t = words(lang), report_text(lang)
    names = {_name(w(k)) for k in ui} | {_name(t[k]) for k in report}
    assert len(names) == 1, names


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_no_two_kpis_share_a_name(lang: str) -> None:
    w = words(lang)
    names = [w.kpi(k.key) for k in KPIS]
    assert len(set(names)) == len(names), sorted(n for n in names if names.count(n) > 1)


def test_the_kpi_names_by_hand() -> None:
    nb = words("nb")
    assert nb.kpi("share_police_involved") == "Andel henvendelser møtt av uniformert politi"
    assert nb.kpi("police_encounters_per_year") == "Møter med uniformert politi"
    assert nb.kpi("share_police_car") == "Andel transporterte pasienter kjørt i politibil"
    en = {k.key: k.label for k in KPIS}
    assert en["share_police_involved"] == "Share of calls met by uniformed police"
    assert en["police_encounters_per_year"] == "Encounters with uniformed police"
    assert {k.key for k in KPIS} <= set(_raw()["kpis"])  # every KPI has its bokmål name


def test_the_assumptions_table_reads_in_bokmaal() -> None:
    s = load_scenario(ROOT / "simulations" / "oslo_akershus.toml")
    rows = {row[0]: row for row in assumption_rows(s, "nb")}
    price = rows["Verdi av en polititime (costs.police_officer_hour)"]
    assert price[1] == "790 kr per tjenestepersontime"
    mobilisation = rows["Politiets tid fra alarm til avreise (police.mobilisation)"]
    assert mobilisation[1] == "lognormal (gjennomsnitt 5, standardavvik 3) min"
    assert mobilisation[2] == "anslag"
    assert rows["Prisår (costs.price_year)"][2] == "brukervalg"
    for name, _value, source in rows.values():
        assert not source.startswith(("estimate", "user", "modelling choice")), name
    english = {row[1] for row in assumption_rows(s, "en")}
    assert "790 NOK / officer-hour" in english
