"""The facts behind a step-by-step derivation, node by node, from the real rules.

Every formula comes from the engines: the downstream gradients are ``vjp`` of each node's
definition, the local gradients ``jacobian`` (or, for a scalar of a matrix, the gradient arranged
like the matrix), the final results ``grad``. :mod:`matcalc.explain` writes them as a document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .diff import jacobian, resolve_wrt, vjp
from .dims import shape_str
from .errors import DifferentiationError, InputError, SizeLimitError
from .evaluate import evaluate_many
from .expr import Expr, toposort
from .limits import LIMITS
from .ops import const, cotangent

__all__ = ["Derivation", "Local", "Node", "derive", "name_list"]

# How a node's output y relates to one of its inputs x, which decides how the local gradient
# ∂y/∂x is described:
#   scalar      y and x are 1×1
#   row         y is 1×1 and x a column: a row (numerator layout)
#   gradient    y is 1×1 and x a matrix: one entry per entry of x, arranged like x
#   jacobian    y and x are columns: the Jacobian matrix
#   diagonal    an elementwise op on columns: a diagonal Jacobian
#   elementwise an elementwise op on matrices: diagonal in vec form, entrywise f′(X)
#   kron        anything else: a 4-D array, shown in vec form (often a Kronecker product)
#   kron_nodense  the same, when no closed vec form exists (applied through its VJP only)
KINDS = ("scalar", "row", "gradient", "jacobian", "diagonal", "elementwise", "kron",
         "kron_nodense")


@dataclass
class Local:
    """One input of one node: its local gradient and its downstream gradient."""

    input: Expr
    kind: str  # one of KINDS
    jacobian: Expr | None  # ∂y/∂x as shown: the Jacobian (vec form), or the gradient for "gradient"
    downstream: Expr  # upstream × local, with the upstream as a symbol
    entrywise: Expr | None = None  # for elementwise ops: f′(x), shaped like x


@dataclass
class Node:
    """One named step Y = f(inputs) of the program."""

    name: str
    node: Expr
    definition: Expr
    upstream: Expr | None  # the closed form of ∂L/∂Y (None for the loss)
    locals: list[Local] = field(default_factory=list)


@dataclass
class Derivation:
    """Everything a document needs, from the real derivation."""

    loss: Expr
    loss_name: str
    inputs: list[Expr]
    steps: list[Node]  # forward order
    wrt: list[Expr]
    gradients: list[Expr]
    uses: dict[Expr, int]
    values: dict[str, Any] | None = None
    forward_values: dict[Expr, np.ndarray] = field(default_factory=dict)
    gradient_values: dict[Expr, np.ndarray] = field(default_factory=dict)
    seed: Expr | None = None  # the loss's upstream gradient: 1, or the symbol ∂L/∂Y for a node


def _inputs_of(definition: Expr) -> list[Expr]:
    """Symbols and named nodes a definition reads directly (it stops at named nodes)."""
    out: list[Expr] = []
    seen: set[Expr] = set()
    stack = [definition]
    while stack:
        n = stack.pop()
        inner = []
        for a in n.args:
            if a in seen:
                continue
            seen.add(a)
            if a.op.name in ("symbol", "named"):
                out.append(a)
            else:
                inner.append(a)
        stack.extend(reversed(inner))
    return out


def _diagonal_entries(jac: Expr | None) -> Expr | None:
    """f′ shaped like the input when the Jacobian is diag(f′) or diag(vec(f′)), else None."""
    if jac is None or jac.op.name != "diag" or not jac.args[0].cols.is_one:
        return None
    inner = jac.args[0]
    return inner.args[0] if inner.op.name == "vec" else inner


def _local(definition: Expr, x: Expr, seed: Expr) -> Local:
    """The local and downstream gradients of one input of one node."""
    down = vjp(definition, x, upstream=seed)
    y = definition
    if y.is_scalar:
        if x.is_scalar:
            return Local(x, "scalar", jacobian(y, x), down)
        if x.cols.is_one:
            return Local(x, "row", jacobian(y, x), down)
        return Local(x, "gradient", vjp(y, x, upstream=const(1)), down)
    try:
        jac: Expr | None = jacobian(y, x)
    except DifferentiationError:  # no closed vec form: the VJP carries the chain rule alone
        jac = None
    entries = _diagonal_entries(jac)
    if entries is not None and entries.shape == x.shape:
        return Local(x, "diagonal" if x.cols.is_one else "elementwise", jac, down, entries)
    if y.cols.is_one and x.cols.is_one:
        return Local(x, "jacobian", jac, down)
    return Local(x, "kron" if jac is not None else "kron_nodense", jac, down)


def _top(loss: Expr, node: bool) -> tuple[str, Expr]:
    """The loss's name and the seed of the reverse sweep."""
    top_name = loss.get("name") if loss.op.name == "named" else None
    if loss.is_scalar and not node:
        return top_name or "L", const(1)
    if top_name is None:
        raise DifferentiationError(
            f"explain: name the program's {shape_str(loss.shape)} result (e.g. 'Y = ...') so "
            f"that its upstream gradient ∂L/∂Y can be spoken of, or reduce it to a scalar loss")
    return "L", cotangent(top_name, *loss.shape)


def name_list(names: Any, what: str) -> list[str]:
    """A name or a list of names, as a list; InputError for anything else."""
    if isinstance(names, str):
        return [names]
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise InputError(f"explain: {what} must be a name or a list of names, got "
                         f"{names!r:.80}")
    return list(names)


def _check_steps(steps: int) -> None:
    """SizeLimitError, before any derivative is taken, for more steps than a post can show."""
    if steps > LIMITS.max_explain_steps:
        raise SizeLimitError(
            f"explain: the program has {steps} steps, more than the limit of "
            f"{LIMITS.max_explain_steps} a derivation is written for (its post would not be read "
            f"step by step); explain a part of it, use 'matcalc grad' for the gradients, or raise "
            f"the limit with matcalc.limits.configure(max_explain_steps=…)")


def derive(loss: Expr, wrt: Any = None, values: Mapping[str, Any] | None = None,
           node: bool = False, exclude: Sequence[str] = ()) -> Derivation:
    """The derivation of ``loss`` node by node (named intermediates are the nodes).

    A scalar result is the loss L. A non-scalar result Y is one node of a larger network, as in a
    textbook's single layer: its upstream gradient ∂L/∂Y is a given symbol. ``node=True`` treats
    a scalar result that way too. Without ``wrt``, the results are for every input but those
    named in ``exclude`` (left to the reader as an exercise).
    """
    if not isinstance(loss, Expr):
        raise InputError(f"explain expects a matcalc expression, got {type(loss).__name__}")
    if values is not None and not isinstance(values, Mapping):
        raise InputError(f"explain: values must be a mapping from input names to numbers or "
                         f"arrays, got {type(values).__name__}")
    exclude = name_list(exclude, "exercise")
    order = toposort([loss])
    named = [n for n in order if n.op.name == "named"]
    steps_nodes = named if loss.op.name == "named" else named + [loss]
    _check_steps(len(steps_nodes))
    inputs = [n for n in order if n.op.name == "symbol" and not n.get("tex")]
    if wrt is None:
        wrt_nodes = [n for n in inputs if n.get("name") not in exclude] or inputs
    else:
        wrt_nodes = resolve_wrt(order, wrt)
    loss_name, top_seed = _top(loss, node)
    wanted = set(wrt_nodes)
    needed: set[Expr] = set()
    for n in order:
        if n in wanted or any(a in needed for a in n.args):
            needed.add(n)
    # ∂L/∂Y for every step, and the final gradients, from one reverse sweep
    step_targets = [n for n in named if n in needed and n is not loss]
    targets = step_targets + list(wrt_nodes)
    all_grads = vjp(loss, targets, upstream=top_seed) if targets else []
    upstream = dict(zip(step_targets, all_grads[: len(step_targets)]))
    final = all_grads[len(step_targets):]
    uses: dict[Expr, int] = {}
    steps: list[Node] = []
    for s in steps_nodes:
        definition = s.args[0] if s.op.name == "named" else s
        name = s.get("name") if s.op.name == "named" else loss_name
        step = Node(name, s, definition, upstream.get(s))
        seed = top_seed if s is loss else cotangent(name, *s.shape, loss=loss_name)
        for x in _inputs_of(definition):
            if x in needed:
                uses[x] = uses.get(x, 0) + 1
                step.locals.append(_local(definition, x, seed))
        steps.append(step)
    d = Derivation(loss, loss_name, inputs, steps, list(wrt_nodes), list(final), uses,
                   seed=top_seed)
    if values is not None:
        if not loss.is_scalar or node:
            raise InputError("explain: worked values need a scalar loss")
        _attach_values(d, values)
    return d


def _attach_values(d: Derivation, values: Mapping[str, Any]) -> None:
    vals = dict(values)
    d.values = vals
    shown = d.inputs + [s.node for s in d.steps]
    for node, v in zip(shown, evaluate_many(shown, vals)):
        d.forward_values[node] = v
    targets = [s.node for s in d.steps if s.upstream is not None]
    exprs = [s.upstream for s in d.steps if s.upstream is not None] + d.gradients
    evaluated = evaluate_many(exprs, vals) if exprs else []
    for node, v in zip(targets + d.wrt, evaluated):
        d.gradient_values[node] = v
