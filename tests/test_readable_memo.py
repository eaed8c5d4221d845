"""The readable engine chooses a spelling once per pattern (matcalc.algebra.readable.Algebra.best):
a node whose arithmetic, atom shapes and atom lengths were met before takes the option chosen
then. These tests show that the remembered choice is the one made afresh, on the textbook suite,
on programs with repeated named layers and on random expressions, and that an L-layer MLP
measures its candidates a number of times that does not grow with L (counts, never seconds)."""

from __future__ import annotations

import pytest
import textbook
from hypothesis import assume, given, settings
from strategies import expressions, tanh_mlp

import matcalc as mc
from matcalc.algebra import readable
from matcalc.evaluate import symbols_of


def fresh(fn):
    """fn() with every choice made afresh (no pattern remembered)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(readable.Algebra, "pattern", lambda self, node: None)
        return fn()


def named_mlp(depth: int) -> mc.Expr:
    lines = [f"Z{i} = W{i} @ H{i - 1} + b{i}; H{i} = tanh(Z{i})" for i in range(1, depth + 1)]
    lines[0] = lines[0].replace("H0", "X")
    shapes = {"X": ("n", "B")}
    for i in range(1, depth + 1):
        shapes |= {f"W{i}": ("n", "n"), f"b{i}": ("n", 1)}
    return mc.parse("; ".join(lines) + f"; L = sum(H{depth} * H{depth})", shapes)


@pytest.mark.parametrize("item", textbook.ITEMS, ids=lambda item: item.name)
def test_textbook_forms_are_the_fresh_choice(item):
    _, got, _ = textbook.derive(item)
    _, again, _ = fresh(lambda: textbook.derive(item))
    assert got is again, f"{got}  against  {again}"


def test_repeated_named_layers_are_the_fresh_choice():
    L = named_mlp(12)
    wrt = [f"W{i}" for i in range(1, 13)] + [f"b{i}" for i in range(1, 13)] + ["X"]
    got = mc.grad(L, wrt)
    again = fresh(lambda: mc.grad(L, wrt))
    assert all(a is b for a, b in zip(got, again))


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(expressions(max_depth=4))
def test_random_gradients_are_the_fresh_choice(e):
    L = mc.sum(e * e)
    wrt = sorted(symbols_of(L))
    assume(wrt)
    got = mc.grad(L, wrt)
    again = fresh(lambda: mc.grad(L, wrt))
    assert all(a is b for a, b in zip(got, again))


def test_an_mlp_measures_candidates_a_fixed_number_of_times(monkeypatch):
    calls = {"length": 0}
    length = readable.Algebra.length

    def counted(self, e):
        calls["length"] += 1
        return length(self, e)

    monkeypatch.setattr(readable.Algebra, "length", counted)
    counts = {}
    for depth in (20, 200):
        calls["length"] = 0
        L, params = tanh_mlp(depth)
        mc.grad(L, params)
        counts[depth] = calls["length"]
    assert counts[20] == counts[200], counts


def test_the_pattern_holds_each_atoms_printed_length():
    """Two atoms of one op, parameters and shape differ in the pattern by their printed length
    alone (capped), and atoms of equal length are one pattern."""
    x, long_name = mc.Vector("x", "n"), mc.Vector("abcdefghijkl", "n")
    y = mc.Vector("y", "n")
    algebra = readable.Algebra({}, lambda e: e, lambda rule, before, after: None)

    def key(v):
        return algebra.pattern(mc.tanh(v + v) * (1 - mc.tanh(v + v)))

    assert key(x) == key(y)
    assert key(x) != key(long_name)


def test_atoms_of_other_lengths_are_other_patterns():
    """a ⊙ (1 − t²) prints shorter expanded for a one-letter a, factored for a longer one: the
    remembered choice is the fresh one for each (symbols differ in the pattern by name, too)."""
    shapes = {"A": ("n", "n"), "B": ("n", "n"), "C": ("n", "n"), "a": ("n", 1),
              "abcdefgh": ("n", 1), "t": ("n", 1)}
    for order in ((0, 1, 2), (1, 0, 2), (2, 1, 0)):
        terms = ["A @ (a * (1 - t ** 2))", "B @ (abcdefgh * (1 - t ** 2))",
                 "C @ (exp(a) * (1 - t ** 2))"]
        e = mc.parse(" + ".join(terms[k] for k in order), shapes)
        got = mc.simplify(e)
        assert got is fresh(lambda e=e: mc.simplify(e))
        text = str(got)
        assert "A @ (a - t ** 2 * a)" in text and "B @ (abcdefgh * (1 - t ** 2))" in text
