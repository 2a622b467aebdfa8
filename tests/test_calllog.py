"""The call-log check, row by row: a small log written by hand, each row with the problem (or
none) it was written to have, and the values an accepted row must keep; the refusals of a whole
file (national identity numbers, names as person keys); the clocks' skipped and repeated hours;
mappings; and the round trip from a log the model made, dirt included."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.calllog.check import (
    FNR_SHARE,
    LogRefused,
    RegionIndex,
    check_log,
    fnr_share,
)
from planner.calllog.mapping import Mapping, MappingError
from planner.calllog.reading import read_log, read_mapping
from planner.calllog.schema import FIELDS, KINDS, PROBLEMS, Problem
from planner.calllog.synth import BERGEN, Dirt, ScenarioFacts, synth_log

ROOT = Path(__file__).resolve().parent.parent


@cache
def index() -> RegionIndex:
    from planner.geo.geodata import load_region

    return RegionIndex.of(load_region("oslo_akershus"))


def frame(text: str) -> pd.DataFrame:
    """A CSV written in the test, read as the check reads a file."""
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])


# one row per problem, and clean rows around them; the comment says what each row is
HAND = """\
call_id,call_time,zone_code,lat,lon,grunnkrets,kind,channel,t_dispatch,t_on_scene,police_involved,police_officers
A1,2024-05-06 10:00,030101,,,,suicidal,amk_113,2024-05-06 10:05,2024-05-06 10:20,false,0
A2,2024-05-06 11:00,,59.91,10.75,,psychosis,police_112,,,true,2
A1,2024-05-06 12:00,030102,,,,suicidal,amk_113,,,,
A4,,030101,,,,suicidal,amk_113,,,,
A5,06.05.2024 10:00,030101,,,,suicidal,amk_113,,,,
A6,2024-05-06 10:00,030101,,,,suicidal,amk_113,2024-05-06 10:30,2024-05-06 10:20,,
A7,2024-05-06 10:00,030101,,,,suicidal,amk_113,,,,2.5
A8,2024-05-06 10:00,,,,,suicidal,amk_113,,,,
A9,2024-05-06 10:00,30101,,,,suicidal,amk_113,,,,
A10,2024-05-06 10:00,,60.3913,5.3221,,suicidal,amk_113,,,,
A11,2024-05-06 10:00,030101,,,,stabbing,amk_113,,,,
A12,2024-05-06 10:00,,,,32030101,welfare_check,health_service,,,ja,
A13,2024-05-06 10:00,,,,03010101,welfare_check,health_service,,,,
A14,2024-05-06 10:00,,59.91,,,suicidal,amk_113,,,,
A15,2024-05-06 10:00+02:00,3205,,,,violence,police_112,,,maybe,
"""
EXPECTED = {  # row -> its problem ('' accepted)
    1: "",
    2: "",
    3: "duplicate",
    4: "missing_call_time",
    5: "bad_time",
    6: "times_out_of_order",
    7: "bad_number",
    8: "no_location",
    9: "unknown_zone",
    10: "outside_region",
    11: "unknown_code",
    12: "",
    13: "unknown_zone",
    14: "no_location",
    15: "unknown_code",
}


def test_every_row_of_a_hand_made_log_is_accepted_or_rejected_for_its_own_reason() -> None:
    checked = check_log(frame(HAND), Mapping.identity(), index())
    assert checked.read == 15
    assert checked.accepted + len(checked.rejects) == 15  # nothing dropped
    got = dict.fromkeys(checked.calls["row"].tolist(), "")
    got |= dict(zip(checked.rejects["row"].tolist(), checked.rejects["reason"], strict=True))
    assert got == EXPECTED
    by = checked.rejected_by()
    assert list(by) == list(PROBLEMS)  # every reason listed, in order
    assert by[Problem.UNKNOWN_ZONE] == 2 and by[Problem.NO_LOCATION] == 2
    assert by[Problem.BAD_TIME] == 1 and by[Problem.AMBIGUOUS_TIME] == 0


def test_the_details_say_what_is_wrong_and_keep_the_row_as_the_file_had_it() -> None:
    rejects = check_log(frame(HAND), Mapping.identity(), index()).rejects.set_index("row")
    detail = rejects["detail"]
    assert detail[3] == "the same call_id as row 1"
    assert detail[5] == "call_time '06.05.2024 10:00' is not a time (ISO 8601)"
    assert detail[6] == "t_on_scene 2024-05-06 10:20 is before t_dispatch 2024-05-06 10:30"
    assert detail[9] == "zone_code '30101' is not a zone of the region (a leading zero lost? 030101 is one)"  # fmt: skip
    assert detail[10] == "the point 60.39130, 5.32210 is in none of the region's zones"
    assert detail[13].startswith("grunnkrets '03010101' is in kommune 0301, which is several zones")
    assert detail[14] == "a latitude or a longitude, not both"
    assert "kind 'stabbing' is not one of the schema's codes" in detail[11]
    assert detail[15].startswith("police_involved 'maybe' is not true or false")
    assert rejects.loc[9, "zone_code"] == "30101"  # the file's text, not ours
    assert rejects.loc[4, "reasons"] == "missing_call_time"


def test_an_accepted_row_keeps_its_values_placed_by_its_zone_grunnkrets_or_point() -> None:
    calls = check_log(frame(HAND), Mapping.identity(), index()).calls.set_index("row")
    assert calls.loc[1, "zone_code"] == "030101" and calls.loc[1, "zone_from"] == "zone_code"
    # 59.91 N 10.75 E is Oslo sentrum's neighbourhood: St. Hanshaugen or Sentrum, by the map
    assert calls.loc[2, "zone_from"] == "point"
    assert calls.loc[2, "zone_code"] in {"030104", "030116", "030101"}
    assert calls.loc[12, "zone_code"] == "3203" and calls.loc[12, "zone_from"] == "grunnkrets"
    t = calls.loc[1, "call_time"]
    assert t == pd.Timestamp("2024-05-06 10:00", tz="Europe/Oslo")
    assert t.utcoffset() == pd.Timedelta(hours=2)  # summer time
    assert calls.loc[1, "t_on_scene"] - calls.loc[1, "t_dispatch"] == pd.Timedelta(minutes=15)
    assert calls.loc[2, "police_involved"] is np.True_ or calls.loc[2, "police_involved"] is True
    assert calls.loc[12, "police_involved"]  # 'ja'
    assert int(calls.loc[2, "police_officers"]) == 2
    assert list(calls.reset_index().columns) == ["row", *[f.name for f in FIELDS], "zone_from"]


def test_clock_changes_a_skipped_hour_is_no_time_and_a_repeated_one_is_asked_for() -> None:
    rows = (
        "call_time,zone_code\n"
        "2024-03-31 02:30,030101\n"  # the clocks go 02:00 -> 03:00: no such time
        "2024-10-27 02:30,030101\n"  # the clocks go 03:00 -> 02:00: twice
        "2024-10-27 02:30+01:00,030101\n"  # with its offset: the second, winter time
        "2024-10-27 03:30,030101\n"
    )
    checked = check_log(frame(rows), Mapping.identity(), index())
    assert dict(zip(checked.rejects["row"], checked.rejects["reason"], strict=True)) == {
        1: "bad_time",
        2: "ambiguous_time",
    }
    assert "clocks skip" in checked.rejects["detail"].iloc[0]
    first = check_log(frame(rows), Mapping(ambiguous="first"), index()).calls.set_index("row")
    second = check_log(frame(rows), Mapping(ambiguous="second"), index()).calls.set_index("row")
    assert first.loc[2, "call_time"].utcoffset() == pd.Timedelta(hours=2)
    assert second.loc[2, "call_time"].utcoffset() == pd.Timedelta(hours=1)
    assert second.loc[2, "call_time"] == first.loc[3, "call_time"]
    assert first.loc[4, "call_time"] - first.loc[2, "call_time"] == pd.Timedelta(hours=2)


def valid_fnr(rng: np.random.Generator, n: int) -> list[str]:
    """Numbers with right check digits, worked out digit by digit (the published rule:
    weights 3 7 6 1 8 9 4 5 2, then 5 4 3 2 7 6 5 4 3 2, modulo 11)."""
    out = []
    while len(out) < n:
        day, month, year = rng.integers(1, 29), rng.integers(1, 13), rng.integers(0, 100)
        digits = [int(c) for c in f"{day:02d}{month:02d}{year:02d}{rng.integers(0, 1000):03d}"]
        k1 = 11 - sum(w * d for w, d in zip([3, 7, 6, 1, 8, 9, 4, 5, 2], digits, strict=True)) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        digits.append(k1)
        k2 = (
            11
            - sum(w * d for w, d in zip([5, 4, 3, 2, 7, 6, 5, 4, 3, 2], digits, strict=True)) % 11
        )
        k2 = 0 if k2 == 11 else k2
        if k2 == 10:
            continue
        out.append("".join(map(str, digits)) + str(k2))
    return out


def test_a_column_of_national_identity_numbers_refuses_the_whole_file() -> None:
    rng = np.random.default_rng(7)
    numbers = valid_fnr(rng, 40)
    assert fnr_share(np.array(numbers)) == 1.0
    # every number with a wrong last digit: none pass
    wrong = [n[:10] + str((int(n[10]) + 1) % 10) for n in numbers]
    assert fnr_share(np.array(wrong)) == 0.0
    log = pd.DataFrame(
        {"call_time": ["2024-05-06 10:00"] * 40, "zone_code": ["030101"] * 40, "pasient": numbers}
    )
    with pytest.raises(LogRefused, match="column 'pasient' looks like national identity"):
        check_log(log, Mapping.identity(), index())
    # written with a space (as '010190 12345'), still refused
    log["pasient"] = [n[:6] + " " + n[6:] for n in numbers]
    with pytest.raises(LogRefused):
        check_log(log, Mapping.identity(), index())
    # random 11-digit numbers (account numbers, say) pass the check digits about 1 in 120
    log["pasient"] = [f"{x:011d}" for x in rng.integers(10**10, 10**11 - 1, 40)]
    assert fnr_share(log["pasient"].to_numpy()) < FNR_SHARE
    assert check_log(log, Mapping.identity(), index()).accepted == 40


def test_a_person_key_that_is_a_name_refuses_the_file_and_a_hash_does_not() -> None:
    log = pd.DataFrame(
        {
            "call_time": ["2024-05-06 10:00", "2024-05-06 11:00"],
            "zone_code": ["030101", "030101"],
            "person_key": ["9f2c1e7a55b04d0e", "Kari Nordmann"],
        }
    )
    with pytest.raises(LogRefused, match=r"person_key\) holds words with spaces.*row 2"):
        check_log(log, Mapping.identity(), index())
    log.loc[1, "person_key"] = "a3b4c5d6e7f80912"
    assert check_log(log, Mapping.identity(), index()).accepted == 2


def test_a_mapping_reads_a_source_s_columns_codes_times_and_decimal_commas() -> None:
    mapping = Mapping.from_dict(
        {
            "source": {"name": "test", "delimiter": ";", "decimal": ","},
            "columns": {"call_time": "Mottatt", "zone_code": "Bydel", "kind": "Type",
                        "police_minutes": "Politiminutter", "police_involved": "Politi"},
            "times": {"format": "%d.%m.%Y %H:%M"},
            "codes": {"kind": {"SUI": "suicidal"}, "police_involved": {"X": "true"}},
        }
    )  # fmt: skip
    log = frame("Mottatt,Bydel,Type,Politiminutter,Politi\n06.05.2024 10:00,030101,SUI,\"12,5\",X\n")  # fmt: skip
    calls = check_log(log, mapping, index()).calls
    assert calls.loc[0, "kind"] == "suicidal" and calls.loc[0, "police_minutes"] == 12.5
    assert calls.loc[0, "police_involved"]
    assert calls.loc[0, "call_time"] == pd.Timestamp("2024-05-06 10:00", tz="Europe/Oslo")
    with pytest.raises(LogRefused, match=r"no column 'Mottatt' \(call_time\)"):
        check_log(frame("call_time,zone_code\n2024-05-06 10:00,030101\n"), mapping, index())


def test_a_mapping_s_problems_are_each_named_by_their_key() -> None:
    with pytest.raises(MappingError) as caught:
        Mapping.from_dict(
            {
                "source": {"delimiter": ";", "decimal": ";", "schema_version": 2},
                "columns": {"call_time": "A", "zone_code": "A", "colour": "B"},
                "times": {"ambiguous": "maybe"},
                "codes": {"kind": {"SUI": "suicide"}, "lat": {"x": "y"}},
                "extra": {},
            },
            where="m.toml",
        )
    assert caught.value.lines == [
        "m.toml: extra: unknown table (expected one of codes, columns, places, source, times)",
        "m.toml: source.schema_version: must be 1, got 2",
        "m.toml: source.decimal: must be '.' or ',', got ';'",
        "m.toml: source.decimal: is the same character as source.delimiter",
        f"m.toml: columns.colour: not a field of the schema ({', '.join(f.name for f in FIELDS)})",
        "m.toml: columns.zone_code: column 'A' is already columns.call_time",
        "m.toml: times.ambiguous: must be 'reject', 'first' or 'second', got 'maybe'",
        "m.toml: codes.kind.SUI: must be one of suicidal, psychosis, intoxication, "
        "welfare_check, compulsory_assistance, violence, planned_transport, got 'suicide'",
        "m.toml: codes.lat: not a field with codes (zone_code, grunnkrets, channel, kind, "
        "urgency, responder, transport_mode, destination, police_involved)",
    ]


@pytest.mark.parametrize("name", ["amk_oslo.toml", "police_operations.toml"])
def test_the_example_mappings_are_valid(name: str) -> None:
    mapping = read_mapping(ROOT / "examples" / "mappings" / name)
    assert mapping.columns["call_time"]
    assert set(mapping.columns) <= {f.name for f in FIELDS}


# --- the round trip from a log the model made -----------------------------------------------
@cache
def simulated_log() -> tuple[pd.DataFrame, object]:
    from planner import load_scenario, simulate
    from planner.scenario.loading import replaced

    s = load_scenario(ROOT / "simulations" / "oslo_akershus.toml")
    s = replaced(s, {"run.horizon_days": 91.0, "run.warmup_days": 0.0, "run.replications": 1})
    return simulate(s).log, s


def synth(dirt: Dirt, mapping: Mapping | None = None) -> tuple[pd.DataFrame, pd.Series, pd.Series]:  # fmt: skip
    log, s = simulated_log()
    made = synth_log(
        log,
        ScenarioFacts.of(s),
        pd.Timestamp("2024-01-01"),
        np.random.default_rng(3),
        dirt,
        mapping,
    )
    return made.text, made.dirt, made.expected


def test_a_clean_synthetic_log_is_accepted_whole_with_the_model_s_values() -> None:
    log, _ = simulated_log()
    text, dirt, expected = synth(Dirt())
    assert (dirt == "").all() and (expected == "").all()
    checked = check_log(text, Mapping.identity(), index())
    assert checked.accepted == len(log) and len(checked.rejects) == 0
    calls = checked.calls
    # the model's own values, counted on its event log
    assert calls["kind"].value_counts().to_dict() == log["kind"].value_counts().to_dict()
    assert (calls["zone_code"].to_numpy() == log["zone"].to_numpy()).all()
    clock = calls["call_time"].dt.tz_localize(None)  # the model's minutes are the clock's
    minutes = (clock - pd.Timestamp("2024-01-01")).dt.total_seconds() / 60
    # a call the model puts in the hour the clocks skip (31 March, 02:00-03:00) is at 03:00
    skipped = (log["t_arrival"] >= (90 * 24 + 2) * 60) & (log["t_arrival"] < (90 * 24 + 3) * 60)
    assert (calls.loc[skipped.to_numpy(), "call_time"].dt.strftime("%H:%M") == "03:00").all()
    off = np.abs(minutes.to_numpy() - log["t_arrival"].to_numpy())
    assert off[~skipped.to_numpy()].max() <= 0.5 / 60 + 1e-9  # to the second
    assert calls["police_involved"].sum() == log["police_involved"].sum()
    assert (calls["responder"] == "psych_unit").sum() == (log["unit"] >= 0).sum()


def test_every_piece_of_dirt_is_found_for_its_reason_and_nothing_else_is_rejected() -> None:
    text, dirt, expected = synth(Dirt.evenly(0.12))
    checked = check_log(text, Mapping.identity(), index())
    found = pd.Series("", index=range(len(text)), dtype=object)
    found[checked.rejects["row"].to_numpy() - 1] = checked.rejects["reason"].to_numpy()
    assert (found == expected).all()
    n = dirt.value_counts()
    each = round(0.02 * len(simulated_log()[0]))  # 12 % of the calls, in six kinds
    assert each > 50 and n.drop("").to_dict() == dict.fromkeys(Dirt.__dataclass_fields__, each)
    assert checked.accepted == int((expected == "").sum())
    # rows left without their times on scene are accepted, the times missing
    missing = checked.calls["row"].isin(np.flatnonzero(dirt == "missing_times") + 1)
    assert checked.calls.loc[missing, "t_on_scene"].isna().all()
    assert checked.calls.loc[~missing, "t_on_scene"].notna().all()
    outside = checked.rejects[checked.rejects["reason"] == "outside_region"]
    assert (outside["lat"].astype(float) == BERGEN[0]).all()


def test_a_source_s_own_columns_and_codes_read_back_to_the_same_calls(tmp_path: Path) -> None:
    mapping = read_mapping(ROOT / "examples" / "mappings" / "amk_oslo.toml")
    text, _dirt, _ = synth(Dirt(), mapping)
    assert "call_time" not in text.columns  # the source's names
    path = tmp_path / "amk.csv"
    text.to_csv(path, index=False, sep=mapping.delimiter, encoding=mapping.encoding)
    via = check_log(read_log(path, mapping), mapping, index())
    plain = check_log(synth(Dirt())[0], Mapping.identity(), index())
    # the source writes local times without an offset: the calls in the hour the clocks pass
    # twice (27 October, 02:00-03:00) are asked for, every other call read as in the schema
    local = plain.calls["call_time"].dt.tz_localize(None)
    twice = (local >= pd.Timestamp("2024-10-27 02:00")) & (local < pd.Timestamp("2024-10-27 03:00"))  # fmt: skip
    times = ["t_dispatch", "t_police_alerted", "t_on_scene", "t_scene_end", "t_handover_end"]
    for c in times:
        t = plain.calls[c].dt.tz_localize(None)
        twice |= (t >= pd.Timestamp("2024-10-27 02:00")) & (t < pd.Timestamp("2024-10-27 03:00"))
    assert set(via.rejects["reason"]) <= {"ambiguous_time"}
    assert len(via.rejects) == int(twice.sum())
    kept = plain.calls[~twice.to_numpy()].reset_index(drop=True)
    for f in FIELDS:
        a, b = via.calls[f.name], kept[f.name]
        if f.name in ("call_time", *times):
            # the source writes whole minutes
            assert (a.isna() == b.isna()).all()
            assert ((b - a).dropna().abs() < pd.Timedelta(minutes=1)).all(), f.name
        else:
            pd.testing.assert_series_equal(a, b, check_names=False, check_dtype=False, obj=f.name)


def test_the_documented_format_is_the_schema() -> None:
    """docs/call-log.md lists every field with its type, unit, meaning and codes, and every
    reason a row is rejected for, in the schema's order."""
    doc = (ROOT / "docs" / "call-log.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| `") and line.count("|") == 5]
    written = []
    for f in FIELDS:
        codes = ", ".join(f"`{c}`" for c in f.codes)
        meaning = f.meaning + (f"; {codes}" if codes else "")
        written.append(f"| `{f.name}` | {f.type} | {f.unit} | {meaning} |")
    assert rows == written
    reasons = [line.split("`")[1] for line in doc.splitlines() if line.startswith("| `") and line.count("|") == 3]  # fmt: skip
    assert reasons == [str(p) for p in PROBLEMS]


def test_the_schema_s_kinds_are_the_model_s() -> None:
    from planner.scenario.parameters import default_values

    assert tuple(default_values()["situations"]) == KINDS


def test_a_grunnkrets_table_places_an_oslo_grunnkrets_in_its_bydel(tmp_path: Path) -> None:
    """With the mapping's table of grunnkretser (as SSB publishes them, here made up), an Oslo
    grunnkrets is placed in its bydel; one the table puts in no zone of the region is rejected
    naming the table; one not in the table is placed by its kommune as before."""
    (tmp_path / "gk.csv").write_text(
        "grunnkrets,zone_code\n03010101,030101\n03010102,030101\n03019999,039999\n", "utf-8"
    )
    (tmp_path / "m.toml").write_text('[places]\ngrunnkrets_table = "gk.csv"\n', "utf-8")
    mapping = read_mapping(tmp_path / "m.toml")
    assert dict(mapping.grunnkrets_zones) == {
        "03010101": "030101", "03010102": "030101", "03019999": "039999"
    }  # fmt: skip
    checked = check_log(
        frame(
            "call_time,grunnkrets,zone_code\n"
            "2024-05-06 10:00,03010102,\n"  # Gamle Oslo by the table
            "2024-05-06 10:05,03019999,\n"  # the table's zone is not the region's
            "2024-05-06 10:10,32030101,\n"  # not in the table: Asker's kommune, one zone
            "2024-05-06 10:15,03010101,030105\n"  # a zone_code given comes first
        ),
        mapping,
        index(),
    )
    assert checked.calls["zone_code"].tolist() == ["030101", "3203", "030105"]
    assert checked.calls["zone_from"].tolist() == ["grunnkrets", "grunnkrets", "zone_code"]
    (detail,) = checked.rejects["detail"]
    assert detail == (
        "grunnkrets 03019999 is in zone 039999 by the mapping's grunnkrets table, which is not a "
        "zone of the region"
    )
    assert checked.rejects["reason"].tolist() == ["unknown_zone"]


GRUNNKRETS_HEAD = "grunnkrets,zone_code\n"
BAD_TABLES = [  # the table, and the line after "gk.csv: "
    (None, "no such file (places.grunnkrets_table)"),
    ("kode,bydel\n03010101,030101\n", "no column grunnkrets, zone_code (it has 'kode', 'bydel')"),
    (GRUNNKRETS_HEAD + "3010101,030101\n", "line 2: grunnkrets '3010101' is not 8 digits"),
    (GRUNNKRETS_HEAD + "03010101,\n", "line 2: grunnkrets 03010101 has no zone_code"),
    (
        GRUNNKRETS_HEAD + "03010101,030101\n03010101,030102\n",
        "line 3: grunnkrets 03010101 is in zone 030101 already",
    ),
    ("", "empty, no columns grunnkrets and zone_code"),
]


@pytest.mark.parametrize(("table", "line"), BAD_TABLES)
def test_a_bad_grunnkrets_table_is_one_line_naming_it(
    tmp_path: Path, table: str | None, line: str
) -> None:
    if table is not None:
        (tmp_path / "gk.csv").write_text(table, "utf-8")
    (tmp_path / "m.toml").write_text('[places]\ngrunnkrets_table = "gk.csv"\n', "utf-8")
    with pytest.raises(MappingError) as e:
        read_mapping(tmp_path / "m.toml")
    assert e.value.lines == [f"{tmp_path / 'gk.csv'}: {line}"]


def test_places_takes_only_a_table_file() -> None:
    with pytest.raises(MappingError) as e:
        Mapping.from_dict({"places": {"grunnkrets_table": 3, "bydel": "x"}}, "m.toml")
    assert e.value.lines == [
        "m.toml: places.bydel: unknown key (expected one of grunnkrets_table)",
        "m.toml: places.grunnkrets_table: must be the name of a CSV file, got 3",
    ]
