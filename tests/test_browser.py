"""The dashboard in a real browser: served on localhost, driven by headless Chromium.

Changes the number of units, runs, waits for the KPIs, and saves a screenshot of every page
(to $PLANNER_SCREENSHOTS, else a temporary folder). Needs Debian's chromium and the
playwright package; CI installs both, elsewhere the test skips and says why.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # deck.gl draws the map with WebGL: software rendering, as there is no GPU
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
PAGES = ["Scenario", "Map", "Results", "Compare", "Optimise", "Cost-benefit"]


def _missing() -> str | None:
    if CHROMIUM is None:
        return "Chromium is not installed (Debian package `chromium`; .ci/run installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install '.[test]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the dashboard did not start within 90 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def settle(page: Any) -> None:
    """Wait until the script that an action started has finished: acting during a rerun races
    it (a click can land on an element about to be replaced)."""
    from playwright.sync_api import expect

    page.wait_for_timeout(300)  # the rerun starts a moment after the action
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=120_000
    )


def test_server_listens_on_localhost_only(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=False).stdout
    if not out:
        pytest.skip("`ss` is not available to list listening sockets")
    listening = [
        line.split()[3] for line in out.splitlines() if line.split()[3].endswith(f":{port}")
    ]
    assert listening, out
    assert all(addr.rsplit(":", 1)[0] in ("127.0.0.1", "[::1]") for addr in listening), listening


def test_change_units_run_and_screenshot_every_page(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=90_000)
    shots = Path(os.environ.get("PLANNER_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(90_000)
        page.goto(server)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("Norsk (bokmål)")).to_be_visible()
        sidebar.get_by_text("English", exact=True).click()
        settle(page)
        expect(sidebar.get_by_role("button", name="Run simulation")).to_be_visible()
        sidebar.get_by_text("Results", exact=True).click()
        settle(page)
        expect(page.get_by_text("No results yet")).to_be_visible()

        units = sidebar.get_by_role("spinbutton", name="Number of units")
        units.fill("6")
        units.press("Enter")
        expect(units).to_have_value("6")
        settle(page)  # the resize reruns the script
        started = time.monotonic()
        sidebar.get_by_role("button", name="Run simulation").click()
        metric = page.get_by_test_id("stMetric").filter(has_text="Met health-first")
        expect(metric).to_be_visible()
        seconds = time.monotonic() - started
        print(f"\nbrowser: 6 units, 10 replications with baseline shown in {seconds:.1f} s")
        value = metric.get_by_test_id("stMetricValue").inner_text()
        assert value.endswith("%") and 0 < float(value.rstrip(" %")) <= 100
        expect(
            page.get_by_test_id("stAlertContentSuccess").get_by_text("Simulated in")
        ).to_be_visible()
        assert page.get_by_test_id("stException").count() == 0

        for name in PAGES:
            sidebar.get_by_text(name, exact=True).click()
            settle(page)
            expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
            if name == "Map":
                expect(page.locator("canvas").first).to_be_visible()
            if name == "Compare":  # the scenario and today's service: both already simulated
                page.get_by_role("button", name="Run and compare").click()
                expect(page.get_by_text("Means, and the paired difference")).to_be_visible()
            if name == "Optimise":  # a small frontier keeps the test short
                for label, v in (
                    ("Replications per simulated proposal", "2"),
                    ("Largest fleet", "2"),
                ):
                    field = page.get_by_role("spinbutton", name=label)
                    field.fill(v)
                    field.press("Enter")
                    settle(page)
                page.get_by_role("button", name="Optimise", exact=True).click()
                expect(page.get_by_text("Sizing frontier: each point")).to_be_visible()
            page.wait_for_timeout(2500)  # charts and the map finish drawing
            assert page.get_by_test_id("stException").count() == 0, name
            page.screenshot(path=str(shots / f"{name.lower()}.png"), full_page=True)

        # a run can be stopped: the results shown stay those of the finished run
        sidebar.get_by_text("Results", exact=True).click()
        settle(page)
        units.fill("9")
        units.press("Enter")
        expect(units).to_have_value("9")
        settle(page)
        sidebar.get_by_role("button", name="Run simulation").click()
        page.get_by_role("button", name="Stop").click()
        expect(page.get_by_text("Stopped.")).to_be_visible()
        expect(page.get_by_text("earlier version of the scenario").first).to_be_visible()
        assert metric.get_by_test_id("stMetricValue").inner_text() == value
        page.wait_for_timeout(2500)
        page.screenshot(path=str(shots / "stopped.png"), full_page=True)
        browser.close()
    for name in PAGES:
        assert (shots / f"{name.lower()}.png").stat().st_size > 20_000
