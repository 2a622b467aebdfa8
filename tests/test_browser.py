"""The dashboard in a real browser: served by ``planner dashboard``, driven by headless Chromium.

The server is started from a folder whose ``.streamlit/config.toml`` tries to widen it, and
must not: it listens on 127.0.0.1 only, refuses any other Host (DNS rebinding) and forbids
framing. The browser gives the scenario a name holding a markdown image, changes the number of
units, runs, waits for the KPIs, and saves a screenshot of every page (to $PLANNER_SCREENSHOTS,
else a temporary folder); every request the page makes goes to the dashboard's own server.
Needs Debian's chromium and the playwright package; CI installs both, elsewhere the test skips
and says why.
"""

from __future__ import annotations

import base64
import http.client
import json
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
EVIL = "![x](https://evil.example/x.png)"  # a scenario name a browser must not fetch
# what a project folder's config.toml might say; `planner dashboard` must take none of it
HOSTILE_CONFIG = """
[server]
address = "0.0.0.0"
enableCORS = false
enableXsrfProtection = false
maxUploadSize = 500
[client]
allowedOrigins = ["https://evil.example"]
showErrorDetails = "full"
[browser]
gatherUsageStats = true
"""


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
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    port = _free_port()
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / ".streamlit").mkdir()
    (elsewhere / ".streamlit" / "config.toml").write_text(HOSTILE_CONFIG, "utf-8")
    log = (elsewhere / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner", "dashboard", "--port", str(port)],
        cwd=elsewhere,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"  # only ever this machine
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
        log.close()
        print((elsewhere / "server.log").read_text("utf-8")[-3000:])


def _get(port: int, path: str, host: str) -> tuple[int, dict[str, str], bytes]:
    """GET from the dashboard on 127.0.0.1 with the given Host header (0: connection refused)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except (ConnectionError, http.client.HTTPException):
        return 0, {}, b""
    finally:
        conn.close()


def _websocket_opens(port: int, host: str) -> str:
    """The status line the server answers a WebSocket handshake for Streamlit's stream with."""
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (
        "GET /_stcore/stream HTTP/1.1\r\n"
        f"Host: {host}\r\nOrigin: http://{host}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: streamlit\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(handshake.encode())
        try:
            return s.recv(4096).decode("latin-1").split("\r\n", 1)[0]
        except ConnectionError:
            return ""


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


def test_only_its_own_loopback_name_is_answered_and_never_in_a_frame(server: str) -> None:
    """DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 reaches this
    port, but its requests carry Host: evil.example, and are refused — the page, the health
    check and the WebSocket alike; the dashboard's own name gets them, and no site may frame it."""
    port = int(server.rsplit(":", 1)[1])
    for path in ("/", "/_stcore/health"):
        for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}", ""):
            status, _, _ = _get(port, path, host)
            assert status in (0, 400, 403), (path, host, status)
        for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            status, headers, _ = _get(port, path, host)
            assert status == 200, (path, host)
            assert headers["x-frame-options"] == "DENY"
            assert headers["content-security-policy"] == "frame-ancestors 'none'"
    assert " 403 " in _websocket_opens(port, "evil.example") + " "
    assert " 101 " in _websocket_opens(port, f"127.0.0.1:{port}")
    # the folder's config.toml was not read: its allowed origins are not the server's
    status, _, body = _get(port, "/_stcore/host-config", f"127.0.0.1:{port}")
    assert status == 200 and "evil.example" not in json.dumps(json.loads(body))


def _is_local(url: str, server: str) -> bool:
    """A request to the dashboard's own server (http and its WebSocket), or made in the page."""
    ws = server.replace("http://", "ws://", 1)
    return url.startswith((f"{server}/", f"{ws}/", "data:", "blob:")) or url == server


def local_page(
    p: Any, server: str, width: int = 1500, height: int = 1000, timeout: int = 90_000
) -> tuple[Any, Any, list[str]]:
    """Chromium with one page on the dashboard: every request the page makes is recorded, and
    one for anywhere but the dashboard's own server is also stopped. (browser, page, requests)"""
    from playwright.sync_api import expect

    expect.set_options(timeout=timeout)
    browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    context = browser.new_context(viewport={"width": width, "height": height})
    requested: list[str] = []
    context.on("request", lambda r: requested.append(r.url))
    context.on("websocket", lambda ws: requested.append(ws.url))
    context.route(
        "**/*",
        lambda route: route.continue_() if _is_local(route.request.url, server) else route.abort(),
    )
    page = context.new_page()
    page.set_default_timeout(timeout)
    return browser, page, requested


def test_change_units_run_and_screenshot_every_page(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("PLANNER_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser, page, requested = local_page(p, server)
        page.goto(server)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("Norsk (bokmål)")).to_be_visible()
        # bokmål first: the Scenario page it opens on, and the map before any run
        settle(page)
        expect(page.get_by_role("heading", name="Scenario", exact=True)).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "nb")
        expect(page.get_by_role("textbox", name="Navn", exact=True)).not_to_have_value("")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / "scenario-nb.png"), full_page=True)
        sidebar.get_by_text("Kart", exact=True).click()
        settle(page)
        expect(page.locator("canvas").first).to_be_visible()
        page.wait_for_timeout(2500)
        page.screenshot(path=str(shots / "map-nb.png"), full_page=True)

        sidebar.get_by_text("English", exact=True).click()
        settle(page)
        expect(sidebar.get_by_role("button", name="Run simulation")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        # a scenario named with a markdown image: shown as typed, never fetched
        sidebar.get_by_text("Scenario", exact=True).click()
        settle(page)
        title = page.get_by_role("textbox", name="Name", exact=True)
        title.fill(EVIL)
        title.press("Enter")
        settle(page)
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
        # shown as typed (an address carries an invisible word joiner, so it is not a link)
        caption = page.get_by_text("Results of “", exact=False)
        expect(caption).to_be_visible()
        assert caption.inner_text().replace("\u2060", "").startswith(f"Results of “{EVIL}”")
        assert page.locator("img[src*='evil'], a[href*='evil']").count() == 0

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
    for shot in [*PAGES, "scenario-nb", "map-nb"]:
        assert (shots / f"{shot.lower()}.png").stat().st_size > 20_000
    assert requested and all(_is_local(url, server) for url in requested), [
        url for url in requested if not _is_local(url, server)
    ]


# -- table edits: none lost, saved as shown, found again after a reload ------------------------

ROW = 35  # px: the height of a data editor's header and of each of its rows


def _cell(grid: Any, row: int, col: int) -> Any:
    """A cell of a data editor, in the accessible table Glide keeps beside its canvas."""
    return grid.get_by_test_id(f"glide-cell-{col + 1}-{row}")


def edit_cell(page: Any, grid: Any, row: int, col: int, text: str, choose: bool = False) -> None:
    """Type ``text`` into a table's cell as a user would: click its row, arrow across, Enter,
    type, Enter (``choose``: a list cell, where the typed text picks the option). Only waits
    for the page between edits, never for the dashboard: a user does not wait either."""
    from playwright.sync_api import expect

    editor = page.locator("#portal textarea, #portal input")

    def select() -> bool:
        grid.click(position={"x": 60, "y": ROW * (row + 1) + ROW / 2})
        page.wait_for_timeout(150)
        if editor.count():  # the cell was selected already, and the click opened it
            page.keyboard.press("Escape")
        try:
            expect(_cell(grid, row, 0)).to_have_attribute("aria-selected", "true", timeout=2000)
            for c in range(1, col + 1):
                page.keyboard.press("ArrowRight")
                expect(_cell(grid, row, c)).to_have_attribute("aria-selected", "true", timeout=3000)
        except AssertionError:
            return False  # the click only moved the focus into this table, or a rerun took it
        return True

    assert any(select() for _ in range(5)), f"cell {row}, {col} could not be selected"
    page.keyboard.press("Enter")
    # as a user does: type once the cell's editor is open and has the focus, and press Enter
    # once the typed text shows in it (on a busy machine both take a while to happen)
    expect(editor.first).to_be_attached(timeout=5000)
    expect(editor.first).to_be_focused(timeout=10_000)
    if not choose:
        page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(text)
    if not choose:
        expect(editor.first).to_have_value(text, timeout=10_000)
    page.wait_for_timeout(100)
    page.keyboard.press("Enter")


# (table, row, column, typed, a list cell?) — ten edits across the two tables of the Fleet tab
TABLE_EDITS = [
    ("units", 0, 0, "PA Oslo kveld", False),
    ("units", 1, 2, "night", True),  # the case: one unit's shift from day to night
    ("units", 2, 3, "3", False),
    ("units", 3, 4, "van 7", False),
    ("units", 0, 3, "2", False),
    ("shifts", 0, 1, "8", False),
    ("shifts", 1, 2, "11", False),
    ("shifts", 2, 3, "mon,tue,wed", False),
    ("shifts", 3, 1, "20", False),
    ("units", 1, 0, "PA Oslo natt", False),
]
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# the default scenario's fleet with the ten edits, worked out by hand
EDITED_UNITS = [
    {"name": "PA Oslo kveld", "base": "oslo_legevakt", "shift": "evening", "crew": 2},
    {"name": "PA Oslo natt", "base": "oslo_legevakt", "shift": "night"},
    {"name": "PA Romerike kveld", "base": "ahus", "shift": "evening", "crew": 3},
    {"name": "PA Vest sen", "base": "baerum_sykehus", "shift": "late", "vehicle": "van 7"},
]
EDITED_SHIFTS = {
    "day": {"start_hour": 8, "hours": 12.0, "days": EVERY_DAY},
    "evening": {"start_hour": 14, "hours": 11.0, "days": EVERY_DAY},
    "late": {"start_hour": 17, "hours": 10.0, "days": ["mon", "tue", "wed"]},
    "night": {"start_hour": 20, "hours": 12.0, "days": EVERY_DAY},
    "always": {"start_hour": 0, "hours": 24.0, "days": EVERY_DAY},
}


def _fleet_tables(page: Any) -> dict[str, Any]:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Fleet: units and shifts").click()
    settle(page)
    grids = page.locator("[data-testid='stDataFrame']:visible")
    expect(grids).to_have_count(2)
    return {"units": grids.nth(0), "shifts": grids.nth(1)}


def _shows_every_edit(page: Any) -> None:
    from playwright.sync_api import expect

    tables = _fleet_tables(page)
    for table, row, col, text, _ in TABLE_EDITS:
        expect(_cell(tables[table], row, col)).to_have_text(text)


def test_ten_table_edits_are_kept_saved_as_shown_and_found_after_a_reload(
    server: str, _scenario_library: Path, tmp_path: Path
) -> None:
    """Streamlit issue #7749's pattern lost the second of three quick edits; here ten edits in a
    row across both tables all hold; "Save as TOML" and "Keep" take them all; a reload of the
    page, and its address opened in a new tab, find them again."""
    import tomllib

    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=90_000)
    shots = Path(os.environ.get("PLANNER_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1500, "height": 1400})
        page = context.new_page()
        page.goto(f"{server}/?lang=en")
        settle(page)
        tables = _fleet_tables(page)
        for table, row, col, text, choose in TABLE_EDITS:
            expect(tables[table]).to_be_visible()
            edit_cell(page, tables[table], row, col, text, choose)
        settle(page)
        page.wait_for_timeout(500)
        settle(page)
        _shows_every_edit(page)
        page.screenshot(path=str(shots / "fleet-tables.png"), full_page=True)

        with page.expect_download() as download:
            page.get_by_role("button", name="Save as TOML").click()
        saved = tomllib.loads(Path(download.value.path()).read_text("utf-8"))
        assert saved["fleet"]["units"] == EDITED_UNITS
        assert saved["fleet"]["shifts"] == EDITED_SHIFTS

        page.get_by_role("button", name="Keep for comparison").click()
        settle(page)
        expect(page.get_by_text("Kept “")).to_be_visible()
        kept = tomllib.loads((_scenario_library / "kept.toml").read_text("utf-8"))["kept"]
        key = list(kept.values())[-1]  # kept last (other tests of this run may keep too)
        assert "s=" + key in page.url  # the scenario kept is the one on screen
        again = tomllib.loads((_scenario_library / "scenarios" / f"{key}.toml").read_text("utf-8"))
        assert again["fleet"] == {"units": EDITED_UNITS, "shifts": EDITED_SHIFTS}

        address = page.url
        page.reload()
        settle(page)
        expect(page.get_by_role("heading", name="Scenario", exact=True)).to_be_visible()
        _shows_every_edit(page)
        other = context.new_page()  # a new session, as in a new tab or after a restart
        other.goto(address)
        settle(other)
        _shows_every_edit(other)
        browser.close()
