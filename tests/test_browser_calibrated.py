"""A calibrated scenario in the dashboard, in a real browser: loaded on the Scenario page, it
says which of its values came from a call log, in bokmål and in English, and each section's
units and sources give the log's source for them. Driven by headless Chromium as in
``test_browser`` (which says what it needs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_browser import local_page, server, settle

__all__ = ["server"]  # the fixture, imported for the tests below

ROOT = Path(__file__).resolve().parent.parent


def calibrated(tmp_path: Path) -> Path:
    out = tmp_path / "calibrated.toml"
    done = subprocess.run(
        [sys.executable, "-m", "planner", "calibrate",
         str(ROOT / "examples" / "calls" / "amk_example.csv.gz"),
         "--mapping", str(ROOT / "examples" / "mappings" / "amk_oslo.toml"),
         "--scenario", str(ROOT / "simulations" / "oslo_akershus.toml"), "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def test_a_calibrated_scenario_says_which_values_came_from_the_log(
    server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("PLANNER_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    scenario = calibrated(tmp_path)
    fitted = sum(1 for line in scenario.read_text("utf-8").splitlines() if "calibrated from" in line)  # fmt: skip
    with sync_playwright() as p:
        browser, page, requested = local_page(p, server)
        page.goto(server)
        settle(page)
        page.locator("input[type=file]").first.set_input_files(str(scenario))
        settle(page)
        box = page.get_by_text(f"{fitted} verdier i dette scenariet kommer fra en hendelseslogg")
        expect(box).to_be_visible()
        expect(page.get_by_text("(amk_example.csv.gz)", exact=False).first).to_be_visible()
        expect(page.get_by_text("Krisehenvendelser per 1 000 innbyggere per år").first).to_be_visible()  # fmt: skip
        page.wait_for_timeout(1000)
        page.screenshot(path=str(shots / "calibrated-nb.png"), full_page=True)
        page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
        settle(page)
        expect(page.get_by_text(f"{fitted} values of this scenario come from a call log")).to_be_visible()  # fmt: skip
        # the demand section's sources name the log for the rate (drawn in a canvas: looked at
        # in the screenshot)
        page.get_by_role("tab", name="Demand").click()
        settle(page)
        page.get_by_text("Units and sources of this section").nth(2).click()
        settle(page)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(shots / "calibrated-en.png"), full_page=True)
        browser.close()
    assert all(u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) for u in requested)  # fmt: skip


def test_the_case_management_lever_and_the_kpis_by_caller(server: str, tmp_path: Path) -> None:
    """The [callers] section on the Scenario page, its lever set in the browser, and the
    Results page's table of the frequent callers' KPIs beside everyone else's."""
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("PLANNER_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser, page, requested = local_page(p, server)
        page.goto(server)
        settle(page)
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("English", exact=True).click()
        settle(page)
        page.get_by_role("tab", name="Frequent callers and case management").click()
        settle(page)
        cut = page.get_by_role("spinbutton", name="Case management cuts the frequent callers' calls by")  # fmt: skip
        expect(cut).to_be_visible()
        cut.fill("0.3")
        cut.press("Enter")
        settle(page)
        expect(cut).to_have_value("0.300")
        page.wait_for_timeout(800)
        page.screenshot(path=str(shots / "callers-en.png"), full_page=True)
        sidebar.get_by_text("Results", exact=True).click()
        settle(page)
        sidebar.get_by_role("button", name="Run simulation").click()
        table = page.get_by_text("By caller: the frequent callers' calls and everyone else's")
        expect(table).to_be_visible(timeout=120_000)
        assert page.get_by_test_id("stException").count() == 0
        table.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(shots / "by-caller-en.png"), full_page=True)
        sidebar.get_by_text("Norsk (bokmål)", exact=True).click()
        settle(page)
        heading = page.get_by_text("Etter innringer: henvendelsene fra dem som ringer ofte")
        expect(heading).to_be_visible()
        heading.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(shots / "by-caller-nb.png"), full_page=True)
        browser.close()
    assert all(u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) for u in requested)  # fmt: skip
