"""Bad scenario files: each gives one line per problem naming the field, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# (what is wrong, TOML text, a fragment the error line must contain)
BAD = [
    (
        "unknown top-level section",
        "[demnad]\nrate_per_1000_per_year = 3\n",
        "demnad: unknown field",
    ),
    (
        "misspelt field",
        "[demand]\nrate_per_1000_per_yr = 3\n",
        "demand.rate_per_1000_per_yr: unknown field",
    ),
    (
        "negative rate",
        "[demand]\nrate_per_1000_per_year = -1\n",
        "demand.rate_per_1000_per_year: Input should be greater than 0",
    ),
    (
        "rate as text",
        '[demand]\nrate_per_1000_per_year = "many"\n',
        "demand.rate_per_1000_per_year: Input should be a valid number",
    ),
    (
        "huge rate",
        "[demand]\nrate_per_1000_per_year = 1e300\n",
        "demand.rate_per_1000_per_year: Input should be less than or equal to 1000",
    ),
    ("nan rate", "[demand]\nrate_per_1000_per_year = nan\n", "demand.rate_per_1000_per_year"),
    (
        "year far in future",
        "[demand]\nyear = 3000\n",
        "demand.year: Input should be less than or equal to 2100",
    ),
    (
        "profile of wrong length",
        "[demand]\nhour_of_week_profile = [1.0, 2.0]\n",
        "demand.hour_of_week_profile: needs 168 hourly weights",
    ),
    (
        "unknown profile name",
        '[demand]\nhour_of_week_profile = "mornings"\n',
        "demand.hour_of_week_profile",
    ),
    (
        "shares not summing to one",
        "[situations.suicidal]\nshare = 0.9\n",
        "situations: situation shares must sum to 1",
    ),
    (
        "probability above one",
        "[situations.violence]\np_police_needed = 1.5\n",
        "situations.violence.p_police_needed: Input should be less than or equal to 1",
    ),
    (
        "unknown distribution",
        '[situations.suicidal]\non_scene = { dist = "weibull", mean = 3 }\n',
        "situations.suicidal.on_scene",
    ),
    (
        "distribution missing sd",
        '[situations.suicidal]\non_scene = { dist = "lognormal", mean = 30 }\n',
        "situations.suicidal.on_scene.sd: required field is missing",
    ),
    (
        "negative mean",
        '[situations.suicidal]\non_scene = { dist = "exponential", mean = -4 }\n',
        "situations.suicidal.on_scene.mean: Input should be greater than 0",
    ),
    ("bad urgency", '[situations.suicidal]\nurgency = "whenever"\n', "situations.suicidal.urgency"),
    (
        "new kind incomplete",
        "[situations.new_kind]\nshare = 0.0\n",
        "situations.new_kind.label: required field is missing",
    ),
    (
        "shift starting at 25",
        '[fleet.shifts.odd]\nstart_hour = 25\nhours = 8\ndays = ["mon"]\n',
        "fleet.shifts.odd.start_hour: Input should be less than or equal to 23",
    ),
    (
        "shift of 30 hours",
        '[fleet.shifts.odd]\nstart_hour = 2\nhours = 30\ndays = ["mon"]\n',
        "fleet.shifts.odd.hours: Input should be less than or equal to 24",
    ),
    (
        "unknown weekday",
        '[fleet.shifts.odd]\nstart_hour = 2\nhours = 8\ndays = ["funday"]\n',
        "fleet.shifts.odd.days[0]",
    ),
    (
        "unit with unknown shift",
        '[[fleet.units]]\nname = "A"\nbase = "oslo_legevakt"\nshift = "brunch"\n',
        "units[0].shift 'brunch' is not a defined shift",
    ),
    (
        "unit with unknown base",
        '[dispatch]\npolicy = "health-first"\n[[fleet.units]]\nname = "A"\nbase = "tromso"\nshift = "day"\n',
        "fleet.units[0].base 'tromso' is not a candidate base",
    ),
    (
        "duplicate unit names",
        '[[fleet.units]]\nname = "A"\nbase = "oslo_legevakt"\nshift = "day"\n[[fleet.units]]\nname = "A"\nbase = "oslo_legevakt"\nshift = "day"\n',
        "unit names must be unique",
    ),
    ("unknown policy", '[dispatch]\npolicy = "police-first"\n', "dispatch.policy"),
    (
        "unknown region",
        '[region]\nname = "tromso"\n',
        "region.name 'tromso' has no built geodata; choose one of bergen, oslo_akershus",
    ),
    ("unknown region kind", '[region]\nkind = "planet"\n', "region.kind"),
    (
        "unknown police district",
        "[police.patrols]\nnordland = 4\n",
        "police.patrols has 'nordland'",
    ),
    (
        "negative patrols",
        "[police.patrols]\noslo = -3\n",
        "police.patrols.oslo: Input should be greater than or equal to 1",
    ),
    (
        "catchment to unknown zone",
        '[facilities.catchment_overrides]\n"9999" = "ahus"\n',
        "unknown zone '9999'",
    ),
    (
        "channel shares off",
        "[call_handling.channel_shares]\npolice_112 = 0.9\n",
        "call_handling.channel_shares: shares must sum to 1",
    ),
    (
        "warm-up longer than run",
        "[run]\nwarmup_days = 200\nhorizon_days = 100\n",
        "run.warmup_days must be shorter than run.horizon_days",
    ),
    (
        "zero replications",
        "[run]\nreplications = 0\n",
        "run.replications: Input should be greater than or equal to 1",
    ),
    ("float seed", "[run]\nseed = 1.5\n", "run.seed"),
    ("discount rate 50 %", "[appraisal]\ndiscount_rate = 0.5\n", "appraisal.discount_rate"),
    ("section given as number", "demand = 3\n", "demand"),
    ("not TOML", "[demand\nrate = \n", "not valid TOML"),
]


@pytest.mark.parametrize(("what", "text", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_bad_scenario_is_one_clear_line(
    cli, tmp_path: Path, what: str, text: str, fragment: str
) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text, "utf-8")
    r = cli("validate", f)
    assert r.code == 2, (what, r.out, r.err)
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert lines, what
    assert all(ln.startswith(str(f)) for ln in lines), lines
    assert "Traceback" not in r.err
    assert any(fragment in ln for ln in lines), (fragment, lines)


def test_at_least_twenty_kinds_of_bad_input() -> None:
    assert len(BAD) >= 20


def test_non_utf8_file(cli, tmp_path: Path) -> None:
    f = tmp_path / "latin1.toml"
    f.write_bytes('[scenario]\nname = "Bærum"\n'.encode("latin-1"))
    r = cli("validate", f)
    assert r.code == 2
    assert "not UTF-8 text (byte 0xe6" in r.err


def test_missing_file_and_folder(cli, tmp_path: Path) -> None:
    r = cli("validate", tmp_path / "nope.toml", tmp_path)
    assert r.code == 2
    assert f"{tmp_path / 'nope.toml'}: no such file" in r.err
    assert "is a folder" in r.err


def test_several_problems_each_on_a_line(cli, tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(
        "[demand]\nrate_per_1000_per_year = -2\nyear = 1800\n[run]\nreplications = 0\n", "utf-8"
    )
    r = cli("validate", f)
    assert r.code == 2
    assert len(r.err.strip().splitlines()) == 3, r.err


@pytest.mark.parametrize("name", ["baseline", "oslo_akershus", "mmc_check"])
def test_shipped_scenarios_are_valid(cli, name: str) -> None:
    r = cli("validate", ROOT / "simulations" / f"{name}.toml")
    assert r.code == 0, r.err
    assert "✓" in r.out


def test_schema_lists_units_and_sources(cli) -> None:
    import json

    r = cli("schema")
    schema = json.loads(r.out)
    demand = schema["$defs"]["Demand"]["properties"]["growth_per_year"]
    assert demand["unit"] == "share / year"
    assert "37,000" in demand["source"]
