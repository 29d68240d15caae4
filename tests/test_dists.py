"""Tests of scripts/dists.py: the checks of the built files, test selection, arguments."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from load_file import load_file

ROOT = Path(__file__).resolve().parent.parent
dists = load_file("scripts/dists.py")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """One distribution ``corelib`` (package ``corepkg``), and a folder for its files."""
    for name in ("__init__.py", "sub/__init__.py", "py.typed"):
        (tmp_path / "corepkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "corepkg" / name).write_text("")
    monkeypatch.setattr(dists, "DISTRIBUTIONS", {"corelib": (tmp_path, "corepkg")})
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "corelib-2.0.0.tar.gz").write_bytes(b"")
    return tmp_path


def wheel(folder: Path, names: list[str]) -> Path:
    """A wheel of corelib 2.0.0 holding ``names`` (empty files) and its metadata."""
    path = folder / "corelib-2.0.0-py3-none-any.whl"
    info = "corelib-2.0.0.dist-info"
    files = {name: "" for name in names} | {
        f"{info}/METADATA": "Metadata-Version: 2.4\nName: corelib\nVersion: 2.0.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


PACKAGE = ["corepkg/__init__.py", "corepkg/sub/__init__.py", "corepkg/py.typed"]


def test_a_wheel_with_exactly_its_package_passes(project):
    wheel(project / "dist", PACKAGE)
    dists.check(project / "dist")


@pytest.mark.parametrize(
    "names",
    [
        [*PACKAGE, "tests/test_x.py"],  # the tests
        [*PACKAGE, "bookpkg/__init__.py"],  # another package
        [*PACKAGE, "corepkg/stray.py"],  # not in the source tree
        PACKAGE[:2],  # lacks the type marker
    ],
    ids=["tests", "other package", "stray module", "no marker"],
)
def test_a_wheel_with_more_or_less_fails(project, names):
    wheel(project / "dist", names)
    with pytest.raises(dists.DistError, match="failed: check-wheel-contents"):
        dists.check(project / "dist")


def test_missing_or_duplicate_files(project):
    with pytest.raises(
        dists.DistError, match=r"0 files corelib-\*.whl, not 1: run `dists.py build`"
    ):
        dists.check(project / "dist")
    (project / "dist" / "corelib-2.1.0.tar.gz").write_bytes(b"")
    with pytest.raises(dists.DistError, match=r"2 files corelib-\*.tar.gz, not 1"):
        dists.check(project / "dist")


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
        (["test-installed"], "test-installed: a backend (tensorflow, jax or torch)"),
        (["build", "jax"], "build: a backend (tensorflow, jax or torch) with all but build"),
        (["test-installed", "mxnet"], "invalid choice: 'mxnet'"),
    ],
)
def test_argument_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        dists.main(argv)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_test_installed_reports_a_missing_wheel(tmp_path, capsys):
    assert dists.main(["test-installed", "jax", "--outdir", str(tmp_path)]) == 1
    assert "0 files bumplib-*.tar.gz, not 1: run `dists.py build`" in capsys.readouterr().err


def test_every_backend_test_runs_once_on_each_backend():
    folder = ROOT / "tests" / "backends"
    for backend in dists.BACKENDS:
        installed, clone = dists.installed_tests(backend), dists.clone_tests(backend)
        assert not set(installed) & set(clone)
        assert set(folder.glob("test_*.py")) <= set(installed) | set(clone)
        assert folder / "test_core_layers.py" in installed
        assert {folder / "test_book_layers.py", folder / "test_across_backends.py"} <= set(clone)


def test_every_unit_test_runs_once_on_tensorflow():
    tests = ROOT / "tests"
    installed, clone = dists.installed_tests("tensorflow"), dists.clone_tests("tensorflow")
    assert not set(installed) & set(clone)
    every = {p for p in tests.rglob("test_*.py") if p.parent != tests / "browser"}
    assert set(installed) | set(clone) == every
    assert tests / "test_data.py" in installed
    assert {tests / "test_dists.py", tests / "test_layers.py"} <= set(clone)
