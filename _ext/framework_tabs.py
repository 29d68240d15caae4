"""Sphinx extension: show a notebook's per-framework code cells as tabs that switch together.

A chapter that shows the same code in TensorFlow, JAX and PyTorch keeps each version an
executed code cell (so that nbval checks it), and tags it in the cell's metadata:

========================  ================  ==========
cell tag                  tab label         sync id
========================  ================  ==========
``tab-tensorflow``        TensorFlow        tensorflow
``tab-jax``               JAX               jax
``tab-pytorch``           PyTorch           pytorch
========================  ================  ==========

At build time, every run of consecutive tagged code cells (adjacent in the notebook, with no
Markdown cell between them) becomes one sphinx-design tab set of the sync group
``framework``. Each cell, its input and its output, is the content of its tab, in the order
of the notebook, and the first tab is selected. A framework that appears a second time in a
run starts a new tab set, so ``tensorflow, jax, pytorch, tensorflow, jax, pytorch`` gives
two sets. Choosing a framework in one set chooses it in every set of the group, on this
page and on the others (sphinx-design's own script, which remembers the choice in the
browser's localStorage).

Why a transform and not the ``tab-set`` directive: MyST-NB does not render code cells
nested inside a directive of a Markdown cell (MyST-NB issue 723), and a static copy of the
code in the directive would drift from the code that runs.

A run of one tagged cell is reported as a warning (an error under ``-W``): a tab set with a
single tab usually means that a sibling cell lost its tag or that a Markdown cell split the
run. The other cell tags (``hide-input``, ``remove-output``...) keep their meaning inside a
tab.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx_design.shared import create_component

__all__ = ["FRAMEWORKS", "SYNC_GROUP", "Framework", "FrameworkTabs", "framework_of", "setup"]

LOGGER = logging.getLogger(__name__)

#: The sphinx-design sync group of every tab set this extension makes.
SYNC_GROUP = "framework"


class Framework(NamedTuple):
    """One framework's tab: the label a reader sees and the id that syncs the tabs."""

    label: str
    sync_id: str


#: Cell tag -> the framework's tab. The keys are the only tags this extension reads.
FRAMEWORKS = MappingProxyType(
    {
        "tab-tensorflow": Framework("TensorFlow", "tensorflow"),
        "tab-jax": Framework("JAX", "jax"),
        "tab-pytorch": Framework("PyTorch", "pytorch"),
    }
)


def framework_of(node: nodes.Node) -> Framework | None:
    """Return the framework of a MyST-NB code cell tagged for a tab, else ``None``.

    Raises:
        ValueError: if the cell carries two framework tags (say which, and that one is needed).
    """
    if not isinstance(node, nodes.container) or node.get("nb_element") != "cell_code":
        return None
    tags = (node.get("cell_metadata") or {}).get("tags") or []
    found = [tag for tag in tags if tag in FRAMEWORKS]
    if len(found) > 1:
        raise ValueError(
            f"a code cell has the framework tags {found}; give it exactly one of "
            f"{sorted(FRAMEWORKS)}."
        )
    return FRAMEWORKS[found[0]] if found else None


def _runs(children: Sequence[nodes.Node]) -> Iterator[list[tuple[nodes.Node, Framework]]]:
    """Yield the runs of consecutive tagged cells among ``children``, split where one repeats.

    A cell with two framework tags counts as untagged (:meth:`FrameworkTabs.apply` warns).
    """
    run: list[tuple[nodes.Node, Framework]] = []
    for child in children:
        try:
            framework = framework_of(child)
        except ValueError:
            framework = None
        if framework is None or any(framework == seen for _, seen in run):
            if run:
                yield run
            run = []
        if framework is not None:
            run.append((child, framework))
    if run:
        yield run


def _tab_set(run: list[tuple[nodes.Node, Framework]]) -> nodes.container:
    """Return a sphinx-design tab set holding the cells of ``run``, one synced tab each."""
    items = []
    for cell, framework in run:
        label = nodes.rubric(
            framework.label,
            nodes.Text(framework.label),
            classes=["sd-tab-label"],
            sync_group=SYNC_GROUP,
            sync_id=framework.sync_id,
        )
        content = create_component("tab-content", classes=["sd-tab-content"], children=[cell])
        items.append(
            create_component("tab-item", classes=["sd-tab-item"], children=[label, content])
        )
    tab_set = create_component("tab-set", classes=["sd-tab-set", "framework-tabs"], children=items)
    tab_set.source, tab_set.line = run[0][0].source, run[0][0].line
    return tab_set


class FrameworkTabs(SphinxTransform):
    """Group each run of consecutive framework-tagged code cells into one synced tab set."""

    # After MyST-NB has parsed the notebook into cells; sphinx-design's HTML post-transform
    # turns the tab sets into radio inputs and labels later, at write time.
    default_priority = 500

    def apply(self, **kwargs: Any) -> None:
        """Replace every run of tagged cells in the document by its tab set."""
        parents = []
        for cell in self.document.findall(nodes.container):
            try:
                tagged = framework_of(cell) is not None
            except ValueError as error:
                LOGGER.warning(str(error), location=cell, type="framework_tabs")
                continue
            if tagged and cell.parent not in parents:
                parents.append(cell.parent)
        for parent in parents:
            for run in list(_runs(parent.children)):
                first = run[0][0]
                if len(run) == 1:
                    LOGGER.warning(
                        f"a code cell tagged for the {run[0][1].label} tab has no tagged "
                        "neighbour, so its tab set would have one tab; tag its sibling cells "
                        f"({', '.join(sorted(FRAMEWORKS))}) or remove the tag.",
                        location=first,
                        type="framework_tabs",
                    )
                    continue
                index = parent.index(first)
                for cell, _ in run:
                    parent.remove(cell)
                parent.insert(index, _tab_set(run))


def setup(app: Any) -> dict[str, bool]:
    """Register the transform (sphinx-design, which renders the tabs, must be loaded too)."""
    app.setup_extension("sphinx_design")
    app.add_transform(FrameworkTabs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
