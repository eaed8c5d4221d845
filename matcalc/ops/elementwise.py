"""Elementwise functions, each with its scalar formula, code and derivative.

The derivative of every function here is itself built from ops with rules (the step 𝟙[x > 0],
σ(x)(1 − σ(x)), 1 − tanh²(x), …), so every gradient can be differentiated again.
ReLU and abs take derivative 0 at 0, as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy

from ..latexstyle import style
from ._base import PREC_ATOM, Builder, Expr, Op, builder, defop
from .structure import dvec

__all__ = ["abs", "exp", "log", "relu", "sigmoid", "sign", "softplus", "sqrt", "step", "tanh",
           "unary"]

_x = sympy.Symbol("x", real=True)

Local = Callable[[Expr, Expr], "Expr | None"]


def unary(name: str, local: Local | None, scalar: Any, doc: str, code: dict[str, Any],
          latex: str | Callable[[Expr], list[Any]] | None = None, domain: str | None = None,
          latex_in: tuple[str, ...] = (), domain_through: str = "") -> Op:
    """Declare f(A) elementwise; ``local(a, out)`` is f'(A) as an expression (None for 0), and
    None for a function whose derivative is 0 almost everywhere (step, sign)."""

    def vjp(g: Expr, out: Expr) -> tuple[Expr | None]:
        d = local(out.args[0], out) if local is not None else None
        return (None if d is None else g * d,)

    def jac(out: Expr, d: list[Expr | None]) -> Expr | None:
        local_ = local(out.args[0], out) if local is not None else None
        if d[0] is None or local_ is None:
            return None
        return local_ * d[0] if out.is_scalar else dvec(local_) @ d[0]

    tex = latex if latex is not None else rf"\operatorname{{{name}}}"
    latex_template = tex if callable(tex) else (lambda n: [tex + r"\left(", (0, 0), r"\right)"])
    return defop(
        name, 1,
        spell=(name,),
        latex_in=latex_in or (name,),
        shape=lambda args: args[0].shape,
        vjp=vjp,
        jac=jac,
        domain_through=domain_through,
        latex=latex_template,
        prec=PREC_ATOM,
        kind="elementwise",
        scalar=scalar,
        doc=doc,
        domain={0: domain} if domain else {},
        extra={"derivative": local},
        code=code,
    )


STEP = unary("step", None, sympy.Heaviside(_x, 0),
             "𝟙[x > 0], the derivative of relu (0 at 0); its own derivative is 0 almost "
             "everywhere.",
             {"numpy": "({0} > 0).astype(float)", "torch": "({0} > 0).to(torch.float64)"},
             latex=lambda n: [style().indicator + "[", (0, 0), r" > 0]"], domain="kink")
SIGN = unary("sign", None, sympy.sign(_x),
             "sign(x), the derivative of |x| (0 at 0); its own derivative is 0 almost everywhere.",
             {"numpy": "np.sign({0})", "torch": "torch.sign({0})"},
             domain="kink", latex_in=(r"\sgn", "sign", "sgn"))
step: Builder = builder(STEP)
sign: Builder = builder(SIGN)

RELU = unary("relu", lambda a, out: step(a), sympy.Max(_x, 0),
             "max(x, 0); derivative 𝟙[x > 0], taken as 0 at 0.",
             {"numpy": "np.maximum({0}, 0.0)", "torch": "torch.relu({0})"},
             latex=r"\operatorname{ReLU}", domain="kink", domain_through="positive",
             latex_in=(r"\relu", r"\ReLU", "ReLU", "relu", "ReLu", "Relu", "RELU"))
SIGMOID = unary("sigmoid", lambda a, out: out * (1 - out), 1 / (1 + sympy.exp(-_x)),
                "σ(x) = 1 / (1 + e^−x); derivative σ(x)(1 − σ(x)).",
                {"numpy": "np.exp(-np.logaddexp(0.0, -{0}))", "torch": "torch.sigmoid({0})"},
                latex=r"\sigma")
TANH = unary("tanh", lambda a, out: 1 - out**2, sympy.tanh(_x),
             "tanh(x); derivative 1 − tanh²(x).",
             {"numpy": "np.tanh({0})", "torch": "torch.tanh({0})"},
             latex=r"\tanh", latex_in=(r"\tanh", "tanh"))
EXP = unary("exp", lambda a, out: out, sympy.exp(_x), "eˣ; derivative eˣ.",
            {"numpy": "np.exp({0})", "torch": "torch.exp({0})"},
            latex=r"\exp", latex_in=(r"\exp", "exp"))
LOG = unary("log", lambda a, out: 1 / a, sympy.log(_x), "natural log (x > 0); derivative 1/x.",
            {"numpy": "np.log({0})", "torch": "torch.log({0})"},
            latex=r"\log", domain="positive", latex_in=(r"\log", r"\ln", "log", "ln"))
SQRT = unary("sqrt", lambda a, out: 1 / (2 * out), sympy.sqrt(_x),
             "√x (x ≥ 0); derivative 1 / (2√x).",
             {"numpy": "np.sqrt({0})", "torch": "torch.sqrt({0})"},
             latex=lambda n: [r"\sqrt{", (0, 0), "}"], domain="positive",
             domain_through="positive", latex_in=(r"\sqrt", "sqrt"))
ABS = unary("abs", lambda a, out: sign(a), sympy.Abs(_x),
            "|x|; derivative sign(x), taken as 0 at 0.",
            {"numpy": "np.abs({0})", "torch": "torch.abs({0})"},
            latex=lambda n: [r"\left|", (0, 0), r"\right|"], domain="kink")
SOFTPLUS = unary("softplus", lambda a, out: sigmoid(a), sympy.log(1 + sympy.exp(_x)),
                 "log(1 + eˣ); derivative σ(x).",
                 {"numpy": "np.logaddexp(0.0, {0})",
                  "torch": "torch.logaddexp({0}, torch.zeros((), dtype=torch.float64))"})

relu: Builder = builder(RELU)
sigmoid: Builder = builder(SIGMOID)
tanh: Builder = builder(TANH)
exp: Builder = builder(EXP)
log: Builder = builder(LOG)
sqrt: Builder = builder(SQRT)
abs: Builder = builder(ABS)  # shadows the builtin: the public name users expect
softplus: Builder = builder(SOFTPLUS)
