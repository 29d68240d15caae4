"""Print the whole book to one PDF for offline reading.

    python scripts/build_pdf.py --chromium /usr/bin/chromium [SINGLEHTML_DIR] [PDF]

run by ``scripts/build_pdf.sh``, which first builds the single-page version of
the book (jupyter-book's ``singlehtml`` builder, warnings as errors) into
``_build/singlehtml``. The page is served on 127.0.0.1 and opened in headless
Chromium; every folded solution and note is opened, MathJax (the local copy
that the offline book ships) typesets every formula, and Chromium's own PDF
printer writes ``_build/pdf/book.pdf`` (A4). Nothing is loaded from another
host: a request that leaves the local server fails the run, as in the browser
test, whose server and Chromium settings (``scripts/local_site.py``) this uses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from local_site import CHROMIUM_ARGS, MATHJAX_JS, MATHJAX_TIMEOUT_MS, is_external, serve

ROOT = Path(__file__).resolve().parent.parent

#: Opens every folded block of the page, so that the PDF shows solutions and notes.
UNFOLD_JS = """() => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach((el) => el.classList.remove('toggle-hidden'));
  document.querySelectorAll('.toggle-details__summary').forEach((el) => el.click());
  return document.querySelectorAll('.solution').length;
}"""


def print_pdf(html_dir: Path, pdf: Path, chromium: str) -> list[str]:
    """Print ``html_dir/intro.html`` (the whole book on one page) to ``pdf``; return problems."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with serve(html_dir) as origin, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=list(CHROMIUM_ARGS)
        )
        page = browser.new_page()
        page.on(
            "request",
            lambda request: (
                problems.append(f"request to another host: {request.url}")
                if is_external(request.url, origin)
                else None
            ),
        )
        page.goto(f"{origin}/intro.html", wait_until="load")
        state = page.evaluate(MATHJAX_JS, MATHJAX_TIMEOUT_MS * 6)
        if not state.get("loaded") or state.get("error") or state.get("errors"):
            problems.append(f"MathJax did not typeset the book: {state}")
        page.evaluate(UNFOLD_JS)
        page.emulate_media(media="print")
        pdf.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(
            path=str(pdf),
            format="A4",
            print_background=True,
            margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
        )
        browser.close()
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Print the book; exit status 1 on any problem."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", nargs="?", default=str(ROOT / "_build" / "singlehtml"))
    parser.add_argument("pdf", nargs="?", default=str(ROOT / "_build" / "pdf" / "book.pdf"))
    parser.add_argument("--chromium", required=True, help="the Chromium binary")
    args = parser.parse_args(argv)
    html_dir, pdf = Path(args.html_dir), Path(args.pdf)
    if not (html_dir / "intro.html").is_file():
        print(
            f"error: {html_dir}/intro.html is missing: build the single-page book first "
            "(bash scripts/build_pdf.sh does).",
            file=sys.stderr,
        )
        return 1
    problems = print_pdf(html_dir, pdf, args.chromium)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    size = pdf.stat().st_size
    if size < 100_000:
        print(f"error: {pdf} has only {size} bytes; the book did not print.", file=sys.stderr)
        return 1
    print(f"PDF written: {pdf} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
