"""Taking a bump layer to production: saving, serving, XLA, mixed precision, several devices.

Each helper answers one question of chapter 5's checklist with a measurement:

* :func:`round_trip`: does a model come back from ``model.save`` (``.keras``)
  and from ``model.export`` (a TensorFlow SavedModel for serving) with
  exactly the same outputs?
* :func:`time_forward_backward`: how long does one compiled forward and
  backward pass take, with and without XLA (``jit_compile``)?
* :func:`values_and_gradients`: what does a layer output, and what are its
  gradients, element by element, in its compute dtype (float16 included)?
* :func:`compiled_training`: a training loop that XLA really compiles, even
  under op determinism, where Keras' ``compile(jit_compile=True)`` declines.
* :func:`upstream_underflow` and :func:`fit_loss_scaled`: how many per-sample
  gradients flush to 0 in float16, and training with a fixed or dynamic loss
  scale (``keras.optimizers.LossScaleOptimizer``).
* :func:`configure_logical_cpus` and :func:`fit_with_strategy`: train under a
  ``tf.distribute`` strategy, for example ``MirroredStrategy`` on two logical
  CPU devices, and compare with one device.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike

from bumplib.callbacks import SigmaHistory, find_bump_layer
from bumplib.stable_layer import StableBumpLayer
from bumplib.training import FitResult, LayerFit, make_recovery_optimizer

__all__ = [
    "LayerProbe",
    "RoundTrip",
    "compiled_training",
    "configure_logical_cpus",
    "fit_loss_scaled",
    "fit_with_strategy",
    "relative_difference",
    "round_trip",
    "time_forward_backward",
    "upstream_underflow",
    "values_and_gradients",
]


@dataclass(frozen=True)
class RoundTrip:
    """What :func:`round_trip` returns: the outputs of the model and of its two copies.

    All three are computed in graph mode (``predict`` and the SavedModel's
    ``serve``), as a server would run them.

    Attributes:
        original: Output of the model itself (``model.predict``).
        keras_reloaded: Output of the model saved as ``.keras`` and loaded
            with ``keras.models.load_model`` (its ``predict``).
        exported: Output of the model exported with ``model.export`` (a
            TensorFlow SavedModel) and loaded with ``tf.saved_model.load``,
            through its ``serve`` endpoint.
        keras_path: Where the ``.keras`` file was written.
        export_path: Where the SavedModel directory was written.

    """

    original: np.ndarray
    keras_reloaded: np.ndarray
    exported: np.ndarray
    keras_path: str
    export_path: str

    @property
    def identical(self) -> bool:
        """Whether both copies give bit-for-bit the original outputs."""
        return bool(
            np.array_equal(self.original, self.keras_reloaded)
            and np.array_equal(self.original, self.exported)
        )


def round_trip(model: keras.Model, x: ArrayLike, directory: str) -> RoundTrip:
    """Save, reload, export and reload ``model``, and evaluate the three on ``x``.

    Writes ``directory / "model.keras"`` (``model.save``) and the SavedModel
    directory ``directory / "served"`` (``model.export(...,
    format="tf_saved_model")``). The ``.keras`` file is loaded with
    ``keras.models.load_model(..., compile=False)`` (bumplib's layers are
    registered, so no ``custom_objects`` are needed; serving needs no
    optimizer, so none is restored); the SavedModel with
    ``tf.saved_model.load``, which needs neither Keras nor bumplib, and is
    called through ``serve``.

    Args:
        model: A built model with a fixed input signature (for example made
            with ``keras.Input``).
        x: Inputs to compare the three on, float32.
        directory: An existing directory to write into (a temporary one), as a
            string or a ``pathlib.Path``.

    Returns:
        A :class:`RoundTrip`.

    Raises:
        FileNotFoundError: if ``directory`` does not exist.

    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"directory {str(directory)!r} does not exist; create it first.")
    x = np.asarray(x, dtype=np.float32)
    keras_path = directory / "model.keras"
    export_path = directory / "served"
    model.save(keras_path)
    reloaded = keras.models.load_model(keras_path, compile=False)
    model.export(str(export_path), format="tf_saved_model", verbose=False)
    served = tf.saved_model.load(str(export_path))
    return RoundTrip(
        original=model.predict(x, verbose=0),
        keras_reloaded=reloaded.predict(x, verbose=0),
        exported=served.serve(tf.constant(x)).numpy(),
        keras_path=str(keras_path),
        export_path=str(export_path),
    )


def time_forward_backward(
    layer: keras.layers.Layer, x: ArrayLike, *, jit_compile: bool, repeats: int = 7
) -> tuple[float, list[np.ndarray]]:
    """Return the median time of one forward and backward pass, and its gradients.

    The pass computes ``sum(layer(x))`` and its gradients with respect to
    ``x`` and to the layer's trainable weights, in one ``tf.function``
    (compiled with XLA when ``jit_compile``). The first call, which traces and
    compiles, is not timed; then ``repeats`` calls are, each until its values
    are ready.

    Args:
        layer: A layer (built or not).
        x: Inputs, float32.
        jit_compile: Compile the pass with XLA.
        repeats: Number of timed calls, ``>= 1``.

    Returns:
        ``(seconds, gradients)``: the median wall time of a call, and the
        gradients (with respect to ``x``, then each weight) of the last call.

    Raises:
        ValueError: for ``repeats < 1``.

    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}.")
    x = tf.constant(np.asarray(x, dtype=np.float32))
    if not layer.built:
        layer(x[:1])

    @tf.function(jit_compile=jit_compile)
    def step(inputs: tf.Tensor) -> list[tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            total = tf.reduce_sum(layer(inputs))
        return tape.gradient(total, [inputs, *layer.trainable_variables])

    grads = [g.numpy() for g in step(x)]  # trace and compile, untimed
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        grads = [g.numpy() for g in step(x)]
        times.append(time.perf_counter() - start)
    return statistics.median(times), grads


@dataclass(frozen=True)
class LayerProbe:
    """What :func:`values_and_gradients` returns, one value per input element (float64).

    Attributes:
        y: The layer's output.
        dy_dx: Derivative of each output with respect to its input.
        dy_dweight: Derivative of each output with respect to the layer's
            stored width (``sigma`` for the identity parametrization; the
            layer's single trainable weight), each from its own forward pass.
        batch_dweight: Derivative of ``sum(y)`` over all the probe inputs at
            once with respect to that weight: what a training step sees. One
            non-finite term makes it non-finite.
        dtype: The compute dtype the values were computed in.

    """

    y: np.ndarray
    dy_dx: np.ndarray
    dy_dweight: np.ndarray
    batch_dweight: float
    dtype: str

    @property
    def finite(self) -> bool:
        """Whether every value and derivative is finite."""
        return bool(
            np.isfinite(self.y).all()
            and np.isfinite(self.dy_dx).all()
            and np.isfinite(self.dy_dweight).all()
            and math.isfinite(self.batch_dweight)
        )


def values_and_gradients(layer: keras.layers.Layer, x: ArrayLike) -> LayerProbe:
    """Evaluate a one-weight bump layer on ``x`` and differentiate it, element by element.

    ``x`` is cast to the layer's compute dtype (float16 under
    ``dtype="mixed_float16"``), so the values and gradients are the ones that
    dtype gives. ``dy_dx`` comes from one gradient of ``sum(y)`` (each output
    depends on its own input only); ``dy_dweight`` from one gradient per
    element, each from a forward pass of that element alone (in one batch, a
    non-finite derivative at one element spreads to the shared weight's
    gradient: ``batch_dweight`` shows that). Meant for a few probe points.

    Args:
        layer: A bump layer with exactly one trainable weight (its width),
            built or not, with a single shared width.
        x: Probe inputs, any shape; a flat array is treated as ``(n, 1)``.

    Returns:
        A :class:`LayerProbe` whose arrays have the shape of ``x``.

    Raises:
        ValueError: if the layer does not have exactly one trainable weight.

    """
    x_np = np.asarray(x, dtype=np.float64)
    shape = x_np.shape
    x_t = tf.constant(x_np.reshape(-1, 1), dtype=layer.compute_dtype)
    if not layer.built:
        layer.build(tuple(x_t.shape))
    weights = layer.trainable_variables
    if len(weights) != 1:
        raise ValueError(
            f"values_and_gradients needs a layer with one trainable weight, "
            f"{layer.name!r} has {len(weights)}."
        )
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        y = layer(x_t)
        total = tf.reduce_sum(y)
    dy_dx, batch_dw = tape.gradient(total, [x_t, weights[0]])
    dy_dw = []
    for i in range(x_t.shape[0]):  # one forward pass per element: no other element interferes
        with tf.GradientTape() as tape:
            y_i = tf.reduce_sum(layer(x_t[i : i + 1]))
        dy_dw.append(float(tf.cast(tape.gradient(y_i, weights[0])[0], tf.float64)))

    def as_f64(t: tf.Tensor) -> np.ndarray:
        return np.asarray(tf.cast(t, tf.float64).numpy(), dtype=np.float64).reshape(shape)

    return LayerProbe(
        y=as_f64(y),
        dy_dx=as_f64(dy_dx),
        dy_dweight=np.array(dy_dw).reshape(shape),
        batch_dweight=float(tf.cast(batch_dw[0], tf.float64)),
        dtype=str(layer.compute_dtype),
    )


def configure_logical_cpus(count: int = 2) -> list[tf.config.LogicalDevice]:
    """Split the first physical CPU into ``count`` logical devices, and return them.

    ``tf.distribute.MirroredStrategy`` needs several devices; on a machine
    with one CPU and no GPU, logical CPU devices stand in for them. TensorFlow
    fixes its devices when it first runs an op, so call this right after
    importing TensorFlow, before anything else touches it. Calling it again
    with the same ``count`` is harmless.

    Raises:
        ValueError: for ``count < 1``.
        RuntimeError: if TensorFlow has already set up its devices
            differently (restart the process and call this first).

    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}.")
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is None or len(current) != count:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
            )
        except RuntimeError as err:
            raise RuntimeError(
                f"TensorFlow's devices are already initialized, so the CPU cannot be split "
                f"into {count} logical devices any more. Call configure_logical_cpus() right "
                "after importing TensorFlow, before any operation runs."
            ) from err
    return tf.config.list_logical_devices("CPU")


def fit_with_strategy(
    x: ArrayLike,
    y: ArrayLike,
    strategy: tf.distribute.Strategy | None = None,
    *,
    global_batch_size: int = 256,
    epochs: int = 3,
    learning_rate: float = 0.1,
    initial_sigma: float = 1.0,
    seed: int = 0,
) -> FitResult:
    """Learn sigma with ``model.fit`` under a distribution strategy (or none).

    The model is the thread's one-layer model with a
    :class:`~bumplib.StableBumpLayer` (log parametrization), created inside
    ``strategy.scope()``, compiled with the mean squared error and the
    optimizer of :func:`bumplib.fit_sigma` (Adam with ``beta_1 = beta_2 =
    0.5``, the learning rate decaying along a cosine to ``1e-4`` of its start
    over the whole fit), and trained on the data in a fixed order (no
    shuffling) in batches of ``global_batch_size``. Under ``MirroredStrategy`` each global batch is
    split between the replicas, each computes the gradient of its share, and
    the gradients are summed across replicas before one update of the
    mirrored weight; so with the same seed and the same global batch the
    result is that of one device, up to the order of the floating-point sums.

    Args:
        x: Inputs, shape ``(n, 1)``.
        y: Targets, shape ``(n, 1)``.
        strategy: A ``tf.distribute`` strategy; ``None`` for the default
            (one device).
        global_batch_size: Samples per step, over all replicas.
        epochs: Passes over the data.
        learning_rate: Adam's starting learning rate (applied to ``log(sigma)``).
        initial_sigma: Starting width, ``> 0``.
        seed: Seeds Keras and TensorFlow before the model is made.

    Returns:
        A :class:`~bumplib.FitResult` (history per epoch).

    """
    x = np.asarray(x, dtype=np.float32).reshape(-1, 1)
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    strategy = strategy or tf.distribute.get_strategy()
    keras.utils.set_random_seed(seed)
    with strategy.scope():
        layer = StableBumpLayer(initial_sigma=initial_sigma, parametrization="log")
        model = keras.Sequential([keras.Input(shape=(1,)), layer])
        steps = epochs * math.ceil(len(x) / global_batch_size)
        model.compile(optimizer=make_recovery_optimizer(learning_rate, steps), loss="mse")
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(global_batch_size)
    record = SigmaHistory(layer)
    start = time.perf_counter()
    model.fit(data, epochs=epochs, verbose=0, shuffle=False, callbacks=[record])
    seconds = time.perf_counter() - start
    return FitResult(
        sigma=float(layer.get_sigma()[0]),
        history=record.sigmas[:, 0],
        losses=record.losses,
        steps=record.steps,
        epochs=float(epochs),
        seconds=seconds,
    )


def relative_difference(a: float, b: float) -> float:
    """Return ``|a - b| / |b|`` (0 when both are 0)."""
    if a == b:
        return 0.0
    return abs(a - b) / abs(b) if b != 0 else math.inf


def upstream_underflow(
    layer: keras.layers.Layer, x: ArrayLike, y: ArrayLike, loss_scale: float = 1.0
) -> float:
    """Return the fraction of per-sample upstream gradients that round to 0 in the layer's dtype.

    The loss is the mean squared error computed in float32 from the layer's
    output, times ``loss_scale``. Its gradient with respect to the output,
    ``2 * loss_scale * (output - y) / n`` per sample, reaches the layer in the
    layer's compute dtype (float16 under ``"mixed_float16"``), where values
    below about ``3e-8`` round to 0: those samples then contribute nothing to
    the gradient of sigma. Only samples whose residual is not 0 are counted.

    Args:
        layer: A layer (built or not).
        x: Inputs, shape ``(n, 1)``.
        y: Targets, shape ``(n, 1)``.
        loss_scale: The factor the loss is multiplied by, ``> 0``.

    Returns:
        The fraction in ``[0, 1]`` (0 when no residual is non-zero).

    Raises:
        ValueError: for a ``loss_scale`` that is not a finite number ``> 0``.
    """
    if not (isinstance(loss_scale, (int, float)) and 0 < loss_scale < math.inf):
        raise ValueError(f"loss_scale must be a finite number > 0, got {loss_scale!r}.")
    x_t = tf.constant(np.asarray(x, dtype=np.float32).reshape(-1, 1))
    y_t = tf.constant(np.asarray(y, dtype=np.float32).reshape(-1, 1))
    with tf.GradientTape() as tape:
        output = layer(x_t)
        tape.watch(output)
        residual = tf.cast(output, tf.float32) - y_t
        loss = tf.reduce_mean(tf.square(residual)) * loss_scale
    upstream = tape.gradient(loss, output).numpy()
    moving = residual.numpy() != 0
    if not moving.any():
        return 0.0
    return float(np.mean(upstream[moving] == 0))


def fit_loss_scaled(
    layer: keras.layers.Layer,
    x: ArrayLike,
    y: ArrayLike,
    *,
    loss_scale: float | str | None = None,
    steps: int = 500,
    learning_rate: float = 0.1,
    block: int = 25,
    seed: int = 0,
) -> LayerFit:
    """Train ``layer`` full-batch like :func:`~bumplib.fit_full_batch`, with loss scaling.

    The optimizer is :func:`~bumplib.make_recovery_optimizer` (Adam,
    ``beta_1 = beta_2 = 0.5``, cosine decay), the loss the mean squared error
    in float32. ``loss_scale`` decides what the backward pass sees:

    * ``None``: the loss itself (what ``fit_full_batch`` does);
    * a number ``s``: the gradient of ``s * loss``, divided by ``s`` before
      the update (a fixed loss scale);
    * ``"dynamic"``: Keras' ``keras.optimizers.LossScaleOptimizer`` around the
      optimizer, which scales the loss (from ``2**15``), skips any step whose
      gradients are not finite and halves the scale then, and doubles it
      after 2000 finite steps.

    Args:
        layer: A layer or model (for example with ``dtype="mixed_float16"``);
            trained in place.
        x: Inputs, shape ``(n, 1)``, finite.
        y: Targets of the layer's output shape, finite.
        loss_scale: ``None``, a finite number ``> 0`` or ``"dynamic"``.
        steps: Optimizer steps, a multiple of ``block``.
        learning_rate: Starting learning rate.
        block: Steps between two records.
        seed: Seeds Keras and TensorFlow.

    Returns:
        A :class:`~bumplib.LayerFit`.

    Raises:
        ValueError: for a bad ``loss_scale``, ``steps`` or ``block``, or
            non-finite data.
    """
    if not (
        loss_scale is None
        or loss_scale == "dynamic"
        or (
            isinstance(loss_scale, (int, float))
            and not isinstance(loss_scale, bool)
            and 0 < loss_scale < math.inf
        )
    ):
        raise ValueError(
            f"loss_scale must be None, a finite number > 0 or 'dynamic', got {loss_scale!r}."
        )
    for name, value in (("steps", steps), ("block", block)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if steps % block:
        raise ValueError(f"steps ({steps}) must be a multiple of block ({block}).")
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite; filter out nan and inf first.")
    keras.utils.set_random_seed(seed)
    x_t, y_t = tf.constant(x), tf.constant(y)
    layer(x_t[:1])
    variables = layer.trainable_variables
    optimizer = make_recovery_optimizer(learning_rate, steps)
    dynamic = loss_scale == "dynamic"
    if dynamic:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(variables)
    scale = 1.0 if loss_scale is None or dynamic else float(loss_scale)

    def mse() -> tf.Tensor:
        return tf.reduce_mean(tf.square(tf.cast(layer(x_t), tf.float32) - y_t))

    @tf.function
    def train_block() -> None:
        for _ in tf.range(block):
            with tf.GradientTape() as tape:
                loss = mse()
                scaled = optimizer.scale_loss(loss) if dynamic else loss * scale
            grads = tape.gradient(scaled, variables)
            if not dynamic:
                grads = [g / scale for g in grads]
            optimizer.apply(grads, variables)

    watched = find_bump_layer(layer)
    losses, sigmas = [], []
    for i in range(steps // block + 1):
        if i:
            train_block()
        losses.append(float(mse()))
        sigmas.append(np.asarray(watched.get_sigma(), dtype=np.float64))
    return LayerFit(
        layer=layer,
        losses=np.array(losses),
        steps=np.arange(0, steps + 1, block),
        sigmas=np.array(sigmas).reshape(len(losses), -1),
    )


def compiled_training(
    layer: keras.layers.Layer,
    x: ArrayLike,
    y: ArrayLike,
    *,
    steps: int,
    jit_compile: bool,
    learning_rate: float = 0.1,
) -> tf.types.experimental.GenericFunction:
    """Return a ``tf.function`` that trains ``layer`` for ``steps`` full-batch steps per call.

    The steps are those of :func:`~bumplib.fit_full_batch` (Adam with short
    memories and a cosine decay over ``steps``, mean squared error), in one
    ``tf.range`` loop. With ``jit_compile=True`` the whole loop is compiled
    by XLA, also under op determinism (``tf.function`` does not ask Keras);
    ``function.experimental_get_compiler_ir()(stage="hlo")`` then returns the
    XLA program it runs. Each call returns the final mean squared error.

    Raises:
        ValueError: for ``steps < 1``.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}.")
    x_t = tf.constant(np.asarray(x, dtype=np.float32))
    y_t = tf.constant(np.asarray(y, dtype=np.float32))
    layer(x_t[:1])
    variables = layer.trainable_variables
    optimizer = make_recovery_optimizer(learning_rate, steps)
    optimizer.build(variables)

    def mse() -> tf.Tensor:
        return tf.reduce_mean(tf.square(tf.cast(layer(x_t), tf.float32) - y_t))

    @tf.function(jit_compile=jit_compile)
    def train() -> tf.Tensor:
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                loss = mse()
            optimizer.apply(tape.gradient(loss, variables), variables)
        return mse()

    return train
