"""Charts of results (matplotlib figures; the caller decides where they go)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure


def frontier_figure(table: pd.DataFrame) -> Figure:
    """What each extra unit buys: health-first share and police hours freed against cost."""
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
    left.set_xlabel("cost of the service, NOK million a year")
    left.set_ylabel("eligible calls met by health personnel, %")
    left.set_title("Health-first share (labels: units at the busiest hour)")
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
    right.set_xlabel("units on duty at the busiest hour")
    right.set_ylabel("police officer-hours freed, thousand a year")
    right.set_title("Police hours freed against today (95 % intervals)")
    right.grid(alpha=0.3, axis="y")
    return fig
