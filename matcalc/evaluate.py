"""NumPy evaluation: bind dimensions from the arrays, then compute each DAG node once."""

from __future__ import annotations

import numbers
from typing import Mapping

import numpy as np

from .dims import Dim, dim, shape_str
from .errors import DimensionBindingError, InputError, MatcalcError
from .expr import Expr, toposort


class EvaluationError(MatcalcError):
    """A value that NumPy cannot compute (a singular matrix for inv, say)."""


def _as_array(name: str, value, declared) -> np.ndarray:
    if isinstance(value, (bool, np.bool_)) or isinstance(value, str):
        raise DimensionBindingError(f"value of {name} must be numeric, got {type(value).__name__}")
    if isinstance(value, numbers.Real):
        try:
            arr = np.full((1, 1), float(value))
        except OverflowError:
            raise DimensionBindingError(f"value of {name} is too large for float64") from None
    else:
        try:
            arr = np.asarray(value)
        except Exception as exc:  # ragged lists and the like
            raise DimensionBindingError(f"value of {name} is not an array: {exc}") from None
        if arr.dtype.kind not in "biuf":
            raise DimensionBindingError(
                f"value of {name} must be a real numeric array, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
        if arr.ndim == 0:
            arr = arr.reshape(1, 1)
        elif arr.ndim == 1 and declared[1].is_one:
            arr = arr.reshape(-1, 1)  # a 1-D array is accepted for a declared column
        if arr.ndim != 2:
            raise DimensionBindingError(
                f"value of {name} must be a 2-D array (declared {shape_str(declared)}), "
                f"got an array of shape {arr.shape}")
    return arr


class Context:
    """What leaf ops read during evaluation: arrays by name and dimension values."""

    def __init__(self, arrays: dict[str, np.ndarray], bindings: dict[str, int]):
        self.arrays, self.bindings = arrays, bindings

    def value(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def dim(self, d: Dim) -> int:
        missing = [n for n in d.names if n not in self.bindings]
        if missing:
            raise DimensionBindingError(
                f"dimension {missing[0]} is not bound by any input array; pass dims={{'{missing[0]}': …}}")
        return d.value(self.bindings)


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


def bind(symbols: dict[str, Expr], values: Mapping, dims: Mapping | None = None):
    """Check the arrays against the declarations; return (arrays, dimension bindings)."""
    if not isinstance(values, Mapping):
        raise InputError(f"values must be a mapping from names to arrays, got {type(values).__name__}")
    bindings: dict[str, int] = {}
    source: dict[str, str] = {}
    for key, v in (dims or {}).items():
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
            raise DimensionBindingError(f"dimension {key} must be a positive integer, got {v!r}")
        bindings[key], source[key] = int(v), "dims"
    arrays: dict[str, np.ndarray] = {}
    compound: list[tuple[str, int, Dim, int]] = []
    for name, sym in symbols.items():
        if name not in values:
            raise DimensionBindingError(f"no value given for {name} ({shape_str(sym.shape)})")
        arr = _as_array(name, values[name], sym.shape)
        if 0 in arr.shape:
            raise DimensionBindingError(f"value of {name} is empty (shape {arr.shape}); "
                                        f"dimensions are positive")
        for axis, d in enumerate(sym.shape):
            n = arr.shape[axis]
            what = "rows" if axis == 0 else "columns"
            if d.is_int:
                if n != d.coef:
                    raise DimensionBindingError(
                        f"{name} is declared {shape_str(sym.shape)} but its value has {n} {what} "
                        f"(shape {arr.shape})")
            elif len(d.names) == 1 and d.coef == 1:
                key = d.names[0]
                if key in bindings and bindings[key] != n:
                    raise DimensionBindingError(
                        f"dimension {key} is {bindings[key]} from {source[key]} but {n} from {name} "
                        f"({what} of an array of shape {arr.shape})")
                bindings[key], source[key] = n, name
            else:
                compound.append((name, axis, d, n))
        arrays[name] = arr
    for name, axis, d, n in compound:
        missing = [k for k in d.names if k not in bindings]
        if missing:
            raise DimensionBindingError(f"dimension {missing[0]} in {name}'s shape is not bound")
        if d.value(bindings) != n:
            raise DimensionBindingError(
                f"{name} has {n} {'rows' if axis == 0 else 'columns'} but {d} = {d.value(bindings)}")
    return arrays, bindings


def evaluate(expr: Expr, values: Mapping, dims: Mapping | None = None) -> np.ndarray:
    """The value of expr as a 2-D float64 array; ``values`` maps names to arrays or numbers."""
    return evaluate_many([expr], values, dims)[0]


def evaluate_many(exprs: list[Expr], values: Mapping, dims: Mapping | None = None) -> list[np.ndarray]:
    """Evaluate several expressions at once, each shared node once."""
    for e in exprs:
        if not isinstance(e, Expr):
            raise InputError(f"evaluate expects a matcalc expression, got {type(e).__name__}")
    arrays, bindings = bind(symbols_of(list(exprs)), values, dims)
    ctx = Context(arrays, bindings)
    memo: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for node in toposort(exprs):
            try:
                result = node.op.numpy(ctx, node, *(memo[id(a)] for a in node.args))
            except np.linalg.LinAlgError as exc:
                from .printing import short

                raise EvaluationError(f"{node.op.name} failed on {short(node, 60)}: {exc}") from None
            memo[id(node)] = result
    return [memo[id(e)] for e in exprs]


def resolve_dims(shape, bindings: Mapping[str, int]) -> tuple[int, int]:
    """Concrete (rows, cols) for a symbolic shape under bindings."""
    return tuple(dim(d).value(dict(bindings)) for d in shape)  # type: ignore[return-value]
