"""Tests of _ext/source_links.py: the "[source]" links of the API pages."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import SimpleNamespace

import pytest
from load_file import load_file
from sphinx.errors import ConfigError

import bumplib
from bumplib import stable_layer

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://example.org/repo/blob/main"
source_links = load_file("_ext/source_links.py")


def test_a_class_links_to_its_lines_in_the_repository():
    url = source_links.source_url(
        ROOT, BASE, "py", {"module": "bumplib", "fullname": "StableBumpLayer"}
    )
    lines, start = inspect.getsourcelines(stable_layer.StableBumpLayer)
    assert url == f"{BASE}/bumplib/stable_layer.py#L{start}-L{start + len(lines) - 1}"


def test_a_method_links_to_its_own_lines():
    url = source_links.source_url(
        ROOT, BASE, "py", {"module": "bumplib", "fullname": "StableBumpLayer.call"}
    )
    _, start = inspect.getsourcelines(stable_layer.StableBumpLayer.call)
    assert url.startswith(f"{BASE}/bumplib/stable_layer.py#L{start}-L")


@pytest.mark.parametrize(
    ("domain", "info"),
    [
        ("c", {"names": ["f"]}),  # another domain
        ("py", {"module": "", "fullname": "x"}),  # no module
        ("py", {"module": "bumplib", "fullname": "__version__"}),  # a value
        ("py", {"module": "inspect", "fullname": "getsourcelines"}),  # outside the repository
        ("py", {"module": "bumplib", "fullname": "no_such_name"}),  # not found
    ],
)
def test_objects_without_source_in_the_repository_get_no_link(domain, info):
    assert bumplib.__version__  # the value the third case looks up exists
    assert source_links.source_url(ROOT, BASE, domain, info) is None


def test_an_object_whose_source_cannot_be_read_gets_no_link(monkeypatch):
    def unreadable(obj):
        raise OSError("could not get source code")

    monkeypatch.setattr(source_links.inspect, "getsourcelines", unreadable)
    info = {"module": "bumplib", "fullname": "StableBumpLayer"}
    assert source_links.source_url(ROOT, BASE, "py", info) is None


def _app_and_config(options: dict[str, str]) -> tuple[SimpleNamespace, SimpleNamespace]:
    return SimpleNamespace(srcdir=str(ROOT)), SimpleNamespace(html_theme_options=options)


def test_the_resolver_uses_the_configured_repository_and_branch():
    app, config = _app_and_config(
        {"repository_url": "https://example.org/repo/", "repository_branch": "v1"}
    )
    source_links.set_resolver(app, config)
    url = config.linkcode_resolve("py", {"module": "bumplib", "fullname": "StableBumpLayer"})
    assert url.startswith("https://example.org/repo/blob/v1/bumplib/stable_layer.py#L")


@pytest.mark.parametrize("missing", ["repository_url", "repository_branch"])
def test_a_missing_repository_setting_is_a_clear_error(missing):
    options = {"repository_url": "https://example.org/repo", "repository_branch": "main"}
    del options[missing]
    app, config = _app_and_config(options)
    with pytest.raises(ConfigError, match=r"set repository\.url and repository\.branch"):
        source_links.set_resolver(app, config)
