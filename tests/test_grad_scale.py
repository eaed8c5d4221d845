"""Scale: a 200-layer MLP's gradients from one sweep, with a graph that grows linearly in depth,
and a chain of 2,000 nested elementwise functions. No timing assertions; sizes only."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from strategies import tanh_mlp

import matcalc as mc

DEPTHS = (25, 50, 100, 200)
N, BATCH = 4, 3




@pytest.fixture(scope="module")
def counts():
    out = {}
    for depth in DEPTHS:
        L, params = tanh_mlp(depth)
        grads = mc.grad(L, params)
        assert len(grads) == 2 * depth
        out[depth] = mc.count_nodes(*grads)
    return out


def test_node_count_doubles_with_depth(counts):
    for small, big in itertools.pairwise(DEPTHS):
        ratio = counts[big] / counts[small]
        assert 1.8 <= ratio <= 2.2, f"count({big})/count({small}) = {ratio:.3f} ({counts})"


def test_node_count_per_layer_is_constant(counts):
    per_layer = [(counts[big] - counts[small]) / (big - small)
                 for small, big in itertools.pairwise(DEPTHS)]
    assert max(per_layer) == pytest.approx(min(per_layer), rel=0.02), per_layer
    # and the gradient graph is a small multiple of the forward graph
    L, _ = tanh_mlp(200)
    assert counts[200] <= 5 * mc.count_nodes(L)


def _numpy_backprop(values: dict, depth: int):
    hs = [values["X"]]
    for i in range(depth):
        hs.append(np.tanh(values[f"W{i}"] @ hs[-1] + values[f"b{i}"]))
    grads = {}
    up = np.ones_like(hs[-1])
    for i in reversed(range(depth)):
        dz = up * (1 - hs[i + 1] ** 2)
        grads[f"W{i}"] = dz @ hs[i].T
        grads[f"b{i}"] = dz.sum(axis=1, keepdims=True)
        up = values[f"W{i}"].T @ dz
    return grads


def test_200_layer_gradients_from_one_call_match_numpy_backprop():
    depth = 200
    L, params = tanh_mlp(depth)
    grads = mc.grad(L, params)
    for p, g in zip(params, grads):
        assert g.shape == p.shape
    rng = np.random.default_rng(0)
    values = {"X": rng.normal(size=(N, BATCH)) * 0.05}
    for i in range(depth):
        # orthogonal weights and small activations: tanh stays near its linear regime, so the
        # gradient reaches the first layer without vanishing
        values[f"W{i}"] = np.linalg.qr(rng.normal(size=(N, N)))[0]
        values[f"b{i}"] = rng.normal(size=(N, 1)) * 0.001
    got = mc.evaluate_many(grads, values)
    want = _numpy_backprop(values, depth)
    for p, g in zip(params, got):
        assert np.allclose(g, want[p.name], rtol=1e-9, atol=1e-14), p.name
    # the first layer's gradient is not vanishingly small at these scales
    assert np.abs(got[0]).max() > 1e-3


def test_mlp_gradient_passes_the_check_at_moderate_depth():
    L, params = tanh_mlp(25)
    report = mc.check(L, [params[0], params[1], params[-2], params[-1]],
                      dims={"n": N, "B": BATCH}, method="directional")
    assert report.passed is True, str(report)


def test_chain_of_2000_elementwise_functions():
    x = mc.Vector("x", "n")
    e = x
    fns = (mc.exp, mc.log, mc.relu, mc.abs)  # log∘exp is the identity; so are relu, abs on x > 0
    for i in range(2000):
        e = fns[i % 4](e)
    L = mc.sum(e)
    assert mc.count_nodes(L) == 2002
    g = mc.grad(L, "x")
    assert g.shape == x.shape
    xv = np.array([[0.2], [0.5], [1.0], [1.5]])
    assert np.allclose(mc.evaluate(L, {"x": xv}), xv.sum())
    assert np.allclose(mc.evaluate(g, {"x": xv}), 1.0)
    assert str(L).count("exp(") == 500  # printing is iterative too
    assert len(repr(g)) < 200  # a bounded description, without printing the whole tree
    unsimplified = mc.grad(L, "x", simplify=False)
    assert np.allclose(mc.evaluate(unsimplified, {"x": xv}), 1.0)


def test_chain_of_2000_saturating_functions_stays_finite():
    x = mc.Vector("x", "n")
    e = x
    fns = (mc.tanh, mc.sigmoid, mc.softplus, mc.sqrt)
    for i in range(2000):
        e = fns[i % 4](e)
    g = mc.grad(mc.sum(e), "x")
    value = mc.evaluate(g, {"x": np.linspace(-1, 1, 4).reshape(-1, 1)})
    assert value.shape == (4, 1) and np.all(np.isfinite(value))
