"""The played-back day in a real browser: the page for the default scenario's busiest day,
opened from a file in headless Chromium, must ask nothing of any server, play, go faster when
told, and draw the units where the Python model says they are.

Needs Debian's chromium and the playwright package; CI installs both, elsewhere the test skips
and says why. A screenshot goes to $PLANNER_SCREENSHOTS when that is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import CHROMIUM, FLAGS, _missing

import planner
from planner.dashboard.playback import Day, Projection, day_of, playback_html
from planner.dashboard.text import Words
from planner.geo.geodata import load_region

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ("file://", "about:", "data:")


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[Day, Path]:
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    scenario = planner.load_scenario(ROOT / "simulations" / "oslo_akershus.toml")
    region = load_region(scenario.region.name)
    day = day_of(planner.simulate(scenario, replications=1), region)
    path = tmp_path_factory.mktemp("playback") / "day.html"
    path.write_text(playback_html(day, region, Words("nb")), "utf-8")
    return day, path


@pytest.fixture
def page(played: tuple[Day, Path]) -> Iterator[tuple[Any, list[str], list[str]]]:
    """The page opened, with every URL it asked for and every script error it raised."""
    from playwright.sync_api import sync_playwright

    _, path = played
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            tab = browser.new_page(viewport={"width": 1100, "height": 660})
            tab.on("request", lambda r: requests.append(r.url))
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.goto(path.as_uri())
            tab.wait_for_function("document.getElementById('playback').dataset.ready === 'true'")
            yield tab, requests, errors
        finally:
            browser.close()


def minute(tab: Any) -> float:
    return float(tab.get_attribute("#playback", "data-minute"))


def test_it_plays_faster_when_told_and_asks_nothing_of_any_server(
    page: tuple[Any, list[str], list[str]], tmp_path: Path
) -> None:
    tab, requests, errors = page
    assert tab.inner_text("#clock") == "00:00"
    assert tab.inner_text("#weekday").lower() in {
        "mandag",
        "tirsdag",
        "onsdag",
        "torsdag",
        "fredag",
        "lørdag",
        "søndag",
    }
    tab.click("#play")
    tab.wait_for_timeout(1000)
    tab.click("#play")  # pause
    slow = minute(tab)
    assert slow > 3, "a second at 1× is about 20 simulated minutes"
    assert tab.inner_text("#clock") == f"{int(slow) // 60:02d}:{int(slow) % 60:02d}"
    tab.wait_for_timeout(300)
    assert minute(tab) == slow, "paused means paused"
    tab.click('button.speed[data-speed="10"]')
    assert tab.get_attribute("#playback", "data-speed") == "10"
    tab.click("#play")
    tab.wait_for_timeout(1000)
    tab.click("#play")
    fast = minute(tab) - slow
    assert fast > 3 * slow, (slow, fast)
    hh, mm = tab.inner_text("#clock").split(":")
    assert int(hh) * 60 + int(mm) == int(minute(tab))
    assert tab.inner_text("#play") == "▶ Spill av"
    shots = Path(os.environ.get("PLANNER_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(shots / "playback-nb.png"))
    outside = [u for u in requests if not u.startswith(LOCAL)]
    assert outside == [], outside
    assert errors == [], errors


def test_the_slider_and_the_model_agree(
    page: tuple[Any, list[str], list[str]], played: tuple[Day, Path]
) -> None:
    """Where the page draws each unit, and the queue it shows, at minutes across the day are
    what ``UnitDay.position`` and ``Day.queue_length`` say."""
    tab, _, errors = page
    day, _ = played
    proj = Projection.around(load_region("oslo_akershus"))
    moments = [leg.start + (leg.end - leg.start) / 2 for u in day.units for leg in u.legs]
    moments = [*[m for m in moments if 0 <= m < 1440][::7], 0.0, 600.0, 1200.0]
    for m in moments:
        tab.evaluate(f"window.playback.seek({m})")
        assert tab.evaluate("window.playback.state().queue") == day.queue_length(m)
        for i, u in enumerate(day.units):
            shown = tab.evaluate(f"window.playback.unit({i})")
            x, y = proj.xy(u.position(m))
            assert shown["status"] == u.status(m), (m, i)
            assert shown["x"] == pytest.approx(x, abs=0.03) and shown["y"] == pytest.approx(
                y, abs=0.03
            )
    tab.fill("#slider", "720")
    assert tab.inner_text("#clock") == "12:00"
    assert tab.evaluate("window.playback.format(1234567)") == "1 234 567"
    assert errors == [], errors
