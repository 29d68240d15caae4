"""Build, check and test-install the repository's two distributions.

The repository ships two distributions: ``bumplib``, the core a model imports
(root ``pyproject.toml``, package ``bumplib/``), and ``bumplib-book``, the book's
helpers (``book/pyproject.toml``, package ``book/bumpbook/``), which depends on
``bumplib``. Usage::

    python scripts/dists.py build                    # wheels and sdists into _build/dist
    python scripts/dists.py check [DIR]              # only check what DIR holds
    python scripts/dists.py test-installed BACKEND   # tensorflow, jax or torch

``build`` runs ``python -m build`` for each distribution (without build isolation:
the pinned setuptools of ``requirements.txt`` builds them), ``twine check --strict``
on every file, and then ``check``. ``check`` asserts what each wheel holds: exactly
the modules of its package in the source tree (the core's wheel also its
``py.typed`` marker), no tests, no other package (the core's wheel holds no
``bumpbook``, no ``bumplib.book`` and none of the 2020 thread's layers), and the
core's ``Requires-Dist`` equal to its ``pyproject.toml`` dependencies; and that
each sdist holds its ``pyproject.toml`` and package, and nothing of the other
package.

``test-installed BACKEND`` installs the core's wheel, not the clone, into a fresh
virtual environment ``_build/installed/BACKEND`` with the core's dependencies and
that one backend (the wheel's extra), at the versions ``requirements*.txt`` pin,
plus pytest and hypothesis; then runs the core's tests there, from outside the
repository: the core test modules (:func:`core_test_modules`) of ``tests/backends``
on every backend and, on TensorFlow, those of ``tests/``, all but the one that needs
two backends in one environment. ``tests/test_package.py``
asserts in that run that ``bumplib`` is imported from the fresh environment.
"""

from __future__ import annotations

import argparse
import ast
import email.parser
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DIST_DIR = ROOT / "_build" / "dist"
VENV_ROOT = ROOT / "_build" / "installed"
BACKENDS = ("tensorflow", "jax", "torch")
REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "requirements-torch.txt")
# Test tools installed beside the wheel (their versions come from REQUIREMENTS).
TEST_TOOLS = ("pytest", "pytest-xdist", "hypothesis")
# Set by test-installed: tests/test_package.py asserts bumplib is imported from there.
INSTALLED_ENV = "BUMPLIB_INSTALLED_IN"
# What a core test module may import besides the standard library, the backends it
# runs on and the tests' own helper modules: the core, its dependencies, the test tools.
CORE_TEST_IMPORTS = frozenset({"bumplib", "keras", "numpy", "ml_dtypes", "pytest", "hypothesis"})
# Loads on another backend a model saved on this one: needs two backends installed.
NEEDS_TWO_BACKENDS = ("tests/backends/test_across_backends.py",)


@dataclass(frozen=True)
class Distribution:
    """One distribution of the repository and what its files must and must not hold.

    Attributes:
        name: The project name in its ``pyproject.toml``.
        project: The folder of that ``pyproject.toml``.
        package: The import package the distribution ships.
        typed: Whether the package ships a ``py.typed`` marker.
        forbidden: Path prefixes (inside the archive) that must not appear, each with
            what it would be.
        must_not_import: Top-level modules that no module of the package may import.
        data: Data files the package ships besides its modules, relative to it.
    """

    name: str
    project: Path
    package: str
    typed: bool
    forbidden: tuple[tuple[str, str], ...]
    must_not_import: tuple[str, ...] = ()
    data: tuple[str, ...] = ()

    @property
    def file_stem(self) -> str:
        """The name as wheel and sdist file names write it (``bumplib_book``)."""
        return canonicalize_name(self.name).replace("-", "_")

    def modules(self) -> set[str]:
        """The package's modules in the source tree, as ``package/sub/module.py``."""
        source = self.project / self.package
        return {
            path.relative_to(self.project).as_posix()
            for path in source.rglob("*.py")
            if "__pycache__" not in path.parts
        }


CORE = Distribution(
    name="bumplib",
    project=ROOT,
    package="bumplib",
    typed=True,
    forbidden=(
        ("bumpbook/", "the book's helpers"),
        ("bumplib/book/", "the book's helpers"),
        ("bumplib/thread_layers.py", "the 2020 thread's layers"),
        ("bumplib/answer_layers.py", "the 2020 thread's layers"),
        ("bumplib/safe_where_layer.py", "the 2020 thread's layers"),
        ("tests/", "the tests"),
    ),
    must_not_import=("bumpbook",),
)
BOOK = Distribution(
    name="bumplib-book",
    project=ROOT / "book",
    package="bumpbook",
    typed=False,
    forbidden=(("bumplib/", "the core, a dependency"), ("tests/", "the tests")),
    data=("throughput.json",),  # bench_throughput.py's run, which the production chapter reads
)
DISTRIBUTIONS = (CORE, BOOK)


class DistError(RuntimeError):
    """A distribution is missing, malformed or holds the wrong files; the message says which."""


def built_files(outdir: Path, dist: Distribution) -> tuple[Path, Path]:
    """Return the one wheel and the one sdist of ``dist`` in ``outdir``.

    Raises:
        DistError: if either is missing or there is more than one.

    """
    found = []
    for pattern in (f"{dist.file_stem}-*.whl", f"{dist.file_stem}-*.tar.gz"):
        matches = sorted(outdir.glob(pattern))
        if len(matches) != 1:
            raise DistError(
                f"{outdir}: expected one {pattern}, found {len(matches)}"
                " (run `python scripts/dists.py build`)."
            )
        found.append(matches[0])
    return found[0], found[1]


def wheel_problems(wheel: Path, dist: Distribution) -> list[str]:
    """Return what is wrong with the files and metadata of ``wheel``, built from ``dist``."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = [name for name in names if name.split("/")[0].endswith(".dist-info")]
        metadata_names = [name for name in info if name.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_names[0]).decode() if metadata_names else ""
        sources = {name: archive.read(name).decode() for name in names if name.endswith(".py")}
    problems = [
        f"{wheel.name}: holds {name} ({what})"
        for name in names
        for prefix, what in dist.forbidden
        if name.startswith(prefix)
    ]
    problems += [
        f"{wheel.name}: {name} imports {module}"
        for name, source in sources.items()
        for module in sorted(imported_modules(source))
        if module.split(".")[0] in dist.must_not_import
    ]
    expected = dist.modules() | ({f"{dist.package}/py.typed"} if dist.typed else set())
    expected |= {f"{dist.package}/{name}" for name in dist.data}
    shipped = set(names) - set(info)
    problems += [f"{wheel.name}: lacks {name}" for name in sorted(expected - shipped)]
    problems += [
        f"{wheel.name}: holds {name}, not a module of {dist.package}/"
        for name in sorted(shipped - expected)
        if not any(name.startswith(prefix) for prefix, _ in dist.forbidden)
    ]
    if not metadata:
        return [*problems, f"{wheel.name}: no .dist-info/METADATA"]
    return problems + metadata_problems(wheel.name, metadata, dist)


def declared_dependencies(dist: Distribution) -> set[str]:
    """The ``project.dependencies`` of ``dist``'s ``pyproject.toml``, normalized."""
    pyproject = tomllib.loads((dist.project / "pyproject.toml").read_text(encoding="utf-8"))
    return {str(Requirement(text)) for text in pyproject["project"].get("dependencies", [])}


def metadata_problems(label: str, metadata: str, dist: Distribution) -> list[str]:
    """Return what is wrong with a wheel's METADATA: its name and its unconditional needs."""
    message = email.parser.Parser().parsestr(metadata)
    problems = []
    if canonicalize_name(message.get("Name", "")) != canonicalize_name(dist.name):
        problems.append(f"{label}: METADATA names {message.get('Name')!r}, not {dist.name!r}")
    required = {
        str(Requirement(text))
        for text in message.get_all("Requires-Dist") or []
        if "extra ==" not in text
    }
    declared = declared_dependencies(dist)
    if required != declared:
        problems.append(
            f"{label}: requires {sorted(required)} without extras, but "
            f"{dist.project / 'pyproject.toml'} declares {sorted(declared)}"
        )
    return problems


def sdist_problems(
    sdist: Path, dist: Distribution, distributions: Sequence[Distribution] = DISTRIBUTIONS
) -> list[str]:
    """Return what is wrong with ``sdist``: its project file, its package, other packages.

    The other packages are those of the other ``distributions``.
    """
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    top = sdist.name.removesuffix(".tar.gz") + "/"
    inside = {name.removeprefix(top) for name in names if name.startswith(top)}
    problems = [
        f"{sdist.name}: {name} is outside {top}"
        for name in names
        if not name.startswith(top) and name != top.rstrip("/")
    ]
    problems += [
        f"{sdist.name}: lacks {name}"
        for name in sorted({"pyproject.toml", *dist.modules()} - inside)
    ]
    others = [other.package + "/" for other in distributions if other.package != dist.package]
    problems += [
        f"{sdist.name}: holds {name} (another distribution's package)"
        for name in sorted(inside)
        if any(name.startswith(prefix) for prefix in others)
    ]
    return problems


def check(outdir: Path, distributions: Sequence[Distribution] = DISTRIBUTIONS) -> list[str]:
    """Return every problem of the wheels and sdists of ``distributions`` in ``outdir``."""
    problems = []
    for dist in distributions:
        try:
            wheel, sdist = built_files(outdir, dist)
        except DistError as error:
            problems.append(str(error))
            continue
        problems += wheel_problems(wheel, dist) + sdist_problems(sdist, dist, distributions)
    return problems


def run(command: Sequence[str | Path], **kwargs: object) -> None:
    """Run ``command``, echoed; raise :class:`DistError` if it fails."""
    print("+", " ".join(map(str, command)), flush=True)
    if subprocess.run([str(part) for part in command], check=False, **kwargs).returncode:
        raise DistError(f"failed: {' '.join(map(str, command))}")


def build(outdir: Path) -> None:
    """Build every distribution into ``outdir`` (emptied first), twine-check and check them.

    Raises:
        DistError: if a build or a check fails.

    """
    shutil.rmtree(outdir, ignore_errors=True)
    for dist in DISTRIBUTIONS:
        build_command = [sys.executable, "-m", "build", "-q", "--no-isolation", "--outdir"]
        run([*build_command, outdir, dist.project])
    run([sys.executable, "-m", "twine", "check", "--strict", *sorted(outdir.iterdir())])
    report(check(outdir), outdir)


def report(problems: Sequence[str], outdir: Path) -> None:
    """Print the files checked, or raise :class:`DistError` listing ``problems``."""
    if problems:
        raise DistError("\n".join(["the distributions are wrong:", *problems]))
    print(f"dists: {', '.join(sorted(path.name for path in outdir.iterdir()))} checked")


def core_test_modules(
    folder: Path, backends: Sequence[str], tests: Path = ROOT / "tests"
) -> list[Path]:
    """Return the test modules of ``folder`` (not its subfolders) that test only the core.

    A core test module imports ``bumplib`` and nothing beyond :data:`CORE_TEST_IMPORTS`,
    the standard library, ``backends`` and the helper modules of ``tests`` (its ``.py``
    files that are not test modules): no book helper, no script.
    """
    helpers = {path.stem for path in tests.rglob("*.py") if not path.stem.startswith("test_")}
    allowed = CORE_TEST_IMPORTS | set(backends) | helpers | set(sys.stdlib_module_names)
    selected = []
    for path in sorted(folder.glob("test_*.py")):
        imported = imported_modules(path.read_text(encoding="utf-8"))
        tops = {name.split(".")[0] for name in imported}
        if "bumplib" in tops and tops <= allowed:
            selected.append(path)
    return selected


def imported_modules(source: str) -> set[str]:
    """The absolute module names that Python ``source`` imports, anywhere in it."""
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module)
    return imported


def constraints_file(directory: Path) -> Path:
    """Write the pins of :data:`REQUIREMENTS` as a pip constraints file; return its path.

    Editable and other unnamed lines (``-e .``) are left out: constraints cannot hold them.
    """
    lines = []
    for path in REQUIREMENTS:
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.split("#")[0].strip()
            if stripped and not stripped.startswith("-"):
                lines.append(stripped)
    target = directory / "constraints.txt"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def test_installed(backend: str, outdir: Path, venv_root: Path) -> None:
    """Install the core's wheel with ``backend`` into a fresh environment and run its tests.

    The environment is ``venv_root/backend``, made anew on every run (0.6 to 1.5 GB); it is
    kept afterwards, to look into, since deleting it would cost as long as the tests.

    Raises:
        DistError: if the wheel is missing, the install fails or a test fails.

    """
    wheel, _ = built_files(outdir, CORE)
    venv = venv_root / backend
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    with tempfile.TemporaryDirectory() as scratch:
        run(
            [
                sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
                "--no-compile", "--no-input", "-c", constraints_file(Path(scratch)),
                f"{wheel}[{backend}]", *TEST_TOOLS,
            ]
        )  # fmt: skip
    tests = [ROOT / "tests" / "test_package.py"]
    tests += core_test_modules(ROOT / "tests" / "backends", BACKENDS)
    if backend == "tensorflow":  # the other core tests are written for TensorFlow
        tests += [
            path for path in core_test_modules(ROOT / "tests", ["tensorflow"]) if path not in tests
        ]
    tests = [path for path in tests if path.relative_to(ROOT).as_posix() not in NEEDS_TWO_BACKENDS]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env |= {"KERAS_BACKEND": backend, INSTALLED_ENV: str(venv)}
    # From inside the fresh environment's folder, so that neither the clone nor the
    # working directory is on sys.path: bumplib can only come from site-packages.
    run(
        [
            python, "-m", "pytest", "-p", "no:cacheprovider", "-c", ROOT / "pyproject.toml",
            "--rootdir", ROOT, "-n", "auto", "-q", *tests,
        ],
        cwd=venv,
        env=env,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build, twine-check and check every dist")
    build_parser.add_argument("--outdir", type=Path, default=DIST_DIR)
    check_parser = commands.add_parser("check", help="check the wheels and sdists in a folder")
    check_parser.add_argument("outdir", nargs="?", type=Path, default=DIST_DIR)
    test_parser = commands.add_parser("test-installed", help="test the core's installed wheel")
    test_parser.add_argument("backend", choices=BACKENDS)
    test_parser.add_argument("--outdir", type=Path, default=DIST_DIR, help="the built dists")
    test_parser.add_argument("--venv-root", type=Path, default=VENV_ROOT)
    args = parser.parse_args(argv)
    if not args.outdir.is_dir() and args.command != "build":
        parser.error(f"{args.outdir} is not a folder: run `python scripts/dists.py build` first")
    try:
        if args.command == "build":
            build(args.outdir)
        elif args.command == "check":
            report(check(args.outdir), args.outdir)
        else:
            test_installed(args.backend, args.outdir, args.venv_root)
    except DistError as error:
        print(f"dists: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
