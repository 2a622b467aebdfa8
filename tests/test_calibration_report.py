"""The calibration report as a planner makes it, on the shipped example log: ``planner
calibrate --report`` and ``planner backtest --report``, in bokmål and English, HTML and PDF —
each fitted parameter beside the default it replaces, the pictures, the verdicts; replaced only
when it is planner's own; nothing fetched from anywhere."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest

from planner.report.calibration import _words, brief, label, words

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "examples" / "calls" / "amk_example.csv.gz"
MAPPING = ROOT / "examples" / "mappings" / "amk_oslo.toml"
SCENARIO = ROOT / "simulations" / "oslo_akershus.toml"
pytestmark = pytest.mark.shell  # runs planner commands end to end: out of mutation runs


def test_both_languages_have_every_word_and_kind() -> None:
    raw = _words()
    assert set(raw["nb"]) == set(raw["en"])
    assert set(raw["kinds"]["nb"]) == set(raw["kinds"]["en"])
    from planner.calllog.schema import KINDS

    assert set(raw["kinds"]["nb"]) == set(KINDS)


def test_a_parameter_is_named_as_the_dashboard_names_it() -> None:
    assert label("demand.rate_per_1000_per_year", "nb") == (
        "Krisehenvendelser per 1 000 innbyggere per år"
    )
    assert label("situations.psychosis.on_scene", "en") == "Time on scene (unit): psychosis"
    assert label("callers.frequent_share", "nb").startswith("Andel av henvendelsene fra")
    assert brief({"dist": "lognormal", "mean": 60.0, "sd": 30.5}, "nb") == "lognormal 60,0, sd 30,5"
    assert brief(0.0642, "en") == "0.0642" and brief([0.5, 1.5, 1.0], "en") == "3: 0.5 – 1.5"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from planner.cli import main

    out = tmp_path_factory.mktemp("report")
    args = ["calibrate", str(LOG), "--mapping", str(MAPPING), "--scenario", str(SCENARIO),
            "--until", "2024-03-04", "--out", str(out / "fitted.toml")]  # fmt: skip
    argv = sys.argv
    try:
        for lang, suffix in (("nb", "html"), ("en", "pdf")):
            sys.argv = ["planner", *args, "--report", str(out / f"cal-{lang}.{suffix}"), "--lang", lang]  # fmt: skip
            try:
                main()
            except SystemExit as e:
                assert e.code in (0, None)
    finally:
        sys.argv = argv
    return out


def test_the_calibration_report_shows_each_fitted_value_beside_its_default(made: Path) -> None:
    html = (made / "cal-nb.html").read_text("utf-8")
    assert '<meta name="generator" content="planner report' in html
    assert "Kalibrering mot egen hendelseslogg" in html
    fitted = tomllib.loads((made / "fitted.toml").read_text("utf-8"))
    rate = fitted["demand"]["rate_per_1000_per_year"]
    row = re.search(r"<tr><td>Krisehenvendelser per 1 000 innbyggere per år</td>(.*?)</tr>", html)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    assert cells[0] == f"{rate:.4g}".replace(".", ",")  # the fitted value, in bokmål
    assert cells[2] == "10,27"  # the default it replaces
    # the pictures, inline; nothing fetched
    for alt in ("Henvendelser per time i uka", "Tid på stedet: histogram", "Q-Q-plott", "Personer som ringer igjen"):  # fmt: skip
        assert re.search(rf'<img alt="{alt}[^"]*" src="data:image/png;base64,', html), alt
    assert not re.search(r'(src|href)="(https?:)?//', html)
    # what was not fitted, with why
    assert "Ikke tilpasset" in html and "under 1.5 years" in html
    assert "Avvist: duplicate" in html and "Avvist: bad_time" not in html  # reasons with rows


def test_the_pdf_is_planner_s_own(made: Path) -> None:
    data = (made / "cal-en.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and b"/Creator (planner report" in data
    assert len(data) > 100_000  # the pictures are in it


def test_a_report_is_replaced_only_when_it_is_ours(cli, made: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.html"
    mine.write_text("<html>my notes</html>", "utf-8")
    res = cli(
        "calibrate", LOG, "--mapping", MAPPING, "--out", tmp_path / "f.toml", "--report", mine
    )
    assert res.code == 2 and res.err.strip().splitlines() == [
        f"--report: {mine} exists and planner did not write it; give another name or remove it"
    ]
    assert mine.read_text("utf-8") == "<html>my notes</html>"
    assert not (tmp_path / "f.toml").exists()  # refused before any work
    for bad, line in (
        (["--report", tmp_path / "r.txt"], "--report: 'r.txt' must end in .html or .pdf"),
        (["--report", tmp_path / "r.html", "--lang", "de"], "--lang: must be nb or en, got 'de'"),
    ):
        res = cli("calibrate", LOG, "--mapping", MAPPING, "--out", tmp_path / "f.toml", *bad)
        assert res.code == 2 and res.err.strip().splitlines() == [line]


def test_region_and_scenario_must_agree(cli, tmp_path: Path) -> None:
    res = cli("calibrate", LOG, "--mapping", MAPPING, "--out", tmp_path / "f.toml",
              "--scenario", SCENARIO, "--region", "bergen")  # fmt: skip
    assert res.code == 2
    assert res.err.strip().splitlines() == [
        f"--region: 'bergen', but --scenario {SCENARIO} is in 'oslo_akershus'"
    ]


def test_the_backtest_report_has_the_verdicts_and_their_plots(cli, made: Path) -> None:
    report = made / "back-nb.html"
    res = cli("backtest", made / "fitted.toml", LOG, "--mapping", MAPPING, "--from", "2024-03-04",
              "--replications", "19", "--report", report)  # fmt: skip
    assert res.code == 0, res.err
    html = report.read_text("utf-8")
    w = words("nb")
    assert w["backtest"] in html
    found = re.search(r"(\d+) av (\d+) tall stemmer med simuleringen \(19 replikasjoner", html)
    assert found is not None
    agree, total = int(found.group(1)), int(found.group(2))
    assert html.count(f"<td>{w['agrees']}</td>") == agree
    assert html.count(f"<td>{w['differs']}</td>") == total - agree
    printed = re.search(r"(\d+) of (\d+) figures agree", res.out)
    assert printed is not None and (int(printed.group(1)), int(printed.group(2))) == (agree, total)
    for alt in (w["weeks"], w["hours_backtest"]):
        assert f'<img alt="{alt}"' in html
    # the volume's range carries the fitted rate's error
    assert "the fitted rate&#x27;s ±" in html  # escaped
