"""Check the built HTML of the book for missing pages, figures, animations and broken links.

Usage::

    python scripts/check_book.py [HTML_DIR] [--toc _toc.yml] [--source DIR]

``HTML_DIR`` defaults to ``_build/html`` next to ``_toc.yml``. The checks:

1. every page listed in ``_toc.yml`` was built (``<file>.html`` exists);
2. a page whose notebook has image outputs shows at least that many images
   inside its cell outputs, and each of them points to an existing file;
3. a page listed in :data:`ANIMATIONS` contains that many Matplotlib jshtml
   animations, each with embedded ``data:image/...;base64`` frames;
4. no internal link is broken, in any built page (not in ``_static``): ``href`` of ``<a>`` and
   ``<link>``, ``src`` of ``<img>``, ``<script>``, ``<iframe>``, ``<source>``
   and ``<video>``/``<audio>`` must name an existing file inside ``HTML_DIR``,
   and a ``#fragment`` on an HTML target (or on the page itself) must be an
   ``id`` (or an ``<a name>``) in that page. External URLs are not fetched.

That nothing a page loads comes from another host is the browser test's check
(``tests/browser``): it sees every request a page makes, and blocks it.

Exit status 0 with a one-line summary when all is well; 1 with the list of
problems otherwise; 2 for bad usage (no HTML directory, no ``_toc.yml``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent

#: Pages (toc file names, without extension) that must show Matplotlib jshtml
#: animations, and how many at least.
ANIMATIONS: dict[str, int] = {
    "chapters/03_numerical_stability": 1,
}

#: Notebook metadata that marks a chapter as a placeholder still to be
#: written: its ANIMATIONS requirement is reported as pending, not as a
#: problem. Real chapters must not carry it.
PLACEHOLDER_KEY = ("bumpbook", "placeholder")

#: Folders of the built site whose .html files are not pages: the theme's
#: Jinja template fragments in _static, and the copied sources.
NOT_PAGES = {"_static", "_sources"}

IMAGE_MIME_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
#: Cell tags with which myst-nb drops a cell's outputs from the page.
REMOVED_OUTPUT_TAGS = {"remove-output", "remove-cell"}
#: Attributes that point to another file, by tag.
LINK_ATTRIBUTES = {
    "a": "href",
    "link": "href",
    "img": "src",
    "script": "src",
    "iframe": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
}
_ANIMATION_IMG = re.compile(r"""<img\s[^>]*id=["']_anim_img[0-9a-f]+["']""")
_ANIMATION_FRAME = re.compile(r"""frames\[\d+\]\s*=\s*["']data:image/[a-z+]+;base64,""")


@dataclass
class PageScan:
    """What one HTML page contains: its ids, its links, and its output images."""

    ids: set[str] = field(default_factory=set)
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attr, url)
    output_images: list[str] = field(default_factory=list)  # src of <img> in cell outputs


class _PageParser(HTMLParser):
    """Collect ids, link targets and the images shown inside notebook cell outputs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = PageScan()
        self._div_stack: list[bool] = []  # True for a div that is a cell output

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs, closes=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs, closes=True)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._div_stack:
            self._div_stack.pop()

    def _element(self, tag: str, attrs: list[tuple[str, str | None]], *, closes: bool) -> None:
        values = {name: value or "" for name, value in attrs}
        if values.get("id"):
            self.scan.ids.add(values["id"])
        if tag == "a" and values.get("name"):
            self.scan.ids.add(values["name"])
        attr = LINK_ATTRIBUTES.get(tag)
        if attr and values.get(attr):
            self.scan.links.append((tag, attr, values[attr].strip()))
        if tag == "img" and values.get("src") and any(self._div_stack):
            self.scan.output_images.append(values["src"].strip())
        if tag == "div" and not closes:
            self._div_stack.append("cell_output" in values.get("class", "").split())


def scan_page(path: Path) -> PageScan:
    """Parse one HTML file."""
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser.scan


def toc_files(toc_path: Path) -> list[str]:
    """Return every ``file:`` (and the root) of a jupyter-book 1 ``_toc.yml``, in order."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8")) or {}
    files: list[str] = []
    if toc.get("root"):
        files.append(str(toc["root"]))

    def walk(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if "file" in node:
                files.append(str(node["file"]))
            for key in ("parts", "chapters", "sections", "subtrees", "entries"):
                walk(node.get(key))

    walk(toc)
    # A toc entry may name its file with or without extension.
    return [re.sub(r"\.(md|ipynb|rst)$", "", name) for name in files]


def notebook_image_outputs(notebook: Path) -> int:
    """Count the outputs with image data that the page of ``notebook`` must show."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    count = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if REMOVED_OUTPUT_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if any(mime in data for mime in IMAGE_MIME_TYPES):
                count += 1
    return count


def is_placeholder(notebook: Path) -> bool:
    """Whether the notebook is marked as a placeholder chapter (see PLACEHOLDER_KEY)."""
    if not notebook.is_file():
        return False
    metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    section, key = PLACEHOLDER_KEY
    return bool(metadata.get(section, {}).get(key, False))


def _is_external(url: str) -> bool:
    """Whether ``url`` points outside the built site (a scheme, or protocol-relative)."""
    return url.startswith("//") or bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url))


@dataclass
class Report:
    """Problems found, and counts for the summary line."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pages: int = 0
    links: int = 0
    images: int = 0
    animations: int = 0


class BookChecker:
    """Run every check on one built book."""

    def __init__(
        self,
        html_dir: Path,
        toc_path: Path,
        source_dir: Path,
        animations: Mapping[str, int] | None = None,
    ) -> None:
        """Check the book built in ``html_dir`` from ``toc_path`` and the sources in ``source_dir``.

        ``animations`` maps toc entries to the number of animations their page
        needs (default: :data:`ANIMATIONS`).
        """
        self.html_dir = html_dir.resolve()
        self.toc_path = toc_path
        self.source_dir = source_dir
        self.animations = dict(ANIMATIONS if animations is None else animations)
        self.report = Report()
        self._scans: dict[Path, PageScan] = {}

    def scan(self, page: Path) -> PageScan:
        """Parse ``page`` once and cache the result."""
        page = page.resolve()
        if page not in self._scans:
            self._scans[page] = scan_page(page)
        return self._scans[page]

    def rel(self, path: Path) -> str:
        """``path`` relative to the HTML directory, for messages."""
        try:
            return path.resolve().relative_to(self.html_dir).as_posix()
        except ValueError:
            return str(path)

    def run(self) -> Report:
        """Run all checks and return the report."""
        chapters = toc_files(self.toc_path)
        for name in chapters:
            self.check_chapter(name)
        for name in self.animations:
            if name not in chapters:
                self.report.problems.append(
                    f"ANIMATIONS names {name!r}, which is not in {self.toc_path.name}"
                )
        for page in sorted(self.html_dir.rglob("*.html")):
            if page.relative_to(self.html_dir).parts[0] not in NOT_PAGES:
                self.check_links(page)
        return self.report

    def check_chapter(self, name: str) -> None:
        """Check that the page of toc entry ``name`` exists, with its figures and animations."""
        page = self.html_dir / f"{name}.html"
        if not page.is_file():
            self.report.problems.append(f"missing page: {name}.html (listed in the toc)")
            return
        self.report.pages += 1
        scan = self.scan(page)
        notebook = self.source_dir / f"{name}.ipynb"

        if notebook.is_file():
            expected = notebook_image_outputs(notebook)
            shown = len(scan.output_images)
            self.report.images += shown
            if shown < expected:
                self.report.problems.append(
                    f"{name}.html: shows {shown} image(s) in its cell outputs, but "
                    f"{notebook.name} has {expected} image output(s)"
                )

        needed = self.animations.get(name, 0)
        if needed:
            html = page.read_text(encoding="utf-8", errors="replace")
            found = len(_ANIMATION_IMG.findall(html))
            has_frames = bool(_ANIMATION_FRAME.search(html))
            self.report.animations += found if has_frames else 0
            if found < needed or not has_frames:
                what = f"{found} animation player(s)" + (
                    "" if has_frames else " and no embedded base64 frames"
                )
                message = f"{name}.html: needs {needed} jshtml animation(s), found {what}"
                if is_placeholder(notebook):
                    self.report.notes.append(
                        f"pending: {message} ({notebook.name} is marked as a placeholder)"
                    )
                else:
                    self.report.problems.append(message)

    def check_links(self, page: Path) -> None:
        """Check every internal link and resource reference of ``page``."""
        scan = self.scan(page)
        for tag, attr, url in scan.links:
            if not url or _is_external(url):
                continue
            self.report.links += 1
            problem = self.check_url(page, url)
            if problem:
                self.report.problems.append(f'{self.rel(page)}: <{tag} {attr}="{url}">: {problem}')

    def check_url(self, page: Path, url: str) -> str | None:
        """Return why ``url`` (found in ``page``) is broken, or None if it is fine."""
        parts = urlsplit(url)
        path, fragment = unquote(parts.path), unquote(parts.fragment)
        if path:
            target = (page.parent / path).resolve()
            try:
                target.relative_to(self.html_dir)
            except ValueError:
                return "points outside the built site"
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                return f"no file {self.rel(target)}"
        else:
            target = page.resolve()
        if fragment and target.suffix == ".html" and fragment not in self.scan(target).ids:
            return f"no id {fragment!r} in {self.rel(target)}"
        return None


def _iter_lines(report: Report) -> Iterator[str]:
    """Yield the report's problems, then its notes, one printable line each."""
    for problem in report.problems:
        yield f"  - {problem}"
    for note in report.notes:
        yield f"  note: {note}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", nargs="?", help="built HTML (default: _build/html)")
    parser.add_argument("--toc", default=None, help="the book's _toc.yml (default: ./_toc.yml)")
    parser.add_argument(
        "--source", default=None, help="the book's source folder (default: the toc's folder)"
    )
    args = parser.parse_args(argv)

    toc_path = Path(args.toc) if args.toc else ROOT / "_toc.yml"
    source_dir = Path(args.source) if args.source else toc_path.parent
    html_dir = Path(args.html_dir) if args.html_dir else source_dir / "_build" / "html"
    if not toc_path.is_file():
        print(f"check_book: no table of contents at {toc_path}", file=sys.stderr)
        return 2
    if not html_dir.is_dir():
        print(f"check_book: no built HTML at {html_dir} (build the book first)", file=sys.stderr)
        return 2

    report = BookChecker(html_dir, toc_path, source_dir).run()
    if report.problems:
        print(f"check_book: {len(report.problems)} problem(s) in {html_dir}:")
        for line in _iter_lines(report):
            print(line)
        return 1
    for line in _iter_lines(report):
        print(line)
    print(
        f"check_book: OK: {report.pages} toc pages, {report.images} output images, "
        f"{report.animations} animation(s), {report.links} internal links checked"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
