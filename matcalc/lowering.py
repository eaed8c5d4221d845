"""From op records to code: each op's template per backend, the helpers it calls, and the
lowering pass that rewrites a graph into forms cheaper to compute.

Both :mod:`matcalc.evaluate` (which runs each op's NumPy template in process) and
:mod:`matcalc.codegen` (which prints them into a module) go through here, so an op's NumPy code is
written once, in its record.

Templates are looked up by backend: ``numpy`` falls back to ``all`` (plain Python operators),
``jax`` to ``numpy`` (jax.numpy mirrors NumPy's API, and generated JAX modules bind it to ``np``),
``torch`` to ``all``. A template is a format string over the arguments' variables
(``"np.tanh({0})"``) or a function ``template(node, args, env)`` returning one expression, where
``env.dim(d)`` spells a dimension as a Python expression.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .dims import Dim
from .errors import CodegenError, InternalError, NoCodeTemplateError
from .expr import LOWERINGS, Expr, Op, toposort

__all__ = ["BACKEND_KEYS", "Env", "Helper", "helpers_of", "lower", "render", "template_of"]

BACKEND_KEYS: dict[str, tuple[str, ...]] = {
    "numpy": ("numpy", "all"),
    "jax": ("jax", "numpy", "all"),
    "torch": ("torch", "all"),
}


@dataclass(frozen=True)
class Helper:
    """A function generated code calls: its name, its source and, where it is ours, the function."""

    name: str
    source: str
    function: Callable[..., Any] | None = None
    calls: tuple[str, ...] = ()  # the other helpers it calls


def _helper(item: Any) -> Helper:
    if callable(item):
        source = textwrap.dedent(inspect.getsource(item)).strip()
        module = inspect.getmodule(item)
        calls = tuple(n for n in item.__code__.co_names
                      if n != item.__name__ and inspect.isfunction(getattr(module, n, None)))
        return Helper(item.__name__, source, item, calls)
    name, source = item
    return Helper(name, source)


def template_of(op: Op, backend: str) -> Any:
    """The op's template for backend, or NoCodeTemplateError naming both."""
    if backend not in BACKEND_KEYS:
        raise CodegenError(f"unknown backend {backend!r}; choose one of {', '.join(BACKEND_KEYS)}")
    for key in BACKEND_KEYS[backend]:
        t = op.code.get(key)
        if t is not None:
            return t
    raise NoCodeTemplateError(f"the op {op.name!r} has no code template for the {backend} "
                              f"backend (its record's code field has {sorted(op.code) or 'none'})")


_HELPERS: dict[tuple[Op, str], tuple[Helper, ...]] = {}


def helpers_of(op: Op, backend: str) -> tuple[Helper, ...]:
    """The helpers the op's templates for backend may call (the most specific key wins)."""
    found = _HELPERS.get((op, backend))
    if found is None:
        out: dict[str, Helper] = {}
        for key in reversed(BACKEND_KEYS[backend]):
            for item in op.code_helpers.get(key, []):
                h = _helper(item)
                out[h.name] = h
        found = _HELPERS[(op, backend)] = tuple(out.values())
    return found


class Env:
    """What a template may ask besides its arguments' variables."""

    def __init__(self, dim_var: Callable[[str], str]):
        self._dim_var = dim_var
        self.dims_used = False

    def dim(self, d: Dim) -> str:
        """A dimension as a Python expression: 3, n, (2 * n), (m * n), (m + n)."""
        text = d.python(self._dim_var)
        if d.is_int:
            return text
        self.dims_used = True
        return "(" + text + ")" if d.compound else text


def render(node: Expr, template: Any, args: list[str], env: Env) -> str:
    """One node's expression, from its template and its arguments' variables."""
    text = template.format(*args) if isinstance(template, str) else template(node, args, env)
    if not isinstance(text, str) or not text.strip():
        raise InternalError(f"the template of {node.op.name!r} gave {text!r}, not an expression")
    return text


def _cheaper(node: Expr) -> Expr | None:
    """The first cheaper form of node: its record's ``lower``, then those other records'
    identities add (expr.LOWERINGS)."""
    rules = LOWERINGS.get(node.op.name, [])
    for rule in ([node.op.lower] if node.op.lower is not None else []) + rules:
        low = rule(node)
        if low is not None:
            return low
    return None


def lower(roots: Iterable[Expr]) -> list[Expr]:
    """The roots with every node that has a cheaper form (its record's ``lower``) rewritten to it,
    bottom-up, each node once (iterative)."""
    roots = list(roots)
    memo: dict[int, Expr] = {}
    for node in toposort(roots):
        args = tuple(memo[id(a)] for a in node.args)
        rebuilt = node if all(x is y for x, y in zip(args, node.args)) else \
            Expr.make(node.op, args, **dict(node.params))
        while True:  # its arguments are lowered already
            low = _cheaper(rebuilt)
            if low is None:
                break
            if low.shape != rebuilt.shape:
                raise InternalError(f"the lowering of {rebuilt.op.name} changed a shape")
            rebuilt = low
        memo[id(node)] = rebuilt
    return [memo[id(r)] for r in roots]
