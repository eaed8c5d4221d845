"""Linear algebra: trace, det, logdet and inv (norms are with the decompositions)."""

from __future__ import annotations

from typing import Any

import sympy

from ..expr import PREC_POW
from . import _sympy as sp
from . import kernels, kernels_jax, kernels_torch
from ._base import ONE, PREC_ATOM, Builder, Expr, builder, defop, require_square
from .leaves import eye
from .structure import kron, vec

__all__ = ["det", "inv", "logdet", "trace"]


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
