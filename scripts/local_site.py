"""The built book served on 127.0.0.1, and what a headless Chromium needs to read it offline.

Shared by ``scripts/build_pdf.py`` (the PDF) and ``tests/browser`` (the browser
test, run by ``scripts/browser_test.sh``): one static file server, one rule for
what counts as a request to another host, one set of Chromium flags and one
wait for MathJax.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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

#: Waits (up to the timeout passed in, in ms) until MathJax has typeset the page; returns
#: ``{loaded, error, typeset, errors}`` (``errors``: the text of each ``mjx-merror``).
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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Print nothing per request."""


@contextlib.contextmanager
def serve(html_dir: Path) -> Iterator[str]:
    """Serve ``html_dir`` on a free port of 127.0.0.1; yield its origin, ``http://127.0.0.1:N``."""
    handler = functools.partial(_QuietHandler, directory=str(Path(html_dir).resolve()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
