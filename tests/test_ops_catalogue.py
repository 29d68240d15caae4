"""The keras.ops gradient catalogue: verdicts, table, reproductions (no child processes)."""

from __future__ import annotations

import math

import keras

from bumpbook import ops_catalogue as catalogue


def test_catalogue_has_thirty_distinct_entries_that_evaluate():
    names = [entry.name for entry in catalogue.ENTRIES]
    assert len(names) >= 30
    assert len(set(names)) == len(names)
    result = catalogue.evaluate_here(catalogue.ENTRIES[:4])  # eager and XLA on TensorFlow
    assert set(result["modes"]) == {"eager", "compiled"}
    assert math.isinf(result["gradient"]["eager"][0])  # sqrt at 0
    assert math.isnan(result["gradient"]["eager"][3])  # where(x > 0, log(x), 0) at 0


def test_verdicts():
    assert catalogue.verdict(0.0, math.nan, (0.0, 0.0)) == "trap"
    assert catalogue.verdict(1.0, math.inf, (0.0, 0.0)) == "trap"
    assert catalogue.verdict(0.0, math.inf, (math.inf, math.inf)) == "ok"
    assert catalogue.verdict(0.0, 0.5, (0.0, 1.0)) == "ok"
    assert catalogue.verdict(0.0, 2.0, (0.0, 1.0)) == "differs"
    assert catalogue.verdict(math.inf, math.nan, (0.0, 0.0)) == "differs"


def test_table_and_reproduction():
    entries = catalogue.ENTRIES[:2]
    results = {
        "tensorflow": {
            "value": {"eager": [0.0, 0.0], "compiled": [0.0, 0.0]},
            "gradient": {"eager": [math.inf, math.nan], "compiled": [math.inf, 0.0]},
        },
        "torch": "not installed",
    }
    table = catalogue.markdown_table(catalogue.catalogue_rows(results, entries), list(results))
    assert "| `sqrt` | 0 | inf | inf ok | not installed |" in table
    assert "| `sqrt(relu)` | 0 | [0, inf] | nan trap; compiled 0 ok | not installed |" in table
    text = catalogue.reproduction(entries[1], "jax")
    assert text.startswith("# KERAS_BACKEND=jax python")
    assert "return ops.sqrt(ops.relu(x))" in text


def test_the_running_backend_is_evaluated_in_this_process(monkeypatch):
    here = keras.backend.backend()

    def no_child(*args, **kwargs):
        raise AssertionError("run_catalogue started a process for the running backend")

    monkeypatch.setattr(catalogue.subprocess, "Popen", no_child)
    monkeypatch.setattr(catalogue, "evaluate_here", lambda: {"gradient": {"eager": [math.inf]}})
    assert catalogue.run_catalogue(backends=(here,)) == {here: {"gradient": {"eager": [math.inf]}}}


def test_a_failure_of_the_running_backend_is_reported_as_a_childs(monkeypatch):
    def broken():
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(catalogue, "evaluate_here", broken)
    here = keras.backend.backend()
    assert catalogue.run_catalogue(backends=(here,)) == {
        here: "failed: RuntimeError: no compiler here"
    }
