"""The readable form: what a textbook prints, in terms of the user's named intermediates.

Three steps, repeated until nothing changes (at most a few rounds):

1. *Names*: a subexpression that is the definition of a named intermediate of the program (or a
   forward value the derivation reuses) is written by its name: σ(Wx) becomes s when the program
   says ``s = sigmoid(W @ x)``, so σ′ reads s ⊙ (1 − s).
2. *Rules*: the named rewrite rules of :mod:`matcalc.simplify` (canonical products, transposes,
   identities), run by the caller.
3. *Algebra*: every maximal elementwise-arithmetic subexpression is brought to its polynomial
   normal form over atoms (:mod:`matcalc.algebra.poly`) and written in its shortest spelling.
   Reductions are linear, so a sum or mean of a polynomial splits over its terms, each term's
   factors that are constant along the axis come out, and what is left is a mean (the count,
   for a sum, is a coefficient): Σ(Y ⊙ P / P) is ΣY, mean(G ⊙ γ ⊙ X̂ / s) is γ / s ⊙ mean(G ⊙ X̂).
   Two facts about named intermediates are used: a centred one (D = X − mean(X)) has mean zero
   along its axis, and a monomial that contains a named monomial (D / s, when X̂ = D / s) is
   written with the name (X̂).

Every step preserves values. The spelling chosen for a node is remembered by its pattern (its
arithmetic with the atoms abstracted to their op, shape and printed length): the layers of a deep
network repeat one pattern, and each later layer takes the choice without measuring again.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from fractions import Fraction

from ..dims import Dim
from ..expr import Expr, toposort
from ..ops import mean, ones, size
from ..ops import sum as sum_
from ..render import render, short

ATOM_LENGTH = 24  # an atom longer than this counts as this long when forms are compared
_ATOM_LENGTHS: weakref.WeakKeyDictionary[Expr, int] = weakref.WeakKeyDictionary()
from .poly import (
    ARITH,
    MAX_TERMS,
    ONE_F,
    Atoms,
    Mono,
    Poly,
    Q,
    Reader,
    broadcast_of,
    candidates,
    mono_mul,
    qabs,
    qdiv,
    write_monomial,
)

__all__ = ["definitions", "normalize", "substitute_names"]

Report = Callable[[str, Expr, Expr], None]
Polish = Callable[[Expr], Expr]
REDUCTIONS = ("sum", "mean")


def _text_template(n: Expr) -> list[object]:
    assert n.op.text is not None  # every record has one once declared
    return n.op.text(n)


def _text_prec(n: Expr) -> int:
    return n.op.precedence(n)


def _quiet(rule: str, before: Expr, after: Expr) -> None:
    return None


def definitions(context: Iterable[Expr]) -> dict[Expr, Expr]:
    """{definition: named node} for every named intermediate reachable from the context."""
    out: dict[Expr, Expr] = {}
    for node in toposort(list(context)):
        if node.op.name == "named" and node.args[0].args:  # a renamed leaf is not a definition
            out.setdefault(node.args[0], node)
    return out


def substitute_names(roots: list[Expr], defs: dict[Expr, Expr], report: Report = _quiet
                     ) -> list[Expr]:
    """Every occurrence of a named intermediate's definition written by its name."""
    if not defs:
        return roots
    raw: dict[Expr, Expr] = {}
    memo: dict[Expr, Expr] = {}
    for node in toposort(roots):
        own = node.op.name == "named"  # a name's own definition stays its definition
        args = tuple((raw if own else memo)[a] for a in node.args)
        rebuilt = node if all(x is y for x, y in zip(args, node.args)) else \
            Expr.make(node.op, args, **dict(node.params))
        raw[node] = rebuilt
        named = None if own else defs.get(rebuilt)
        if named is not None:
            report("reuse_named_intermediate", rebuilt, named)
        memo[node] = named if named is not None else rebuilt
    return [memo[r] for r in roots]


def _count(shape: tuple[Dim, Dim], axis: int | None) -> Dim:
    rows, cols = shape
    return rows * cols if axis is None else (rows if axis == 0 else cols)


def _constant_along(node: Expr, axis: int | None) -> bool:
    if axis is None:
        return node.is_scalar
    return node.rows.is_one if axis == 0 else node.cols.is_one


def _stretch(e: Expr, shape: tuple[Dim, Dim], axis: int | None) -> Expr:
    """e broadcast to the reduced axes of shape, if it is narrower there."""
    rows, cols = shape
    need_rows = axis in (None, 0) and e.rows.is_one and not rows.is_one
    need_cols = axis in (None, 1) and e.cols.is_one and not cols.is_one
    if not (need_rows or need_cols):
        return e
    return e * ones(rows if need_rows else e.rows, cols if need_cols else e.cols)


def _atom_length(node: Expr) -> int:
    """The printed length of an atom, capped at ATOM_LENGTH (measured once per node)."""
    size = _ATOM_LENGTHS.get(node)
    if size is None:
        size = _ATOM_LENGTHS[node] = len(short(node, ATOM_LENGTH))
    return size


def _inner_product(node: Expr) -> tuple[Expr, Expr] | None:
    """(a, b) when node is aᵀb of two columns, which the algebra reads as Σ a ⊙ b."""
    if node.op.name != "matmul" or not node.is_scalar:
        return None
    a, b = node.args
    if a.op.name == "transpose" and a.args[0].cols.is_one and a.args[0].shape == b.shape:
        return a.args[0], b
    return None


def _broadcast_shape(m: Mono, atoms: Atoms) -> tuple[Dim, Dim]:
    rows, cols = Dim(1), Dim(1)
    for i, _ in m:
        r, c = atoms.nodes[i].shape
        rows = r if not r.is_one else rows
        cols = c if not c.is_one else cols
    return (rows, cols)


class Algebra:
    """Normal forms over one set of atoms, aware of the program's named intermediates."""

    def __init__(self, defs: dict[Expr, Expr], polish: Polish, report: Report):
        self.atoms = Atoms()
        self.defs, self.polish, self.report = defs, polish, report
        self.reader = Reader(self.atoms, self.atom)
        self.inside = Reader(self.atoms, self.atom, keep_spread=True)  # reads what is reduced
        self._centred: dict[tuple[Expr, int | None], bool] = {}
        self._named_monos: list[tuple[Mono, Q, int]] | None = None
        self.solved: dict[Expr, Poly] = {}  # atoms read as something else (x as u ‖x‖)
        # which option best chose, by the pattern of the node (see pattern): layers repeat
        self.choices: dict[tuple[object, ...], int] = {}
        self._patterned: bool | None = None

    # --- reading ---------------------------------------------------------------------------------

    def named(self, node: Expr) -> Expr:
        return self.defs.get(node, node)

    def atom(self, node: Expr) -> Poly:
        """The poly of a non-arithmetic node: a sum is its count times a mean."""
        if node in self.solved:
            return self.solved[node]
        node = self.named(node)
        pair = _inner_product(node)
        if pair is not None:  # aᵀb is Σ a ⊙ b: algebra sees inside
            node = sum_(pair[0] * pair[1], axis=0)
        if node.op.name in REDUCTIONS:
            axis = node.get("axis")
            arg = node.args[0]
            p = self.reduce(self.inside.read(arg), arg.shape, axis)
            if node.op.name == "sum":
                n = _count(arg.shape, axis)
                if n.is_int:
                    p = p.scale(n.coef)
                else:
                    p = p * Poly.atom(self.atoms.of(size(n)))
            return p
        return Poly.atom(self.atoms.of(node))

    def reduce(self, p: Poly, shape: tuple[Dim, Dim], axis: int | None) -> Poly:
        """mean(p, axis): each term's factors constant along the axis outside a mean of the rest."""
        out = Poly()
        for m, c in p.terms.items():
            outside = tuple((i, e) for i, e in m if _constant_along(self.atoms.nodes[i], axis))
            rest = tuple((i, e) for i, e in m if not _constant_along(self.atoms.nodes[i], axis))
            if not rest:  # constant along the axis: its own mean
                out = out + Poly({outside: c})
                continue
            if len(rest) == 1 and rest[0][1] == 1 and self.centred(self.atoms.nodes[rest[0][0]],
                                                                   axis):
                continue  # the mean of a centred quantity is zero
            body, _ = write_monomial(ONE_F, rest, self.atoms)
            assert body is not None
            reduced = self.named(mean(_stretch(body, shape, axis), axis=axis))
            out = out + Poly({mono_mul(outside, ((self.atoms.of(reduced), ONE_F),)): c})
        return out

    def centred(self, node: Expr, axis: int | None) -> bool:
        """Whether a named intermediate's definition has mean zero along the axis."""
        if node.op.name != "named" or node.args[0].op.name not in ARITH:
            return False
        key = (node, axis)
        if key not in self._centred:
            self._centred[key] = False  # while it is being decided (a name inside its own mean)
            d = node.args[0]
            self._centred[key] = len(self.reduce(self.reader.read(d), d.shape, axis)) == 0
        return self._centred[key]

    # --- writing ---------------------------------------------------------------------------------

    def named_monomials(self) -> list[tuple[Mono, Q, int]]:
        """(monomial, coefficient, atom of the name) for each named intermediate whose
        definition is one monomial of at least two atoms (X̂ = D / s)."""
        if self._named_monos is None:
            self._named_monos = []
            for d, named in self.defs.items():
                if d.op.name not in ARITH or d.op.name == "const":
                    continue
                p = Reader(self.atoms, lambda n: Poly.atom(self.atoms.of(n))).read(d)
                mono = p.monomial()
                if mono is not None and len(mono[1]) >= 2:
                    self._named_monos.append((mono[1], mono[0], self.atoms.of(named)))
        return self._named_monos

    def with_names(self, p: Poly) -> Poly:
        """Each term's named monomials written by their names (D / s → X̂)."""
        table = self.named_monomials()
        if not table:
            return p
        out = Poly()
        for m, c in p.terms.items():
            for mono, coef, name in table:
                exps = dict(m)
                if all(i in exps and (exps[i] > 0) == (e > 0) and qabs(exps[i]) >= qabs(e)
                       for i, e in mono):
                    m = mono_mul(mono_mul(m, mono, -1), ((name, ONE_F),))
                    c = qdiv(c, coef)
            out = out + Poly({m: c})
        return out

    def fold(self, c: Q, m: Mono) -> tuple[Q, Mono]:
        """A mean times its count is a sum: 𝟏-sums print as sums, not as n · mean."""
        nodes = self.atoms.nodes
        if not any(nodes[i].op.name == "mean" for i, _ in m):
            return c, m
        exps = dict(m)
        for i, e in list(exps.items()):
            node = self.atoms.nodes[i]
            if e != 1 or node.op.name != "mean":
                continue
            n = _count(node.args[0].shape, node.get("axis"))
            if n.is_int:
                if n.is_one or qdiv(c, n.coef).denominator != 1:
                    continue
                c = qdiv(c, n.coef)
            else:
                k = self.atoms.index.get(size(n))
                if k is None or exps.get(k, 0) < 1:
                    continue
                exps[k] -= 1
            del exps[i]
            j = self.atoms.of(sum_(node.args[0], axis=node.get("axis")))
            exps[j] = exps.get(j, 0) + 1
        return c, tuple(sorted((i, e) for i, e in exps.items() if e != 0))

    def forms(self, node: Expr) -> list[Expr]:
        """The node's spellings from its normal form under the current reading."""
        p = self.with_names(self.reader.read(node) if node.op.name in ARITH
                            else self.atom(node))
        if len(p) > MAX_TERMS:
            return []
        return candidates(p, self.atoms, node.shape, self.fold)

    def forget(self) -> None:
        """Drop the polys read so far (the reading of atoms changed)."""
        self.reader.memo.clear()
        self.inside.memo.clear()

    def inversions(self, node: Expr) -> list[dict[Expr, Poly]]:
        """Readings that write an atom by a named monomial it defines: with u = x / ‖x‖, x is
        read as u ‖x‖ (one reading per atom of each named monomial that occurs in the node)."""
        table = self.named_monomials()
        if not table:
            return []
        present = set(toposort([node]))
        out = []
        for mono, coef, name in table:
            for i, e in mono:
                atom = self.atoms.nodes[i]
                if abs(e) != 1 or atom not in present:
                    continue
                # atom^e · Π others^f = coef · name  ⇒  atom = (name / coef)^(1/e) · Π others^(−f/e)
                rest = tuple((j, -f * e) for j, f in mono if j != i)
                if any(f < 0 and not self.atoms.nodes[j].is_scalar for j, f in rest):
                    continue  # it would divide by a matrix, entry by entry: not where it is 0
                k = qdiv(1, e)
                if k < 0 and not self.atoms.nodes[name].is_scalar:
                    continue
                mono_solved = tuple(sorted(rest + ((name, k),)))
                if _broadcast_shape(mono_solved, self.atoms) != atom.shape:
                    continue
                out.append({atom: Poly({mono_solved: Fraction(1, 1) / Fraction(coef) ** int(k)})})
        return out

    def patterned(self) -> bool:
        """Whether best's choice depends on a node's pattern only: not when a named monomial can
        rewrite an atom (x as u ‖x‖, looked up deep inside the atoms) or a named mean can stand
        for a mean the reading builds from the atoms."""
        if self._patterned is None:
            scratch = Atoms()  # read apart: numbering atoms here would reorder printed factors
            reader = Reader(scratch, lambda n: Poly.atom(scratch.of(n)))
            self._patterned = not any(
                d.op.name in REDUCTIONS or (
                    d.op.name in ARITH and d.op.name != "const"
                    and (mono := reader.read(d).monomial()) is not None and len(mono[1]) >= 2)
                for d in self.defs)
        return self._patterned

    def pattern(self, root: Expr) -> tuple[object, ...] | None:
        """The node as the reader sees it, its atoms abstracted: the arithmetic, the reductions
        and broadcasts it reads through (op, parameters, shape, whether shared, arguments by
        position), and for each atom its op, parameters, shape and capped printed length — all
        that the options and their lengths depend on. A named atom stays itself (whether it is
        centred depends on its definition). None when the choice depends on more (patterned)."""
        if not self.patterned():
            return None
        index: dict[Expr, int] = {}
        found: list[Expr] = []
        stack = [root]
        while stack:
            node = stack.pop()
            if node in index:
                continue
            index[node] = len(found)
            found.append(node)
            if self._through(node):
                stack += reversed(node.args)
        shared = self.reader.shared
        entries: list[object] = []
        for node in found:
            if self._through(node):
                entries.append((node.op.name, node.params, node.shape, node in shared,
                                tuple(index[a] for a in node.args)))
                continue
            named = self.named(node)
            if named.op.name == "named":
                entries.append(named)
                continue
            entries.append((node.op.name, node.params, node.shape, _atom_length(node)))
        return tuple(entries)

    def _through(self, node: Expr) -> bool:
        """Whether the reader reads through node (Reader.read, then atom), not as one atom."""
        if node.op.name in ARITH or broadcast_of(node) is not None:
            return True
        if node in self.defs or node in self.solved:
            return False
        return node.op.name in REDUCTIONS or _inner_product(node) is not None

    def best(self, node: Expr) -> Expr:
        """The shortest equivalent of an arithmetic or reduction node (after the rules). A node
        of a pattern met before takes the option chosen then, computing that one only (every
        option equals the node, so this decides the spelling, never the value)."""
        key = self.pattern(node)
        chosen = None if key is None else self.choices.get(key)
        if chosen == 0:
            return self.polish(node)
        forms = self.forms(node)
        if chosen is not None and chosen <= len(forms):
            return self.polish(forms[chosen - 1])
        options = [self.polish(node)] + [self.polish(c) for c in forms]
        for reading in self.inversions(node):
            self.solved, saved = reading, dict(self._centred)
            self.forget()
            try:
                options += [self.polish(c) for c in self.forms(node)]
            finally:
                self.solved, self._centred = {}, saved
                self.forget()
        chosen, best_len = 0, -1
        if len(set(options)) > 1:
            lengths: dict[Expr, int] = {}
            for k, e in enumerate(options):
                if e not in lengths:
                    lengths[e] = self.length(e)
                    if best_len < 0 or lengths[e] < best_len:
                        chosen, best_len = k, lengths[e]
        if key is not None:
            self.choices[key] = chosen
        return options[chosen]

    def length(self, e: Expr) -> int:
        """The printed length of e, each atom counted at its own printed length (capped, so that
        comparing forms of one node never prints the whole graph below it)."""
        atoms = self.atoms.index

        def leaf(n: Expr) -> str | None:
            if n.op.name == "named":
                return str(n.get("name"))
            if n is e or n not in atoms or n.op.name in REDUCTIONS:
                return None
            return "#" * _atom_length(n)

        # atoms print capped, so e prints about as long as its own arithmetic: not checked
        return len(render(e, _text_template, _text_prec, "(", ")", leaf, checked=False))


def normalize(roots: list[Expr], defs: dict[Expr, Expr], polish: Polish,
              report: Report = _quiet, done: dict[Expr, Expr] | None = None,
              program: frozenset[Expr] = frozenset()) -> list[Expr]:
    """Each elementwise subexpression, and each sum or mean of one, in its shortest normal form
    (one bottom-up pass; ``polish`` is the rule pass applied to every candidate; ``done`` keeps
    the forms found, across passes). Nodes of ``program`` — the forward values a derivative
    reuses — are the user's program as written, and stay as they are."""
    algebra = Algebra(defs, polish, report)
    done = {} if done is None else done
    order = toposort(roots)
    inside: set[Expr] = set()  # read by an arithmetic parent: part of that parent's form
    for node in order:
        if node.op.name in ARITH or node.op.name in REDUCTIONS:
            inside.update(a for a in node.args if a.op.name in ARITH or a.op.name in REDUCTIONS)
    top = set(roots)
    users: dict[Expr, int] = {}
    for node in order:
        for a in node.args:
            users[a] = users.get(a, 0) + 1
    shared = {n for n, k in users.items() if k > 1}
    memo: dict[Expr, Expr] = {}
    kept = set(program)  # and inside a named intermediate: the user's program, as written
    for node in reversed(order):
        if node.op.name == "named" or node in kept:
            kept.update(node.args)
    for node in order:
        if node in kept or node.op.name == "named":
            memo[node] = node
            continue
        args = tuple(memo[a] for a in node.args)
        rebuilt = node if all(x is y for x, y in zip(args, node.args)) else \
            Expr.make(node.op, args, **dict(node.params))
        out = rebuilt
        name = rebuilt.op.name
        if (name in REDUCTIONS or (name in ARITH and name != "const")) and (
                node in top or node not in inside or node in shared):
            known = done.get(rebuilt)
            if known is None:
                known = done[rebuilt] = algebra.best(rebuilt)
                done[known] = known
            out = known
            if out is not rebuilt:
                report("normal_form", rebuilt, out)
        if node in shared:
            algebra.reader.shared.add(out)
            algebra.inside.shared.add(out)
        memo[node] = out
    return [memo[r] for r in roots]
