"""The Map page in a real browser (headless Chromium, as tests/test_browser.py drives it).

deck.gl draws the map, its names included, on a canvas, so the names are checked two ways: the
chart's accessible description lists the places named, and the pixels where the dashboard puts
"Bærum" and "Lillestrøm" change when the place names are switched off (and a corner with no
name does not). Every request the page makes goes to the dashboard's own server: no tiles, no
style, no font. Screenshots in bokmål and English (and of the Oslo view) are saved to
$PLANNER_SCREENSHOTS, else a temporary folder.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from test_browser import _is_local, local_page, server, settle  # noqa: F401

from planner.dashboard.pages import map_page
from planner.geo.geodata import load_region

REGION = "oslo_akershus"


def _default_units() -> list[str]:
    """The bases of the scenario the dashboard opens with."""
    from planner.dashboard.model import shipped_scenarios
    from planner.dashboard.state import DEFAULT_SCENARIO
    from planner.scenario.loading import scenario_from_mapping

    s = scenario_from_mapping(shipped_scenarios()[DEFAULT_SCENARIO], DEFAULT_SCENARIO)
    return [u.base for u in s.fleet.units] if s.units_are_active else []


def _canvas(page: Any) -> tuple[np.ndarray, dict[str, float]]:
    """The map's pixels as the page shows them, and where the map is on the page."""
    box = page.get_by_test_id("stDeckGlJsonChart").locator("canvas").first.bounding_box()
    shot = page.screenshot(clip=box)
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=int), box


def _changed(a: np.ndarray, b: np.ndarray, box: tuple[float, ...]) -> float:
    """The share of pixels inside ``box`` (x0, y0, x1, y1) that differ between two shots."""
    x0, y0, x1, y1 = (round(v) for v in box)
    x0, y0 = max(x0, 0), max(y0, 0)
    part_a, part_b = a[y0:y1, x0:x1], b[y0:y1, x0:x1]
    return float((np.abs(part_a - part_b).max(axis=2) > 40).mean())


def test_the_map_names_its_places_offline_in_both_languages(
    server: str,  # noqa: F811 (the fixture of test_browser, imported above)
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("PLANNER_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    region = load_region(REGION)
    with sync_playwright() as p:
        browser, page, requested = local_page(p, server, height=1100)
        page.goto(f"{server}/?lang=nb")
        settle(page)
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("Kart", exact=True).click()
        settle(page)
        chart = page.get_by_test_id("stDeckGlJsonChart")
        expect(chart.locator("canvas").first).to_be_visible()
        page.wait_for_timeout(3000)  # deck.gl builds its font atlas and draws
        described = chart.get_attribute("aria-label") or ""
        assert described.startswith("Kart – Hele regionen."), described
        for name in ("Bærum", "Lillestrøm", "Aurskog-Høland", "Ås", "Oslo"):
            assert name in described, name
        # the colour bar's title with its unit, its numbers in bokmål
        expect(
            page.get_by_text("Forventede krisehenvendelser per år (henvendelser/år)")
        ).to_be_visible()
        expect(page.get_by_text("1 600", exact=True)).to_be_visible()
        expect(page.get_by_text("Mottakende institusjoner:", exact=False)).to_be_visible()
        page.screenshot(path=str(shots / "map-page-nb.png"), full_page=True)
        named, box = _canvas(page)

        # the same map without its names: the names' pixels change, a bare corner does not
        page.get_by_text("Stedsnavn", exact=True).click()
        settle(page)
        page.wait_for_timeout(2500)
        bare, again = _canvas(page)
        assert again == box
        view = map_page.fit_view(map_page.view_choices(region)["region"])
        drawn = map_page.labels(region, "region", _default_units())
        # the dashboard places names for a chart of CHART_WIDTH × CHART_HEIGHT px; deck.gl
        # centres the view in the chart as drawn
        dx = (box["width"] - map_page.CHART_WIDTH) / 2
        dy = (box["height"] - map_page.CHART_HEIGHT) / 2
        screen = map_page._Screen(view, map_page.CHART_WIDTH, map_page.CHART_HEIGHT)
        for name in ("Bærum", "Lillestrøm"):
            row = next(r for r in drawn if r["text"] == name)
            x, y = screen.px(row["lon"], row["lat"])
            x0, y0, x1, y1 = map_page.text_box(x + dx, y + dy, name, row["size"])
            assert _changed(named, bare, (x0, y0, x1, y1)) > 0.15, name
        assert _changed(named, bare, (0, 0, 60, 40)) == 0.0  # land beyond the region, unnamed

        # English: the same map, its words and numbers in English
        sidebar.get_by_text("English", exact=True).click()
        settle(page)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_text("Place names", exact=True).click()
        settle(page)
        page.wait_for_timeout(2500)
        described = chart.get_attribute("aria-label") or ""
        assert described.startswith("Map – Whole region."), described
        assert "Bærum" in described and "Lillestrøm" in described
        expect(page.get_by_text("Expected crisis calls a year (calls/year)")).to_be_visible()
        expect(page.get_by_text("1,600", exact=True)).to_be_visible()
        page.screenshot(path=str(shots / "map-page-en.png"), full_page=True)

        # Oslo's bydeler, zoomed: their names
        page.get_by_text("Oslo: city districts", exact=True).click()
        settle(page)
        page.wait_for_timeout(2500)
        described = chart.get_attribute("aria-label") or ""
        assert described.startswith("Map – Oslo: city districts."), described
        for name in ("Grünerløkka", "St. Hanshaugen", "Søndre Nordstrand", "Marka"):
            assert name in described, name
        assert page.get_by_test_id("stException").count() == 0
        page.screenshot(path=str(shots / "map-page-oslo-en.png"), full_page=True)
        browser.close()
    for shot in ("map-page-nb", "map-page-en", "map-page-oslo-en"):
        assert (shots / f"{shot}.png").stat().st_size > 20_000
    assert requested and all(_is_local(url, server) for url in requested), [
        url for url in requested if not _is_local(url, server)
    ]
