"""The Kronecker product's Jacobian rule, (I ⊗ K ⊗ I)(vec A ⊗ vec B), against finite differences."""

import numpy as np
import pytest

import matcalc as mc

A = mc.Matrix("A", "m", "n")
B = mc.Matrix("B", "p", "q")


@pytest.mark.parametrize("wrt", ["A", "B"])
def test_kron_jacobian_matches_finite_differences(wrt):
    rng = np.random.default_rng(1)
    vals = {"A": rng.normal(size=(2, 3)), "B": rng.normal(size=(4, 2))}
    y = mc.kron(A, B)
    dims = {"m": 2, "n": 3, "p": 4, "q": 2}
    J = mc.evaluate(mc.jacobian(y, wrt), vals, dims=dims)
    x0 = vals[wrt]
    numeric = np.zeros((2 * 4 * 3 * 2, x0.size))
    for k in range(x0.size):
        e = np.zeros(x0.size)
        e[k] = 1e-6
        step = e.reshape(x0.shape, order="F")
        hi = mc.evaluate(mc.vec(y), {**vals, wrt: x0 + step})
        lo = mc.evaluate(mc.vec(y), {**vals, wrt: x0 - step})
        numeric[:, k] = ((hi - lo) / 2e-6)[:, 0]
    assert np.allclose(J, numeric, atol=1e-8)


@pytest.mark.parametrize("left", [True, False])
def test_kron_contraction_jacobians(left):
    from matcalc.ops import kron_contract_left, kron_contract_right

    G = mc.Matrix("G", "m*p", "n*q")
    rng = np.random.default_rng(2)
    vals = {"G": rng.normal(size=(8, 6)), "A": rng.normal(size=(2, 3)),
            "B": rng.normal(size=(4, 2))}
    dims = {"m": 2, "n": 3, "p": 4, "q": 2}
    y = kron_contract_left(G, B, ("m", "n")) if left else kron_contract_right(G, A, ("p", "q"))
    for wrt in ["G", "B" if left else "A"]:
        J = mc.evaluate(mc.jacobian(y, wrt), vals, dims=dims)
        x0 = vals[wrt]
        numeric = np.zeros((J.shape[0], x0.size))
        for k in range(x0.size):
            e = np.zeros(x0.size)
            e[k] = 1e-6
            step = e.reshape(x0.shape, order="F")
            hi = mc.evaluate(mc.vec(y), {**vals, wrt: x0 + step}, dims=dims)
            lo = mc.evaluate(mc.vec(y), {**vals, wrt: x0 - step}, dims=dims)
            numeric[:, k] = ((hi - lo) / 2e-6)[:, 0]
        assert np.allclose(J, numeric, atol=1e-8), wrt


def test_hessian_through_kron():
    x = mc.Vector("x", "n")
    L = mc.sum(mc.kron(x, x) ** 2)  # Σᵢⱼ xᵢ² xⱼ² = (Σ xᵢ²)²
    H = mc.evaluate(mc.hessian(L, x), {"x": np.array([[1.0], [2.0], [3.0]])})
    v = np.array([1.0, 2.0, 3.0])
    expected = 4 * (v @ v) * np.eye(3) + 8 * np.outer(v, v)
    assert np.allclose(H, expected)
