"""Tests of scripts/dists.py: the checks of wheels and sdists, test selection, arguments."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from load_file import load_file

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "dists.py"


dists = load_file("scripts/dists.py")

METADATA = "Metadata-Version: 2.4\nName: {name}\nVersion: 2.0.0\n{requires}\n"


def _project(tmp_path: Path) -> tuple[object, object]:
    """A core and a book distribution in a temporary tree, like the repository's."""
    core_dir, book_dir = tmp_path / "src", tmp_path / "src" / "book"
    for package, folder in (("corepkg", core_dir), ("bookpkg", book_dir)):
        (folder / package / "sub").mkdir(parents=True)
        (folder / package / "__init__.py").write_text("")
        (folder / package / "sub" / "__init__.py").write_text("")
        (folder / package / "layers.py").write_text("")
    (core_dir / "pyproject.toml").write_text(
        '[project]\nname = "corelib"\nversion = "2.0.0"\ndependencies = ["keras>=3,<4", "numpy"]\n'
    )
    (book_dir / "pyproject.toml").write_text(
        '[project]\nname = "core-book"\nversion = "2.0.0"\ndependencies = ["corelib"]\n'
    )
    core = dists.Distribution(
        name="corelib",
        project=core_dir,
        package="corepkg",
        typed=True,
        forbidden=(("bookpkg/", "the book's helpers"), ("tests/", "the tests")),
    )
    book = dists.Distribution(
        name="core-book", project=book_dir, package="bookpkg", typed=False, forbidden=()
    )
    return core, book


def _wheel(outdir: Path, dist, names, requires=None) -> Path:
    requires = dist_requires(dist) if requires is None else requires
    path = outdir / f"{dist.file_stem}-2.0.0-py3-none-any.whl"
    info = f"{dist.file_stem}-2.0.0.dist-info"
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, "")
        lines = "\n".join(f"Requires-Dist: {req}" for req in requires)
        archive.writestr(f"{info}/METADATA", METADATA.format(name=dist.name, requires=lines))
        archive.writestr(f"{info}/RECORD", "")
    return path


def dist_requires(dist) -> list[str]:
    return [*sorted(dists.declared_dependencies(dist)), 'tensorflow-cpu; extra == "tensorflow"']


def _sdist(outdir: Path, dist, names) -> Path:
    path = outdir / f"{dist.file_stem}-2.0.0.tar.gz"
    top = f"{dist.file_stem}-2.0.0/"
    with tarfile.open(path, "w:gz") as archive:
        for name in ["pyproject.toml", *names]:
            info = tarfile.TarInfo(top + name)
            archive.addfile(info, io.BytesIO(b""))
    return path


def _good(tmp_path: Path):
    core, book = _project(tmp_path)
    outdir = tmp_path / "dist"
    outdir.mkdir()
    for dist in (core, book):
        modules = sorted(dist.modules())
        typed = [f"{dist.package}/py.typed"] if dist.typed else []
        _wheel(outdir, dist, modules + typed)
        _sdist(outdir, dist, modules)
    return core, book, outdir


def test_good_distributions_have_no_problems(tmp_path):
    core, book, outdir = _good(tmp_path)
    assert core.modules() == {"corepkg/__init__.py", "corepkg/layers.py", "corepkg/sub/__init__.py"}
    assert dists.check(outdir, (core, book)) == []


def test_a_wheel_with_tests_book_helpers_or_strays_or_without_modules_or_marker(tmp_path):
    core, _, outdir = _good(tmp_path)
    wheel = _wheel(
        outdir,
        core,
        [
            *("corepkg/__init__.py", "corepkg/sub/__init__.py", "corepkg/extra.py"),
            *("tests/test_x.py", "bookpkg/__init__.py"),
        ],
    )
    problems = dists.wheel_problems(wheel, core)
    assert f"{wheel.name}: holds tests/test_x.py (the tests)" in problems
    assert f"{wheel.name}: holds bookpkg/__init__.py (the book's helpers)" in problems
    assert f"{wheel.name}: lacks corepkg/layers.py" in problems
    assert f"{wheel.name}: lacks corepkg/py.typed" in problems
    assert f"{wheel.name}: holds corepkg/extra.py, not a module of corepkg/" in problems
    assert len(problems) == 5


def test_a_core_module_that_imports_the_book_is_a_problem(tmp_path):
    core, _, outdir = _good(tmp_path)
    core = dists.Distribution(**{**core.__dict__, "must_not_import": ("bookpkg",)})
    modules = [*sorted(core.modules()), "corepkg/py.typed"]
    wheel = _wheel(outdir, core, modules)
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("corepkg/extra.py", "def f():\n    from bookpkg.plots import figure\n")
    problems = dists.wheel_problems(wheel, core)
    assert f"{wheel.name}: corepkg/extra.py imports bookpkg.plots" in problems


def test_a_wheel_whose_requirements_differ_from_the_pyproject(tmp_path):
    core, _, outdir = _good(tmp_path)
    modules = [*sorted(core.modules()), "corepkg/py.typed"]
    wheel = _wheel(outdir, core, modules, requires=["keras>=3,<4", "numpy", "scipy"])
    (problem,) = dists.wheel_problems(wheel, core)
    assert "requires ['keras<4,>=3', 'numpy', 'scipy'] without extras" in problem


def test_an_sdist_with_another_distributions_package_or_without_its_own(tmp_path):
    core, book, outdir = _good(tmp_path)
    sdist = _sdist(outdir, core, ["corepkg/__init__.py", "bookpkg/layers.py"])
    problems = dists.sdist_problems(sdist, core, (core, book))
    assert problems == [
        f"{sdist.name}: lacks corepkg/layers.py",
        f"{sdist.name}: lacks corepkg/sub/__init__.py",
        f"{sdist.name}: holds bookpkg/layers.py (another distribution's package)",
    ]


def test_missing_or_duplicate_files_and_differing_versions(tmp_path):
    core, book, outdir = _good(tmp_path)
    (outdir / f"{book.file_stem}-2.0.0.tar.gz").unlink()
    (outdir / f"{core.file_stem}-1.9.0-py3-none-any.whl").write_bytes(b"")
    problems = dists.check(outdir, (core, book))
    assert any(f"expected one {core.file_stem}-*.whl, found 2" in p for p in problems)
    assert any(f"expected one {book.file_stem}-*.tar.gz, found 0" in p for p in problems)


def test_the_repositorys_distributions_are_described_as_the_layout_has_them():
    assert dists.CORE.project == ROOT
    assert (ROOT / dists.CORE.package / "__init__.py").is_file()
    assert f"{dists.CORE.package}/__init__.py" in dists.CORE.modules()
    assert dists.CORE.file_stem == "bumplib"
    assert dists.BOOK.file_stem == "bumplib_book"


def test_core_test_modules_are_those_that_import_only_the_core(tmp_path):
    tests = tmp_path / "tests"
    (tests / "backends").mkdir(parents=True)
    sources = {
        "helper.py": "import numpy\n",
        "backends/autodiff.py": "import keras\n",
        "test_core.py": "import math\nimport bumplib\nfrom helper import x\nimport tensorflow\n",
        "test_book.py": "import bumplib\nimport bumpbook\n",
        "test_script.py": "import subprocess\n",
        "test_scipy.py": "import bumplib\nfrom scipy.optimize import curve_fit\n",
        "test_jax.py": "import bumplib\n\ndef test():\n    import jax\n",
        "backends/test_any.py": "from autodiff import BACKEND\nimport bumplib\nimport torch\n",
    }
    for name, source in sources.items():
        (tests / name).write_text(source)
    assert dists.core_test_modules(tests, ["tensorflow"], tests) == [tests / "test_core.py"]
    assert dists.core_test_modules(tests / "backends", dists.BACKENDS, tests) == [
        tests / "backends" / "test_any.py"
    ]


def test_the_repositorys_core_tests_leave_out_the_books():
    root_tests = dists.core_test_modules(ROOT / "tests", ["tensorflow"])
    backend_tests = dists.core_test_modules(ROOT / "tests" / "backends", dists.BACKENDS)
    assert ROOT / "tests" / "test_package.py" in root_tests
    assert ROOT / "tests" / "backends" / "test_core_layers.py" in backend_tests
    for path in root_tests + backend_tests:
        assert "bumpbook" not in path.read_text(encoding="utf-8"), path


def test_constraints_leave_out_editable_lines_and_comments(tmp_path, monkeypatch):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pins\nkeras==3.15.1  # the core\n\n-e .\n-e book\nnumpy==2.4.6\n")
    monkeypatch.setattr(dists, "REQUIREMENTS", (requirements,))
    path = dists.constraints_file(tmp_path)
    assert path.read_text() == "keras==3.15.1\nnumpy==2.4.6\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: command"),
        (["test-installed"], "the following arguments are required: backend"),
        (["test-installed", "mxnet"], "invalid choice: 'mxnet'"),
        (["check", "/nonexistent/dist"], "/nonexistent/dist is not a folder"),
        (
            ["test-installed", "jax", "--outdir", "/nonexistent"],
            "run `python scripts/dists.py build`",
        ),
    ],
)
def test_argument_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        dists.main(argv)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_check_and_test_installed_report_missing_files(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert dists.main(["check", str(empty)]) == 1
    err = capsys.readouterr().err
    assert "expected one bumplib-*.whl, found 0" in err
    assert "expected one bumplib_book-*.whl, found 0" in err
    assert dists.main(["test-installed", "jax", "--outdir", str(empty)]) == 1
    assert "expected one bumplib-*.whl, found 0" in capsys.readouterr().err
