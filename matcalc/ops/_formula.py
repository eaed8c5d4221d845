"""The scalar formulas of user-defined elementwise functions: checked against an allow-list, and
printed into code that is checked again before it is run.

A formula is a SymPy expression the caller built, so it may hold anything: an undefined function
whose name is code (``Function("__import__('os').system('id') or float")``), or a subclass of a
SymPy class whose printing method returns code of its own choosing. Neither may reach generated
code, so

1. every node of the formula must be *exactly* (not a subclass) one of the classes below: the
   arithmetic, numbers, the one variable, a fixed list of SymPy's own functions, comparisons and
   conditions (for Piecewise);
2. SymPy's NumPy and PyTorch printers then print it (they know each of those classes), and the
   printed expression is parsed with :mod:`ast` and must consist of arithmetic, numbers, the
   variable ``x`` and calls of attributes of the backend's module (or ``functools.reduce``,
   ``math``, ``abs``): no strings, no names of the caller's, no dunder attributes.

Only then is the code compiled — into a helper function, never by ``lambdify``.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy
from sympy.core import numbers as sympy_numbers
from sympy.logic import boolalg

from ..errors import InputError
from ..limits import LIMITS

__all__ = ["ALLOWED", "checked_formula", "kink_points", "printed_code"]

ALLOWED: frozenset[type] = frozenset({
    # arithmetic, the variable and numbers
    sympy.Add, sympy.Mul, sympy.Pow, sympy.Symbol, sympy.Integer, sympy.Rational, sympy.Float,
    sympy_numbers.Zero, sympy_numbers.One, sympy_numbers.NegativeOne, sympy_numbers.Half,
    sympy_numbers.Pi, sympy_numbers.Exp1,
    # SymPy's own functions, as SymPy defines them
    sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc,
    sympy.asin, sympy.acos, sympy.atan, sympy.sinh, sympy.cosh, sympy.tanh, sympy.asinh,
    sympy.acosh, sympy.atanh, sympy.Abs, sympy.sign, sympy.Heaviside, sympy.Max, sympy.Min,
    sympy.floor, sympy.ceiling, sympy.erf, sympy.Piecewise, sympy.functions.elementary.
    piecewise.ExprCondPair,
    # conditions of a Piecewise
    sympy.StrictGreaterThan, sympy.StrictLessThan, sympy.GreaterThan, sympy.LessThan,
    sympy.Equality, sympy.Unequality, boolalg.And, boolalg.Or, boolalg.Not,
    boolalg.BooleanTrue, boolalg.BooleanFalse,
})

# the functions whose derivative jumps or is undefined somewhere: their arguments' zeros are kinks
_KINKED: frozenset[type] = frozenset({sympy.Abs, sympy.sign, sympy.Heaviside, sympy.floor,
                                      sympy.ceiling})


def _nodes(formula: Any) -> list[Any]:
    """Every node of a SymPy expression (iterative; at most max_formula_ops of them)."""
    out: list[Any] = []
    stack = [formula]
    while stack:
        node = stack.pop()
        out.append(node)
        if len(out) > LIMITS.max_formula_ops:
            raise InputError(f"elementwise: the formula has more than {LIMITS.max_formula_ops} "
                             f"nodes (matcalc.limits.configure(max_formula_ops=…))")
        stack.extend(node.args)
    return out


def checked_formula(name: str, formula: Any, var: Any) -> Any:
    """The formula over a real variable ``x``, or InputError naming what is not allowed in it."""
    for node in _nodes(formula):
        kind = type(node)
        if kind in ALLOWED and (kind is not sympy.Symbol or node == var):
            continue
        if isinstance(node, sympy.Symbol):
            raise InputError(f"elementwise: {name}'s formula may use only its variable {var}, "
                             f"not {node!r}")
        what = getattr(kind, "__name__", repr(kind))
        raise InputError(f"elementwise: {name}'s formula uses {what!r}, which is not a function "
                         f"SymPy defines or not one matcalc can turn into code; write it with "
                         f"arithmetic and SymPy's exp, log, trigonometric and hyperbolic "
                         f"functions, Abs, sign, Heaviside, Max, Min, floor, ceiling or Piecewise")
    return formula.xreplace({var: sympy.Symbol("x", real=True)})


_MODULES = {"numpy": {"numpy", "functools", "math"}, "torch": {"torch", "math"}}
_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call,
          ast.Attribute, ast.Name, ast.Constant, ast.List, ast.Tuple, ast.keyword, ast.IfExp,
          ast.Load, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)


def _code_is_plain(body: str, backend: str) -> bool:
    """Whether printed code is arithmetic, numbers, ``x`` and calls of the backend's functions."""
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError:
        return False
    modules = _MODULES[backend]
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            return False
        if isinstance(node, ast.Constant) and type(node.value) not in (int, float, bool):
            return False
        if isinstance(node, ast.Name) and node.id not in modules | {"x", "abs"}:
            return False
        if isinstance(node, ast.Attribute):
            root: ast.expr = node
            while isinstance(root, ast.Attribute):
                if root.attr.startswith("_"):
                    return False
                root = root.value
            if not (isinstance(root, ast.Name) and root.id in modules):
                return False
        if isinstance(node, ast.Call) and not isinstance(node.func, (ast.Attribute, ast.Name)):
            return False
    return True


def printed_code(formula: Any, backend: str) -> tuple[str, list[str]] | None:
    """(the expression's code, the modules it imports) for a checked formula, or None when the
    backend's printer cannot write it as plain code."""
    from sympy.printing.numpy import NumPyPrinter
    from sympy.printing.pytorch import TorchPrinter

    printer = NumPyPrinter() if backend == "numpy" else TorchPrinter()
    try:
        body = printer.doprint(formula)
    # a printer refuses a function it cannot spell in its own ways: whatever it raises, the op
    # simply has no code for that backend (codegen then names the missing template)
    except Exception:  # noqa: BLE001
        return None
    if not isinstance(body, str) or "\n" in body or not _code_is_plain(body, backend):
        return None
    imports = sorted(m for m in printer.module_imports if m in _MODULES[backend])
    return body, imports


def kink_points(formula: Any, x: Any) -> tuple[float, ...] | None:
    """The real points where the formula's derivative may jump (the zeros of the arguments of
    Abs, sign, Heaviside, floor and ceiling, of Max and Min's differences, of Piecewise's
    conditions): () for a smooth formula, None when they cannot be found."""
    switches: list[Any] = []
    for node in _nodes(formula):
        kind = type(node)
        if kind in _KINKED:
            switches.append(node.args[0])
        elif kind in (sympy.Max, sympy.Min):
            switches += [a - b for a in node.args for b in node.args if a is not b]
        elif isinstance(node, sympy.core.relational.Relational):
            switches.append(node.lhs - node.rhs)
    points: set[float] = set()
    for s in switches:
        if not s.has(x):
            continue
        try:
            poly = sympy.Poly(s, x)
        except sympy.PolynomialError:
            return None
        if poly.degree() > 8:
            return None
        points.update(float(r) for r in poly.real_roots())
    return tuple(sorted(points))
