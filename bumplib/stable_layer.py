"""A bump layer with finite output and finite gradients for every input and every sigma >= 0.

It answers the thread's second exercise ("fix the layer so that it works for every input
value") and fixes the ``sigma == 0`` trap of the answer's final layer. Written with
``keras.ops`` and ``keras.ops.custom_gradient`` only, it runs on TensorFlow, JAX and PyTorch,
and a compiler fuses each of its passes into one loop: XLA inside TensorFlow graphs and
under ``jax.jit``, TorchInductor on PyTorch (:mod:`bumplib.torch_fusion`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any, Literal

import keras
import ml_dtypes
import numpy as np
from keras import ops

from bumplib.backend import backend_name, compile_on_tensorflow, xla_fuses_here
from bumplib.base_layer import BaseBumpLayer, constant_initializer
from bumplib.torch_fusion import compiles_on_torch, fuse_on_torch
from bumplib.validation import check_sigma_values

__all__ = [
    "PARAMETRIZATIONS",
    "StableBumpLayer",
    "blocked_total",
    "closed_form_gradients",
    "flushes_subnormals",
    "fused_guarded_bump",
    "fused_recomputed_gradients",
    "fused_torch_bump",
    "guarded_bump",
    "guarded_forward",
    "recomputed_gradients",
    "stable_bump",
    "sum_to_shape",
    "underflow_cutoff",
]

Parametrization = Literal["identity", "log", "softplus"]

#: The ways :class:`StableBumpLayer` can store its width.
PARAMETRIZATIONS = ("identity", "log", "softplus")

#: Float dtypes whose subnormal results each backend flushes to zero on the CPU. Measured with
#: ``exp(-t)``, ``-log(smallest normal) < t < -log(smallest subnormal)``, eagerly, in a graph and
#: compiled (XLA, ``jax.jit``); ``tests/backends/test_core_layers.py`` checks it on every backend.
FLUSHING_DTYPES: dict[str, frozenset[str]] = {
    "tensorflow": frozenset({"float32", "float64", "bfloat16"}),
    "jax": frozenset({"float32", "float64", "bfloat16"}),
    "torch": frozenset(),
}

#: The 16-bit float dtypes, which :func:`~bumplib.stable_bump` computes in float32.
SIXTEEN_BIT = frozenset({"float16", "bfloat16"})


def flushes_subnormals(dtype: Any, backend: str | None = None) -> bool:
    """Return whether ``backend`` (default: the running one) flushes subnormal ``dtype`` results.

    TensorFlow and XLA (which JAX uses) set the CPU's flush-to-zero mode, so a
    float32 ``exp(-90.0)`` is 0 there; float16 is computed through float32 and
    rounded, which keeps its subnormals. PyTorch leaves the CPU's default (no
    flushing) unless ``torch.set_flush_denormal(True)`` is called.
    """
    backend = backend or backend_name()
    if backend not in FLUSHING_DTYPES:
        raise ValueError(f"backend must be one of {sorted(FLUSHING_DTYPES)}, got {backend!r}.")
    return keras.backend.standardize_dtype(dtype) in FLUSHING_DTYPES[backend]


def underflow_cutoff(dtype: Any, backend: str | None = None) -> float:
    """Return ``T`` such that ``exp(-t)`` is 0 in ``dtype`` on ``backend`` for every ``t > T``.

    ``T = 1 - log(m)``, where ``m`` is the smallest positive result the
    backend's ``exp`` can give in ``dtype``: the smallest *normal* number
    where the backend flushes subnormals to zero (see
    :func:`~bumplib.flushes_subnormals`), else the smallest *subnormal* one. The
    margin of 1 keeps ``exp(-T) < m / e``, which rounds to 0 however ``exp``
    rounds. Values, by backend (CPU):

    ========  ===========================  ========  ========
    dtype     TensorFlow, JAX              PyTorch   why
    ========  ===========================  ========  ========
    float16   17.64                        17.64     float16 keeps subnormals everywhere
    bfloat16  88.34                        93.19     TF and XLA flush, PyTorch does not
    float32   88.34                        104.28    TF and XLA flush, PyTorch does not
    float64   709.40                       745.44    (JAX has float64 only with x64 on)
    ========  ===========================  ========  ========

    :func:`~bumplib.stable_bump` computes 16-bit inputs in float32, so the float32 row
    is the one that bounds its ``t``. Any ``T`` with a finite ``T**2`` would
    keep the gradients finite; the tight one makes the output exactly the
    rounded formula wherever the formula is not 0.

    Args:
        dtype: A float dtype, in any spelling Keras understands (``"float32"``,
            ``tf.float32``, ``jnp.float32``, ``torch.float32``).
        backend: ``"tensorflow"``, ``"jax"`` or ``"torch"``; default the
            running backend.
    """
    backend = backend or backend_name()
    name = keras.backend.standardize_dtype(dtype)
    cutoff = _CUTOFFS.get((name, backend))  # a lookup, which torch.compile can trace
    return _underflow_cutoff(name, backend) if cutoff is None else cutoff


def _underflow_cutoff(name: str, backend: str) -> float:
    """:func:`underflow_cutoff` of the dtype called ``name`` on ``backend``, computed."""
    info = ml_dtypes.finfo(name)
    smallest = info.tiny if flushes_subnormals(name, backend) else info.smallest_subnormal
    return 1.0 - math.log(float(smallest))


#: :func:`underflow_cutoff` of every float dtype the layers compute in, by dtype and backend.
_CUTOFFS = {
    (name, backend): _underflow_cutoff(name, backend)
    for name in ("float16", "bfloat16", "float32", "float64")
    for backend in FLUSHING_DTYPES
}


def sum_to_shape(gradient: Any, operand: Any, full_shape: tuple[int | None, ...]) -> Any:
    """Sum ``gradient`` (of the broadcast shape ``full_shape``) down to ``operand``'s shape.

    The gradient of a broadcast operand is the sum over the axes it was
    broadcast along: the leading axes it lacks, and its axes of size 1 where
    the result's axis is not (or may not be) 1.
    """
    shape = tuple(operand.shape)
    lead = len(full_shape) - len(shape)
    axes = list(range(lead)) + [
        lead + i for i, size in enumerate(shape) if size == 1 and full_shape[lead + i] != 1
    ]
    if not axes:
        return gradient
    if not shape and xla_fuses_here():  # a single width: XLA's own sum is slow on TensorFlow
        return blocked_total(gradient)
    return ops.reshape(ops.sum(gradient, axis=axes), ops.shape(operand))


def blocked_total(values: Any) -> Any:
    """Return the sum of every element of ``values``: rows of 1024 values times ones.

    XLA on TensorFlow sums 1e7 float32 values in 12 ms on 2 cores (one thread, after a
    pass that writes partial sums). As a matrix-vector product it takes 1 ms, reads the
    values as the loop before it makes them, and rounds less (relative error 1e-7, not 5e-6).
    """
    flat = ops.reshape(values, (-1,))
    rows = ops.reshape(ops.pad(flat, [[0, (-ops.shape(flat)[0]) % 1024]]), (-1, 1024))
    return ops.sum(ops.matmul(rows, ops.ones((1024,), values.dtype)))


def guarded_forward(x: Any, sigma: Any) -> tuple[Any, Any, Any, Any]:
    """The guarded bump of ``x`` and ``sigma``, and the factors its gradients reuse.

    Returns ``(phi, q, w, inverse_root)``: the bump, ``q = x / sqrt(sigma)`` where
    ``x`` is kept (else a safe value), ``w = 1 - q**2`` and ``1 / sqrt(sigma)``. XLA
    (:func:`~bumplib.backend.compile_on_tensorflow`) and ``torch.compile``
    (:mod:`bumplib.torch_fusion`) compile it; it has no sums, so it stays deterministic.
    """
    cutoff = underflow_cutoff(x.dtype)
    # Work on sigma's own (small) shape first. Keep |x| < min(sigma, sqrt(sigma * (1 - 1/T))):
    # inside the support (guard 1), and away from the formula's singularity x**2 = sigma,
    # where w <= 1/T, so exp(-t) is already 0 in this dtype or the formula explodes (guard 2).
    bound = ops.minimum(sigma, ops.sqrt(sigma * (1 - 1 / cutoff)))
    # 1 / sqrt(sigma) is finite and normal for every sigma > 0 of the dtype, subnormal and
    # huge ones included (1 / sigma is not); sigma = 0 gets the safe denominator 1.
    inverse_root = 1 / ops.sqrt(ops.where(sigma > 0, sigma, ops.ones_like(sigma)))
    keep = ops.logical_and(x < bound, x > -bound)  # two 1-byte masks, no float copy of |x|
    # q = x / sqrt(sigma), so w = 1 - q**2 = (sigma - x**2) / sigma and t = 1 / w. A point
    # that is not kept gets q = sqrt(1 - 1/(2T)): there w = 1/(2T), exp(-t) = exp(-2T) is
    # exactly 0, so no second `where` is needed to zero the output, and every factor of the
    # gradient is finite.
    q = ops.where(keep, x * inverse_root, math.sqrt(1 - 0.5 / cutoff))
    w = 1 - q * q  # in (1/T, 1] where kept
    phi = ops.exp(-1 / w)  # exp(-t)
    return phi, q, w, inverse_root


def closed_form_gradients(
    upstream: Any, x: Any, sigma: Any, phi: Any, q: Any, w: Any, inverse_root: Any
) -> tuple[Any, Any]:
    """The gradients of the guarded bump, from :func:`guarded_forward`'s results.

    Returns ``(d_x, d_sigma)``, ``upstream`` times the closed forms, each summed
    down to its operand's shape (:func:`sum_to_shape`).
    """
    # d(phi)/dx = -2 phi t**2 r with r = x / sigma = q / sqrt(sigma): bounded factors,
    # 0 wherever phi is 0. Dividing by w twice, last, lets TensorFlow reuse each step's
    # buffer, and keeps XLA (when it compiles the whole step) from computing exp and the
    # division twice for the two gradients.
    full_d_x = (upstream * phi * q * (-2 * inverse_root)) / w / w
    full_shape = tuple(phi.shape)
    d_x = sum_to_shape(full_d_x, x, full_shape)
    # d(phi)/d(sigma) = d(phi)/dx * x / (-2 sigma): from x, not q, so that XLA writes no q for
    # this sum (d_x is 0 where x is not kept; an infinite x, outside the promise, makes it NaN).
    d_sigma = sum_to_shape(full_d_x * x, sigma, full_shape) * inverse_root * (-0.5 * inverse_root)
    return d_x, d_sigma


def guarded_bump(x: Any, sigma: Any) -> Any:
    """The guarded bump alone: :func:`guarded_forward`'s first result."""
    return guarded_forward(x, sigma)[0]


def recomputed_gradients(upstream: Any, x: Any, sigma: Any) -> tuple[Any, Any]:
    """:func:`closed_form_gradients`, with the factors computed again from ``x`` and ``sigma``.

    A fused loop computes the factors faster than it could read them back from memory.
    """
    return closed_form_gradients(upstream, x, sigma, *guarded_forward(x, sigma))


#: :func:`guarded_bump` and :func:`recomputed_gradients`, fused by XLA inside TensorFlow graphs.
fused_guarded_bump = compile_on_tensorflow(guarded_bump)
fused_recomputed_gradients = compile_on_tensorflow(recomputed_gradients)

#: The guarded bump with its gradients as one ``torch.autograd.Function`` of fused
#: ``torch.compile`` kernels on PyTorch (:func:`~bumplib.torch_fusion.fuse_on_torch`).
fused_torch_bump = fuse_on_torch(guarded_bump, recomputed_gradients)


@ops.custom_gradient
def _stable_bump_same_shape(x: Any, sigma: Any) -> tuple[Any, Any]:
    """Guarded bump of ``x`` and ``sigma`` (broadcastable), with closed-form gradients."""
    # Inside TensorFlow graphs XLA computes the bump, then the gradients from the factors computed
    # again (cheaper than storing q and w). Elsewhere (jax.jit fuses the step) they are kept.
    recompute = xla_fuses_here()
    if recompute:
        phi, factors = fused_guarded_bump(x, sigma), None
    else:
        phi, *factors = guarded_forward(x, sigma)

    def grad(*args: Any, upstream: Any = None) -> tuple[Any, Any]:
        if upstream is None:  # TensorFlow and JAX pass it positionally, PyTorch by keyword
            (upstream,) = args
        if recompute:
            return fused_recomputed_gradients(upstream, x, sigma)
        return closed_form_gradients(upstream, x, sigma, phi, *factors)

    return phi, grad


def stable_bump(x: Any, sigma: Any) -> Any:
    """Return the bump of ``x`` with width ``sigma`` (broadcast), finite for all inputs.

    Definition::

        phi(x) = exp(-sigma / (sigma - x**2))   if |x| < min(sigma, sqrt(sigma))
               = 0                              otherwise

    Properties:

    * It equals the formula wherever the formula is at most 1 (everywhere for
      ``sigma <= 1``, and for ``|x| < sqrt(sigma)`` when ``sigma > 1``); it
      is 0 where the formula explodes (``sqrt(sigma) <= |x| < sigma``). That
      is the limit of the bump from inside its singularity, so for
      ``sigma > 1`` the output is a smooth bump on ``(-sqrt(sigma),
      sqrt(sigma))``, in ``[0, exp(-1)]``, instead of an infinite spike.
      Points so close to the singularity that ``exp(-t)`` rounds to 0 (``t``
      beyond :func:`~bumplib.underflow_cutoff`) are set to exactly 0.
    * Its output and both gradients are finite for every finite ``x`` and
      every ``sigma >= 0`` of the input's dtype, ``sigma == 0``, subnormal
      ``sigma``, ``x == +-sigma``, ``x == +-sqrt(sigma)`` and ``|x| = 1e30``
      included, on the TensorFlow, JAX and PyTorch backends. The gradients are
      the closed forms ``d(phi)/dx = -2 phi t**2 r`` and ``d(phi)/d(sigma) =
      phi t**2 r**2`` with ``r = x / sigma`` and ``t = sigma / (sigma -
      x**2)``, each factor bounded where ``phi != 0``. They are given to the
      backend directly (``keras.ops.custom_gradient``) because autodiff of the
      forward pass overflows for small ``sigma``: through ``r = x / sigma`` XLA
      rewrites ``-r / sigma`` as ``x / (sigma * sigma)``, infinite below ``sigma``
      about ``1e-19`` in float32, and through ``q = x / sqrt(sigma)`` the
      derivative of ``1 / sqrt(sigma)`` overflows below about ``1e-26``. A ``sigma``
      that is broadcast (one per feature, or one for all) gets its gradient
      summed over the broadcast axes inside the custom gradient.
    * float16 and bfloat16 inputs are computed in float32 and the result is
      rounded back: the guards then have float32's margins, and the output is
      the correctly rounded bump.
    """
    x = ops.convert_to_tensor(x)
    if not keras.backend.is_float_dtype(x.dtype):
        x = ops.cast(x, keras.config.floatx())
    dtype = keras.backend.standardize_dtype(x.dtype)
    compute_dtype = "float32" if dtype in SIXTEEN_BIT else dtype
    sigma = ops.cast(sigma, compute_dtype)
    shape = tuple(sigma.shape)
    if len(shape) and math.prod(shape) == 1:
        sigma = ops.reshape(sigma, ())  # one width: scalar broadcasting is the fast kind
    x = ops.cast(x, compute_dtype)
    if fused_torch_bump is not None and compiles_on_torch(x, sigma):
        phi = fused_torch_bump(x, sigma)
    else:
        phi = _stable_bump_same_shape(x, sigma)
    return ops.cast(phi, dtype)


def largest_finite_log(dtype: Any) -> float:
    """Return the largest ``v`` of ``dtype`` with a finite ``exp(v)`` in ``dtype``.

    ``log(finfo(dtype).max)`` rounded to ``dtype`` can lie just above the true
    logarithm (88.72284 in float32), so ``exp`` of it overflows; this is that
    value stepped down until its exponential, rounded to ``dtype``, is finite.
    The layer asks for it on every call, so it is computed once per dtype.
    """
    return _largest_finite_log(keras.backend.standardize_dtype(dtype))


@functools.cache
def _largest_finite_log(name: str) -> float:
    """:func:`largest_finite_log` of the dtype called ``name`` (``"float32"``)."""
    np_dtype = np.dtype(getattr(ml_dtypes, name, None) or name)
    unsigned = np.dtype(f"uint{8 * np_dtype.itemsize}")
    value = np.array(math.log(float(ml_dtypes.finfo(name).max)), dtype=np_dtype)
    with np.errstate(over="ignore"):
        while not np.isfinite(np.exp(value.astype(np.float64)).astype(np_dtype)):
            value = (value.view(unsigned) - 1).view(np_dtype)  # one ulp down (value > 0)
    return float(value)


def inverse_softplus(value: Any) -> np.ndarray:
    """Return ``rho`` with ``softplus(rho) = value`` (float64, stable for tiny and large values)."""
    value = np.asarray(value, dtype=np.float64)
    return value + np.log(-np.expm1(-value))


@keras.saving.register_keras_serializable(package="bumplib")
class StableBumpLayer(BaseBumpLayer):
    """A bump layer that is finite in value and gradient for every input and sigma >= 0.

    Formula (see :func:`~bumplib.stable_bump`)::

        y = exp(-sigma / (sigma - x**2))   if |x| < min(sigma, sqrt(sigma))
        y = 0                              otherwise

    For ``sigma <= 1`` and for inputs in ``(-1, 1)`` this is exactly the
    thread's layer; for ``sigma > 1`` the band ``sqrt(sigma) <= |x| < sigma``,
    where the formula explodes, gives 0 (the bump's limit at its singularity)
    instead of values up to ``inf``. It runs on every Keras backend.

    Args:
        initial_sigma: Starting width (default 1.0, the classic bump on
            ``(-1, 1)``, so every input in that range passes a gradient from
            the first step). Must be ``> 0`` with ``parametrization="log"`` or
            ``"softplus"``.
        per_feature: One width per input feature (last axis).
        parametrization: ``"identity"`` stores ``sigma`` itself (kept
            ``>= 0`` by the default ``"non_neg"`` constraint); ``"log"``
            stores ``log_sigma`` and uses ``sigma = exp(log_sigma)``, so each
            optimizer step changes sigma by a *relative* amount, which is what
            lets :func:`bumplib.fit_sigma` reach sigma = 50 as fast as 0.05;
            ``"softplus"`` stores ``rho`` and uses ``sigma = softplus(rho) =
            log(1 + exp(rho))``: relative steps for small sigma, additive
            steps for large sigma, and never a negative width.
        sigma_regularizer: Regularizer for the stored weight.
        sigma_constraint: Constraint for the stored weight; default
            ``"non_neg"`` for ``"identity"`` and none for the others.
        **kwargs: Base layer keyword arguments.
    """

    def __init__(
        self,
        initial_sigma: float | Sequence[float] = 1.0,
        per_feature: bool = False,
        parametrization: Parametrization = "identity",
        sigma_regularizer: Any = None,
        sigma_constraint: Any = "default",
        **kwargs: Any,
    ) -> None:
        if parametrization not in PARAMETRIZATIONS:
            raise ValueError(
                f"parametrization must be one of {', '.join(map(repr, PARAMETRIZATIONS))}, "
                f"got {parametrization!r}."
            )
        self.parametrization = parametrization
        if isinstance(sigma_constraint, str) and sigma_constraint == "default":
            sigma_constraint = "non_neg" if parametrization == "identity" else None
        super().__init__(
            initial_sigma=initial_sigma,
            per_feature=per_feature,
            sigma_regularizer=sigma_regularizer,
            sigma_constraint=sigma_constraint,
            **kwargs,
        )
        self.weight_name = {"log": "log_sigma", "softplus": "rho"}.get(parametrization, "sigma")

    def _check_initial_sigma(self, initial_sigma: Any) -> float | list[float]:
        """The log and softplus parametrizations need ``initial_sigma > 0``."""
        return check_sigma_values(initial_sigma, positive=self.parametrization != "identity")

    def _initial_weight(self) -> keras.initializers.Initializer:
        """Store ``log(sigma)`` or ``softplus^-1(sigma)`` for those parametrizations."""
        if self.parametrization == "log":
            return constant_initializer(np.log(self.initial_sigma))
        if self.parametrization == "softplus":
            return constant_initializer(inverse_softplus(self.initial_sigma))
        return super()._initial_weight()

    def sigma_tensor(self) -> Any:
        """Return ``sigma``: the stored weight, ``exp`` of it, or ``softplus`` of it."""
        stored = super().sigma_tensor()
        if self.parametrization == "log":
            # log(max) rounds up in float32 (88.72284 > 88.7228391), and exp of it is inf:
            # an infinite sigma whose gradient is 0 * inf = nan. Clip the stored weight to
            # the largest value whose exp is finite in its dtype.
            return ops.exp(ops.minimum(stored, largest_finite_log(stored.dtype)))
        if self.parametrization == "softplus":
            return ops.softplus(stored)
        return stored

    def call(self, inputs: Any) -> Any:
        """Apply :func:`~bumplib.stable_bump` element-wise."""
        return stable_bump(inputs, self.sigma_tensor())

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments, the parametrization included."""
        return {**super().get_config(), "parametrization": self.parametrization}
