"""The dashboard in bokmål in a real browser: every page's visible text, Streamlit's own upload
words, the optimiser's log and its Stop button, and a phone's sidebar that closes once a page
is chosen. Driven by headless Chromium as in ``test_browser`` (which says what it needs)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from test_browser import _is_local, local_page, server, settle

__all__ = ["server"]  # the fixture, imported for the tests below

PAGES_NB = ["Scenario", "Kart", "Resultater", "Sammenlign", "Optimer", "Nytte og kostnad"]
# English a bokmål reader must not meet: words of running text, Streamlit's defaults, column
# keys, an empty cell's "None", an interval's stray "lo"; (Streamlit's icon names and its
# "Skip to main content" link are read by screen readers only, and left out below)
ENGLISH = re.compile(
    r"\b(the|and|of|with|per file|Upload|Browse files|None|NaN|units?|unit_hours_per_week|"
    r"share|met|round|lo|hi|vehicles|police|baseline|candidate|former)\b"
)
UNSEEN = ("Skip to main content", "keyboard_double_arrow_left", "keyboard_arrow_right", "upload")


def _english_in(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    return [line for line in lines if line and line not in UNSEEN and ENGLISH.search(line)]


def test_every_page_reads_in_bokmaal_after_a_run(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("PLANNER_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser, page, requested = local_page(p, server, timeout=120_000)
        page.goto(server)
        settle(page)
        sidebar = page.get_by_test_id("stSidebar")
        # Streamlit's own upload words, in bokmål (and back in English on a switch)
        uploader = page.get_by_test_id("stFileUploader")
        expect(uploader.get_by_text("Last opp", exact=True)).to_be_visible()
        expect(uploader.get_by_text(re.compile(r"1 MB per fil\b"))).to_be_visible()
        sidebar.get_by_role("button", name="Kjør simulering").click()
        expect(sidebar.get_by_text(re.compile(r"^Simulert (på|før)"))).to_be_visible()
        settle(page)
        found: dict[str, list[str]] = {}
        for name in PAGES_NB:
            sidebar.get_by_text(name, exact=True).click()
            settle(page)
            page.wait_for_timeout(1500)
            text = page.get_by_test_id("stMain").inner_text() + sidebar.inner_text()
            found[name] = _english_in(text)
            numbers = re.findall(r"\d,\d{3}\b", text)  # "3,500": an English thousands comma
            assert not numbers, (name, numbers)
            assert page.get_by_test_id("stException").count() == 0, name
            page.screenshot(path=str(shots / f"nb-{name.lower()}.png"), full_page=True)
        assert not any(found.values()), found
        sidebar.get_by_text("English", exact=True).click()
        settle(page)
        sidebar.get_by_text("Scenario", exact=True).click()
        settle(page)
        expect(uploader.get_by_text("Upload", exact=True)).to_be_visible()
        expect(uploader.get_by_text(re.compile(r"1MB per file"))).to_be_visible()
        browser.close()
    assert all(_is_local(url, server) for url in requested)


def test_the_optimiser_speaks_bokmaal_and_a_stop_keeps_the_rounds_done(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser, page, _ = local_page(p, server, timeout=120_000)
        page.goto(server)
        settle(page)
        page.get_by_test_id("stSidebar").get_by_text("Optimer", exact=True).click()
        settle(page)
        field = page.get_by_role("spinbutton", name="Replikasjoner per simulert forslag")
        field.fill("2")
        field.press("Enter")
        settle(page)
        page.get_by_role("button", name="Optimer", exact=True).click()
        expect(page.get_by_text(re.compile(r"^Runde 1: \d+ kjøretøy"))).to_be_visible()
        bar = page.get_by_test_id("stProgress")
        expect(bar.get_by_text(re.compile(r"av høyst \d+ simuleringer · omtrent"))).to_be_visible()
        page.get_by_role("button", name="Stopp", exact=True).click()
        settle(page)
        expect(page.get_by_text(re.compile(r"^Stoppet etter \d+ runde"))).to_be_visible()
        # what was simulated before the Stop is kept: the rounds table has its rows
        expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
        browser.close()


def test_on_a_phone_the_sidebar_closes_once_a_page_is_chosen(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("PLANNER_SCREENSHOTS") or tmp_path)
    with sync_playwright() as p:
        browser, page, _ = local_page(p, server, 390, 844, timeout=120_000)
        page.goto(server)
        settle(page)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar).to_have_attribute("data-collapsed", "true")  # closed on a phone
        page.get_by_test_id("stExpandSidebarButton").click()
        expect(sidebar).to_have_attribute("data-collapsed", "false")
        sidebar.get_by_text("Resultater", exact=True).click()
        settle(page)
        expect(sidebar).to_have_attribute("data-collapsed", "true")
        expect(page.get_by_role("heading", name="Resultater", exact=True)).to_be_visible()
        page.screenshot(path=str(shots / "phone-nb.png"), full_page=True)
        browser.close()


def test_a_switch_of_language_keeps_the_page_working_and_plays_the_day(
    server: str, tmp_path: Path
) -> None:
    """Switch to English on the Scenario page (its time fields drawn in bokmål), run, then the
    Map page's played-back day: its clock moves when played, in the reader's language."""
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("PLANNER_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser, page, requested = local_page(p, server, timeout=120_000)
        page.goto(server)
        settle(page)
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("English", exact=True).click()
        settle(page)
        sidebar.get_by_role("button", name="Run simulation").click()
        expect(sidebar.get_by_text(re.compile(r"^Simulated (in|before)"))).to_be_visible()
        settle(page)
        assert page.get_by_test_id("stException").count() == 0
        sidebar.get_by_text("Norsk (bokmål)", exact=True).click()
        settle(page)
        sidebar.get_by_text("Kart", exact=True).click()
        settle(page)
        assert page.get_by_test_id("stException").count() == 0
        day = page.frame_locator("iframe").last
        clock = day.locator("#clock")
        expect(clock).to_have_text(re.compile(r"^\d\d:\d\d$"))
        expect(day.locator("#weekday")).to_have_text(
            re.compile(r"^(mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag)$", re.IGNORECASE)
        )
        before = clock.inner_text()
        day.locator("#play").click()
        page.wait_for_timeout(1500)
        expect(clock).not_to_have_text(before)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(shots / "nb-kart-avspilling.png"), full_page=True)
        browser.close()
    assert all(_is_local(url, server) for url in requested)


def _shown(page: object, label: str) -> str:
    """The choice a selectbox shows, in the words the browser draws."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)  # type: ignore[attr-defined]
    return str(box.locator("input").first.input_value() or box.inner_text())


def test_a_switch_of_language_keeps_every_choice_shown(server: str) -> None:
    """Streamlit sends a choice's label to the browser: switched to English, a radio showed no
    page chosen and a selectbox its bokmål words, though the choices were unchanged."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser, page, _ = local_page(p, server)
        page.goto(f"{server}/?lang=nb")
        settle(page)
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("Kart", exact=True).click()
        settle(page)
        page.get_by_test_id("stSelectbox").filter(has_text="Fargelegg soner etter").click()
        page.get_by_role("option", name="Responstid, median (min)").click()
        settle(page)
        page.get_by_text("Oslo: bydeler", exact=True).click()
        settle(page)
        sidebar.get_by_text("English", exact=True).click()
        settle(page)
        expect(page.get_by_role("heading", name="Map", exact=True)).to_be_visible()
        expect(sidebar.get_by_role("radio", name="Map", exact=True)).to_be_checked()
        expect(page.get_by_role("radio", name="Oslo: city districts", exact=True)).to_be_checked()
        assert _shown(page, "Shade zones by") == "Response time, median (min)"
        sidebar.get_by_text("Optimise", exact=True).click()
        settle(page)
        page.get_by_test_id("stSelectbox").filter(has_text="Target KPI").click()
        page.get_by_role("option", name="Police officer-hours", exact=True).click()
        settle(page)
        sidebar.get_by_text("Norsk (bokmål)", exact=True).click()
        settle(page)
        expect(sidebar.get_by_role("radio", name="Optimer", exact=True)).to_be_checked()
        assert _shown(page, "Mål for nøkkeltall") == "Polititimer (tjenestepersoner)"
        browser.close()
