"""The model's calendar, written once: a run starts on a Monday at 00:00 and counts minutes; a
week has 168 hours, the first Monday 00:00–01:00; a year is 365 days (no leap days), and the
figures of a year are counted after the warm-up.
"""

from __future__ import annotations

MINUTES_PER_HOUR = 60
HOURS_PER_DAY = 24
HOURS_PER_WEEK = 168
MINUTES_PER_DAY = 1440.0
DAYS_PER_YEAR = 365.0
DAYS_PER_WEEK = 7
HOURS_PER_YEAR = DAYS_PER_YEAR * HOURS_PER_DAY  # 8,760
MINUTES_PER_YEAR = DAYS_PER_YEAR * MINUTES_PER_DAY  # 525,600
WEEKS_PER_YEAR = DAYS_PER_YEAR / DAYS_PER_WEEK


def years_measured(horizon_days: float, warmup_days: float) -> float:
    """How many years of a run count: its horizon less its warm-up, in years of 365 days."""
    return (horizon_days - warmup_days) / DAYS_PER_YEAR
