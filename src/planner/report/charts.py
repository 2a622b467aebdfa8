"""Charts of results (matplotlib figures; the caller decides where they go)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

_FRONTIER_EN = {
    "cost_axis": "cost of the service, NOK million a year",
    "share_axis": "eligible calls met by health personnel, %",
    "share_title": "Health-first share (labels: units at the busiest hour)",
    "units_axis": "units on duty at the busiest hour",
    "hours_axis": "police officer-hours freed, thousand a year",
    "hours_title": "Police hours freed against today (95 % intervals)",
}


def frontier_figure(table: pd.DataFrame, labels: dict[str, str] | None = None) -> Figure:
    """What each extra unit buys: health-first share and police hours freed against cost."""
    words = _FRONTIER_EN | (labels or {})
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    cost = table["cost_per_year"] / 1e6
    left.errorbar(
        cost,
        table["share_health_first"] * 100,
        yerr=[
            (table["share_health_first"] - table["share_health_first_low"]) * 100,
            (table["share_health_first_high"] - table["share_health_first"]) * 100,
        ],
        marker="o",
        capsize=3,
    )
    for c, s, n in zip(cost, table["share_health_first"] * 100, table["units"], strict=True):
        left.annotate(f"{n}", (c, s), textcoords="offset points", xytext=(4, -10), fontsize=8)
    left.set_xlabel(words["cost_axis"])
    left.set_ylabel(words["share_axis"])
    left.set_title(words["share_title"])
    left.grid(alpha=0.3)
    right.bar(table["units"], table["police_hours_freed"] / 1000, color="#4a7ab5")
    right.errorbar(
        table["units"],
        table["police_hours_freed"] / 1000,
        yerr=[
            (table["police_hours_freed"] - table["police_hours_freed_low"]) / 1000,
            (table["police_hours_freed_high"] - table["police_hours_freed"]) / 1000,
        ],
        fmt="none",
        ecolor="black",
        capsize=3,
    )
    right.set_xlabel(words["units_axis"])
    right.set_ylabel(words["hours_axis"])
    right.set_title(words["hours_title"])
    right.grid(alpha=0.3, axis="y")
    return fig
