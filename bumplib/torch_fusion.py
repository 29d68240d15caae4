"""Fused forward and backward passes on PyTorch: ``torch.compile`` kernels in eager mode.

Keras' torch backend runs a model eagerly, one PyTorch operation at a time: the
stable bump's two passes are about seventeen element-wise operations, each a pass
over memory. :func:`fuse_on_torch` makes a forward function and its gradient
function one ``torch.autograd.Function`` whose passes ``torch.compile``
(TorchInductor, on the CPU) compiles into one loop each; the backward pass computes
the forward's factors again, faster than it could read them back, so the
function keeps only its inputs.

Compilation happens on the first call of each dtype and shape class (the
kernels are compiled with dynamic shapes, so a new batch size does not compile
again) and takes seconds: about 3 s with TorchInductor's on-disk cache warm,
20 s or more on a cold cache on two cores. Where it cannot run, the layer takes
its plain path, the same maths as a chain of PyTorch operations:

* tensors on a device other than the CPU;
* an error at compile time (no C++ compiler, for instance): caught on the
  first call, warned about once, and the plain path from then on;
* after ``use_compiled_kernels(False)``, which a program (the test suite does)
  calls to trade speed for no compilation time.

Inside a ``torch.compile`` of a whole model the forward pass is traced, so
that TorchInductor fuses it with the operations around it (the loss's sum)
with no graph break, and the backward pass is one ``torch.library`` operation
that runs the compiled backward kernel: the enclosing compilation keeps only
``x`` and ``sigma`` for it. (Traced, the backward's maths would share the
forward's boolean mask, which the partitioner keeps, and the loop that writes
it ran 5x to 8x a compiled bare ``exp``; as it is, 1.3x to 1.5x at 1e7
elements: ``benchmarks/bench_throughput.py``.)
On double backward (``create_graph=True``) its backward pass runs the plain
gradient function, whose operations PyTorch then differentiates.
This module imports PyTorch only when :func:`fuse_on_torch` runs on that backend.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from typing import Any

import keras

__all__ = [
    "compiled_kernels_enabled",
    "compiles_on_torch",
    "fuse_on_torch",
    "use_compiled_kernels",
]

#: Whether the compiled kernels may run, and the compile-time error that stopped them, if any.
_STATE: dict[str, Any] = {"enabled": True, "failure": None}

#: Numbers the ``torch.library`` operation each call of :func:`fuse_on_torch` registers.
_OPERATION_NUMBERS = itertools.count()


def use_compiled_kernels(enabled: bool) -> None:
    """Let PyTorch run the fused, compiled kernels (the default), or always the plain path.

    The plain path computes the same maths as a chain of PyTorch operations and
    compiles nothing; a program that builds many short-lived models of new dtypes
    and shapes (a test suite) saves the seconds each compilation takes.
    Switching the kernels on also forgets an earlier compile-time error, so that
    the next call tries to compile again.

    Args:
        enabled: ``True`` for the compiled kernels, ``False`` for the plain path.

    Raises:
        TypeError: if ``enabled`` is not a ``bool``.
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be True or False, got {enabled!r}.")
    _STATE["enabled"] = enabled
    if enabled:
        _STATE["failure"] = None


def compiled_kernels_enabled() -> bool:
    """Return whether the compiled kernels may run: enabled, and no compile-time error yet."""
    return _STATE["enabled"] and _STATE["failure"] is None


def compiles_on_torch(*tensors: Any) -> bool:
    """Return whether Keras runs on PyTorch and the compiled kernels would take ``tensors``.

    That is: the kernels are enabled (:func:`use_compiled_kernels`), none has
    failed to compile, and every tensor is on the CPU, the device TorchInductor
    compiles for here.
    """
    if keras.backend.backend() != "torch" or not compiled_kernels_enabled():
        return False
    return all(tensor.device.type == "cpu" for tensor in tensors)


def _run(compiled: Callable[..., Any], plain: Callable[..., Any], *args: Any) -> Any:
    """Run ``compiled`` on ``args``, else ``plain``.

    ``plain`` runs after a compile-time error, which is caught once, warned
    about once and remembered, and after :func:`use_compiled_kernels` ``(False)``.
    """
    if not compiled_kernels_enabled():
        return plain(*args)
    try:
        return compiled(*args)
    except Exception as error:  # torch.compile raises several types, by stage and cause
        _STATE["failure"] = error
        warnings.warn(
            "bumplib could not compile its fused PyTorch kernels and runs the plain "
            f"(slower) path from now on: {type(error).__name__}: {error}",
            RuntimeWarning,
            stacklevel=2,
        )
        return plain(*args)


def fuse_on_torch(
    forward: Callable[[Any, Any], Any],
    backward: Callable[[Any, Any, Any], tuple[Any, Any]],
) -> Callable[[Any, Any], Any] | None:
    """Return ``forward`` with ``backward`` as its gradient, fused by ``torch.compile``.

    On the PyTorch backend the result is ``apply(x, sigma)`` of a
    ``torch.autograd.Function``: its forward pass is ``forward(x, sigma)``, its
    backward pass ``backward(upstream, x, sigma)``, which returns the gradients
    with respect to ``x`` and ``sigma``. Each runs as a kernel compiled once per
    dtype and shape class, or as the plain function where compilation cannot run;
    under an enclosing ``torch.compile`` the forward pass is traced into the
    enclosing graph and the backward pass is one opaque operation (see the
    module's docstring). On the other backends the result is ``None``.

    Args:
        forward: Computes the output from two tensors.
        backward: Computes both gradients, from the output's gradient and the
            forward pass's arguments, each of the shape and dtype of its argument.
    """
    if keras.backend.backend() != "torch":
        return None
    import torch

    compiled_forward = torch.compile(forward, dynamic=True, fullgraph=True)
    compiled_backward = torch.compile(backward, dynamic=True, fullgraph=True)
    gradients = _opaque_gradients(backward, compiled_backward)

    class FusedFunction(torch.autograd.Function):
        """``forward`` and ``backward`` as compiled kernels; keeps only its inputs."""

        @staticmethod
        def forward(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
            if torch.compiler.is_compiling():  # traced: fused with the enclosing graph
                return forward(x, sigma)
            return _run(compiled_forward, forward, x, sigma)

        @staticmethod
        def setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx: Any, upstream: torch.Tensor) -> tuple[Any, Any]:
            if torch.is_grad_enabled():  # double backward: differentiable plain operations
                return backward(upstream, *ctx.saved_tensors)
            if torch.compiler.is_compiling():  # one opaque operation: keeps nothing but x, sigma
                return tuple(gradients(upstream, *ctx.saved_tensors))
            return _run(compiled_backward, backward, upstream, *ctx.saved_tensors)

    return FusedFunction.apply


def _opaque_gradients(
    backward: Callable[[Any, Any, Any], tuple[Any, Any]],
    compiled_backward: Callable[[Any, Any, Any], tuple[Any, Any]],
) -> Callable[[Any, Any, Any], Any]:
    """Return a new ``torch.library`` operation that runs ``compiled_backward``, else ``backward``.

    An enclosing ``torch.compile`` does not look inside an operation: it calls it
    as it is, and its partitioner saves only the operation's inputs for the
    backward pass, not the masks and factors the traced maths would share with
    the forward pass. The operation is registered as ``bumplib::fused_backward_N``.
    """
    import torch

    name = f"fused_backward_{next(_OPERATION_NUMBERS)}"
    schema = "(Tensor upstream, Tensor x, Tensor sigma) -> (Tensor, Tensor)"

    @torch.library.custom_op(f"bumplib::{name}", mutates_args=(), schema=schema)
    def gradients(upstream: Any, x: Any, sigma: Any) -> tuple[Any, Any]:
        return tuple(_run(compiled_backward, backward, upstream, x, sigma))

    @gradients.register_fake
    def _(upstream: Any, x: Any, sigma: Any) -> tuple[Any, Any]:
        return torch.empty_like(x), torch.empty_like(sigma)

    # The operation itself, not its Python wrapper: TorchDynamo traces a call of the former.
    return getattr(torch.ops.bumplib, name).default
