"""The fast form: the same values in the fewest floating-point operations for the actual sizes.

Matrix products are associative, so a chain A₁A₂⋯Aₖ can be computed in any parenthesisation; the
classic dynamic programme over the chain's dimensions picks the cheapest (xᵀAᵀABx is five
matrix-vector products, not an n³ product AᵀA). A factor that is a sum can be distributed over its
neighbours when that is cheaper — (AᵀAB + BᵀAᵀA)x becomes AᵀA(Bx) + BᵀAᵀ(Ax), two chains of
matrix-vector products — and is kept whole otherwise. Everything else is left as it is.

The cost of a product of an m×k by a k×n matrix is 2mkn; of an elementwise operation, one
operation per entry. Chains longer than ``EXACT`` factors are ordered greedily (from the end
where the chain is thinnest), so that the cost of choosing stays linear in the size of the graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..dims import Dim
from ..expr import Expr, toposort

__all__ = ["EXACT", "fast_form", "signed_sum"]

EXACT = 32  # chains up to this many factors are ordered by the exact dynamic programme
DISTRIBUTE = 2  # how many sum factors of one chain may be distributed


class _Fast:
    def __init__(self, dims: Mapping[str, int],
                 products: dict[tuple[Expr, ...], Expr] | None = None):
        self.dims = dict(dims)
        self.memo: dict[Expr, Expr] = {}
        self.cost: dict[Expr, int] = {}
        # products of factor runs that are computed anyway: reused, not recomputed (and a run's
        # transpose is free: Xᵀ is a view)
        self.products = products or {}

    def size(self, d: Dim) -> int:
        return d.value(self.dims)

    def entries(self, e: Expr) -> int:
        return self.size(e.rows) * self.size(e.cols)

    def own_cost(self, e: Expr) -> int:
        """The cost of computing e from its arguments (a product's 2mkn, else one per entry)."""
        if e.op.name == "matmul":
            a, b = e.args
            return 2 * self.size(a.rows) * self.size(a.cols) * self.size(b.cols)
        if e.op.name in ("transpose", "named"):
            return 0  # a view, an alias
        return self.entries(e) if e.args else 0

    def total(self, e: Expr, common: frozenset[Expr] | set[Expr] = frozenset()) -> int:
        """The cost of e's nodes that are not computed already (each distinct node once; the
        walk stops at computed nodes, so it costs what is new, not the whole graph below), nor
        in ``common``: the factors every candidate of one chain multiplies (what lies below them
        costs the same whichever candidate is chosen, and walking it again for every chain of a
        deep graph would cost its depth squared)."""
        seen: set[Expr] = set()
        out = 0
        stack = [e]
        while stack:
            node = stack.pop()
            if node in seen or node in self.cost or node in common:
                continue
            seen.add(node)
            out += self.own_cost(node)
            stack += node.args
        return out

    def run(self, roots: list[Expr]) -> list[Expr]:
        order = toposort(roots)
        users: dict[Expr, int] = {}
        product_parent: set[Expr] = set()
        for node in order:
            for a in node.args:
                users[a] = users.get(a, 0) + 1
                if node.op.name == "matmul":
                    product_parent.add(a)
        top = set(roots)
        for node in order:
            if (node.op.name == "matmul" and node not in top and node in product_parent
                    and users.get(node, 0) == 1):
                continue  # inside a chain: its chain's root orders it
            args = tuple(self.memo.get(a, a) for a in node.args)
            rebuilt = node if all(x is y for x, y in zip(args, node.args)) else \
                Expr.make(node.op, args, **dict(node.params))
            if rebuilt.op.name == "matmul":
                rebuilt = self.chain(_factors(node, self.memo), DISTRIBUTE)
            self.memo[node] = rebuilt
            if users.get(node, 0) > 1 or node in top:  # computed anyway: free to reuse
                self.cost[rebuilt] = 1
        return [self.memo[r] for r in roots]

    # --- chains ----------------------------------------------------------------------------------

    def chain(self, factors: list[Expr], distribute: int) -> Expr:
        """The cheapest product of the factors, distributing a sum factor where that helps."""
        best = self.order(factors)
        if distribute <= 0 or len(factors) < 2:
            return best
        common = _common_factors(factors)
        best_cost = self.total(best, common)
        for i, f in enumerate(factors):
            terms = _terms(f)
            if len(terms) < 2:
                continue
            parts = []
            for sign, t in terms:
                inner = factors[:i] + _factors(t, {}) + factors[i + 1:]
                parts.append((sign, self.chain(inner, distribute - 1)))
            candidate = signed_sum(parts)
            if candidate.shape != best.shape:
                continue
            c = self.total(candidate, common)
            if c < best_cost:
                best, best_cost = candidate, c
        return best

    def order(self, factors: list[Expr]) -> Expr:
        if len(factors) == 1:
            return factors[0]
        if len(factors) > EXACT:
            return self.greedy(factors)
        return self.programme(factors)

    def known(self, run: list[Expr]) -> Expr | None:
        """The product of a run of factors if an earlier chain built it (or its transpose)."""
        found = self.products.get(tuple(run))
        if found is not None:
            return found
        flipped = self.products.get(tuple(_transposed(f) for f in reversed(run)))
        return None if flipped is None else flipped.T

    def programme(self, factors: list[Expr]) -> Expr:
        """The classic O(k³) matrix-chain order over the factors' actual sizes; a run of factors
        an earlier chain has built costs nothing."""
        k = len(factors)
        dims = [self.size(factors[0].rows)] + [self.size(f.cols) for f in factors]
        cost = [[0] * k for _ in range(k)]
        split = [[0] * k for _ in range(k)]
        reuse: dict[tuple[int, int], Expr] = {}
        for length in range(2, k + 1):
            for i in range(k - length + 1):
                j = i + length - 1
                done = self.known(factors[i:j + 1])
                if done is not None:
                    reuse[(i, j)] = done
                    continue
                cost[i][j] = -1
                for s in range(i, j):
                    c = cost[i][s] + cost[s + 1][j] + 2 * dims[i] * dims[s + 1] * dims[j + 1]
                    if cost[i][j] < 0 or c < cost[i][j]:
                        cost[i][j], split[i][j] = c, s
        built: dict[tuple[int, int], Expr] = {}
        stack = [(0, k - 1, False)]
        while stack:  # build bottom-up without recursion
            i, j, ready = stack.pop()
            if i == j or (i, j) in reuse:
                built[(i, j)] = factors[i] if i == j else reuse[(i, j)]
                continue
            s = split[i][j]
            if not ready:
                stack += [(i, j, True), (i, s, False), (s + 1, j, False)]
                continue
            built[(i, j)] = built[(i, s)] @ built[(s + 1, j)]
        return built[(0, k - 1)]

    def greedy(self, factors: list[Expr]) -> Expr:
        """A long chain: from the thinner end (a vector at the right goes right to left)."""
        right = self.size(factors[-1].cols) < self.size(factors[0].rows)
        if right:
            out = factors[-1]
            for f in reversed(factors[:-1]):
                out = f @ out
            return out
        out = factors[0]
        for f in factors[1:]:
            out = out @ f
        return out


def _transposed(f: Expr) -> Expr:
    """fᵀ, written without a double transpose."""
    return f.args[0] if f.op.name == "transpose" else f.T


def _common_factors(factors: list[Expr]) -> set[Expr]:
    """What every candidate of a chain multiplies: its factors that are not sums, and the
    factors of the terms of those that are (a distributed sum is no longer computed)."""
    out: set[Expr] = set()
    for f in factors:
        terms = _terms(f)
        if len(terms) < 2:
            out.add(f)
            continue
        for _, t in terms:
            out.update(_factors(t, {}))
    return out


def _factors(node: Expr, memo: Mapping[Expr, Expr]) -> list[Expr]:
    """The factors of a tree of matrix products, in order, each in its fast form (iterative)."""
    out: list[Expr] = []
    stack = [node]
    while stack:
        e = stack.pop()
        if e.op.name == "matmul":
            stack += [e.args[1], e.args[0]]
        else:
            out.append(memo.get(e, e))
    return out


def _terms(node: Expr) -> list[tuple[int, Expr]]:
    """A sum of same-shaped matrices as signed terms (none for anything else)."""
    if node.op.name not in ("add", "sub"):
        return []
    out: list[tuple[int, Expr]] = []
    stack: list[tuple[int, Expr]] = [(1, node)]
    while stack:
        sign, e = stack.pop()
        if e.shape == node.shape and e.op.name in ("add", "sub"):
            stack.append((-sign if e.op.name == "sub" else sign, e.args[1]))
            stack.append((sign, e.args[0]))
        elif e.shape == node.shape and e.op.name == "neg":
            stack.append((-sign, e.args[0]))
        else:
            if e.shape != node.shape:
                return []  # a broadcast term: distributing would change its meaning
            out.append((sign, e))
    return out


def signed_sum(parts: Iterable[tuple[int, Expr]]) -> Expr:
    """±t₁ ± t₂ ± …, left to right, in the order given."""
    out: Expr | None = None
    for sign, e in parts:
        if out is None:
            out = e if sign > 0 else -e
        else:
            out = out + e if sign > 0 else out - e
    assert out is not None
    return out


def fast_form(roots: list[Expr], dims: Mapping[str, int]) -> list[Expr]:
    """The roots with every matrix chain in its cheapest order for the given sizes (unchanged
    when some dimension has no size: the order is then the written one)."""
    try:
        first = _Fast(dims).run(list(roots))
        # again, now that the products the first pass computes are known: a later chain reuses
        # them (or their transposes) instead of computing them again in another order
        return _Fast(dims, _products(first)).run(list(roots))
    except KeyError:  # a dimension without a size
        return list(roots)


def _products(roots: list[Expr]) -> dict[tuple[Expr, ...], Expr]:
    """Every matrix product a graph computes, by its run of factors (runs of up to EXACT factors:
    only the dynamic programme looks runs up)."""
    out: dict[tuple[Expr, ...], Expr] = {}
    for node in toposort(roots):
        if node.op.name == "matmul":
            run = _short_run(node, EXACT)
            if run is not None:
                out[run] = node
    return out


def _short_run(node: Expr, limit: int) -> tuple[Expr, ...] | None:
    """The factors of a product tree, or None when there are more than ``limit``."""
    out: list[Expr] = []
    stack = [node]
    products = 0
    while stack:
        e = stack.pop()
        if e.op.name == "matmul":
            products += 1
            if products >= limit:
                return None
            stack += [e.args[1], e.args[0]]
        else:
            out.append(e)
    return tuple(out)
