"""The fleet's shifts table in the reader's words: built-in shifts and days in bokmål, read
back into the scenario's own names whichever language they are typed in."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_dashboard import shown

from planner.dashboard import serve
from planner.dashboard.pages.scenario import _shifts_frame, _shifts_of
from planner.dashboard.view import parse_number

SHIFTS = {
    "evening": {"start_hour": 14, "hours": 12.0, "days": ["mon", "tue", "sat", "sun"]},
    "my_weekend": {"start_hour": 8, "hours": 10.0, "days": ["sat", "sun"]},
}


def test_bokmaal_shows_kveld_and_man_tir() -> None:
    frame = _shifts_frame(SHIFTS, "nb")
    assert list(frame["shift"]) == ["kveld", "my_weekend"]
    assert list(frame["days"]) == ["man,tir,lør,søn", "lør,søn"]
    assert _shifts_of(frame, "nb") == SHIFTS  # read back to the file's names


def test_english_shows_the_files_names_and_either_language_is_read() -> None:
    frame = _shifts_frame(SHIFTS, "en")
    assert list(frame["shift"]) == ["evening", "my_weekend"]
    assert list(frame["days"]) == ["mon,tue,sat,sun", "sat,sun"]
    typed = pd.DataFrame(
        [{"shift": "natt", "start_hour": 22, "hours": 10.0, "days": "Man, ons,fre"}]
    )
    assert _shifts_of(typed, "nb") == {
        "night": {"start_hour": 22, "hours": 10.0, "days": ["mon", "wed", "fri"]}
    }
    assert _shifts_of(typed.assign(days="mon,wed"), "en")["natt"]["days"] == ["mon", "wed"]


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("0,8", 0.8),
        ("0.8", 0.8),
        ("1 580", 1580.0),
        ("1\u00a0580,5", 1580.5),
        ("\u22123", -3.0),
        ("80 %", 0.8),
        ("12 345 678,9", 12345678.9),
    ],
)
def test_a_number_is_read_as_a_norwegian_types_it(typed: str, value: float) -> None:
    assert parse_number(typed) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("typed", ["1,2,3", "abc", "1 58", "", "nan", "inf", "1e999"])
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_number(typed)


def test_bokmaal_fields_show_and_take_decimal_commas() -> None:
    at = AppTest.from_file(str(serve.APP), default_timeout=300)
    at.run()  # bokmål is the default
    at.sidebar.radio(key="page").set_value("economics").run()
    at.sidebar.radio(key="page").set_value("scenario").run()
    key = "p0:costs.police_officer_hour"
    assert at.text_input(key=key).value == "790"
    at.text_input(key=key).set_value("1 580,5").run()
    assert at.session_state.raw["costs"]["police_officer_hour"] == 1580.5
    at.text_input(key=key).set_value("tusen").run()
    assert any("«tusen» er ikke et tall" in e.value for e in at.error)
    assert at.session_state.raw["costs"]["police_officer_hour"] == 1580.5  # kept, not lost


def test_a_problem_is_named_in_bokmaal_on_the_page() -> None:
    at = AppTest.from_file(str(serve.APP), default_timeout=300)
    at.run()  # bokmål
    at.sidebar.radio(key="page").set_value("scenario").run()
    at.text_input(key="p0:demand.rate_per_1000_per_year").set_value("−1").run()
    errors = [e.value for e in at.error]
    line = (
        "Krisehenvendelser per 1 000 innbyggere per år (demand.rate_per_1000_per_year): "
        "må være større enn 0 (fikk −1,0)"
    )
    assert any(line in shown(e) for e in errors), errors
    assert not any("Input should" in e for e in errors)
