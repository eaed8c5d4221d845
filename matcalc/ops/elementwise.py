"""Elementwise functions, each with its scalar formula, NumPy value and derivative.

The derivative of every function here is itself built from ops with rules (the step 𝟙[x > 0],
σ(x)(1 − σ(x)), 1 − tanh²(x), …), so every gradient can be differentiated again.
ReLU and abs take derivative 0 at 0, as PyTorch does.
"""

from __future__ import annotations

import sympy

from ._base import PREC_ATOM, Expr, as_expr, defop, np
from ._jac import dvec

_x = sympy.Symbol("x", real=True)


def _unary(name: str, numpy_fn, local, latex, scalar, doc: str, domain=None, code=None,
           domain_through=""):
    """Declare f(A) elementwise; ``local(a, out)`` is f'(A) as an expression, or None for 0."""

    def vjp(g, out):
        d = local(out.args[0], out)
        return (None if d is None else g * d,)

    def jac(out, d):
        local_ = local(out.args[0], out)
        if d[0] is None or local_ is None:
            return None
        return local_ * d[0] if out.is_scalar else dvec(local_) @ d[0]

    tex = latex if latex is not None else rf"\operatorname{{{name}}}"
    latex_template = tex if callable(tex) else (lambda n: [tex + r"\left(", (0, 0), r"\right)"])
    return defop(
        name, 1,
        shape=lambda args: args[0].shape,
        numpy=lambda ctx, node, a: numpy_fn(a),
        vjp=vjp,
        jac=jac,
        domain_through=domain_through,
        text=lambda n: [name + "(", (0, 0), ")"],
        latex=latex_template,
        prec=PREC_ATOM,
        kind="elementwise",
        scalar=scalar,
        doc=doc,
        domain={0: domain} if domain else {},
        extra={"derivative": local},
        code=code or {},
    )


def _sigmoid_np(a):
    return np.exp(-np.logaddexp(0.0, -a))


STEP = defop(
    "step", 1,
    shape=lambda args: args[0].shape,
    numpy=lambda ctx, node, a: (a > 0).astype(float),
    vjp=lambda g, out: (None,),
    jac=lambda out, d: None,
    text=lambda n: ["step(", (0, 0), ")"],
    latex=lambda n: [r"\mathbb{1}[", (0, 0), r" > 0]"],
    domain={0: "kink"},
    kind="elementwise",
    scalar=sympy.Heaviside(_x, 0),
    doc="𝟙[x > 0], the derivative of relu (0 at 0); its own derivative is 0 almost everywhere.",
    code={"numpy": "({0} > 0).astype(float)", "torch": "({0} > 0).to(torch.float64)"},
)

SIGN = defop(
    "sign", 1,
    shape=lambda args: args[0].shape,
    numpy=lambda ctx, node, a: np.sign(a),
    vjp=lambda g, out: (None,),
    jac=lambda out, d: None,
    text=lambda n: ["sign(", (0, 0), ")"],
    latex=lambda n: [r"\operatorname{sign}\left(", (0, 0), r"\right)"],
    domain={0: "kink"},
    kind="elementwise",
    scalar=sympy.sign(_x),
    doc="sign(x), the derivative of |x| (0 at 0); its own derivative is 0 almost everywhere.",
    code={"numpy": "np.sign({0})", "torch": "torch.sign({0})"},
)


def step(a) -> Expr:
    """𝟙[A > 0] elementwise."""
    return Expr.make(STEP, (as_expr(a, "step"),))


def sign(a) -> Expr:
    """sign(A) elementwise."""
    return Expr.make(SIGN, (as_expr(a, "sign"),))


RELU = _unary("relu", lambda a: np.maximum(a, 0.0), lambda a, out: step(a),
              r"\operatorname{ReLU}", sympy.Max(_x, 0),
              "max(x, 0); derivative 𝟙[x > 0], taken as 0 at 0.", "kink",
              code={"numpy": "np.maximum({0}, 0.0)", "torch": "torch.relu({0})"},
              domain_through="positive")
SIGMOID = _unary("sigmoid", _sigmoid_np, lambda a, out: out * (1 - out), r"\sigma",
                 1 / (1 + sympy.exp(-_x)),
                 "σ(x) = 1 / (1 + e^−x); derivative σ(x)(1 − σ(x)).",
                 code={"numpy": "np.exp(-np.logaddexp(0.0, -{0}))", "torch": "torch.sigmoid({0})"})
TANH = _unary("tanh", np.tanh, lambda a, out: 1 - out**2, r"\tanh", sympy.tanh(_x),
              "tanh(x); derivative 1 − tanh²(x).",
              code={"numpy": "np.tanh({0})", "torch": "torch.tanh({0})"})
EXP = _unary("exp", np.exp, lambda a, out: out, r"\exp", sympy.exp(_x), "eˣ; derivative eˣ.",
             code={"numpy": "np.exp({0})", "torch": "torch.exp({0})"})
LOG = _unary("log", np.log, lambda a, out: 1 / a, r"\log", sympy.log(_x),
             "natural log (x > 0); derivative 1/x.", "positive",
             code={"numpy": "np.log({0})", "torch": "torch.log({0})"})
SQRT = _unary("sqrt", np.sqrt, lambda a, out: 1 / (2 * out),
              lambda n: [r"\sqrt{", (0, 0), "}"], sympy.sqrt(_x),
              "√x (x ≥ 0); derivative 1 / (2√x).", "positive",
              code={"numpy": "np.sqrt({0})", "torch": "torch.sqrt({0})"},
              domain_through="positive")
ABS = _unary("abs", np.abs, lambda a, out: sign(a),
             lambda n: [r"\left|", (0, 0), r"\right|"], sympy.Abs(_x),
             "|x|; derivative sign(x), taken as 0 at 0.", "kink",
             code={"numpy": "np.abs({0})", "torch": "torch.abs({0})"})
SOFTPLUS = _unary("softplus", lambda a: np.logaddexp(0.0, a), lambda a, out: sigmoid(a),
                  r"\operatorname{softplus}", sympy.log(1 + sympy.exp(_x)),
                  "log(1 + eˣ); derivative σ(x).",
                  code={"numpy": "np.logaddexp(0.0, {0})",
                        "torch": "torch.logaddexp({0}, torch.zeros((), dtype=torch.float64))"})


def _builder(op):
    def build(a) -> Expr:
        return Expr.make(op, (as_expr(a, op.name),))

    build.__name__ = op.name
    build.__doc__ = f"{op.name} elementwise: {op.doc}"
    return build


relu = _builder(RELU)
sigmoid = _builder(SIGMOID)
tanh = _builder(TANH)
exp = _builder(EXP)
log = _builder(LOG)
sqrt = _builder(SQRT)
abs = _builder(ABS)  # noqa: A001 - the public name users expect
softplus = _builder(SOFTPLUS)
