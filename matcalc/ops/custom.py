"""User-defined elementwise functions from a SymPy formula in one variable.

The derivative comes from SymPy's scalar ``diff`` and is itself such a function (created on first
use), so gradients of user functions can be differentiated again. The formula is a SymPy object the
caller built; text is never parsed or evaluated here. Only an allow-list of SymPy's own classes
may occur in it, and the code SymPy's printers write for it is checked again before it is run (see
:mod:`matcalc.ops._formula`): a function SymPy does not know would be printed into code by its
name, and that name is the caller's text.

The function's code is printed once per backend by SymPy's code printers; the NumPy code also
serves :func:`matcalc.evaluate`. A formula with kinks (Abs, Max, Piecewise, …) declares the
"kink" domain, with its kink points, so that ``check`` treats it as it treats relu.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy

from ..errors import InputError
from ..expr import OPS, Param
from ._base import PREC_ATOM, Expr, as_expr, const, defop
from ._formula import checked_formula, kink_points, printed_code
from .structure import scale_jac

__all__ = ["elementwise", "helper_function", "helper_name"]

_CUSTOM: dict[str, tuple[sympy.Expr, Callable[..., Expr]]] = {}

_COERCE = {
    "numpy": ("np", '''if getattr(y, "shape", None) != x.shape:  # constant on some branch
        y = np.broadcast_to(np.asarray(y, dtype=float), x.shape).copy()'''),
    "torch": ("torch", '''if not isinstance(y, torch.Tensor) or y.shape != x.shape:
        y = torch.broadcast_to(torch.as_tensor(y, dtype=torch.float64), x.shape).clone()'''),
}


def _variable(formula: sympy.Expr, var: Any) -> sympy.Symbol:
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


def helper_function(name: str, source: str) -> Callable[..., Any]:
    """The function a helper's NumPy source defines (our own printed code, never user text)."""
    namespace: dict[str, Any] = {"np": np}
    exec(compile(source, f"<matcalc helper {name}>", "exec"), namespace)  # noqa: S102 - see above
    fn: Callable[..., Any] = namespace[name]
    return fn


def helper_name(name: str) -> str:
    """The name of a user function's helper in code: prefixed, so that no user name (np, f,
    len, …) can shadow a name of the generated module or a builtin."""
    return "_user_" + name


def _helpers(name: str, formula: sympy.Expr, doc: str
             ) -> tuple[dict[str, str], dict[str, list[tuple[str, str]]]]:
    """Code templates calling a helper ``_user_name(x)`` printed from the checked formula (over
    the real variable x), per backend (none for a backend whose printer cannot spell it)."""
    code, helpers = {}, {}
    fn = helper_name(name)
    for backend in ("numpy", "torch"):
        printed = printed_code(formula, backend)
        if printed is None:
            continue
        body, modules = printed
        lib, coerce = _COERCE[backend]
        body = re.sub(rf"\b{backend}\.", lib + ".", body)
        imports = [f"import {m}\n" for m in modules if m != backend]
        header = "".join(imports) + ("\n\n" if imports else "")
        source = f"{header}def {fn}(x):\n    {doc!r}\n    y = {body}\n    {coerce}\n    return y"
        helpers[backend] = [(fn, source)]
        code[backend] = f"{fn}({{0}})"
    return code, helpers


def _almost_everywhere(f: sympy.Expr) -> sympy.Expr:
    """Derivatives at kinks as the built-in ops take them: a step is 0 at 0, a Dirac delta is 0."""
    f = f.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
    return f.replace(sympy.Heaviside, lambda arg, *rest: sympy.Heaviside(arg, 0))


def _numpy_of(name: str, helpers: dict[str, list[tuple[str, str]]]) -> Callable[..., Any]:
    """The NumPy function of the formula, checked to run and to act entry by entry."""
    if "numpy" not in helpers:
        raise InputError(f"elementwise: {name}'s formula cannot be written in NumPy")
    fn = helper_function(*helpers["numpy"][0])
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fn(np.linspace(-2.0, 2.0, 7).reshape(7, 1)))
    except Exception as exc:  # noqa: BLE001 - the printed code fails on functions NumPy lacks
        raise InputError(f"elementwise: {name}'s formula cannot be evaluated with NumPy "
                         f"({type(exc).__name__}: {exc})") from None
    if out.shape != (7, 1):
        raise InputError(f"elementwise: {name}'s formula does not act entry by entry")
    return fn


def _check(name: Any, formula: Any) -> None:
    if isinstance(formula, str):
        raise InputError("elementwise: give a SymPy expression, not text "
                         "(e.g. x * sympy.exp(x) with x = sympy.Symbol('x'))")
    if not isinstance(formula, sympy.Expr):
        raise InputError(f"elementwise: formula must be a SymPy expression, "
                         f"got {type(formula).__name__}")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", name):
        raise InputError(f"elementwise: name must be an identifier, got {name!r}")


def elementwise(name: str, formula: Any, latex: str | None = None, var: Any = None,
                parse: bool = False, _order: int = 0) -> Callable[..., Expr]:
    """Declare ``name(A)`` applying the scalar SymPy ``formula`` to each entry; returns the builder.

    With ``parse=True`` the input language knows the function by its name too (parse_latex always
    reads it as ``\\operatorname{name}``).
    """
    _check(name, formula)
    x = _variable(formula, var)
    formula = checked_formula(name, formula, x)  # over the real variable x from now on
    x = sympy.Symbol("x", real=True)
    if name in _CUSTOM:
        known, builder = _CUSTOM[name]
        if sympy.simplify(known - formula) == 0:
            if parse and not OPS[name].spell:
                OPS[name].spell = (name,)
            return builder
        raise InputError(f"elementwise: {name!r} is already defined with another formula")
    if name in OPS:
        raise InputError(f"elementwise: {name!r} is the name of a built-in op")
    if latex is not None and not isinstance(latex, str):
        raise InputError(f"elementwise: latex must be a string, got {type(latex).__name__}")
    tex = latex or rf"\operatorname{{{name}}}"
    derivative_formula = _almost_everywhere(sympy.simplify(sympy.diff(formula, x)))
    doc = (f"user-defined: {name}(x) = {sympy.sstr(formula)}; "
           f"derivative {sympy.sstr(derivative_formula)}")
    code, helpers = _helpers(name, formula, doc)
    _numpy_of(name, helpers)  # refuse a formula NumPy cannot run, now rather than later
    kinks = kink_points(formula, x)  # where check must not difference across
    derivative_builder: list[Callable[..., Expr]] = []  # made on first use: chains stay lazy

    def local(a: Expr) -> Expr | None:
        if derivative_formula == 0:
            return None
        if derivative_formula.is_number:
            return const(float(derivative_formula))
        if not derivative_builder:
            derivative_builder.append(elementwise(
                f"{name}_d", derivative_formula, latex=tex + "'", var=x, _order=_order + 1))
        return derivative_builder[0](a)

    def vjp(g: Expr, out: Expr) -> tuple[Expr | None]:
        d = local(out.args[0])
        return (None if d is None else g * d,)

    def jac(out: Expr, ds: list[Expr | None]) -> Expr | None:
        d = local(out.args[0])
        return None if d is None else scale_jac(d, ds[0], out)

    op = defop(
        name, 1,
        build=lambda a: Expr.make(op, (as_expr(a, name),)),
        params=(Param("x"),),
        spell=(name,) if parse else (),
        latex_in=(name,),
        shape=lambda args: args[0].shape,
        vjp=vjp,
        jac=jac,
        text=lambda n: [name + "(", (0, 0), ")"],
        latex=lambda n: [tex + r"\left(", (0, 0), r"\right)"],
        prec=PREC_ATOM,
        kind="elementwise",
        scalar=formula,
        doc=doc,
        domain={0: "kink"} if kinks else {},
        extra={"user": True, "kinks": kinks or (0.0,), "order": _order},
        code=code,
        code_helpers=helpers,
    )
    assert op.build is not None
    op.build.__name__ = name
    op.build.__doc__ = doc
    _CUSTOM[name] = (op.scalar, op.build)
    return op.build
