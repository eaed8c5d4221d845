"""Simplification as named rewrite rules, so derived results read like the Matrix Cookbook.

Each rule is one small function named by its effect, registered under the head op it looks at. The
engine rebuilds the DAG bottom-up (iteratively, each node once), tries the rules of each node's head
op until none fires (a step limit guarantees termination), and can report every firing: rule,
before and after. Rules preserve value and shape; the engine checks the shape of every rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, overload

from .dims import shape_str
from .errors import InputError, InternalError
from .expr import Expr, toposort
from .rules import RULES, rule_names
from .rules.base import _is_sum, _left_chain, _signed_sum, _terms

__all__ = ["GOALS", "Simplified", "Step", "rule_names", "simplify", "simplify_many"]


@dataclass(frozen=True)
class Step:
    rule: str
    before: Expr
    after: Expr

    def __str__(self) -> str:
        return f"{self.rule}: {self.before}  →  {self.after}"


@dataclass
class Simplified:
    """A simplification with its trace: which rules fired, before and after."""

    expr: Expr
    steps: list[Step]

    def __str__(self) -> str:
        lines = [str(s) for s in self.steps] or ["(no rule fired)"]
        return "\n".join(lines + [f"result: {self.expr}"])


# The engine's work items: a node to visit or rebuild, an alias, a whole sum with its terms.
_WorkItem = (tuple[Literal["visit", "build"], Expr] | tuple[Literal["alias"], Expr, Expr]
             | tuple[Literal["sum"], Expr, list[tuple[int, Expr]]])


class _Engine:
    """Rewrites a DAG bottom-up from an explicit worklist (no recursion, whatever the depth).

    Work items: ("visit", node) schedules a node's arguments, then its rebuild; ("build", node)
    rebuilds it from its simplified arguments and fires the first applicable rule at its head;
    ("alias", node, out) records that node simplifies to whatever ``out`` simplifies to. A flat
    chain (a sum of many terms, a right-nested product) is taken whole when first visited, so a
    chain of n links costs O(n), not O(n²).
    """

    def __init__(self, trace: bool, max_steps: int) -> None:
        self.memo: dict[Expr, Expr] = {}
        self.steps: list[Step] = []
        self.trace = trace
        self.budget = max_steps

    def run(self, root: Expr) -> Expr:
        memo = self.memo
        work: list[_WorkItem] = [("visit", root)]
        while work:
            item = work.pop()
            kind, node = item[0], item[1]
            if item[0] == "alias":
                result = memo[item[2]]
                memo[node] = result
                memo[result] = result
                continue
            if node in memo:
                continue
            if kind == "visit":
                if _is_sum(node):  # a whole sum at once: its terms, then the rules at its root
                    terms = _terms(node)
                    work.append(("sum", node, terms))
                    work += [("visit", t) for _, t in reversed(terms) if t not in memo]
                    continue
                flat = _left_chain(node)
                if flat is not node:
                    work += [("alias", node, flat), ("visit", flat)]
                    continue
                work.append(("build", node))
                work += [("visit", a) for a in reversed(node.args) if a not in memo]
                continue
            if item[0] == "sum":
                rebuilt = _signed_sum([(sign, memo[t]) for sign, t in item[2]], node)
            else:
                args = tuple(memo[a] for a in node.args)
                rebuilt = node if all(x is y for x, y in zip(args, node.args)) else \
                    Expr.make(node.op, args, **dict(node.params))
            if rebuilt in memo:
                memo[node] = memo[rebuilt]
                continue
            out = self.fire(rebuilt)
            if out is None:
                memo[node] = memo[rebuilt] = rebuilt
                continue
            memo[rebuilt] = rebuilt  # in progress: a rewrite cycle back to it stops here
            work += [("alias", node, out), ("alias", rebuilt, out), ("visit", out)]
        return memo[root]

    def fire(self, node: Expr) -> Expr | None:
        """The first applicable rule's rewrite of node (None when none applies or the step
        budget is spent)."""
        for fn in RULES.get(node.op.name, ()):
            out = fn(node)
            if out is None or out is node:
                continue
            if out.shape != node.shape:
                raise InternalError(f"rule {fn.__name__} changed a shape from "
                                    f"{shape_str(node.shape)} to {shape_str(out.shape)}")
            if self.budget <= 0:
                return None
            self.budget -= 1
            if self.trace:
                self.steps.append(Step(fn.__name__, node, out))
            return out
        return None


GOALS = ("readable", "fast")


def _run(engine: _Engine, exprs: list[Expr], goal: str, context: list[Expr] | None) -> list[Expr]:
    """The rules, then for the readable goal names and normal forms, to a fixed point."""
    roots = [engine.run(e) for e in exprs]
    if goal != "readable":
        return roots
    from .algebra.readable import definitions, normalize, substitute_names

    def report(rule: str, before: Expr, after: Expr) -> None:
        if engine.trace:
            engine.steps.append(Step(rule, before, after))

    defs = definitions(list(context or []) + list(exprs))
    program = frozenset(toposort(list(context or [])))  # the forward values, as written
    done: dict[Expr, Expr] = {}
    for _ in range(4):
        named = substitute_names(roots, defs, report)
        again = [engine.run(e) for e in normalize(named, defs, engine.run, report, done, program)]
        if all(a is b for a, b in zip(again, roots)):
            break
        roots = again
    return roots


@overload
def simplify(expr: Expr, trace: Literal[False] = False, max_steps: int = ...,
             goal: str = ..., context: list[Expr] | None = ...) -> Expr: ...
@overload
def simplify(expr: Expr, trace: Literal[True], max_steps: int = ...,
             goal: str = ..., context: list[Expr] | None = ...) -> Simplified: ...
@overload
def simplify(expr: Expr, trace: bool, max_steps: int = ...,
             goal: str = ..., context: list[Expr] | None = ...) -> Expr | Simplified: ...


def simplify(expr: Expr, trace: bool = False, max_steps: int = 1_000_000, goal: str = "readable",
             context: list[Expr] | None = None) -> Expr | Simplified:
    """Simplify to the form the goal asks for, with the trace of rules that fired if asked.

    goal="readable" (the default, and what grad, jacobian and hessian return): the shortest text,
    written with the named intermediates of ``context`` (and of expr); goal="fast": the rules only
    (compile orders products for the actual sizes on top of it).
    """
    if not isinstance(expr, Expr):
        raise InputError(f"simplify expects a matcalc expression, got {type(expr).__name__}")
    if goal not in GOALS:
        raise InputError(f"simplify: goal must be one of {', '.join(GOALS)}, got {goal!r}")
    engine = _Engine(trace, max_steps)
    (out,) = _run(engine, [expr], goal, context)
    return Simplified(out, engine.steps) if trace else out


def simplify_many(exprs: list[Expr], goal: str = "readable", context: list[Expr] | None = None
                  ) -> list[Expr]:
    """Simplify several expressions sharing one memo, so shared subgraphs are simplified once."""
    return _run(_Engine(False, 1_000_000), list(exprs), goal, context)
