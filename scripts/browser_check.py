r"""Open every page of the built book in headless Chromium, as a reader would, and check it.

Usage::

    python scripts/browser_check.py [HTML_DIR] [--chromium PATH] [--screenshots DIR]

``HTML_DIR`` defaults to ``_build/html``. The folder is served on 127.0.0.1
(a free port) and every page in it (not ``_static/`` or ``_sources/``) is
opened in Debian's Chromium, driven by Playwright (``requirements-browser.txt``;
Playwright's own browser download is never used), at 1280 px and at 390 px
wide. A page fails on:

- **a request that leaves the local server** (any other host, ``http``,
  ``https`` or ``ws``; such requests are blocked, so the check needs no
  network) and any local request that fails or answers 4xx/5xx (a missing
  favicon, say);
- **a console error** or an uncaught exception in the page;
- **a formula left untypeset**: once MathJax has finished, an error box
  (``mjx-merror``) or raw TeX (``\sigma``, ``\frac{``, ``$$``, ``\(``)
  in the page's visible text outside code blocks;
- **horizontal overflow at 390 px**: the page scrolls sideways, or an element
  sticks out of the viewport without a scrolling box of its own around it;
- **an animation that does not advance**: each Matplotlib jshtml player must
  change frame after a click on its Play button (and fit the viewport);
- **a solution that is not folded** (sphinx-exercise ``solution`` with
  ``:class: dropdown``): hidden when the page opens, shown after a click on its
  title;
- **synced tabs that do not switch together**: a click on each tab of a
  sphinx-design sync group (the framework tabs of ``_ext/framework_tabs.py``)
  must select that tab, and show its content, in every tab set of the page that
  has it.

``--screenshots DIR`` also saves a full-page PNG of every page at 390 px.
Exit status 0 when every page passes, 1 with the list of failures, 2 when
Chromium or Playwright is missing (with what to install).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import queue
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (1280, 390)
PHONE_WIDTH = 390
#: Folders of the built site that hold no pages.
NOT_PAGES = {"_static", "_sources"}
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
#: Chromium flags for a headless run as root on a machine with a closed network.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
#: URL schemes that never leave the page (inline data).
LOCAL_SCHEMES = {"data", "blob", "about", "javascript"}
#: Longest wait for MathJax to typeset one page, in milliseconds.
MATHJAX_TIMEOUT_MS = 20_000
#: How long an animation gets to change frame after Play, in milliseconds.
ANIMATION_WAIT_MS = 3_000
#: Pixels an element may stick out of the viewport (sub-pixel rounding).
OVERFLOW_TOLERANCE_PX = 1.0

#: Raw TeX as it shows when MathJax did not typeset a formula: a TeX command of
#: two letters or more, a display or inline delimiter, an environment.
_RAW_TEX = re.compile(
    r"\\(?:begin|end)\{[a-z*]+\}"  # \begin{split}
    r"|\\[A-Za-z]{2,}(?![A-Za-z])"  # \sigma, \varphi, \frac, \left
    r"|\\[()\[\]]"  # \( \) \[ \]
    r"|\$\$"  # $$
    r"|(?<![\w$])\$(?=\S)[^$\n]{1,80}(?<=\S)\$(?![\w$])"  # $x^2$
)


# --- pure logic (tested in tests/test_browser_check.py) --------------------------------------


def find_raw_tex(text: str, context: int = 25) -> list[str]:
    """Return each piece of raw TeX in ``text`` (visible text, code removed), with context.

    An empty list means that every formula was typeset. Each item is the match
    with up to ``context`` characters either side, on one line.
    """
    found = []
    for match in _RAW_TEX.finditer(text):
        start, end = max(0, match.start() - context), min(len(text), match.end() + context)
        found.append(" ".join(text[start:end].split()))
    return found


def is_external(url: str, origin: str) -> bool:
    """Whether loading ``url`` leaves ``origin`` (``http://127.0.0.1:PORT``).

    Inline data (``data:``, ``blob:``, ``about:``) stays local; every other
    URL must have exactly the origin's scheme, host and port.
    """
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return False
    site = urlsplit(origin)
    return (parts.scheme, parts.hostname, parts.port) != (site.scheme, site.hostname, site.port)


@dataclass(frozen=True)
class Box:
    """One element's horizontal extent in the page, as the browser laid it out.

    ``clipped`` is true when an ancestor of the element clips or scrolls its
    overflow (``overflow-x`` other than ``visible``), so that the element can
    be wider than the viewport without widening the page.
    """

    selector: str
    left: float
    right: float
    clipped: bool


def overflowing(boxes: Iterable[Box | Mapping[str, Any]], viewport_width: float) -> list[str]:
    """Return the elements that stick out of a viewport ``viewport_width`` px wide.

    Only elements with no clipping or scrolling ancestor count, and of nested
    offenders only the innermost is named: the element whose own content is too
    wide (its ancestors are too wide because of it).
    """
    offenders: list[Box] = []
    for item in boxes:
        box = item if isinstance(item, Box) else Box(**item)
        if box.clipped:
            continue
        if box.right > viewport_width + OVERFLOW_TOLERANCE_PX or box.left < -OVERFLOW_TOLERANCE_PX:
            offenders.append(box)
    named: list[str] = []
    for box in offenders:
        if not any(inner.selector.startswith(box.selector + " > ") for inner in offenders):
            named.append(f"{box.selector} (x from {box.left:.0f} to {box.right:.0f} px)")
    return named


_REDIRECT = re.compile(r"""<meta\s+http-equiv=["']?refresh""", re.IGNORECASE)


def is_redirect(html: str) -> bool:
    """Whether ``html`` is only a redirect to another page (jupyter-book's ``index.html``)."""
    return bool(_REDIRECT.search(html[:2000]))


def pages_of(html_dir: Path) -> list[str]:
    """Return every page of the built site (redirects left out), relative to ``html_dir``."""
    return sorted(
        page.relative_to(html_dir).as_posix()
        for page in html_dir.rglob("*.html")
        if page.relative_to(html_dir).parts[0] not in NOT_PAGES
        and not is_redirect(page.read_text(encoding="utf-8", errors="replace"))
    )


def find_chromium(explicit: str | None = None) -> str | None:
    """Return the Chromium to use: ``explicit``, Debian's, or one on PATH; None if none."""
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageResult:
    """What went wrong on one page at one width."""

    page: str
    width: int
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- the browser ----------------------------------------------------------------------------

# Visible text of the page without code, scripts and typeset maths: where raw TeX
# must not remain.
_VISIBLE_TEXT_JS = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll(
    'pre, code, span.pre, script, style, textarea, noscript, mjx-container, mjx-assistive-mml,'
    + ' .highlight, .output.text_plain, .output.stream, .output.traceback, .cell_input,'
    + ' .toggle-details, [hidden], template, dialog'
  ).forEach((node) => node.remove());
  return copy.innerText || copy.textContent || "";
}"""

# Every element's horizontal extent (its content's, when that overflows it) and whether an
# ancestor clips or scrolls it: one walk down the tree, so the page is styled once per element.
_BOXES_JS = """() => {
  const boxes = [];
  const walk = (el, path, clipped) => {
    for (const child of el.children) {
      const style = getComputedStyle(child);
      if (style.display === 'none' || style.position === 'fixed') continue;
      let part = child.tagName.toLowerCase();
      if (child.id) part += '#' + child.id;
      else if (child.classList.length) part += '.' + [...child.classList].slice(0, 2).join('.');
      const here = path + ' > ' + part;
      const rect = child.getBoundingClientRect();
      if (rect.width > 0 && rect.height > 0 && style.visibility !== 'hidden') {
        const visible = style.overflowX === 'visible';
        const right = visible ? Math.max(rect.right, rect.left + child.scrollWidth) : rect.right;
        boxes.push({selector: here, left: rect.left + window.scrollX,
                    right: right + window.scrollX, clipped});
      }
      walk(child, here, clipped || style.overflowX !== 'visible');
    }
  };
  walk(document.body, 'body', false);
  return boxes;
}"""

# Display equations whose number (span.eqno) overlaps the typeset formula.
_EQNO_JS = """() => {
  const hits = [];
  for (const math of document.querySelectorAll('div.math')) {
    const number = math.querySelector(':scope > span.eqno');
    const formula = math.querySelector(':scope > mjx-container');
    if (!number || !formula) continue;
    const a = number.getBoundingClientRect();
    const f = formula.getBoundingClientRect();
    const b = {left: Math.max(f.left, 0), right: Math.min(f.right, window.innerWidth)};
    // the formula's visible ink: its inner math box, clipped to its scrolling box
    const inner = formula.querySelector('mjx-math');
    const m = inner ? inner.getBoundingClientRect() : f;
    const left = Math.max(m.left, b.left), right = Math.min(m.right, b.right);
    if (a.width && left < a.right - 1 && a.left < right - 1
        && a.top < m.bottom && m.top < a.bottom) {
      hits.push((number.textContent || '').replace('#', '').trim() || math.id);
    }
  }
  return hits;
}"""

MATHJAX_JS = """async (timeout) => {
  if (!document.querySelector('script[src*="mathjax"]')) return {loaded: false};
  const start = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - start > timeout) return {loaded: false, error: 'MathJax never started'};
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    await Promise.race([MathJax.startup.promise,
      new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), timeout))]);
  } catch (e) { return {loaded: true, error: 'MathJax failed: ' + e}; }
  const errors = [...document.querySelectorAll('mjx-merror')].map(
    (el) => (el.getAttribute('data-mjx-error') || el.textContent).slice(0, 120));
  return {loaded: true, typeset: document.querySelectorAll('mjx-container').length, errors};
}"""

_VISIBLE_JS = "(el) => el.checkVisibility() && el.getBoundingClientRect().height > 0"

# Every sphinx-design tab set of the page: for each synced tab, its group, its id, whether it
# is selected and whether its content is shown.
_TABS_JS = """() => [...document.querySelectorAll('.sd-tab-set')].map((set) =>
  [...set.querySelectorAll(':scope > label[data-sync-id]')].map((label) => {
    const content = document.getElementById(label.getAttribute('aria-controls'));
    return {
      group: label.dataset.syncGroup,
      id: label.dataset.syncId,
      checked: document.getElementById(label.htmlFor).checked,
      shown: content !== null && content.checkVisibility(),
    };
  }))"""


class BrowserCheck:
    """Serve ``html_dir`` on 127.0.0.1 and check its pages in one Chromium."""

    def __init__(self, html_dir: Path, chromium: str, screenshots: Path | None = None) -> None:
        """Check the site in ``html_dir`` with the Chromium binary ``chromium``."""
        self.html_dir = html_dir.resolve()
        self.chromium = chromium
        self.screenshots = screenshots
        self.origin = ""

    def serve(self) -> http.server.ThreadingHTTPServer:
        """Start a quiet static file server for the site on a free local port."""

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Print nothing per request."""

        handler = functools.partial(Quiet, directory=str(self.html_dir))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{server.server_address[1]}"
        return server

    def run(self, pages: Sequence[str], jobs: int = 3) -> list[PageResult]:
        """Check ``pages`` at every width, ``jobs`` browsers at once; one result per page and width.

        Pages mostly wait (loading, layout, MathJax), so a few browsers side by
        side finish sooner even on two cores.
        """
        server = self.serve()
        todo: queue.SimpleQueue[tuple[int, int, str]] = queue.SimpleQueue()
        for order, (width, page_name) in enumerate(
            (width, page_name) for width in WIDTHS for page_name in pages
        ):
            todo.put((order, width, page_name))
        done: dict[int, PageResult] = {}
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                self._work(todo, done)
            except BaseException as error:  # reported below, after the other workers finish
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(max(1, jobs))]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            server.shutdown()
        if errors:
            raise errors[0]
        return [done[order] for order in sorted(done)]

    def _work(
        self, todo: queue.SimpleQueue[tuple[int, int, str]], done: dict[int, PageResult]
    ) -> None:
        """Take pages from ``todo`` until it is empty, in a browser of this thread's own."""
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=self.chromium, headless=True, args=list(CHROMIUM_ARGS)
            )
            contexts = {}
            try:
                for width in WIDTHS:
                    contexts[width] = browser.new_context(
                        viewport={"width": width, "height": 800},
                        device_scale_factor=1,
                        service_workers="block",
                    )
                    contexts[width].route("**/*", self._route)
                while True:
                    try:
                        order, width, page_name = todo.get_nowait()
                    except queue.Empty:
                        return
                    done[order] = self.check_page(contexts[width], page_name, width)
            finally:
                browser.close()

    def _route(self, route: Any) -> None:
        """Let local requests through; block (and so record) every other one."""
        if is_external(route.request.url, self.origin):
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def check_page(self, context: Any, page_name: str, width: int) -> PageResult:
        """Open one page at one width and run every check on it."""
        result = PageResult(page_name, width)
        start = time.perf_counter()
        page = context.new_page()
        fail = result.failures.append

        def on_request(request: Any) -> None:
            if is_external(request.url, self.origin):
                fail(f"request to another host: {request.url}")

        def on_response(response: Any) -> None:
            if response.status >= 400 and not is_external(response.url, self.origin):
                fail(f"HTTP {response.status} for {response.url.removeprefix(self.origin)}")

        def on_failed(request: Any) -> None:
            if not is_external(request.url, self.origin):
                fail(f"request failed: {request.url} ({request.failure})")

        page.on("request", on_request)
        page.on("response", on_response)
        page.on("requestfailed", on_failed)
        page.on("console", lambda msg: msg.type == "error" and fail(f"console error: {msg.text}"))
        page.on("pageerror", lambda error: fail(f"uncaught exception: {error}"))
        try:
            page.goto(f"{self.origin}/{page_name}", wait_until="load")
            self.check_maths(page, fail)
            for number in page.evaluate(_EQNO_JS):
                fail(f"equation number {number} overlaps its formula")
            if width == PHONE_WIDTH:
                self.check_overflow(page, width, fail)
            self.check_animations(page, width, fail)
            self.check_solutions(page, fail)
            self.check_synced_tabs(page, fail)
            if self.screenshots and width == PHONE_WIDTH:
                shot = self.screenshots / (page_name.replace("/", "__") + ".png")
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
        except Exception as error:  # a check that cannot run is a failure, not a crash
            fail(f"could not check the page: {type(error).__name__}: {error}")
        finally:
            page.close()
        result.seconds = time.perf_counter() - start
        return result

    @staticmethod
    def check_maths(page: Any, fail: Any) -> None:
        """Wait for MathJax; fail on its errors and on raw TeX left in the visible text."""
        state = page.evaluate(MATHJAX_JS, MATHJAX_TIMEOUT_MS)
        if state.get("error"):
            fail(state["error"])
        for error in state.get("errors", []):
            fail(f"MathJax error in a formula: {error}")
        for snippet in find_raw_tex(page.evaluate(_VISIBLE_TEXT_JS))[:5]:
            fail(f"untypeset TeX: ...{snippet}...")

    @staticmethod
    def check_overflow(page: Any, width: int, fail: Any) -> None:
        """Fail when the page scrolls sideways or an element sticks out unclipped."""
        scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
        if scroll_width > width + OVERFLOW_TOLERANCE_PX:
            fail(f"page is {scroll_width} px wide at a {width} px viewport")
        for offender in overflowing(page.evaluate(_BOXES_JS), width)[:5]:
            fail(f"sticks out of the {width} px viewport: {offender}")

    @staticmethod
    def check_animations(page: Any, width: int, fail: Any) -> None:
        """Click Play on each jshtml player; its frame must change; it must fit the viewport."""
        players = page.locator("div.animation:has(img[id^='_anim_img'])")
        for index in range(players.count()):
            player = players.nth(index)
            player.scroll_into_view_if_needed()
            box = player.bounding_box()
            if box and box["x"] + box["width"] > width + OVERFLOW_TOLERANCE_PX:
                fail(f"animation {index + 1} is {box['width']:.0f} px wide, wider than {width}")
            slider = player.locator("input.anim-slider")
            before = slider.input_value()
            player.locator("button[title='Play']").click()
            with contextlib.suppress(Exception):  # no change in time: reported below
                page.wait_for_function(
                    "([el, before]) => el.value !== before",
                    arg=[slider.element_handle(), before],
                    timeout=ANIMATION_WAIT_MS,
                    polling=50,
                )
            after = slider.input_value()
            player.locator("button[title='Pause']").click()
            if after == before:
                fail(f"animation {index + 1} did not advance after Play (frame {before})")

    @staticmethod
    def check_synced_tabs(page: Any, fail: Any) -> None:
        """A click on a synced tab selects it, with its content shown, in every set that has it."""
        choices = sorted({(t["group"], t["id"]) for tabs in page.evaluate(_TABS_JS) for t in tabs})
        for group, sync_id in choices:
            label = page.locator(
                f'.sd-tab-set > label[data-sync-group="{group}"][data-sync-id="{sync_id}"]'
            ).first
            label.scroll_into_view_if_needed()
            label.click()
            for index, tabs in enumerate(page.evaluate(_TABS_JS)):
                twins = [t for t in tabs if t["group"] == group]
                if not any(t["id"] == sync_id for t in twins):
                    continue
                selected = [t["id"] for t in twins if t["checked"] and t["shown"]]
                if selected != [sync_id]:
                    fail(
                        f"tab set {index + 1}: a click on {sync_id!r} (sync group {group!r}) "
                        f"left {selected or 'no tab'} selected and shown"
                    )

    @staticmethod
    def check_solutions(page: Any, fail: Any) -> None:
        """Each solution is folded when the page opens and unfolds on a click on its title."""
        solutions = page.locator("div.solution")
        for index in range(solutions.count()):
            solution = solutions.nth(index)
            name = solution.get_attribute("id") or f"solution {index + 1}"
            body = solution.locator(":scope > :not(.admonition-title)").first
            if "dropdown" not in (solution.get_attribute("class") or "").split():
                fail(f"{name}: not a dropdown (add `:class: dropdown`)")
                continue
            if body.count() == 0:
                fail(f"{name}: has no content")
                continue
            if body.evaluate(_VISIBLE_JS):
                fail(f"{name}: shown when the page opens; solutions must be folded")
                continue
            solution.locator(":scope > .admonition-title .toggle-button").click()
            with contextlib.suppress(Exception):  # still hidden: reported below
                body.wait_for(state="visible", timeout=2_000)
            if not body.evaluate(_VISIBLE_JS):
                fail(f"{name}: still folded after a click on its title")


def _report(results: Sequence[PageResult], elapsed: float) -> Iterator[str]:
    """Yield the printable lines of a run: failures per page, then a summary."""
    failed = [result for result in results if result.failures]
    for result in failed:
        yield f"FAIL {result.page} at {result.width} px:"
        for failure in dict.fromkeys(result.failures):  # each once, in order
            yield f"  - {failure}"
    slowest = sorted(results, key=lambda result: -result.seconds)[:3]
    yield "slowest: " + ", ".join(
        f"{result.page} at {result.width} px {result.seconds:.1f} s" for result in slowest
    )
    pages = len({result.page for result in results})
    verdict = f"{len(failed)} failed" if failed else "all passed"
    yield (
        f"browser_check: {pages} pages x {len(WIDTHS)} widths "
        f"({', '.join(f'{w} px' for w in WIDTHS)}) in {elapsed:.0f} s: {verdict}"
    )


NO_CHROMIUM = """\
browser_check: no Chromium found (looked for {candidates} and on PATH).
  Install Debian's package, as root: apt-get update && apt-get install -y chromium
  (scripts/browser_test.sh does this when it runs as root), or pass --chromium PATH."""
NO_PLAYWRIGHT = """\
browser_check: the Python package playwright is not installed.
  Install it with: python -m pip install -r requirements-browser.txt
  (never `playwright install`: the check drives the system's Chromium)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", nargs="?", default=str(ROOT / "_build" / "html"))
    parser.add_argument("--chromium", default=None, help="Chromium binary (default: Debian's)")
    parser.add_argument("--screenshots", default=None, help="save 390 px screenshots here")
    parser.add_argument("--page", action="append", default=None, help="check only this page")
    parser.add_argument("--jobs", type=int, default=3, help="browsers side by side (default 3)")
    args = parser.parse_args(argv)

    html_dir = Path(args.html_dir)
    if not html_dir.is_dir():
        print(f"browser_check: no built HTML at {html_dir} (build the book first)", file=sys.stderr)
        return 2
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print(NO_CHROMIUM.format(candidates=", ".join(CHROMIUM_CANDIDATES)), file=sys.stderr)
        return 2
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        print(NO_PLAYWRIGHT, file=sys.stderr)
        return 2

    pages = args.page or pages_of(html_dir)
    start = time.perf_counter()
    screenshots = Path(args.screenshots) if args.screenshots else None
    results = BrowserCheck(html_dir, chromium, screenshots).run(pages, jobs=args.jobs)
    for line in _report(results, time.perf_counter() - start):
        print(line)
    return 1 if any(result.failures for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
