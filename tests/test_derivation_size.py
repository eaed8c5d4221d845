"""Deriving all 2L gradients of an L-layer tanh MLP with biases gives a result whose size grows
linearly in L, up to L = 1,000. Sizes (DAG node counts) only: never times."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from strategies import tanh_mlp

import matcalc as mc

DEPTHS = (50, 100, 200, 400)




def gradient_size(depth: int) -> int:
    L, params = tanh_mlp(depth)
    grads = mc.grad(L, params)
    assert len(grads) == 2 * depth
    assert all(g.shape == p.shape for g, p in zip(grads, params))
    return mc.count_nodes(*grads)


@pytest.fixture(scope="module")
def sizes():
    return {d: gradient_size(d) for d in DEPTHS}


def test_size_doubles_when_depth_doubles(sizes):
    for small, big in itertools.pairwise(DEPTHS):
        ratio = sizes[big] / sizes[small]
        assert 1.95 <= ratio <= 2.05, f"size({big}) / size({small}) = {ratio:.3f} ({sizes})"


def test_each_layer_adds_the_same_number_of_nodes(sizes):
    per_layer = {(sizes[b] - sizes[a]) / (b - a) for a, b in itertools.pairwise(DEPTHS)}
    assert len(per_layer) == 1, per_layer


def test_gradients_are_a_small_multiple_of_the_forward_graph(sizes):
    L, _ = tanh_mlp(DEPTHS[-1])
    forward = mc.count_nodes(L)
    assert sizes[DEPTHS[-1]] <= 3 * forward
    # the loss and its gradients share the forward pass: together they are no bigger
    L, params = tanh_mlp(DEPTHS[-1])
    assert mc.count_nodes(L, *mc.grad(L, params)) <= sizes[DEPTHS[-1]] + 1


def test_one_thousand_layers_complete_on_the_same_line(sizes):
    per_layer = (sizes[400] - sizes[200]) / 200
    predicted = sizes[400] + per_layer * 600
    assert gradient_size(1000) == pytest.approx(predicted, rel=0.001)


def squaring_program(lines: int) -> mc.Expr:
    """y1 = y0 * y0 + x; y2 = y1 * y1 + x; …: each line uses the previous one twice."""
    text = "; ".join([f"y{i} = y{i - 1} * y{i - 1} + x" for i in range(1, lines + 1)]
                     + [f"L = sum(y{lines})"])
    return mc.parse(text, {"y0": ("m", 1), "x": ("m", 1)})


def test_a_program_that_reuses_every_line_twice_stays_linear():
    """Rewriting must not destroy sharing: the simplified gradients of the 80-, 160- and 320-line
    programs grow by the same number of nodes per line."""
    counts = {}
    for lines in (80, 160, 320):
        grads = mc.grad(squaring_program(lines), ["x", "y0"])
        counts[lines] = mc.count_nodes(*grads)
    per_line = {(counts[b] - counts[a]) / (b - a) for a, b in ((80, 160), (160, 320))}
    assert len(per_line) == 1 and max(per_line) <= 12, counts


def test_doubling_program_has_linear_terms():
    """x₁ = x₀ + x₀, x₂ = x₁ + x₁, …: each sum is flattened once, a shared sub-sum is one term,
    so 30 doublings give 2³⁰ x₀ from a handful of nodes (flattening the DAG as a tree would make
    2³⁰ terms)."""
    n = 30
    program = "\n".join(f"x{i + 1} = x{i} + x{i}" for i in range(n)) + f"\nL = sum(x{n})"
    L = mc.parse(program, {"x0": ("m", 1)})
    g = mc.grad(L, "x0")
    assert mc.count_nodes(g) < 10
    value = mc.evaluate(g, {"x0": np.ones((2, 1))}, dims={"m": 2})
    np.testing.assert_array_equal(value, np.full((2, 1), 2.0 ** n))


def test_gradients_of_one_program_share_its_declarations():
    """Each gradient remembers the inputs its program declared (to bind dimensions from them):
    one table per program, shared, so L gradients of an L-layer network cost L, not L², and
    deriving the same program again changes nothing."""
    from matcalc import binding

    L, params = tanh_mlp(50)
    first = mc.grad(L, params)
    again = mc.grad(L, params)
    tables = {id(binding._DECLARED[g]) for g in first + again}
    assert len(tables) == 1
    assert len(binding.declarations_of(first[0])) == len(params) + 1  # the weights, biases, X
