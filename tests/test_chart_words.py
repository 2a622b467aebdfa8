"""Every chart, figure and map of the dashboard has a text alternative, and the charts write
numbers the reader's way ("3 500", "0,8", "80 %" in bokmål)."""

from __future__ import annotations

import json
from typing import Any

from test_dashboard import _app, _run

from planner.dashboard.view import NORWEGIAN_NUMBERS

DRAWN = {"vega_lite_chart", "arrow_vega_lite_chart", "image", "imgs", "deck_gl_json_chart"}


def _drawn(node: Any) -> list[Any]:
    """The charts, images and maps under a node of the app's element tree."""
    found = []
    if getattr(node, "type", None) in DRAWN:
        found.append(node)
    for child in getattr(node, "children", {}).values():
        found += _drawn(child)
    return found


def _alts(element: Any) -> list[str]:
    proto = element.proto
    if hasattr(proto, "imgs"):
        return [img.alt for img in proto.imgs]
    return [proto.alt]


def test_every_chart_has_alt_text_and_bokmaal_numbers() -> None:
    at = _run(_app("nb"))
    seen = 0
    for page in ("results", "compare", "economics", "map"):
        at.sidebar.radio(key="page").set_value(page).run()
        if page == "compare":
            at.button(key="compare_run").click().run()
        assert not at.exception, [e.value for e in at.exception]
        drawn = _drawn(at.main)
        assert drawn, page
        for element in drawn:
            seen += 1
            alts = _alts(element)
            assert alts and all(len(a) > 30 for a in alts), (page, element.type, alts)
            if element.type.endswith("vega_lite_chart"):
                spec = json.loads(element.proto.spec)
                assert spec["config"]["locale"]["number"] == NORWEGIAN_NUMBERS, page
    assert seen >= 8
    # the locale is what Norwegian typesetting writes, not a copy of the code's constant
    assert NORWEGIAN_NUMBERS["decimal"] == ","
    assert NORWEGIAN_NUMBERS["thousands"] == "\u00a0"
    assert NORWEGIAN_NUMBERS["minus"] == "\u2212"
