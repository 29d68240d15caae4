"""The stable bump's fused PyTorch kernels (``bumplib.torch_fusion``): same promises, faster.

The rest of ``tests/backends`` runs the plain path on PyTorch (``conftest.py``
switches the kernels off, since each dtype and shape class compiles for
seconds); these tests switch them on, and check that the compiled forward and
backward passes keep the layer's promises on the stress set, do not compile
again for a new batch size, fall back with one warning when compilation fails,
and work under a ``torch.compile`` of a whole step, double backward and
``torch.func``. On the other backends they check that nothing of it runs.
"""

from __future__ import annotations

import math
import warnings

import keras
import numpy as np
import pytest
from autodiff import BACKEND
from test_core_layers import check_finite, stress_pairs

from bumplib import torch_fusion
from bumplib.stable_layer import (
    fused_torch_bump,
    guarded_bump,
    recomputed_gradients,
    stable_bump,
)

# PyTorch's own warnings, from its code: TorchInductor imports a module that uses the deprecated
# torch.jit.script_method, and TorchDynamo instantiates an autograd.Function's class to trace it.
pytestmark = [
    pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*should not be instantiated:DeprecationWarning"),
]

torch_only = pytest.mark.skipif(BACKEND != "torch", reason="the fused kernels are PyTorch's")


@pytest.fixture
def compiled_kernels():
    """Switch the compiled kernels on for one test, and back off (the suite's setting)."""
    torch_fusion.use_compiled_kernels(True)
    yield
    torch_fusion.use_compiled_kernels(False)


def test_use_compiled_kernels_takes_a_bool():
    with pytest.raises(TypeError, match="enabled must be True or False, got 'no'"):
        torch_fusion.use_compiled_kernels("no")


def test_fused_kernels_exist_on_torch_only(compiled_kernels):
    if BACKEND != "torch":
        assert fused_torch_bump is None
        assert torch_fusion.fuse_on_torch(guarded_bump, recomputed_gradients) is None
        assert not torch_fusion.compiles_on_torch(keras.ops.ones(3))
        return
    import torch

    assert torch_fusion.compiles_on_torch(torch.ones(3), torch.ones(()))
    assert not torch_fusion.compiles_on_torch(torch.ones(3), torch.ones((), device="meta"))
    torch_fusion.use_compiled_kernels(False)
    assert not torch_fusion.compiles_on_torch(torch.ones(3))


def _value_and_gradients(x: np.ndarray, sigma: np.ndarray) -> list[np.ndarray]:
    """``stable_bump(x, sigma)`` and the gradients of its sum, by torch.autograd."""
    import torch

    x_t = torch.tensor(x, requires_grad=True)
    sigma_t = torch.tensor(sigma, requires_grad=True)
    y = stable_bump(x_t, sigma_t)
    d_x, d_sigma = torch.autograd.grad(y.sum(), [x_t, sigma_t])
    return [t.detach().numpy() for t in (y, d_x, d_sigma)]


@torch_only
def test_compiled_kernels_keep_the_promises_on_the_stress_set(compiled_kernels):
    import torch
    from torch._dynamo.utils import counters

    x, sigma = stress_pairs("float32")
    x = np.tile(x, (3, 1))  # three rows: a batch dimension that is not 1
    y, d_x, d_sigma = _value_and_gradients(x, sigma)
    assert stable_bump(torch.tensor(x, requires_grad=True), torch.tensor(sigma)).grad_fn.name() == (
        "FusedFunctionBackward"
    )
    assert torch_fusion.compiled_kernels_enabled()  # compiled without an error
    check_finite(y, d_x, d_sigma, upper=float(np.float32(math.exp(-1))))
    torch_fusion.use_compiled_kernels(False)
    plain = _value_and_gradients(x, sigma)
    torch_fusion.use_compiled_kernels(True)
    eps = float(np.finfo(np.float32).eps)
    # The kernels' exp and the fused arithmetic may round differently from PyTorch's own,
    # by a few ulps of each factor; t = 1 / w can amplify an ulp of w by up to T = 104.
    np.testing.assert_array_equal(y == 0, plain[0] == 0)  # the guards decide alike
    np.testing.assert_allclose(y, plain[0], rtol=300 * eps, atol=1e-37)
    np.testing.assert_allclose(d_x, plain[1], rtol=3e4 * eps, atol=1e-30)
    np.testing.assert_allclose(d_sigma, plain[2], rtol=3e4 * eps, atol=1e-30)
    # a new batch size runs the kernels already compiled
    graphs = counters["stats"]["unique_graphs"]
    _value_and_gradients(np.tile(x[:1], (5, 1)), sigma)
    assert counters["stats"]["unique_graphs"] == graphs


@torch_only
def test_a_compile_error_falls_back_to_the_plain_path_with_one_warning(compiled_kernels):
    import torch

    x = torch.linspace(-1.0, 1.0, 11, requires_grad=True)
    sigma = torch.tensor(0.6, requires_grad=True)
    fused = torch_fusion.fuse_on_torch(guarded_bump, recomputed_gradients)
    no_compiler = {"cpp.cxx": (None, "/nonexistent/c++"), "force_disable_caches": True}
    with torch._inductor.config.patch(no_compiler), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        y = fused(x, sigma)
        gradients = torch.autograd.grad(y.sum(), [x, sigma])
        y_again = fused(x, sigma)
    messages = [str(w.message) for w in seen if w.category is RuntimeWarning]
    assert len(messages) == 1, messages
    assert "could not compile its fused PyTorch kernels" in messages[0]
    assert not torch_fusion.compiled_kernels_enabled()
    assert not torch_fusion.compiles_on_torch(x)  # the layer now takes the plain path
    expected = guarded_bump(x.detach(), sigma.detach())
    torch.testing.assert_close(y.detach(), expected, rtol=0, atol=0)
    torch.testing.assert_close(y_again.detach(), expected, rtol=0, atol=0)
    plain = recomputed_gradients(torch.ones_like(y), x.detach(), sigma.detach())
    for got, want in zip(gradients, plain, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    torch_fusion.use_compiled_kernels(True)  # switching on again forgets the failure
    assert torch_fusion.compiled_kernels_enabled()


@torch_only
def test_whole_step_under_torch_compile_double_backward_and_torch_func(compiled_kernels):
    import torch

    x = torch.linspace(-0.9, 0.9, 13, dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    eager = torch.autograd.grad(stable_bump(x, sigma).sum(), [x, sigma])
    # an enclosing compilation traces the function into its one graph (fullgraph: no graph
    # break), and its backward pass is one opaque operation, so the step keeps x and sigma only
    step = torch.compile(lambda x, s: stable_bump(x, s).sum(), fullgraph=True)
    total = step(x, sigma)
    assert total.grad_fn.name() == "CompiledFunctionBackward"
    saved = total.grad_fn.saved_tensors
    assert [(t.shape, t.dtype) for t in saved] == [(x.shape, x.dtype), (sigma.shape, sigma.dtype)]
    compiled = torch.autograd.grad(total, [x, sigma])
    for got, want in zip(compiled, eager, strict=True):
        torch.testing.assert_close(got, want)
    # second derivatives are those of the closed-form gradients (checked by finite differences)
    assert torch.autograd.gradgradcheck(stable_bump, (x, sigma))
    d_sigma = torch.func.grad(lambda s: stable_bump(x.detach(), s).sum())(sigma.detach())
    torch.testing.assert_close(d_sigma, eager[1])
