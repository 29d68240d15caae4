"""Sphinx extension: "[source]" links from the API pages to the repository's files.

``sphinx.ext.viewcode`` would copy every documented module into the site as a page
of its own: about forty pages that repeat the repository, each of them built,
link-checked and read by the browser test. Instead, ``sphinx.ext.linkcode`` puts
a "[source]" link on each documented object, to the object's lines in the
repository named in ``_config.yml`` (``repository.url`` and ``repository.branch``,
which jupyter-book passes on as ``html_theme_options``). Objects whose source is
not a file of this repository (a re-exported third-party name) get no link.
"""

from __future__ import annotations

import importlib
import inspect
from functools import partial
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError


def source_url(root: Path, base: str, domain: str, info: dict[str, str]) -> str | None:
    """Return the URL of an object's lines under ``base``, or None if it has no such source.

    Args:
        root: The repository's root on disk (the book's source directory).
        base: The URL of the repository's tree at the branch, ending without a slash.
        domain: The Sphinx domain of the object; only ``"py"`` objects get a link.
        info: ``module`` and ``fullname`` of the object, as ``sphinx.ext.linkcode`` gives.
    """
    if domain != "py" or not info.get("module"):
        return None
    obj: Any = importlib.import_module(info["module"])
    for part in info["fullname"].split("."):
        obj = getattr(obj, part, None)
    obj = inspect.unwrap(obj) if obj is not None else None
    try:
        source_file = inspect.getsourcefile(obj)
        lines, start = inspect.getsourcelines(obj)
    except (TypeError, OSError):  # a value (a constant, an alias), or no source on disk
        return None
    path = Path(source_file).resolve() if source_file else None
    if path is None or not path.is_relative_to(root):
        return None
    return f"{base}/{path.relative_to(root).as_posix()}#L{start}-L{start + len(lines) - 1}"


def set_resolver(app: Sphinx, config: Config) -> None:
    """Give ``sphinx.ext.linkcode`` its ``linkcode_resolve``, from the repository's settings."""
    options = config.html_theme_options
    url, branch = options.get("repository_url"), options.get("repository_branch")
    if not url or not branch:
        raise ConfigError(
            "source_links needs the repository's url and branch: set repository.url and "
            "repository.branch in _config.yml"
        )
    base = f"{url.rstrip('/')}/blob/{branch}"
    config.linkcode_resolve = partial(source_url, Path(app.srcdir).resolve(), base)


def setup(app: Sphinx) -> dict[str, Any]:
    """Load ``sphinx.ext.linkcode`` and give it the resolver once the config is read."""
    app.setup_extension("sphinx.ext.linkcode")
    app.connect("config-inited", set_resolver)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
