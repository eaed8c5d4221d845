"""Selections: comparisons as 0/1 masks (A > B), where, maximum/minimum, clip, and the reductions
max, min, prod, var, std, cumsum.

Ties. The gradient of max (and min) is shared equally by the entries that attain it, as HIPS
autograd does: G ⊙ 𝟙[A = max A] / #ties. ``maximum(A, B)`` gives each side half at A = B; ``clip``
passes the gradient strictly inside (lo, hi) and none at either bound. Comparisons, masks and
``where``'s condition have derivative 0 almost everywhere. At a tie or a bound these functions are
not differentiable: the checker keeps its random points away from them (each record's domain
names the expression that must stay away from 0).
"""

from __future__ import annotations

from typing import Any

from ..dims import Dim
from ..expr import PREC_ADD, Param
from ..latexnames import number_latex
from ..latexstyle import style
from ._base import (
    PREC_ATOM,
    Builder,
    Expr,
    ShapeError,
    as_expr,
    broadcast_shape,
    builder,
    defop,
    describe,
    reduced_shape,
)
from .arith import unbroadcast
from .blocks import flip, tril
from .elementwise import step
from .leaves import eye, ones, size
from .reductions import _summing
from .reductions import mean as mean_
from .reductions import sum as sum_
from .structure import dvec, kron, scale_jac, spread, total, vec

__all__ = ["clip", "cumsum", "equal", "greater", "greater_equal", "less", "less_equal", "max",
           "maximum", "min", "minimum", "not_equal", "prod", "std", "var", "where"]


# --- comparisons ----------------------------------------------------------------------------------

# name: (operator, Python operator of the record, LaTeX, NumPy ufunc, PyTorch function)
_RELATIONS = {
    "greater": (">", ">", ">", "greater", "gt"),
    "greater_equal": (">=", ">=", r"\geq", "greater_equal", "ge"),
    "less": ("<", "<", "<", "less", "lt"),
    "less_equal": ("<=", "<=", r"\leq", "less_equal", "le"),
    "equal": ("==", None, "=", "equal", "eq"),
    "not_equal": ("!=", None, r"\neq", "not_equal", "ne"),
}


def comparison(symbol: str) -> Builder | None:
    """The builder of the comparison written ``symbol``, as an operator (">=", "==", …) or in LaTeX
    ("=" is equal), or None: the parsers read their relations here."""
    from ..expr import OPS
    for name, (operator, _, tex, _, _) in _RELATIONS.items():
        if symbol in (operator, tex):
            return builder(OPS[name])
    return None


def _comparison(name: str, sample: Any) -> Any:
    symbol, operator, tex, ufunc, torch_fn = _RELATIONS[name]

    def build(a: Any, b: Any) -> Expr:
        x, y = as_expr(a, name), as_expr(b, name)
        zero = y.op.name == "const" and y.get("value") == 0
        if name == "greater" and zero:  # A > 0 is the step of A: one node for one meaning
            return step(x)
        return Expr.make(op, (x, y))

    def domain(n: Expr) -> dict[Any, str]:
        if name in ("equal", "not_equal"):
            return {}
        a, b = n.args
        return {a if b.op.name == "const" and b.get("value") == 0 else a - b: "kink"}

    op = defop(
        name, 2,
        build=build,
        params=(Param("a"), Param("b")),
        spell=(name,),
        operator=operator,
        shape=lambda args: broadcast_shape(name, "compare", *args),
        vjp=lambda g, out: (None, None),
        jac=lambda out, d: None,
        domain=domain,
        text=lambda n: [(0, PREC_ADD + 1), f" {symbol} ", (1, PREC_ADD + 1)],
        latex=lambda n: [style().indicator + "[", (0, 0), f" {tex} ", (1, 0), "]"],
        prec=PREC_ADD - 1,
        latex_prec=PREC_ATOM,
        kind="binary",
        doc=f"𝟙[A {symbol} B] elementwise, a 0/1 mask (broadcasting); derivative 0 almost "
            f"everywhere.",
        code={"numpy": f"np.{ufunc}({{0}}, {{1}}).astype(float)",
              "torch": f"torch.{torch_fn}({{0}}, {{1}}).to(torch.float64)"},
        sample=sample,
    )
    return op


GREATER = _comparison("greater", lambda S: S.W > S.G)
GREATER_EQUAL = _comparison("greater_equal", lambda S: S.W >= 0.5)
LESS = _comparison("less", lambda S: S.W < S.G)
LESS_EQUAL = _comparison("less_equal", lambda S: S.W <= S.s)
EQUAL = _comparison("equal", lambda S: equal(S.W, S.G))
NOT_EQUAL = _comparison("not_equal", lambda S: not_equal(S.W, 0))
greater: Builder = builder(GREATER)
greater_equal: Builder = builder(GREATER_EQUAL)
less: Builder = builder(LESS)
less_equal: Builder = builder(LESS_EQUAL)
equal: Builder = builder(EQUAL)
not_equal: Builder = builder(NOT_EQUAL)


# --- where, maximum, minimum, clip --------------------------------------------------------------

def _where_shape(args: tuple[Expr, ...]) -> Any:
    c, a, b = args
    try:
        shape = broadcast_shape("where", "select between", a, b)
        probe = Expr.make(EQUAL, (a, b)) if shape == a.shape else Expr.make(EQUAL, (b, a))
        return broadcast_shape("where", "select with the mask", probe, c)
    except ShapeError as exc:
        raise ShapeError(f"where: {exc.message}") from None


def _where_masks(out: Expr) -> tuple[Expr, Expr]:
    c = out.args[0]
    chosen = not_equal(c, 0)
    return chosen, 1 - chosen


def _where_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    # the masks at out's shape, so that a 1×1 condition gives diag(vec(mask ⊙ 𝟏)), not a scaling
    masks = [m if m.shape == out.shape else m * ones(*out.shape) for m in _where_masks(out)]
    return total(*(scale_jac(m, spread(dx, x, out), out)
                   for m, dx, x in zip(masks, d[1:], out.args[1:])))


WHERE = defop(
    "where", 3,
    params=(Param("condition"), Param("a"), Param("b")),
    spell=("where",),
    latex_in=("where",),
    shape=_where_shape,
    vjp=lambda g, out: (None,
                        unbroadcast(g * _where_masks(out)[0], out.args[1].shape),
                        unbroadcast(g * _where_masks(out)[1], out.args[2].shape)),
    jac=_where_jac,
    domain={0: "kink"},
    latex=lambda n: [r"\operatorname{where}\left(", (0, 0), ", ", (1, 0), ", ", (2, 0),
                     r"\right)"],
    kind="binary",
    doc="A where the condition is nonzero, else B (broadcasting all three); ∂/∂A = G ⊙ 𝟙[C ≠ 0], "
        "∂/∂B = G ⊙ 𝟙[C = 0]; constant masks such as tril(ones(n, n)) give causal masking.",
    code={"numpy": "np.where({0} != 0, {1}, {2})", "torch": "torch.where({0} != 0, {1}, {2})"},
    sample=lambda S: where(S.W > 0, S.W, S.G),
)
where: Builder = builder(WHERE)


def _extremum(name: str, larger: bool, sample: Any) -> Any:
    fn = "maximum" if larger else "minimum"

    def masks(out: Expr) -> tuple[Expr, Expr]:
        a, b = out.args
        tie = equal(a, b) / 2
        wins = (greater(a, b) if larger else less(a, b)) + tie
        return wins, 1 - wins

    return defop(
        name, 2,
        params=(Param("a"), Param("b")),
        spell=(name,),
        latex_in=(),
        shape=lambda args: broadcast_shape(name, f"take the {fn} of", *args),
        vjp=lambda g, out: (unbroadcast(g * masks(out)[0], out.args[0].shape),
                            unbroadcast(g * masks(out)[1], out.args[1].shape)),
        jac=lambda out, d: total(scale_jac(masks(out)[0], spread(d[0], out.args[0], out), out),
                                 scale_jac(masks(out)[1], spread(d[1], out.args[1], out), out)),
        domain=lambda n: {n.args[0] - n.args[1]: "kink"},
        latex=lambda n: ["\\" + ("max" if larger else "min") + r"\left(", (0, 0), ", ", (1, 0),
                         r"\right)"],
        kind="binary",
        doc=f"The elementwise {fn} of A and B (broadcasting); the gradient goes to the side that "
            f"wins, half to each at a tie.",
        code={"numpy": f"np.{fn}({{0}}, {{1}})", "torch": f"torch.{fn}({{0}}, {{1}})"},
        sample=sample,
    )


MAXIMUM = _extremum("maximum", True, lambda S: maximum(S.W, S.G))
MINIMUM = _extremum("minimum", False, lambda S: minimum(S.W, 0))
maximum: Builder = builder(MAXIMUM)
minimum: Builder = builder(MINIMUM)


def _clip_shape(args: tuple[Expr, ...]) -> Any:
    a, lo, hi = args
    for bound in (lo, hi):
        if broadcast_shape("clip", "clip", a, bound) != a.shape:
            raise ShapeError(f"clip: the bound {describe(bound)} is larger than {describe(a)}")
    return a.shape


def _clip_masks(out: Expr) -> tuple[Expr, Expr, Expr]:
    """Where the gradient goes: to A strictly inside (lo, hi), to a bound where A is beyond it,
    and nowhere where A is at a bound (as autograd's clip)."""
    a, lo, hi = out.args
    return greater(a, lo) * less(a, hi), less(a, lo), greater(a, hi)


def clip(a: Any, lo: Any, hi: Any) -> Expr:
    """A with each entry clipped to [lo, hi] (lo, hi numbers or broadcast matrices, lo ≤ hi)."""
    return Expr.make(CLIP, (as_expr(a, "clip"), as_expr(lo, "clip"), as_expr(hi, "clip")))


def _clip_domain(n: Expr) -> dict[Any, str]:
    a, lo, hi = n.args
    return {a - lo: "kink", a - hi: "kink"}


CLIP = defop(
    "clip", 3,
    build=clip,
    params=(Param("a"), Param("lo"), Param("hi")),
    spell=("clip",),
    latex_in=("clip",),
    shape=_clip_shape,
    vjp=lambda g, out: (g * _clip_masks(out)[0],
                        unbroadcast(g * _clip_masks(out)[1], out.args[1].shape),
                        unbroadcast(g * _clip_masks(out)[2], out.args[2].shape)),
    jac=lambda out, d: total(*(scale_jac(m, spread(dx, x, out), out) for m, dx, x in
                               zip(_clip_masks(out), d, out.args))),
    domain=_clip_domain,
    latex=lambda n: [r"\operatorname{clip}\left(", (0, 0), ", ", (1, 0), ", ", (2, 0),
                     r"\right)"],
    kind="elementwise",
    doc="A clipped to [lo, hi] elementwise; ∂/∂A = G strictly inside, ∂/∂lo = G where A < lo, "
        "∂/∂hi = G where A > hi (summed over broadcasts).",
    code={"numpy": "np.minimum(np.maximum({0}, {1}), {2})",
          "torch": "torch.minimum(torch.maximum({0}, {1}), {2})"},
    sample=lambda S: clip(S.W, -1, 1),
)


# --- reductions: max, min, prod, var, std ---------------------------------------------------------

_AXIS = Param("axis", "axis", None, keyword=True)
_AXIS0 = Param("axis", "axis01", 0, keyword=True)
_WHICH = {None: "", 0: r"_{\text{col}}", 1: r"_{\text{row}}"}


def _reduce_code(fn: str, keyword: str, extra: str = "") -> Any:
    keep = "keepdims" if keyword == "axis" else "keepdim"

    def template(n: Expr, args: list[str], env: Any) -> str:
        axis = n.get("axis")
        where = (0, 1) if axis is None else axis
        more = extra.format(ddof=n.get("ddof")) if extra else ""
        if fn == "torch.prod" and axis is None:  # PyTorch's prod takes one dim at a time
            return f"torch.prod({args[0]}).reshape(1, 1)"
        return f"{fn}({args[0]}, {keyword}={where}{more}, {keep}=True)"

    return template


def _by_groups(out: Expr, d: Expr | None, weights: Expr) -> Expr | None:
    """The Jacobian of a reduction whose output entry j depends on group j with ∂out_j/∂A_i =
    weights_i (weights has A's shape)."""
    if d is None:
        return None
    a, axis = out.args[0], out.get("axis")
    if axis is None:
        return vec(weights).T @ d
    summing = _summing(a, axis)
    assert summing is not None
    return summing @ dvec(weights) @ d


def _count(a: Expr, axis: int | None) -> Dim:
    return a.rows * a.cols if axis is None else (a.rows if axis == 0 else a.cols)


def _reduction_latex(command: str) -> Any:
    def template(n: Expr) -> list[Any]:
        return [command + _WHICH[n.get("axis")] + r"\left(", (0, 0), r"\right)"]

    return template


def _peak(values: Expr, out: Expr, axis: int | None) -> Expr:
    """𝟙[values = out] / #ties: where the gradient of a max (or min) goes."""
    hit = equal(values, out)
    return hit / sum_(hit, axis=axis)


def _arg_extremum(larger: bool, sample: Any) -> Any:
    name = "max" if larger else "min"

    def weights(out: Expr) -> Expr:
        """𝟙[A = max] / #ties: where the gradient of each group goes."""
        return _peak(out.args[0], out, out.get("axis"))

    op = defop(
        name, 1,
        # axis by keyword only: max(Z, 0) reads as the elementwise maximum to many, not axis 0
        params=(Param("a"), Param("axis", "axis", None, keyword=True, positional=False)),
        spell=(name,),
        latex_in=("\\" + name, name),
        shape=lambda args, axis: reduced_shape(args[0], axis),
        vjp=lambda g, out: (g * weights(out),),
        jac=lambda out, d: _by_groups(out, d[0], weights(out)),
        domain=lambda n: {n.args[0] - n: "kink"},
        latex=_reduction_latex("\\" + name),
        kind="reduction",
        doc=f"The {name} of the entries (all, per column: axis 0, per row: axis 1); its gradient "
            f"goes to the entry that attains it, shared equally by ties.",
        code={"numpy": _reduce_code(f"np.a{name}", "axis"),
              "torch": _reduce_code(f"torch.a{name}", "dim")},
        sample=sample,
    )
    return op


MAX = _arg_extremum(True, lambda S: max(S.Z, axis=0))
MIN = _arg_extremum(False, lambda S: min(S.Z))
max: Builder = builder(MAX)  # shadows the builtin: NumPy's name
min: Builder = builder(MIN)  # shadows the builtin: NumPy's name


def _prod_weights(out: Expr) -> Expr:
    return out / out.args[0]


PROD = defop(
    "prod", 1,
    params=(Param("a"), _AXIS),
    spell=("prod",),
    latex_in=(r"\prod", "prod"),
    shape=lambda args, axis: reduced_shape(args[0], axis),
    vjp=lambda g, out: (g * _prod_weights(out),),
    jac=lambda out, d: _by_groups(out, d[0], _prod_weights(out)),
    domain={0: "nonzero"},
    domain_through="positive",
    latex=_reduction_latex(r"\prod"),
    kind="reduction",
    doc="The product of the entries (all, per column, per row); ∂/∂A = G ⊙ prod / A (A ≠ 0).",
    code={"numpy": _reduce_code("np.prod", "axis"), "torch": _reduce_code("torch.prod", "dim")},
    sample=lambda S: prod(S.Z, axis=1),
)
prod: Builder = builder(PROD)


def _dof(a: Expr, axis: int | None, ddof: int, opname: str) -> Expr:
    count = _count(a, axis) - ddof
    if not count.maybe_positive:
        raise ShapeError(f"{opname}: ddof={ddof} leaves no degrees of freedom in {describe(a)}")
    return size(count) if not count.is_int else count.coef * ones(1, 1)


def _var_weights(out: Expr, opname: str) -> Expr:
    a, axis, ddof = out.args[0], out.get("axis"), out.get("ddof")
    centred = a - mean_(a, axis=axis)
    w = 2 * centred / _dof(a, axis, ddof, opname)
    return w if opname == "var" else w / (2 * out)


def _spread_shape(opname: str) -> Any:
    def shape(args: tuple[Expr, ...], axis: int | None, ddof: int) -> Any:
        out = reduced_shape(args[0], axis)
        _dof(args[0], axis, ddof, opname)
        return out

    return shape


def _spread_text(name: str) -> Any:
    def text(n: Expr) -> list[Any]:
        out: list[Any] = [name + "(", (0, 0)]
        if n.get("axis") is not None:
            out.append(f", axis={n.get('axis')}")
        if n.get("ddof"):
            out.append(f", ddof={n.get('ddof')}")
        return out + [")"]

    return text


def _spread_latex(name: str) -> Any:
    def latex(n: Expr) -> list[Any]:
        ddof = n.get("ddof")
        extra = f", {number_latex(ddof)}" if ddof else ""
        return [r"\operatorname{" + name + "}" + _WHICH[n.get("axis")] + r"\left(", (0, 0),
                extra + r"\right)"]

    return latex


def _spread_op(name: str, doc: str, sample: Any) -> Any:
    numpy_fn, torch_fn = f"np.{name}", f"torch.{name}"
    return defop(
        name, 1,
        params=(Param("a"), _AXIS, Param("ddof", "int", 0, keyword=True)),
        spell=(name,),
        latex_in=(name,),
        shape=_spread_shape(name),
        vjp=lambda g, out: (g * _var_weights(out, name),),
        jac=lambda out, d: _by_groups(out, d[0], _var_weights(out, name)),
        domain={0: "nonzero"} if name == "std" else {},
        text=_spread_text(name),
        latex=_spread_latex(name),
        kind="reduction",
        doc=doc,
        code={"numpy": _reduce_code(numpy_fn, "axis", ", ddof={ddof}"),
              "torch": _reduce_code(torch_fn, "dim", ", correction={ddof}")},
        sample=sample,
    )


VAR = _spread_op("var", "The variance Σ(A − mean A)² / (N − ddof) (all, per column, per row); "
                 "∂/∂A = G ⊙ 2(A − mean A) / (N − ddof).", lambda S: var(S.Z, axis=0, ddof=1))
STD = _spread_op("std", "The standard deviation √var(A); ∂/∂A = G ⊙ (A − mean A) / "
                 "((N − ddof) std A).", lambda S: std(S.x))
var: Builder = builder(VAR)
std: Builder = builder(STD)


# --- cumsum ---------------------------------------------------------------------------------------

def _cumsum_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    """cumsum down the rows is L A, along the columns A U: L = tril(𝟏), U = triu(𝟏)."""
    if d[0] is None:
        return None
    a = out.args[0]
    if out.get("axis") == 0:
        return kron(eye(a.cols), tril(ones(a.rows, a.rows))) @ d[0]
    return kron(tril(ones(a.cols, a.cols)), eye(a.rows)) @ d[0]


CUMSUM = defop(
    "cumsum", 1,
    params=(Param("a"), _AXIS0),
    spell=("cumsum",),
    latex_in=("cumsum",),
    shape=lambda args, axis: args[0].shape,
    vjp=lambda g, out: (flip(cumsum(flip(g, out.get("axis")), out.get("axis")),
                             out.get("axis")),),
    jac=_cumsum_jac,
    domain_through="positive",
    text=lambda n: ["cumsum(", (0, 0), f", axis={n.get('axis')})"],
    latex=lambda n: [r"\operatorname{cumsum}" + _WHICH[n.get("axis")] + r"\left(", (0, 0),
                     r"\right)"],
    kind="reduction",
    doc="Running sums down the columns (axis 0) or along the rows (axis 1); ∂/∂A = the running "
        "sums of G taken from the other end.",
    code={"numpy": lambda n, args, env: f"np.cumsum({args[0]}, axis={n.get('axis')})",
          "torch": lambda n, args, env: f"torch.cumsum({args[0]}, dim={n.get('axis')})"},
    sample=lambda S: cumsum(S.Z, axis=1),
)
cumsum: Builder = builder(CUMSUM)

