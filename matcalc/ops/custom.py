"""User-defined elementwise functions from a SymPy formula in one variable.

The derivative comes from SymPy's scalar ``diff`` and is itself such a function (created on first
use), so gradients of user functions can be differentiated again. The formula is a SymPy object the
caller built; text is never parsed or evaluated here.
"""

from __future__ import annotations

import re

import sympy

from ..errors import InputError
from ..expr import OPS
from ._base import PREC_ATOM, Expr, as_expr, defop, np
from ._jac import dvec

_CUSTOM: dict[str, tuple[sympy.Expr, object]] = {}


def _variable(formula: sympy.Expr, var) -> sympy.Symbol:
    if var is not None:
        if not isinstance(var, sympy.Symbol):
            raise InputError(f"elementwise: var must be a SymPy Symbol, got {type(var).__name__}")
        extra = formula.free_symbols - {var}
        if extra:
            raise InputError(f"elementwise: the formula has free symbols other than {var}: "
                             f"{', '.join(sorted(map(str, extra)))}")
        return var
    free = sorted(formula.free_symbols, key=str)
    if len(free) != 1:
        raise InputError(f"elementwise: the formula must have exactly one free symbol, got "
                         f"{', '.join(map(str, free)) or 'none'}; pass var= to choose")
    return free[0]


def _numpy_fn(formula: sympy.Expr, var: sympy.Symbol):
    fn = sympy.lambdify(var, formula, modules="numpy")

    def run(a):
        out = np.asarray(fn(a), dtype=float)
        return np.broadcast_to(out, a.shape).copy() if out.shape != a.shape else out

    return run


_COERCE = {
    "numpy": ("np", '''if getattr(y, "shape", None) != x.shape:  # constant on some branch
        y = np.broadcast_to(np.asarray(y, dtype=float), x.shape).copy()'''),
    "torch": ("torch", '''if not isinstance(y, torch.Tensor) or y.shape != x.shape:
        y = torch.broadcast_to(torch.as_tensor(y, dtype=torch.float64), x.shape).clone()'''),
}


def _code(name: str, formula: sympy.Expr, x: sympy.Symbol, doc: str):
    """Code templates calling a helper ``name(x)`` printed from the formula by SymPy, per backend
    (none for a backend whose printer cannot spell the formula)."""
    from sympy.printing.numpy import NumPyPrinter
    from sympy.printing.pytorch import TorchPrinter

    formula = formula.xreplace({x: sympy.Symbol("x")})
    code, helpers = {}, {}
    for backend, printer in (("numpy", NumPyPrinter()), ("torch", TorchPrinter())):
        lib, coerce = _COERCE[backend]
        try:
            body = printer.doprint(formula)
        except Exception:  # a function this printer cannot spell
            continue
        if "\n" in body or body.lstrip().startswith("#"):
            continue
        body = re.sub(rf"\b{backend}\.", lib + ".", body)
        imports = [f"import {m}\n" for m in sorted(printer.module_imports) if m != backend]
        header = "".join(imports) + ("\n\n" if imports else "")
        helpers[backend] = {
            name: f"{header}def {name}(x):\n    {doc!r}\n    y = {body}\n    {coerce}\n    return y"}
        code[backend] = f"{name}({{0}})"
    return code, helpers


def _almost_everywhere(f: sympy.Expr) -> sympy.Expr:
    """Derivatives at kinks as the built-in ops take them: a step is 0 at 0, a Dirac delta is 0."""
    f = f.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
    return f.replace(sympy.Heaviside, lambda arg, *rest: sympy.Heaviside(arg, 0))


def _check_numpy(name: str, formula: sympy.Expr, x: sympy.Symbol) -> None:
    try:
        out = _numpy_fn(formula, x)(np.linspace(-2.0, 2.0, 7).reshape(7, 1))
    except Exception as exc:  # lambdify's code fails on functions NumPy lacks
        raise InputError(f"elementwise: {name}'s formula cannot be evaluated with NumPy "
                         f"({type(exc).__name__}: {exc})") from None
    if out.shape != (7, 1):
        raise InputError(f"elementwise: {name}'s formula does not act entry by entry")


def elementwise(name: str, formula, latex: str | None = None, var=None, _order: int = 0):
    """Declare ``name(A)`` applying the scalar SymPy ``formula`` to each entry; returns the builder."""
    if isinstance(formula, str):
        raise InputError("elementwise: give a SymPy expression, not text "
                         "(e.g. x * sympy.exp(x) with x = sympy.Symbol('x'))")
    if not isinstance(formula, sympy.Expr):
        raise InputError(f"elementwise: formula must be a SymPy expression, got {type(formula).__name__}")
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"elementwise: name must be an identifier, got {name!r}")
    x = _variable(formula, var)
    if name in _CUSTOM:
        known, builder = _CUSTOM[name]
        if sympy.simplify(known - formula.subs(x, sympy.Symbol("x", real=True))) == 0:
            return builder
        raise InputError(f"elementwise: {name!r} is already defined with another formula")
    if name in OPS:
        raise InputError(f"elementwise: {name!r} is the name of a built-in op")
    tex = latex or rf"\operatorname{{{name}}}"
    _check_numpy(name, formula, x)
    derivative_formula = _almost_everywhere(sympy.simplify(sympy.diff(formula, x)))
    derivative_builder: list = []  # made on first use, so chains of derivatives stay lazy

    def local(a: Expr):
        if derivative_formula == 0:
            return None
        if not derivative_builder:
            derivative_builder.append(elementwise(
                f"{name}_d", derivative_formula, latex=tex + "'", var=x, _order=_order + 1))
        if derivative_formula.is_number:
            from .leaves import const

            return const(float(derivative_formula))
        return derivative_builder[0](a)

    def vjp(g, out):
        d = local(out.args[0])
        return (None if d is None else g * d,)

    doc = (f"user-defined: {name}(x) = {sympy.sstr(formula)}; "
           f"derivative {sympy.sstr(derivative_formula)}")
    code, code_helpers = _code(name, formula, x, doc)

    def jac(out, ds):
        d = local(out.args[0])
        if ds[0] is None or d is None:
            return None
        return d * ds[0] if (out.is_scalar or d.is_scalar) else dvec(d) @ ds[0]

    op = defop(
        name, 1,
        shape=lambda args: args[0].shape,
        numpy=(lambda f: lambda ctx, node, a: f(a))(_numpy_fn(formula, x)),
        vjp=vjp,
        jac=jac,
        text=lambda n: [name + "(", (0, 0), ")"],
        latex=lambda n: [tex + r"\left(", (0, 0), r"\right)"],
        prec=PREC_ATOM,
        kind="elementwise",
        scalar=formula.subs(x, sympy.Symbol("x", real=True)),
        doc=doc,
        extra={"user": True},
        code=code,
        code_helpers=code_helpers,
    )

    def build(a) -> Expr:
        return Expr.make(op, (as_expr(a, name),))

    build.__name__ = name
    build.__doc__ = op.doc
    _CUSTOM[name] = (op.scalar, build)
    return build
