"""``planner calls check`` and ``planner calls synth`` as a user runs them: the counts printed,
the rejects file written whole (and replaced only when it is ours), one line and exit code 2
for every problem, and nothing written when a log is refused."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from planner.calllog.check import REJECTS_HEADER

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "simulations" / "oslo_akershus.toml"
pytestmark = pytest.mark.shell  # runs planner commands end to end: out of mutation runs

LOG = """\
call_id,call_time,zone_code,kind
A1,2024-05-06 10:00,030101,suicidal
A2,2024-05-06 11:00,030101,stabbing
A1,2024-05-06 12:00,030101,suicidal
"""


def test_check_prints_the_counts_and_writes_every_rejected_row(cli, tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    res = cli("calls", "check", log, "--out", tmp_path / "calls.parquet")
    assert res.code == 0, res.err
    assert "│ read " in res.out or "read" in res.out
    lines = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in res.out.splitlines() if line.count("│") == 4}  # fmt: skip
    assert lines["read"] == "3" and lines["accepted"] == "1" and lines["rejected"] == "2"
    assert lines["duplicate"] == "1" and lines["unknown_code"] == "1"
    rejects = tmp_path / "log.csv.rejects.csv"
    assert rejects.read_text(encoding="utf-8").startswith(REJECTS_HEADER)
    table = pd.read_csv(rejects, dtype=str)
    assert table["row"].tolist() == ["2", "3"]
    assert table["reason"].tolist() == ["unknown_code", "duplicate"]
    calls = pd.read_parquet(tmp_path / "calls.parquet")
    assert calls["row"].tolist() == [1] and calls["kind"].tolist() == ["suicidal"]
    # a second check replaces the files it wrote
    log.write_text(LOG.splitlines()[0] + "\n" + LOG.splitlines()[1] + "\n", encoding="utf-8")
    assert cli("calls", "check", log, "--out", tmp_path / "calls.parquet").code == 0
    assert len(pd.read_csv(rejects)) == 0
    assert len(pd.read_parquet(tmp_path / "calls.parquet")) == 1


def test_check_never_replaces_a_file_it_did_not_write(cli, tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    mine = tmp_path / "notes.csv"
    mine.write_text("my,own\n1,2\n", encoding="utf-8")
    res = cli("calls", "check", log, "--rejects", mine)
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1
    assert "planner did not write it" in res.err
    assert mine.read_text(encoding="utf-8") == "my,own\n1,2\n"
    res = cli("calls", "check", log, "--out", mine.with_suffix(".parquet"))
    assert res.code == 0  # absent: written
    mine.with_suffix(".parquet").write_bytes(b"PAR1 not ours")
    res = cli("calls", "check", log, "--out", mine.with_suffix(".parquet"))
    assert res.code == 2 and "planner did not write it" in res.err


@pytest.mark.parametrize(
    ("content", "mapping", "expected"),
    [
        (None, None, "no such file"),
        ("", None, "empty, not even a header"),
        ("call_time,zone_code\n2024-05-06 10:00,030101\n", "[columns]\ncall_time = 'Mottatt'\n",
         "no column 'Mottatt' (call_time)"),
        ("call_time,zone_code\n2024-05-06 10:00,030101\n", "[columns]\ncolour = 'x'\n",
         "columns.colour: not a field of the schema"),
        ("call_time,zone_code\n2024-05-06 10:00,030101\n", "[columns\n", "not TOML"),
        ("call_time,pnr\n2024-05-06 10:00,01010750160\n", None,
         "column 'pnr' looks like national identity numbers"),
        (b"call_time,zone_code\n2024-05-06 10:00,S\xf8r\n", None, "not utf-8 text at byte"),
    ],
)  # fmt: skip
def test_a_log_or_mapping_that_cannot_be_read_is_one_line_and_nothing_written(
    cli, tmp_path: Path, content: str | bytes | None, mapping: str | None, expected: str
) -> None:
    log = tmp_path / "log.csv"
    if isinstance(content, bytes):
        log.write_bytes(content)
    elif content is not None:
        log.write_text(content, encoding="utf-8")
    args = ["calls", "check", log]
    if mapping is not None:
        (tmp_path / "m.toml").write_text(mapping, encoding="utf-8")
        args += ["--mapping", tmp_path / "m.toml"]
    res = cli(*args)
    assert res.code == 2, res.out + res.err
    assert len(res.err.strip().splitlines()) == 1 and "Traceback" not in res.err
    assert expected in res.err
    assert not (tmp_path / "log.csv.rejects.csv").exists()


def test_synth_writes_a_log_the_check_reads_back_with_its_dirt_found(cli, tmp_path: Path) -> None:
    out = tmp_path / "amk.csv"
    mapping = ROOT / "examples" / "mappings" / "amk_oslo.toml"
    res = cli("calls", "synth", SCENARIO, "--out", out, "--years", "0.25", "--dirt", "0.06",
              "--mapping", mapping)  # fmt: skip
    assert res.code == 0, res.err
    assert "calls over 0.25 years from 2024-01-01" in res.out
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("Hendelsesnr;Mottatt;")
    res = cli("calls", "check", out, "--mapping", mapping)
    assert res.code == 0, res.err
    rejects = pd.read_csv(tmp_path / "amk.csv.rejects.csv", dtype=str)
    # five kinds of dirt are rejected, 1 % of the calls each; missing times are accepted
    counts = rejects["reason"].value_counts()
    assert set(counts.index) == {
        "duplicate", "missing_call_time", "times_out_of_order", "outside_region", "unknown_code",
    }  # fmt: skip
    assert counts.max() - counts.min() <= 0
    # a second synth over a log is refused: a CSV log is never replaced
    res = cli("calls", "synth", SCENARIO, "--out", out, "--years", "0.25")
    assert res.code == 2 and "planner did not write it" in res.err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--start", "2024-01-02"], "--start: 2024-01-02 is not a Monday"),
        (["--start", "soon"], "--start: 'soon' is not a date"),
        (["--out", "log.txt"], "--out: 'log.txt' must end in .csv, .csv.gz or .parquet"),
    ],
)
def test_synth_refuses_what_it_cannot_make_in_one_line(
    cli, tmp_path: Path, args: list[str], expected: str
) -> None:
    base = ["calls", "synth", SCENARIO, "--out", tmp_path / "log.csv", "--years", "0.1"]
    res = cli(*base, *args)
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1
    assert expected in res.err
