"""The dashboard's scenario library: a scenario is found again by the hash in the page's
address, the kept ones by name; nothing is written outside the library's folder, and a file
that is not what its name says is not read."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner.dashboard import serve, state
from planner.dashboard.library import Library, default_folder, is_key, scenario_key
from planner.dashboard.model import set_value, shipped_scenarios

RAW = {"scenario": {"name": "Åtte enheter"}, "run": {"replications": 3, "seed": 2**63 - 1}}


def test_the_key_is_the_first_16_hex_digits_of_the_sha256_of_the_sorted_json() -> None:
    text = '{"run":{"replications":3,"seed":9223372036854775807},"scenario":{"name":"\\u00c5tte enheter"}}'
    assert scenario_key(RAW) == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert scenario_key({"b": 1, "a": 2}) == scenario_key({"a": 2, "b": 1})
    assert scenario_key({"a": 1}) != scenario_key({"a": 1.5})
    assert is_key(scenario_key(RAW))
    for bad in ("", "../../etc/passwd", "0123456789abcdeF", "0123456789abcde", "0" * 17):
        assert not is_key(bad)


def test_a_scenario_saved_is_loaded_as_it_was(tmp_path: Path) -> None:
    lib = Library.open(tmp_path / "lib")
    key = lib.save(RAW)
    assert key == scenario_key(RAW)
    assert lib.load(key) == RAW
    assert sorted(p.name for p in (tmp_path / "lib" / "scenarios").iterdir()) == [f"{key}.toml"]
    assert lib.save(RAW) == key  # the same content, the same file: nothing new
    assert len(list((tmp_path / "lib" / "scenarios").iterdir())) == 1


def test_a_key_that_is_not_one_or_a_file_that_is_not_what_its_name_says_is_not_read(
    tmp_path: Path,
) -> None:
    lib = Library.open(tmp_path / "lib")
    (tmp_path / "outside.toml").write_text('scenario = { name = "outside" }\n', "utf-8")
    assert lib.load("../../outside") is None
    key = lib.save(RAW)
    path = tmp_path / "lib" / "scenarios" / f"{key}.toml"
    path.write_text('scenario = { name = "changed" }\n', "utf-8")  # edited by hand since
    assert lib.load(key) is None
    path.write_bytes(b"\xff\xfe not toml")
    assert lib.load(key) is None
    assert lib.load("0123456789abcdef") is None  # never saved


def test_kept_scenarios_keep_their_order_and_a_name_kept_again_is_replaced(tmp_path: Path) -> None:
    lib = Library.open(tmp_path / "lib")
    a, b = {"run": {"seed": 1}}, {"run": {"seed": 2}}
    lib.keep("A", a)
    lib.keep("B", b)
    assert list(lib.kept().items()) == [("A", a), ("B", b)]
    lib.keep("A", b)
    assert list(lib.kept().items()) == [("B", b), ("A", b)]
    assert Library.open(tmp_path / "lib").kept() == {"B": b, "A": b}  # another session
    (tmp_path / "lib" / "kept.toml").write_text("not = [toml", "utf-8")
    assert lib.kept() == {}
    # nothing but the library's own files, and no temporary file left behind
    names = {p.relative_to(tmp_path / "lib").as_posix() for p in (tmp_path / "lib").rglob("*")}
    assert names == {"kept.toml", "scenarios"} | {
        f"scenarios/{scenario_key(r)}.toml" for r in (a, b)
    }


def test_a_folder_that_cannot_be_made_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder", "utf-8")
    with pytest.raises(OSError):
        Library.open(tmp_path / "a-file")
    assert (tmp_path / "a-file").read_text("utf-8") == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_folder_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    (folder / "scenarios").mkdir(parents=True)
    folder.joinpath("scenarios").chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(OSError):
            Library.open(folder)
    finally:
        folder.joinpath("scenarios").chmod(stat.S_IRWXU)


def test_the_folder_is_planner_library_or_the_xdg_data_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PLANNER_LIBRARY", str(tmp_path / "x"))
    assert default_folder() == tmp_path / "x"
    monkeypatch.delenv("PLANNER_LIBRARY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_folder() == tmp_path / "data" / "planner" / "library"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_folder() == tmp_path / "home" / ".local" / "share" / "planner" / "library"


# -- the address of the page, through AppTest -------------------------------------------------


def test_the_address_names_the_scenario_the_page_and_the_language() -> None:
    at = AppTest.from_file(str(serve.APP), default_timeout=300)
    at.run()
    at.sidebar.radio(key="lang").set_value("en").run()
    at.sidebar.radio(key="page").set_value("economics").run()
    assert at.query_params["page"] == "economics"
    assert at.query_params["lang"] == "en"
    key = at.query_params["s"]
    lib = state.library()
    assert lib is not None and lib.load(key) == at.session_state.raw


def test_a_new_session_opens_the_scenario_its_address_names() -> None:
    lib = state.library()
    assert lib is not None
    raw = set_value(shipped_scenarios()["oslo_akershus"], "run.replications", 7)
    key = lib.save(raw)
    at = AppTest.from_file(str(serve.APP), default_timeout=300)
    at.query_params["s"] = key
    at.query_params["page"] = "scenario"
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception
    assert at.session_state.raw == raw
    assert at.number_input(key="p0:run.replications").value == 7
    assert at.sidebar.radio(key="lang").value == "en"


def test_an_address_naming_a_scenario_not_in_the_library_opens_the_default_and_says_so() -> None:
    at = AppTest.from_file(str(serve.APP), default_timeout=300)
    at.query_params["s"] = "0123456789abcdef"
    at.query_params["lang"] = "en"
    at.run()
    assert at.session_state.raw == shipped_scenarios()["oslo_akershus"]
    assert any("not in the scenario library" in w.value for w in at.warning)
    lib = state.library()
    assert lib is not None
    assert at.query_params["s"] == lib.save(at.session_state.raw)  # now the default's own


def test_a_scenario_no_file_can_hold_leaves_the_address_as_it_was() -> None:
    """An emptied shift-table cell puts None (or NaN) in the overrides until it is filled in;
    the page goes on, naming the problem, and the address keeps the last version saved."""
    at = AppTest.from_file(str(serve.APP), default_timeout=300)
    at.run()
    before = at.query_params["s"]
    raw = dict(at.session_state.raw)
    raw["fleet"] = dict(raw["fleet"]) | {
        "shifts": {"day": {"start_hour": 7, "hours": None, "days": ["mon"]}}
    }
    at.session_state.raw = raw
    at.run()
    assert not at.exception
    assert at.query_params["s"] == before
    assert any("fleet\\.shifts\\.day\\.hours" in e.value for e in at.error)  # named
