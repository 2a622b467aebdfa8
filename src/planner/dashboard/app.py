"""The dashboard's frame: language, pages, and the run panel every page shares.

``streamlit run app.py`` runs ``main()``. A run is started by a callback (which Streamlit calls
before the page is drawn), so the page below already shows the new results; clicking anything
while it runs, the Stop button included, interrupts it between two replications.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import streamlit as st

from planner.dashboard import state
from planner.dashboard.model import Run, merged, resize_fleet, set_value, simulation_key, validate
from planner.dashboard.pages import compare, economics, map_page, optimise, results, scenario
from planner.dashboard.text import LANG_NAMES, LANGS, Words, plain, words
from planner.dashboard.view import num
from planner.limits import MAX_REPLICATIONS

# the sidebar's fields hold what the scenario allows (planner schema)
RUN_LIMITS = {"replications": MAX_REPLICATIONS}

PAGES: dict[str, Callable[[Words], None]] = {
    "scenario": scenario.render,
    "map": map_page.render,
    "results": results.render,
    "compare": compare.render,
    "optimise": optimise.render,
    "economics": economics.render,
}


def _resize_units(key: str) -> None:
    n = int(st.session_state[key])
    state.edit(resize_fleet(state.raw(), n))


def _set_run(path: str, key: str) -> None:
    text = str(st.session_state[key]).strip()
    try:
        value = int(text)
    except ValueError:
        st.session_state.bad[path] = f"{text!r} is not a whole number"
        return
    st.session_state.bad.pop(path, None)
    state.edit(set_value(state.raw(), path, value))


def _request_run() -> None:
    st.session_state.pending_run = True


def _run_panel(w: Words) -> None:
    raw = state.raw()
    s, problems = validate(raw)
    side = st.sidebar
    side.subheader(w("run_header"))
    m = merged(raw)
    # one key per scenario opened: resizing keeps the field (and its focus), bound to the fleet
    g = str(state.gen())
    state.bind(f"units:{g}", "fleet.units", len)
    side.number_input(
        w("units"),
        min_value=0,
        max_value=200,
        value=min(len(m["fleet"]["units"]), 200),
        step=1,
        key=f"units:{g}",
        help=w("units_help"),
        on_change=_resize_units,
        args=(f"units:{g}",),
    )
    # replications as a number; the seed as text, as seeds reach 2**63 and a number field 2**53
    key = f"replications:{state.gen()}"
    c1, c2 = side.columns(2)
    c1.number_input(
        w("replications"),
        min_value=1,
        max_value=RUN_LIMITS["replications"],
        value=min(max(int(m["run"]["replications"]), 1), RUN_LIMITS["replications"]),
        key=key,
        on_change=_set_run,
        args=("run.replications", key),
    )
    state.bind(key, "run.replications", int)
    key = f"seed:{state.gen()}"
    c2.text_input(
        w("seed"),
        value=str(m["run"]["seed"]),
        key=key,
        on_change=_set_run,
        args=("run.seed", key),
    )
    state.bind(key, "run.seed", str)
    if "run.seed" in st.session_state.bad:
        side.error(f"run.seed: {plain(st.session_state.bad['run.seed'])}")
    side.button(
        w("run"),
        key="run_button",
        type="primary",
        disabled=s is None,
        on_click=_request_run,
        width="stretch",
    )
    run = state.last_run()
    if s is not None:
        state.warm(s)  # the server's workers start while the planner reads the page
    if s is None:
        side.error(w("invalid") + "\n\n" + "\n\n".join(w.problem(p) for p in problems[:5]))
    elif run is not None and simulation_key(s) != run.key:
        side.warning(w("stale"))
    elif run is not None:
        side.caption(_done(w, run))


def _execute(w: Words) -> None:
    """Run the scenario being edited, showing progress; a click anywhere stops it."""
    s, _ = validate(state.raw())
    if s is None:
        return
    slot = st.empty()
    with slot.container(border=True):
        bar = st.progress(0.0, text=w("running_scenario"))
        st.button(w("stop"), key="stop_button")

    def progress(what: str, done: int, total: int) -> None:
        label = w("running_scenario") if what == "scenario" else w("running_baseline")
        bar.progress(done / total, text=w("running", what=label, done=done, total=total))

    st.session_state.run = state.execute(s, progress)
    slot.success(_done(w, st.session_state.run))


def _done(w: Words, run: Run) -> str:
    """How the last run was made: simulated in so many seconds, or found simulated before."""
    return w("done_cached") if run.from_cache else w("done_in", seconds=num(run.seconds, w, 1))


def main() -> None:
    st.set_page_config(page_title="planner", page_icon="🚑", layout="wide")
    state.init()
    if st.session_state.pop("resync", False):  # the page changed the scenario while drawing
        state.sync()
    lang = st.sidebar.radio(
        "Språk / Language",
        LANGS,
        index=_index(LANGS, st.query_params.get("lang")),
        key="lang",
        format_func=lambda code: LANG_NAMES[code],
        horizontal=True,
        on_change=state.relabel,
    )
    w = words(lang)
    # the page's language, for screen readers, hyphenation and translation tools (a constant
    # script of our own: no user text reaches it)
    st.html(
        f"<script>document.documentElement.lang = {lang!r};\n{upload_words_script(lang)}</script>",
        unsafe_allow_javascript=True,
    )
    st.sidebar.title(w("app_title"))
    st.sidebar.caption(w("app_caption"))
    page = st.sidebar.radio(
        w("page"),
        list(PAGES),
        index=_index(list(PAGES), st.query_params.get("page")),
        key=state.worded("page"),
        format_func=lambda p: w(f"page_{p}"),
    )
    # on a phone the sidebar covers the page: it closes once a page is chosen (a constant
    # script of our own; the page's key is one of PAGES)
    st.html(f"<script>{close_sidebar_script(page)}</script>", unsafe_allow_javascript=True)
    if st.session_state.pop("opened_missing", False):
        st.warning(w("library_missing"))
    problem = state.library_problem()
    if problem:
        st.sidebar.caption(w("library_off", problem=plain(problem)))
    if st.session_state.get("stop_button"):
        st.info(w("stopped"))
    if st.session_state.pop("pending_run", False):
        _execute(w)
    _run_panel(w)
    PAGES[page](w)
    state.remember(page, lang)


UPLOAD_WORDS = {
    "Upload": "Last opp",
    "Add files": "Legg til filer",
    "Drag and drop a file here": "Dra og slipp en fil her",
    "Drag and drop files here": "Dra og slipp filer her",
}
"""Streamlit's own words on a file upload (it has no setting for them) in bokmål."""


def upload_words_script(lang: str) -> str:
    """A script of our own (no user text) that writes Streamlit's upload words in ``lang``.

    Streamlit draws "Upload" and "1MB per file" in English whatever the page's language; the
    script swaps those text nodes for the reader's words (and back, on a switch to English)
    whenever the uploader is drawn, watching the page for it."""
    pairs = UPLOAD_WORDS if lang == "nb" else {v: k for k, v in UPLOAD_WORDS.items()}
    size = (
        ["(\\d+)\\s?MB per file", "$1 MB per fil"]
        if lang == "nb"
        else ["(\\d+) MB per fil\\b", "$1MB per file"]
    )
    return (
        f"window.plannerUploadWords = {json.dumps(pairs)};"
        f"window.plannerUploadSize = {json.dumps(size)};"
        "if (!window.plannerUploadObserver) {"
        "  const swap = () => {"
        "    for (const box of document.querySelectorAll('[data-testid=\"stFileUploader\"]')) {"
        "      const walk = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);"
        "      const [pattern, by] = window.plannerUploadSize;"
        "      for (let n = walk.nextNode(); n; n = walk.nextNode()) {"
        "        const t = n.nodeValue, was = t.trim(), to = window.plannerUploadWords[was];"
        "        const next = to ? t.replace(was, to) : t.replace(new RegExp(pattern), by);"
        "        if (next !== t) n.nodeValue = next;"
        "      }"
        "    }"
        "  };"
        "  window.plannerUploadSwap = swap;"
        "  window.plannerUploadObserver = new MutationObserver(swap);"
        "  window.plannerUploadObserver.observe(document.body,"
        "    {childList: true, subtree: true, characterData: true});"
        "}"
        "window.plannerUploadSwap();"
    )


NARROW_PX = 768
"""Below this width (Streamlit's own breakpoint for a phone) the sidebar overlays the page."""


def close_sidebar_script(page: str) -> str:
    """Close the sidebar on a narrow screen when the reader has just chosen another page."""
    return (
        f"{{ const page = {json.dumps(page)};"
        f"if (window.plannerPage !== undefined && window.plannerPage !== page"
        f" && window.innerWidth < {NARROW_PX}) {{"
        "  const button = document.querySelector("
        "    '[data-testid=\"stSidebarCollapseButton\"] button');"
        "  if (button) button.click();"
        "}"
        "window.plannerPage = page; }"
    )


def _index(choices: list[str] | tuple[str, ...], wanted: str | None) -> int:
    """Where the address's choice is among the choices (the first if it names none)."""
    return list(choices).index(wanted) if wanted is not None and wanted in choices else 0
