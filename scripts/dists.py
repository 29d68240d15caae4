"""Build and check the repository's two distributions, and test the core as users install it.

    python scripts/dists.py build                    # wheels and sdists into _build/dist
    python scripts/dists.py test-installed BACKEND   # tensorflow, jax or torch
    python scripts/dists.py clone-tests BACKEND      # the test modules it leaves out

The repository ships ``bumplib``, the core a model imports (root ``pyproject.toml``), and
``bumplib-book``, the book's helpers (``book/pyproject.toml``, package ``bumpbook``).
``build`` runs ``python -m build`` on each (without build isolation: the pinned
setuptools of ``requirements.txt`` builds them), ``twine check --strict`` on every file,
and ``check-wheel-contents`` on each wheel: it must hold exactly the files of its
package's source tree (the core's ``py.typed`` marker included) and no other top-level
entry (no tests, no ``bumpbook`` in the core's wheel, no ``bumplib`` in the book's).

``test-installed BACKEND`` installs the core's wheel, not the clone, into a fresh virtual
environment ``_build/installed/BACKEND`` with the core's dependencies and that backend (the
wheel's extra) at the versions ``requirements*.txt`` pin, plus pytest and hypothesis, and
runs the core's tests there from outside the repository (:func:`installed_tests`);
``tests/test_package.py`` asserts in that run that ``bumplib`` comes from that environment.
``clone-tests BACKEND`` prints the test modules that only the clone runs on that backend
(:func:`clone_tests`): ``scripts/test.sh`` runs those, so that no test runs twice on a
backend.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST_DIR = ROOT / "_build" / "dist"
VENV_ROOT = ROOT / "_build" / "installed"
BACKENDS = ("tensorflow", "jax", "torch")
#: Each distribution's file-name stem, and its project folder and import package.
DISTRIBUTIONS = {"bumplib": (ROOT, "bumplib"), "bumplib_book": (ROOT / "book", "bumpbook")}
REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "requirements-torch.txt")
#: Test tools installed beside the wheel (their versions come from REQUIREMENTS).
TEST_TOOLS = ("pytest", "pytest-xdist", "hypothesis")
#: Set by test-installed: tests/test_package.py asserts bumplib is imported from there.
INSTALLED_ENV = "BUMPLIB_INSTALLED_IN"
#: What a core test module may import besides the standard library, the backends it runs
#: on and the tests' own helper modules: the core, its dependencies, the test tools.
CORE_TEST_IMPORTS = frozenset({"bumplib", "keras", "numpy", "ml_dtypes", "pytest", "hypothesis"})
#: Loads on another backend a model saved on this one: needs two backends installed.
NEEDS_TWO_BACKENDS = ("tests/backends/test_across_backends.py",)


class DistError(RuntimeError):
    """A distribution is missing, malformed or holds the wrong files; the message says which."""


def run(command: Sequence[str | Path], **kwargs: object) -> None:
    """Run ``command``, echoed; raise :class:`DistError` if it fails."""
    print("+", " ".join(map(str, command)), flush=True)
    if subprocess.run([str(part) for part in command], check=False, **kwargs).returncode:
        raise DistError(f"failed: {' '.join(map(str, command))}")


def wheel_of(stem: str, outdir: Path) -> Path:
    """Return the one wheel of distribution ``stem`` in ``outdir``, after checking its sdist."""
    found = {}
    for pattern in (f"{stem}-*.tar.gz", f"{stem}-*.whl"):
        found[pattern] = sorted(outdir.glob(pattern))
        if len(found[pattern]) != 1:
            raise DistError(
                f"{outdir}: {len(found[pattern])} files {pattern}, not 1: run `dists.py build`"
            )
    return found[f"{stem}-*.whl"][0]


def check(outdir: Path) -> None:
    """Check the files of ``outdir``: one sdist and one wheel of each distribution.

    Each wheel must hold exactly its package's source tree (``check-wheel-contents``).
    """
    for stem, (project, package) in DISTRIBUTIONS.items():
        wheel = wheel_of(stem, outdir)
        run(["check-wheel-contents", "--package", project / package, "--toplevel", package, wheel])


def build(outdir: Path) -> None:
    """Build every distribution into ``outdir`` (emptied first) and check the files."""
    shutil.rmtree(outdir, ignore_errors=True)
    for project, _ in DISTRIBUTIONS.values():
        run([sys.executable, "-m", "build", "-q", "--no-isolation", "--outdir", outdir, project])
    run([sys.executable, "-m", "twine", "check", "--strict", *sorted(outdir.iterdir())])
    check(outdir)


def core_test_modules(
    folder: Path, backends: Sequence[str], tests: Path = ROOT / "tests"
) -> list[Path]:
    """Return the test modules of ``folder`` (not its subfolders) that test only the core.

    A core test module imports ``bumplib`` and nothing beyond :data:`CORE_TEST_IMPORTS`,
    the standard library, ``backends`` and the modules of ``tests``: no book helper, no
    script (a test module that imports one that does fails to import where it is missing).
    """
    local = {path.stem for path in tests.rglob("*.py")}
    allowed = CORE_TEST_IMPORTS | set(backends) | local | set(sys.stdlib_module_names)
    selected = []
    for path in sorted(folder.glob("test_*.py")):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
        if "bumplib" in imported and imported <= allowed:
            selected.append(path)
    return selected


def constraints_file(directory: Path) -> Path:
    """Write the pins of :data:`REQUIREMENTS` as a pip constraints file (no ``-e`` lines)."""
    text = "".join(path.read_text(encoding="utf-8") for path in REQUIREMENTS)
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    target = directory / "constraints.txt"
    target.write_text("\n".join(pin for pin in lines if pin and pin[0] != "-") + "\n")
    return target


def installed_tests(backend: str) -> list[Path]:
    """The test modules that test-installed runs on ``backend``: the core's tests.

    Those of ``tests/backends`` (but :data:`NEEDS_TWO_BACKENDS`), ``tests/test_package.py``
    and, on TensorFlow, the core test modules of ``tests/``.
    """
    tests = [ROOT / "tests" / "test_package.py"]
    tests += core_test_modules(ROOT / "tests" / "backends", BACKENDS)
    if backend == "tensorflow":  # the other core tests are written for TensorFlow
        tests += core_test_modules(ROOT / "tests", ["tensorflow"])
    two = [ROOT / name for name in NEEDS_TWO_BACKENDS]
    return [path for path in dict.fromkeys(tests) if path not in two]


def clone_tests(backend: str) -> list[Path]:
    """The test modules that only the clone runs on ``backend``.

    On TensorFlow every module of ``tests`` (the browser test's folder apart), on JAX and
    PyTorch those of ``tests/backends``, but the ones that run against the installed wheel
    (:func:`installed_tests`): no test runs twice on a backend.
    """
    tests = ROOT / "tests"
    if backend == "tensorflow":
        modules = [
            p for p in tests.rglob("test_*.py") if "browser" not in p.relative_to(tests).parts
        ]
    else:
        modules = list((tests / "backends").glob("test_*.py"))
    installed = installed_tests(backend)
    return [path for path in sorted(modules) if path not in installed]


def test_installed(backend: str, outdir: Path, venv_root: Path) -> None:
    """Install the core's wheel with ``backend`` into a fresh environment and run its tests.

    The environment ``venv_root/backend`` is made anew and kept afterwards, to look into.
    """
    wheel = wheel_of("bumplib", outdir)
    venv = venv_root / backend
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    with tempfile.TemporaryDirectory() as scratch:
        pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet"]
        constraints = ["--no-compile", "--no-input", "-c", constraints_file(Path(scratch))]
        run([*pip, *constraints, f"{wheel}[{backend}]", *TEST_TOOLS])
    tests = installed_tests(backend)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env |= {"KERAS_BACKEND": backend, INSTALLED_ENV: str(venv)}
    # From inside the fresh environment's folder, so that neither the clone nor the
    # working directory is on sys.path: bumplib can only come from site-packages.
    pytest = [python, "-m", "pytest", "-p", "no:cacheprovider", "-c", ROOT / "pyproject.toml"]
    run([*pytest, "--rootdir", ROOT, "-n", "auto", "-q", *tests], cwd=venv, env=env)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "test-installed", "clone-tests"])
    parser.add_argument("backend", nargs="?", choices=BACKENDS, help="not for build")
    parser.add_argument("--outdir", type=Path, default=DIST_DIR, help="the built dists")
    parser.add_argument("--venv-root", type=Path, default=VENV_ROOT)
    args = parser.parse_args(argv)
    if (args.command != "build") != (args.backend is not None):
        parser.error(f"{args.command}: a backend (tensorflow, jax or torch) with all but build")
    try:
        if args.command == "build":
            build(args.outdir)
        elif args.command == "clone-tests":
            print(" ".join(str(path.relative_to(ROOT)) for path in clone_tests(args.backend)))
        else:
            test_installed(args.backend, args.outdir, args.venv_root)
    except DistError as error:
        print(f"dists: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
