"""Time distributions on the Scenario page: fields (kind, mean, standard deviation) and a preview.

The preview's density is checked against scipy with parameters worked out here from the mean and
standard deviation (not with the module's own), and against draws from ``sample``; the fields
must give the scenario the very value the inline TOML text gave; and on the page, a changed kind
and mean reach the scenario a run uses, while an out-of-limits value is named under its field and
the page does not call the scenario valid.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from typing import Any

import numpy as np
import pytest
from scipy import stats
from test_dashboard import _app, _markdown_texts, _page, _run, shown

from planner.dashboard import distribution_fields as df
from planner.dashboard import model
from planner.dashboard.pages.scenario import parse_inline
from planner.dashboard.text import words
from planner.scenario.distributions import Empirical, Gamma, Lognormal
from planner.scenario.parameters import registry

EN, NB = words("en"), words("nb")


def _independent(kind: str, mean: float, sd: float) -> Any:
    """scipy's distribution for a mean and standard deviation, by the textbook moments."""
    if kind == "lognormal":
        cv2 = (sd / mean) ** 2
        return stats.lognorm(s=math.sqrt(math.log(1 + cv2)), scale=mean / math.sqrt(1 + cv2))
    if kind == "gamma":
        return stats.gamma(a=(mean / sd) ** 2, scale=sd**2 / mean)
    assert kind == "exponential"
    return stats.expon(scale=mean)


CASES = [
    ("lognormal", 45.0, 30.0),
    ("lognormal", 3.0, 1.5),
    ("gamma", 45.0, 30.0),
    ("gamma", 60.0, 20.0),
    ("exponential", 45.0, 45.0),
]


def _value(kind: str, mean: float, sd: float) -> dict[str, Any]:
    if kind == "exponential":
        return {"dist": kind, "mean": mean}
    return {"dist": kind, "mean": mean, "sd": sd}


# -- the preview ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "mean", "sd"), CASES)
def test_the_preview_draws_scipys_density_over_0_to_the_99th_percentile(
    kind: str, mean: float, sd: float
) -> None:
    p = df.preview(_value(kind, mean, sd), EN)
    assert p is not None and p.kind == "density"
    truth = _independent(kind, mean, sd)
    x, y = p.frame["x"].to_numpy(), p.frame["y"].to_numpy()
    assert x[0] == 0.0 and x[-1] == pytest.approx(truth.ppf(0.99), rel=1e-9)
    assert p.top == pytest.approx(truth.ppf(0.99), rel=1e-9)
    np.testing.assert_allclose(y, truth.pdf(x), rtol=1e-9, atol=1e-300)
    # the curve holds the 99 % of the probability it shows
    assert np.trapezoid(y, x) == pytest.approx(0.99, abs=2e-3)
    marks = p.marks.set_index("what")["x"]
    assert marks["mean"] == pytest.approx(mean, rel=1e-12)
    assert marks["median"] == pytest.approx(truth.ppf(0.5), rel=1e-9)
    # and they are the model's own mean and median
    d = df.model_of(_value(kind, mean, sd))
    assert d is not None and marks["mean"] == d.mean and marks["median"] == d.median


@pytest.mark.parametrize(("kind", "mean", "sd"), CASES)
def test_draws_from_sample_follow_the_previewed_density(kind: str, mean: float, sd: float) -> None:
    value = _value(kind, mean, sd)
    d = df.model_of(value)
    p = df.preview(value, EN)
    assert d is not None and p is not None
    draws = d.sample(np.random.default_rng(20261122), 20_000)
    assert stats.kstest(draws, _independent(kind, mean, sd).cdf).pvalue > 0.01
    assert stats.kstest(draws, df.frozen(d).cdf).pvalue > 0.01
    # a histogram of the draws over the shown range has the preview's heights
    counts, edges = np.histogram(draws, bins=30, range=(0.0, p.top))
    height = counts / (draws.size * np.diff(edges))
    centres = (edges[:-1] + edges[1:]) / 2
    drawn = np.interp(centres, p.frame["x"], p.frame["y"])
    assert np.max(np.abs(height - drawn)) < 0.12 * p.frame["y"].max()


def test_a_narrow_peak_is_drawn_to_its_height_and_an_unbounded_density_is_cut() -> None:
    narrow = df.preview({"dist": "lognormal", "mean": 45.0, "sd": 0.045}, EN)  # sd = mean / 1000
    truth = _independent("lognormal", 45.0, 0.045)
    mode = truth.kwds["scale"] * math.exp(-(truth.kwds["s"] ** 2))
    assert narrow is not None
    assert narrow.frame["y"].max() == pytest.approx(truth.pdf(mode), rel=0.02)
    assert np.trapezoid(narrow.frame["y"], narrow.frame["x"]) == pytest.approx(0.99, abs=3e-3)
    # a gamma of shape 0.01 (sd = 10 x mean) has an infinite density at 0: none is drawn, and
    # the scale holds the density beyond the first 1 % of the draws
    spike = df.preview({"dist": "gamma", "mean": 45.0, "sd": 450.0}, EN)
    g = _independent("gamma", 45.0, 450.0)
    assert spike is not None and math.isfinite(spike.y_top)
    assert np.isfinite(spike.frame["y"]).all()
    assert spike.y_top >= spike.frame["y"][spike.frame["x"] >= g.ppf(0.01)].max()


def test_an_empirical_preview_shows_each_values_share_and_its_mean_and_median() -> None:
    value = {"dist": "empirical", "values": [20.0, 10.0, 20.0, 30.0], "weights": [1, 1, 2, 0]}
    p = df.preview(value, EN)
    assert p is not None and p.kind == "mass"
    shares = dict(zip(p.frame["x"], p.frame["y"], strict=True))
    assert shares == pytest.approx({10.0: 0.25, 20.0: 0.75, 30.0: 0.0})
    assert (p.frame["lo"] < p.frame["x"]).all() and (p.frame["x"] < p.frame["hi"]).all()
    marks = p.marks.set_index("what")["x"]
    assert marks["mean"] == pytest.approx((20 + 10 + 40) / 4)  # 17.5
    assert marks["median"] == 20.0
    d = Empirical(dist="empirical", values=value["values"], weights=value["weights"])
    assert marks["mean"] == d.mean and marks["median"] == d.median
    draws = d.sample(np.random.default_rng(1), 20_000)
    for v, share in shares.items():
        assert np.mean(draws == v) == pytest.approx(share, abs=0.015)
    fixed = df.preview({"dist": "fixed", "value": 2.0}, EN)
    assert fixed is not None and list(fixed.frame["y"]) == [1.0]
    assert list(fixed.marks["x"]) == [2.0, 2.0]


def test_a_value_the_model_rejects_has_no_preview() -> None:
    assert df.preview({"dist": "lognormal", "mean": 45.0, "sd": 600.0}, EN) is None
    assert df.preview({"dist": "empirical", "values": []}, EN) is None


def test_axis_labels_and_marks_read_the_norwegian_way() -> None:
    assert df.tick_labels([0.0, 500.0, 3000.0, 3500.0], "nb") == ["0", "500", "3 000", "3 500"]
    assert df.tick_labels([0.0, 500.0, 3000.0, 3500.0], "en") == ["0", "500", "3,000", "3,500"]
    assert df.tick_labels([0.0, 0.005, 0.01], "nb") == ["0,000", "0,005", "0,010"]
    value = {"dist": "lognormal", "mean": 3500.0, "sd": 1000.0}
    spec = json.loads(df.chart_spec(json.dumps(value), "nb") or "null")
    area, rules = spec["layer"]
    x = area["encoding"]["x"]
    assert x["title"] == "Tid (minutter)" and area["encoding"]["y"]["title"] == (
        "Tetthet (per minutt)"
    )
    # the label Vega draws at each tick, as the expression gives it
    pairs = re.findall(
        r'abs\(datum\.value - ([0-9.e+-]+)\) < [0-9.e+-]+ \? "([^"]*)"', x["axis"]["labelExpr"]
    )
    assert [float(t) for t, _ in pairs] == x["axis"]["values"]
    labels = [label for _, label in pairs]
    assert labels == ["0", "2 000", "4 000", "6 000"]
    assert rules["encoding"]["color"]["scale"]["domain"] == [
        "gjennomsnitt 3 500 minutter",
        "median "
        + f"{3500 / math.sqrt(1 + (1000 / 3500) ** 2):,.1f}".replace(",", " ").replace(".", ",")
        + " minutter",
    ]
    en = json.loads(df.chart_spec(json.dumps(value), "en") or "null")
    assert en["layer"][0]["encoding"]["x"]["title"] == "Time (minutes)"
    assert '"4,000"' in en["layer"][0]["encoding"]["x"]["axis"]["labelExpr"]


# -- fields and the scenario's value -----------------------------------------------------------


def test_fields_give_the_value_the_toml_text_gave() -> None:
    typed = parse_inline('{dist = "lognormal", mean = 45.0, sd = 30.0}')
    assert df.to_raw("lognormal", mean=45, sd=30) == typed
    assert list(df.to_raw("lognormal", mean=45, sd=30)) == list(typed)  # the file's order
    raw = model.shipped_scenarios()["oslo_akershus"]
    path = "situations.suicidal.on_scene"
    assert model.set_value(raw, path, df.to_raw("lognormal", mean=45, sd=30)) == model.set_value(
        raw, path, typed
    )
    assert df.to_raw("fixed", value=4) == parse_inline('{ dist = "fixed", value = 4.0 }')
    assert df.to_raw("exponential", mean=8.0) == {"dist": "exponential", "mean": 8.0}
    assert df.to_raw("empirical", values=[5, 10], weights=None) == parse_inline(
        '{ dist = "empirical", values = [5.0, 10.0] }'
    )
    assert df.with_field(typed, "mean", 50.0) == {"dist": "lognormal", "mean": 50.0, "sd": 30.0}


def test_every_default_distribution_has_fields_that_give_it_back() -> None:
    dists = {
        p: v.value for p, v in registry().items() if isinstance(v.value, dict) and "dist" in v.value
    }
    assert len(dists) == 21
    for path, value in dists.items():
        assert df.is_distribution_path(path), path
        assert df.editable(value), path
        assert df.to_raw(value["dist"], **df.fields_of(value)) == value
    assert not df.is_distribution_path("call_handling.channel_shares")
    assert not df.is_distribution_path("police.other_job")
    assert df.is_distribution_path("situations.a_new_kind.police_alone")
    # what fields could not hold keeps its TOML text
    assert not df.editable({"dist": "lognormal", "mean": 45.0, "sd": 30.0, "extra": 1})
    assert not df.editable({"dist": "weibull", "mean": 45.0})
    assert not df.editable({"dist": "fixed", "value": 20_000.0})
    assert not df.editable({"dist": "empirical", "values": [1.0, 2.0], "weights": [1.0]})


def test_a_new_kind_keeps_the_mean_and_where_it_can_the_spread() -> None:
    logn = {"dist": "lognormal", "mean": 45.0, "sd": 30.0}
    assert df.with_kind(logn, "gamma") == {"dist": "gamma", "mean": 45.0, "sd": 30.0}
    assert df.with_kind(logn, "fixed") == {"dist": "fixed", "value": 45.0}
    assert df.with_kind(logn, "exponential") == {"dist": "exponential", "mean": 45.0}
    assert df.with_kind(logn, "empirical") == {"dist": "empirical", "values": [45.0]}
    # a fixed time takes the default's spread relative to its mean (or half the mean)
    default = {"dist": "lognormal", "mean": 5.0, "sd": 3.0}
    assert df.with_kind({"dist": "fixed", "value": 2.0}, "lognormal", default) == {
        "dist": "lognormal",
        "mean": 2.0,
        "sd": pytest.approx(1.2),
    }
    assert df.with_kind({"dist": "fixed", "value": 2.0}, "gamma") == {
        "dist": "gamma",
        "mean": 2.0,
        "sd": 1.0,
    }
    emp = {"dist": "empirical", "values": [10.0, 30.0]}
    assert df.with_kind(emp, "lognormal") == {"dist": "lognormal", "mean": 20.0, "sd": 10.0}


def test_the_empirical_table_round_trips() -> None:
    value = {"dist": "empirical", "values": [10.0, 20.0], "weights": [1.0, 3.0]}
    assert df._table_value(df._table_frame(value)) == value
    plain = {"dist": "empirical", "values": [10.0, 20.0]}
    assert df._table_value(df._table_frame(plain)) == plain
    frame = df._table_frame(value)
    frame.loc[1, "weight"] = None
    assert df._table_value(frame) == {
        "dist": "empirical",
        "values": [10.0, 20.0],
        "weights": [1.0, None],
    }
    assert "weights" in df.field_errors(df._table_value(frame), EN)


# -- field errors agree with the model ---------------------------------------------------------


def _grid() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for mean in (0.0, 1e-9, 0.5, 45.0, 1008.0, 10_080.0):
        for sd in (0.0, mean * 0.001, mean * 0.000999, mean * 10, mean * 10.0001, 10_080.0, 5.0):
            out += [
                {"dist": "lognormal", "mean": mean, "sd": sd},
                {"dist": "gamma", "mean": mean, "sd": sd},
            ]
        out.append({"dist": "exponential", "mean": mean})
        out.append({"dist": "fixed", "value": mean})
    out += [
        {"dist": "empirical", "values": []},
        {"dist": "empirical", "values": [1.0, None]},
        {"dist": "empirical", "values": [1.0, 2.0], "weights": [0.0, 0.0]},
        {"dist": "empirical", "values": [1.0, 2.0], "weights": [1.0, None]},
        {"dist": "empirical", "values": [1.0, 2.0], "weights": [1e308, 1e308]},
        {"dist": "empirical", "values": [1.0, 2.0], "weights": [0.0, 5.0]},
        {"dist": "empirical", "values": [0.0, 10_080.0]},
    ]
    return out


@pytest.mark.parametrize("value", _grid(), ids=lambda v: json.dumps(v))
def test_a_field_error_is_shown_exactly_when_the_model_rejects_the_value(
    value: dict[str, Any],
) -> None:
    accepted = df.model_of(value) is not None
    for w in (EN, NB):
        errors = df.field_errors(value, w)
        assert (errors == {}) == accepted, errors
        assert "dist" not in errors, errors  # every problem is named under its own field


def test_field_errors_name_the_limit_in_the_readers_language() -> None:
    value = {"dist": "lognormal", "mean": 45.0, "sd": 600.0}
    assert df.field_errors(value, NB) == {
        "sd": "Standardavviket kan være høyst 10 × gjennomsnittet: 450 minutter."
    }
    assert df.field_errors(value, EN) == {
        "sd": "The standard deviation can be at most 10 × the mean: 450 minutes."
    }
    low = df.field_errors({"dist": "gamma", "mean": 45.0, "sd": 0.01}, NB)["sd"]
    assert "gjennomsnittet / 1 000: 0,045 minutter" in low and "«fast»" in low
    assert "mer enn 0" in df.field_errors({"dist": "exponential", "mean": 0.0}, NB)["mean"]


# -- on the page ------------------------------------------------------------------------------

PATH = "facilities.handover_ambulance"


def _next_to(at: Any, key: str) -> tuple[str, str] | None:
    """The kind and text of the element drawn right after the widget with this key."""

    def walk(node: Any) -> tuple[str, str] | None:
        children = list(getattr(node, "children", {}).values())
        for i, child in enumerate(children):
            if getattr(child, "key", None) == key:
                after = children[i + 1] if i + 1 < len(children) else None
                return None if after is None else (after.type, getattr(after, "value", ""))
            found = walk(child)
            if found is not None:
                return found
        return None

    return walk(at.main)


def test_a_changed_kind_and_mean_reach_the_scenario_a_run_uses_and_the_saved_file() -> None:
    at = _page(_app(), "scenario")
    assert all(str(t.key) != f"p0:{PATH}" for t in at.text_input)  # no TOML text field for it
    at.number_input(key="p0:run.horizon_days").set_value(30.0).run()  # a short run
    at.selectbox(key=f"p0:{PATH}:kind").set_value("gamma").run()
    at.number_input(key=f"p0:{PATH}:mean").set_value(50.0).run()
    assert not at.exception, [e.value for e in at.exception]
    want = {"dist": "gamma", "mean": 50.0, "sd": 15.0}  # the default's sd is kept
    assert at.session_state.raw["facilities"]["handover_ambulance"] == want
    assert at.number_input(key=f"p0:{PATH}:sd").value == 15.0
    assert any(s.value == EN("valid") for s in at.success) and not at.error
    saved = tomllib.loads(model.to_toml(at.session_state.raw))
    assert saved["facilities"]["handover_ambulance"] == want
    _run(at, reps=1)
    used = at.session_state.run.scenario.facilities.handover_ambulance
    assert used == Gamma(dist="gamma", mean=50.0, sd=15.0)
    # the preview follows: its mean mark is the new mean
    assert any("mean 50 minutes" in c.proto.spec for c in at.get("vega_lite_chart"))


def test_an_out_of_limits_spread_is_named_under_its_field_and_the_scenario_is_not_valid() -> None:
    at = _page(_app("nb"), "scenario")
    key = "p0:situations.suicidal.on_scene"
    assert any(s.value == NB("valid") for s in at.success)
    assert at.text_input(key=f"{key}:sd").value == "30"  # a bokmål number field
    at.text_input(key=f"{key}:sd").set_value("601").run()  # the mean is 60: at most 600
    assert not at.exception, [e.value for e in at.exception]
    field = "Standardavviket kan være høyst 10 × gjennomsnittet: 600 minutter."
    assert _next_to(at, f"{key}:sd") == ("error", field)  # right under the field
    assert not any(s.value == NB("valid") for s in at.success)
    assert any(shown(e.value).startswith(NB("invalid")) for e in at.error)
    assert at.sidebar.button(key="run_button").disabled
    assert NB("dist_no_preview") in [c.value for c in at.caption]
    # at the limit it is valid again, and the error has gone
    at.text_input(key=f"{key}:sd").set_value("600,0").run()
    assert _next_to(at, f"{key}:sd") is None and not at.error
    assert any(s.value == NB("valid") for s in at.success)
    on_scene = at.session_state.raw["situations"]["suicidal"]["on_scene"]
    assert on_scene == {"dist": "lognormal", "mean": 60.0, "sd": 600.0}
    assert Lognormal.model_validate(on_scene).sd == 600.0
    # a mean of 0 is named under the mean
    at.text_input(key=f"{key}:mean").set_value("0").run()
    kind, text = _next_to(at, f"{key}:mean") or ("", "")
    assert kind == "error" and text.startswith("Gjennomsnittet må være mer enn 0")
    assert not any(s.value == NB("valid") for s in at.success)


def test_a_value_the_fields_cannot_hold_keeps_its_text_field_and_is_quoted_as_text() -> None:
    """A kept scenario may hold a distribution no field could have written (an unknown kind
    named with a markdown image): it keeps the TOML text field, and the problem quoting it is
    shown as typed; typed right, the fields come back."""
    at = _page(_app(), "scenario")
    evil = "![y](https://evil.example/y.png)"
    raw = model.set_value(at.session_state.raw, "fleet.mobilisation", {"dist": evil, "value": 4.0})
    at.session_state["raw"] = raw
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert all(str(s.key) != "p0:fleet.mobilisation:kind" for s in at.selectbox)
    field = at.text_input(key="p0:fleet.mobilisation")
    assert "evil.example" in field.value
    assert any("evil.example/y.png" in shown(e.value) for e in at.error)
    assert not [t for t in _markdown_texts(at) if "![" in t or "](" in t]
    field.set_value('{ dist = "fixed", value = 4.0 }').run()
    assert at.session_state.raw["fleet"]["mobilisation"] == {"dist": "fixed", "value": 4.0}
    assert at.selectbox(key="p0:fleet.mobilisation:kind").value == "fixed"
    assert at.number_input(key="p0:fleet.mobilisation:value").value == 4.0
    assert any(s.value == EN("valid") for s in at.success)


def test_a_kind_named_in_either_language_is_read_back() -> None:
    """Streamlit hands a callback the words a field showed; after a switch of language those
    are the other language's (the dashboard crashed on "fast" before)."""
    from planner.dashboard.distribution_fields import kind_of

    assert [kind_of(x) for x in ("fast", "fixed", "empirisk", "eksponentiell")] == [
        "fixed",
        "fixed",
        "empirical",
        "exponential",
    ]
    assert kind_of("![x](y)") is None


def test_each_law_s_quantiles_are_its_closed_form() -> None:
    """The laws' quantiles, as the calibration report's Q-Q plots read them: exponential
    -mean ln(1 - q); lognormal exp(mu + sigma z_q) with sigma² = ln(1 + cv²), mu = ln(mean) -
    sigma² / 2; gamma's median as its own; an empirical law's steps; a fixed time itself."""
    import math

    import numpy as np
    from pydantic import TypeAdapter
    from scipy.special import ndtri

    from planner.scenario.distributions import Distribution

    read = TypeAdapter(Distribution).validate_python
    q = np.array([0.1, 0.5, 0.9])
    expo = read({"dist": "exponential", "mean": 40.0})
    np.testing.assert_allclose(expo.quantile(q), -40.0 * np.log1p(-q), rtol=1e-12)
    logn = read({"dist": "lognormal", "mean": 60.0, "sd": 30.0})
    s2 = math.log(1 + 0.25)
    want = np.exp(math.log(60.0) - s2 / 2 + math.sqrt(s2) * ndtri(q))
    np.testing.assert_allclose(logn.quantile(q), want, rtol=1e-10)
    gam = read({"dist": "gamma", "mean": 45.0, "sd": 20.0})
    assert gam.quantile(np.array([0.5]))[0] == pytest.approx(gam.median, rel=1e-9)
    assert gam.law().mean() == pytest.approx(45.0) and gam.law().std() == pytest.approx(20.0)
    emp = read({"dist": "empirical", "values": [30.0, 10.0, 20.0], "weights": [1.0, 1.0, 2.0]})
    # sorted 10 (0.25), 20 (0.75), 30 (1.0)
    assert emp.quantile(np.array([0.1, 0.25, 0.5, 0.75, 0.8, 1.0])).tolist() == [10, 10, 20, 20, 30, 30]  # fmt: skip
    assert emp.law() is None
    assert read({"dist": "fixed", "value": 7.0}).quantile(q).tolist() == [7.0, 7.0, 7.0]
