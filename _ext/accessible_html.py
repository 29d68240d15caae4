"""Sphinx extension: two fixes to the HTML that Sphinx 7.4 writes, for screen readers and axe.

1. **Signatures on several lines.** With ``python_maximum_signature_line_length``
   a long signature puts one parameter per line inside a ``<dl>`` of ``<dd>``
   items and no ``<dt>``: not a definition list (axe's ``definition-list``,
   serious). The signature is read as one line of code, so that ``<dl>`` gets
   ``role="presentation"``: its layout stays, its list semantics go.
2. **The bibliography.** docutils marks each citation of the references list
   (``role="list"``) with ``role="doc-biblioentry"``, a role deprecated in
   ARIA 1.2 that is no list item (axe's ``aria-required-children``, critical).
   Each becomes ``role="listitem"``.
"""

from __future__ import annotations

import re
from typing import Any

from sphinx.application import Sphinx

_SIGNATURE_LIST = re.compile(r'(<span class="sig-paren">[(\[]</span>\s*)<dl>')
_BIBLIOENTRY = 'role="doc-biblioentry"'


def fix_page(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Rewrite the page's body (``context["body"]``) in place, as the module docstring says."""
    body = context.get("body")
    if body:
        body = _SIGNATURE_LIST.sub(r'\1<dl role="presentation">', body)
        context["body"] = body.replace(_BIBLIOENTRY, 'role="listitem"')


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the listener; the extension is safe for parallel builds."""
    app.connect("html-page-context", fix_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
