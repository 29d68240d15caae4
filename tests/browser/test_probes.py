"""Tests of the browser test's own probes: pure logic, and small fixture pages in Chromium."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import probes
import pytest
import sphinx_design
from local_site import is_external, serve

ORIGIN = "http://127.0.0.1:8123"

# --- raw TeX --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        r"the bump \[\begin{split} \varphi_\sigma(x) = 1 \end{split}\]",
        r"where \(\sigma > 0\)",
        r"Heading with \sigma in it",
        r"$$x^2$$",
        r"a width $\sigma$ learned",
        r"\frac{1}{2}",
    ],
)
def test_raw_tex_is_found(text: str) -> None:
    found = probes.find_raw_tex(text)
    assert found
    assert all("\n" not in snippet for snippet in found)


@pytest.mark.parametrize(
    "text",
    [
        "The width \u03c3 \u2265 0 is learned: \u03c6(x) = exp(\u2212x\u00b2).",  # typeset, as text
        "It costs $5 and $10 in total.",  # prices: a space after the first $
        "A path a\\b and a lone backslash \\ here.",  # one letter, or none
        "",
    ],
)
def test_typeset_or_plain_text_passes(text: str) -> None:
    assert probes.find_raw_tex(text) == []


def test_raw_tex_snippet_has_context() -> None:
    (snippet,) = probes.find_raw_tex("x" * 100 + r" \sigma " + "y" * 100, context=5)
    assert snippet == r"xxxx \sigma yyyy"


# --- requests, pages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "external"),
    [
        ("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js", True),
        ("http://127.0.0.1:9999/intro.html", True),  # another port is another server
        ("http://localhost:8123/intro.html", True),  # another host name
        ("https://127.0.0.1:8123/intro.html", True),  # another scheme
        ("ws://127.0.0.1:8123/socket", True),
        (ORIGIN + "/_static/mathjax/tex-mml-chtml.js", False),
        ("data:image/png;base64,AAAA", False),
        ("about:blank", False),
    ],
)
def test_requests_that_leave_the_server(url: str, external: bool) -> None:
    assert is_external(url, ORIGIN) is external


def test_pages_of_leaves_out_static_sources_and_redirects(tmp_path: Path) -> None:
    for name, text in {
        "intro.html": "<html><body>intro</body></html>",
        "index.html": '<meta http-equiv="Refresh" content="0; url=intro.html" />',
        "chapters/one.html": "<html></html>",
        "_static/webpack-macros.html": "{% macro x() %}",
        "_sources/intro.md.html": "",
        "_modules/bumplib/data.html": "<html></html>",
    }.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert probes.pages_of(tmp_path) == [
        "_modules/bumplib/data.html",
        "chapters/one.html",
        "intro.html",
    ]


# --- overflow -------------------------------------------------------------------------------


def _box(selector: str, left: float, right: float, clipped: bool = False) -> dict[str, Any]:
    return {"selector": selector, "left": left, "right": right, "clipped": clipped}


def test_overflow_names_the_innermost_element_outside_scrolling_boxes() -> None:
    boxes = [
        _box("body > main", 0, 455),
        _box("body > main > div.citation", 16, 455),
        _box("body > main > div.citation > p", 80, 455),
        _box("body > main > div.other", 16, 300),
        _box("body > main > div.wrap > table", 16, 900, clipped=True),
        _box("body > aside", -40, 100),
        _box("body > p", -0.5, 390.6),  # sub-pixel rounding
    ]
    assert probes.overflowing(boxes, 390) == [
        "body > main > div.citation > p (x from 80 to 455 px)",
        "body > aside (x from -40 to 100 px)",
    ]
    assert probes.overflowing([probes.Box("body > img", 0, 504, clipped=False)], 390) == [
        "body > img (x from 0 to 504 px)"
    ]


# --- alternative text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alt", "reason"),
    [
        (None, "has no alt attribute"),
        ("../_images/e4be00af343f.png", "is a file name"),
        ("bump_family.PNG", "is a file name"),
        ("Figure", "is a generic word"),
        ("plot.", "is a generic word"),
        ("", None),  # decorative
        ("Binder logo", None),
        ("The mean falls like exp(-1)/(3 sigma squared).", None),  # a slash in prose
        ("The bump for sigma = 0.5: a hill of height 0.37 cut off at x = 0.5.", None),
    ],
)
def test_meaningless_alt(alt: str | None, reason: str | None) -> None:
    found = probes.meaningless_alt(alt)
    assert found is None if reason is None else reason in found


# --- probes in Chromium, on fixture pages -----------------------------------------------------

TAB_SET = """<div class="sd-tab-set">
{tabs}</div>"""
TAB = """<input {checked}id="{set}-{sync}" name="{set}" type="radio">
<label class="sd-tab-label" data-sync-group="backend" data-sync-id="{sync}" for="{set}-{sync}">
{sync}</label><div class="sd-tab-content"><p>{sync} in set {set}</p></div>
"""


def tab_set(name: str, sync_ids: tuple[str, ...]) -> str:
    """One sphinx-design tab set of the sync group "backend", as sphinx-design 0.8 writes it."""
    tabs = "".join(
        TAB.format(checked='checked="checked" ' * (i == 0), set=name, sync=sync)
        for i, sync in enumerate(sync_ids)
    )
    return TAB_SET.format(tabs=tabs)


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Small pages served on 127.0.0.1, with sphinx-design's own tab script and style."""
    folder = tmp_path_factory.mktemp("pages")
    static = Path(sphinx_design.__file__).parent / "static"
    for name in ("design-tabs.js", "sphinx-design.min.css"):
        shutil.copy(static / name, folder / name)
    head = '<link rel="stylesheet" href="sphinx-design.min.css">'
    script = '<script src="design-tabs.js"></script>'
    twins = tab_set("a", ("tf", "jax", "torch")) + tab_set("b", ("tf", "jax", "torch"))
    pages = {
        "synced.html": head + script + twins + tab_set("c", ("jax", "tf")),
        "unsynced.html": head + twins,  # no script: the twins do not follow
        "images.html": '<img src="a.png" alt="a.png"><img src="b.png" alt="Binder logo">'
        '<img src="c.png" alt="">',
        "unlabelled.html": '<html lang="en"><title>t</title><main><input type="range"></main>',
        "outputs.html": '<div class="cell_output"><img src="a.png" alt="A bump."></div>',
    }
    for name, body in pages.items():
        (folder / name).write_text(f"<!DOCTYPE html>{body}", encoding="utf-8")
    with serve(folder) as origin:
        yield origin


def test_synced_tabs_follow_each_other(page: Any, fixture_site: str) -> None:
    page.goto(f"{fixture_site}/synced.html")
    assert probes.check_synced_tabs(page) == []
    assert page.locator("#c-tf").is_checked()  # the last click chose "tf" everywhere


def test_tabs_that_do_not_follow_are_reported(page: Any, fixture_site: str) -> None:
    page.goto(f"{fixture_site}/unsynced.html")
    problems = probes.check_synced_tabs(page)
    assert (
        "sync group 'backend': tab 'jax' chosen in tab set 1 is not chosen in its twin, "
        in (problems[0])
    )
    assert len(problems) == 4  # jax and torch, from each of the two sets


def test_images_without_meaningful_alt_are_reported(page: Any, fixture_site: str) -> None:
    page.goto(f"{fixture_site}/images.html")
    assert probes.check_image_alt(page) == [
        "image a.png: alt 'a.png' is a file name, not what the image shows"
    ]


def test_axe_reports_rule_impact_nodes_and_help(page: Any, fixture_site: str) -> None:
    page.goto(f"{fixture_site}/unlabelled.html")
    (problem,) = probes.check_accessibility(page)
    assert problem.startswith("axe label (critical, 1 nodes): Form elements must have labels (")
    assert "dequeuniversity.com/rules/axe/" in problem
    assert "\n    input: " in problem


def notebook_with(tmp_path: Path, cells: list[dict[str, Any]]) -> Path:
    """A notebook file of code cells with the given metadata and outputs."""
    path = tmp_path / "chapter.ipynb"
    code = [{"cell_type": "code", "source": "", **cell} for cell in cells]
    path.write_text(json.dumps({"cells": code}), encoding="utf-8")
    return path


def test_outputs_a_page_must_show(tmp_path: Path) -> None:
    png = {"output_type": "display_data", "data": {"image/png": "AAAA", "text/plain": "<Fig>"}}
    jshtml = {"output_type": "execute_result", "data": {"text/html": ['<img id="_anim_img1a">']}}
    notebook = notebook_with(
        tmp_path,
        [
            {"metadata": {}, "outputs": [png, png]},
            {"metadata": {"tags": ["remove-output"]}, "outputs": [png]},
            {"metadata": {}, "outputs": [jshtml, {"output_type": "stream", "text": "x"}]},
        ],
    )
    assert probes.shown_outputs(notebook) == (2, 1)


def test_missing_outputs_are_reported(page: Any, fixture_site: str, tmp_path: Path) -> None:
    png = {"output_type": "display_data", "data": {"image/png": "AAAA"}}
    page.goto(f"{fixture_site}/outputs.html")
    assert (
        probes.check_outputs(page, notebook_with(tmp_path, [{"metadata": {}, "outputs": [png]}]))
        == []
    )
    notebook = notebook_with(tmp_path, [{"metadata": {}, "outputs": [png, png]}])
    assert probes.check_outputs(page, notebook) == [
        "shows 1 output image(s), but chapter.ipynb has 2"
    ]
