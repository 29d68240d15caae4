"""Sphinx extension: an HTML book that loads nothing from another host, and no script twice.

1. **MathJax, shipped with the build.** ``scripts/build_book.sh`` installs the
   pinned npm package (``_ext/mathjax/package-lock.json``) into
   ``_build/vendor``; this extension copies the files MathJax needs (the
   ``tex-mml-chtml`` component, its fonts and the extensions it loads on
   demand) into the built site, next to the file that ``mathjax_path`` names
   (relative to ``_static/``, as Sphinx reads it). A missing copy is a build
   error that says how to get one, never a silent fall-back to a CDN.
2. **No inline script twice.** Sphinx 7.4 keeps inline scripts (``<script>``
   with a body and no file) that an extension adds after the builder starts
   both under the name ``None`` and, when it prepares writing, again under the
   name ``""``; the two do not compare equal, so the page's head has the script
   twice. For sphinx-thebe's ``const THEBE_JS_URL = ...`` the second copy is a
   ``SyntaxError`` on every page (``Identifier 'THEBE_JS_URL' has already been
   declared``). The first listener of ``html-page-context`` drops the copies.

Configuration (``_config.yml``, ``sphinx: config:``):

``offline_mathjax_dir``
    The ``es5`` folder of the MathJax npm package, relative to the book's root
    (default ``_build/vendor/node_modules/mathjax/es5``).
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

#: What the ``tex-mml-chtml`` component loads, relative to MathJax's ``es5``
#: folder: itself, the CommonHTML output's fonts, the TeX extensions that
#: ``autoload`` and ``\require`` fetch, and the menu's optional modules
#: (accessibility, speech). The other combined components are not copied.
MATHJAX_FILES = ("tex-mml-chtml.js", "input", "output/chtml", "ui", "a11y", "sre", "adaptors")
DEFAULT_MATHJAX_DIR = "_build/vendor/node_modules/mathjax/es5"
HOW_TO_GET_MATHJAX = (
    "run `bash scripts/build_book.sh`, which installs the pinned MathJax from the npm "
    "registry (`npm ci --prefix _build/vendor`, see _ext/mathjax/package.json)"
)


def mathjax_source(app: Sphinx) -> Path:
    """Return the MathJax ``es5`` folder named by ``offline_mathjax_dir``, checked."""
    folder = Path(app.confdir, app.config.offline_mathjax_dir)
    component = folder / MATHJAX_FILES[0]
    if not component.is_file():
        raise ExtensionError(f"offline_html: no MathJax at {component}: {HOW_TO_GET_MATHJAX}.")
    return folder


def mathjax_target(app: Sphinx) -> PurePosixPath:
    """Return the folder, relative to ``_static/``, that ``mathjax_path`` puts MathJax in."""
    path = PurePosixPath(app.config.mathjax_path)
    if "://" in app.config.mathjax_path or path.is_absolute() or path.name != MATHJAX_FILES[0]:
        raise ExtensionError(
            f"offline_html: mathjax_path is {app.config.mathjax_path!r}; it must name the "
            f"local copy, a relative path ending in {MATHJAX_FILES[0]} (for example "
            f"'mathjax/{MATHJAX_FILES[0]}', which is _static/mathjax/ in the built site)."
        )
    return path.parent


def check_config(app: Sphinx) -> None:
    """Fail early, before any page is read, when MathJax is not there or not local."""
    if app.builder.format == "html":
        mathjax_source(app)
        mathjax_target(app)


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Copy MathJax into ``_static/`` of a successful HTML build."""
    if exception is not None or app.builder.format != "html":
        return
    source = mathjax_source(app)
    target = Path(app.outdir, "_static", mathjax_target(app))
    for name in MATHJAX_FILES:
        origin = source / name
        if origin.is_dir():
            shutil.copytree(origin, target / name, dirs_exist_ok=True)
        elif origin.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target / name)
        else:
            raise ExtensionError(f"offline_html: MathJax at {source} has no {name}.")


def drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Remove the second copy of each script from the page's ``script_files``, in place."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, int, tuple[tuple[str, str], ...]]] = set()
    kept = []
    for script in scripts:
        key = (
            script.filename or "",
            script.priority,
            tuple(sorted(script.attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept


def share_html_handlers(app: Sphinx) -> None:
    """Give the single-page builder every HTML node handler it lacks.

    Sphinx looks a translator's node handlers up under the builder's name before
    its format: once an extension registers a handler for ``singlehtml`` (as
    sphinx-exercise does), the ``html`` handlers of every other extension, such
    as sphinx-design's tabs and dropdowns, no longer reach the single page.
    """
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, pair in handlers.get("html", {}).items():
        single.setdefault(node, pair)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the configuration value and the listeners."""
    app.add_config_value("offline_mathjax_dir", DEFAULT_MATHJAX_DIR, "html", types=[str])
    app.connect("builder-inited", check_config)
    app.connect("builder-inited", share_html_handlers)
    app.connect("build-finished", copy_mathjax)
    # Early, so that listeners after it see each script once; late ones (MathJax's,
    # priority 500) add only scripts that are not in the list yet.
    app.connect("html-page-context", drop_duplicate_scripts, priority=100)
    # myst-nb draws the folded cells of `hide-cell` tags for the "html" builder
    # only; the single-page book (the PDF's source, scripts/build_pdf.sh) needs
    # the same drawing.
    app.add_node(
        HideCodeCellNode, override=True, singlehtml=(visit_HideCellInput, depart_HideCellInput)
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
