"""Every page of the built book in headless Chromium, as readers see it.

Each page is opened three times: at 1280 px in the theme's light mode and in
its dark mode (the reader's system preference, which the theme's default
``auto`` mode follows), and at 390 px (a phone). A page fails on:

- a request that leaves the local server (blocked, so the test needs no
  network), a local request that fails or answers 4xx/5xx, a console error
  or an uncaught exception;
- axe-core finding a violation of impact serious or critical (in both modes);
- an image without alternative text that says what it shows;
- a formula left untypeset, an equation number over its formula;
- at 390 px: sideways scrolling or an element sticking out unclipped, an
  animation wider than the screen;
- fewer output images or animations than its notebook holds;
- an animation that does not advance after Play, a solution not folded or
  not opening on a click, a synced tab set whose twins do not follow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import probes
import pytest
from local_site import is_external
from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parents[2]

#: The views of each page: (width in px, colour scheme).
VIEWS = {"1280px-light": (1280, "light"), "1280px-dark": (1280, "dark"), "390px": (390, "light")}


def open_page(new_context: Any, origin: str, page_name: str, view: str) -> tuple[Any, list[str]]:
    """Open ``page_name`` in ``view``; return the page and the list its request problems go to."""
    width, scheme = VIEWS[view]
    context = new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    problems: list[str] = []
    context.route(
        "**/*",
        lambda route: (
            route.abort("blockedbyclient")
            if is_external(route.request.url, origin)
            else route.continue_()
        ),
    )

    def on_request(request: Any) -> None:
        if is_external(request.url, origin):
            problems.append(f"request to another host: {request.url}")

    def on_response(response: Any) -> None:
        if response.status >= 400 and not is_external(response.url, origin):
            problems.append(f"HTTP {response.status} for {response.url.removeprefix(origin)}")

    def on_failed(request: Any) -> None:
        if not is_external(request.url, origin):
            problems.append(f"request failed: {request.url} ({request.failure})")

    context.on("request", on_request)
    context.on("response", on_response)
    context.on("requestfailed", on_failed)
    context.on(
        "console", lambda msg: msg.type == "error" and problems.append(f"console: {msg.text}")
    )
    context.on("weberror", lambda error: problems.append(f"uncaught: {error.error}"))
    page = context.new_page()
    page.goto(f"{origin}/{page_name}", wait_until="load")
    # The theme fades colours in; without this, axe can measure a colour mid-fade (seen once:
    # the search button's text black on the dark background).
    page.add_style_tag(content="*, *::before, *::after { transition: none !important; }")
    theme = page.evaluate("() => document.documentElement.dataset.theme")
    if theme != scheme:
        problems.append(f"the theme shows {theme!r} mode for a reader who prefers {scheme}")
    return page, problems


@pytest.mark.parametrize("view", VIEWS)
def test_page(new_context: Any, base_url: str, page_name: str, view: str) -> None:
    """One page in one view passes every probe (see the module docstring)."""
    page, problems = open_page(new_context, base_url, page_name, view)
    width, _ = VIEWS[view]
    problems += probes.check_maths(page)
    problems += probes.check_equation_numbers(page)
    if view == "390px":
        problems += probes.check_overflow(page, width)
        problems += probes.check_animations(page, width)
    else:
        problems += probes.check_accessibility(page)
    if view == "1280px-light":
        problems += probes.check_image_alt(page)
        problems += probes.check_solutions(page)
        problems += probes.check_synced_tabs(page)
        notebook = ROOT / page_name.replace(".html", ".ipynb")
        if notebook.is_file():
            problems += probes.check_outputs(page, notebook)
    assert not problems, f"{page_name} at {view}:\n- " + "\n- ".join(dict.fromkeys(problems))


def test_every_toc_page_is_built(pytestconfig: pytest.Config) -> None:
    """Each page that ``_toc.yml`` lists was built."""
    html_dir = Path(pytestconfig.getoption("--html-dir"))
    toc = parse_toc_yaml(ROOT / "_toc.yml")
    missing = [name for name in toc if not (html_dir / f"{name}.html").is_file()]
    assert not missing, f"pages in _toc.yml but not in {html_dir}: {missing}"
