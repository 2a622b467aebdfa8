"""The call stream: when, where and what kind of crisis calls arrive, with their hidden truths.

The stream is drawn before the engine runs and does not depend on the service design, so two
scenarios with the same demand and seed face the very same calls (common random numbers).
Every attribute has its own random stream, and every call draws every attribute whether or not
a policy uses it: adding a unit must not shift the draws of later calls.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from functools import cache
from importlib import resources

import numpy as np

from planner.calendar import HOURS_PER_WEEK, HOURS_PER_YEAR, MINUTES_PER_DAY
from planner.scenario.model import Callers, Scenario

MINUTES_PER_WEEK = 168 * 60
NIGHT_ENDS = 6
"""Hour of day (06:00) before which an hour belongs to the previous evening's night."""

# One stream per source of randomness, in a fixed order (appending new ones keeps old draws).
STREAMS = (
    "arrivals",
    "place",
    "kind",
    "channel",
    "police_needed",
    "flagged",
    "transport",
    "medical",
    "force_transport",
    "on_scene",
    "police_alone",
    "handover_ambulance",
    "handover_police",
    "handling",
    "pass_on",
    "unit_mobilisation",
    "police_mobilisation",
    "backup_check",
    "police_wait",
    "within_hour",
    "police_car_today",
    "caller",
    "cohort",
    "case_management",
    "police_work",
    "civil",
)


@cache
def _profiles() -> dict[str, dict[str, object]]:
    text = resources.files("planner.data").joinpath("hour_of_week.toml").read_text("utf-8")
    return tomllib.loads(text)


def hour_of_week_weights(profile: str | Sequence[float]) -> np.ndarray:
    """168 weights, Monday 00-01 first, with mean 1 (so the yearly volume is unchanged)."""
    if isinstance(profile, str):
        p = _profiles()[profile]
        weekday = np.asarray(p["weekday"], dtype=float)
        late = np.asarray(p["friday_saturday_night"], dtype=float)
        # a night belongs to the evening before it: the late profile's small hours (00-06) fall
        # on Saturday and Sunday morning, after Friday and Saturday evening
        early = slice(0, NIGHT_ENDS)
        friday, sunday = late.copy(), weekday.copy()
        friday[early], sunday[early] = weekday[early], late[early]
        w = np.concatenate([weekday, weekday, weekday, weekday, friday, late, sunday])
    else:
        w = np.asarray(profile, dtype=float)
    weights: np.ndarray = w / w.mean()
    return weights


def streams(seed: int, replication: int) -> dict[str, np.random.Generator]:
    """Independent generators for every source of randomness of one replication."""
    root = np.random.SeedSequence(entropy=seed, spawn_key=(replication,))
    children = root.spawn(len(STREAMS))
    return {
        name: np.random.Generator(np.random.PCG64(s))
        for name, s in zip(STREAMS, children, strict=True)
    }


@dataclass(frozen=True)
class CallStream:
    """One replication's calls, sorted by arrival time; every array has one entry per call."""

    t: np.ndarray  # arrival, minutes from the start of the run (a Monday 00:00)
    cell: np.ndarray  # index into the region's demand cells
    kind: np.ndarray  # index into kinds
    channel: np.ndarray  # index into channels
    police_needed: np.ndarray  # the truth: police must come (force, entry, violence)
    flagged: np.ndarray  # triage's risk screening says police should come
    transport: np.ndarray  # the patient is taken to a receiving facility
    medical: np.ndarray  # ... by ordinary ambulance (medical need)
    force_transport: np.ndarray  # ... in a police car when police were needed
    police_car_today: np.ndarray  # ... in a police car when police handle the call alone
    on_scene: np.ndarray  # minutes, health crew on scene
    police_alone: np.ndarray  # minutes, police on scene when they handle it alone
    handover_ambulance: np.ndarray
    handover_police: np.ndarray
    handling: np.ndarray
    pass_on: np.ndarray
    unit_mobilisation: np.ndarray
    police_mobilisation: np.ndarray
    backup_check: np.ndarray
    police_wait_u: np.ndarray  # two uniforms per call for the police availability draw
    caller: np.ndarray  # the frequent caller who made the call (index into the cohort), or -1
    civil: np.ndarray  # police who meet the call come in civil clothes and an unmarked car
    kinds: tuple[str, ...]
    channels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.t)

    def only(self, rows: np.ndarray) -> CallStream:
        """The calls where ``rows`` (flags, one per call) holds, in the same order."""
        changes = {
            f.name: getattr(self, f.name)[rows]
            for f in fields(self)
            if f.name not in ("kinds", "channels")
        }
        return replace(self, **changes)


MOST_FREQUENT_CALLERS = 5_000_000
"""The largest cohort of frequent callers drawn: about Norway's people."""


@dataclass(frozen=True)
class Cohort:
    """One replication's frequent callers: each person's rate (calls a year) and home (a
    demand cell)."""

    rate: np.ndarray
    home: np.ndarray

    def __len__(self) -> int:
        return len(self.rate)

    def callers_of(self, u: np.ndarray, share: float) -> np.ndarray:
        """Who made each call, from two uniforms per call (``u``, shape (calls, 2)): a call is
        the cohort's with chance ``share`` (``u[:, 0] < share``), and then a person's with
        chance in proportion to their rate; -1 for a call of someone who calls once.

        Marking each call of a Poisson stream so makes each person's calls a Poisson stream
        of their own, at ``share`` of the stream's rate times their part of the cohort's."""
        caller = np.full(len(u), -1, dtype=np.int64)
        if len(self) == 0:
            return caller
        ours = u[:, 0] < share
        cum = np.cumsum(self.rate)
        if not cum[-1] > 0:  # every rate drawn as 0 (a tiny shape): all alike
            cum = np.arange(1.0, len(self) + 1)
        picked = np.searchsorted(cum, u[ours, 1] * cum[-1], side="right")
        caller[ours] = np.minimum(picked, len(self) - 1)
        return caller


def frequent_callers(
    callers: Callers, calls_per_year: float, cell_rates: np.ndarray, rng: np.random.Generator
) -> Cohort:
    """The cohort of a region that makes ``calls_per_year`` calls: ``frequent_share`` of them
    made by ``round(share x calls / frequent_calls_per_year)`` people (at least one if the
    share is not 0), each with a rate drawn from a gamma law of mean
    ``frequent_calls_per_year`` and shape ``frequent_rate_shape``, living in a cell drawn in
    proportion to the cells' calls; at most ``MOST_FREQUENT_CALLERS`` people (a rate of a tiny
    fraction of a call a year would otherwise ask for more people than there are)."""
    people = callers.frequent_share * calls_per_year / callers.frequent_calls_per_year
    people = min(people, MOST_FREQUENT_CALLERS)
    n = max(1, round(people)) if callers.frequent_share > 0 and calls_per_year > 0 else 0
    rates, homes = rng.spawn(2)
    k = callers.frequent_rate_shape
    rate = rates.gamma(k, callers.frequent_calls_per_year / k, size=n)
    home = homes.choice(cell_rates.size, size=n, p=cell_rates / cell_rates.sum()) if n else None
    return Cohort(rate, np.zeros(0, dtype=np.int64) if home is None else home)


def pass_on_factor(by_hour: Sequence[float], t: np.ndarray) -> np.ndarray:
    """Each call's factor on its pass-on between 112 and 113: the factor of the hour of day it
    arrives in (``call_handling.pass_on_by_hour``) over the factors' mean."""
    factors = np.asarray(by_hour, dtype=float)
    hour = (t // 60).astype(int) % 24
    out: np.ndarray = factors[hour] / factors.mean()
    return out


def cell_weights(
    scenario: Scenario, populations: np.ndarray, zone_of_cell: np.ndarray
) -> np.ndarray:
    """Expected calls per year in each demand cell."""
    d = scenario.demand
    factor = np.array([d.zone_rate_factors.get(str(z), 1.0) for z in zone_of_cell])
    rates: np.ndarray = populations * factor * d.rate_per_1000_per_year / 1000.0 * d.growth_factor
    return rates


def generate_calls(
    scenario: Scenario,
    cell_rates: np.ndarray,
    replication: int,
) -> CallStream:
    """Draw one replication's calls over the run horizon (piecewise-constant hourly rates)."""
    rng = streams(scenario.run.seed, replication)
    hours = int(np.ceil(scenario.run.horizon_days * 24))
    weights = hour_of_week_weights(scenario.demand.hour_of_week_profile)
    per_hour = cell_rates.sum() / HOURS_PER_YEAR * weights[np.arange(hours) % HOURS_PER_WEEK]
    counts = rng["arrivals"].poisson(per_hour)
    start = np.repeat(np.arange(hours, dtype=float) * 60.0, counts)
    t = np.sort(start + rng["within_hour"].random(start.size) * 60.0)
    t = t[t < scenario.run.horizon_days * MINUTES_PER_DAY]
    n = t.size

    kinds = tuple(scenario.situations)
    sits = [scenario.situations[k] for k in kinds]
    shares = np.array([s.share for s in sits])
    kind = rng["kind"].choice(len(kinds), size=n, p=shares / shares.sum())
    cell = rng["place"].choice(cell_rates.size, size=n, p=cell_rates / cell_rates.sum())
    ch = scenario.call_handling.channel_shares
    channels = tuple(ch)
    channel = rng["channel"].choice(len(channels), size=n, p=np.array([ch[c] for c in channels]))

    def per_kind(attr: str) -> np.ndarray:
        return np.array([getattr(s, attr) for s in sits])[kind]

    police_needed = rng["police_needed"].random(n) < per_kind("p_police_needed")
    tri = scenario.triage
    u_flag = rng["flagged"].random(n)
    flagged = np.where(
        police_needed, u_flag < tri.screening_sensitivity, u_flag < tri.screening_false_positive
    )
    transport = rng["transport"].random(n) < per_kind("p_transport")
    medical = transport & (rng["medical"].random(n) < scenario.dispatch.ordinary_ambulance_share)
    force_transport = (
        transport
        & police_needed
        & (rng["force_transport"].random(n) < scenario.dispatch.police_transport_when_force)
    )

    police_car_today = transport & (
        rng["police_car_today"].random(n) < scenario.dispatch.police_car_share_today
    )

    def by_kind(stream: str, attr: str) -> np.ndarray:
        # one child stream per kind, so a kind whose law draws more or fewer variates (fixed:
        # none; gamma: by rejection) leaves every other kind's values as they were
        out = np.empty(n)
        for i, (s, g) in enumerate(zip(sits, rng[stream].spawn(len(sits)), strict=True)):
            idx = np.flatnonzero(kind == i)
            out[idx] = getattr(s, attr).sample(g, idx.size)
        return out

    cohort = frequent_callers(scenario.callers, float(cell_rates.sum()), cell_rates, rng["cohort"])
    caller = cohort.callers_of(rng["caller"].random((n, 2)), scenario.callers.frequent_share)
    frequent = caller >= 0
    cell[frequent] = cohort.home[caller[frequent]]  # a frequent caller calls from home
    # the same uniforms in every scenario, so a cut keeps the very calls a smaller cut keeps
    kept = ~(frequent & (rng["case_management"].random(n) < scenario.callers.case_management_cut))

    f, d, c = scenario.facilities, scenario.dispatch, scenario.call_handling
    stream = CallStream(
        t=t,
        cell=cell,
        kind=kind,
        channel=channel,
        police_needed=police_needed,
        flagged=flagged,
        transport=transport,
        medical=medical,
        force_transport=force_transport,
        police_car_today=police_car_today,
        on_scene=by_kind("on_scene", "on_scene"),
        police_alone=by_kind("police_alone", "police_alone"),
        handover_ambulance=f.handover_ambulance.sample(rng["handover_ambulance"], n),
        handover_police=f.handover_police.sample(rng["handover_police"], n),
        handling=c.handling.sample(rng["handling"], n),
        pass_on=c.pass_on.sample(rng["pass_on"], n) * pass_on_factor(c.pass_on_by_hour, t),
        unit_mobilisation=scenario.fleet.mobilisation.sample(rng["unit_mobilisation"], n),
        police_mobilisation=scenario.police.mobilisation.sample(rng["police_mobilisation"], n),
        backup_check=d.backup_check.sample(rng["backup_check"], n),
        police_wait_u=rng["police_wait"].random((n, 2)),
        caller=caller,
        civil=rng["civil"].random(n) < scenario.police.civil_share,
        kinds=kinds,
        channels=channels,
    )
    return stream if kept.all() else stream.only(kept)
