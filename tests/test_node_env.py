"""Tests of scripts/node_env.sh: Node.js and npm found, installed with apt-get, or explained."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "node_env.sh"


def _bin(tmp_path: Path, uid: int, tools: dict[str, str]) -> Path:
    """A PATH folder with a few coreutils, an id that prints ``uid`` and the given stubs."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("dirname", "cp", "chmod"):
        (folder / tool).symlink_to(shutil.which(tool))
    stubs = {"id": f"echo {uid}", **tools}
    for name, body in stubs.items():
        path = folder / name
        path.write_text(f"#!/bin/bash\n{body}\n", encoding="utf-8")
        path.chmod(0o755)
    return folder


def _run(folder: Path) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    return subprocess.run(
        [bash, "-c", f"source {SCRIPT} && echo sourced"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(folder)},
        timeout=60,
        check=False,
    )


def test_nothing_to_do_when_node_and_npm_are_there(tmp_path):
    done = _run(_bin(tmp_path, 1000, {"node": "true", "npm": "true"}))
    assert (done.returncode, done.stdout, done.stderr) == (0, "sourced\n", "")


def test_not_root_is_a_clear_error_that_says_what_to_install(tmp_path):
    done = _run(_bin(tmp_path, 1000, {"node": "true", "apt-get": "echo should-not-run"}))
    assert done.returncode == 1
    assert "not found: npm." in done.stderr
    assert "apt-get install -y nodejs npm" in done.stderr
    assert "should-not-run" not in done.stdout + done.stderr


def test_root_without_apt_get_is_a_clear_error(tmp_path):
    done = _run(_bin(tmp_path, 0, {}))
    assert done.returncode == 1
    assert "not found: node npm." in done.stderr


@pytest.mark.parametrize("works", [True, False])
def test_root_with_apt_get_installs_debians_nodejs_and_npm(tmp_path, works):
    log = tmp_path / "apt.log"
    folder = tmp_path / "bin"
    # The stub apt-get logs its arguments; "install" puts node and npm on PATH (or fails).
    install = (
        f'printf "#!/bin/bash\\ntrue\\n" > {folder}/node; cp {folder}/node {folder}/npm; '
        f"chmod +x {folder}/node {folder}/npm"
        if works
        else "exit 100"
    )
    apt_get = f'echo "$@" >> {log}; if [ "$1" = install ]; then {install}; fi'
    done = _run(_bin(tmp_path, 0, {"apt-get": apt_get}))
    calls = log.read_text(encoding="utf-8").splitlines()
    assert calls == ["update -qq", "install -y -qq nodejs npm"]
    assert "Installing Debian's nodejs npm (apt-get)" in done.stdout
    if works:
        assert done.returncode == 0
        assert done.stdout.endswith("sourced\n")
    else:
        assert done.returncode == 1
        assert "not found: node npm." in done.stderr
