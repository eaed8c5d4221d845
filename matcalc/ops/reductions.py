"""Reductions that keep 2-D shapes (sum, mean, logsumexp) and the normalisers softmax, log_softmax.

axis=None reduces to 1×1, axis=0 to 1×cols (down the columns), axis=1 to rows×1 (along rows).
"""

from __future__ import annotations

from typing import Any

from ..expr import PREC_MUL, PREC_POW, Param
from ..latexnames import dim_latex
from ..latexstyle import style
from . import _sympy as sp
from . import kernels
from ._base import PREC_ATOM, Builder, Expr, builder, defop, reduced_shape
from .elementwise import exp
from .leaves import eye, ones, size
from .structure import diag, dvec, kron, vec

__all__ = ["log_softmax", "logsumexp", "mean", "softmax", "sum"]

_AXIS = Param("axis", "axis", None, keyword=True)
_AXIS0 = Param("axis", "axis01", 0, keyword=True)


def _spread(g: Expr, a: Expr, axis: int | None) -> Expr:
    """The VJP of a sum: copy g back over the summed axis (ones are all the local gradient)."""
    if axis is None:
        return g * ones(a.rows, a.cols)
    if axis == 0:
        return ones(a.rows, 1) @ g
    return g @ ones(1, a.cols)


def _summing(a: Expr, axis: int | None) -> Expr | None:
    """S with vec(sum(A, axis)) = S vec(A) (None for axis=None, where it is a plain column sum)."""
    if axis == 0:
        return kron(eye(a.cols), ones(1, a.rows))
    if axis == 1:
        return kron(ones(1, a.cols), eye(a.rows))
    return None


def _sum_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    if d[0] is None:
        return None
    s = _summing(out.args[0], out.get("axis"))
    return sum(d[0], axis=0) if s is None else s @ d[0]


def _grouping(a: Expr, axis: int | None) -> Expr:
    """Σ with vec(𝟏𝟏ᵀ-sums broadcast back) = Σ vec(A): sums within each column (0) or row (1)."""
    if axis == 0:
        return kron(eye(a.cols), ones(a.rows, a.rows))
    return kron(ones(a.cols, a.cols), eye(a.rows))


def _is_vector_along(a: Expr, axis: int | None) -> bool:
    return (axis == 0 and a.cols.is_one) or (axis == 1 and a.rows.is_one)


def _softmax_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    if d[0] is None:
        return None
    a, axis = out.args[0], out.get("axis")
    if _is_vector_along(a, axis):  # the familiar diag(s) − s sᵀ
        s = vec(out)
        return (diag(s) - s @ s.T) @ d[0]
    dm = dvec(out)
    return dm @ d[0] - dm @ _grouping(a, axis) @ dm @ d[0]


def _log_softmax_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    if d[0] is None:
        return None
    a, axis = out.args[0], out.get("axis")
    s = softmax(a, axis)
    if _is_vector_along(a, axis):
        return (eye(a.rows * a.cols) - ones(a.rows * a.cols, 1) @ vec(s).T) @ d[0]
    return d[0] - _grouping(a, axis) @ dvec(s) @ d[0]


def _lse_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    if d[0] is None:
        return None
    a, axis = out.args[0], out.get("axis")
    if axis is None:
        return vec(exp(a - out)).T @ d[0]
    summing = _summing(a, axis)
    assert summing is not None
    return summing @ dvec(softmax(a, axis)) @ d[0]


def _np_axis(axis: int | None) -> Any:
    return (0, 1) if axis is None else axis


def _reduce_code(fn: str, keyword: str) -> Any:
    """A code template ``fn(arg, axis=…, keepdims=True)`` in NumPy's or PyTorch's spelling."""
    keep = "keepdims" if keyword == "axis" else "keepdim"
    return lambda n, args, env: f"{fn}({args[0]}, {keyword}={_np_axis(n.get('axis'))}, {keep}=True)"


def _ones_product(a: Expr, axis: int | None) -> list[Any]:
    """Sums as products with ones: 𝟏ᵀZ𝟏, 𝟏ᵀZ (down the columns), Z𝟏 (along the rows)."""
    left = axis in (None, 0) and not a.rows.is_one
    right = axis in (None, 1) and not a.cols.is_one
    pieces: list[Any] = [r"\mathbf{1}" + style().sup_t + " "] if left else []
    pieces.append((0, PREC_MUL))
    if right:
        pieces.append(r" \mathbf{1}")
    return pieces


def _mean_latex(n: Expr) -> list[Any]:
    a, axis = n.args[0], n.get("axis")
    count = a.rows * a.cols if axis is None else (a.rows if axis == 0 else a.cols)
    if count.is_one:
        return _ones_product(a, axis)
    return [r"\frac{1}{" + dim_latex(count) + "} "] + _ones_product(a, axis)


def _by_rows(name: str) -> Any:
    """f(Z) along axis 0 (each column); along axis 1 written as f(Zᵀ)ᵀ, exact and unambiguous."""

    def template(n: Expr) -> list[Any]:
        a = n.args[0]
        if n.get("axis") == 0 or a.rows.is_one:
            return [name + r"\left(", (0, 0), r"\right)"]
        return [name + r"\left(", (a.T, 0), r"\right)" + style().sup_t]

    return template


def _lse_latex(n: Expr) -> list[Any]:
    a, axis = n.args[0], n.get("axis")
    if axis is None or (axis == 0 and a.cols.is_one) or (axis == 1 and a.rows.is_one):
        return [r"\operatorname{logsumexp}\left(", (0, 0), r"\right)"]
    # along one axis of a matrix: log(𝟏ᵀ exp(Z)) or log(exp(Z) 𝟏), exact and unambiguous
    inner = [p if isinstance(p, str) else (exp(a), PREC_MUL) for p in _ones_product(a, axis)]
    return [r"\log\left("] + inner + [r"\right)"]


def _sum_sympy(node: Expr, a: list[Any]) -> Any:
    """Sums as products with OneMatrix (1ᵀ Z 1), a mean divided by the count."""
    import sympy

    x, src, axis = a[0], node.args[0], node.get("axis")
    if src.is_scalar:
        out = sp.scalar(x)
    else:
        left = axis in (None, 0) and not src.rows.is_one
        right = axis in (None, 1) and not src.cols.is_one
        factors = ([sympy.OneMatrix(1, sp.sdim(src.rows))] if left else []) + [x] + (
            [sympy.OneMatrix(sp.sdim(src.cols), 1)] if right else [])
        out = sympy.MatMul(*factors) if len(factors) > 1 else x
    if node.op.name == "mean":
        count = src.rows * src.cols if axis is None else (src.rows if axis == 0 else src.cols)
        if not count.is_one:
            n = sp.sdim(count)
            out = sympy.MatMul(1 / n, out) if sp.is_mat(out) else out / n
    return out


def _count(a: Expr, axis: int | None) -> Expr:
    if axis is None:
        return size(a.rows * a.cols)
    return size(a.rows if axis == 0 else a.cols)


SUM = defop(
    "sum", 1,
    params=(Param("a"), _AXIS),
    spell=("sum",),
    latex_in=("sum",),
    shape=lambda args, axis: reduced_shape(args[0], axis),
    vjp=lambda g, out: (_spread(g, out.args[0], out.get("axis")),),
    jac=_sum_jac,
    domain_through="positive",
    sympy=_sum_sympy,
    latex=lambda n: _ones_product(n.args[0], n.get("axis")),
    prec=PREC_ATOM,
    latex_prec=PREC_MUL,
    kind="reduction",
    doc=("Sum of entries (all, down columns, or along rows); ∂/∂A = G spread by ones: "
         "G𝟏𝟏ᵀ, 𝟏G, G𝟏ᵀ."),
    code={"numpy": _reduce_code("np.sum", "axis"), "torch": _reduce_code("torch.sum", "dim")},
    sample=lambda S: sum(S.Z, axis=1),
)
sum: Builder = builder(SUM)  # shadows the builtin: NumPy's name

MEAN = defop(
    "mean", 1,
    params=(Param("a"), _AXIS),
    spell=("mean",),
    latex_in=("mean",),
    shape=lambda args, axis: reduced_shape(args[0], axis),
    vjp=lambda g, out: (_spread(g, out.args[0], out.get("axis"))
                        / _count(out.args[0], out.get("axis")),),
    jac=lambda out, d: None if d[0] is None else _sum_jac(out, d) / _count(out.args[0],
                                                                             out.get("axis")),
    domain_through="positive",
    sympy=_sum_sympy,
    latex=_mean_latex,
    latex_prec=PREC_MUL,
    kind="reduction",
    doc="Mean of entries; ∂/∂A = (G spread by ones) / N.",
    code={"numpy": _reduce_code("np.mean", "axis"), "torch": _reduce_code("torch.mean", "dim")},
    sample=lambda S: mean(S.Z, axis=0),
)
mean: Builder = builder(MEAN)


def _lse_vjp(g: Expr, out: Expr) -> tuple[Expr]:
    return (g * exp(out.args[0] - out),)  # softmax(A) from the output: exp(A − logsumexp(A))


LOGSUMEXP = defop(
    "logsumexp", 1,
    params=(Param("a"), _AXIS),
    spell=("logsumexp",),
    latex_in=("logsumexp", "LSE", "lse"),
    shape=lambda args, axis: reduced_shape(args[0], axis),
    vjp=_lse_vjp,
    jac=_lse_jac,
    latex=_lse_latex,
    kind="reduction",
    doc="log Σ exp(A) (stable); ∂/∂A = G ⊙ softmax(A).",
    code={"numpy": lambda n, args, env: f"_logsumexp({args[0]}, {n.get('axis')})",
          "torch": _reduce_code("torch.logsumexp", "dim")},
    code_helpers={"numpy": [kernels._logsumexp]},
    sample=lambda S: logsumexp(S.x),
)
logsumexp: Builder = builder(LOGSUMEXP)

SOFTMAX = defop(
    "softmax", 1,
    params=(Param("a"), _AXIS0),
    spell=("softmax",),
    latex_in=(r"\softmax", "softmax", "Softmax"),
    shape=lambda args, axis: args[0].shape,
    vjp=lambda g, out: (out * (g - sum(g * out, axis=out.get("axis"))),),
    jac=_softmax_jac,
    latex=_by_rows(r"\operatorname{softmax}"),
    latex_prec=lambda n: PREC_ATOM if n.get("axis") == 0 or n.args[0].rows.is_one else PREC_POW,
    kind="reduction",
    doc="exp(A) normalised along an axis; ∂/∂A = S ⊙ (G − Σ(G ⊙ S)) with S = softmax(A).",
    code={"numpy": lambda n, args, env: f"_softmax({args[0]}, {n.get('axis')})",
          "torch": lambda n, args, env: f"torch.softmax({args[0]}, dim={n.get('axis')})"},
    code_helpers={"numpy": [kernels._softmax]},
    sample=lambda S: softmax(S.Z, axis=0),
)
softmax: Builder = builder(SOFTMAX)

LOG_SOFTMAX = defop(
    "log_softmax", 1,
    params=(Param("a"), _AXIS0),
    spell=("log_softmax",),
    latex_in=("log_softmax", "logsoftmax"),
    shape=lambda args, axis: args[0].shape,
    # softmax(A) is exp of the output: the local gradient reuses the forward value
    vjp=lambda g, out: (g - exp(out) * sum(g, axis=out.get("axis")),),
    jac=_log_softmax_jac,
    latex=_by_rows(r"\log\operatorname{softmax}"),
    latex_prec=lambda n: PREC_ATOM if n.get("axis") == 0 or n.args[0].rows.is_one else PREC_POW,
    kind="reduction",
    doc="A − logsumexp(A) along an axis; ∂/∂A = G − softmax(A) ⊙ ΣG.",
    code={"numpy": lambda n, args, env: f"{args[0]} - _logsumexp({args[0]}, {n.get('axis')})",
          "torch": lambda n, args, env: f"torch.log_softmax({args[0]}, dim={n.get('axis')})"},
    code_helpers={"numpy": [kernels._logsumexp]},
    sample=lambda S: log_softmax(S.Z, axis=0),
)
log_softmax: Builder = builder(LOG_SOFTMAX)
