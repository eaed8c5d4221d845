"""Compiled code orders matrix chains for the actual sizes: no product that costs n³ where the
gradient needs only matrix-vector products (sizes and counts, never times)."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc
from matcalc.algebra.fast import fast_form
from matcalc.lowering import lower

N = 400
CASES = [
    ("L = x.T @ A.T @ A @ B @ x", {"x": ("n", 1), "A": ("n", "n"), "B": ("n", "n")}, ["x"]),
    ("L = u.T @ A @ B @ v", {"u": ("n", 1), "A": ("n", "n"), "B": ("n", "n"), "v": ("n", 1)},
     ["u", "v"]),
    ("L = sum((U @ V.T @ x) ** 2)", {"U": ("n", "r"), "V": ("n", "r"), "x": ("n", 1)}, ["x"]),
    ("L = sum((A @ x) ** 2)", {"A": ("n", "n"), "x": ("n", 1)}, ["x"]),
    ("L = trace(X.T @ A.T @ A @ B @ X)", {"X": ("n", "k"), "A": ("n", "n"), "B": ("n", "n")},
     ["X"]),
]
SIZES = {"n": N, "r": 8, "k": 4}


def cubic_products(outputs: list[mc.Expr]) -> list[mc.Expr]:
    """The products in the compiled graph that multiply two n×n matrices."""
    graph = lower(fast_form(outputs, SIZES))
    big = mc.dim("n")
    return [e for e in mc.toposort(graph) if e.op.name == "matmul"
            and e.args[0].rows == big and e.args[0].cols == big and e.args[1].cols == big]


@pytest.mark.parametrize("program, shapes, wrt", CASES, ids=[c[0] for c in CASES])
def test_no_cubic_product_where_vectors_suffice(program, shapes, wrt):
    L = mc.parse(program, shapes)
    outputs = [L, *mc.grad(L, wrt)]
    assert cubic_products(outputs) == []
    rng = np.random.default_rng(0)
    values = {k: rng.normal(size=tuple(SIZES.get(str(d), d) for d in s))
              for k, s in shapes.items()}
    f = mc.compile(outputs)
    for got, want in zip(f(**values), mc.evaluate_many(outputs, values)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    assert len(f.sources) == 1  # specialised once for these shapes, then cached
    f(**values)
    assert len(f.sources) == 1


def test_numpy_source_shows_the_order_for_given_sizes():
    A, B, x = mc.Matrix("A", "n", "n"), mc.Matrix("B", "n", "n"), mc.Vector("x", "n")
    g = mc.grad(x.T @ A.T @ A @ B @ x, "x")
    text = mc.numpy_source(g, dims={"n": 1000})
    assert "A @ x" in text and "B @ x" in text
    written = mc.numpy_source(g)  # no sizes: the order as written
    assert "A @ B" in written or "@ A" in written


def test_an_outer_product_is_a_broadcast():
    u, v = mc.Vector("u", "n"), mc.Vector("v", "n")
    text = mc.numpy_source(u @ v.T)
    assert "u * " in text and "@" not in text.split("def f")[1]
