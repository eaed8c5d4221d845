"""What every op declaration uses: parameter kinds, the builder made from a record's signature,
coercion of numbers to constants, shape checks and broadcasting.

The constant op lives here rather than with the other leaves because every builder coerces a
Python number to it.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ..dims import ONE, ZERO, Dim, Shape, dim, shape_str
from ..errors import InputError, InternalError, ShapeError
from ..expr import PREC_ADD, PREC_ATOM, PREC_NEG, Expr, Op, Param, register
from ..latexnames import number_latex
from ..render import short

__all__ = [
    "CONST",
    "ONE",
    "PARAM_KINDS",
    "PREC_ATOM",
    "ZERO",
    "Builder",
    "Dim",
    "Expr",
    "InputError",
    "Op",
    "Param",
    "Shape",
    "ShapeError",
    "alias",
    "as_expr",
    "broadcast_shape",
    "builder",
    "check_axis",
    "check_bool",
    "check_int",
    "check_offset",
    "const",
    "defop",
    "describe",
    "dim",
    "make_builder",
    "np",
    "number",
    "reduced_shape",
    "require_square",
    "run_template",
    "shape_str",
]


def describe(x: Expr) -> str:
    """``W (m×n)``: an operand as error messages name it."""
    return f"{short(x, 40)} ({shape_str(x.shape)})"


# --- constants ------------------------------------------------------------------------------------

def number(value: Any, where: str = "a constant") -> int | float:
    """A finite real number, as an int when it is integral (and exactly representable)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                      np.floating)):
        raise InputError(f"{where} must be a real number, got {value!r}")
    out: int | float = float(value) if isinstance(value, (float, np.floating)) else int(value)
    if isinstance(out, int) and abs(out) > 2**53:
        out = float(out) if abs(out) < 1e308 else math.inf
    if isinstance(out, float):
        if not math.isfinite(out):
            raise InputError(f"{where} must be finite, got {value!r}")
        if out.is_integer() and abs(out) < 2**53:
            out = int(out)
    return out


def _number_text(v: float) -> str:
    return str(v) if isinstance(v, int) else repr(v)


CONST = register(Op(
    "const", 0,
    shape=lambda args, value: (ONE, ONE),
    params=(Param("value", "number"),),
    sympy=lambda node, a: _const_sympy(node.get("value")),
    text=lambda n: [_number_text(n.get("value"))],
    latex=lambda n: [number_latex(n.get("value"))],
    latex_prec=lambda n: PREC_ADD if n.get("value") < 0 else PREC_ATOM,
    # just below an atom, so that a transposed number prints as (2).T, not 2.T
    prec=lambda n: PREC_NEG if n.get("value") < 0 else PREC_ATOM - 1,
    kind="leaf",
    doc="A numeric constant (1×1).",
    code={"numpy": lambda n, args, env: f"np.full((1, 1), {float(n.get('value'))!r})",
          "torch": lambda n, args, env:
          f"torch.full((1, 1), {float(n.get('value'))!r}, dtype=torch.float64)"},
    sample=lambda S: 2 * S.W,
))
CONST.numpy = lambda ctx, node: ctx.run_template(node, ())


def _const_sympy(value: float) -> Any:
    import sympy

    return sympy.Integer(value) if isinstance(value, int) else sympy.Float(value)


def const(value: Any) -> Expr:
    """A 1×1 numeric constant."""
    return Expr.make(CONST, (), value=number(value))


CONST.build = const


def as_expr(x: Any, where: str = "") -> Expr:
    """Coerce a Python or NumPy number to a 1×1 constant; pass expressions through."""
    if isinstance(x, Expr):
        return x
    if isinstance(x, (bool, np.bool_)):
        raise InputError(f"{where or 'operation'}: booleans are not numbers here, got {x!r}")
    if isinstance(x, numbers.Real):
        return const(x)
    kind = type(x).__name__
    hint = (" (wrap arrays as matcalc symbols and pass them to evaluate)" if kind == "ndarray"
            else "")
    raise InputError(
        f"{where or 'operation'}: expected a matcalc expression or a number, got {kind}{hint}")


# --- parameters -----------------------------------------------------------------------------------

def check_axis(opname: str, axis: Any, allow_none: bool = True) -> int | None:
    allowed = (None, 0, 1) if allow_none else (0, 1)
    if isinstance(axis, np.integer):
        axis = int(axis)
    if isinstance(axis, bool) or not (axis is None or type(axis) is int) or axis not in allowed:
        options = "None, 0 or 1" if allow_none else "0 or 1"
        raise InputError(f"{opname}: axis must be {options}, got {axis!r}")
    return axis


def check_offset(opname: str, name: str, value: Any) -> Dim:
    """A position along an axis: 0, a positive int, a dimension, or a polynomial in them that may
    be ≥ 0 (m - 1)."""
    if isinstance(value, Dim):
        out = value
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value == 0:
        out = ZERO
    else:
        try:
            out = dim(value)
        except InputError:
            raise InputError(f"{opname}: {name} must be 0, a positive integer or a dimension, "
                             f"got {value!r}") from None
    if out.terms and not (out + 1).maybe_positive:
        raise InputError(f"{opname}: {name} = {out} is never ≥ 0")
    return out


def check_int(opname: str, name: str, value: Any) -> int:
    """An integer (positive, zero or negative), as in matrix_power(A, 3) or triu(A, -1)."""
    if isinstance(value, np.integer):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or type(value) is not int or abs(value) > 2**31:
        raise InputError(f"{opname}: {name} must be an integer, got {value!r}")
    return value


def check_bool(opname: str, name: str, value: Any) -> bool:
    """True or False (1 and 0 are accepted, as the input language writes them)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    raise InputError(f"{opname}: {name} must be True or False, got {value!r}")


def check_ord(opname: str, name: str, value: Any) -> Any:
    """A norm's order as NumPy spells it: None, "fro", "nuc", inf, -inf, or a number ≥ 1."""
    if value is None or value in ("fro", "nuc"):
        return value
    if isinstance(value, str) and value in ("inf", "-inf"):
        return math.inf if value == "inf" else -math.inf
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        if math.isinf(v):
            return v
        if v >= 1:
            return int(v) if v.is_integer() else v
    raise InputError(f"{opname}: {name} must be None, 'fro', 'nuc', inf, -inf or a number ≥ 1, "
                     f"got {value!r}")


# kind -> convert(opname, parameter name, value) -> the node's parameter (raises InputError)
PARAM_KINDS: dict[str, Callable[[str, str, Any], Any]] = {
    "axis": lambda op, name, v: check_axis(op, v, True),
    "axis01": lambda op, name, v: check_axis(op, v, False),
    "dim": lambda op, name, v: dim(v),
    "number": lambda op, name, v: number(v, f"{op}: {name}"),
    "offset": check_offset,
    "int": check_int,
    "bool": check_bool,
    "ord": check_ord,
}


def _signature(op: Op) -> inspect.Signature:
    def kind(p: Param) -> Any:
        if not p.positional:
            return inspect.Parameter.KEYWORD_ONLY  # as declared: by keyword only
        return inspect.Parameter.POSITIONAL_OR_KEYWORD

    return inspect.Signature([
        inspect.Parameter(p.name, kind(p),
                          default=inspect.Parameter.empty if p.required else p.default)
        for p in op.params])


def make_builder(op: Op) -> Callable[..., Expr]:
    """The builder a record's signature describes: operands coerced, parameters checked. An op
    with a variable number of operands (``many``, as concat) declares its own builder."""
    if any(p.many for p in op.params):
        raise InternalError(f"the op {op.name!r} takes many operands: give it its own builder")
    signature = _signature(op)
    public = op.spell[0] if op.spell else op.name

    operands_only = all(p.kind == "expr" for p in op.params)

    def build(*args: Any, **kwargs: Any) -> Expr:
        if operands_only and not kwargs and len(args) == len(op.params):  # the common call
            return Expr.make(op, [as_expr(x, public) for x in args])
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InputError(f"{public}: {exc}") from None
        bound.apply_defaults()
        operands, params = [], {}
        for p in op.params:
            value = bound.arguments[p.name]
            if p.kind == "expr":
                operands.append(as_expr(value, public))
            else:
                params[p.name] = PARAM_KINDS[p.kind](public, p.name, value)
        return Expr.make(op, operands, **params)

    build.__name__ = build.__qualname__ = public
    build.__doc__ = op.doc
    # inspect.signature reads __signature__, which typeshed does not declare on functions
    build.__signature__ = signature  # type: ignore[attr-defined]
    return build


Builder = Callable[..., Expr]  # an op's public builder: operands and parameters -> its node


def builder(op: Op) -> Builder:
    """The public builder of a declared op (``defop`` gives every record one)."""
    if op.build is None:
        raise InternalError(f"the op {op.name!r} has no builder")
    return op.build


def alias(op: Op, name: str, doc: str) -> Builder:
    """The builder of one of a record's aliases (``hstack``: concat with axis=1): the record's
    builder with the alias's fixed parameters, which it then no longer takes."""
    fixed = op.aliases[name]
    build = builder(op)
    signature = inspect.signature(build)
    signature = signature.replace(parameters=[p for p in signature.parameters.values()
                                              if p.name not in fixed])

    def call(*args: Any, **kwargs: Any) -> Expr:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InputError(f"{name}: {exc}") from None
        return build(*bound.args, **bound.kwargs, **fixed)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = doc
    call.__signature__ = signature  # type: ignore[attr-defined]
    return call


def run_template(ctx: Any, node: Expr, *arrays: Any) -> Any:
    """An op's value by its NumPy code template, run by the evaluator's context (the default
    ``numpy`` of a record: the template is the one implementation)."""
    return ctx.run_template(node, arrays)


def defop(name: str, arity: int, build: Callable[..., Expr] | None = None, **fields: Any) -> Op:
    """Declare and register an op record; its builder is ``build`` or made from its params."""
    fields.setdefault("numpy", run_template)
    op = register(Op(name=name, arity=arity, **fields))
    op.build = build if build is not None else make_builder(op)
    return op


# --- shapes -------------------------------------------------------------------------------------

def broadcast_shape(opname: str, verb: str, a: Expr, b: Expr) -> Shape:
    """Elementwise broadcasting along dimensions that are literally 1 (a 1×1 fits anything)."""
    out = []
    for axis in (0, 1):
        da, db = a.shape[axis], b.shape[axis]
        if da == db or db.is_one:
            out.append(da)
        elif da.is_one:
            out.append(db)
        else:
            which = "rows" if axis == 0 else "columns"
            raise ShapeError(
                f"cannot {verb} {describe(a)} and {describe(b)}: {which} {da} ≠ {db} "
                f"(broadcasting only stretches a dimension that is 1)"
            )
    return (out[0], out[1])


def require_square(opname: str, a: Expr) -> Shape:
    if a.rows != a.cols:
        raise ShapeError(f"{opname} needs a square matrix, got {describe(a)}: {a.rows} ≠ {a.cols}")
    return a.shape


def reduced_shape(a: Expr, axis: int | None) -> Shape:
    if axis is None:
        return (ONE, ONE)
    if axis == 0:
        return (ONE, a.cols)
    return (a.rows, ONE)
