"""Elementwise functions, each with its scalar formula, code and derivative.

The derivative of every function here is itself built from ops with rules (the step 𝟙[x > 0],
σ(x)(1 − σ(x)), 1 − tanh²(x), …), so every gradient can be differentiated again.
ReLU and abs take derivative 0 at 0, as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy

from ..expr import Param
from ..latexstyle import style
from . import kernels, kernels_jax
from ._base import PREC_ATOM, Builder, Expr, Op, builder, defop, np
from .structure import scale_jac

__all__ = ["abs", "arccos", "arcsin", "arcsinh", "arctan", "arctanh", "cos", "cosh", "elu", "erf",
           "exp", "expm1", "gelu", "leaky_relu", "log", "log1p", "relu", "sigmoid", "sign", "silu",
           "sin", "sinh", "softplus", "sqrt", "step", "tan", "tanh", "unary"]

_x = sympy.Symbol("x", real=True)

Local = Callable[[Expr, Expr], "Expr | None"]


Domain = str | Callable[[Expr], dict[Any, str]] | None


def unary(name: str, local: Local | None, scalar: Any, doc: str, code: dict[str, Any],
          latex: str | Callable[[Expr], list[Any]] | None = None, domain: Domain = None,
          latex_in: tuple[str, ...] = (), domain_through: str = "",
          helpers: dict[str, list[Callable[..., Any]]] | None = None) -> Op:
    """Declare f(A) elementwise; ``local(a, out)`` is f'(A) as an expression (None for 0), and
    None for a function whose derivative is 0 almost everywhere (step, sign)."""

    def vjp(g: Expr, out: Expr) -> tuple[Expr | None]:
        d = local(out.args[0], out) if local is not None else None
        return (None if d is None else g * d,)

    def jac(out: Expr, d: list[Expr | None]) -> Expr | None:
        local_ = local(out.args[0], out) if local is not None else None
        return None if local_ is None else scale_jac(local_, d[0], out)

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
        domain=domain if callable(domain) else {0: domain} if domain else {},
        extra={"derivative": local},
        code=code,
        code_helpers=helpers or {},
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


# --- trigonometric, hyperbolic and the smooth activations ---------------------------------------


def _inside_unit(n: Expr) -> dict[Any, str]:
    """|x| < 1 (arcsin, arccos, arctanh): 1 − x² stays positive."""
    return {1 - n.args[0] ** 2: "positive"}


def _fn(name: str, tex: str | None = None) -> dict[str, Any]:
    """The spellings of a function LaTeX has a command for (\\sin) or writes as a word."""
    if tex is None:
        return {"latex": rf"\{name}", "latex_in": (rf"\{name}", name)}
    return {"latex": rf"\operatorname{{{tex}}}", "latex_in": (tex, name)}


def _np(fn: str, torch_fn: str | None = None) -> dict[str, str]:
    return {"numpy": f"np.{fn}({{0}})", "torch": f"torch.{torch_fn or fn}({{0}})"}


_SQRT_2PI = float(np.sqrt(2.0 * np.pi))

SIN = unary("sin", lambda a, out: cos(a), sympy.sin(_x), "sin x; derivative cos x.",
            _np("sin"), **_fn("sin"))
COS = unary("cos", lambda a, out: -sin(a), sympy.cos(_x), "cos x; derivative −sin x.",
            _np("cos"), **_fn("cos"))
TAN = unary("tan", lambda a, out: 1 + out ** 2, sympy.tan(_x),
            "tan x (away from π/2 + kπ); derivative 1 + tan² x.", _np("tan"), **_fn("tan"))
ARCSIN = unary("arcsin", lambda a, out: (1 - a ** 2) ** -0.5, sympy.asin(_x),
               "arcsin x for |x| < 1; derivative 1 / √(1 − x²).", _np("arcsin", "asin"),
               domain=_inside_unit, **_fn("arcsin"))
ARCCOS = unary("arccos", lambda a, out: -((1 - a ** 2) ** -0.5), sympy.acos(_x),
               "arccos x for |x| < 1; derivative −1 / √(1 − x²).", _np("arccos", "acos"),
               domain=_inside_unit, **_fn("arccos"))
ARCTAN = unary("arctan", lambda a, out: 1 / (1 + a ** 2), sympy.atan(_x),
               "arctan x; derivative 1 / (1 + x²).", _np("arctan", "atan"), **_fn("arctan"))
SINH = unary("sinh", lambda a, out: cosh(a), sympy.sinh(_x), "sinh x; derivative cosh x.",
             _np("sinh"), **_fn("sinh"))
COSH = unary("cosh", lambda a, out: sinh(a), sympy.cosh(_x), "cosh x; derivative sinh x.",
             _np("cosh"), **_fn("cosh"))
ARCSINH = unary("arcsinh", lambda a, out: (1 + a ** 2) ** -0.5, sympy.asinh(_x),
                "arsinh x; derivative 1 / √(1 + x²).", _np("arcsinh", "asinh"),
                **_fn("arcsinh", "arsinh"))
ARCTANH = unary("arctanh", lambda a, out: 1 / (1 - a ** 2), sympy.atanh(_x),
                "artanh x for |x| < 1; derivative 1 / (1 − x²).", _np("arctanh", "atanh"),
                domain=_inside_unit, **_fn("arctanh", "artanh"))
ERF = unary("erf", lambda a, out: (2 / float(np.sqrt(np.pi))) * exp(-(a ** 2)), sympy.erf(_x),
            "The error function erf x; derivative 2 e^(−x²) / √π.",
            {"numpy": "_erf({0})", "torch": "torch.erf({0})"},
            helpers={"numpy": [kernels._erf], "jax": [kernels_jax._erf]},
            **_fn("erf", "erf"))
GELU = unary("gelu", lambda a, out: (1 + erf(a * float(1 / np.sqrt(2.0)))) / 2
             + a * exp(-(a ** 2) / 2) / _SQRT_2PI,
             _x * (1 + sympy.erf(_x / sympy.sqrt(2))) / 2,
             "GELU x = x Φ(x) (exact, with the normal CDF Φ); derivative Φ(x) + x φ(x).",
             {"numpy": "_gelu({0})", "torch": "torch.nn.functional.gelu({0})"},
             helpers={"numpy": [kernels._gelu], "jax": [kernels_jax._gelu]},
             latex=r"\operatorname{GELU}",
             latex_in=("GELU", "gelu"))
SILU = unary("silu", lambda a, out: sigmoid(a) * (1 + a * (1 - sigmoid(a))),
             _x / (1 + sympy.exp(-_x)),
             "SiLU x = x σ(x) (swish); derivative σ(x)(1 + x(1 − σ(x))).",
             {"numpy": "{0} * np.exp(-np.logaddexp(0.0, -{0}))",
              "torch": "torch.nn.functional.silu({0})"},
             latex=r"\operatorname{SiLU}", latex_in=("SiLU", "silu"))
LOG1P = unary("log1p", lambda a, out: 1 / (1 + a), sympy.log(1 + _x),
              "log(1 + x) for x > −1, accurate near 0; derivative 1 / (1 + x).",
              _np("log1p"), domain=lambda n: {1 + n.args[0]: "positive"}, **_fn("log1p", "log1p"))
EXPM1 = unary("expm1", lambda a, out: exp(a), sympy.exp(_x) - 1,
              "eˣ − 1, accurate near 0; derivative eˣ.", _np("expm1"), **_fn("expm1", "expm1"))

sin: Builder = builder(SIN)
cos: Builder = builder(COS)
tan: Builder = builder(TAN)
arcsin: Builder = builder(ARCSIN)
arccos: Builder = builder(ARCCOS)
arctan: Builder = builder(ARCTAN)
sinh: Builder = builder(SINH)
cosh: Builder = builder(COSH)
arcsinh: Builder = builder(ARCSINH)
arctanh: Builder = builder(ARCTANH)
erf: Builder = builder(ERF)
gelu: Builder = builder(GELU)
silu: Builder = builder(SILU)
log1p: Builder = builder(LOG1P)
expm1: Builder = builder(EXPM1)


# --- activations with a parameter ---------------------------------------------------------------

def _with_alpha(name: str, default: float, local: Callable[[Expr, Expr, float], Expr],
                doc: str, code: dict[str, Any], tex: str, sample: Any) -> Op:
    """f(A, alpha) elementwise with a constant alpha; its kink at 0 is kept away from."""

    def vjp(g: Expr, out: Expr) -> tuple[Expr]:
        return (g * local(out.args[0], out, out.get("alpha")),)

    def jac(out: Expr, d: list[Expr | None]) -> Expr | None:
        if d[0] is None:
            return None
        return scale_jac(local(out.args[0], out, out.get("alpha")), d[0], out)

    def text(n: Expr) -> list[Any]:
        alpha = n.get("alpha")
        return [name + "(", (0, 0), ")" if alpha == default else f", {alpha!r})"]

    def latex(n: Expr) -> list[Any]:
        alpha = n.get("alpha")
        extra = "" if alpha == default else f", {alpha!r}"
        return [tex + r"\left(", (0, 0), extra + r"\right)"]

    return defop(
        name, 1,
        params=(Param("a"), Param("alpha", "number", default)),
        spell=(name,),
        latex_in=(tex.removeprefix(r"\operatorname{").removesuffix("}"), name),
        shape=lambda args, alpha: args[0].shape,
        vjp=vjp,
        jac=jac,
        text=text,
        latex=latex,
        kind="elementwise",
        doc=doc,
        domain={0: "kink"},
        code=code,
        sample=sample,
    )


def _where_positive(x: str, negative: str, lib: str) -> str:
    return f"{lib}.where({x} > 0, {x}, {negative})"


LEAKY_RELU = _with_alpha(
    "leaky_relu", 0.01, lambda a, out, alpha: alpha + (1 - alpha) * step(a),
    "x for x > 0, αx otherwise (α = 0.01 unless given); derivative 1 or α (α at 0).",
    {"numpy": lambda n, args, env: _where_positive(args[0], f"{n.get('alpha')!r} * {args[0]}",
                                                   "np"),
     "torch": lambda n, args, env: _where_positive(args[0], f"{n.get('alpha')!r} * {args[0]}",
                                                   "torch")},
    r"\operatorname{LeakyReLU}", lambda S: leaky_relu(S.Z, 0.1))
ELU = _with_alpha(
    "elu", 1.0, lambda a, out, alpha: step(a) + (1 - step(a)) * (out + alpha),
    "x for x > 0, α(eˣ − 1) otherwise (α = 1 unless given); derivative 1 or α eˣ.",
    {"numpy": lambda n, args, env: _where_positive(
        args[0], f"{n.get('alpha')!r} * np.expm1(np.minimum({args[0]}, 0.0))", "np"),
     "torch": lambda n, args, env: _where_positive(
        args[0], f"{n.get('alpha')!r} * torch.expm1(torch.clamp({args[0]}, max=0.0))", "torch")},
    r"\operatorname{ELU}", lambda S: elu(S.Z))
leaky_relu: Builder = builder(LEAKY_RELU)
elu: Builder = builder(ELU)
