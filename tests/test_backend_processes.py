"""Tests of bumpbook.backend_processes: one child per Keras backend, its JSON report back."""

from __future__ import annotations

import pytest

from bumpbook import backend_processes as backends

REPORT = """\
import json, os, sys
print("noise before the report")
print(json.dumps({"backend": os.environ["KERAS_BACKEND"], "args": sys.argv[1:], "x": float("nan")}))
"""


@pytest.fixture
def script(tmp_path):
    def write(text):
        path = tmp_path / "child.py"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def test_each_child_runs_the_script_with_its_backend_and_arguments(script):
    runs = backends.start_on_backends(script(REPORT), "a", "[1, 2]", backends=["jax", "torch"])
    reports = runs.results()
    assert list(reports) == ["jax", "torch"]
    for backend, report in reports.items():
        assert report["backend"] == backend
        assert report["args"] == ["a", "[1, 2]"]
        assert report["x"] != report["x"]  # nan survives the round trip
    assert runs.results() is reports


def test_a_failing_child_raises_with_its_stderr(script):
    runs = backends.start_on_backends(script("raise ValueError('bad width')"), backends=["jax"])
    with pytest.raises(backends.BackendRunError) as raised:
        runs.results()
    message = str(raised.value)
    assert "1 of 1 backend run(s) failed" in message
    assert "jax: the child exited with status 1" in message
    assert "ValueError: bad width" in message


def test_a_child_without_json_output_is_an_error(script):
    runs = backends.start_on_backends(script("print('no json')"), backends=["torch"])
    with pytest.raises(backends.BackendRunError, match="printed no JSON"):
        runs.results()


def test_a_slow_child_is_stopped_at_the_timeout(script):
    runs = backends.start_on_backends(
        script("import time; time.sleep(30)"), backends=["jax"], timeout=0.5
    )
    with pytest.raises(backends.BackendRunError, match=r"no result after 0\.5 s"):
        runs.results()


@pytest.mark.parametrize(
    "names", [["theano"], [], ["jax", "jax"]], ids=["unknown", "none", "twice"]
)
def test_bad_backend_lists_are_refused(script, names):
    with pytest.raises(ValueError, match="distinct names"):
        backends.start_on_backends(script(REPORT), backends=names)


def test_bad_scripts_arguments_and_timeouts_are_refused(script, tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        backends.start_on_backends(str(tmp_path / "missing.py"))
    with pytest.raises(ValueError, match="must be strings"):
        backends.start_on_backends(script(REPORT), 1.5)
    with pytest.raises(ValueError, match="timeout"):
        backends.start_on_backends(script(REPORT), backends=["jax"], timeout=0)
