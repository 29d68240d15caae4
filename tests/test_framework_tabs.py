"""Tests of _ext/framework_tabs.py on a real, tiny Sphinx build of one notebook with MyST-NB."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from load_file import load_file
from sphinx.application import Sphinx

EXT = Path(__file__).resolve().parent.parent / "_ext"


framework_tabs = load_file("_ext/framework_tabs.py")


def _code(source: str, tags: list[str], output: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": tags})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    return cell


def _notebook() -> nbformat.NotebookNode:
    md = nbformat.v4.new_markdown_cell
    cells = [
        md("# Page\n\nOne set:"),
        _code("tf_one()", ["tab-tensorflow"], "from tensorflow 1\n"),
        _code("jax_one()", ["tab-jax", "hide-output"], "from jax 1\n"),
        _code("torch_one()", ["tab-pytorch"], "from pytorch 1\n"),
        md("Two sets, split where TensorFlow comes again:"),
        _code("tf_two()", ["tab-tensorflow"], "from tensorflow 2\n"),
        _code("torch_two()", ["tab-pytorch"], "from pytorch 2\n"),
        _code("tf_three()", ["tab-tensorflow"], "from tensorflow 3\n"),
        _code("jax_three()", ["tab-jax"], "from jax 3\n"),
        md("A lone tagged cell, then a cell with two framework tags, then plain cells:"),
        _code("lone_jax()", ["tab-jax"], "lone\n"),
        md("Between."),
        _code("both()", ["tab-jax", "tab-pytorch"], "both\n"),
        _code("plain()", [], "plain\n"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[BeautifulSoup, str]:
    """Build the tiny book once; return the page's parsed HTML and the build's warnings."""
    src = tmp_path_factory.mktemp("book")
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXT)!r})\n"
        "extensions = ['myst_nb', 'framework_tabs']\n"
        "nb_execution_mode = 'off'\n"
        "exclude_patterns = ['_build']\n",
        encoding="utf-8",
    )
    (src / "index.md").write_text("# Tiny\n\n```{toctree}\npage\n```\n", encoding="utf-8")
    nbformat.write(_notebook(), src / "page.ipynb")
    warnings = io.StringIO()
    app = Sphinx(
        str(src),
        str(src),
        str(src / "_build" / "html"),
        str(src / "_build" / "doctrees"),
        "html",
        status=None,
        warning=warnings,
        freshenv=True,
    )
    app.build()
    sys.path.remove(str(EXT))
    html = (src / "_build" / "html" / "page.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser"), warnings.getvalue()


def _tab_sets(page: BeautifulSoup) -> list[list[tuple[str, str, str]]]:
    """Return each tab set as (label, sync id, text of its content) per tab."""
    sets = []
    for tab_set in page.select("div.sd-tab-set"):
        labels = tab_set.find_all("label", recursive=False)
        contents = tab_set.find_all("div", class_="sd-tab-content", recursive=False)
        assert len(labels) == len(contents)
        for label in labels:
            assert label["data-sync-group"] == framework_tabs.SYNC_GROUP
        sets.append(
            [
                (label.get_text(strip=True), label["data-sync-id"], content.get_text(" "))
                for label, content in zip(labels, contents, strict=True)
            ]
        )
    return sets


def test_consecutive_cells_become_synced_tab_sets(built: tuple[BeautifulSoup, str]) -> None:
    page, _ = built
    sets = _tab_sets(page)
    assert [[(label, sync) for label, sync, _ in tabs] for tabs in sets] == [
        [("TensorFlow", "tensorflow"), ("JAX", "jax"), ("PyTorch", "pytorch")],
        [("TensorFlow", "tensorflow"), ("PyTorch", "pytorch")],
        [("TensorFlow", "tensorflow"), ("JAX", "jax")],
    ]
    # Each tab holds its own cell, input and output (a hidden output stays inside its tab).
    first = sets[0]
    for (_, _, text), name, framework in zip(
        first, ("tf_one", "jax_one", "torch_one"), ("tensorflow", "jax", "pytorch"), strict=True
    ):
        assert name in text
        assert f"from {framework} 1" in text
    # The first tab of each set is the selected one; each set's inputs form one radio group.
    for tab_set in page.select("div.sd-tab-set"):
        inputs = tab_set.find_all("input", recursive=False)
        assert [bool(i.has_attr("checked")) for i in inputs] == [True] + [False] * (len(inputs) - 1)
        assert len({i["name"] for i in inputs}) == 1


def test_untabbed_cells_stay_where_they_were(built: tuple[BeautifulSoup, str]) -> None:
    page, _ = built
    outside = [
        cell.get_text(" ")
        for cell in page.select("div.cell")
        if not cell.find_parent("div", class_="sd-tab-set")
    ]
    assert len(outside) == 3
    assert "lone_jax" in outside[0]
    assert "both" in outside[1]
    assert "plain" in outside[2]


def test_lone_and_doubly_tagged_cells_are_reported(built: tuple[BeautifulSoup, str]) -> None:
    _, warnings = built
    assert "tagged for the JAX tab has no tagged neighbour" in warnings
    assert "has the framework tags ['tab-jax', 'tab-pytorch']" in warnings
    # Nothing else is reported: the three tab sets themselves are well formed.
    assert warnings.count("WARNING") == 2, warnings


def test_framework_of_reads_only_code_cells() -> None:
    from docutils import nodes

    cell = nodes.container(nb_element="cell_code", cell_metadata={"tags": ["tab-jax"]})
    assert framework_tabs.framework_of(cell) == framework_tabs.Framework("JAX", "jax")
    markdown = nodes.container(cell_metadata={"tags": ["tab-jax"]})
    assert framework_tabs.framework_of(markdown) is None
    untagged = nodes.container(nb_element="cell_code", cell_metadata={})
    assert framework_tabs.framework_of(untagged) is None
    twice = nodes.container(
        nb_element="cell_code", cell_metadata={"tags": ["tab-jax", "tab-tensorflow"]}
    )
    with pytest.raises(ValueError, match="give it exactly one of"):
        framework_tabs.framework_of(twice)
