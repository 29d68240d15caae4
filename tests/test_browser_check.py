"""Tests of the pure logic of scripts/browser_check.py (the browser run itself is a test stage)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "browser_check.py"


def _load():
    spec = importlib.util.spec_from_file_location("browser_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


browser_check = _load()
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
        r"a width $x^2$ learned",
        r"\frac{1}{2}",
    ],
)
def test_raw_tex_is_found(text):
    found = browser_check.find_raw_tex(text)
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
def test_typeset_or_plain_text_passes(text):
    assert browser_check.find_raw_tex(text) == []


def test_raw_tex_snippet_has_context():
    (snippet,) = browser_check.find_raw_tex("x" * 100 + r" \sigma " + "y" * 100, context=5)
    assert snippet == r"xxxx \sigma yyyy"


# --- requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
        "https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css",
        "http://127.0.0.1:9999/intro.html",  # another port is another server
        "http://localhost:8123/intro.html",  # another host name
        "https://127.0.0.1:8123/intro.html",  # another scheme
        "ws://127.0.0.1:8123/socket",
    ],
)
def test_requests_that_leave_the_server(url):
    assert browser_check.is_external(url, ORIGIN)


@pytest.mark.parametrize(
    "url",
    [
        f"{ORIGIN}/chapters/01_broken_cond.html",
        f"{ORIGIN}/_static/mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
        "data:image/png;base64,iVBORw0KGgo=",
        "blob:http://127.0.0.1:8123/1234",
        "about:blank",
    ],
)
def test_local_requests(url):
    assert not browser_check.is_external(url, ORIGIN)


# --- overflow -------------------------------------------------------------------------------


def _box(selector, left, right, clipped=False):
    return {"selector": selector, "left": left, "right": right, "clipped": clipped}


def test_no_overflow_in_a_fitting_page():
    boxes = [_box("body > main", 0, 390), _box("body > main > p", 16, 374)]
    assert browser_check.overflowing(boxes, 390) == []


def test_overflow_names_the_innermost_element():
    boxes = [
        _box("body > main", 0, 455),
        _box("body > main > div.citation", 16, 455),
        _box("body > main > div.citation > p", 80, 455),
        _box("body > main > div.other", 16, 300),
    ]
    assert browser_check.overflowing(boxes, 390) == [
        "body > main > div.citation > p (x from 80 to 455 px)"
    ]


def test_overflow_inside_a_scrolling_box_is_fine():
    boxes = [
        _box("body > main > div.table-wrapper", 16, 374),
        _box("body > main > div.table-wrapper > table", 16, 900, clipped=True),
    ]
    assert browser_check.overflowing(boxes, 390) == []


def test_overflow_to_the_left_and_rounding():
    boxes = [_box("body > aside", -40, 100), _box("body > p", -0.5, 390.6)]
    assert browser_check.overflowing(boxes, 390) == ["body > aside (x from -40 to 100 px)"]


def test_boxes_as_dataclasses():
    box = browser_check.Box("body > img", 0, 504, clipped=False)
    assert browser_check.overflowing([box], 390) == ["body > img (x from 0 to 504 px)"]


# --- pages, Chromium, report ----------------------------------------------------------------


def test_pages_of_leaves_out_static_sources_and_redirects(tmp_path):
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
    assert browser_check.pages_of(tmp_path) == [
        "_modules/bumplib/data.html",
        "chapters/one.html",
        "intro.html",
    ]


def test_find_chromium_explicit_path(tmp_path):
    binary = tmp_path / "chromium"
    binary.write_text("#!/bin/sh\n", encoding="utf-8")
    assert browser_check.find_chromium(str(binary)) == str(binary)
    assert browser_check.find_chromium(str(tmp_path / "missing")) is None


def test_report_lists_failures_once_and_counts_pages():
    results = [
        browser_check.PageResult("intro.html", 1280, [], 1.0),
        browser_check.PageResult("intro.html", 390, ["console error: x", "console error: x"], 2.0),
    ]
    lines = list(browser_check._report(results, 3.0))
    assert lines[0] == "FAIL intro.html at 390 px:"
    assert lines[1] == "  - console error: x"
    assert lines[2].startswith("slowest: intro.html at 390 px 2.0 s")
    assert lines[-1] == ("browser_check: 1 pages x 2 widths (1280 px, 390 px) in 3 s: 1 failed")


def test_cli_without_chromium_says_what_to_install(tmp_path, capsys):
    (tmp_path / "intro.html").write_text("<html></html>", encoding="utf-8")
    code = browser_check.main([str(tmp_path), "--chromium", str(tmp_path / "no-chromium")])
    assert code == 2
    assert "apt-get install -y chromium" in capsys.readouterr().err


def test_cli_without_built_book(tmp_path, capsys):
    assert browser_check.main([str(tmp_path / "nothing")]) == 2
    assert "no built HTML" in capsys.readouterr().err
