"""Tests of scripts/check_book.py on small fake books built in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from load_file import load_file

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_book.py"


check_book = load_file("scripts/check_book.py")

TOC = """\
format: jb-book
root: intro
parts:
  - caption: Tutorial
    numbered: true
    chapters:
      - file: chapters/one
      - file: chapters/two.ipynb
"""

PAGE = """<!DOCTYPE html>
<html><head>
<link rel="stylesheet" href="{up}_static/style.css">
<script src="{up}_static/app.js"></script>
</head><body>
<main id="main-content">
<section id="{section}"><h1>{title}</h1>
{body}
</section>
</main></body></html>
"""

ANIMATION = """<div class="cell_output docutils container"><div class="output text_html">
<div class="animation"><img id="_anim_img0123456789abcdef0123456789abcdef">
<script language="javascript">
  var frames = new Array(2);
  frames[0] = "data:image/png;base64,iVBORw0KGgo=";
  frames[1] = "data:image/png;base64,iVBORw0KGgo=";
  anim0123456789abcdef0123456789abcdef = new Animation(frames, "img", "slider", 200);
</script></div></div></div>"""


def _notebook(images: int = 0, placeholder: bool = False) -> str:
    outputs = [
        {
            "output_type": "display_data",
            "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
            "metadata": {},
        }
        for _ in range(images)
    ]
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Two"},
            {
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {},
                "outputs": outputs,
                "source": "plot()",
            },
        ],
        "metadata": {"bumpbook": {"placeholder": True}} if placeholder else {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_book(root: Path, *, chapter_two_body: str | None = None) -> Path:
    """Write a small, valid book source and its built HTML; return the HTML folder."""
    _write(root / "_toc.yml", TOC)
    _write(root / "intro.md", "# Intro\n")
    _write(root / "chapters" / "one.md", "# One\n")
    _write(root / "chapters" / "two.ipynb", _notebook(images=1))

    html = root / "_build" / "html"
    _write(html / "_static" / "style.css", "body {}")
    _write(html / "_static" / "app.js", "")
    _write(html / "_images" / "fig.png", "png")
    # Template fragments in _static are not pages: their links are not checked.
    _write(html / "_static" / "macros.html", "<link href=\"{{ pathto('x.css', 1) }}\">")
    _write(
        html / "intro.html",
        PAGE.format(
            up="",
            section="intro",
            title="Intro",
            body=(
                '<p><a href="chapters/one.html">One</a>, '
                '<a href="chapters/two.html#two">Two</a>, '
                '<a href="#intro">top</a>, '
                '<a href="https://example.org/missing.html">external</a>, '
                '<a href="mailto:someone@example.org">mail</a>.</p>'
            ),
        ),
    )
    _write(
        html / "chapters" / "one.html",
        PAGE.format(
            up="../",
            section="one",
            title="One",
            body='<p><a href="../intro.html#intro">Intro</a> <a href="two.html">Two</a></p>',
        ),
    )
    if chapter_two_body is None:
        chapter_two_body = (
            '<div class="cell docutils container">'
            '<div class="cell_output docutils container">'
            '<img alt="../_images/fig.png" src="../_images/fig.png" />'
            "</div></div>"
            '<p><a href="one.html#one">back</a></p>'
        )
    _write(
        html / "chapters" / "two.html",
        PAGE.format(up="../", section="two", title="Two", body=chapter_two_body),
    )
    return html


def run(root: Path, animations: dict[str, int] | None = None):
    html = root / "_build" / "html"
    checker = check_book.BookChecker(html, root / "_toc.yml", root, animations=animations or {})
    return checker.run()


def test_good_tree_passes(tmp_path: Path) -> None:
    make_book(tmp_path)
    report = run(tmp_path)
    assert report.problems == []
    assert report.pages == 3
    assert report.images == 1
    assert report.links > 0


def test_cli_exit_codes_and_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    html = make_book(tmp_path)
    args = [str(html), "--toc", str(tmp_path / "_toc.yml")]

    monkeypatch.setattr(check_book, "ANIMATIONS", {})
    assert check_book.main(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("check_book: OK: 3 toc pages, 1 output images")

    monkeypatch.setattr(check_book, "ANIMATIONS", {"chapters/two": 1})
    assert check_book.main(args) == 1
    out = capsys.readouterr().out
    assert out.startswith("check_book: 1 problem(s) in ")
    assert "  - chapters/two.html: needs 1 jshtml animation(s)" in out


def test_missing_page(tmp_path: Path) -> None:
    make_book(tmp_path)
    (tmp_path / "_build" / "html" / "chapters" / "one.html").unlink()
    report = run(tmp_path)
    assert any("missing page: chapters/one.html" in p for p in report.problems)
    # The links to the deleted page are reported too.
    assert any("intro.html" in p and "no file chapters/one.html" in p for p in report.problems)


def test_broken_link(tmp_path: Path) -> None:
    make_book(tmp_path)
    page = tmp_path / "_build" / "html" / "chapters" / "one.html"
    page.write_text(
        page.read_text().replace('href="two.html"', 'href="three.html"'), encoding="utf-8"
    )
    report = run(tmp_path)
    assert report.problems == [
        'chapters/one.html: <a href="three.html">: no file chapters/three.html'
    ]


def test_broken_stylesheet_and_script(tmp_path: Path) -> None:
    make_book(tmp_path)
    (tmp_path / "_build" / "html" / "_static" / "style.css").unlink()
    (tmp_path / "_build" / "html" / "_static" / "app.js").unlink()
    problems = run(tmp_path).problems
    assert len(problems) == 6  # three pages, each with a stylesheet and a script
    assert any("<link href=" in p and "_static/style.css" in p for p in problems)
    assert any("<script src=" in p and "_static/app.js" in p for p in problems)


def test_broken_anchor(tmp_path: Path) -> None:
    make_book(tmp_path)
    page = tmp_path / "_build" / "html" / "intro.html"
    page.write_text(
        page.read_text().replace("chapters/two.html#two", "chapters/two.html#nowhere"),
        encoding="utf-8",
    )
    report = run(tmp_path)
    assert report.problems == [
        "intro.html: <a href=\"chapters/two.html#nowhere\">: no id 'nowhere' in chapters/two.html"
    ]


def test_broken_anchor_on_same_page(tmp_path: Path) -> None:
    make_book(tmp_path)
    page = tmp_path / "_build" / "html" / "intro.html"
    page.write_text(page.read_text().replace('href="#intro"', 'href="#gone"'), encoding="utf-8")
    assert run(tmp_path).problems == ["intro.html: <a href=\"#gone\">: no id 'gone' in intro.html"]


def test_missing_image_file(tmp_path: Path) -> None:
    make_book(tmp_path)
    (tmp_path / "_build" / "html" / "_images" / "fig.png").unlink()
    assert run(tmp_path).problems == [
        'chapters/two.html: <img src="../_images/fig.png">: no file _images/fig.png'
    ]


def test_figure_output_not_shown(tmp_path: Path) -> None:
    make_book(tmp_path, chapter_two_body='<p><a href="one.html">back</a></p>')
    assert run(tmp_path).problems == [
        "chapters/two.html: shows 0 image(s) in its cell outputs, "
        "but two.ipynb has 1 image output(s)"
    ]


def test_image_outside_outputs_does_not_count(tmp_path: Path) -> None:
    body = '<p><img src="../_images/fig.png"></p>'
    make_book(tmp_path, chapter_two_body=body)
    problems = run(tmp_path).problems
    assert len(problems) == 1
    assert "shows 0 image(s)" in problems[0]


def test_animation_required(tmp_path: Path) -> None:
    make_book(tmp_path)
    problems = run(tmp_path, animations={"chapters/two": 1}).problems
    assert problems == [
        "chapters/two.html: needs 1 jshtml animation(s), "
        "found 0 animation player(s) and no embedded base64 frames"
    ]


def test_animation_present(tmp_path: Path) -> None:
    body = (
        '<div class="cell_output docutils container">'
        '<img src="../_images/fig.png"></div>' + ANIMATION
    )
    make_book(tmp_path, chapter_two_body=body)
    report = run(tmp_path, animations={"chapters/two": 1})
    assert report.problems == []
    assert report.animations == 1


def test_animation_without_frames(tmp_path: Path) -> None:
    body = (
        '<div class="cell_output docutils container"><img src="../_images/fig.png"></div>'
        + ANIMATION.replace("data:image/png;base64,", "frames/frame")
    )
    make_book(tmp_path, chapter_two_body=body)
    problems = run(tmp_path, animations={"chapters/two": 1}).problems
    assert len(problems) == 1
    assert "no embedded base64 frames" in problems[0]


def test_placeholder_chapter_animation_is_pending(tmp_path: Path) -> None:
    make_book(tmp_path)
    _write(tmp_path / "chapters" / "two.ipynb", _notebook(images=1, placeholder=True))
    report = run(tmp_path, animations={"chapters/two": 1})
    assert report.problems == []
    assert len(report.notes) == 1
    assert report.notes[0].startswith("pending: chapters/two.html")


def test_animation_table_names_unknown_page(tmp_path: Path) -> None:
    make_book(tmp_path)
    problems = run(tmp_path, animations={"chapters/zzz": 1}).problems
    assert problems == ["ANIMATIONS names 'chapters/zzz', which is not in _toc.yml"]


def test_link_outside_site(tmp_path: Path) -> None:
    make_book(tmp_path)
    page = tmp_path / "_build" / "html" / "intro.html"
    page.write_text(
        page.read_text().replace('href="chapters/one.html"', 'href="../../intro.md"'),
        encoding="utf-8",
    )
    assert run(tmp_path).problems == [
        'intro.html: <a href="../../intro.md">: points outside the built site'
    ]


def test_toc_files_reads_nested_entries(tmp_path: Path) -> None:
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: a.md\n    sections:\n"
        "      - file: b/c.ipynb\n  - url: https://example.org\n",
        encoding="utf-8",
    )
    assert check_book.toc_files(toc) == ["intro", "a", "b/c"]


def test_cli_without_html_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "_toc.yml", TOC)
    code = check_book.main([str(tmp_path / "nothing"), "--toc", str(tmp_path / "_toc.yml")])
    assert code == 2
    assert "no built HTML" in capsys.readouterr().err


def test_plain_links_and_inline_data_are_fine(tmp_path: Path) -> None:
    make_book(tmp_path)  # intro.html links to https://example.org/missing.html
    page = tmp_path / "_build" / "html" / "intro.html"
    page.write_text(
        page.read_text().replace(
            "</main>", '<img src="data:image/png;base64,iVBORw0KGgo="></main>'
        ),
        encoding="utf-8",
    )
    assert run(tmp_path).problems == []
