"""Chains of 10,000 operations of every shape: differentiate, simplify, print, evaluate and compile,
with Python's recursion limit far below the depth, so that any recursive walk fails loudly."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import matcalc as mc
from matcalc.expr import Expr

DEPTH = 10_000
n = 2
W = mc.Matrix("W", "n", "n")
V = mc.Matrix("V", "n", "n")
x = mc.Vector("x", "n")
VALUES = {"W": np.array([[0.5, -0.2], [0.1, 0.3]]), "V": np.array([[0.2, 0.1], [-0.3, 0.4]]),
          "x": np.array([[1.0], [-2.0]])}


def right_products() -> mc.Expr:
    """W (V (W (V … x))): each product's right factor is a product."""
    y = x
    for i in range(DEPTH):
        y = (W if i % 2 else V) @ y
    return mc.sum(y)


def left_products() -> mc.Expr:
    """((xᵀ W) V) W …: each product's left factor is a product."""
    y = x.T
    for i in range(DEPTH):
        y = y @ (W if i % 2 else V)
    return mc.sum(y)


def sums() -> mc.Expr:
    """W + V + 2W + … with a different term at every step (the sum collects to a·W + b·V)."""
    y = W
    for i in range(DEPTH):
        y = y + (i % 3 + 1) * (V if i % 2 else W)
    return mc.sum(y * y)


def elementwise() -> mc.Expr:
    """h1 = sigmoid(W), h2 = tanh(h1), … with a product by x at the end: a program of 10,000 named
    steps (the gradient reuses each forward value by its name, so its text stays linear)."""
    y = W
    for i in range(DEPTH):
        y = mc.named(f"h{i}", mc.tanh(y) if i % 2 else mc.sigmoid(y))
    return mc.sum(y @ x)


def transposes() -> mc.Expr:
    """((W Vᵀ)ᵀ W)ᵀ …: transposes of growing products."""
    y = W
    for i in range(DEPTH):
        y = (y @ V).T if i % 2 else (y + W).T
    return mc.sum(y @ x)


def _reference(name: str) -> tuple[float, np.ndarray]:
    """The loss and its gradient by x (or W), by plain NumPy loops."""
    w, v, xv = VALUES["W"], VALUES["V"], VALUES["x"]
    if name == "right_products":
        mats = [(w if i % 2 else v) for i in range(DEPTH)]
        y, g = xv, np.ones((1, n))
        for m in mats:
            y = m @ y
        for m in reversed(mats):
            g = g @ m
        return float(y.sum()), g.T
    if name == "left_products":
        mats = [(w if i % 2 else v) for i in range(DEPTH)]
        y = xv.T
        for m in mats:
            y = y @ m
        g = np.ones((1, n))
        for m in reversed(mats):
            g = g @ m.T
        return float(y.sum()), g.T
    raise KeyError(name)


CHAINS = {"right_products": (right_products, "x"), "left_products": (left_products, "x"),
          "sums": (sums, "W"), "elementwise": (elementwise, "W"), "transposes": (transposes, "x")}


@pytest.fixture
def low_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_deep_chain_end_to_end(name, low_recursion_limit):
    build, var = CHAINS[name]
    L = build()
    g = mc.grad(L, var)  # differentiate and simplify
    assert mc.count_nodes(g) < 20 * DEPTH  # linear in the depth
    assert len(str(g)) > 0 and len(mc.latex(g)) > 0  # print
    got_L, got_g = mc.evaluate_many([L, g], VALUES)  # evaluate
    compiled = mc.compile([L, g])(**VALUES)  # compile
    np.testing.assert_allclose(compiled[0], got_L, rtol=1e-9)
    np.testing.assert_allclose(compiled[1], got_g, rtol=1e-9, atol=1e-300)
    if name in ("right_products", "left_products"):
        ref_L, ref_g = _reference(name)
        np.testing.assert_allclose(got_L[0, 0], ref_L, rtol=1e-9, atol=1e-300)
        np.testing.assert_allclose(got_g, ref_g, rtol=1e-9, atol=1e-300)
    assert np.all(np.isfinite(got_g))


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_deep_chain_simplifies_with_a_trace(name, low_recursion_limit):
    build, _ = CHAINS[name]
    result = mc.simplify(build(), trace=True)
    assert mc.count_nodes(result.expr) <= mc.count_nodes(build()) + 10



def _builds_for_scalar_chain(n: int) -> int:
    """How many nodes grad asks for (hash-consing lookups included) on an n-deep 1×1 chain."""
    calls = [0]
    make = Expr.make

    def counting(op, args=(), **params):
        calls[0] += 1
        return make(op, args, **params)

    e = mc.Scalar("x")
    for _ in range(n):
        e = mc.tanh(e)
    L = mc.sum(e)
    Expr.make = staticmethod(counting)
    try:
        g = mc.grad(L, "x")
    finally:
        Expr.make = staticmethod(make)
    assert mc.count_nodes(g) < 5 * n
    return calls[0]


@pytest.mark.parametrize("window", [None, 10**9])
def test_scalar_chain_costs_linear_work(window, monkeypatch, low_recursion_limit):
    """The gradient of an n-deep chain of 1×1 functions is a product of n scalar factors. Each
    product node reads a bounded window of them (rules.base.MAX_DEPTH): doubling n doubles the
    nodes built. With an unbounded window (the second case) every node re-reads and rebuilds the
    whole product below it, and the count squares: the test shows it can tell."""
    from matcalc.rules import base

    if window is not None:
        monkeypatch.setattr(base, "MAX_DEPTH", window)
    small, large = _builds_for_scalar_chain(300), _builds_for_scalar_chain(600)
    if window is None:
        assert large <= 2.2 * small
    else:
        assert large > 3 * small
