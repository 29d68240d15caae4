"""What a gradient-trap search is asked to do, checked: target, ranges, edges, dtypes, modes.

Every argument a user passes to :func:`~bumplib.gradient_traps.find_gradient_traps`
is checked here; a wrong one raises a ``TypeError`` or ``ValueError`` that says
what was wrong and what to pass instead, never a silent skip.
"""

from __future__ import annotations

import ast
import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import keras

from bumplib.validation import check_range

__all__ = [
    "BACKENDS",
    "DTYPES",
    "MODES",
    "SearchSpec",
    "check_backends",
    "check_choices",
    "edge_from_expression",
    "make_spec",
]

#: The float dtypes a search can run in.
DTYPES: tuple[str, ...] = ("float32", "float16", "bfloat16", "float64")
#: How a function can run: eagerly; as a TensorFlow graph without XLA (TensorFlow only);
#: compiled (``tf.function(jit_compile=True)``, ``jax.jit``, ``torch.compile``).
MODES: tuple[str, ...] = ("eager", "graph", "compiled")
#: The Keras backends.
BACKENDS: tuple[str, ...] = ("tensorflow", "jax", "torch")


def check_choices(values: Any, allowed: tuple[str, ...], name: str) -> tuple[str, ...]:
    """Return ``values`` (a name or names from ``allowed``) as a tuple without repeats.

    Raises:
        ValueError: if it is empty, or holds a name not in ``allowed``.
    """
    if isinstance(values, str):
        values = (values,)
    try:
        values = tuple(values)
    except TypeError:
        raise ValueError(f"{name} must be names from {list(allowed)}, got {values!r}.") from None
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise ValueError(
            f"{name} must be a non-empty selection of {list(allowed)}, got {list(values)}"
            + (f" ({unknown} unknown)." if unknown else ".")
        )
    return tuple(dict.fromkeys(values))


def check_backends(values: Any) -> tuple[str, ...]:
    """Return backend names from :data:`BACKENDS`, checked as :func:`check_choices` does."""
    return check_choices(values, BACKENDS, "backends")


#: Names an edge expression may use besides the parameters.
EXPRESSION_NAMES: dict[str, Any] = {
    name: getattr(math, name)
    for name in ("sqrt", "exp", "log", "log1p", "expm1", "sin", "cos", "tan", "pi", "e", "inf")
}
EXPRESSION_NAMES["abs"] = abs


def edge_from_expression(expression: str, parameters: Iterable[str]) -> Callable[..., float]:
    """Return an edge (a function of named parameters) from an expression such as ``"sqrt(sigma)"``.

    The expression may use the parameters' names, numbers, arithmetic and
    :data:`EXPRESSION_NAMES` (``sqrt``, ``exp``, ``log``, ...), nothing else.

    Raises:
        ValueError: if it is not a valid expression or uses another name.
    """
    names = set(parameters)
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        raise ValueError(f"edge {expression!r} is not a valid expression: {error.msg}.") from None
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    allowed_nodes = (
        ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Load, ast.Constant,
        ast.operator, ast.unaryop,
    )  # fmt: skip
    bad = [type(n).__name__ for n in ast.walk(tree) if not isinstance(n, allowed_nodes)]
    unknown = sorted(used - names - set(EXPRESSION_NAMES))
    if unknown or bad:
        raise ValueError(
            f"edge {expression!r} may use the parameters {sorted(names)}, numbers, arithmetic "
            f"and {sorted(EXPRESSION_NAMES)}; it uses {unknown or bad}."
        )
    code = compile(tree, f"<edge {expression}>", "eval")
    arguments = sorted(used & names)

    def edge(**values: float) -> float:
        return float(eval(code, {"__builtins__": {}}, {**EXPRESSION_NAMES, **values}))

    edge.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(a, inspect.Parameter.KEYWORD_ONLY) for a in arguments]
    )
    return edge


@dataclass(frozen=True)
class SearchSpec:
    """A checked search: what to call, on which variables, in which dtypes and modes.

    Attributes:
        target: The function, or the Keras layer class (re-created per dtype).
        layer_config: The layer's config (``None`` for a function).
        inputs: Input name -> ``(low, high)``.
        parameters: Parameter name -> ``(low, high)`` (a layer's trainable weights).
        edges: Edge label -> function of parameters.
        edge_arguments: Edge label -> names of the parameters it takes.
        dtypes: The dtypes to run in.
        modes: The modes to run in.
        ulps: Ulps either side of each edge.
        tolerance: Factor on the dtype's ``sqrt(eps)`` for every comparison.
    """

    target: Any
    layer_config: dict[str, Any] | None
    inputs: dict[str, tuple[float, float]]
    parameters: dict[str, tuple[float, float]]
    edges: dict[str, Callable[..., float]]
    edge_arguments: dict[str, tuple[str, ...]]
    dtypes: tuple[str, ...]
    modes: tuple[str, ...]
    ulps: int
    tolerance: float

    @property
    def variables(self) -> tuple[str, ...]:
        """Inputs, then parameters: the order of every gradient."""
        return (*self.inputs, *self.parameters)


def _ranges(value: Any, what: str) -> dict[str, tuple[float, float]]:
    """Check a mapping name -> ``(low, high)``."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a mapping name -> (low, high), got {value!r}.")
    out = {}
    for name, bounds in value.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{what} names must be Python identifiers, got {name!r}.")
        out[name] = check_range(bounds, f"{what}[{name!r}]")
    return out


def _layer_parameters(layer: keras.layers.Layer) -> list[str]:
    """Build ``layer`` on one feature if needed; return its trainable weights' names."""
    if not layer.built:
        layer.build((None, 1))
    names = [v.name for v in layer.trainable_variables]
    if not names:
        raise ValueError(f"layer {layer.name!r} has no trainable weights to differentiate.")
    if len(set(names)) != len(names):
        raise ValueError(f"layer {layer.name!r} has trainable weights with one name: {names}.")
    sizes = {v.name: math.prod(v.shape) for v in layer.trainable_variables}
    if any(size != 1 for size in sizes.values()):
        raise ValueError(
            f"the search treats each trainable weight as one scalar parameter, but layer "
            f"{layer.name!r} has weights of sizes {sizes}. Build it with one value per weight "
            "(for the bump layers: per_feature=False)."
        )
    return names


def make_spec(
    target: Any,
    *,
    inputs: Any,
    parameters: Mapping[str, tuple[float, float]] | None,
    edges: Mapping[str, Callable[..., float]] | None,
    dtypes: Any,
    modes: Any,
    ulps: int,
    tolerance: float,
) -> SearchSpec:
    """Check every argument of a search and return it as a :class:`SearchSpec`.

    Raises:
        TypeError: for a target that is neither a function nor a Keras layer, a
            non-callable edge, or ranges that are not a mapping.
        ValueError: for an unknown dtype or mode, an empty or reversed range, a
            parameter without range (or a range for no parameter), an edge
            taking an unknown parameter, or a bad ``ulps`` or ``tolerance``.
    """
    layer_config = None
    if isinstance(target, keras.layers.Layer):
        parameter_names = _layer_parameters(target)
        layer_config = target.get_config()
        if isinstance(inputs, tuple | list):
            inputs = {"x": tuple(inputs)}
        if isinstance(inputs, Mapping) and len(inputs) != 1:
            raise ValueError(
                f"a layer takes one input: give inputs one range, such as (-2, 2) or "
                f"{{'x': (-2, 2)}}, got {inputs!r}."
            )
        target = type(target)
    elif isinstance(target, type) and issubclass(target, keras.layers.Layer):
        raise TypeError(
            f"pass a layer instance, not the class {target.__name__}: for example "
            f"{target.__name__}(**kwargs)."
        )
    elif callable(target):
        parameter_names = None
    else:
        raise TypeError(
            f"target must be a function of tensors or a Keras layer, got {type(target).__name__}."
        )
    checked_inputs = _ranges(inputs, "inputs")
    if not checked_inputs:
        raise ValueError("inputs must name at least one input with its range, e.g. {'x': (-2, 2)}.")
    checked_parameters = _ranges(parameters or {}, "parameters")
    if parameter_names is not None:
        missing = [n for n in parameter_names if n not in checked_parameters]
        extra = [n for n in checked_parameters if n not in parameter_names]
        if missing or extra:
            raise ValueError(
                f"parameters must give a range for each trainable weight of the layer, "
                f"{parameter_names}; missing {missing}, unknown {extra}."
            )
        checked_parameters = {n: checked_parameters[n] for n in parameter_names}
    else:
        _check_function_signature(target, [*checked_inputs, *checked_parameters])
    both = set(checked_inputs) & set(checked_parameters)
    if both:
        raise ValueError(f"names {sorted(both)} are given as both inputs and parameters.")
    checked_edges, edge_arguments = _edges(edges or {}, checked_parameters)
    if isinstance(ulps, bool) or not isinstance(ulps, int) or not 0 <= ulps <= 64:
        raise ValueError(f"ulps must be an integer from 0 to 64, got {ulps!r}.")
    if not (isinstance(tolerance, int | float) and math.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance must be a finite number > 0, got {tolerance!r}.")
    return SearchSpec(
        target=target,
        layer_config=layer_config,
        inputs=checked_inputs,
        parameters=checked_parameters,
        edges=checked_edges,
        edge_arguments=edge_arguments,
        dtypes=check_choices(dtypes, DTYPES, "dtypes"),
        modes=check_choices(modes, MODES, "modes"),
        ulps=ulps,
        tolerance=float(tolerance),
    )


def _check_function_signature(function: Callable[..., Any], names: list[str]) -> None:
    """Check that ``function`` accepts every variable by keyword."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return  # a builtin without a signature: calling it will tell
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    accepted = {
        n
        for n, p in signature.parameters.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    missing = [n for n in names if n not in accepted]
    if missing and not takes_any:
        raise ValueError(
            f"the function takes {sorted(accepted)} but the search passes {names} by keyword; "
            f"{missing} are not among its arguments."
        )


def _edges(
    edges: Any, parameters: Mapping[str, tuple[float, float]]
) -> tuple[dict[str, Callable[..., float]], dict[str, tuple[str, ...]]]:
    """Check the edges: label -> callable of some of the parameters (by name)."""
    if not isinstance(edges, Mapping):
        raise TypeError(
            f"edges must be a mapping label -> function of parameters, got {edges!r}; "
            "for example {'|x| = sigma': lambda sigma: sigma}."
        )
    checked, arguments = {}, {}
    for label, edge in edges.items():
        if not callable(edge):
            raise TypeError(
                f"edge {label!r} must be a function of the parameters (such as "
                f"lambda sigma: sigma), got {type(edge).__name__} {edge!r}."
            )
        try:
            names = tuple(inspect.signature(edge).parameters)
        except (TypeError, ValueError):
            raise TypeError(
                f"edge {label!r} has no signature to read its parameters from."
            ) from None
        unknown = [n for n in names if n not in parameters]
        if unknown:
            raise ValueError(
                f"edge {label!r} takes {list(names)}, but the parameters are "
                f"{list(parameters)}; {unknown} unknown."
            )
        checked[str(label)] = edge
        arguments[str(label)] = names
    return checked, arguments
