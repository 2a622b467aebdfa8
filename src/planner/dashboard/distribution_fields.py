"""A time distribution on the Scenario page: fields for its kind, mean and spread, and a preview.

A planner chooses the kind (fixed, exponential, lognormal, gamma, empirical) and types what they
can estimate: the mean and the standard deviation in minutes (``distributions.py`` takes the
same two numbers); a fixed time has only its value, an exponential only its mean, and an
empirical one a small table of values and relative weights. The fields write the scenario's
value in the file's own form (``{dist = "lognormal", mean = 45.0, sd = 30.0}``) through the same
``set_value`` the inline TOML text went through, so a saved file is what it always was.

Every field holds only what the model can read (minutes from 0 to ``MAX_MINUTES``); what depends
on two fields (a standard deviation from mean / 1,000 to 10 × the mean) is named under the field
in the reader's language, by ``field_errors``, which agrees with the model: when it finds nothing
the model is asked, so a field error is shown exactly when validation rejects the value.

Beside the fields, the density of the distribution the simulation draws from (from scipy, with
the parameters ``distributions.py`` uses) over 0 to its 99th percentile, or an empirical one's
share of draws per value, with its mean and median marked.

Kept apart from the page so that the numbers (the density, fields to value) are plain functions
that tests can pin; ``distribution_input`` is the Streamlit part.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from planner.dashboard import state
from planner.dashboard.model import default_at, merged, set_value, value_at
from planner.dashboard.text import LANGS, Words, plain, words
from planner.dashboard.view import decimal_input, decimal_text, entered
from planner.scenario.distributions import MAX_CV, MAX_MINUTES, MIN_CV, Distribution, Empirical
from planner.scenario.model import Scenario, Situation
from planner.words import number

if TYPE_CHECKING:
    from planner.scenario.distributions import _Dist

# the fields each kind has in a scenario file, in the file's order after ``dist``
FIELDS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "exponential": ("mean",),
    "lognormal": ("mean", "sd"),
    "gamma": ("mean", "sd"),
    "empirical": ("values", "weights"),
}
KINDS = tuple(FIELDS)  # in the order the kind field lists them
_SPREAD = ("lognormal", "gamma")
_GRID = 241  # points of a density curve
_MEAN_COLOUR, _MEDIAN_COLOUR = "#1f3f8f", "#c0504d"  # as the Results page's charts

_ADAPTER: TypeAdapter[Any] = TypeAdapter(Distribution)


# -- which parameters, and which values the fields can show -----------------------------------


def _distribution_fields(model: type[BaseModel]) -> set[str]:
    return {name for name, f in model.model_fields.items() if f.discriminator == "dist"}


def is_distribution_path(path: str) -> bool:
    """Is this parameter a time distribution (``situations.<kind>.on_scene``,
    ``call_handling.handling``, ...), by the scenario's own schema?"""
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "situations":
        return parts[2] in _distribution_fields(Situation)
    if len(parts) != 2 or parts[0] not in Scenario.model_fields:
        return False
    section = Scenario.model_fields[parts[0]].annotation
    return (
        isinstance(section, type)
        and issubclass(section, BaseModel)
        and parts[1] in _distribution_fields(section)
    )


def _minutes(x: Any) -> bool:
    """A number a minutes field can hold."""
    return (
        isinstance(x, int | float)
        and not isinstance(x, bool)
        and math.isfinite(x)
        and 0 <= x <= MAX_MINUTES
    )


def _num(x: Any) -> float | None:
    """The number of minutes a field holds, or None if it is not one a field can hold."""
    return float(x) if _minutes(x) else None


def editable(value: Any) -> bool:
    """Can the fields show this value exactly? A value they cannot (an unknown kind, a field too
    many, a time beyond 7 days), which no field could have written, keeps its TOML text field,
    so that nothing of it is lost."""
    if not isinstance(value, dict) or value.get("dist") not in FIELDS:
        return False
    kind = value["dist"]
    if kind == "empirical":
        values, weights = value.get("values"), value.get("weights")
        if set(value) - {"dist", "values", "weights"} or not isinstance(values, list):
            return False
        if not all(v is None or _minutes(v) for v in values):
            return False
        if weights is None:
            return "weights" not in value
        return (
            isinstance(weights, list)
            and len(weights) == len(values)
            and all(
                w is None
                or (isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w))
                for w in weights
            )
        )
    return set(value) == {"dist", *FIELDS[kind]} and all(_minutes(value[f]) for f in FIELDS[kind])


# -- fields to the scenario's value and back --------------------------------------------------


def to_raw(
    kind: str,
    *,
    mean: float | None = None,
    sd: float | None = None,
    value: float | None = None,
    values: list[float | None] | None = None,
    weights: list[float | None] | None = None,
) -> dict[str, Any]:
    """The scenario's value for these fields, as a scenario file writes it: ``to_raw("lognormal",
    mean=45, sd=30)`` is ``{"dist": "lognormal", "mean": 45.0, "sd": 30.0}``."""
    if kind not in FIELDS:
        raise ValueError(f"unknown kind of distribution: {kind!r}")
    given: dict[str, Any] = {
        "mean": mean,
        "sd": sd,
        "value": value,
        "values": values,
        "weights": weights,
    }
    out: dict[str, Any] = {"dist": kind}
    for f in FIELDS[kind]:
        v = given[f]
        if f == "weights" and v is None:
            continue  # equal weights: the file leaves them out
        if v is None:
            raise ValueError(f"{kind} needs {f}")
        out[f] = [_float(x) for x in v] if f in ("values", "weights") else float(v)
    return out


def _float(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def fields_of(value: dict[str, Any]) -> dict[str, Any]:
    """The fields' values for a scenario's value (the inverse of ``to_raw``)."""
    return {f: value.get(f) for f in FIELDS[value["dist"]]}


def with_field(value: dict[str, Any], field: str, new: float) -> dict[str, Any]:
    """The value with one field changed (the others as they were)."""
    fields = fields_of(value)
    fields[field] = new
    return to_raw(value["dist"], **fields)


def model_of(value: Any) -> _Dist | None:
    """The distribution the simulation would draw from, or None if the model rejects it."""
    try:
        d: _Dist = _ADAPTER.validate_python(value)
    except (ValidationError, TypeError, ValueError):
        return None
    return d


def _mean_and_sd(value: dict[str, Any]) -> tuple[float | None, float | None]:
    d = model_of(value)
    if d is not None:
        return d.mean, math.sqrt(d.variance)
    for f in ("mean", "value"):
        if _minutes(value.get(f)):
            return float(value[f]), None
    first = next((v for v in value.get("values") or [] if _minutes(v)), None)
    return (None if first is None else float(first)), None


def with_kind(value: dict[str, Any], kind: str, default: Any = None) -> dict[str, Any]:
    """The value as another kind of distribution with the same mean (and standard deviation,
    where both kinds have one and it is within the limits; else the default's spread relative
    to its mean, or half the mean)."""
    if kind == value.get("dist"):
        return value
    mean, sd = _mean_and_sd(value)
    if mean is None:
        mean = _mean_and_sd(default)[0] if isinstance(default, dict) else None
    mean = 1.0 if mean is None else mean
    if kind == "fixed":
        return to_raw(kind, value=mean)
    if kind == "exponential":
        return to_raw(kind, mean=mean)
    if kind == "empirical":
        return to_raw(kind, values=[mean])
    if sd is None or not (sd > 0 and MIN_CV * mean <= sd <= min(MAX_CV * mean, MAX_MINUTES)):
        cv = 0.5
        if isinstance(default, dict) and default.get("dist") in _SPREAD:
            dm, ds = _mean_and_sd(default)
            if dm and ds:
                cv = ds / dm
        sd = cv * mean
    return to_raw(kind, mean=mean, sd=sd)


# -- what is wrong, field by field, in the reader's words -------------------------------------


def short(x: float, lang: str) -> str:
    """A number of minutes as a label says it: ``37.4``, ``3 500`` (nb), ``0.045``."""
    a = abs(x)
    if float(x).is_integer():
        return number(x, lang, 0)
    d = 1 if a >= 1 else min(6, 1 - math.floor(math.log10(a)))
    s = number(x, lang, d)
    mark = "," if lang == "nb" else "."
    return s.rstrip("0").rstrip(mark) if mark in s else s


def field_errors(value: dict[str, Any], w: Words) -> dict[str, str]:
    """What is wrong with the value, by field (``mean``, ``sd``, ``value``, ``values``,
    ``weights``; ``dist`` for the whole), in the reader's language; empty when the model
    accepts it."""
    lang = w.lang
    top = short(MAX_MINUTES, lang)
    kind = value.get("dist")
    errs: dict[str, str] = {}
    m, s = _num(value.get("mean")), _num(value.get("sd"))
    if kind == "fixed" and _num(value.get("value")) is None:
        errs["value"] = w("dist_err_value", max=top)
    if kind in ("exponential", *_SPREAD) and (m is None or m <= 0):
        errs["mean"] = w("dist_err_mean", max=top)
    if kind in _SPREAD:
        if s is None or s <= 0:
            errs["sd"] = w("dist_err_sd", max=top)
        elif m is None or "mean" in errs:
            pass  # the mean's error comes first: the bounds of the spread follow from it
        elif s > MAX_CV * m:
            errs["sd"] = w("dist_err_sd_high", cv=short(MAX_CV, lang), max=short(MAX_CV * m, lang))
        elif s < MIN_CV * m:
            errs["sd"] = w(
                "dist_err_sd_low", n=short(round(1 / MIN_CV), lang), min=short(MIN_CV * m, lang)
            )
    if kind == "empirical":
        errs.update(_table_errors(value, w))
    if not errs and model_of(value) is None:  # what the fields cannot tell: the model's words
        try:
            _ADAPTER.validate_python(value)
        except ValidationError as exc:
            errs["dist"] = plain(exc.errors()[0]["msg"])
        except (TypeError, ValueError) as exc:
            errs["dist"] = plain(str(exc))
    return errs


def _table_errors(value: dict[str, Any], w: Words) -> dict[str, str]:
    errs: dict[str, str] = {}
    values = value.get("values")
    values = values if isinstance(values, list) else []
    if not values:
        errs["values"] = w("dist_err_no_values")
    for i, v in enumerate(values, start=1):
        if v is None:
            errs["values"] = w("dist_err_blank_value", row=i)
            break
        if not _minutes(v):
            errs["values"] = w("dist_err_value_row", row=i, max=short(MAX_MINUTES, w.lang))
            break
    weights = value.get("weights")
    if weights is None:
        return errs
    if any(x is None for x in weights):
        errs["weights"] = w("dist_err_weights_blank")
    elif any(not math.isfinite(x) or x < 0 for x in weights):
        errs["weights"] = w("dist_err_weights_negative")
    elif not math.isfinite(sum(weights)):  # as the model adds them
        errs["weights"] = w("dist_err_weights_sum")
    elif sum(weights) <= 0:
        errs["weights"] = w("dist_err_weights_zero")
    return errs


# -- the preview ------------------------------------------------------------------------------


def frozen(d: _Dist) -> Any:
    """The scipy distribution ``d.sample`` draws from (None for fixed and empirical): numpy's
    ``lognormal(mu, sigma)`` is scipy's ``lognorm(s=sigma, scale=exp(mu))``, numpy's
    ``gamma(shape, scale)`` is scipy's ``gamma(a=shape, scale=scale)``."""
    from scipy import stats

    kind = getattr(d, "dist", None)
    if kind == "exponential":
        return stats.expon(scale=d.mean)
    if kind == "lognormal":
        sigma2 = math.log1p(d.variance / d.mean**2)
        return stats.lognorm(s=math.sqrt(sigma2), scale=math.exp(math.log(d.mean) - sigma2 / 2))
    if kind == "gamma":
        shape = d.mean**2 / d.variance
        return stats.gamma(a=shape, scale=d.mean / shape)
    return None


@dataclass(frozen=True)
class Preview:
    """What the chart draws: a density curve (``kind == "density"``: x in minutes, y per minute)
    or, for fixed and empirical times, the share of draws per value (``"mass"``: bars from
    ``lo`` to ``hi`` around each value ``x``, height ``y``); ``marks`` are the mean and the
    median (x, what, label); the x axis runs from 0 to ``top``, the y axis from 0 to
    ``y_top``."""

    kind: str
    frame: pd.DataFrame
    marks: pd.DataFrame
    top: float
    y_top: float
    x_ticks: list[float]
    y_ticks: list[float]


def preview(value: Any, w: Words) -> Preview | None:
    """The preview of a distribution, or None if the model rejects it."""
    d = model_of(value)
    if d is None:
        return None
    lang = w.lang
    dist = frozen(d)
    if dist is not None:
        p99 = float(dist.ppf(0.99))
        top = max(p99, d.mean * 1.05, d.median * 1.05) if d.mean > p99 else p99
        # evenly over the range, and as many points again over the bulk, so that a narrow peak
        # (a small standard deviation far from 0) is drawn with its true height
        x = np.union1d(np.linspace(0.0, top, _GRID), np.linspace(float(dist.ppf(1e-6)), p99, _GRID))
        with np.errstate(divide="ignore"):
            y = dist.pdf(x)
        keep = np.isfinite(y)  # a gamma of shape < 1 has an infinite density at 0
        frame = pd.DataFrame({"x": x[keep], "y": y[keep]})
        kind = "density"
        # the height shown: the highest density beyond the first 1 % of the draws, so that a
        # density rising without bound at 0 (a gamma of shape < 1) is cut, not the scale
        bulk = frame["y"][frame["x"] >= float(dist.ppf(0.01))]
        y_top = float(bulk.max()) * 1.05
    else:
        weights = d.weights if isinstance(d, Empirical) else None
        v = np.asarray(d.values if isinstance(d, Empirical) else [d.mean], dtype=float)
        p = np.ones(v.size) if weights is None else np.asarray(weights, dtype=float)
        share = pd.Series(p / p.sum()).groupby(v).sum()
        xs = share.index.to_numpy(dtype=float)
        top = max(float(xs.max()) * 1.1, 1.0)
        gap = float(np.diff(xs).min()) if xs.size > 1 else top
        half = min(0.4 * gap, 0.02 * top)
        frame = pd.DataFrame(
            {"x": xs, "y": share.to_numpy(), "lo": np.maximum(xs - half, 0.0), "hi": xs + half}
        )
        kind = "mass"
        y_top = float(frame["y"].max()) * 1.05
    marks = pd.DataFrame(
        {
            "x": [d.mean, d.median],
            "what": ["mean", "median"],
            "label": [
                w("dist_mark", what=w("dist_mean_mark"), value=short(d.mean, lang)),
                w("dist_mark", what=w("dist_median"), value=short(d.median, lang)),
            ],
        }
    )
    return Preview(kind, frame, marks, top, y_top, nice_ticks(top), nice_ticks(y_top, most=5))


def nice_ticks(top: float, most: int = 6) -> list[float]:
    """0 and round steps (1, 2, 2.5 or 5 × a power of ten) up to ``top``, at most ``most``."""
    if not top > 0 or not math.isfinite(top):
        return [0.0]
    raw = top / (most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    n = math.floor(top / step * (1 + 1e-9))
    return [round(i * step, 12) for i in range(n + 1)]


def tick_labels(ticks: list[float], lang: str) -> list[str]:
    """The ticks as the reader writes numbers (``3 500`` and ``0,5`` in bokmål), all with the
    decimals the finest of them needs."""
    step = ticks[1] - ticks[0] if len(ticks) > 1 else (ticks[0] or 1.0)
    d = next((k for k in range(10) if abs(round(step, k) - step) <= abs(step) * 1e-9), 10)
    return [number(t, lang, d) for t in ticks]


def label_expr(ticks: list[float], lang: str) -> str:
    """A Vega expression giving each tick its label from ``tick_labels`` (Vega would write
    numbers the English way, whatever the page's language)."""
    eps = f"{(ticks[1] - ticks[0]) * 1e-6 if len(ticks) > 1 else 1e-9:.3g}"
    expr = '""'
    for t, label in reversed(list(zip(ticks, tick_labels(ticks, lang), strict=True))):
        expr = f"abs(datum.value - {t!r}) < {eps} ? {json.dumps(label)} : {expr}"
    return expr


def chart(p: Preview, w: Words) -> alt.LayerChart:
    """The preview as an Altair chart: the density (or shares) with the mean and median."""
    lang = w.lang
    x_axis = alt.Axis(values=p.x_ticks, labelExpr=label_expr(p.x_ticks, lang))
    y_axis = alt.Axis(values=p.y_ticks, labelExpr=label_expr(p.y_ticks, lang))
    x_scale = alt.Scale(domain=[0.0, p.top], nice=False, zero=True)
    y_scale = alt.Scale(domain=[0.0, p.y_top], nice=False)
    x_title = w("dist_minutes")
    if p.kind == "density":
        body: alt.Chart = (
            alt.Chart(p.frame)
            .mark_area(line={"color": _MEAN_COLOUR}, color=_MEAN_COLOUR, opacity=0.25, clip=True)
            .encode(
                x=alt.X("x:Q", title=x_title, scale=x_scale, axis=x_axis),
                y=alt.Y("y:Q", title=w("dist_density"), scale=y_scale, axis=y_axis),
            )
        )
    else:
        body = (
            alt.Chart(p.frame)
            .mark_bar(color=_MEAN_COLOUR, opacity=0.6)
            .encode(
                x=alt.X("lo:Q", title=x_title, scale=x_scale, axis=x_axis),
                x2="hi:Q",
                y=alt.Y("y:Q", title=w("dist_share"), scale=y_scale, axis=y_axis),
            )
        )
    labels = list(p.marks["label"])
    rules = (
        alt.Chart(p.marks)
        .mark_rule(strokeWidth=2)
        .encode(
            x=alt.X("x:Q", title=x_title, scale=x_scale, axis=x_axis),
            color=alt.Color(
                "label:N",
                title=None,
                scale=alt.Scale(domain=labels, range=[_MEAN_COLOUR, _MEDIAN_COLOUR]),
                legend=alt.Legend(orient="bottom", labelLimit=260),
            ),
            strokeDash=alt.StrokeDash(
                "label:N", scale=alt.Scale(domain=labels, range=[[1, 0], [5, 3]]), legend=None
            ),
            tooltip=[alt.Tooltip("label:N", title=None)],
        )
    )
    return alt.LayerChart(layer=[body, rules]).properties(height=300)


@lru_cache(maxsize=512)
def chart_spec(value: str, lang: str) -> str | None:
    """The preview's Vega-Lite spec (JSON) for a value (JSON) in a language, or None if the
    model rejects the value. Kept, as building and validating an Altair chart takes tens of
    milliseconds and the page draws some twenty of them on every rerun."""
    w = words(lang)
    p = preview(json.loads(value), w)
    return None if p is None else json.dumps(chart(p, w).to_dict())


# -- the widgets ------------------------------------------------------------------------------


def _current(path: str) -> dict[str, Any]:
    value = value_at(merged(state.raw()), path)
    return value if isinstance(value, dict) else {}


def _kind_changed(path: str, key: str) -> None:
    kind = kind_of(st.session_state[key])
    if kind is None:
        return
    new = with_kind(_current(path), kind, default_at(path))
    st.session_state.bad.pop(path, None)
    state.edit(set_value(state.raw(), path, new))


def kind_of(chosen: object) -> str | None:
    """The kind a kind field holds. Streamlit keeps a choice as the words it showed, so just
    after a switch of language a callback may be handed the other language's name ("fast"):
    it is read back in any language; None if it names no kind."""
    if chosen in KINDS:
        return str(chosen)
    for lang in LANGS:
        w = words(lang)
        for kind in KINDS:
            if w(f"dist_{kind}") == chosen:
                return kind
    return None


def minute_decimals(value: float) -> int:
    """Decimals a field shows of a number of minutes: none for whole minutes, else up to 3."""
    for d in range(4):
        if round(value, d) == value:
            return d
    return 3


def _field_changed(path: str, field: str, key: str) -> None:
    if st.session_state[key] is None:
        return
    w = words(st.session_state.get("lang", "nb"))
    try:
        typed = entered(key)  # a bokmål field holds text: "2,5"
    except ValueError:
        st.session_state.bad[path] = w("not_a_number", text=st.session_state[key])
        return
    if not 0.0 <= typed <= MAX_MINUTES:  # what the English number field refuses by itself
        low, high = number(0, w.lang), number(MAX_MINUTES, w.lang)
        st.session_state.bad[path] = w("out_of_range", low=low, high=high)
        return
    current = _current(path)
    if current.get("dist") not in FIELDS or field not in FIELDS[current["dist"]]:
        return
    st.session_state.bad.pop(path, None)
    state.edit(set_value(state.raw(), path, with_field(current, field, typed)))


def _shows(field: str, lang: str = "en") -> Callable[[Any], Any]:
    """What a field's widget shows of a scenario's value (ValueError when it has no such field,
    so that ``state.sync`` leaves the widget alone)."""

    def show(value: Any) -> Any:
        if not isinstance(value, dict) or field not in value:
            raise ValueError(f"no {field}")
        if field == "dist":
            if value["dist"] not in FIELDS:
                raise ValueError("unknown kind")
            return value["dist"]
        v = float(value[field])
        return decimal_text(v, lang, minute_decimals(v))

    return show


def _table_frame(value: dict[str, Any]) -> pd.DataFrame:
    values = value.get("values") or []
    weights = value.get("weights") or [None] * len(values)
    return pd.DataFrame(
        {
            "value": pd.array([_float(v) for v in values], dtype="Float64"),
            "weight": pd.array([_float(x) for x in weights], dtype="Float64"),
        }
    )


def _table_value(edited: pd.DataFrame) -> dict[str, Any]:
    def cell(x: Any) -> float | None:
        return None if x is None or pd.isna(x) else float(x)

    values = [cell(v) for v in edited["value"]]
    weights = [cell(x) for x in edited["weight"]]
    return to_raw(
        "empirical", values=values, weights=None if all(x is None for x in weights) else weights
    )


Table = Callable[..., Any]  # pages.scenario.held_table: a table editor that loses no edit


def distribution_input(
    w: Words,
    path: str,
    value: dict[str, Any],
    label: str,
    helptext: str,
    table: Table,
    container: Any = st,
) -> None:
    """Fields for one distribution-valued parameter, with its preview beside them, in a box."""
    prefix = f"p{state.gen()}:{path}"
    kind = str(value["dist"])
    with container.container(border=True):
        st.markdown(f"**{plain(label)}**", help=helptext)
        left, right = st.columns([2, 3], gap="medium")
        with left:
            key = f"{prefix}:kind"
            st.selectbox(
                w("dist_kind"),
                KINDS,
                index=KINDS.index(kind),
                format_func=lambda k: w(f"dist_{k}"),
                key=state.worded(key),
                on_change=_kind_changed,
                args=(path, key),
            )
            state.bind(key, path, _shows("dist"))
            if kind == "empirical":
                st.caption(w("dist_table_help"))
                new = table(
                    f"dist:{path}",
                    value,
                    _table_frame,
                    _table_value,
                    w("blank"),
                    column_config={
                        "value": st.column_config.NumberColumn(
                            w("dist_value"), min_value=0.0, max_value=MAX_MINUTES
                        ),
                        "weight": st.column_config.NumberColumn(w("dist_weight"), min_value=0.0),
                    },
                )
                if new != value:
                    st.session_state.bad.pop(path, None)
                    state.set_raw(set_value(state.raw(), path, new))
                    value = new
            errors = field_errors(value, w)
            for field in FIELDS[kind]:
                if kind != "empirical":
                    _number_field(w, path, field, value, f"{prefix}:{field}")
                if field in errors:
                    st.error(errors[field])
            if kind == "exponential":
                st.caption(w("dist_exponential_note"))
            if "dist" in errors:
                st.error(errors["dist"])
        with right:
            spec = chart_spec(json.dumps(value, sort_keys=True), w.lang)
            if spec is None:
                st.caption(w("dist_no_preview"))
            else:
                figure = json.loads(spec)  # a copy of its own: Streamlit takes the data out
                marks = figure["layer"][1]["encoding"]["color"]["scale"]["domain"]
                described = f"{w(f'dist_{kind}')}: {', '.join(marks)}"  # for screen readers
                st.vega_lite_chart(spec=figure, width="stretch", alt=described)


def _number_field(w: Words, path: str, field: str, value: dict[str, Any], key: str) -> None:
    helps = {
        "sd": w(
            "dist_sd_help",
            low=short(round(1 / MIN_CV), w.lang),
            high=short(MAX_CV, w.lang),
            max=short(MAX_MINUTES, w.lang),
        ),
        "mean": w("dist_mean_help", max=short(MAX_MINUTES, w.lang)),
        "value": w("dist_value_help", max=short(MAX_MINUTES, w.lang)),
    }
    decimal_input(
        st,
        w,
        w(f"dist_{field}"),
        float(value[field]),
        key,
        minute_decimals(float(value[field])),
        min_value=0.0,
        max_value=MAX_MINUTES,
        step=1.0,
        help=helps[field],
        on_change=_field_changed,
        args=(path, field, key),
    )
    state.bind(key, path, _shows(field, w.lang))
