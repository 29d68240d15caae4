"""Fixtures of the browser test: the built book served locally, read in Debian's Chromium.

pytest-playwright gives the browser, its contexts and pages (and ``--screenshot``,
``--output``, ``--tracing``); this file points it at the system's Chromium
(``$CHROMIUM``, else ``/usr/bin/chromium``: Playwright's own browser download is
never used) and serves ``--html-dir`` (default ``_build/html``) on 127.0.0.1.
``tests/conftest.py`` leaves this folder out of a plain ``pytest tests``; run it
with ``bash scripts/browser_test.sh``.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import html5lib
import pytest
import pytest_check_links.plugin

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # local_site, shared with the PDF build

from local_site import CHROMIUM_ARGS, serve  # noqa: E402
from probes import pages_of  # noqa: E402


@functools.cache
def parsed_page(path: str) -> Any:
    """The HTML file at ``path``, parsed by html5lib as pytest-check-links parses it."""
    with open(path, encoding="utf-8") as page:
        return html5lib.parse(page, namespaceHTMLElements=False)


class ParseEachPageOnce:
    """html5lib for pytest-check-links, parsing each page once instead of once per link.

    pytest-check-links parses a link's target page again for every link with an anchor;
    the index and the API page alone get hundreds (tens of minutes on two cores, minutes
    here). A page is parsed the same way each time, so the first parse serves them all.
    """

    @staticmethod
    def parse(source: Any, **options: Any) -> Any:
        """Parse ``source``: a page file once per run, anything else as html5lib does."""
        name = getattr(source, "name", None)
        if isinstance(name, str) and options == {"namespaceHTMLElements": False}:
            return parsed_page(name)
        return html5lib.parse(source, **options)


pytest_check_links.plugin.html5lib = ParseEachPageOnce


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--html-dir``, the built book to read."""
    parser.addoption("--html-dir", default=str(ROOT / "_build" / "html"), help="built HTML book")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give each test that asks for ``page_name`` every page of the book, one test each."""
    if "page_name" in metafunc.fixturenames:
        html_dir = Path(metafunc.config.getoption("--html-dir"))
        if not html_dir.is_dir():
            raise pytest.UsageError(f"no built book at {html_dir}: run bash scripts/build_book.sh")
        metafunc.parametrize("page_name", pages_of(html_dir))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch the system's Chromium, headless, with flags for a closed network."""
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).is_file():
        pytest.exit(
            f"no Chromium at {chromium}: as root, apt-get install -y chromium "
            "(bash scripts/browser_test.sh does), or set CHROMIUM=/path/to/chromium",
            returncode=2,
        )
    return {**browser_type_launch_args, "executable_path": chromium, "args": list(CHROMIUM_ARGS)}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """Contexts without service workers, at one device pixel per CSS pixel."""
    return {**browser_context_args, "service_workers": "block", "device_scale_factor": 1}


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """The built book served on 127.0.0.1: its origin, ``http://127.0.0.1:PORT``.

    Overrides pytest-playwright's fixture of this name (``--base-url``), so that
    every context opens relative URLs on the local copy.
    """
    with serve(Path(pytestconfig.getoption("--html-dir"))) as origin:
        yield origin
