r"""What the browser test looks for in a page of the book, beyond what axe-core checks.

Each ``check_*`` function takes a Playwright page that has finished loading and
returns the problems it found, one sentence each (an empty list when the page
passes). The pure parts (:func:`find_raw_tex`, :func:`overflowing`,
:func:`meaningless_alt`) are tested on their own in ``test_probes.py``, the
probes on small fixture pages there too.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from local_site import MATHJAX_JS, MATHJAX_TIMEOUT_MS

#: How long an animation gets to change frame after Play, in milliseconds.
ANIMATION_WAIT_MS = 3_000
#: Pixels an element may stick out of the viewport (sub-pixel rounding).
OVERFLOW_TOLERANCE_PX = 1.0
#: axe-core impacts that fail the test (``moderate`` and ``minor`` are left to judgement).
FAILING_IMPACTS = ("serious", "critical")
#: Folders of the built site whose .html files are not pages: the theme's template fragments
#: in _static, and the copied sources.
NOT_PAGES = {"_static", "_sources"}
#: Cell tags with which myst-nb leaves a cell's outputs off the page.
REMOVED_OUTPUT_TAGS = {"remove-output", "remove-cell"}
#: Output MIME types that the page shows as an ``<img>``.
IMAGE_MIME_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
#: Alternative texts that say nothing about what an image shows.
GENERIC_ALT = {
    "chart", "diagram", "figure", "graph", "image", "img", "output", "photo", "picture",
    "plot", "untitled",
}  # fmt: skip
_REDIRECT_MARK = 'http-equiv="refresh"'
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}

#: Raw TeX as it shows when MathJax did not typeset a formula: a TeX command of
#: two letters or more, a display or inline delimiter, an environment.
_RAW_TEX = re.compile(
    r"\\(?:begin|end)\{[a-z*]+\}"  # \begin{split}
    r"|\\[A-Za-z]{2,}(?![A-Za-z])"  # \sigma, \varphi, \frac, \left
    r"|\\[()\[\]]"  # \( \) \[ \]
    r"|\$\$"  # $$
    r"|(?<![\w$])\$(?=\S)[^$\n]{1,80}(?<=\S)\$(?![\w$])"  # $x^2$
)


def pages_of(html_dir: Path) -> list[str]:
    """Every page of the built site (not ``_static``/``_sources``, no redirect), as URL paths."""
    return sorted(
        page.relative_to(html_dir).as_posix()
        for page in html_dir.rglob("*.html")
        if page.relative_to(html_dir).parts[0] not in NOT_PAGES
        and _REDIRECT_MARK not in page.read_text(encoding="utf-8", errors="replace")[:2000].lower()
    )


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
    return [
        f"{box.selector} (x from {box.left:.0f} to {box.right:.0f} px)"
        for box in offenders
        if not any(inner.selector.startswith(box.selector + " > ") for inner in offenders)
    ]


def meaningless_alt(alt: str | None) -> str | None:
    """Say why ``alt`` (an ``<img>``'s alternative text) tells a reader nothing; None if it does.

    ``alt=""`` marks a decorative image and passes; a missing alt, a file name or
    path, or a generic word ("figure", "plot") does not.
    """
    if alt is None:
        return "has no alt attribute"
    text = alt.strip()
    if not text:
        return None
    if " " not in text and ("/" in text or PurePosixPath(text.lower()).suffix in IMAGE_SUFFIXES):
        return f"alt {text[:60]!r} is a file name, not what the image shows"
    if text.lower().rstrip(".") in GENERIC_ALT:
        return f"alt {text!r} is a generic word, not what the image shows"
    return None


# --- probes that run in the page ---------------------------------------------------------

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

# The tab sets of each sphinx-design sync group: for every group, a list of tab sets, each
# a list of [sync id, input id] of its tabs.
_SYNC_GROUPS_JS = """() => {
  const groups = {};
  document.querySelectorAll('.sd-tab-set').forEach((set) => {
    const tabs = [...set.querySelectorAll(':scope > label.sd-tab-label[data-sync-group]')];
    if (!tabs.length) return;
    const group = tabs[0].dataset.syncGroup;
    (groups[group] ||= []).push(tabs.map((tab) => [tab.dataset.syncId, tab.htmlFor]));
  });
  return groups;
}"""

_VISIBLE_JS = "(el) => el.checkVisibility() && el.getBoundingClientRect().height > 0"
_IMAGES_JS = "() => [...document.images].map((img) => [img.getAttribute('src') || img.id,"
_IMAGES_JS += " img.getAttribute('alt')])"


def check_maths(page: Any) -> list[str]:
    """Wait for MathJax; its errors and raw TeX left in the visible text are problems."""
    state = page.evaluate(MATHJAX_JS, MATHJAX_TIMEOUT_MS)
    problems = [state["error"]] if state.get("error") else []
    problems += [f"MathJax error in a formula: {error}" for error in state.get("errors", [])]
    snippets = find_raw_tex(page.evaluate(_VISIBLE_TEXT_JS))[:5]
    return problems + [f"untypeset TeX: ...{snippet}..." for snippet in snippets]


def check_equation_numbers(page: Any) -> list[str]:
    """Each display equation's number must stand clear of its formula."""
    return [f"equation number {n} overlaps its formula" for n in page.evaluate(_EQNO_JS)]


def check_overflow(page: Any, width: int) -> list[str]:
    """The page must not scroll sideways, nor an element stick out unclipped."""
    problems = []
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    if scroll_width > width + OVERFLOW_TOLERANCE_PX:
        problems.append(f"page is {scroll_width} px wide at a {width} px viewport")
    for offender in overflowing(page.evaluate(_BOXES_JS), width)[:5]:
        problems.append(f"sticks out of the {width} px viewport: {offender}")
    return problems


def check_animations(page: Any, width: int) -> list[str]:
    """Each Matplotlib jshtml player fits the viewport and changes frame after a click on Play."""
    problems = []
    players = page.locator("div.animation:has(img[id^='_anim_img'])")
    for index in range(players.count()):
        player = players.nth(index)
        player.scroll_into_view_if_needed()
        box = player.bounding_box()
        if box and box["x"] + box["width"] > width + OVERFLOW_TOLERANCE_PX:
            problems.append(f"animation {index + 1} is {box['width']:.0f} px wide, over {width}")
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
            problems.append(f"animation {index + 1} did not advance after Play (frame {before})")
    return problems


def check_solutions(page: Any) -> list[str]:
    """Each solution is folded when the page opens and unfolds on a click on its title."""
    problems = []
    solutions = page.locator("div.solution")
    for index in range(solutions.count()):
        solution = solutions.nth(index)
        name = solution.get_attribute("id") or f"solution {index + 1}"
        body = solution.locator(":scope > :not(.admonition-title)").first
        if "dropdown" not in (solution.get_attribute("class") or "").split():
            problems.append(f"{name}: not a dropdown (add `:class: dropdown`)")
        elif body.count() == 0:
            problems.append(f"{name}: has no content")
        elif body.evaluate(_VISIBLE_JS):
            problems.append(f"{name}: shown when the page opens; solutions must be folded")
        else:
            solution.locator(":scope > .admonition-title .toggle-button").click()
            with contextlib.suppress(Exception):  # still hidden: reported below
                body.wait_for(state="visible", timeout=2_000)
            if not body.evaluate(_VISIBLE_JS):
                problems.append(f"{name}: still folded after a click on its title")
    return problems


def check_synced_tabs(page: Any) -> list[str]:
    """In each sphinx-design sync group, choosing a tab in one set chooses it in all its twins.

    For every tab of every set of a group, the probe chooses it (by a click on its
    label, after one on a sibling's if it is already chosen) and then looks
    at each other set of the group that has a tab with the same sync id: that
    tab must be selected there too, and its panel shown.
    """
    problems = []
    for group, tab_sets in page.evaluate(_SYNC_GROUPS_JS).items():
        for number, tabs in enumerate(tab_sets, start=1):
            for index, (sync_id, input_id) in enumerate(tabs):
                if page.locator(f"#{input_id}").is_checked() and len(tabs) > 1:
                    # choosing the chosen tab changes nothing: choose a sibling first
                    page.locator(f"label[for='{tabs[index - 1][1]}']").click()
                page.locator(f"label[for='{input_id}']").click()
                for other, twins in enumerate(tab_sets, start=1):
                    twin = dict(twins).get(sync_id)
                    if other == number or twin is None:
                        continue
                    panel = page.locator(f"#{twin} + label + .sd-tab-content")
                    if not (page.locator(f"#{twin}").is_checked() and panel.is_visible()):
                        problems.append(
                            f"sync group {group!r}: tab {sync_id!r} chosen in tab set {number} "
                            f"is not chosen in its twin, tab set {other}"
                        )
    return list(dict.fromkeys(problems))


def check_image_alt(page: Any) -> list[str]:
    """Every ``<img>`` says what it shows in its alt text (or is marked decorative, ``alt=""``)."""
    problems = []
    for src, alt in page.evaluate(_IMAGES_JS):
        reason = meaningless_alt(alt)
        if reason:
            short = src if not src.startswith("data:") else src[:30] + "..."
            problems.append(f"image {short}: {reason}")
    return problems


def shown_outputs(notebook: Path) -> tuple[int, int]:
    """Count the image outputs and the jshtml animations that the page of ``notebook`` shows."""
    images = animations = 0
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code" or REMOVED_OUTPUT_TAGS & set(
            cell["metadata"].get("tags", [])
        ):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            images += any(mime in data for mime in IMAGE_MIME_TYPES)
            animations += "_anim_img" in "".join(data.get("text/html", ""))
    return images, animations


def check_outputs(page: Any, notebook: Path) -> list[str]:
    """The page shows every image output and every animation that its notebook holds."""
    images, animations = shown_outputs(notebook)
    problems = []
    shown = page.locator(".cell_output img:not([id^='_anim_img'])").count()
    if shown < images:
        problems.append(f"shows {shown} output image(s), but {notebook.name} has {images}")
    players = page.locator("div.animation:has(img[id^='_anim_img'])").count()
    if players < animations:
        problems.append(f"shows {players} animation(s), but {notebook.name} has {animations}")
    return problems


def check_accessibility(page: Any, axe: Axe | None = None) -> list[str]:
    """Run axe-core on the page; each violation of serious or critical impact is a problem.

    Each problem names the rule, its impact, axe's help text and link, and the
    first nodes it found (their selectors and what axe says is wrong).
    """
    # preload off: axe would fetch the stylesheets' @import targets itself, relative to the
    # page instead of the stylesheet (404s); the rule it preloads for is css-orientation-lock.
    options = {"resultTypes": ["violations"], "preload": False}
    response = (axe or Axe()).run(page, options=options).response
    problems = []
    for violation in response["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        nodes = violation["nodes"]
        lines = [
            f"axe {violation['id']} ({violation['impact']}, {len(nodes)} nodes): "
            f"{violation['help']} ({violation['helpUrl']})"
        ]
        for node in nodes[:5]:
            summary = (node.get("failureSummary") or "").splitlines()[1:]  # after "Fix ...:"
            lines.append(f"    {' '.join(node['target'])}: {'; '.join(s.strip() for s in summary)}")
        problems.append("\n".join(lines))
    return problems
