"""Reverse-mode differentiation by rules: downstream gradient = upstream gradient × local gradient.

One generic sweep visits the DAG once in reverse topological order, asks each node's op record for
its VJP (one cotangent per argument), checks every cotangent's shape against its argument and
accumulates. It never names an op.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, overload

from .binding import declarations_of, declared_spec, remember_declarations
from .dims import shape_str
from .errors import DifferentiationError, InputError, InternalError
from .expr import Expr, toposort
from .ops import const, cotangent, eye, zeros
from .ops.structured import project, projector, structure_of

__all__ = ["Variable", "Variables", "backward", "grad", "hessian", "hvp", "jacobian",
           "resolve_wrt", "vjp"]

Variable = str | Expr  # a variable to differentiate by: its name, or its node
Variables = list[str] | list[Expr] | list[Variable] | tuple[Variable, ...]  # several: a list back


def _variables(nodes: list[Expr]) -> tuple[dict[str, Expr], dict[str, Expr]]:
    """Symbols and named intermediates by name, and the names that stand for two nodes."""
    out: dict[str, Expr] = {}
    clashes: dict[str, Expr] = {}
    for node in nodes:
        if node.op.name in ("symbol", "named"):
            name = node.get("name")
            if out.setdefault(name, node) is not node:
                clashes[name] = node
    return out, clashes


def resolve_wrt(nodes: list[Expr], wrt: Variable | Variables) -> list[Expr]:
    """Turn names and symbols into the DAG nodes to differentiate by."""
    items = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    if not items:
        raise InputError("wrt: give at least one variable")
    variables: tuple[dict[str, Expr], dict[str, Expr]] | None = None  # built on first use
    out = []
    for item in items:
        if isinstance(item, Expr):
            if item.op.name not in ("symbol", "named"):
                raise InputError(f"wrt: differentiate by a symbol or a named intermediate, "
                                 f"not by the expression {item}")
            if variables is None:
                variables = _variables(nodes)
            same_name = variables[0].get(item.get("name"))
            if same_name is not None and same_name is not item:
                raise DifferentiationError(
                    f"wrt: the expression's {item.get('name')} is {shape_str(same_name.shape)}"
                    f"{'' if same_name.op is item.op else ' (' + same_name.op.name + ')'}, not "
                    f"the {shape_str(item.shape)} {item.op.name} given; differentiate by the "
                    f"expression's own node or by its name")
            out.append(item)
        elif isinstance(item, str):
            if variables is None:
                variables = _variables(nodes)
            table, clashes = variables
            if item in clashes:
                raise DifferentiationError(
                    f"the name {item!r} stands for two different things in this expression "
                    f"({table[item]!r} and {clashes[item]!r}); differentiate by the node itself")
            if item not in table:
                import difflib

                known = sorted(table)
                near = difflib.get_close_matches(item, known, n=1) or \
                    [k for k in known if k.lower() == item.lower()][:1]
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise DifferentiationError(
                    f"the expression has no variable named {item!r}{hint}; its variables are "
                    f"{', '.join(known) or 'none'}")
            out.append(table[item])
        else:
            raise InputError(f"wrt: expected a name or a symbol, got {type(item).__name__}")
    return out


def backward(root: Expr, seed: Expr, targets: Sequence[Expr]) -> list[Expr | None]:
    """Cotangents of ``targets`` given the cotangent ``seed`` of ``root`` (None where zero)."""
    if seed.shape != root.shape:
        raise DifferentiationError(
            f"the upstream gradient must have the output's shape {shape_str(root.shape)}, "
            f"got {shape_str(seed.shape)}")
    order = toposort([root])
    wanted = {id(t) for t in targets}
    # Only nodes on a path to a target need a cotangent.
    needed: set[int] = set()
    for node in order:
        if id(node) in wanted or any(id(a) in needed for a in node.args):
            needed.add(id(node))
    grads: dict[int, Expr] = {id(root): seed}
    for node in reversed(order):
        g = grads.get(id(node))
        if g is None or not node.args or node.op.vjp is None:
            continue
        if not any(id(a) in needed for a in node.args):
            continue
        cots = node.op.vjp(g, node)
        for arg, cot in zip(node.args, cots):
            if cot is None or id(arg) not in needed:
                continue
            if cot.shape != arg.shape:
                raise InternalError(  # a wrong rule must never pass silently
                    f"the VJP of {node.op.name} gave a {shape_str(cot.shape)} "
                    f"cotangent for an argument of shape {shape_str(arg.shape)}")
            prev = grads.get(id(arg))
            grads[id(arg)] = cot if prev is None else prev + cot
    # a structured variable's gradient lives in its structure's subspace (ops/structured.py)
    out = [grads.get(id(t)) for t in targets]
    return [g if g is None else project(structure_of(t), g) for t, g in zip(targets, out)]


def _finish_all(targets: Sequence[Expr], gs: Sequence[Expr | None], simplify: bool,
                context: Expr | None = None) -> list[Expr]:
    """Zeros for independent variables; all results simplified together (shared work once), in
    their readable form, written with the named intermediates of ``context``."""
    out = [zeros(t.rows, t.cols) if g is None else g for t, g in zip(targets, gs)]
    if simplify:
        from .simplify import simplify_many

        out = simplify_many(out, context=[context] if context is not None else None)
    if context is not None:
        out = restricted(out, context)
        _remember_program(out, context)
    return out


def restricted(results: Sequence[Expr], source: Expr) -> list[Expr]:
    """Derivatives of source kept to where source is defined: when source holds an op whose
    value is NaN outside its domain (its record's ``extra["nan_outside_domain"]``: logdet), each
    result is NaN wherever one of those values is, though its formula (A⁻ᵀ) may exist there."""
    from .ops import restrict

    guards = [n for n in toposort([source]) if n.op.extra.get("nan_outside_domain")]
    if not guards:
        return list(results)
    guard = guards[0]
    for extra in guards[1:]:
        guard = guard + extra  # NaN where any of them is
    return [r if r.op.name == "zeros" or (r.op is restrict(r, guard).op and r.args[1] is guard)
            else restrict(r, guard) for r in results]


_TABLES: weakref.WeakKeyDictionary[Expr, dict[str, Any]] = weakref.WeakKeyDictionary()


def _remember_program(results: Sequence[Expr], program: Expr) -> None:
    """Each result binds its dimensions from values of the inputs the program declared, too (a
    gradient that no longer reads X still takes its sizes from X; see matcalc.binding)."""
    declared = _TABLES.get(program)
    if declared is None:  # one table per program, shared by all its results, never changed
        declared = {name: spec for name, spec in declarations_of(program).items()
                    if spec is not None}
        for node in toposort([program]):
            if node.op.name == "symbol":
                declared[node.get("name")] = (declared_spec(node.rows), declared_spec(node.cols))
        _TABLES[program] = declared
    for r in results:
        remember_declarations(r, declared)


@overload
def grad(L: Expr, wrt: Variable, simplify: bool = True) -> Expr: ...
@overload
def grad(L: Expr, wrt: Variables, simplify: bool = True) -> list[Expr]: ...


def grad(L: Expr, wrt: Variable | Variables, simplify: bool = True) -> Expr | list[Expr]:
    """∂L/∂x for a 1×1 L, with x's shape; a list of variables gives a list from one sweep."""
    if not isinstance(L, Expr):
        raise InputError(f"grad expects a matcalc expression, got {type(L).__name__}")
    if not L.is_scalar:
        raise DifferentiationError(
            f"grad needs a scalar (1×1) expression, but {L!r} is {shape_str(L.shape)}; "
            f"use vjp(Y, wrt) for the downstream gradient of a matrix output, or jacobian(y, x)")
    targets = resolve_wrt(toposort([L]), wrt)
    gs = backward(L, const(1), targets)
    out = _finish_all(targets, gs, simplify, L)
    if not isinstance(wrt, (list, tuple)):
        return out[0]
    from .printing import GradientList

    loss = L.get("name") if L.op.name == "named" else "L"
    return GradientList(out, [t.get("name") for t in targets], loss)


@overload
def vjp(Y: Expr, wrt: Variable, upstream: Expr | None = None, simplify: bool = True) -> Expr: ...
@overload
def vjp(Y: Expr, wrt: Variables, upstream: Expr | None = None,
        simplify: bool = True) -> list[Expr]: ...


def vjp(Y: Expr, wrt: Variable | Variables, upstream: Expr | None = None,
        simplify: bool = True) -> Expr | list[Expr]:
    """The downstream gradient of ``wrt`` given the upstream gradient ∂L/∂Y (default: a symbol)."""
    if not isinstance(Y, Expr):
        raise InputError(f"vjp expects a matcalc expression, got {type(Y).__name__}")
    if upstream is None:
        upstream = cotangent(Y.get("name") if Y.op.name == "named" else "Y", Y.rows, Y.cols)
    elif not isinstance(upstream, Expr):
        raise InputError(f"vjp: upstream must be a matcalc expression of the output's shape "
                         f"{shape_str(Y.shape)}, got {type(upstream).__name__}")
    targets = resolve_wrt(toposort([Y]), wrt)
    gs = backward(Y, upstream, targets)
    out = _finish_all(targets, gs, simplify, Y)
    if not isinstance(wrt, (list, tuple)):
        return out[0]
    from .printing import GradientList

    return GradientList(out, [t.get("name") for t in targets], "L")


def hvp(L: Expr, x: Variable, v: Expr, simplify: bool = True) -> Expr:
    """The Hessian-vector product ∇²L · v, as the gradient of ⟨∇L, v⟩ (reverse over reverse)."""
    from .ops import sum as sum_

    g = grad(L, x, simplify=simplify)
    if not isinstance(v, Expr):
        raise InputError(f"hvp: v must be a matcalc expression of the variable's shape "
                         f"{shape_str(g.shape)}, got {type(v).__name__} (wrap an array's shape "
                         f"as a symbol, e.g. mc.Matrix('V', ...), and give its value to evaluate)")
    if v.shape != g.shape:
        raise DifferentiationError(f"hvp: v must have the variable's shape {shape_str(g.shape)}, "
                                   f"got {shape_str(v.shape)}")
    target = resolve_wrt(toposort([L]), x)[0]
    (h,) = backward(sum_(g * v), const(1), [target])
    return _finish_all([target], [h], simplify, L)[0]


def jacobian(y: Expr, x: Variable, simplify: bool = True) -> Expr:
    """∂vec(y)/∂vec(x) in numerator layout: m×n for columns y (m×1), x (n×1), Kronecker form else.

    A forward sweep in topological order asks each op record for its Jacobian rule.
    """
    if not isinstance(y, Expr):
        raise InputError(f"jacobian expects a matcalc expression, got {type(y).__name__}")
    nodes = toposort([y])
    target = resolve_wrt(nodes, x)[0]
    n = target.rows * target.cols
    structure = structure_of(target)  # perturbations within the structure only
    jac: dict[Expr, Expr] = {target: eye(n) if structure is None else
                             projector(structure, target.rows)}
    for node in nodes:
        if node is target or not node.args:
            continue
        ds = [jac.get(a) for a in node.args]
        if all(d is None for d in ds):
            continue
        if node.op.jac is None:
            raise DifferentiationError(
                f"jacobian: {node.op.name} has no Kronecker-form Jacobian rule; "
                f"use vjp(y, x) for the downstream gradient instead")
        j = node.op.jac(node, ds)
        if j is None:
            continue
        want = (node.rows * node.cols, n)
        if j.shape != want:
            raise InternalError(
                f"the Jacobian rule of {node.op.name} gave {shape_str(j.shape)}, "
                f"expected {shape_str(want)}")
        jac[node] = j
    out = jac.get(y) if y is not target else jac[target]
    if out is None:
        out = zeros(y.rows * y.cols, n)
    elif simplify:
        from .simplify import simplify as simp

        out = simp(out, context=[y])
    (out,) = restricted([out], y)
    _remember_program([out], y)
    return out


def hessian(L: Expr, x: Variable, simplify: bool = True) -> Expr:
    """∂²L/∂x∂xᵀ for a 1×1 L and a column x (n×n): the Jacobian of the gradient."""
    g = grad(L, x, simplify=simplify)
    if not g.cols.is_one:
        raise DifferentiationError(
            f"hessian needs a column-vector variable, got {shape_str(g.shape)}; for a matrix X "
            f"take jacobian(vec(grad(L, X)), X) or use hvp")
    target = resolve_wrt(toposort([L]), x)[0]
    if target not in toposort([g]):
        out = zeros(g.rows, g.rows)
        _remember_program([out], L)
        return out
    return jacobian(g, target, simplify=simplify)
