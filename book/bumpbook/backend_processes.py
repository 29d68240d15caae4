"""One bump layer on every Keras backend: a fresh Python per backend, a small JSON result back.

Keras fixes its backend when it is first imported (``KERAS_BACKEND``), so one
process cannot run the same layer on TensorFlow, JAX and PyTorch. Chapter 6
therefore starts one child process per backend with :func:`run_on_backends`:
all children start at once, each imports Keras, its backend and ``bumplib``
once, does all of that backend's work (:func:`backend_report`) and writes a
small JSON file that the parent reads back. A child that fails raises
:class:`BackendRunError` in the parent, with the child's exit status and the
end of its stderr.

What a child measures, with its backend's own autodiff (``tf.GradientTape``,
``jax.value_and_grad`` on ``Layer.stateless_call``, ``torch`` ``backward()``):

* the output and the derivative with respect to ``sigma`` of three layers at
  given points ``(x, sigma)``: :class:`OpsWhereBumpLayer` (one
  ``keras.ops.where``, the trap), the double ``where`` layer of ``bumplib``
  and :class:`bumplib.StableBumpLayer`;
* a short full-batch training of ``StableBumpLayer`` on data from a known
  width, which must reach the same ``sigma`` on every backend.

Run a child by hand with ``python -m bumpbook.backend_processes REQUEST.json
RESULT.json`` (``KERAS_BACKEND`` set in the environment).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from bumpbook.answer_recipe import make_model
from bumpbook.portability import apply_switch
from bumpbook.portable_answer_layer import PortableAnswerBumpLayer
from bumplib.base_layer import BaseBumpLayer

__all__ = [
    "BACKENDS",
    "CASES",
    "CHILD_ENV",
    "DEFAULT_REQUEST",
    "BackendRunError",
    "BackendRuns",
    "Case",
    "OpsWhereBumpLayer",
    "backend_report",
    "gradient_table",
    "largest_relative_spread",
    "layer_value_and_sigma_gradient",
    "run_on_backends",
    "start_on_backends",
    "train_stable_layer",
]

#: The Keras backends, in the order the book shows them.
BACKENDS: tuple[str, ...] = ("tensorflow", "jax", "torch")


@dataclass(frozen=True)
class Case:
    """One telling input of the table: a label, ``x`` and ``sigma``."""

    label: str
    x: float
    sigma: float


#: The telling inputs of chapter 6, in plain frameworks and on the Keras backends alike.
CASES: tuple[Case, ...] = (
    Case("inside", 0.3, 0.5),
    Case("outside, formula inf", 0.501, 0.25),
    Case("zero width", 0.0, 0.0),
    Case("exploding band", 1.42, 2.0),
)


#: What a child does unless told otherwise (the points of the gradient table as
#: ``[x, sigma]`` pairs, and the training run).
DEFAULT_REQUEST: dict[str, Any] = {
    "points": [[case.x, case.sigma] for case in CASES],
    "training": {
        "true_sigma": 0.5,
        "initial_sigma": 1.0,
        "n": 1000,
        "steps": 300,
        "learning_rate": 0.01,
        "seed": 0,
    },
}

#: Environment of every child besides ``KERAS_BACKEND`` (quiet, CPU only, repeatable).
CHILD_ENV: dict[str, str] = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TF_DETERMINISTIC_OPS": "1",
    "PYTHONHASHSEED": "0",
    "JAX_PLATFORMS": "cpu",
    "CUDA_VISIBLE_DEVICES": "",
}

#: How many characters of a failed child's stderr the error shows.
STDERR_TAIL = 4000


class BackendRunError(RuntimeError):
    """A backend's child process failed; the message holds its exit status and stderr."""


@keras.saving.register_keras_serializable(package="bumpbook")
class OpsWhereBumpLayer(BaseBumpLayer):
    """The answer's first layer in ``keras.ops``: one ``where``, the trap on every backend.

    Formula::

        y = exp(-sigma / (sigma - x**2))   if |x| < sigma
        y = 0                              otherwise

    The formula is computed for every input, and ``keras.ops.where`` keeps
    each backend's own gradient of ``where``: wherever the unselected formula
    or its derivative is infinite (or ``nan``), the derivative with respect to
    ``sigma`` is ``nan``. Kept only to show that; use
    :class:`bumplib.StableBumpLayer` in a model. Arguments as
    :class:`bumplib.base_layer.BaseBumpLayer`.
    """

    def call(self, inputs: Any) -> Any:
        """Select the formula inside ``|x| < sigma`` and 0 outside, element by element."""
        sigma = self.sigma_tensor()
        inside = ops.abs(inputs) < sigma
        return ops.where(inside, ops.exp(-sigma / (sigma - ops.square(inputs))), 0.0)


def layer_value_and_sigma_gradient(
    layer_class: type[BaseBumpLayer], points: Sequence[Sequence[float]]
) -> list[list[float]]:
    """Return ``[value, d value/d sigma]`` of a bump layer at each point ``(x, sigma)``.

    One layer with ``per_feature=True`` holds one width per point, and one
    call on a row of the points' ``x`` gives every value; since each width
    acts on its own feature only, the gradient of the outputs' sum with
    respect to the widths holds each point's derivative. The derivative comes
    from the current backend's own autodiff, as a user of that backend would
    compute it: ``tf.GradientTape``, ``jax.value_and_grad`` of
    ``layer.stateless_call``, or ``torch``'s ``backward()``.

    Raises:
        ValueError: if no point is given, or a point is not two numbers.
    """
    if not points or any(len(point) != 2 for point in points):
        raise ValueError(f"points must be a non-empty list of (x, sigma) pairs, got {points!r}.")
    layer = layer_class(initial_sigma=[float(s) for _, s in points], per_feature=True)
    inputs = ops.convert_to_tensor(np.array([[x for x, _ in points]], dtype=np.float32))
    layer.build(tuple(inputs.shape))
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            outputs = layer(inputs)
            total = ops.sum(outputs)
        gradient = tape.gradient(total, layer.trainable_variables[0])
    elif backend == "jax":
        import jax

        def total_of(trainable: list[Any]) -> tuple[Any, Any]:
            outputs, _ = layer.stateless_call(
                trainable, [v.value for v in layer.non_trainable_variables], inputs
            )
            return jax.numpy.sum(outputs), outputs

        (_, outputs), (gradient,) = jax.value_and_grad(total_of, has_aux=True)(
            [v.value for v in layer.trainable_variables]
        )
    elif backend == "torch":
        outputs = layer(inputs)
        ops.sum(outputs).backward()
        gradient = layer.trainable_variables[0].value.grad
    else:  # pragma: no cover - Keras has no other backend with autodiff
        raise ValueError(f"no autodiff known for the Keras backend {backend!r}.")
    values = np.asarray(ops.convert_to_numpy(outputs), dtype=np.float64).reshape(-1)
    gradients = np.asarray(ops.convert_to_numpy(gradient), dtype=np.float64).reshape(-1)
    return [[float(v), float(g)] for v, g in zip(values, gradients, strict=True)]


def train_stable_layer(
    true_sigma: float,
    initial_sigma: float,
    n: int,
    steps: int,
    learning_rate: float,
    seed: int,
) -> dict[str, float]:
    """Train ``StableBumpLayer`` full-batch with Adam on data from ``true_sigma``.

    The data are ``bumplib.generate_data(true_sigma, n=n, seed=seed)`` (x in
    (-1, 1)); the model is ``bumpbook.make_model``'s. One epoch holds ``steps``
    copies of the data, each one batch, so every backend takes the same
    ``steps`` optimizer steps on the same full batch. TensorFlow and JAX run
    them in one call of the compiled step (``steps_per_execution=steps``);
    Keras' PyTorch trainer accepts only ``steps_per_execution=1``, which takes
    the same steps one call at a time.

    Returns:
        ``{"sigma": learned width, "loss": final MSE on the data}``.
    """
    import bumplib

    if keras.backend.backend() == "tensorflow":
        # Deterministic TensorFlow ops. Nothing here draws random numbers (the
        # width starts at a constant, the batches are not shuffled), and on the
        # other backends Keras' seeding would import TensorFlow as well.
        bumplib.make_deterministic(seed)
    apply_switch()  # the child re-rounds its data as the chapter does
    x, y, _ = bumplib.generate_data(true_sigma, n=n, seed=seed)
    layer = bumplib.StableBumpLayer(initial_sigma=initial_sigma)
    per_call = 1 if keras.backend.backend() == "torch" else steps
    model = make_model(layer, learning_rate=learning_rate, steps_per_execution=per_call)
    model.fit(
        np.tile(x, (steps, 1)),
        np.tile(y, (steps, 1)),
        batch_size=n,
        epochs=1,
        shuffle=False,
        verbose=0,
    )
    loss = model.evaluate(x, y, batch_size=n, verbose=0)
    return {"sigma": float(layer.get_sigma()[0]), "loss": float(loss)}


def backend_report(request: Mapping[str, Any]) -> dict[str, Any]:
    """Do one backend's share of chapter 6 and return it as JSON-ready data.

    Args:
        request: ``{"points": [[x, sigma], ...], "training": {...}}`` as in
            :data:`DEFAULT_REQUEST` (the training's keyword arguments are those
            of :func:`train_stable_layer`).

    Returns:
        The backend's name and versions, ``"layers"``: the class name behind
        each of ``"one where"``, ``"double where"`` and ``"stable"``,
        ``"gradients"``: for each of them a list of ``[value, d/d sigma]`` per
        point, and ``"training"``: :func:`train_stable_layer`'s result.
    """
    import bumplib

    layers = {
        "one where": OpsWhereBumpLayer,
        "double where": PortableAnswerBumpLayer,
        "stable": bumplib.StableBumpLayer,
    }
    gradients = {
        name: layer_value_and_sigma_gradient(layer_class, request["points"])
        for name, layer_class in layers.items()
    }
    backend = keras.backend.backend()
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]
    return {
        "backend": backend,
        "keras": keras.__version__,
        "framework": __import__(module).__version__,
        "layers": {name: layer_class.__name__ for name, layer_class in layers.items()},
        "gradients": gradients,
        "training": train_stable_layer(**request["training"]),
    }


def gradient_table(results: Mapping[str, Mapping[str, Any]], point_labels: Sequence[str]) -> str:
    """Return the children's layer measurements as Markdown: a row per layer and point.

    Each entry is ``value / d/d sigma`` on one backend, printed by
    :func:`bumpbook.frameworks.result_text` (exact values as they are,
    others to 4 significant digits).

    Args:
        results: :func:`run_on_backends`'s result.
        point_labels: One label per point of the request, for the first column.

    Raises:
        ValueError: if ``results`` is empty or the labels do not match the points.
    """
    from bumpbook.frameworks import result_text

    if not results:
        raise ValueError("gradient_table needs the result of at least one backend.")
    first = next(iter(results.values()))
    n_points = len(next(iter(first["gradients"].values())))
    if len(point_labels) != n_points:
        raise ValueError(f"got {len(point_labels)} labels for {n_points} points.")
    lines = [
        "| layer | input | " + " | ".join(f"`{b}`" for b in results) + " |",
        "|:---|:---|" + "---:|" * len(results),
    ]
    for name, class_name in first["layers"].items():
        for i, label in enumerate(point_labels):
            cells = [
                " / ".join(result_text(v) for v in result["gradients"][name][i])
                for result in results.values()
            ]
            lines.append(f"| `{class_name}` | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def largest_relative_spread(values: Sequence[float]) -> float:
    """Return ``(max - min) / max(|v|)`` of finite ``values``: how far apart the backends are.

    Raises:
        ValueError: if ``values`` is empty or holds a non-finite number.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0 or not np.all(np.isfinite(array)):
        raise ValueError(f"need one or more finite values, got {list(values)}.")
    scale = np.max(np.abs(array))
    return 0.0 if scale == 0 else float((array.max() - array.min()) / scale)


def _json_ready(value: Any) -> Any:
    """Return ``value`` with nan and inf as strings, since JSON has neither."""
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)
    if isinstance(value, Mapping):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def _from_json(value: Any) -> Any:
    """Undo :func:`_json_ready`."""
    if value in ("nan", "inf", "-inf"):
        return float(value)
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


class BackendRuns:
    """Child processes started by :func:`start_on_backends`; :meth:`results` waits for them.

    Starting the children early lets them import Keras and their backends
    while the parent does other work (the machine's other cores are idle
    meanwhile).
    """

    def __init__(self, request: Mapping[str, Any], backends: Sequence[str], timeout: float) -> None:
        unknown = [b for b in backends if b not in BACKENDS]
        if unknown or not backends or len(set(backends)) != len(backends):
            raise ValueError(
                f"backends must be distinct names from {list(BACKENDS)}, got {list(backends)}."
            )
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}.")
        self.backends = tuple(backends)
        self.timeout = float(timeout)
        self._folder = tempfile.TemporaryDirectory(prefix="bumplib-backends-")
        request_path = Path(self._folder.name) / "request.json"
        request_path.write_text(json.dumps(_json_ready(dict(request))), encoding="utf-8")
        self._children: dict[str, tuple[subprocess.Popen[str], Path]] = {}
        for backend in self.backends:
            result_path = Path(self._folder.name) / f"{backend}.json"
            env = {**os.environ, **CHILD_ENV, "KERAS_BACKEND": backend}
            command = [
                sys.executable,
                "-m",
                "bumpbook.backend_processes",
                str(request_path),
                str(result_path),
            ]
            child = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            self._children[backend] = (child, result_path)
        self._results: dict[str, dict[str, Any]] | None = None

    def results(self) -> dict[str, dict[str, Any]]:
        """Wait for every child and return backend name -> its result (the same on every call).

        Raises:
            BackendRunError: if a child exits with an error or runs longer than
                the timeout; the message names each failed backend and shows
                the end of its stderr.
        """
        if self._results is not None:
            return self._results
        results, failures = {}, []
        try:
            for backend, (child, result_path) in self._children.items():
                try:
                    _, stderr = child.communicate(timeout=self.timeout)
                except subprocess.TimeoutExpired:
                    child.kill()
                    _, stderr = child.communicate()
                    failures.append(
                        f"{backend}: no result after {self.timeout:g} s; its stderr ends with:\n"
                        f"{stderr[-STDERR_TAIL:]}"
                    )
                    continue
                if child.returncode != 0 or not result_path.is_file():
                    failures.append(
                        f"{backend}: the child exited with status {child.returncode}; "
                        f"its stderr ends with:\n{stderr[-STDERR_TAIL:]}"
                    )
                    continue
                results[backend] = _from_json(json.loads(result_path.read_text(encoding="utf-8")))
        finally:
            self._folder.cleanup()
        if failures:
            raise BackendRunError(
                f"{len(failures)} of {len(self.backends)} backend run(s) failed.\n\n"
                + "\n\n".join(failures)
            )
        self._results = results
        return results


def start_on_backends(
    request: Mapping[str, Any] = DEFAULT_REQUEST,
    backends: Sequence[str] = BACKENDS,
    timeout: float = 600.0,
) -> BackendRuns:
    """Start :func:`backend_report` in one fresh Python per backend, all at once.

    Each child gets ``KERAS_BACKEND`` and :data:`CHILD_ENV` on top of this
    process's environment (so ``BUMPLIB_PERTURB_ROUNDING`` reaches it), runs
    ``python -m bumpbook.backend_processes`` and writes its result to a temporary
    JSON file. Call :meth:`BackendRuns.results` for the results.

    Raises:
        ValueError: if a backend is unknown or listed twice, or ``timeout`` is not > 0.
    """
    return BackendRuns(request, backends, timeout)


def run_on_backends(
    request: Mapping[str, Any] = DEFAULT_REQUEST,
    backends: Sequence[str] = BACKENDS,
    timeout: float = 600.0,
) -> dict[str, dict[str, Any]]:
    """Run :func:`backend_report` on each backend and return backend name -> its result.

    The same as ``start_on_backends(request, backends, timeout).results()``.

    Raises:
        ValueError: if a backend is unknown or listed twice, or ``timeout`` is not > 0.
        BackendRunError: if a child fails (see :meth:`BackendRuns.results`).
    """
    return start_on_backends(request, backends, timeout).results()


def _main(argv: Sequence[str]) -> int:
    """Child entry point: ``python -m bumpbook.backend_processes REQUEST.json RESULT.json``."""
    if len(argv) != 2:
        print(
            "usage: python -m bumpbook.backend_processes REQUEST.json RESULT.json", file=sys.stderr
        )
        return 2
    request = _from_json(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    report = backend_report(request)
    Path(argv[1]).write_text(json.dumps(_json_ready(report)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
