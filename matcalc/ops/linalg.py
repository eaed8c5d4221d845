"""Linear algebra: trace, det, logdet, inv and the adjugate (norms are with the decompositions)."""

from __future__ import annotations

from typing import Any

import sympy

from ..expr import PREC_POW, Param, lowering, toposort
from . import _sympy as sp
from . import kernels, kernels_jax, kernels_torch
from ._base import ONE, PREC_ATOM, Builder, Expr, builder, defop, require_square
from .leaves import eye
from .reductions import sum as sum_
from .structure import kron, vec

__all__ = ["adj", "det", "inv", "logdet", "restrict", "trace"]


def _to_scalar(opname: str) -> Any:
    """The shape rule of a function of a square matrix with a 1×1 value."""
    return lambda args: (require_square(opname, args[0]), (ONE, ONE))[1]


def _spd(x: Expr) -> bool:
    """A symbol declared symmetric positive definite: its code may use a Cholesky factor."""
    return bool(x.op.name == "symbol" and x.get("structure") == "spd")


def _inverse_code(n: Expr, args: list[str], lib: str) -> str:
    a = n.args[0]
    if _spd(a):
        eye_ = "np.eye" if lib == "np" else "torch.eye"
        dtype = "" if lib == "np" else ", dtype=torch.float64"
        return f"_cho_solve({args[0]}, {eye_}({args[0]}.shape[0]{dtype}))"
    return f"{lib}.linalg.inv({args[0]})"


TRACE = defop(
    "trace", 1,
    spell=("trace",),
    latex_in=(r"\tr", r"\Tr", r"\trace", "tr", "Tr", "trace", "Trace"),
    shape=_to_scalar("trace"),
    vjp=lambda g, out: (g * eye(out.args[0].rows),),
    jac=lambda out, d: None if d[0] is None else vec(eye(out.args[0].rows)).T @ d[0],
    domain_through="positive",
    sympy=sp.square(sympy.Trace, lambda s: s),
    latex=lambda n: [r"\operatorname{tr}\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="tr(A) for square A; ∂tr(A)/∂A = I (Cookbook 2.4.2).",
    code={"numpy": "np.trace({0}).reshape(1, 1)", "torch": "torch.trace({0}).reshape(1, 1)"},
    sample=lambda S: trace(S.A),
)
trace: Builder = builder(TRACE)

DET = defop(
    "det", 1,
    spell=("det",),
    latex_in=(r"\det", "det"),
    shape=_to_scalar("det"),
    vjp=lambda g, out: (g * out * inv(out.args[0]).T,),
    jac=lambda out, d: None if d[0] is None else out * (vec(inv(out.args[0]).T).T @ d[0]),
    sympy=sp.square(sympy.Determinant, lambda s: s),
    latex=lambda n: [r"\det\left(", (0, 0), r"\right)"],
    domain={0: "invertible"},
    kind="linalg",
    doc="det(A); ∂det(A)/∂A = det(A) A⁻ᵀ (Cookbook eq. 49).",
    code={"numpy": "np.linalg.det({0}).reshape(1, 1)",
          "torch": "torch.linalg.det({0}).reshape(1, 1)"},
    sample=lambda S: det(S.A),
)
det: Builder = builder(DET)

def _restrict_prec(n: Expr) -> int:
    return n.args[0].op.precedence(n.args[0])


RESTRICT = defop(
    "restrict", 2,
    params=(Param("x"), Param("guard")),
    shape=lambda args: args[0].shape,
    vjp=lambda g, out: (restrict(g, out.args[1]), None),
    jac=lambda out, d: None if d[0] is None else restrict(d[0], out.args[1]),
    domain_through="all",
    sympy=lambda node, a: a[0],  # the domain is left implicit, as in print
    text=lambda n: [(0, 0)],
    latex=lambda n: [(0, 0)],
    prec=_restrict_prec,
    latex_prec=lambda n: n.args[0].op.precedence(n.args[0], latex=True),
    kind="other",
    doc="X where the guard has no NaN, NaN elsewhere: a derivative kept to the domain of what it "
        "differentiates (logdet's gradient A⁻ᵀ is NaN where logdet(A) is). Printed as X alone: "
        "the domain is implicit in formulas, as in the Matrix Cookbook.",
    code={"numpy": "np.where(np.isnan({1}).any(), np.nan, {0})",
          "torch": "torch.where(torch.isnan({1}).any(), torch.nan, {0})"},
    sample=lambda S: restrict(S.W, logdet(S.A)),
)
restrict: Builder = builder(RESTRICT)

LOGDET = defop(
    "logdet", 1,
    spell=("logdet",),
    latex_in=("logdet",),
    shape=_to_scalar("logdet"),
    vjp=lambda g, out: (g * inv(out.args[0]).T,),
    jac=lambda out, d: None if d[0] is None else vec(inv(out.args[0]).T).T @ d[0],
    sympy=sp.square(lambda x: sympy.log(sympy.Determinant(x)), sympy.log),
    latex=lambda n: [r"\log\det\left(", (0, 0), r"\right)"],
    domain={0: "spd"},
    kind="linalg",
    doc="log det(A) for det(A) > 0 (NaN otherwise); ∂/∂A = A⁻ᵀ (Cookbook eq. 57).",
    # A⁻ᵀ exists where det(A) < 0 too: derivatives of an expression holding logdet are
    # restricted (NaN) where it is NaN (see diff.restricted)
    extra={"nan_outside_domain": True},
    code={"all": lambda n, args, env: (f"_cho_logdet({args[0]})" if _spd(n.args[0])
                                       else f"_logdet({args[0]})")},
    code_helpers={"numpy": [kernels._logdet, kernels._cho_logdet],
                  "torch": [kernels_torch._logdet, kernels_torch._cho_logdet]},
    sample=lambda S: logdet(S.A),
)
logdet: Builder = builder(LOGDET)

INV = defop(
    "inv", 1,
    spell=("inv",),
    latex_in=("inv",),
    shape=lambda args: require_square("inv", args[0]),
    vjp=lambda g, out: (-(out.T @ g @ out.T),),
    jac=lambda out, d: None if d[0] is None else -(kron(out.T, out) @ d[0]),
    sympy=sp.square(sympy.Inverse, lambda s: 1 / s),
    latex=lambda n: [(0, PREC_ATOM), "^{-1}"],
    latex_prec=PREC_POW,
    domain={0: "invertible"},
    kind="linalg",
    doc="A⁻¹; ∂/∂A = −A⁻ᵀ G A⁻ᵀ (Cookbook eq. 61).",
    code={"numpy": lambda n, args, env: _inverse_code(n, args, "np"),
          "torch": lambda n, args, env: _inverse_code(n, args, "torch")},
    code_helpers={"numpy": [kernels._cho_solve], "torch": [kernels_torch._cho_solve],
                  "jax": [kernels_jax._cho_solve]},
    sample=lambda S: inv(S.A),
)
inv: Builder = builder(INV)

def _adj_vjp(g: Expr, out: Expr) -> tuple[Expr]:
    """d adj(A) = det(A) (tr(A⁻¹ dA) A⁻¹ − A⁻¹ dA A⁻¹): the VJP is
    det(A) (⟨G, A⁻¹⟩ A⁻ᵀ − A⁻ᵀ G A⁻ᵀ)."""
    a = out.args[0]
    ia = inv(a)
    return (det(a) * (sum_(g * ia) * ia.T - ia.T @ g @ ia.T),)


def _adj_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    if d[0] is None:
        return None
    a = out.args[0]
    ia = inv(a)
    return det(a) * ((vec(ia) @ vec(ia.T).T - kron(ia.T, ia)) @ d[0])


ADJ = defop(
    "adj", 1,
    spell=("adj",),
    latex_in=("adj",),
    shape=lambda args: require_square("adj", args[0]),
    vjp=_adj_vjp,
    jac=_adj_jac,
    latex=lambda n: [r"\operatorname{adj}\left(", (0, 0), r"\right)"],
    domain={0: "invertible"},  # its value exists everywhere; its derivative needs A⁻¹
    kind="linalg",
    doc="adj(A) = det(A) A⁻¹, the adjugate, defined at singular A too; ∂det(A)/∂A = adj(A)ᵀ "
        "(Cookbook eq. 49 where A is invertible).",
    code={"all": "_adjugate({0})"},
    code_helpers={"numpy": [kernels._adjugate], "torch": [kernels_torch._adjugate]},
    sample=lambda S: adj(S.A),
)
adj: Builder = builder(ADJ)


# --- det(A) A⁻¹ = adj(A), where products meet ------------------------------------------------
# det's gradient reads det(A) A⁻ᵀ (Cookbook eq. 49), and simplification keeps that form, which
# cannot be computed at a singular A (A⁻¹ does not exist, det(A) = 0). Evaluation and compiled
# code lower a product det(A) · F(A⁻¹), with F linear in A⁻¹ (products, transposes, negations), to
# F(adj(A)): the same value wherever A is invertible, and the limit (the adjugate) where it is
# not. The identity is det's and inv's, so it is declared here, on the product where they meet.

_LINEAR = ("matmul", "transpose", "neg")


def _scalar_factors(s: Expr) -> list[Expr]:
    """The factors of a 1×1 product tree (iterative)."""
    out, stack = [], [s]
    while stack:
        e = stack.pop()
        if e.op.name == "mul" and e.args[0].is_scalar and e.args[1].is_scalar:
            stack += [e.args[1], e.args[0]]
        else:
            out.append(e)
    return out


def _path_to(root: Expr, target: Expr) -> list[tuple[Expr, int]] | None:
    """The (node, argument index) steps from root down to target through linear nodes only, when
    target occurs exactly once below root; None otherwise."""
    path: list[tuple[Expr, int]] = []
    node = root
    while node is not target:
        if node.op.name not in _LINEAR and not (node.op.name == "mul" and any(
                a.is_scalar for a in node.args)):
            return None
        holding = [i for i, a in enumerate(node.args) if _contains(a, target)]
        if len(holding) != 1:
            return None
        path.append((node, holding[0]))
        node = node.args[holding[0]]
    return path


def _contains(e: Expr, target: Expr) -> bool:
    return any(n is target for n in toposort([e]))


@lowering("mul")
def _det_inverse(node: Expr) -> Expr | None:
    """det(A)·c · F(A⁻¹) → c · F(adj(A)) for F linear in A⁻¹ (see above)."""
    for k in (0, 1):
        s, rest = node.args[k], node.args[1 - k]
        if not s.is_scalar or rest.is_scalar:
            continue
        factors = _scalar_factors(s)
        for i, f in enumerate(factors):
            if f.op is not DET:
                continue
            path = _path_to(rest, inv(f.args[0]))
            if path is None:  # (an empty path: the rest is A⁻¹ itself)
                continue
            out = adj(f.args[0])
            for parent, j in reversed(path):
                args = list(parent.args)
                args[j] = out
                out = Expr.make(parent.op, args, **dict(parent.params))
            others = factors[:i] + factors[i + 1:]
            scale = others[0] if others else None
            for o in others[1:]:
                scale = scale * o
            return out if scale is None else scale * out
    return None


