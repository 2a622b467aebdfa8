"""The calibration report: what a trust's call log told of each parameter, against the default
it replaces, with the pictures a planner judges a fit by — the hour-of-week profile with its
interval, each time on scene's histogram with the fitted density and its Q-Q plot, the counts
of calls per person against the fitted cohort — and, after a backtest, a plain verdict per
figure with the held-out weeks and hours against the simulation. One self-contained HTML file
or an A4 PDF, in bokmål or English.

``compose`` is pure (the calls, the check, the calibration and the backtest in; words, tables
and PNG images out); ``to_html`` and ``write_pdf`` only lay it out.
"""

from __future__ import annotations

import html
import io
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner.words import dashboard_words, number

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from planner.calllog.backtest import Backtest
    from planner.calllog.check import CheckedLog
    from planner.calllog.fit import Calibration, Fitted

QQ_POINTS = 400
"""At most this many quantiles of a sample in its Q-Q plot."""
TIME_PANELS = 14
"""Times on scene drawn (7 kinds, a unit's and police's), most calls first."""


@cache
def _words() -> dict[str, Any]:
    raw = resources.files("planner.data").joinpath("calibration_text.toml").read_text("utf-8")
    return tomllib.loads(raw)


def words(lang: str) -> dict[str, str]:
    """The report's words in ``lang`` (nb or en)."""
    return dict(_words()[lang])


def label(path: str, lang: str) -> str:
    """A parameter's plain name: the dashboard's, with the kind of situation named."""
    params = dashboard_words()["params"]
    if path in params:
        return str(params[path][lang])
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "situations":
        kind = _words()["kinds"][lang].get(parts[1], parts[1])
        field = params.get(f"situations.{parts[2]}")
        return f"{field[lang] if field else parts[2]}: {kind}"
    return path


def brief(value: Any, lang: str = "en") -> str:
    """A fitted or default value in a few words: a law by its family and moments, a table or
    a profile by its count and range."""
    if isinstance(value, Mapping) and "dist" in value:
        spread = f", sd {number(value['sd'], lang, 1)}" if "sd" in value else ""
        if "mean" in value:
            middle = f" {number(value['mean'], lang, 1)}"
        elif "value" in value:
            middle = f" {number(value['value'], lang, 1)}"
        else:
            middle = f" ({len(value['values'])})"
        return f"{value['dist']}{middle}{spread}"
    if isinstance(value, Mapping):
        nums = [v for v in value.values() if isinstance(v, float | int)]
        if not nums:
            return "{}" if not value else str(dict(value))
        return f"{len(value)}: {_g(min(nums), lang)} – {_g(max(nums), lang)}"
    if isinstance(value, list | tuple):
        return f"{len(value)}: {_g(min(value), lang)} – {_g(max(value), lang)}"
    if isinstance(value, float):
        return _g(value, lang)
    return str(value)


def interval_text(f: Fitted, lang: str = "en") -> str:
    """A scalar fit's 95 % interval ('' for a table, a profile or none)."""
    if f.low is None or isinstance(f.low, Mapping | list | tuple):
        return ""
    return f"{_g(f.low, lang)} – {_g(f.high, lang)}"


def _g(v: float, lang: str) -> str:
    text = f"{v:.4g}"
    return text.replace(".", ",") if lang == "nb" else text


@dataclass(frozen=True)
class CalibrationReport:
    lang: str
    title: str
    subtitle: list[str]
    check_rows: list[tuple[str, str]]
    fitted_rows: list[
        tuple[str, str, str, str, str, str]
    ]  # name, fitted, interval, default, n, how
    not_fitted_rows: list[tuple[str, str]]
    callers_text: str
    backtest_text: str
    verdict_rows: list[tuple[str, str, str, str, str, str]]  # figure, log, sim, test, p, verdict
    images: dict[str, bytes]  # profile, times, qq, callers, weeks, hours (PNG)
    words: dict[str, str]


@dataclass(frozen=True)
class BacktestRun:
    """A backtest and what it simulated: the period and the replications."""

    result: Backtest
    start: pd.Timestamp
    end: pd.Timestamp
    replications: int


def compose(
    calls: pd.DataFrame,
    checked: CheckedLog,
    calibration: Calibration,
    log_name: str,
    lang: str = "nb",
    until: pd.Timestamp | None = None,
    backtest: BacktestRun | None = None,
) -> CalibrationReport:
    """The report of a calibration (and a backtest): ``calls`` the accepted calls it was
    fitted to (before ``until``)."""
    from planner.calllog.fit import calls_per_person, time_samples

    if lang not in ("nb", "en"):
        raise ValueError(f"lang: 'nb' or 'en', not {lang!r}")
    w = words(lang)
    if until is not None:
        calls = calls[calls["call_time"] < until]

    def n(v: float) -> str:  # a whole number, its groups kept on one line
        return number(v, lang).replace(" ", "\u00a0")

    subtitle = [
        w["subtitle"].format(
            log=log_name,
            calls=n(calibration.calls),
            span=calibration.span,
            accepted=n(checked.accepted),
            read=n(checked.read),
        )
    ]
    if until is not None:
        subtitle.append(w["subtitle_until"].format(until=f"{until:%Y-%m-%d}"))
    check_rows = [(w["read"], n(checked.read)), (w["accepted"], n(checked.accepted))]
    check_rows += [
        (w["rejected"].format(reason=reason), n(count))
        for reason, count in checked.rejected_by().items()
        if count
    ]
    fitted_rows = [
        (
            label(f.path, lang),
            brief(f.value, lang),
            interval_text(f, lang),
            "" if f.default is None else brief(f.default, lang),
            n(f.n),
            f.method + (f"; {f.fit}" if f.fit else ""),
        )
        for f in calibration.fitted
    ]
    not_fitted = [(label(m.path, lang), m.why) for m in calibration.not_fitted]
    by_path = calibration.by_path()
    images = {}
    if "demand.hour_of_week_profile" in by_path:
        images["profile"] = _png(_profile_figure(by_path["demand.hour_of_week_profile"], w))
    samples = {p: x for p, (_, x) in time_samples(calls).items() if p in by_path and len(x) > 0}
    panels = sorted(samples, key=lambda p: -len(samples[p]))[:TIME_PANELS]
    if panels:
        laws = {p: _law(by_path[p].value) for p in panels}
        kinds = _words()["kinds"][lang]
        whose = {"on_scene": w["unit_short"], "police_alone": w["police_short"]}
        titles = {}
        for p in panels:
            _, kind, what = p.split(".")
            titles[p] = f"{kinds[kind]} ({whose[what]}, n {n(len(samples[p]))})"
        drawn = _Panels(samples, laws, titles, panels)
        images["times"] = _png(_times_figure(drawn, w))
        images["qq"] = _png(_qq_figure(drawn, w))
    callers_text = ""
    fit = calibration.callers  # fitted once, by calibrate
    if "callers.frequent_share" in by_path and fit is not None:
        callers_text = w["callers_text"].format(
            again=n(fit.repeaters),
            people=n(fit.people),
            repeat=n(fit.repeat_calls),
            calls=n(fit.calls),
        )
        k, m = fit.shape.mean, fit.calls_per_year.mean * fit.years
        per_person = calls_per_person(calls["person_key"])
        images["callers"] = _png(_callers_figure(per_person, k, m, w))
    backtest_text, verdict_rows = "", []
    if backtest is not None:
        b = backtest.result
        last = backtest.end - pd.Timedelta(days=1)
        backtest_text = w["backtest_text"].format(
            agree=b.agreeing(),
            total=len(b.verdicts),
            reps=backtest.replications,
            start=f"{backtest.start:%Y-%m-%d}",
            end=f"{last:%Y-%m-%d}",
        )
        verdict_rows = [
            (
                v.figure,
                v.observed,
                v.simulated,
                v.statistic,
                "" if v.p_value is None else f"{v.p_value:.3f}",
                w["agrees"] if v.agrees else w["differs"],
            )
            for v in b.verdicts
        ]
        if len(b.weeks):
            images["weeks"] = _png(_weeks_figure(b.weeks, w))
        images["hours"] = _png(_hours_figure(b.hours, w))
    return CalibrationReport(
        lang,
        w["title"],
        subtitle,
        check_rows,
        fitted_rows,
        not_fitted,
        callers_text,
        backtest_text,
        verdict_rows,
        images,
        w,
    )


def _law(value: Any) -> Any:
    from pydantic import TypeAdapter

    from planner.scenario.distributions import Distribution

    return TypeAdapter(Distribution).validate_python(value)


# --- pictures ---------------------------------------------------------------------------------


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    _plt().close(fig)
    return buf.getvalue()


def _days(ax: Any, w: Mapping[str, str]) -> None:
    for d in range(1, 7):
        ax.axvline(24 * d, color="#cccccc", linewidth=0.6, zorder=0)
    ax.set_xticks(np.arange(0, 168, 24) + 12, w["days"].split(","))
    ax.set_xlim(0, 168)


def _profile_figure(f: Fitted, w: Mapping[str, str]) -> Figure:
    from planner.sim.demand import hour_of_week_weights

    fig, ax = _plt().subplots(figsize=(10, 3.4), constrained_layout=True)
    h = np.arange(168)
    ax.fill_between(h, f.low, f.high, step="mid", color="#9bb5de", alpha=0.6, linewidth=0)
    ax.step(h, f.value, where="mid", color="#1f3f8f", label=w["profile_fitted"])
    if f.default is not None:
        default = hour_of_week_weights(f.default)
        name = f.default if isinstance(f.default, str) else "168"
        ax.step(h, default, where="mid", color="#c0392b", linestyle="--",
                label=w["profile_default"].format(name=name))  # fmt: skip
    _days(ax, w)
    ax.set_ylabel(w["profile_axis"])
    ax.set_xlabel(w["hour_axis"])
    ax.legend(loc="upper left", fontsize=8)
    return fig


def _grid(count: int) -> tuple[Any, list[Any]]:
    cols = min(4, count)
    rows = math.ceil(count / cols)
    fig, axes = _plt().subplots(
        rows, cols, figsize=(2.6 * cols, 2.2 * rows), constrained_layout=True, squeeze=False
    )
    flat = list(axes.ravel())
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


@dataclass(frozen=True)
class _Panels:
    """The times on scene drawn: each path's sample, fitted law and title, in ``order``."""

    samples: Mapping[str, np.ndarray]
    laws: Mapping[str, Any]
    titles: Mapping[str, str]
    order: Sequence[str]


def _times_figure(panels: _Panels, w: Mapping[str, str]) -> Figure:
    fig, axes = _grid(len(panels.order))
    for ax, p in zip(axes, panels.order, strict=True):
        x = panels.samples[p]
        top = float(np.quantile(x, 0.99))
        ax.hist(x[x <= top], bins=30, density=True, color="#9bb5de", edgecolor="white")
        law = panels.laws[p].law()
        if law is not None:
            grid = np.linspace(0, top, 200)
            ax.plot(grid, law.pdf(grid), color="#1f3f8f")
        ax.set_title(panels.titles[p], fontsize=7)
        ax.tick_params(labelsize=6)
        ax.set_xlabel(w["minutes_axis"], fontsize=6)
    return fig


def _qq_figure(panels: _Panels, w: Mapping[str, str]) -> Figure:
    fig, axes = _grid(len(panels.order))
    for ax, p in zip(axes, panels.order, strict=True):
        x = np.sort(panels.samples[p])
        q = (np.arange(len(x)) + 0.5) / len(x)
        pick = np.unique(np.linspace(0, len(x) - 1, min(len(x), QQ_POINTS)).round().astype(int))
        model = panels.laws[p].quantile(q[pick])
        ax.scatter(model, x[pick], s=3, color="#1f3f8f")
        top = float(max(model.max(), x[pick].max()))
        ax.plot([0, top], [0, top], color="#c0392b", linewidth=0.8)
        ax.set_title(panels.titles[p], fontsize=7)
        ax.tick_params(labelsize=6)
        ax.set_xlabel(w["qq_axis_x"], fontsize=6)
        ax.set_ylabel(w["qq_axis_y"], fontsize=6)
    return fig


def _callers_figure(per_person: np.ndarray, k: float, m: float, w: Mapping[str, str]) -> Figure:
    from scipy import stats

    fig, ax = _plt().subplots(figsize=(7, 3), constrained_layout=True)
    top = int(min(per_person.max(), 30))
    c = np.arange(1, top + 1)
    counts = np.array([(per_person == v).sum() for v in c])
    ax.bar(c, counts, color="#9bb5de", label=w["callers_log"])
    law = stats.nbinom(k, k / (k + m))
    again = int((per_person >= 2).sum())
    model = again * law.pmf(c[1:]) / law.sf(1)
    ax.plot(c[1:], model, "o-", color="#1f3f8f", markersize=3, label=w["callers_model"])
    ax.set_yscale("log")
    ax.set_xlabel(w["callers_axis_x"])
    ax.set_ylabel(w["callers_axis_y"])
    ax.legend(fontsize=8)
    return fig


def _weeks_figure(weeks: pd.DataFrame, w: Mapping[str, str]) -> Figure:
    fig, ax = _plt().subplots(figsize=(10, 3), constrained_layout=True)
    t = pd.to_datetime(weeks["start"])
    edges = pd.DatetimeIndex([*t, t.iloc[-1] + pd.Timedelta(days=7)])
    low, high = weeks["low"].to_numpy(), weeks["high"].to_numpy()
    ax.fill_between(edges, np.append(low, low[-1]), np.append(high, high[-1]), step="post",
                    color="#9bb5de", alpha=0.6, label=w["week_range"])  # fmt: skip
    middle = t + pd.Timedelta(days=3.5)
    ax.plot(middle, weeks["observed"], "o", color="#1f3f8f", markersize=4, label=w["week_log"])
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylabel(w["weeks_axis"])
    ax.legend(fontsize=8)
    return fig


def _hours_figure(hours: pd.DataFrame, w: Mapping[str, str]) -> Figure:
    fig, ax = _plt().subplots(figsize=(10, 3), constrained_layout=True)
    ax.step(hours["hour"], hours["observed"], where="mid", color="#1f3f8f", label=w["hours_log"])
    ax.step(hours["hour"], hours["simulated"], where="mid", color="#c0392b", linestyle="--",
            label=w["hours_sim"])  # fmt: skip
    _days(ax, w)
    ax.set_ylabel(w["hours_axis"])
    ax.legend(fontsize=8, loc="upper left")
    return fig


# --- laid out ---------------------------------------------------------------------------------

_SECTIONS = (("profile", "profile"), ("times", "times"), ("qq", "qq"))


def to_html(r: CalibrationReport) -> str:
    """One self-contained HTML file: images inline, no scripts, nothing fetched."""
    import base64

    from planner.report.render import generator

    w = r.words

    def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
        th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        return f"<table><tr>{th}</tr>{body}</table>"

    def image(key: str, title: str | None = None) -> str:
        data = base64.b64encode(r.images[key]).decode("ascii")
        alt = html.escape(w[title or key])
        return f'<img alt="{alt}" src="data:image/png;base64,{data}">'

    parts = [
        f"<h1>{html.escape(r.title)}</h1>",
        *[f'<p class="sub">{html.escape(s)}</p>' for s in r.subtitle],
        f"<h2>{html.escape(w['check'])}</h2>",
        table(("", ""), r.check_rows),
        f"<h2>{html.escape(w['fitted'])}</h2>",
        table(
            (w["parameter"], w["value"], w["interval"], w["default"], w["calls"], w["method"]),
            r.fitted_rows,
        ),
    ]
    if w["methods_note"]:
        parts.append(f'<p class="small">{html.escape(w["methods_note"])}</p>')
    if r.not_fitted_rows:
        parts.append(f"<h2>{html.escape(w['not_fitted'])}</h2>")
        parts.append(table((w["parameter"], w["why"]), r.not_fitted_rows))
    for key, title in _SECTIONS:
        if key in r.images:
            parts += [f"<h2>{html.escape(w[title])}</h2>", image(key)]
    if r.callers_text:
        parts += [f"<h2>{html.escape(w['callers'])}</h2>", f"<p>{html.escape(r.callers_text)}</p>"]
        parts += [image("callers")] if "callers" in r.images else []
    if r.verdict_rows:
        parts += [
            f"<h2>{html.escape(w['backtest'])}</h2>",
            f"<p>{html.escape(r.backtest_text)}</p>",
            table(
                (w["figure"], w["observed"], w["simulated"], w["test"], w["p"], w["verdict"]),
                r.verdict_rows,
            ),
        ]
        for key, title in (("weeks", "weeks"), ("hours", "hours_backtest")):
            if key in r.images:
                parts += [f"<h3>{html.escape(w[title])}</h3>", image(key, title)]
    note = w["generator_note"].format(generator=generator())
    parts.append(f'<p class="small">{html.escape(note)}</p>')
    style = (
        'body{font-family:"DejaVu Sans",Arial,sans-serif;max-width:60rem;margin:2rem auto;'
        "padding:0 1rem;color:#1c1c1c;line-height:1.4}h2{font-size:1.2rem;margin-top:2rem;"
        "border-bottom:1px solid #ccd}.sub,.small{color:#555;font-size:.85rem}"
        "table{border-collapse:collapse;width:100%;font-size:.8rem}th{background:#dfe7f2;"
        "text-align:left}th,td{padding:.2rem .4rem;border-bottom:1px solid #ddd;vertical-align:top}"
        "img{max-width:100%;height:auto;display:block;margin:1rem auto}"
    )
    return (
        f'<!doctype html>\n<html lang="{r.lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="generator" content="{html.escape(generator())}">\n'
        f"<title>{html.escape(r.title)}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )


def write_pdf(r: CalibrationReport, path: Path) -> None:
    """The same content on A4 pages."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from planner.report.render import _font, generator

    font = _font()
    w = r.words
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
    small = ParagraphStyle("small", parent=body, fontSize=6.5, leading=8)
    h1 = ParagraphStyle("h1", parent=body, fontName=f"{font}-Bold", fontSize=16, leading=20)
    h2 = ParagraphStyle("h2", parent=body, fontName=f"{font}-Bold", fontSize=11.5, leading=15,
                        spaceBefore=8)  # fmt: skip
    width = A4[0] - 30 * mm

    def para(s: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(html.escape(s), style)

    def table(head: Sequence[str], rows: Sequence[Sequence[str]], shares: Sequence[float]) -> Table:
        data = [[para(c, small) for c in head]] + [[para(c, small) for c in row] for row in rows]
        tab = Table(data, colWidths=[s * width for s in shares], repeatRows=1)
        tab.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe7f2")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
        ]))  # fmt: skip
        return tab

    def image(key: str) -> Image:
        img = Image(io.BytesIO(r.images[key]))
        scale = min(width / img.drawWidth, 200 * mm / img.drawHeight)
        img.drawWidth, img.drawHeight = img.drawWidth * scale, img.drawHeight * scale
        return img

    story: list[Any] = [para(r.title, h1), *[para(s, small) for s in r.subtitle], Spacer(1, 3 * mm)]
    story += [para(w["check"], h2), table(("", ""), r.check_rows, (0.6, 0.4))]
    story += [
        para(w["fitted"], h2),
        table(
            (w["parameter"], w["value"], w["interval"], w["default"], w["calls"], w["method"]),
            r.fitted_rows,
            (0.2, 0.13, 0.12, 0.13, 0.07, 0.35),
        ),
    ]
    if w["methods_note"]:
        story.append(para(w["methods_note"], small))
    if r.not_fitted_rows:
        story.append(para(w["not_fitted"], h2))
        story.append(table((w["parameter"], w["why"]), r.not_fitted_rows, (0.35, 0.65)))
    for key, title in _SECTIONS:
        if key in r.images:
            story += [para(w[title], h2), image(key)]
    if r.callers_text:
        story += [para(w["callers"], h2), para(r.callers_text)]
        story += [image("callers")] if "callers" in r.images else []
    if r.verdict_rows:
        story += [
            para(w["backtest"], h2),
            para(r.backtest_text),
            table(
                (w["figure"], w["observed"], w["simulated"], w["test"], w["p"], w["verdict"]),
                r.verdict_rows,
                (0.3, 0.17, 0.17, 0.18, 0.07, 0.11),
            ),
        ]
        for key, title in (("weeks", "weeks"), ("hours", "hours_backtest")):
            if key in r.images:
                story += [para(w[title], h2), image(key)]
    story.append(para(w["generator_note"].format(generator=generator()), small))
    doc = SimpleDocTemplate(
        str(path), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
        bottomMargin=15 * mm, title=r.title, author="planner", creator=generator(), lang=r.lang,
    )  # fmt: skip
    doc.build(story)


def write(r: CalibrationReport, path: Path) -> None:
    """The report at ``path``: a PDF if it ends in .pdf, else HTML."""
    if path.suffix.lower() == ".pdf":
        write_pdf(r, path)
    else:
        path.write_text(to_html(r), encoding="utf-8")
