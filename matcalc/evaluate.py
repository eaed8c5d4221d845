"""NumPy evaluation: bind dimensions from the arrays, then compute each DAG node once.

Each node runs its op's NumPy code template (see :mod:`matcalc.lowering`), compiled once per
distinct expression, so evaluation and compiled code share one implementation of every op.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .algebra.fast import fast_form
from .binding import (
    bind_shapes,
    check_dims,
    check_sizes,
    coerce_input,
    declarations_of,
    declared_spec,
)
from .dims import Shape, dim, shape_str
from .errors import (
    DimensionBindingError,
    EvaluationError,
    InputError,
    InternalError,
    MatcalcError,
    StructureError,
)
from .expr import Expr, toposort
from .limits import LIMITS
from .lowering import Env, helpers_of, lower, render, template_of
from .ops.custom import helper_function
from .render import short

__all__ = ["EvaluationError", "array_sizes", "bind", "check_array_sizes", "declared_inputs",
           "evaluate", "evaluate_many", "resolve_dims", "shape_groups", "symbols_of"]


def _to_float64(arr: Any) -> np.ndarray:
    return np.array(arr, dtype=np.float64)  # a copy: the caller's array is never shared


def _as_array(name: str, value: Any, declared: Any) -> np.ndarray:
    out: np.ndarray = coerce_input(name, value, declared[1].is_one, np.asarray, _to_float64)
    return out


class Context:
    """What a record's own ``numpy`` function reads: arrays by name and dimension values."""

    def __init__(self, arrays: dict[str, np.ndarray], bindings: dict[str, int]):
        self.arrays, self.bindings = arrays, bindings

    def value(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def dim(self, d: Any) -> int:
        size = dim(d)
        missing = [n for n in size.names if n not in self.bindings]
        if missing:
            raise DimensionBindingError(
                f"dimension {missing[0]} is not bound by any input array; "
                f"pass dims={{'{missing[0]}': …}}")
        value = size.value(self.bindings)
        if value < 0:  # m - 3 with m = 2: a slice or block that cannot fit
            raise DimensionBindingError(f"dimension {size} is {value} for the sizes given")
        return value

    def run_template(self, node: Expr, arrays: tuple[np.ndarray, ...]) -> np.ndarray:
        """The node's value by its op's NumPy code template (compiled once per distinct text)."""
        dims: dict[str, None] = {}

        def dim_var(name: str) -> str:
            dims.setdefault(name, None)
            return _dim_param(name)

        text = render(node, template_of(node.op, "numpy"),
                      [f"__a{i}" for i in range(len(arrays))], Env(dim_var))
        fn = _compiled(text, len(arrays), tuple(dims), helpers_of(node.op, "numpy"))
        return fn(*arrays, *(self.dim(d) for d in dims))


def symbols_of(expr: Expr | list[Expr]) -> dict[str, Expr]:
    """The symbols an expression reads, by name; a name declared with two shapes is an error."""
    roots = expr if isinstance(expr, (list, tuple)) else [expr]
    found: dict[str, Expr] = {}
    for node in toposort(roots):
        if node.op.name == "symbol":
            name = node.get("name")
            prev = found.get(name)
            if prev is not None and prev is not node:
                raise DimensionBindingError(
                    f"{name} is declared twice with different shapes: "
                    f"{shape_str(prev.shape)} and {shape_str(node.shape)}")
            found[name] = node
    return found


def bind(symbols: dict[str, Expr], values: Mapping[str, Any], dims: Mapping[str, int] | None = None,
         declared: Mapping[str, Any] | None = None
         ) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Check the arrays against the declarations; return (arrays, dimension bindings).

    ``declared`` ({name: (rows, cols)}) are inputs the expression no longer reads but its program
    declared: a value given for one of them is checked and binds its dimensions too.
    """
    if not isinstance(values, Mapping):
        raise InputError(
            f"values must be a mapping from names to arrays, got {type(values).__name__}")
    fixed = check_dims(dims)
    arrays: dict[str, np.ndarray] = {}
    specs: dict[str, tuple[Any, ...]] = {}
    for name, sym in symbols.items():
        if name not in values:
            raise DimensionBindingError(f"no value given for {name} ({shape_str(sym.shape)})")
        arrays[name] = _checked_array(name, values[name], sym.shape)
        specs[name] = tuple(declared_spec(d) for d in sym.shape)
    bindings = bind_shapes(specs, {n: a.shape for n, a in arrays.items()}, fixed)
    for name, spec in sorted((declared or {}).items()):
        # an input the expression no longer reads only fills in dimensions nothing else binds;
        # one that does not fit is left out (the node may be shared with another program)
        if name in values and name not in symbols and spec is not None and any(
                isinstance(d, str) and "*" not in d and d not in bindings for d in spec):
            try:
                extra = _checked_array(name, values[name], (dim(spec[0]), dim(spec[1])))
                shapes = {**{n: a.shape for n, a in arrays.items()}, name: extra.shape}
                bindings = bind_shapes({**specs, name: tuple(spec)}, shapes, fixed)
            except MatcalcError:
                continue
            arrays[name], specs[name] = extra, tuple(spec)
    for name, sym in symbols.items():
        if sym.get("structure") is not None:
            check_structure(name, sym.get("structure"), arrays[name])
    return {n: arrays[n] for n in symbols}, bindings


def _checked_array(name: str, value: Any, shape: Any) -> np.ndarray:
    arr = _as_array(name, value, shape)
    if 0 in arr.shape:
        raise DimensionBindingError(f"value of {name} is empty (shape {arr.shape}); "
                                    f"dimensions are positive")
    return arr


def declared_inputs(exprs: list[Expr]) -> dict[str, Any]:
    """The inputs the programs of exprs declared (name → (rows, cols)), read or not."""
    out: dict[str, Any] = {}
    for e in exprs:
        for name, spec in declarations_of(e).items():
            out[name] = spec if out.get(name, spec) == spec else None
    return out


def shape_groups(nodes: Iterable[Expr]) -> list[tuple[Shape, Expr, int]]:
    """(shape, its first node, how many nodes have it) per distinct shape of nodes, in order:
    the arrays binding.check_sizes is given, here and in compiled code."""
    groups: dict[Shape, list[Any]] = {}
    for node in nodes:
        entry = groups.get(node.shape)
        if entry is None:
            groups[node.shape] = [node, 1]
        else:
            entry[1] += 1
    return [(shape, node, count) for shape, (node, count) in groups.items()]


def array_sizes(nodes: list[Expr], bindings: Mapping[str, int],
                groups: list[tuple[Shape, Expr, int]] | None = None
                ) -> list[tuple[str, int, int, int]]:
    """(what, rows, cols, count) per distinct shape of nodes, for binding.check_sizes."""
    out = []
    for shape, node, count in groups if groups is not None else shape_groups(nodes):
        missing = [n for d in shape for n in d.names if n not in bindings]
        if missing:
            raise DimensionBindingError(
                f"dimension {missing[0]} is not bound by any input array; "
                f"pass dims={{'{missing[0]}': …}}")
        rows, cols = (d.value(dict(bindings)) for d in shape)
        out.append((f"the value of {short(node, 60)}", rows, cols, count))
    return out


def check_array_sizes(nodes: list[Expr], bindings: Mapping[str, int],
                      groups: list[tuple[Shape, Expr, int]] | None = None) -> None:
    """SizeLimitError if the values of nodes would exceed matcalc.limits (nothing allocated)."""
    check_sizes(array_sizes(nodes, bindings, groups), LIMITS.max_elements,
                LIMITS.max_total_elements)


@functools.lru_cache(maxsize=256)
def _inputs(exprs: tuple[Expr, ...]) -> tuple[dict[str, Expr], dict[str, Any]]:
    """The symbols exprs read and the inputs their programs declared, worked out once per tuple
    of expressions (a check evaluates one expression thousands of times)."""
    return symbols_of(list(exprs)), declared_inputs(list(exprs))


@functools.lru_cache(maxsize=256)
def _plan(exprs: tuple[Expr, ...], sizes: tuple[tuple[str, int], ...]
          ) -> tuple[list[Expr], list[Expr], list[tuple[Shape, Expr, int]]]:
    """The lowered roots in the cheapest product order for these sizes, their nodes in order and
    their shapes, once per expressions and sizes."""
    roots = lower(fast_form(list(exprs), dict(sizes)))
    order = toposort(roots)
    return roots, order, shape_groups(order)


def check_structure(name: str, structure: str, a: np.ndarray) -> None:
    """Refuse a value without its symbol's declared structure (up to rounding)."""
    tol = 1e-10 * max(1.0, float(np.max(np.abs(a))))
    outside = {"symmetric": a - a.T, "spd": a - a.T, "diagonal": a - np.diag(np.diag(a)),
               "lower": np.triu(a, 1), "upper": np.tril(a, -1)}[structure]
    if np.max(np.abs(outside)) > tol:
        raise StructureError(f"{name} is declared {structure} but its value is not "
                             f"(largest departure {np.max(np.abs(outside)):.1e})")
    if structure == "spd" and not np.all(np.linalg.eigvalsh((a + a.T) / 2) > 0):
        raise StructureError(f"{name} is declared spd but its value is not positive definite")


def _dim_param(name: str) -> str:
    return "__d_" + name


@functools.lru_cache(maxsize=4096)
def _compiled(text: str, nargs: int, dims: tuple[str, ...], helpers: tuple[Any, ...]
              ) -> Callable[..., np.ndarray]:
    """``lambda __a0, …, __d_m, …: text`` over NumPy and the helpers the text calls."""
    namespace: dict[str, Any] = {"np": np}
    for h in helpers:
        namespace[h.name] = h.function if h.function is not None else \
            helper_function(h.name, h.source)
    params = ", ".join([f"__a{i}" for i in range(nargs)] + [_dim_param(d) for d in dims])
    fn: Callable[..., np.ndarray] = eval(  # our own templates, never user text
        compile(f"lambda {params}: {text}", "<matcalc template>", "eval"), namespace)
    return fn


def evaluate(expr: Expr, values: Mapping[str, Any], dims: Mapping[str, int] | None = None
             ) -> np.ndarray:
    """The value of expr as a 2-D float64 array; ``values`` maps names to arrays or numbers."""
    return evaluate_many([expr], values, dims)[0]


def evaluate_many(exprs: list[Expr], values: Mapping[str, Any],
                  dims: Mapping[str, int] | None = None) -> list[np.ndarray]:
    """Evaluate several expressions at once, each shared node once."""
    if not isinstance(exprs, (list, tuple)):
        raise InputError(f"evaluate_many expects a list of expressions, got "
                         f"{type(exprs).__name__}")
    for e in exprs:
        if not isinstance(e, Expr):
            raise InputError(f"evaluate expects a matcalc expression, got {type(e).__name__}")
    symbols, declared = _inputs(tuple(exprs))
    arrays, bindings = bind(symbols, values, dims, declared)
    ctx = Context(arrays, bindings)
    roots, order, groups = _plan(tuple(exprs), tuple(sorted(bindings.items())))
    check_array_sizes(order, bindings, groups)  # before anything is allocated
    memo: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for node in order:
            if node.op.name == "symbol":
                memo[id(node)] = arrays[node.get("name")]
                continue
            args = tuple(memo[id(a)] for a in node.args)
            rule = node.op.numpy  # None: the op's NumPy code template is its value
            try:
                memo[id(node)] = (rule(ctx, node, *args) if rule is not None
                                  else ctx.run_template(node, args))
            except (np.linalg.LinAlgError, IndexError) as exc:  # IndexError: a slice or a
                raise EvaluationError(  # block that does not fit the arrays' sizes
                    f"{node.op.name} failed on {short(node, 60)}: {exc}") from None
            if memo[id(node)].ndim != 2:
                raise InternalError(f"{node.op.name} gave a {memo[id(node)].ndim}-D value")
    return [memo[id(e)] for e in roots]


def resolve_dims(shape: Any, bindings: Mapping[str, int]) -> tuple[int, int]:
    """Concrete (rows, cols) for a symbolic shape under bindings."""
    return (dim(shape[0]).value(dict(bindings)), dim(shape[1]).value(dict(bindings)))
